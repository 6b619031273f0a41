"""A new survey through the API's fast path (the compiled validator, one lookup query, Core
INSERTs) stores what the ORM path stored, for users of every kind of area, and refuses alike."""

from sqlalchemy import select

from tests import factories
from tests.surveys.conftest import Api, body, new_uuid
from village_survey.areas.models import Household
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision
from village_survey.surveys.services import review_survey


def _stored(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()


def test_a_new_household_survey_is_stored_whole(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    sent = body(world.village_a, house_number="5组1号", head_name="钱五", phone="13900000000")
    answer = api.put(uuid, sent)
    assert answer.status_code == 201, answer.get_json()
    survey = _stored(uuid)
    household = db.session.get(Household, survey.household_id)
    assert (household.village_id, household.house_number, household.head_name, household.phone) == (
        world.village_a.id, "5组1号", "钱五", "13900000000")
    assert household.sort_key and household.created_at is not None
    assert survey.answers == sent["answers"]
    assert (survey.status, survey.revision, survey.year, survey.form_version) == ("submitted", 1, 2026, 1)
    assert survey.created_by_id == survey.submitted_by_id == world.surveyor_a.id and survey.submitted_at
    assert survey.created_at == survey.updated_at and survey.photos == []
    assert isinstance(survey.flags, list) and {f["code"] for f in survey.flags} >= {"no_house_photo"}
    (revision,) = survey.revisions
    assert (revision.number, revision.status, revision.user_id, revision.comment) == (
        1, "submitted", world.surveyor_a.id, None)
    assert revision.changes == {key: [None, value] for key, value in sorted(survey.answers.items())}
    state = answer.get_json()
    assert (state["household_id"], state["village_id"], state["revision"], state["photos"]) == (
        household.id, world.village_a.id, 1, [])
    # The same request again is a replay; the same household number with another UUID a conflict.
    assert api.put(uuid, sent).status_code == 200
    other = api.put(new_uuid(), sent)
    assert other.status_code == 409 and other.get_json()["existing_survey"]["uuid"] == uuid
    assert db.session.scalar(select(SurveyRevision.id).where(SurveyRevision.survey_id == survey.id)) == revision.id


def test_a_survey_made_in_the_request_can_be_reviewed_in_the_same_session(app, world):
    """The inserted rows join the session as loaded objects: the next change goes through the ORM."""
    from village_survey.surveys.services import save_survey

    with app.test_request_context():
        result = save_survey(world.surveyor_a, new_uuid(), form_version=1, year=2026, status="submitted",
                             answers=body(world.village_a, house_number="6组1号", head_name="孙六")["answers"],
                             village_id=world.village_a.id)
        review_survey(world.reviewer_a, result.survey, "return", "再看看")
        db.session.commit()
        survey = _stored(result.survey.uuid)
        assert (survey.status, survey.revision) == ("returned", 2)
        assert [r.number for r in survey.revisions] == [1, 2]


def _phone(app, auth_class, username):
    client = app.test_client()
    return Api(client, auth_class(client)).login(username)


def test_county_and_city_users_create_surveys_in_their_area_only(app, auth, world):
    county_surveyor = factories.make_user("surveyor-county-a", "surveyor", county=world.county_a)
    db.session.commit()
    for username in (county_surveyor.username, "admin"):
        api = _phone(app, type(auth), username)
        for village in (world.village_a, world.village_a2):
            answer = api.put(new_uuid(), body(village, house_number=f"{username}号", head_name="周七"))
            assert answer.status_code == 201, answer.get_json()
    api = _phone(app, type(auth), county_surveyor.username)
    outside = api.put(new_uuid(), body(world.village_b, house_number="9组9号", head_name="吴八"))
    assert outside.status_code == 404


def test_a_survey_of_another_area_is_not_found_by_its_uuid(app, auth, world):
    uuid = new_uuid()
    theirs = body(world.village_b, house_number="1号", head_name="郑九")
    assert _phone(app, type(auth), "surveyor-b").put(uuid, theirs).status_code == 201
    ours = body(world.village_a, house_number="2号", head_name="郑九")
    assert _phone(app, type(auth), "surveyor-a").put(uuid, ours).status_code == 404


def test_a_household_number_of_the_village_is_that_household(api, world):
    api.login("surveyor-a")
    answer = api.put(new_uuid(), body(world.village_a, house_number=world.household_a.house_number,
                                      head_name="王甲改"))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["household_id"] == world.household_a.id
    db.session.expire_all()
    assert db.session.get(Household, world.household_a.id).head_name == "王甲改"


def test_numbers_beyond_any_range_and_odd_years_are_refused_not_crashed(api, world):
    api.login("surveyor-a")
    huge = body(world.village_a, house_number="7组1号", head_name="冯十")
    huge["answers"]["floor_area_m2"] = 10**400
    answer = api.put(new_uuid(), huge)
    assert answer.status_code == 422 and "floor_area_m2" in answer.get_json()["errors"]
    for year in (99999, 0, True, 1999):
        odd = body(world.village_a, house_number="7组2号", head_name="冯十", year=year) | {"bogus": 1}
        answer = api.put(new_uuid(), odd)
        assert answer.status_code == 422 and set(answer.get_json()["errors"]) == {"bogus"}, answer.get_json()


def test_a_new_households_survey_is_flagged_against_its_own_countys_boundary(api, world):
    """The fast path reads the county's code in its lookup query: a position in another county
    of the city is outside for this one (and not for the other), as the general path decides."""
    api.login("admin")
    inside_b = {"latitude": 29.7285, "longitude": 115.9926}  # 浔阳区 (the county of village_b)
    for village, number, outside in ((world.village_a, "8组1号", True), (world.village_b, "8组2号", False)):
        uuid = new_uuid()
        sent = body(village, house_number=number, head_name="郑九")
        sent["answers"].update(inside_b)
        sent["status"] = "draft"
        assert api.put(uuid, sent).status_code == 201
        fast = {f["code"] for f in _stored(uuid).flags}
        assert ("outside_area" in fast) is outside, (village.name, _stored(uuid).flags)
        # Submitted afterwards through the general path (an edit): the same verdict.
        sent["status"] = "submitted"
        assert api.put(uuid, sent).status_code == 200
        assert ("outside_area" in {f["code"] for f in _stored(uuid).flags}) is outside
