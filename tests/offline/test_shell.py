"""The offline app's server side: the worker at the root, the versioned shell, the manifest."""


def test_service_worker_is_served_from_the_root_without_login_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    assert '"/app/"' in text and '"/app/survey"' in text and "vs-shell-" in text


def test_the_shell_has_no_user_data_so_one_cached_copy_serves_everyone(app, auth, world, client):
    auth.login("surveyor-a")
    first = client.get("/app/survey").get_data(as_text=True)
    auth.post("/logout")
    auth.login("reviewer-a")
    assert client.get("/app/survey").get_data(as_text=True) == first
    assert "surveyor-a" not in first and "csrf_token" not in first


def test_the_app_pages_need_a_login(client):
    assert client.get("/app/").status_code == 302


def test_the_version_follows_the_precached_files(app, client):
    app.extensions.pop("asset_version", None)
    app.config["ASSET_VERSION"] = "abc"
    assert "vs-shell-${VERSION}" in client.get("/sw.js").get_data(as_text=True)
    assert 'const VERSION = "abc"' in client.get("/sw.js").get_data(as_text=True)
    app.config["ASSET_VERSION"] = None
    app.extensions.pop("asset_version", None)


def test_manifest_makes_the_app_installable(client):
    manifest = client.get("/static/manifest.webmanifest").get_json(force=True)
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}


def test_pages_are_compressed_for_slow_networks(auth, world, client):
    auth.login("surveyor-a")
    response = client.get("/app/survey", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_an_unchanged_service_worker_answers_304(client):
    first = client.get("/sw.js")
    again = client.get("/sw.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_login_page_makes_the_phone_forget_its_previous_user(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<script type="module" src="/static/js/app/signed-out.js">' in html


def test_the_app_version_follows_the_data_dictionary_and_the_form_macros(app, monkeypatch):
    from village_survey import survey_fields as sf
    from village_survey.offline import assets

    before = assets.asset_version(app)
    monkeypatch.setattr(sf, "as_data", lambda: {"fields": [], "changed": True})
    assert assets.asset_version(app) != before
