"""Electricity supply tier by the Multi-Tier Framework: the lowest tier over the recorded
attributes (daily and evening hours, reliability, voltage quality)."""

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

from .factories import farmhouse


def tier(**overrides):
    return score_farmhouse(farmhouse(**overrides), load_criteria()).supply


@pytest.mark.parametrize("hours, evening, outages, outage_hours, damage, expected", [
    (24, 6, 0, 0, False, 5),
    (23, 4, 3, 1.5, False, 5),     # tier 5 needs ≥ 23 h, ≥ 4 evening, ≤ 3 outages < 2 h
    (23, 4, 3, 2, False, 4),       # outages totalling 2 h are not "< 2 h"
    (24, 6, 14, 10, False, 4),     # up to 14 outages a week still allow tier 4
    (24, 6, 15, 10, False, 3),     # more than 14: reliability stops at tier 3
    (24, 6, 0, 0, True, 3),        # voltage damage blocks tiers 4 and 5
    (22, 6, 0, 0, False, 4),       # 16 h ≤ 22 h < 23 h
    (16, 3, 0, 0, False, 3),       # evening 3 h
    (12, 6, 0, 0, False, 3),       # 8 h ≤ 12 h < 16 h
    (6, 2, 0, 0, False, 2),        # tiers 1 and 2 need 4 h a day; evening 2 h → 2
    (4, 1, 0, 0, False, 1),
    (3, 3, 0, 0, False, 0),
])
def test_household_tier(hours, evening, outages, outage_hours, damage, expected):
    supply = tier(supply_hours=hours, evening_hours=evening, outages_per_week=outages,
                  outage_hours_per_week=outage_hours, voltage_damage=damage)
    assert supply.tier == expected
    assert supply.tier == min(supply.daily, supply.evening, supply.reliability, supply.quality)


def test_each_attribute_reports_its_own_tier():
    supply = tier(supply_hours=20, evening_hours=2, outages_per_week=5, outage_hours_per_week=1,
                  voltage_damage=False)
    assert (supply.daily, supply.evening, supply.reliability, supply.quality) == (4, 2, 4, 5)


def test_unanswered_supply_hours_give_no_tier():
    assert tier(supply_hours=None).tier == 0


def test_unanswered_voltage_damage_cannot_reach_tier_4():
    assert tier(supply_hours=24, evening_hours=6, voltage_damage=None).tier == 3


def test_the_attributes_the_survey_does_not_record_are_named():
    assert tier().not_surveyed == ("capacity", "affordability", "legality", "safety")


def test_tier_4_earns_item_d5():
    result = score_farmhouse(farmhouse(supply_hours=16, evening_hours=4), load_criteria())
    assert result.mtf_tier == 4
    assert {i.id: i.points for c in result.categories for i in c.items}["D5"] == 15
