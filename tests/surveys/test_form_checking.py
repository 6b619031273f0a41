"""The API checks answers with one SurveyAnswersForm per thread, refilled each time: no answer,
error or warning of one check may leak into the next."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.surveys.forms import SurveyAnswersForm, check_form, check_formdata, json_to_formdata

TODAY = dt.date(2026, 6, 1)

# Values near and beyond each key's limits, valid codes and junk, so checks differ a lot.
values = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(-1e4, 1e6),
                   st.sampled_from(["", "x", "2026-03-01", "2031-01-01", "brick_concrete", "lpg", "1", "A"]))
answer_sets = st.dictionaries(st.sampled_from(sf.FIELD_KEYS), values, max_size=20).map(
    lambda partial: {k: v for k, v in (complete_answers() | partial).items() if v is not None})


def _fresh(formdata, status, year):
    return check_form(SurveyAnswersForm(formdata=formdata, today=TODAY), status, year, TODAY)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(st.tuples(answer_sets, st.sampled_from(["draft", "submitted"])), min_size=2, max_size=4))
def test_a_reused_form_checks_like_a_new_one(app, sequence):
    with app.test_request_context():
        for answers, status in sequence:
            formdata, type_errors = json_to_formdata(answers)
            reused = check_formdata(formdata, status, 2026, TODAY)
            fresh = _fresh(formdata, status, 2026)
            assert (reused.answers, reused.errors, reused.warnings) == (fresh.answers, fresh.errors, fresh.warnings)


def test_answers_of_one_check_do_not_reach_the_next(app):
    with app.test_request_context():
        full, _ = json_to_formdata(complete_answers(floor_area_m2=-3))
        first = check_formdata(full, "submitted", 2026, TODAY)
        assert "floor_area_m2" in first.errors and first.answers["head_name"] == "王甲"
        second = check_formdata(json_to_formdata({"head_name": "李乙"})[0], "draft", 2026, TODAY)
        assert second.answers == {"head_name": "李乙"}
        assert second.errors == {} and second.warnings == {}
