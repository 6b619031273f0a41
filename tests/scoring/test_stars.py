"""Star levels: Q ≥ 60/70/85 with all prerequisites and every category at ≥ 30% of its maximum."""

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

from .factories import ONE_STAR, farmhouse


def score(base=ONE_STAR, **overrides):
    return score_farmhouse(farmhouse(base, **overrides), load_criteria())


def test_q_of_exactly_60_with_every_category_at_30_percent_earns_one_star():
    result = score()
    assert result.category_points == (50, 35, 30, 45, 30)
    assert result.bonus_points == 10
    assert result.total == 60.0
    assert result.stars == 1


def test_q_of_59_9_earns_no_star():
    # LED 133 of 150 lamps: 30 × (133/150 − 0.5) / 0.4 = 29 points instead of 30 → Q 59.9
    result = score(lamps_led=133, lamps_cfl=17)
    assert result.total == pytest.approx(59.9)
    assert all(c.floor_met for c in result.categories)
    assert result.stars == 0


def test_a_category_at_30_percent_allows_a_star():
    # D only from the LED share (30 of 100); appraisal B adds E4 20 → Q = 60.5
    result = score(electric_bike=False, safety_appraisal="B")
    assert result.category_points[3] == 30
    assert result.total == pytest.approx(60.5)
    assert result.stars == 1


def test_a_category_at_29_percent_blocks_the_stars_whatever_the_total():
    result = score(electric_bike=False, safety_appraisal="B", lamps_led=133, lamps_cfl=17)
    assert result.category_points[3] == pytest.approx(29)
    assert result.total == pytest.approx(60.4)
    assert not next(c for c in result.categories if c.id == "D").floor_met
    assert result.base_level is True
    assert result.stars == 0


@pytest.mark.parametrize("extra, total, stars", [
    # wall and windows add 50 → 65; timber instead of earth adds 30 → 68; AC grade 1 adds 20 → 70
    ({"wall_insulation": True, "efficient_windows": True}, 65.0, 1),
    ({"wall_insulation": True, "efficient_windows": True, "structure": "timber"}, 68.0, 1),
    ({"wall_insulation": True, "efficient_windows": True, "structure": "timber",
      "ac_label_grade": "1"}, 70.0, 2),
])
def test_two_stars_from_70(extra, total, stars):
    result = score(**extra)
    assert result.total == pytest.approx(total)
    assert result.stars == stars


THREE_STAR = dict(
    wall_insulation=True, efficient_windows=True, energy_design="no", primary_stove="electric",
    stove_chimney=None, structure="brick_concrete", smart_meter=False, pv_installed=True,
    pv_kwp=3, pv_mode="self_use_surplus", pv_location="roof", battery_kwh=5)


def test_three_stars_from_85():
    # A 25+25+25+10 = 85; B 50+10+15+10 = 85; C PV 40 + self-sufficiency 20 + 20 + 10 = 90;
    # D 30 + electric cooking 20 + 15 = 65; E 15 + 30 = 45;
    # bonus: zero carbon 50 (3285 kWh, 70% exported, avoids 1342 kg > 583.6 kg) + battery 10
    # + no fuel burnt 20 = 80 → (400 + 370 + 80) / 10 = 85
    result = score(**THREE_STAR)
    assert result.category_points == (85, 85, 90, 65, 45)
    assert result.bonus_points == 80
    assert result.total == 85.0
    assert result.stars == 3


def test_just_below_85_is_two_stars():
    result = score(**{**THREE_STAR, "battery_kwh": 0})
    assert result.total == 84.0
    assert result.stars == 2


def test_no_stars_without_the_base_level_even_with_a_high_total():
    result = score(wall_insulation=True, efficient_windows=True, structure="timber",
                   ac_label_grade="1", visible_danger=True)
    assert result.base_level is False
    assert result.stars == 0
