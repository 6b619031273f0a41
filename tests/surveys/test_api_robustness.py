"""No input makes a 500: Hypothesis throws arbitrary bodies at the API; the OpenAPI description holds."""

import datetime as dt
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from sqlalchemy import func, select

from tests.factories import complete_answers
from tests.surveys.conftest import body, new_uuid
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=50))
json_values = st.recursive(json_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)), max_leaves=10)

# Answers that look plausible: known keys with values of any JSON type, plus a few unknown keys.
answer_objects = st.dictionaries(st.one_of(st.sampled_from(sf.FIELD_KEYS), st.text(max_size=12)), json_values,
                                 max_size=12)
bodies = st.fixed_dictionaries({
    "form_version": st.one_of(st.just(1), json_scalars),
    "year": st.one_of(st.integers(1990, 2030), json_scalars),
    "status": st.one_of(st.sampled_from(["draft", "submitted", "approved"]), json_scalars),
    "answers": st.one_of(answer_objects, json_values),
}, optional={"village_id": st.one_of(st.integers(-5, 10**12), json_scalars),
             "household_id": st.one_of(st.integers(-5, 10**12), json_scalars),
             "extra": json_values})


def _counts():
    return (db.session.scalar(select(func.count(Survey.id))), db.session.scalar(select(func.count(SurveyRevision.id))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=bodies)
def test_no_body_makes_a_500_and_refusals_write_nothing(api, world, payload):
    if api.token is None:
        api.login("surveyor-a")
    before = _counts()
    response = api.put(new_uuid(), payload)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    db.session.expire_all()
    if response.status_code >= 400:
        assert _counts() == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_no_raw_bytes_make_a_500(api, world, raw):
    if api.token is None:
        api.login("surveyor-a")
    response = api.put(new_uuid(), raw=raw)
    assert response.status_code < 500


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sf.FIELD_KEYS), value=json_values)
def test_any_value_for_any_key_is_accepted_or_refused_with_a_message_for_that_key(api, world, key, value):
    if api.token is None:
        api.login("surveyor-a")
    payload = body(world.village_a, status="draft", household=world.household_a)
    payload["answers"][key] = value
    response = api.put(new_uuid(), payload)
    assert response.status_code in (200, 201, 409, 422), response.status_code
    if response.status_code == 422:
        assert key in response.get_json()["errors"]


def test_openapi_description_is_valid_and_served(client, world, auth):
    auth.login("surveyor-a")
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert set(document["components"]["schemas"]["Answers"]["properties"]) == set(sf.FIELD_KEYS)


def test_api_answers_match_the_openapi_schemas(api, world):
    api.login("surveyor-a")
    document = api.client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    def schema_of(name):
        return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}

    payload = body(world.village_a, household=world.household_a)
    jsonschema.validate(payload, schema_of("SurveyPut"))
    uuid = new_uuid()
    state = api.put(uuid, payload).get_json()
    jsonschema.validate(state, schema_of("SurveyState"))
    jsonschema.validate(api.get(uuid).get_json(), schema_of("SurveyState"))
    assert "Error" in schemas
    jsonschema.validate(api.get(new_uuid()).get_json(), schema_of("Error"))


def test_answers_schema_bounds_follow_the_data_dictionary():
    from village_survey.surveys.openapi import openapi_document

    answers = openapi_document(dt.date(2026, 5, 1))["components"]["schemas"]["Answers"]["properties"]
    assert answers["residents"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 30,
                                                "description": "persons"}
    assert answers["year_built"]["anyOf"][0]["maximum"] == 2026
    assert answers["structure"]["anyOf"][0]["enum"][0] == "brick_concrete"
    json.dumps(answers)


@pytest.mark.parametrize("key", ["village_id", "household_id"])
@pytest.mark.parametrize("ident", [0, -1, 2**31, 2**63, 10**20])
def test_ids_beyond_the_databases_range_name_nothing(api, world, key, ident):
    api.login("surveyor-a")
    before = _counts()
    response = api.put(new_uuid(), {"form_version": 1, "year": 2026, "status": "draft", key: ident,
                                    "answers": complete_answers()})
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert _counts() == before


batch_items = st.one_of(bodies.map(lambda b: b | {"uuid": new_uuid()}), bodies, json_values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.one_of(st.lists(batch_items, max_size=4), json_values))
def test_no_batch_makes_a_500_and_only_accepted_surveys_are_written(api, world, items):
    if api.token is None:
        api.login("surveyor-a")
    before = _counts()
    response = api.client.post("/api/v1/surveys/batch", json={"surveys": items},
                               headers={"X-CSRFToken": api.token})
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    db.session.expire_all()
    created = 0
    if response.status_code == 200:
        results = response.get_json()["results"]
        assert len(results) == len(items)
        created = sum(r["status"] == 201 for r in results)
    assert _counts()[0] == before[0] + created


def test_a_number_too_large_for_json_is_refused_not_stored_as_infinity(api, world):
    api.login("surveyor-a")
    for number in ("1e999", "1e400", "123456789"):
        text = json.dumps(body(world.village_a, gps_accuracy_m=0.5)).replace('"gps_accuracy_m": 0.5',
                                                                             f'"gps_accuracy_m": {number}')
        response = api.put(new_uuid(), raw=text)
        assert response.status_code == 422, number
        assert "gps_accuracy_m" in response.get_json()["errors"]
