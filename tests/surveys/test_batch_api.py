"""POST /api/v1/surveys/batch: several surveys in one request, each treated exactly as its PUT."""

import jsonschema
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.surveys.conftest import body, new_uuid
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision


def _batch(api, items, **kwargs):
    return api.client.post("/api/v1/surveys/batch", json={"surveys": items},
                           headers={"X-CSRFToken": api.token} | kwargs.pop("headers", {}), **kwargs)


def _counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Survey.id))), db.session.scalar(select(func.count(SurveyRevision.id))))


def test_each_survey_gets_the_answer_its_put_would_get(api, world):
    api.login("surveyor-a")
    sent = new_uuid()
    assert api.put(sent, body(world.village_a, house_number="9组1号")).status_code == 201
    fresh, bad, outside = new_uuid(), new_uuid(), new_uuid()
    items = [
        {"uuid": fresh} | body(world.village_a, house_number="9组2号"),
        {"uuid": sent} | body(world.village_a, house_number="9组1号"),  # the same content again
        {"uuid": bad} | body(world.village_a, house_number="9组3号", floor_area_m2=-5),
        {"uuid": outside} | body(world.village_b, house_number="9组4号"),
        {"uuid": "not-a-uuid"} | body(world.village_a),
        "not an object",
    ]
    response = _batch(api, items)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 200, 422, 404, 404, 404]
    assert [r["uuid"] for r in results] == [fresh, sent, bad, outside, "not-a-uuid", None]
    assert results[0]["body"]["status"] == "submitted" and results[0]["body"]["revision"] == 1
    assert results[1]["body"]["revision"] == 1  # no new revision for the same content
    assert "floor_area_m2" in results[2]["body"]["errors"]
    # Only the new survey was written; the refused ones left nothing behind.
    assert _counts() == (2, 2)
    assert api.get(fresh).get_json()["answers"]["house_number"] == "9组2号"
    assert api.get(bad).status_code == 404


def test_answers_match_the_openapi_description(api, world):
    api.login("surveyor-a")
    document = api.client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"]["/surveys/batch"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    resolver_doc = {"components": document["components"]} | schema
    items = [{"uuid": new_uuid()} | body(world.village_a, house_number=f"8组{i}号") for i in range(3)]
    request_schema = document["paths"]["/surveys/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    jsonschema.validate({"surveys": items}, {"components": document["components"]} | request_schema)
    items.append({"uuid": new_uuid()} | body(world.village_a, status="submitted", residents=-1))
    answer = _batch(api, items).get_json()
    jsonschema.validate(answer, resolver_doc)
    assert [r["status"] for r in answer["results"]] == [201, 201, 201, 422]


def test_a_bad_batch_is_refused_whole_and_writes_nothing(api, world):
    api.login("surveyor-a")
    one = {"uuid": new_uuid()} | body(world.village_a)
    for payload in ({"surveys": []}, {"surveys": [one] * 21}, {"surveys": one}, {"surveys": [one], "x": 1}, [one]):
        response = api.client.post("/api/v1/surveys/batch", json=payload, headers={"X-CSRFToken": api.token})
        assert response.status_code == 400, payload
        assert response.get_json()["error"]
    assert _counts() == (0, 0)


def test_login_csrf_and_role_still_apply(api, client, world, auth):
    one = {"uuid": new_uuid()} | body(world.village_a)
    api.login("surveyor-a")
    assert client.post("/api/v1/surveys/batch", json={"surveys": [one]}).status_code == 400  # no CSRF token
    auth.post("/logout")
    assert _batch(api, [one]).status_code == 400  # the token died with the session
    fresh = csrf_token(client)
    assert client.post("/api/v1/surveys/batch", json={"surveys": [one]},
                       headers={"X-CSRFToken": fresh}).status_code == 401  # a valid token, but logged out
    api.login("viewer-a")
    results = _batch(api, [one]).get_json()["results"]
    assert results[0]["status"] == 403
    assert _counts() == (0, 0)
