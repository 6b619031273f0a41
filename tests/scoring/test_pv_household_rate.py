"""The PV household rate of version 2 of jiujiang-2025: PV at any place the plan names (CRITERIA.md,
"Village level": the house roof, the courtyard, a farm building), broken down by `pv_location`.

Hand-worked villages of ten PLAIN farmhouses (no PV), some given PV. Version 1 (kept for the
evaluations finalized with it) counted roofs and farm buildings only.
"""

import pytest

from village_survey.scoring import (
    evaluate_areas, evaluate_village, evaluation_to_dict, load_criteria, score_farmhouse_record,
)

from .factories import PLAIN, farmhouse

PV = {"pv_installed": True, "pv_kwp": 2, "pv_year": 2023, "pv_mode": "self_use_surplus"}


def village(criteria, *locations, size=10):
    """`size` farmhouses: one with PV at each of `locations`, the others without PV."""
    answers = [farmhouse(PLAIN, **PV, pv_location=place) for place in locations]
    answers += [farmhouse(PLAIN)] * (size - len(locations))
    return [score_farmhouse_record(a, criteria) for a in answers]


def pv_indicator(evaluation, ident="pv_household_rate"):
    return next(i for i in evaluation.indicators if i.id == ident)


def test_the_indicator_is_the_pv_household_rate_in_both_languages():
    indicator = next(i for i in load_criteria().village.indicators if i.id == "pv_household_rate")
    assert (indicator.label_zh, indicator.label_en) == ("光伏农户比例", "PV household rate")
    assert (indicator.weight, indicator.target) == (15, 0.30)
    assert "rooftop_pv_rate" not in {i.id for i in load_criteria().village.indicators}


def test_a_courtyard_array_counts():
    # one roof and one courtyard array of ten: 2/10 = 20 %, score 100 × 0.2 / 0.3 = 66.67
    evaluation = evaluate_village(village(load_criteria(), "roof", "courtyard"), 10, load_criteria())
    indicator = pv_indicator(evaluation)
    assert indicator.value == pytest.approx(0.2)
    assert indicator.score == pytest.approx(200 / 3)


def test_version_1_left_the_courtyard_out():
    old = load_criteria("jiujiang-2025", version=1)
    indicator = pv_indicator(evaluate_village(village(old, "roof", "courtyard"), 10, old),
                             "rooftop_pv_rate")
    assert indicator.value == pytest.approx(0.1)
    assert indicator.score == pytest.approx(100 / 3)


def test_no_pv_does_not_count():
    evaluation = evaluate_village(village(load_criteria()), 10, load_criteria())
    indicator = pv_indicator(evaluation)
    assert indicator.value == 0
    assert indicator.score == 0
    assert dict(indicator.breakdown) == {"roof": 0, "courtyard": 0, "farm_building": 0}


def test_pv_installed_without_its_place_is_not_counted():
    # what was not answered earns nothing: the place is what the indicator asks
    criteria = load_criteria()
    records = [score_farmhouse_record(farmhouse(PLAIN, **PV), criteria)] * 10
    indicator = pv_indicator(evaluate_village(records, 10, criteria))
    assert indicator.value == 0
    assert sum(n for _code, n in indicator.breakdown) == 0


def test_the_households_are_broken_down_by_where_their_pv_is():
    criteria = load_criteria()
    records = village(criteria, "roof", "roof", "courtyard", "farm_building", "roof")
    indicator = pv_indicator(evaluate_village(records, 10, criteria))
    assert indicator.value == pytest.approx(0.5)
    assert indicator.breakdown_key == "pv_location"
    assert indicator.breakdown == (("roof", 3), ("courtyard", 1), ("farm_building", 1))
    # the other indicators have no breakdown
    assert all(i.breakdown is None for i in evaluate_village(records, 10, criteria).indicators
               if i.id != "pv_household_rate")


def test_areas_pool_the_breakdown_of_their_villages():
    criteria = load_criteria()
    found = evaluate_areas([("v1", 10, village(criteria, "roof", "courtyard")),
                            ("v2", 10, village(criteria, "courtyard", "farm_building", "roof"))],
                           {"v1": ("t", "c"), "v2": ("t", "c")}, criteria)
    for area in (found.townships["t"], found.counties["c"], found.city):
        indicator = pv_indicator(area)
        assert indicator.value == pytest.approx(5 / 20)
        assert indicator.breakdown == (("roof", 2), ("courtyard", 2), ("farm_building", 1))


def test_the_breakdown_is_in_the_plain_results_and_absent_where_there_is_none():
    criteria = load_criteria()
    plain = evaluation_to_dict(evaluate_village(village(criteria, "courtyard"), 10, criteria))
    pv = next(i for i in plain["indicators"] if i["id"] == "pv_household_rate")
    assert pv["breakdown_key"] == "pv_location"
    assert pv["breakdown"] == [{"code": "roof", "count": 0}, {"code": "courtyard", "count": 1},
                               {"code": "farm_building", "count": 0}]
    assert all("breakdown" not in i for i in plain["indicators"] if i["id"] != "pv_household_rate")
    # version 1's results keep the form they were stored in: no breakdown anywhere
    old = load_criteria("jiujiang-2025", version=1)
    stored = evaluation_to_dict(evaluate_village(village(old, "courtyard"), 10, old))
    assert all("breakdown" not in i for i in stored["indicators"])
