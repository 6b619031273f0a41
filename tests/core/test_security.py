"""Security headers, production settings and no 500 on bad input."""

import logging

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup, ScriptInfo
from flask.helpers import get_debug_flag
from sqlalchemy import select

from tests.factories import make_user
from village_survey import create_app
from village_survey.accounts.models import User
from village_survey.config import DEFAULT_SECRET, check_production
from village_survey.extensions import db

LONG_SECRET = "k" * 32


def test_every_page_sends_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only_and_same_site(auth, world, client):
    auth.login("surveyor-a")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=DEFAULT_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_refuses_a_secret_key_shorter_than_32_characters():
    with pytest.raises(RuntimeError, match="32"):
        create_app("production", SECRET_KEY="a-real-secret-but-31-characters", SQLALCHEMY_DATABASE_URI="sqlite://")
    create_app("production", SECRET_KEY=LONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_sends_secure_cookies(monkeypatch):
    app = create_app("production", SECRET_KEY=LONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_production_ignores_flask_debug(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app("production", SECRET_KEY=LONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.debug is False and app.config["DEBUG"] is False
    # `flask run --debug` sets FLASK_DEBUG=1, loads the app, then sets app.debug from FLASK_DEBUG
    # again and starts the reloader and the interactive debugger when it says so.
    monkeypatch.setenv("FLASK_DEBUG", "1")
    info = ScriptInfo(create_app=lambda: create_app("production", SECRET_KEY=LONG_SECRET,
                                                    SQLALCHEMY_DATABASE_URI="sqlite://"))
    assert info.load_app().debug is False
    assert get_debug_flag() is False


def test_development_follows_flask_debug(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://").debug is True


def test_production_warns_that_memory_rate_limits_are_per_worker(caplog):
    with caplog.at_level(logging.WARNING):
        create_app("production", SECRET_KEY=LONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://",
                   RATELIMIT_STORAGE_URI="memory://")
    assert "RATELIMIT_STORAGE_URI" in caplog.text and "redis://" in caplog.text


def test_shared_rate_limit_storage_needs_no_warning(caplog):
    logger = logging.getLogger("test-production-checks")
    with caplog.at_level(logging.WARNING):
        check_production({"SECRET_KEY": LONG_SECRET, "RATELIMIT_STORAGE_URI": "redis://cache:6379"}, logger)
    assert caplog.text == ""


def _production(app):
    """A production app on the test database."""
    return create_app("production", SECRET_KEY=LONG_SECRET,
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


def test_production_refuses_to_start_with_active_demo_accounts_and_the_published_password(app):
    make_user("demo-admin", "admin", password=app.config["DEMO_PASSWORD"])
    make_user("demo-viewer", "viewer")  # its password was changed: fine
    db.session.commit()
    with pytest.raises(RuntimeError) as refused:
        _production(app)
    message = str(refused.value)
    assert "demo-admin" in message and "demo-viewer" not in message
    assert "flask deactivate-demo-users" in message


def test_production_starts_when_demo_accounts_are_inactive_or_have_another_password(app):
    make_user("demo-admin", "admin", password=app.config["DEMO_PASSWORD"], active=False)
    make_user("demo-viewer", "viewer")
    db.session.commit()
    assert _production(app).config["PRODUCTION"]


def test_deactivate_demo_users_command_deactivates_them_and_ends_their_sessions(app, runner):
    demo = make_user("demo-admin", "admin", password=app.config["DEMO_PASSWORD"])
    other = make_user("admin", "admin")
    db.session.commit()
    key, other_key = demo.get_id(), other.get_id()
    result = runner.invoke(args=["deactivate-demo-users"])
    assert result.exit_code == 0, result.output
    assert "demo-admin" in result.output
    db.session.expire_all()
    assert demo.active is False and demo.get_id() != key
    assert other.active is True and other.get_id() == other_key
    assert _production(app).config["PRODUCTION"]


def test_deactivate_demo_users_command_runs_under_the_production_config(app, monkeypatch):
    """The refusal to start must not lock out the command that fixes it (nor `flask db upgrade`)."""
    make_user("demo-admin", "admin", password=app.config["DEMO_PASSWORD"])
    db.session.commit()
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")  # FlaskGroup sets it; restored afterwards
    cli = FlaskGroup(create_app=lambda: _production(app), load_dotenv=False)
    result = CliRunner().invoke(cli, ["deactivate-demo-users"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalars(select(User.active).where(User.username == "demo-admin")).one() is False


def test_flask_run_refuses_to_start_with_active_demo_accounts(app, monkeypatch):
    make_user("demo-admin", "admin", password=app.config["DEMO_PASSWORD"])
    db.session.commit()
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    served = []
    monkeypatch.setattr("flask.cli.run_simple", lambda *args, **kwargs: served.append(args))
    cli = FlaskGroup(create_app=lambda: _production(app), load_dotenv=False)
    result = CliRunner().invoke(cli, ["run"])
    assert served == [] and result.exit_code != 0
    assert isinstance(result.exception, RuntimeError) and "demo-admin" in str(result.exception)


@pytest.mark.parametrize("method, path", [
    ("GET", "/nope"), ("GET", "/areas/villages/1%00"), ("POST", "/areas/"), ("GET", "/admin/areas/village/x"),
    ("POST", "/language"), ("GET", "/areas/counties/?page=%ff&q=" + "x" * 5000), ("PUT", "/login"),
])
def test_bad_requests_get_a_4xx_never_a_500(auth, world, client, method, path):
    auth.login("admin")
    response = client.open(path, method=method)
    assert response.status_code < 500, (path, response.status_code)
    assert "Traceback" not in response.get_data(as_text=True)


def test_health_check_needs_no_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
