"""Text answers are valid Unicode without control characters: any text a client sends is either
stored exactly (after trimming) or refused with a 422 naming its field, through a PUT, a batch and
the pages; never a 500, and a refused survey in a batch does not stop the ones after it. No text
with a NUL character (which PostgreSQL refuses) reaches the database from a search or a form."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tests.surveys.conftest import body, new_uuid
from village_survey import survey_fields as sf
from village_survey.areas.models import Household
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision

TEXT_KEYS = ["head_name", "house_number", "notes", "phone"]
REFUSED = "Contains invisible control characters or broken text that cannot be stored. Please type it again."
# Any code point, lone surrogates and control characters included, and those often.
texts = st.text(st.one_of(st.characters(exclude_categories=()),
                          st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
                          st.characters(max_codepoint=0x1F), st.sampled_from("\x7f 王1-+")), max_size=45)
UNSTORABLE = {False: re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]"),
              True: re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")}
PHONE = re.compile(r"^[0-9+\- ]*$")
HYPOTHESIS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _refused_message(app):
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(REFUSED)


def _forget_surveys():
    """Each example starts without the surveys and households of the ones before."""
    db.session.rollback()
    for model in (SurveyRevision, Survey, Household):
        db.session.execute(delete(model))
    db.session.commit()


def _payload(world, key, text):
    answers = {"house_number": "7组1号", "head_name": "赵七", "notes": None} | {key: text}
    return body(world.village_a, status="draft", **answers)


def _expectation(key, text):
    """'unstorable', 'valid' or 'other' (refused or not for other reasons: length, a phone's digits)."""
    value = text.strip()  # the form's filter
    if UNSTORABLE[key == "notes"].search(value):
        return "unstorable"
    if len(value) > sf.FIELDS[key].max_length or (key == "phone" and not PHONE.match(value)):
        return "other"
    if not value and key in ("house_number", "head_name"):
        return "other"  # a new household needs both
    return "valid"


def _check(app, api, key, text, status, answer, survey_uuid):
    assert status in (201, 422), (status, answer)
    expected = _expectation(key, text)
    if status == 422:
        assert expected != "valid", answer
        assert key in answer["errors"] and set(answer["errors"]) == {key}
        if expected == "unstorable":
            assert answer["errors"][key] == [_refused_message(app)]
        return
    assert expected != "unstorable"
    stored = api.get(survey_uuid).get_json()["answers"]
    assert stored.get(key) == (text.strip() or None)


@HYPOTHESIS
@given(key=st.sampled_from(TEXT_KEYS), text=texts)
def test_any_text_answer_is_stored_exactly_or_refused_for_its_field(app, api, world, key, text):
    if api.token is None:
        api.login("surveyor-a")
    _forget_surveys()
    survey_uuid = new_uuid()
    response = api.put(survey_uuid, _payload(world, key, text))
    assert response.is_json
    _check(app, api, key, text, response.status_code, response.get_json(), survey_uuid)


@HYPOTHESIS
@given(key=st.sampled_from(TEXT_KEYS), text=texts)
def test_a_text_refused_in_a_batch_does_not_stop_the_surveys_after_it(app, api, world, key, text):
    if api.token is None:
        api.login("surveyor-a")
    _forget_surveys()
    first, after = new_uuid(), new_uuid()
    items = [{"uuid": first} | _payload(world, key, text),
             {"uuid": after} | body(world.village_a, status="draft", house_number="7组2号", head_name="钱八")]
    response = api.client.post("/api/v1/surveys/batch", json={"surveys": items}, headers={"X-CSRFToken": api.token})
    assert response.status_code == 200
    results = response.get_json()["results"]
    _check(app, api, key, text, results[0]["status"], results[0]["body"], first)
    assert results[1]["status"] == 201
    assert api.get(after).status_code == 200


@HYPOTHESIS
@given(text=texts)
def test_unstorable_text_anywhere_in_a_body_is_refused_without_a_500(api, world, text):
    if api.token is None:
        api.login("surveyor-a")
    payload = {"form_version": text, "year": text, "status": text, "village_id": text, text: text,
               "answers": {text: text, "residents": text, "structure": text, "survey_date": text}}
    assert api.put(new_uuid(), payload).status_code in (400, 404, 422)
    batch = api.client.post("/api/v1/surveys/batch", json={"surveys": [{"uuid": text} | payload]},
                            headers={"X-CSRFToken": api.token})
    assert batch.status_code == 200
    assert batch.get_json()["results"][0]["status"] in (400, 404, 422)


def test_a_lone_surrogate_is_refused_with_a_message_for_its_field(app, api, world):
    api.login("surveyor-a")
    response = api.put(new_uuid(), _payload(world, "head_name", "王\ud800"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"head_name": [_refused_message(app)]}


def test_a_control_character_is_refused_on_the_survey_page(app, auth, client, world):
    auth.login("surveyor-a")
    page = f"/surveys/new?village={world.village_a.id}"
    response = auth.post(page, {"survey_uuid": new_uuid(), "house_number": "7组3号", "head_name": "孙\x1b九",
                                "survey_date": "2026-03-01"}, token_from=page)
    assert response.status_code == 422
    assert _refused_message(app) in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Survey.id)) is None


SEARCHES = ["/areas/counties/?q=%00", "/areas/counties/{county}?q=%00", "/areas/townships/{township}?q=%00",
            "/areas/villages/{village}?q=%00", "/surveys/?village={village}&q=%00", "/admin/users/?q=%00",
            "/admin/areas/?q=%00", "/areas/villages/{village}?q=%E7%8E%8B%00"]


@pytest.mark.parametrize("search", SEARCHES)
def test_a_nul_character_in_a_search_is_refused(auth, client, world, search):
    auth.login("admin")
    path = search.format(county=world.county_a.id, township=world.township_a.id, village=world.village_a.id)
    assert client.get(path).status_code == 400
    assert client.get(path.replace("%00", "")).status_code == 200


def test_a_nul_character_in_a_form_is_refused(auth, client, world):
    auth.login("admin")
    response = auth.post("/admin/areas/county/new", {"code": "360499", "name": "新\x00县"},
                         token_from="/admin/areas/county/new")
    assert response.status_code == 400
    auth.post("/logout")
    auth.login("surveyor-a")
    page = f"/surveys/new?village={world.village_a.id}"
    response = auth.post(page, {"survey_uuid": new_uuid(), "house_number": "7组3号", "head_name": "孙\x00九"},
                         token_from=page)
    assert response.status_code == 400
    assert db.session.scalar(db.select(Survey.id)) is None


def test_notes_keep_their_line_breaks_and_tabs(api, world):
    api.login("surveyor-a")
    survey_uuid = new_uuid()
    notes = "第一行\r\n第二行\t（附注）"
    assert api.put(survey_uuid, _payload(world, "notes", notes)).status_code == 201
    assert api.get(survey_uuid).get_json()["answers"]["notes"] == notes
