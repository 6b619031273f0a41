"""The field app's lists come from its modules: what each page announces (modulepreload), what the
service worker precaches and the words each page's scripts get are derived from static/js/app/,
so a new module cannot work online and fail offline, nor a new t("key") show untranslated."""

import json
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from village_survey.offline import assets
from village_survey.offline.messages import JS_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
APP_JS = ROOT / "static" / "js" / "app"
CATALOGS = {"zh_CN": ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po",
            "en": ROOT / "translations/en/LC_MESSAGES/messages.po"}
ENTRIES = {"/app/": "home.js", "/app/survey": "survey.js"}


def _closure(folder, module, seen=None):
    """The modules `module` needs, itself included, read here independently of assets.py."""
    seen = set() if seen is None else seen
    if module not in seen:
        seen.add(module)
        text = (Path(folder) / module).read_text()
        for name in re.findall(r"""(?:from|import)\s*["']\./([\w.-]+\.js)["']""", text):
            _closure(folder, name, seen)
    return seen


def _precache(client):
    text = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", text, re.S).group(1))


def _page_messages(html):
    return json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', html, re.S).group(1))


def _derived(static_folder):
    worker = (ROOT / "templates" / assets.WORKER_TEMPLATE).read_text()
    return assets.derive(static_folder, worker)


def test_every_module_a_page_imports_is_announced_and_precached(auth, world, client):
    auth.login("surveyor-a")
    precache = set(_precache(client))
    for page, entry in ENTRIES.items():
        html = client.get(page).get_data(as_text=True)
        assert f'<script type="module" src="/static/js/app/{entry}">' in html, page
        needed = _closure(APP_JS, entry)
        preloaded = re.findall(r'rel="modulepreload" href="/static/js/app/([\w.-]+\.js)"', html)
        assert len(preloaded) == len(set(preloaded)) and set(preloaded) == needed - {entry}, page
        missing = {f"/static/js/app/{name}" for name in needed} - precache
        assert not missing, f"{page} needs {sorted(missing)}, which the service worker does not precache"
        assert page in precache


def test_the_workers_own_imports_are_precached(client):
    worker = (ROOT / "templates" / assets.WORKER_TEMPLATE).read_text()
    imported = set(re.findall(r'from "/static/js/app/([\w.-]+\.js)"', worker))
    assert imported  # the worker sends the outbox with the pages' modules
    needed = set().union(*(_closure(APP_JS, name) for name in imported))
    assert {f"/static/js/app/{name}" for name in needed} <= set(_precache(client))


def test_every_precached_file_exists(app, client):
    for path in _precache(client):
        if path.startswith("/static/"):
            assert client.get(path).status_code == 200, path
    # The login page's module is not part of the field app.
    assert "js/app/signed-out.js" not in assets.for_app(app).precache_static


def _copy(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(APP_JS, static / "js" / "app")
    return static


def test_a_new_module_is_announced_precached_and_its_words_sent(tmp_path):
    static = _copy(tmp_path)
    folder = static / "js" / "app"
    before = _derived(static)
    assert "gauge.js" not in before.modules
    (folder / "gauge.js").write_text(
        'import { t } from "./i18n.js";\n'
        "export { level } from './level.js';\n"
        'export const gauge = (n) => t("gauge_full", { n });\n')
    (folder / "level.js").write_text('import "./beep.js";\nexport const level = (n) => t(\'level_low\');\n')
    (folder / "beep.js").write_text("export const beep = () => t(`beep_now`);\n")
    home = folder / "home.js"
    home.write_text('import {\n  gauge,\n  level,\n} from "./gauge.js";\n' + home.read_text())

    after = _derived(static)
    assert {"gauge.js", "level.js", "beep.js"} <= set(after.preloads["home.js"])
    assert {"js/app/gauge.js", "js/app/level.js", "js/app/beep.js"} <= set(after.precache_static)
    assert {"gauge_full", "level_low", "beep_now"} <= set(after.keys["home.js"])
    # The survey page does not load them: neither its preloads nor its words change.
    assert after.preloads["survey.js"] == before.preloads["survey.js"]
    assert after.keys["survey.js"] == before.keys["survey.js"]
    # A module nobody imports is not precached.
    (folder / "unused.js").write_text("export const x = 1;\n")
    assert "js/app/unused.js" not in _derived(static).precache_static


def test_an_import_of_a_missing_module_is_named(tmp_path):
    static = _copy(tmp_path)
    home = static / "js" / "app" / "home.js"
    home.write_text('import { gone } from "./gone.js";\n' + home.read_text())
    with pytest.raises(LookupError, match=r"home\.js imports gone\.js"):
        _derived(static)


def test_what_the_scan_cannot_follow_is_reported_and_the_app_has_none():
    module = assets.scan_module("x.js", 'const m = await import("./late.js");\n'
                                        "label.textContent = t(`state_${state}`);\n"
                                        "const a = t(key);\n"
                                        'export function t(key) { return key; }\n'
                                        '// import { y } from "./commented.js";\n'
                                        'const b = at("not_a_key") + t("a_key");\n')
    assert module.keys == ("a_key",)
    assert module.imports == ()
    assert module.unscannable == ('label.textContent = t(`state_${state}`);', "const a = t(key);",
                                  'const m = await import("./late.js");')
    for module in assets.scan(APP_JS).values():
        assert not module.unscannable, f"{module.name}: {module.unscannable}"


def test_every_key_the_scripts_use_has_a_msgid_and_every_msgid_a_use():
    used = {key: name for name, module in assets.scan(APP_JS).items() for key in module.keys}
    missing = sorted(f"{key} ({name})" for key, name in used.items() if key not in JS_MESSAGES)
    assert not missing, f"t() keys without a msgid in village_survey/offline/messages.py: {missing}"
    unused = sorted(set(JS_MESSAGES) - set(used))
    assert not unused, f"msgids no script uses: {unused}"


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_key_the_scripts_use_is_translated(language):
    with open(CATALOGS[language], "rb") as f:
        catalog = read_po(f)
    used = {key for module in assets.scan(APP_JS).values() for key in module.keys}
    untranslated = []
    for key in sorted(used & set(JS_MESSAGES)):
        message = catalog.get(JS_MESSAGES[key])
        if message is None or not message.string or message.fuzzy:
            untranslated.append(f"{key}: {JS_MESSAGES[key]!r}")
    assert not untranslated, f"{language}: untranslated {untranslated}"


def test_pybabel_extracts_the_scripts_msgids():
    path = ROOT / "village_survey" / "offline" / "messages.py"
    extracted = {message for _, message, _, _ in extract_from_file("python", str(path))}
    assert extracted == set(JS_MESSAGES.values())


def test_each_page_carries_exactly_its_scripts_words_translated(app, auth, world, client):
    auth.login("surveyor-a")
    with open(CATALOGS["zh_CN"], "rb") as f:
        catalog = read_po(f)
    derived = assets.for_app(app)
    for page, entry in ENTRIES.items():
        messages = _page_messages(client.get(page).get_data(as_text=True))
        assert set(messages) == set(derived.keys[entry]), page
        for key, text in messages.items():
            assert text == catalog.get(JS_MESSAGES[key]).string, (page, key)
    survey = _page_messages(client.get("/app/survey").get_data(as_text=True))
    assert "change" in survey and "sending_batch" not in survey  # the survey page does not send


def test_the_derivation_is_made_once_per_process(app):
    assert assets.for_app(app) is assets.for_app(app)


def test_the_version_changes_when_a_precached_module_changes(app, tmp_path, monkeypatch):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    monkeypatch.setattr(app, "static_folder", str(static))
    monkeypatch.setitem(app.config, "ASSET_VERSION", None)
    first = assets.asset_version(app)
    assert assets.asset_version(app) == first
    store = static / "js" / "app" / "store.js"
    store.write_text(store.read_text() + "\n// changed\n")
    assert assets.asset_version(app) != first
    # A module outside the field app does not make phones fetch it again.
    second = assets.asset_version(app)
    signed_out = static / "js" / "app" / "signed-out.js"
    signed_out.write_text(signed_out.read_text() + "\n// changed\n")
    assert assets.asset_version(app) == second
