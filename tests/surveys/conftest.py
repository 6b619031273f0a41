import re
import uuid

import pytest

from tests.factories import complete_answers


class Api:
    """A logged-in phone talking to the sync API with the session cookie and the CSRF header."""

    def __init__(self, client, auth):
        self.client, self.auth = client, auth
        self.token = None

    def login(self, username):
        self.auth.login(username)
        self.token = self.client.get("/api/v1/session").get_json()["csrf_token"]
        return self

    def put(self, survey_uuid, body=None, raw=None, **kwargs):
        headers = {"X-CSRFToken": self.token} if self.token else {}
        headers.update(kwargs.pop("headers", {}))
        if raw is not None:
            return self.client.put(f"/api/v1/surveys/{survey_uuid}", data=raw, headers=headers,
                                   content_type="application/json")
        return self.client.put(f"/api/v1/surveys/{survey_uuid}", json=body, headers=headers)

    def get(self, survey_uuid):
        return self.client.get(f"/api/v1/surveys/{survey_uuid}")


@pytest.fixture
def api(client, auth):
    return Api(client, auth)


def body(village, status="submitted", year=2026, household=None, **answers):
    result = {"form_version": 1, "year": year, "status": status, "answers": complete_answers(**answers)}
    if household is not None:
        result["household_id"] = household.id
    else:
        result["village_id"] = village.id
    return result


def new_uuid():
    return str(uuid.uuid4())
