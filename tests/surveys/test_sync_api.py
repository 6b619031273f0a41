"""The sync API: idempotent on the survey UUID, scoped, validated by the same form as the pages."""

import threading

from sqlalchemy import func, select

from tests.surveys.conftest import body, new_uuid
from village_survey.areas.models import Household
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision
from village_survey.surveys.services import review_survey


def _counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Survey.id))), db.session.scalar(select(func.count(SurveyRevision.id))),
            db.session.scalar(select(func.count(Household.id))))


def test_session_gives_user_scope_token_and_form_version(api, world):
    api.login("surveyor-a")
    data = api.client.get("/api/v1/session").get_json()
    assert data["user"]["username"] == "surveyor-a" and data["user"]["role"] == "surveyor"
    assert data["scope"] == {"level": "township", "code": world.township_a.code, "name": "甲镇"}
    assert data["csrf_token"] and data["form_version"] == 1


def test_api_without_login_answers_401_json(client, world):
    response = client.get("/api/v1/session")
    assert response.status_code == 401 and response.is_json


def test_villages_lists_only_the_users_township_with_households(api, world):
    api.login("surveyor-a")
    answer = api.client.get("/api/v1/villages").get_json()
    assert answer["user_id"] == world.surveyor_a.id  # the phone keeps the list for this user only
    villages = answer["villages"]
    assert [v["name"] for v in villages] == ["甲村"]
    # Each household with its survey of this year, if any (the phone warns at selection).
    assert villages[0]["households"] == [{"id": world.household_a.id, "house_number": "1组1号", "head_name": "王甲",
                                          "survey": None}]


def test_new_survey_is_created_with_201_and_a_new_household(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    response = api.put(uuid, body(world.village_a, house_number="3组9号", head_name="赵新"))
    assert response.status_code == 201, response.get_json()
    state = response.get_json()
    assert state["uuid"] == uuid and state["status"] == "submitted" and state["revision"] == 1
    household = db.session.get(Household, state["household_id"])
    assert (household.house_number, household.head_name, household.village_id) == ("3组9号", "赵新", world.village_a.id)


def test_identical_resubmission_creates_no_duplicate_and_no_revision(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    first = api.put(uuid, body(world.village_a, household=world.household_a))
    before = _counts()
    again = api.put(uuid, body(world.village_a, household=world.household_a))
    assert again.status_code == 200
    assert again.get_json() == first.get_json() | {"updated_at": again.get_json()["updated_at"]}
    assert _counts() == before


def test_draft_updates_are_200_and_fold_into_the_drafts_revision(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    assert api.put(uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    response = api.put(uuid, body(world.village_a, status="draft", household=world.household_a, residents=5))
    # Autosaves of one draft by its surveyor are one revision, whose changes hold them all.
    assert response.status_code == 200 and response.get_json()["revision"] == 1
    revision = db.session.scalars(select(SurveyRevision)).one()
    assert revision.changes["residents"] == [None, 5]
    submitted = api.put(uuid, body(world.village_a, household=world.household_a, residents=5))
    assert submitted.get_json()["revision"] == 2


def test_a_draft_may_be_incomplete_but_a_submission_may_not(api, world):
    api.login("surveyor-a")
    draft = {"form_version": 1, "year": 2026, "status": "draft", "household_id": world.household_a.id,
             "answers": {"house_number": "1组1号", "head_name": "王甲", "residents": 3}}
    assert api.put(new_uuid(), draft).status_code == 201
    response = api.put(new_uuid(), draft | {"status": "submitted", "household_id": world.household_a2.id})
    assert response.status_code in (404, 422)
    other = {"form_version": 1, "year": 2025, "status": "submitted", "household_id": world.household_a.id,
             "answers": {"house_number": "1组1号", "head_name": "王甲", "residents": 3}}
    response = api.put(new_uuid(), other)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "primary_stove" in errors and "storeys" in errors and "residents" not in errors


def test_change_under_review_or_approved_is_409(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, household=world.household_a))
    response = api.put(uuid, body(world.village_a, household=world.household_a, residents=6))
    assert response.status_code == 409
    assert response.get_json()["state"]["status"] == "submitted"
    survey = db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()
    review_survey(world.reviewer_a, survey, "approve", "")
    db.session.commit()
    assert api.put(uuid, body(world.village_a, household=world.household_a, residents=6)).status_code == 409
    # The phone replaying its original submission after approval is not a conflict.
    replay = api.put(uuid, body(world.village_a, household=world.household_a))
    assert replay.status_code == 200 and replay.get_json()["status"] == "approved"


def test_returned_survey_is_fixed_and_resubmitted(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, household=world.household_a))
    survey = db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()
    review_survey(world.reviewer_a, survey, "return", "常住人口不对")
    db.session.commit()
    state = api.get(uuid).get_json()
    assert state["status"] == "returned" and state["reviewer_comment"] == "常住人口不对"
    response = api.put(uuid, body(world.village_a, household=world.household_a, residents=2))
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"
    assert response.get_json()["revision"] == 3


def test_one_survey_per_household_and_year(api, world):
    api.login("surveyor-a")
    api.put(new_uuid(), body(world.village_a, household=world.household_a))
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=2))
    assert response.status_code == 409
    assert api.put(new_uuid(), body(world.village_a, household=world.household_a, year=2025,
                                    survey_date="2025-05-01")).status_code == 201


def test_invalid_answers_get_422_per_field_and_nothing_is_written(api, world):
    api.login("surveyor-a")
    before = _counts()
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=99,
                                        structure="castle", storeys="two", secondary_stove="electric",
                                        evening_hours=5, supply_hours=4))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"residents", "structure", "storeys"}
    assert "30" in errors["residents"][0]
    assert _counts() == before


def test_cross_field_errors_and_warnings(api, world):
    api.login("surveyor-a")
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, secondary_stove="electric",
                                        evening_hours=6, supply_hours=4))
    errors = response.get_json()["errors"]
    assert response.status_code == 422 and set(errors) == {"secondary_stove", "evening_hours"}
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, electricity_kwh=20000,
                                        biogas_m3=100))
    assert response.status_code == 201
    assert set(response.get_json()["warnings"]) == {"electricity_kwh", "biogas_m3"}


def test_unknown_keys_codes_and_types_are_refused(api, world):
    api.login("surveyor-a")
    b = body(world.village_a, household=world.household_a)
    b["answers"]["colour"] = "red"
    b["extra"] = 1
    b["answers"]["visible_danger"] = "no"
    response = api.put(new_uuid(), b)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"colour", "extra", "visible_danger"}


def test_messages_follow_the_users_language(api, world, auth):
    api.login("surveyor-a")
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=99))
    assert "须在" in response.get_json()["errors"]["residents"][0] or "之间" in response.get_json()["errors"]["residents"][0]
    auth.post("/language", {"locale": "en"})
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=99))
    assert response.get_json()["errors"]["residents"][0] == "Must be between 0 and 30."


def test_other_township_is_404_and_viewer_is_403(api, world, app):
    api.login("surveyor-b")
    assert api.put(new_uuid(), body(world.village_a, household=world.household_a)).status_code == 404
    assert api.put(new_uuid(), body(world.village_a)).status_code == 404
    other = type(api)(app.test_client(), type(api.auth)(app.test_client()))
    other.client = other.auth.client
    other.login("surveyor-a")
    uuid = new_uuid()
    other.put(uuid, body(world.village_a, household=world.household_a))
    assert api.get(uuid).status_code == 404
    assert api.put(uuid, body(world.village_b, household=world.household_b)).status_code == 404
    viewer = type(api)(app.test_client(), None)
    viewer.auth = type(other.auth)(viewer.client)
    viewer.login("viewer-a")
    assert viewer.get(uuid).status_code == 200
    assert viewer.put(new_uuid(), body(world.village_a, household=world.household_a2)).status_code == 403


def test_missing_or_stale_csrf_token_is_refused(api, world):
    api.login("surveyor-a")
    before = _counts()
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a), headers={"X-CSRFToken": "stale"})
    assert response.status_code == 400 and response.is_json
    api.token = None
    assert api.put(new_uuid(), body(world.village_a, household=world.household_a)).status_code == 400
    assert _counts() == before


def test_malformed_bodies_and_uuids(api, world):
    api.login("surveyor-a")
    for raw in ("", "not json", "[]", '{"answers": NaN}', '{"a":' * 3000, "\xff"):
        assert api.put(new_uuid(), raw=raw).status_code == 400, raw[:20]
    assert api.put("not-a-uuid", body(world.village_a)).status_code == 404
    assert api.get("not-a-uuid").status_code == 404
    assert api.get(new_uuid()).status_code == 404
    response = api.put(new_uuid(), {"form_version": 99, "year": "2026", "status": "approved", "answers": []})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"answers"}


def test_previous_form_version_stays_accepted(api, world, monkeypatch):
    from village_survey import survey_fields

    monkeypatch.setattr(survey_fields, "FORM_VERSION", 2)
    monkeypatch.setattr(survey_fields, "SUPPORTED_FORM_VERSIONS", (1, 2))
    api.login("surveyor-a")
    assert api.client.get("/api/v1/session").get_json()["form_version"] == 2
    assert api.put(new_uuid(), body(world.village_a, household=world.household_a)).status_code == 201


def test_concurrent_puts_of_one_uuid_make_exactly_one_survey(app, api, world):
    """Retries of one new survey (with a new household) racing each other: one survey, one household."""
    api.login("surveyor-a")
    cookie = api.client.get_cookie("session").value
    uuid = new_uuid()
    payload = body(world.village_a, house_number="9组9号", head_name="钱并发")
    statuses = []

    def send():
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = client.put(f"/api/v1/surveys/{uuid}", json=payload, headers={"X-CSRFToken": api.token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [201]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Survey.id)).where(Survey.uuid == uuid)) == 1
    assert db.session.scalar(select(func.count(Household.id)).where(Household.house_number == "9组9号")) == 1
    assert db.session.scalar(select(func.count(SurveyRevision.id))) == 1
