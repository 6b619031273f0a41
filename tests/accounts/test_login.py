"""Logging in and out, sessions, CSRF and the login rate limit."""

import re

from sqlalchemy import select

from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD
from village_survey import create_app
from village_survey.accounts import services
from village_survey.audit import AuditEvent
from village_survey.extensions import db


def test_login_reaches_dashboard_and_is_audited(auth, world, client):
    response = auth.login("surveyor-a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "surveyor-a" in client.get("/").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["login"]


def test_wrong_password_is_refused_in_chinese_by_default(auth, world, client):
    response = auth.login("surveyor-a", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.username) == ("login_failed", "surveyor-a")


def test_unknown_user_gets_the_same_message_and_the_name_is_not_stored(auth, world):
    response = auth.login("Zhang-Mima-123", PASSWORD)  # a password typed into the username field
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.username, event.user_id) == ("login_failed", None, None)
    assert event.detail == {"unknown_user": True}
    assert event.ip == "127.0.0.1"
    assert "Zhang-Mima-123" not in str(event.detail)


def test_wrong_password_of_an_existing_user_is_audited_with_the_name(auth, world):
    auth.login("reviewer-a", "wrong-password")
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.username, event.ip) == ("login_failed", "reviewer-a", "127.0.0.1")


def _spy_on_password_checks(monkeypatch):
    checked = []
    real = services.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    return checked


def test_unknown_user_costs_one_password_hash_check_like_a_known_one(auth, world, monkeypatch):
    checked = _spy_on_password_checks(monkeypatch)
    auth.login("surveyor-a", "wrong-password")
    auth.login("nobody-at-all", "wrong-password")
    assert len(checked) == 2
    known, unknown = checked
    # The same method and work factor (e.g. "scrypt:32768:8:1"), so the same time.
    assert unknown.split("$")[0] == known.split("$")[0]
    assert unknown != known


def test_inactive_user_costs_one_password_hash_check(auth, world, monkeypatch):
    world.surveyor_a.active = False
    db.session.commit()
    checked = _spy_on_password_checks(monkeypatch)
    assert auth.login("surveyor-a").status_code == 401
    assert len(checked) == 1


def test_inactive_user_cannot_log_in(auth, world):
    world.surveyor_a.active = False
    db.session.commit()
    assert auth.login("surveyor-a").status_code == 401


def test_pages_need_login(client, world):
    for path in ("/", "/areas/", f"/areas/villages/{world.village_a.id}", "/admin/users/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "surveyor-a", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_rate_limit_answers_429_with_a_clear_message(auth, world):
    # Testing config: 5 failed logins per minute per username.
    statuses = [auth.login("surveyor-a", "wrong-password").status_code for _ in range(5)]
    assert statuses == [401] * 5
    response = auth.login("surveyor-a")  # even the right password waits
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)
    assert auth.login("reviewer-a").status_code == 302  # another user of the same address is not locked out


def _login_from(app, address, username, password=PASSWORD):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Auth(client).login(username, password)


def test_successful_logins_do_not_count_against_the_limit(app, auth, world, client):
    for _ in range(12):  # more than both limits of the testing config
        assert auth.login("surveyor-a").status_code == 302
        assert auth.post("/logout").status_code == 302


def test_an_office_behind_one_address_can_still_log_in(app, world):
    users = ("surveyor-a", "surveyor-b", "reviewer-a", "viewer-a", "viewer-city", "admin")
    for username in users:  # a typo each: 6 failures from one address, under the address limit
        assert _login_from(app, "10.1.1.1", username, "typo-typo").status_code == 401
    for username in users:
        assert _login_from(app, "10.1.1.1", username).status_code == 302, username


def test_the_username_limit_holds_across_addresses(app, world):
    statuses = [_login_from(app, f"10.0.0.{n}", "surveyor-a", "wrong-password").status_code
                for n in range(1, 6)]
    assert statuses == [401] * 5
    assert _login_from(app, "10.0.0.99", "surveyor-a").status_code == 429
    assert _login_from(app, "10.0.0.99", "reviewer-a").status_code == 302


def test_the_username_limit_ignores_case_and_spaces(app, world):
    for name in ("surveyor-a", "SURVEYOR-A", " Surveyor-A", "surveyor-A ", "SurVeyor-a"):
        _login_from(app, "10.0.0.1", name, "wrong-password")
    assert _login_from(app, "10.0.0.2", "surveyor-a").status_code == 429


def test_the_address_limit_holds_across_usernames(app, world):
    # Testing config: 8 failed logins per minute per address.
    statuses = [_login_from(app, "10.2.2.2", f"guess-{n}", "wrong-password").status_code for n in range(8)]
    assert statuses == [401] * 8
    assert _login_from(app, "10.2.2.2", "surveyor-a").status_code == 429
    assert _login_from(app, "10.3.3.3", "surveyor-a").status_code == 302


def test_remember_me_sets_a_long_lived_cookie(auth, world, client):
    auth.login("surveyor-a")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None


def test_next_only_follows_local_paths(client, world):
    token = csrf_token(client)
    data = {"username": "surveyor-a", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/x", data=data)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    data["csrf_token"] = csrf_token(client)
    response = client.post(f"/login?next=/areas/villages/{world.village_a.id}", data=data)
    assert response.headers["Location"] == f"/areas/villages/{world.village_a.id}"


def test_logout_needs_post_with_csrf(auth, world, client):
    auth.login("surveyor-a")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    assert auth.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_logs_out_other_sessions(app, auth, world, client):
    other = app.test_client()
    Other = type(auth)(other)
    Other.login("surveyor-a")
    assert other.get("/").status_code == 200

    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": PASSWORD, "new_password": "a-new-secret",
                                                "confirm": "a-new-secret"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this device stays logged in
    assert other.get("/").status_code == 302  # the other one is logged out
    db.session.expire_all()
    assert world.surveyor_a.check_password("a-new-secret")


def test_password_change_with_wrong_current_password_changes_nothing(auth, world):
    auth.login("surveyor-a")
    response = auth.post("/account/password", {"current_password": "nope-nope", "new_password": "a-new-secret",
                                                "confirm": "a-new-secret"})
    assert response.status_code == 400
    assert "当前密码不正确" in response.get_data(as_text=True)
    db.session.expire_all()
    assert world.surveyor_a.check_password(PASSWORD)


def test_passwords_are_stored_hashed(world):
    assert PASSWORD not in world.surveyor_a.password_hash
    assert re.match(r"^(scrypt|pbkdf2)", world.surveyor_a.password_hash)


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app, world):
    """Behind nginx every request comes from the proxy: without TRUSTED_PROXIES the whole city
    would share one address (and one login limit)."""
    proxied = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         TRUSTED_PROXIES=1)

    def login_via_proxy(client_address, username, password):
        client = proxied.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
        return Auth(client).login(username, password)

    statuses = [login_via_proxy("10.4.4.4", f"guess-{n}", "wrong-password").status_code for n in range(8)]
    assert statuses == [401] * 8
    assert login_via_proxy("10.4.4.4", "surveyor-a", PASSWORD).status_code == 429
    assert login_via_proxy("10.5.5.5", "surveyor-a", PASSWORD).status_code == 302
    assert set(db.session.scalars(select(AuditEvent.ip))) == {"10.4.4.4", "10.5.5.5"}
