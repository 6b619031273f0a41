"""Properties that hold for any survey answers the form allows (Hypothesis)."""

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from village_survey import survey_fields as sf
from village_survey.scoring import (
    evaluate_village, load_criteria, score_farmhouse, score_farmhouse_record, to_dict,
)

CRITERIA = load_criteria()
THIS_YEAR = dt.date.today().year


def value_of(field: sf.SurveyField):
    low, high = sf.allowed_range(field.key)
    if field.type == "bool":
        return st.booleans()
    if field.type == "code":
        return st.sampled_from(field.codes)
    if field.type in ("int", "year"):
        return st.integers(low if low is not None else 0, high if high is not None else 1000)
    if field.type == "decimal":
        return st.floats(low if low is not None else 0, high if high is not None else 1000,
                         allow_nan=False, allow_infinity=False)
    return st.just("2025-05-10" if field.type == "date" else "x")


# any subset of the form's keys, each with an allowed value: drafts and complete surveys
answers = st.fixed_dictionaries({}, optional={k: value_of(f) for k, f in sf.FIELDS.items()})
complete = st.fixed_dictionaries({k: value_of(f) for k, f in sf.FIELDS.items()})
pv = st.fixed_dictionaries(
    {"pv_installed": st.just(True), "pv_kwp": st.floats(0.1, 100),
     "pv_location": st.sampled_from(sf.codes_of("pv_location")),
     "pv_mode": st.sampled_from(sf.codes_of("pv_mode"))},
    optional={"pv_generation_kwh": st.floats(0, 200000), "battery_kwh": st.floats(0, 200)})


@settings(max_examples=300, deadline=None)
@given(answers)
def test_scores_stay_within_their_bounds(answers):
    result = score_farmhouse(answers, CRITERIA)
    assert 0 <= result.total <= 100
    assert result.stars in (0, 1, 2, 3)
    assert result.stars == 0 or result.base_level
    assert 0 <= result.mtf_tier <= 5
    for category in result.categories:
        assert 0 <= category.points <= category.max
        for item in category.items:
            assert 0 <= item.points <= item.max
    assert 0 <= result.bonus.points <= result.bonus.max
    share = result.energy.modern_renewable_share
    assert share is None or 0 <= share <= 1 + 1e-12


@settings(max_examples=300, deadline=None)
@given(answers)
def test_the_total_is_the_sum_of_its_parts_over_ten_capped_at_100(answers):
    result = score_farmhouse(answers, CRITERIA)
    parts = (400 if result.base_level else 0) + sum(c.points for c in result.categories)
    assert result.total == pytest.approx(min(100, (parts + result.bonus.points) / 10))
    assert result.base_level == all(p.met for p in result.prerequisites)


@settings(max_examples=300, deadline=None)
@given(complete, pv)
def test_adding_pv_never_lowers_the_total(answers, pv_answers):
    without = {**answers, "pv_installed": False}
    with_pv = {**answers, **pv_answers}
    assert (score_farmhouse(with_pv, CRITERIA).total
            >= score_farmhouse(without, CRITERIA).total - 1e-9)


@settings(max_examples=100, deadline=None)
@given(answers)
def test_scoring_is_deterministic_and_json_ready(answers):
    first = to_dict(score_farmhouse(answers, CRITERIA))
    json.dumps(first, ensure_ascii=False, allow_nan=False)
    assert to_dict(score_farmhouse(dict(answers), CRITERIA)) == first


@settings(max_examples=100, deadline=None)
@given(complete)
def test_form_strings_score_like_typed_values(answers):
    as_form = {k: (("true" if v else "false") if isinstance(v, bool) else repr(v)
                   if isinstance(v, float) else str(v)) for k, v in answers.items()}
    assert to_dict(score_farmhouse(as_form, CRITERIA)) == to_dict(score_farmhouse(answers, CRITERIA))


@settings(max_examples=50, deadline=None)
@given(st.lists(answers, min_size=0, max_size=25), st.integers(0, 60))
def test_village_scores_stay_within_0_and_100(surveys, registered):
    records = [score_farmhouse_record(a, CRITERIA) for a in surveys]
    evaluation = evaluate_village(records, registered or None, CRITERIA)
    assert evaluation.approved_surveys == len(surveys)
    for indicator in evaluation.indicators:
        assert 0 <= indicator.score <= 100
    assert evaluation.score is None or 0 <= evaluation.score <= 100
    assert sum(evaluation.star_counts) == len(surveys)
