"""/healthz: 200 while the database and the job queue answer, 503 naming the part that does not,
with a stable code and without the error's text (hosts, users, passwords, file names)."""

import logging
import socket

import pytest

from village_survey import create_app
from village_survey.jobs.queue import huey_of

SECRET = "s3cret-pw-never-shown"


def _closed_port():
    """A loopback port nothing listens on (bound, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app(tmp_path, database_url, **overrides):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, HUEY_IMMEDIATE=False,
                      HUEY_SQLITE_PATH=str(tmp_path / "huey.db"), **overrides)


def _healthz(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), response.get_data(as_text=True)


def test_the_test_app_is_healthy_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert "no-store" in response.headers["Cache-Control"]


def test_a_real_sqlite_queue_and_database_are_checked(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")
    assert not huey_of(app).immediate and type(huey_of(app)).__name__ == "SqliteHuey"
    assert _healthz(app)[:2] == (200, {"status": "ok", "database": "ok", "queue": "ok"})


def test_a_database_file_that_cannot_be_opened_answers_503(tmp_path, caplog):
    missing = tmp_path / "no-such-folder" / f"{SECRET}.db"
    app = _app(tmp_path, f"sqlite:///{missing}")
    with caplog.at_level(logging.WARNING, logger="village_survey.core.health"):
        status, body, text = _healthz(app)
    assert status == 503
    assert body == {"status": "error", "database": "error", "queue": "ok", "code": "database_unavailable"}
    assert SECRET not in text and "sqlite" not in text.lower()
    assert "database does not answer" in caplog.text  # the reason is in the server's log


def test_an_unreachable_postgresql_server_answers_503_without_its_url(tmp_path):
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://surveyor:{SECRET}@127.0.0.1:{_closed_port()}/village_survey?connect_timeout=3"
    app = _app(tmp_path, url)
    status, body, text = _healthz(app)
    assert status == 503 and body["database"] == "error" and body["code"] == "database_unavailable"
    for leak in (SECRET, "surveyor", "127.0.0.1", "postgresql", "village_survey"):
        assert leak not in text


def test_an_unreachable_redis_queue_answers_503(tmp_path):
    pytest.importorskip("redis")
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'app.db'}",
               REDIS_URL=f"redis://:{SECRET}@127.0.0.1:{_closed_port()}/0")
    status, body, text = _healthz(app)
    assert status == 503
    assert body == {"status": "error", "database": "ok", "queue": "error", "code": "queue_unavailable"}
    assert SECRET not in text and "redis" not in text.lower() and "127.0.0.1" not in text


def test_a_queue_whose_storage_fails_answers_503(tmp_path, monkeypatch):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'app.db'}")

    def broken(*args, **kwargs):
        raise OSError(f"disk I/O error in /srv/{SECRET}/huey.db")

    monkeypatch.setattr(huey_of(app), "pending_count", broken)
    status, body, text = _healthz(app)
    assert status == 503 and body["queue"] == "error" and body["code"] == "queue_unavailable"
    assert SECRET not in text


def test_both_down_names_both_parts_and_the_database_first(tmp_path, monkeypatch):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'no-such-folder' / 'app.db'}")
    monkeypatch.setattr(huey_of(app), "pending_count", lambda: 1 / 0)
    status, body, _ = _healthz(app)
    assert status == 503
    assert body == {"status": "error", "database": "error", "queue": "error", "code": "database_unavailable"}
