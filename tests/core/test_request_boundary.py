"""One request boundary: a request commits once when it succeeds and keeps nothing when it fails;
domain errors become pages or JSON with a stable code in one place."""

import pytest
from sqlalchemy import select

from tests.surveys.conftest import Api, body, new_uuid
from village_survey.audit import AuditEvent
from village_survey.extensions import db
from village_survey.surveys import services
from village_survey.surveys.models import Survey, SurveyRevision


@pytest.fixture
def api(client, auth):
    return Api(client, auth)


def _submitted_survey(api, world):
    uuid = new_uuid()
    assert api.login("surveyor-a").put(uuid, body(world.village_a, household=world.household_a)).status_code == 201
    return uuid


def _status(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey.status).where(Survey.uuid == uuid)).one()


def test_a_view_that_does_not_commit_still_keeps_its_work(auth, world, client):
    # The language switch only sets the user's locale: the boundary commits it.
    auth.login("surveyor-a")
    auth.post("/language", {"locale": "en"})
    db.session.expire_all()
    assert world.surveyor_a.locale == "en"


def test_an_unexpected_error_after_a_change_keeps_nothing(app, auth, api, world, monkeypatch):
    uuid = _submitted_survey(api, world)
    reviewer = type(auth)(app.test_client())
    reviewer.login("reviewer-a")

    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk full")

    # review_survey changes the survey, adds a revision, then writes the audit record: which fails.
    monkeypatch.setattr(services.audit, "record", broken_audit)
    response = reviewer.post(f"/surveys/{uuid}/review", {"action": "approve"}, token_from=f"/surveys/{uuid}")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert _status(uuid) == "submitted"
    survey_id = db.session.scalars(select(Survey.id).where(Survey.uuid == uuid)).one()
    assert len(db.session.scalars(select(SurveyRevision).where(SurveyRevision.survey_id == survey_id)).all()) == 1


def test_a_domain_error_after_a_change_keeps_nothing_even_when_answered_with_a_redirect(
        app, auth, api, world, monkeypatch):
    uuid = _submitted_survey(api, world)
    reviewer = type(auth)(app.test_client())
    reviewer.login("reviewer-a")
    original = services.add_revision

    def refuse_after_change(survey, user, old, comment=None):
        original(survey, user, old, comment)
        raise services.SurveyError(409, "changed meanwhile")

    monkeypatch.setattr(services, "add_revision", refuse_after_change)
    page = f"/surveys/{uuid}"
    response = reviewer.post(f"{page}/review", {"action": "approve"}, token_from=page)
    # Refused on a page: back to the page it came from, with the reason shown there.
    assert response.status_code == 303 and response.headers["Location"] == page
    assert "changed meanwhile" in reviewer.client.get(page).get_data(as_text=True)
    assert _status(uuid) == "submitted"


@pytest.mark.parametrize("case, status, code", [
    ("no_login", 401, "login_required"),
    ("no_csrf", 400, "csrf_expired"),
    ("not_found", 404, "not_found"),
    ("outside_area", 404, "not_found"),
    ("invalid", 422, "invalid"),
    ("conflict", 409, "conflict"),
    ("viewer", 403, "forbidden"),
    ("bad_body", 400, "bad_request"),
])
def test_api_errors_carry_a_stable_code_besides_the_message(app, client, auth, world, case, status, code):
    phone = Api(client, auth)
    uuid = new_uuid()
    if case == "no_login":
        response = client.get("/api/v1/session")
    else:
        phone.login({"viewer": "viewer-a", "outside_area": "surveyor-b"}.get(case, "surveyor-a"))
        if case == "no_csrf":
            response = client.put(f"/api/v1/surveys/{uuid}", json=body(world.village_a))
        elif case == "not_found":
            response = phone.get(uuid)
        elif case == "outside_area":
            response = phone.put(uuid, body(world.village_a))
        elif case == "invalid":
            response = phone.put(uuid, body(world.village_a, residents=-3))
        elif case == "conflict":
            assert phone.put(uuid, body(world.village_a, household=world.household_a)).status_code == 201
            response = phone.put(uuid, body(world.village_a, household=world.household_a, residents=7))
        elif case == "viewer":
            response = phone.put(uuid, body(world.village_a))
        else:
            response = phone.put(uuid, raw="[1, 2")
    data = response.get_json()
    assert response.status_code == status, data
    assert data["code"] == code and data["status"] == status and data["error"]


def test_a_batch_item_refused_carries_its_code(api, world):
    api.login("surveyor-a")
    response = api.client.post("/api/v1/surveys/batch", headers={"X-CSRFToken": api.token}, json={"surveys": [
        {"uuid": new_uuid(), **body(world.village_a, residents=-1)},
        {"uuid": new_uuid(), **body(world.village_b)},
        {"uuid": new_uuid(), **body(world.village_a, household=world.household_a)},
    ]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [422, 404, 201]
    assert [r["body"].get("code") for r in results[:2]] == ["invalid", "not_found"]


def test_a_refused_page_request_is_answered_as_a_page(auth, world, client):
    auth.login("viewer-a")
    response = client.get(f"/surveys/new?village={world.village_a.id}")
    assert response.status_code == 403 and "text/html" in response.content_type
    assert "您的账号无权" in response.get_data(as_text=True)


def test_the_audit_log_of_a_refusal_is_kept_while_the_refused_work_is_not(app, auth, api, world):
    # The four-eyes refusal: see test_review_rules; here only that the audit event survives the rollback.
    api.login("admin")
    uuid = new_uuid()
    assert api.put(uuid, body(world.village_a, household=world.household_a)).status_code == 201
    page = f"/surveys/{uuid}"
    auth.post(f"{page}/review", {"action": "approve"}, token_from=page)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "survey_approval_refused" in actions and "survey_approved" not in actions


def test_an_error_page_links_back_to_the_page_it_came_from(auth, api, world):
    import io

    uuid = _submitted_survey(api, world)
    page = f"/surveys/{uuid}"
    response = auth.post(f"{page}/photos", {"photo": (io.BytesIO(b"not an image"), "x.jpg"), "kind": "house"},
                         content_type="multipart/form-data", token_from=page)
    assert response.status_code == 415
    assert f'href="{page}"' in response.get_data(as_text=True)
