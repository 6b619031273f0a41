"""Chinese first, English complete: every message is translated, the choice is remembered."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = {"zh_CN": ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po",
            "en": ROOT / "translations/en/LC_MESSAGES/messages.po"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the code today, extracted afresh (not the committed template)."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "pyproject.toml", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(out), "."], cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_message_is_translated(extracted, language):
    with open(CATALOGS[language], "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(extracted - translated)
    assert not missing, f"{language}: untranslated {missing[:10]}"


def test_chinese_is_the_default_and_english_is_a_choice(auth, world, client):
    auth.login("surveyor-a")
    assert "退出登录" in client.get("/").get_data(as_text=True)
    auth.post("/language", {"locale": "en", "next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert "Log out" in html and 'lang="en"' in html


def test_the_language_choice_is_remembered_for_the_user(app, auth, world, client):
    auth.login("surveyor-a")
    auth.post("/language", {"locale": "en"})
    other = app.test_client()  # another phone, same user
    type(auth)(other).login("surveyor-a")
    assert "Log out" in other.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(auth, world, client):
    auth.login("surveyor-a")
    auth.post("/language", {"locale": "xx"})
    assert "退出登录" in client.get("/").get_data(as_text=True)


def test_numbers_are_formatted_for_the_locale(app, auth, world, client):
    world.village_a.registered_households = 12345
    from village_survey.extensions import db

    db.session.commit()
    auth.login("surveyor-a")
    assert "户籍户数：12,345" in client.get(f"/areas/villages/{world.village_a.id}").get_data(as_text=True)
