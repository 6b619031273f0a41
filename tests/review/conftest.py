import pytest

from tests.conftest import Auth
from tests.factories import make_household, make_user
from tests.surveys.conftest import Api, body, new_uuid


class Phones:
    """One logged-in phone per user, to make surveys through the sync API as the field app does."""

    def __init__(self, app):
        self.app, self.apis = app, {}

    def api(self, username):
        if username not in self.apis:
            client = self.app.test_client()
            self.apis[username] = Api(client, Auth(client)).login(username)
        return self.apis[username]

    def put(self, username, household, status="submitted", uuid=None, **answers):
        uuid = uuid or new_uuid()
        answers = {"house_number": household.house_number, "head_name": household.head_name, **answers}
        response = self.api(username).put(uuid, body(household.village, status=status, household=household,
                                                     **answers))
        assert response.status_code in (200, 201), response.get_json()
        return uuid


@pytest.fixture
def phones(app):
    return Phones(app)


@pytest.fixture
def households(world):
    """More farmhouses: in village A (township A), village A2 (township A2, same county, surveyed by
    surveyor-a2) and village B (county B)."""
    from village_survey.extensions import db

    made = {
        "a": [world.household_a] + [make_household(world.village_a, f"2组{n}号", f"李{n}") for n in range(1, 6)],
        "a2": [world.household_a2] + [make_household(world.village_a2, f"3组{n}号", f"赵{n}") for n in range(1, 3)],
        "b": [world.household_b] + [make_household(world.village_b, f"4组{n}号", f"钱{n}") for n in range(1, 3)],
    }
    make_user("surveyor-a2", "surveyor", township=world.township_a2)
    db.session.commit()
    return made


@pytest.fixture
def reviewer(app, world):
    client = app.test_client()
    auth = Auth(client)
    auth.login("reviewer-a")
    return auth
