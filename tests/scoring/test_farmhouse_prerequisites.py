"""Prerequisites P1–P4: each one met or not, by hand-picked answers, and what failing one costs."""

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

from .factories import PLAIN, farmhouse


def prerequisite(answers: dict, pid: str):
    result = score_farmhouse(answers, load_criteria())
    return next(p for p in result.prerequisites if p.id == pid)


def test_the_plain_farmhouse_meets_all_prerequisites_and_scores_40():
    result = score_farmhouse(PLAIN, load_criteria())
    assert [p.met for p in result.prerequisites] == [True, True, True, True]
    assert result.base_level is True
    assert result.total == 40.0
    assert result.stars == 0


def test_failing_one_prerequisite_drops_the_400_base_points_and_the_base_level():
    result = score_farmhouse(farmhouse(visible_danger=True), load_criteria())
    assert result.base_level is False
    assert result.total == 0.0


@pytest.mark.parametrize("danger, appraisal, met", [
    (False, "A", True), (False, "B", True), (False, "none", True),
    (False, "C", False), (False, "D", False), (True, "A", False),
])
def test_p1_safe_structure_needs_no_danger_and_no_c_or_d_appraisal(danger, appraisal, met):
    p1 = prerequisite(farmhouse(visible_danger=danger, safety_appraisal=appraisal), "P1")
    assert p1.met is met
    assert p1.code == ("P1.met" if met else "P1.not_met")
    assert p1.params == {"visible_danger": danger, "safety_appraisal": appraisal}


def test_p1_is_not_met_when_the_appraisal_is_not_answered():
    assert prerequisite(farmhouse(safety_appraisal=None), "P1").met is False


@pytest.mark.parametrize("overrides, met", [
    ({"grid_connected": True}, True),
    ({"grid_connected": False}, False),
    ({"grid_connected": False, "pv_installed": True, "pv_kwp": 3, "pv_mode": "off_grid",
      "supply_hours": 8, "evening_hours": 4}, True),
    ({"grid_connected": False, "pv_installed": True, "pv_kwp": 3, "pv_mode": "off_grid",
      "supply_hours": 7.5, "evening_hours": 4}, False),
    ({"grid_connected": False, "pv_installed": True, "pv_kwp": 3,
      "pv_mode": "self_use_surplus", "supply_hours": 24}, False),
])
def test_p2_reliable_electricity_is_the_grid_or_off_grid_pv_for_8_hours(overrides, met):
    assert prerequisite(farmhouse(**overrides), "P2").met is met


@pytest.mark.parametrize("stove, chimney, met", [
    ("traditional_wood", True, False), ("improved_wood", True, True),
    ("improved_wood", False, False), ("coal", False, False), ("coal", True, True),
    ("lpg", None, True), ("electric", None, True), ("biogas", None, True),
])
def test_p3_the_primary_stove_is_not_traditional(stove, chimney, met):
    assert prerequisite(farmhouse(primary_stove=stove, stove_chimney=chimney), "P3").met is met


def test_p3_an_improved_stove_without_a_chimney_answer_counts_as_traditional():
    assert prerequisite(farmhouse(primary_stove="improved_wood", stove_chimney=None), "P3").met is False


@pytest.mark.parametrize("led, cfl, incandescent, met", [
    (8, 0, 2, True), (4, 4, 2, True), (7, 0, 3, False), (0, 0, 1, False), (0, 0, 0, False),
])
def test_p4_efficient_lighting_needs_80_percent_led_or_cfl(led, cfl, incandescent, met):
    answers = farmhouse(lamps_led=led, lamps_cfl=cfl, lamps_incandescent=incandescent)
    assert prerequisite(answers, "P4").met is met


def test_a_failed_prerequisite_says_why_in_english():
    p4 = prerequisite(farmhouse(lamps_led=1, lamps_cfl=0, lamps_incandescent=9), "P4")
    assert p4.why.startswith("Efficient lighting: not met, fewer than 80% of lamps")
    assert p4.params == {"efficient_lamp_share": pytest.approx(0.1)}
