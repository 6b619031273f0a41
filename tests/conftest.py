"""Shared fixtures: an app whose schema is built by the migrations, on SQLite or on PostgreSQL.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg:///village_survey_test) to run on PostgreSQL;
otherwise each run gets a fresh SQLite file. Domain tests (tests/scoring) need none of this.
"""

import contextvars
import os
import re

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from village_survey import create_app
from village_survey.extensions import db, limiter
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _reset_database():
    """Start from an empty database, so the migrations build every table themselves."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    The test holds an app context for its database work; without this, Flask would reuse it
    for the request and leak `g` (the logged-in user) from one client's request to another's.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _reset_database()
        upgrade()
    return app


def _empty_tables():
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app(_app):
    with _app.app_context():
        _empty_tables()
        limiter.reset()
        yield _app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=factories.PASSWORD):
        token = csrf_token(self.client)
        return self.client.post("/login", data={"username": username, "password": password,
                                                "remember": "y", "csrf_token": token})

    def post(self, path, data=None, **kwargs):
        """POST a form with a valid CSRF token taken from the page itself (or the dashboard)."""
        data = dict(data or {})
        page = kwargs.pop("token_from", "/")
        data["csrf_token"] = csrf_token(self.client, page)
        # Sent from that page, as a browser does (a refused action goes back to it).
        headers = {"Referer": f"http://localhost{page}", **kwargs.pop("headers", {})}
        return self.client.post(path, data=data, headers=headers, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def world(app):
    """Two counties, each with two townships, each with a village and households; one user per role."""
    return factories.make_world()
