"""Security headers, production settings and no 500 on bad input."""

import logging

import pytest

from village_survey import create_app
from village_survey.config import DEFAULT_SECRET
from village_survey.demo import warn_if_demo_users
from tests.factories import make_user
from village_survey.extensions import db


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


def test_production_sends_secure_cookies(monkeypatch):
    app = create_app("production", SECRET_KEY="a-real-secret", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_demo_accounts_are_warned_about(app, caplog):
    make_user("demo-admin", "admin")
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        warn_if_demo_users(app)
    assert "demo-admin" in caplog.text


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
    assert client.get("/healthz").get_json() == {"status": "ok"}
