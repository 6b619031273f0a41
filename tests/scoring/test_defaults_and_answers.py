"""What scoring assumed is said in defaults_used; answers are accepted as JSON or form values."""

from decimal import Decimal

import pytest

from village_survey.scoring import AnswerError, load_criteria, score_farmhouse, to_dict

from .factories import PLAIN, farmhouse


def defaults(**overrides) -> dict:
    result = score_farmhouse(farmhouse(**overrides), load_criteria())
    return {d.code: d for d in result.defaults_used}


def test_a_complete_survey_assumes_nothing():
    assert score_farmhouse(PLAIN, load_criteria()).defaults_used == ()


def test_unanswered_fuel_quantities_are_taken_as_zero_and_said_so():
    used = defaults(lpg_kg=None, straw_kg=None)
    assert used["fuel_missing_as_zero"].params == {"keys": ("lpg_kg", "straw_kg")}
    assert used["fuel_missing_as_zero"].why == (
        "Fuel quantities not answered, taken as 0: lpg_kg, straw_kg.")


def test_electricity_from_the_bill_is_said_so():
    used = defaults(electricity_kwh=None, electricity_bill_yuan_month=45)
    assert used["electricity_from_bill"].params["kwh"] == pytest.approx(900)
    assert "12 × 45 yuan ÷ 0.6 yuan/kWh = 900 kWh" in used["electricity_from_bill"].why


def test_no_electricity_answer_at_all_is_taken_as_zero_and_missing():
    used = defaults(electricity_kwh=None)
    assert "electricity_missing" in used
    assert used["answers_missing"].params["keys"] == ("electricity_bill_yuan_month",
                                                      "electricity_kwh")


def test_estimated_pv_generation_is_said_so():
    used = defaults(pv_installed=True, pv_kwp=2, pv_mode="all_to_grid", pv_location="roof")
    assert used["pv_generation_estimated"].params == {"kwp": 2, "pv_yield": 1095, "kwh": 2190}


def test_an_unanswered_pv_mode_is_taken_as_self_use_with_surplus():
    result = score_farmhouse(farmhouse(pv_installed=True, pv_kwp=2, pv_location="roof",
                                       pv_generation_kwh=1000), load_criteria())
    used = {d.code: d for d in result.defaults_used}
    assert used["pv_mode_assumed"].params == {"mode": "self_use_surplus", "share": 0.3}
    assert result.energy.pv_self_consumed_kwh == pytest.approx(300)
    # pv_year is required too, but scoring does not read it, so nothing was assumed about it
    assert used["answers_missing"].params["keys"] == ("pv_mode",)


def test_no_residents_is_said_so():
    assert "residents_zero" in defaults(residents=0)
    assert "residents_missing" in defaults(residents=None)


def test_a_required_answer_left_out_scores_nothing_and_is_listed():
    result = score_farmhouse(farmhouse(roof_insulation=None), load_criteria())
    used = {d.code: d for d in result.defaults_used}
    assert used["answers_missing"].params == {"keys": ("roof_insulation",)}
    a1 = result.categories[0].items[0]
    assert (a1.id, a1.points, a1.code) == ("A1", 0, "A1.not_answered")


def test_the_chimney_is_missing_only_when_the_stove_burns_wood_or_coal():
    assert "answers_missing" in defaults(stove_chimney=None)  # the plain house has a coal stove
    assert "answers_missing" not in defaults(stove_chimney=None, primary_stove="lpg")


def test_defaults_appear_in_the_json_result():
    data = to_dict(score_farmhouse(farmhouse(lpg_kg=None), load_criteria()))
    assert data["defaults_used"] == [{
        "code": "fuel_missing_as_zero", "params": {"keys": ["lpg_kg"]},
        "why": "Fuel quantities not answered, taken as 0: lpg_kg."}]


def test_form_strings_and_decimals_score_like_json_values():
    form = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in PLAIN.items()}
    form["electricity_kwh"] = Decimal("1000.0")
    assert to_dict(score_farmhouse(form, load_criteria())) == to_dict(
        score_farmhouse(PLAIN, load_criteria()))


def test_empty_strings_are_unanswered():
    result = score_farmhouse(farmhouse(lpg_kg="", shading=""), load_criteria())
    assert result.answers["lpg_kg"] is None
    assert result.answers["shading"] is None


@pytest.mark.parametrize("key, value", [
    ("residents", "three"), ("residents", True), ("roof_insulation", "maybe"),
    ("primary_stove", "Electric"), ("electricity_kwh", float("nan")), ("heating", ["none"]),
])
def test_a_value_that_cannot_be_the_keys_type_is_refused_by_name(key, value):
    with pytest.raises(AnswerError) as caught:
        score_farmhouse(farmhouse(**{key: value}), load_criteria())
    assert caught.value.key == key


def test_keys_scoring_does_not_read_are_ignored_and_not_kept():
    result = score_farmhouse(farmhouse(notes="啥都有", latitude=29.7, unknown_key=1),
                             load_criteria())
    assert "head_name" not in result.answers
    assert "unknown_key" not in result.answers
