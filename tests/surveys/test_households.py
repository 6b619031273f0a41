"""The household registry is the truth for house numbers: a survey that changes its house number
renumbers its household, never leaving the two apart and never giving two households one number."""

from sqlalchemy import select

from tests.factories import make_household
from tests.surveys.conftest import body, new_uuid
from village_survey.areas.models import Household
from village_survey.extensions import db


def _number(household):
    db.session.expire_all()
    return db.session.get(Household, household.id).house_number


def test_changing_the_house_number_of_a_survey_renumbers_its_household(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    assert api.put(uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    response = api.put(uuid, body(world.village_a, status="draft", household=world.household_a,
                                  house_number="2组9号"))
    assert response.status_code == 200
    assert response.get_json()["answers"]["house_number"] == "2组9号"
    assert _number(world.household_a) == "2组9号"


def test_the_house_number_changed_on_the_website_reaches_the_household(api, auth, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, status="draft", household=world.household_a))
    page = f"/surveys/{uuid}/edit?step=household"
    form = {"house_number": "3组1号", "head_name": "王甲", "residents": "4", "survey_date": "2026-03-15",
            "latitude": "29.7", "longitude": "116.0", "gps_accuracy_m": "8"}
    assert auth.post(page, form, token_from=page).status_code == 302
    assert _number(world.household_a) == "3组1号"
    assert "3组1号" in auth.client.get(f"/surveys/{uuid}").get_data(as_text=True)


def test_a_house_number_of_another_household_is_refused_on_the_field(api, world):
    make_household(world.village_a, "1组5号", "李四")
    db.session.commit()
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, status="draft", household=world.household_a))
    response = api.put(uuid, body(world.village_a, status="draft", household=world.household_a,
                                  house_number="1组5号"))
    assert response.status_code == 422
    assert "house_number" in response.get_json()["errors"]
    assert _number(world.household_a) == "1组1号"
    numbers = db.session.scalars(select(Household.house_number).where(Household.village_id == world.village_a.id))
    assert sorted(numbers) == ["1组1号", "1组5号"]
