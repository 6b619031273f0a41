"""Helpers of the API token tests: tokens made through the service, bearer requests."""

import datetime as dt

import pytest

from tests.evaluations.conftest import add_survey  # noqa: F401  (used by the tests)
from village_survey.api_tokens import services
from village_survey.areas.models import utcnow
from village_survey.extensions import db


def make_token(user, spec="city", name="市建筑能耗监测平台", expires_at=None):
    """A token (committed) and its text, as the admin page makes them."""
    token, text = services.create_token(user, name, spec, expires_at, utcnow())
    db.session.commit()
    return token, text


class Bearer:
    def __init__(self, client):
        self.client = client

    def get(self, path, text, **kwargs):
        headers = {"Authorization": f"Bearer {text}", **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def pages(self, path, text, **params):
        """Every page of a list, following next_cursor: (pages as JSON)."""
        found, cursor = [], None
        while True:
            query = dict(params, **({"cursor": cursor} if cursor else {}))
            response = self.get(path, text, query_string=query)
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            found.append(body)
            cursor = body["next_cursor"]
            if cursor is None:
                return found


@pytest.fixture
def bearer(client):
    return Bearer(client)


def ago(**kwargs):
    return utcnow() - dt.timedelta(**kwargs)
