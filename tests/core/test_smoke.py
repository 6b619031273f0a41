"""The app answers a logged-in user, and its database runs with the intended settings."""

import pytest
from sqlalchemy import text

from village_survey.extensions import db


def test_dashboard_after_login(auth, world, client):
    response = auth.login("surveyor-a")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "surveyor-a" in page.get_data(as_text=True)


def test_sqlite_runs_in_wal_mode_and_waits_for_locks(app):
    """WAL lets readers and the writer work side by side; the timeout avoids "database is locked"."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
