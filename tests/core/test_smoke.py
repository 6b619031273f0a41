"""The app answers a logged-in user, and its database runs with the intended settings."""

from sqlalchemy import text

from village_survey import create_app
from village_survey.extensions import db


def test_dashboard_after_login(auth, world, client):
    response = auth.login("surveyor-a")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "surveyor-a" in page.get_data(as_text=True)


def test_sqlite_runs_in_wal_mode_and_waits_for_locks(tmp_path):
    """WAL lets readers and the writer work side by side; the timeout avoids "database is locked".

    Its own SQLite file, so that the check runs whichever database the suite runs on.
    """
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'wal.db'}")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        db.engine.dispose()
