"""The import tests read their messages in English (the catalogs give every one in Chinese too:
tests/core/test_i18n.py checks that)."""

import pytest
from flask_babel import refresh


@pytest.fixture(autouse=True)
def english_messages(request, app, monkeypatch):
    if request.module.__name__.rsplit(".", 1)[-1].startswith("test_import"):
        monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
        refresh()
    yield
    refresh()
