"""The read API: what a token reads (no personal data, its area only), paging, updated_since,
and that a bearer token opens nothing else."""

import datetime as dt
import json

from sqlalchemy import select

from tests.api_tokens.conftest import add_survey, ago, make_token
from tests.factories import make_household
from tests.surveys.conftest import new_uuid
from village_survey.api_tokens.models import ApiToken
from village_survey.evaluations import precomputed
from village_survey.extensions import db
from village_survey.surveys.models import Survey


def _surveys(bearer, text, **params):
    return [s for page in bearer.pages("/api/v1/read/surveys", text, **params) for s in page["surveys"]]


def test_surveys_come_without_personal_data(world, bearer):
    household = make_household(world.village_a, "9号", "王小明")
    add_survey(world.village_a, household=household, phone="13912345678", latitude=29.712345,
               longitude=116.004321, notes="户主王小明电话13912345678")
    db.session.commit()
    _token, text = make_token(world.admin)
    response = bearer.get("/api/v1/read/surveys", text)
    raw = response.get_data(as_text=True)
    answers = response.get_json()["surveys"][0]["answers"]
    assert answers["head_name"] == "王**" and answers["phone"] == "***"
    assert (answers["latitude"], answers["longitude"]) == (29.71, 116.0)
    assert "notes" not in answers
    for personal in ("小明", "13912345678", "29.712345", "116.004321"):
        assert personal not in raw
    assert "Set-Cookie" not in response.headers


def test_surveys_are_the_approved_ones_of_the_tokens_area(world, bearer):
    inside = add_survey(world.village_a)
    add_survey(world.village_a2, status="submitted")
    add_survey(world.village_b)  # another county
    db.session.commit()
    _token, text = make_token(world.admin, "county:360402")
    found = _surveys(bearer, text)
    assert [s["uuid"] for s in found] == [inside.uuid]
    assert found[0]["village_id"] == world.village_a.id and found[0]["approved"] is True


def test_surveys_page_by_cursor_in_a_stable_order(world, bearer):
    surveys = [add_survey(world.village_a) for _ in range(5)]
    db.session.commit()
    _token, text = make_token(world.admin)
    pages = bearer.pages("/api/v1/read/surveys", text, limit=2)
    assert [len(p["surveys"]) for p in pages] == [2, 2, 1]
    assert sorted(s["uuid"] for p in pages for s in p["surveys"]) == sorted(s.uuid for s in surveys)
    assert len({p["server_time"] for p in pages}) == 1  # the next pull's updated_since


def test_updated_since_keeps_the_changes_and_tells_of_surveys_no_longer_approved(world, bearer):
    old = add_survey(world.village_a)
    new = add_survey(world.village_a)
    returned = add_survey(world.village_a, status="returned")
    db.session.flush()
    old.updated_at = dt.datetime(2025, 12, 1)
    db.session.commit()
    _token, text = make_token(world.admin)
    found = {s["uuid"]: s for s in _surveys(bearer, text, updated_since="2026-01-01T08:00:00+08:00")}
    assert set(found) == {new.uuid, returned.uuid}
    assert found[returned.uuid] == {"uuid": returned.uuid, "approved": False,
                                    "updated_at": found[returned.uuid]["updated_at"]}
    assert {s["uuid"] for s in _surveys(bearer, text)} == {old.uuid, new.uuid}


def test_bad_parameters_are_refused_with_their_code(world, bearer):
    _token, text = make_token(world.admin)
    for query in ("updated_since=2026-01-01T00:00:00", "updated_since=yesterday", "limit=0", "limit=501",
                  "cursor=not-a-cursor", "year=twenty"):
        response = bearer.get(f"/api/v1/read/surveys?{query}", text)
        assert (response.status_code, response.get_json()["code"]) == (400, "bad_request"), query
    response = bearer.get("/api/v1/read/villages?updated_since=2026-01-01T00:00:00Z", text)
    assert response.status_code == 400


def test_a_cursor_cannot_name_another_survey_row_outside_the_range(world, bearer):
    _token, text = make_token(world.admin)
    import base64
    forged = base64.urlsafe_b64encode(json.dumps(["x", 1, "y"]).encode()).decode()
    assert bearer.get(f"/api/v1/read/surveys?cursor={forged}", text).status_code == 400


def test_farmhouse_scores_of_the_tokens_area_from_the_stored_results(world, bearer):
    mine = add_survey(world.village_a, latitude=29.712345, longitude=116.004321)
    add_survey(world.village_b)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    _token, text = make_token(world.admin, "county:360402")
    pages = bearer.pages("/api/v1/read/farmhouse-scores", text)
    scores = [s for p in pages for s in p["farmhouse_scores"]]
    assert [s["uuid"] for s in scores] == [mine.uuid]
    score = scores[0]
    assert score["total"] is not None and score["stars"] is not None and score["criteria_version"] >= 1
    assert (score["latitude"], score["longitude"]) == (29.71, 116.0)
    assert "head_name" not in score
    assert bearer.get("/api/v1/read/farmhouse-scores?criteria=nope", text).status_code == 400


def test_evaluations_of_the_areas_within_the_token(world, bearer):
    add_survey(world.village_a)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    _token, text = make_token(world.admin, "county:360402")
    body = bearer.get("/api/v1/read/evaluations?year=2026&level=village", text).get_json()
    assert {a["id"] for a in body["areas"]} == {world.village_a.id, world.village_a2.id}
    assert body["precomputed"] is True and body["level"] == "village"
    village = next(a for a in body["areas"] if a["id"] == world.village_a.id)
    assert village["figures"]["approved_surveys"] == 1 and village["finalized"] is None
    assert "farmhouses" not in village["figures"]
    own = bearer.get("/api/v1/read/evaluations?year=2026", text).get_json()["areas"]
    assert [a["id"] for a in own] == [world.county_a.id]
    assert bearer.get("/api/v1/read/evaluations?level=city", text).status_code == 400
    paged = bearer.pages("/api/v1/read/evaluations", text, year=2026, level="village", limit=1)
    assert [a["id"] for p in paged for a in p["areas"]] == [world.village_a.id, world.village_a2.id]


def test_a_bearer_token_opens_no_page_and_no_write(world, bearer, client):
    _token, text = make_token(world.admin)
    survey_uuid = new_uuid()
    refused = [
        bearer.get("/", text),
        bearer.get("/api/v1/surveys", text),
        bearer.get("/api/v1/session", text),
        bearer.get("/admin/api-tokens/", text),
        client.put(f"/api/v1/surveys/{survey_uuid}", json={}, headers={"Authorization": f"Bearer {text}"}),
        client.post("/api/v1/surveys/batch", json={"surveys": []}, headers={"Authorization": f"Bearer {text}"}),
    ]
    for response in refused:
        assert response.status_code in (400, 401, 403), response.request.path
        if response.status_code == 403 and response.is_json:
            assert response.get_json()["code"] == "token_not_accepted"
    assert [r.status_code for r in refused[:4]] == [403, 403, 403, 403]
    assert refused[1].get_json()["code"] == "token_not_accepted"
    assert client.post("/api/v1/read/surveys", headers={"Authorization": f"Bearer {text}"}).status_code == 405
    assert client.post("/admin/api-tokens/new", data={"name": "x", "area": "city"},
                       headers={"Authorization": f"Bearer {text}"}).status_code in (400, 403)
    assert db.session.scalar(select(Survey.id)) is None
    assert len(db.session.scalars(select(ApiToken)).all()) == 1


def test_admin_pages_are_for_admins_only(world, auth, client):
    assert client.get("/admin/api-tokens/").status_code == 302  # to the login page
    auth.login("reviewer-a")
    assert client.get("/admin/api-tokens/").status_code == 403
    assert client.get("/admin/api-tokens/new").status_code == 403
    response = auth.post("/admin/api-tokens/new", {"name": "x", "area": "city"})
    assert response.status_code == 403
    assert db.session.scalars(select(ApiToken)).first() is None


def test_the_openapi_document_describes_the_read_api(world, auth, client):
    auth.login("admin")
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    for path in ("/read/surveys", "/read/farmhouse-scores", "/read/evaluations", "/read/villages"):
        operation = document["paths"][path]["get"]
        assert operation["security"] == [{"apiToken": []}]
        assert {"401", "429"} <= set(operation["responses"])
    codes = document["components"]["schemas"]["Error"]["properties"]["code"]
    assert {"token_missing", "token_invalid", "token_revoked", "token_expired", "rate_limited"} <= set(
        codes.get("enum", []))


def test_the_openapi_document_is_read_without_a_login_and_with_a_token(app, world, auth, client):
    """Another platform reads the document before (and while) it holds a token; it holds no data."""
    anonymous = app.test_client()
    document = anonymous.get("/api/v1/openapi.json")
    assert document.status_code == 200 and "/read/surveys" in document.get_json()["paths"]
    with_token = anonymous.get("/api/v1/openapi.json", headers={"Authorization": "Bearer not-even-checked"})
    assert with_token.status_code == 200
    # a token still opens nothing else outside the read API
    refused = anonymous.get("/api/v1/todo", headers={"Authorization": "Bearer x"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "token_not_accepted"
