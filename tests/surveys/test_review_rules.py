"""Four eyes: nobody approves a survey they submitted; the refusal is explained and audited."""

from sqlalchemy import select

from tests.factories import make_user
from tests.surveys.conftest import body, new_uuid
from village_survey import access
from village_survey.audit import AuditEvent
from village_survey.extensions import db
from village_survey.surveys.models import Survey


def _admin_submits(api, world):
    uuid = new_uuid()
    assert api.login("admin").put(uuid, body(world.village_a, household=world.household_a)).status_code == 201
    return uuid


def test_an_admin_may_not_approve_a_survey_they_submitted(app, auth, api, world):
    uuid = _admin_submits(api, world)
    page = f"/surveys/{uuid}"
    html = auth.client.get(page).get_data(as_text=True)
    assert "四眼原则" in html and 'value="approve"' not in html  # explained, no approve button
    response = auth.post(f"{page}/review", {"action": "approve"}, token_from=page)
    assert response.status_code == 403
    assert "四眼原则" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Survey.status).where(Survey.uuid == uuid)).one() == "submitted"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "survey_approval_refused")).one()
    assert event.username == "admin" and event.target == f"survey:{uuid}"
    assert event.detail == {"reason": "own_submission"}


def test_the_submitter_may_still_return_it_and_another_admin_may_approve_it(app, auth, api, world):
    uuid = _admin_submits(api, world)
    make_user("admin-2", "admin")
    db.session.commit()
    other = type(auth)(app.test_client())
    other.login("admin-2")
    page = f"/surveys/{uuid}"
    assert 'value="approve"' in other.client.get(page).get_data(as_text=True)
    assert other.post(f"{page}/review", {"action": "approve"}, token_from=page).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Survey.status).where(Survey.uuid == uuid)).one() == "approved"


def test_a_survey_resubmitted_by_someone_else_may_be_approved_by_its_first_author(app, auth, api, world):
    # The rule is about who made the submission under review, not who created the survey.
    uuid = _admin_submits(api, world)
    reviewer = type(auth)(app.test_client())
    reviewer.login("reviewer-a")
    page = f"/surveys/{uuid}"
    reviewer.post(f"{page}/review", {"action": "return", "comment": "补充照片"}, token_from=page)
    phone = app.test_client()
    surveyor = type(api)(phone, type(auth)(phone)).login("surveyor-a")
    fixed = body(world.village_a, household=world.household_a, residents=5)
    assert surveyor.put(uuid, fixed).status_code == 200
    assert auth.post(f"{page}/review", {"action": "approve"}, token_from=page).status_code == 302


def test_permissions_by_role(world):
    survey = Survey(status="submitted")
    for user, may_survey, may_review in ((world.surveyor_a, True, False), (world.reviewer_a, False, True),
                                         (world.viewer_city, False, False), (world.admin, True, True)):
        assert access.may_survey(user) is may_survey, user.username
        assert access.may_review(user, survey) is may_review, user.username
        assert access.may_finalize(user) is may_review, user.username
        assert access.may_manage_users(user) is (user.role == "admin")
    assert not access.may_review(world.reviewer_a, Survey(status="approved"))
    assert access.may_edit_survey(world.surveyor_a, Survey(status="returned"))
    assert not access.may_edit_survey(world.surveyor_a, Survey(status="submitted"))
    assert not access.may_add_photo(world.surveyor_a, Survey(status="approved"))


def _returned(app, auth, api, world):
    uuid = new_uuid()
    assert api.login("surveyor-a").put(uuid, body(world.village_a, household=world.household_a)).status_code == 201
    reviewer = type(auth)(app.test_client())
    reviewer.login("reviewer-a")
    page = f"/surveys/{uuid}"
    reviewer.post(f"{page}/review", {"action": "return", "comment": "请核对户籍人口"}, token_from=page)
    return uuid


def _status(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey.status).where(Survey.uuid == uuid)).one()


def test_a_returned_survey_resubmitted_unchanged_on_the_website_is_submitted_again(app, auth, api, world):
    uuid = _returned(app, auth, api, world)
    page = f"/surveys/{uuid}/edit?step=summary"
    response = auth.post(page, {"confirm_warnings": "y"}, token_from=page)
    assert response.status_code == 302
    assert _status(uuid) == "submitted"


def test_an_unchanged_replay_after_a_return_changes_nothing_but_a_resubmission_after_reading_does(
        app, auth, api, world):
    uuid = _returned(app, auth, api, world)
    unchanged = body(world.village_a, household=world.household_a)
    assert api.put(uuid, unchanged).status_code == 200  # the old submission sent again (a lost reply)
    assert _status(uuid) == "returned"
    revision = db.session.scalars(select(Survey.revision).where(Survey.uuid == uuid)).one()
    response = api.put(uuid, unchanged | {"base_revision": revision})  # the surveyor read the comment
    assert response.status_code == 200 and response.get_json()["status"] == "submitted"
    assert _status(uuid) == "submitted"
