"""A surveyor withdraws their own submission while no reviewer has decided; a reviewer reopens an
approved survey with a reason. On the survey page and through the JSON API."""

from sqlalchemy import select

from tests.conftest import Auth
from village_survey.audit import AuditEvent
from village_survey.extensions import db
from village_survey.surveys.models import Survey


def survey_of(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()


def post_json(api, path, body=None):
    return api.client.post(path, json=body, headers={"X-CSRFToken": api.token})


def test_a_surveyor_withdraws_their_submission_and_may_submit_it_again_unchanged(phones, households):
    uuid = phones.put("surveyor-a", households["a"][0])
    api = phones.api("surveyor-a")
    response = post_json(api, f"/api/v1/surveys/{uuid}/withdraw")
    assert response.status_code == 200
    state = response.get_json()
    assert state["uuid"] == uuid and state["status"] == "draft" and state["answers"]["house_number"] == "1组1号"
    survey = survey_of(uuid)
    assert survey.submitted_by_id is None and survey.submitted_at is None
    assert [r.status for r in survey.revisions] == ["submitted", "draft"]
    assert db.session.scalars(select(AuditEvent.username).where(AuditEvent.action == "survey_withdrawn")).one() \
        == "surveyor-a"
    phones.put("surveyor-a", households["a"][0], uuid=uuid)  # the very same answers, submitted again
    assert survey_of(uuid).status == "submitted"


def test_only_the_submitter_may_withdraw_and_only_before_a_decision(app, phones, households, reviewer):
    uuid = phones.put("admin", households["a"][0])
    api = phones.api("surveyor-a")
    refused = post_json(api, f"/api/v1/surveys/{uuid}/withdraw")
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    mine = phones.put("surveyor-a", households["a"][1])
    reviewer.post(f"/surveys/{mine}/review", {"action": "approve"}, token_from=f"/surveys/{mine}")
    late = post_json(api, f"/api/v1/surveys/{mine}/withdraw")
    assert late.status_code == 409 and late.get_json()["code"] == "conflict"
    assert survey_of(mine).status == "approved"


def test_withdraw_outside_the_area_is_not_found(phones, households):
    uuid = phones.put("surveyor-b", households["b"][0])
    response = post_json(phones.api("surveyor-a"), f"/api/v1/surveys/{uuid}/withdraw")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert post_json(phones.api("surveyor-a"), "/api/v1/surveys/not-a-uuid/withdraw").status_code == 404


def test_the_withdraw_button_on_the_survey_page(app, phones, households):
    uuid = phones.put("surveyor-a", households["a"][0])
    surveyor = Auth(app.test_client())
    surveyor.login("surveyor-a")
    page = f"/surveys/{uuid}"
    assert "data-withdraw" in surveyor.client.get(page).get_data(as_text=True)
    response = surveyor.post(f"{page}/withdraw", {}, token_from=page)
    assert response.status_code == 302 and survey_of(uuid).status == "draft"
    assert "data-withdraw" not in surveyor.client.get(page).get_data(as_text=True)


def test_a_reviewer_reopens_an_approved_survey_with_a_reason_that_is_logged(phones, households, reviewer):
    uuid = phones.put("surveyor-a", households["a"][0])
    page = f"/surveys/{uuid}"
    reviewer.post(f"{page}/review", {"action": "approve"}, token_from=page)
    assert "data-reopen" in reviewer.client.get(page).get_data(as_text=True)
    response = reviewer.post(f"{page}/reopen", {"reason": "门牌号与户籍不符，请核实"}, token_from=page)
    assert response.status_code == 302
    survey = survey_of(uuid)
    assert survey.status == "returned" and survey.reviewer_comment == "门牌号与户籍不符，请核实"
    last = survey.revisions[-1]
    assert (last.status, last.comment, last.user.username) == ("returned", "门牌号与户籍不符，请核实", "reviewer-a")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "survey_reopened")).one()
    assert event.username == "reviewer-a" and event.target == f"survey:{uuid}"
    # The surveyor sees the reason and may change the survey again.
    state = phones.api("surveyor-a").get(uuid).get_json()
    assert state["status"] == "returned" and state["reviewer_comment"] == "门牌号与户籍不符，请核实"


def test_reopen_through_the_api_needs_a_reason_and_an_approved_survey(app, phones, households, reviewer):
    uuid = phones.put("surveyor-a", households["a"][0])
    admin = phones.api("admin")
    early = post_json(admin, f"/api/v1/surveys/{uuid}/reopen", {"reason": "太早"})
    assert early.status_code == 409
    reviewer.post(f"/surveys/{uuid}/review", {"action": "approve"}, token_from=f"/surveys/{uuid}")
    for body in ({}, {"reason": "   "}, {"reason": 5}):
        refused = post_json(admin, f"/api/v1/surveys/{uuid}/reopen", body)
        assert refused.status_code == 422 and "reason" in refused.get_json()["errors"]
    bad = admin.client.post(f"/api/v1/surveys/{uuid}/reopen", data="[1]", content_type="application/json",
                            headers={"X-CSRFToken": admin.token})
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_request"
    assert survey_of(uuid).status == "approved"
    response = post_json(admin, f"/api/v1/surveys/{uuid}/reopen", {"reason": "照片不是这户的房屋"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "returned"
    assert response.get_json()["reviewer_comment"] == "照片不是这户的房屋"


def test_surveyors_and_viewers_may_not_reopen(app, phones, households, reviewer):
    uuid = phones.put("surveyor-a", households["a"][0])
    reviewer.post(f"/surveys/{uuid}/review", {"action": "approve"}, token_from=f"/surveys/{uuid}")
    surveyor = post_json(phones.api("surveyor-a"), f"/api/v1/surveys/{uuid}/reopen", {"reason": "想改"})
    assert surveyor.status_code == 403
    viewer = Auth(app.test_client())
    viewer.login("viewer-a")
    page = f"/surveys/{uuid}"
    assert "data-reopen" not in viewer.client.get(page).get_data(as_text=True)
    assert viewer.post(f"{page}/reopen", {"reason": "想改"}, token_from=page).status_code == 403
    assert survey_of(uuid).status == "approved"


def test_the_endpoints_need_a_login_and_the_csrf_token(app, phones, households):
    uuid = phones.put("surveyor-a", households["a"][0])
    anonymous = app.test_client().post(f"/api/v1/surveys/{uuid}/withdraw")
    # Refused as JSON (the CSRF check comes first: a request without a session has no token).
    assert (anonymous.status_code, anonymous.get_json()["code"]) in ((401, "login_required"), (400, "csrf_expired"))
    no_token = phones.api("surveyor-a").client.post(f"/api/v1/surveys/{uuid}/withdraw")
    assert no_token.status_code == 400 and no_token.get_json()["code"] == "csrf_expired"
    assert survey_of(uuid).status == "submitted"


def test_the_openapi_document_describes_withdraw_and_reopen(phones, world):
    document = phones.api("surveyor-a").client.get("/api/v1/openapi.json").get_json()
    withdraw = document["paths"]["/surveys/{uuid}/withdraw"]["post"]
    reopen = document["paths"]["/surveys/{uuid}/reopen"]["post"]
    assert withdraw["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SurveyState"}
    assert set(withdraw["responses"]) >= {"200", "403", "404", "409"}
    assert reopen["requestBody"]["content"]["application/json"]["schema"]["required"] == ["reason"]
    assert set(reopen["responses"]) >= {"200", "400", "403", "404", "409", "422"}
