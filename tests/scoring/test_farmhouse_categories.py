"""Categories A–E and the bonus, worked by hand from CRITERIA.md's points table."""

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

from .factories import PLAIN, farmhouse


def score(**overrides):
    return score_farmhouse(farmhouse(**overrides), load_criteria())


def category(result, cid):
    return next(c for c in result.categories if c.id == cid)


def item_points(result, cid) -> dict:
    return {i.id: i.points for i in category(result, cid).items}


def test_the_plain_farmhouse_earns_no_category_or_bonus_points():
    result = score_farmhouse(PLAIN, load_criteria())
    assert result.category_points == (0, 0, 0, 0, 0)
    assert result.bonus_points == 0


def test_a_envelope_points_add_up_by_measure():
    result = score(roof_insulation=True, efficient_windows=True, shading=True)
    assert item_points(result, "A") == {"A1": 25, "A2": 0, "A3": 25, "A4": 10, "A5": 0}
    assert category(result, "A").points == 60


def test_a_envelope_full_marks():
    result = score(roof_insulation=True, wall_insulation=True, efficient_windows=True,
                   shading=True, energy_design="yes")
    assert category(result, "A").points == 100


def test_a5_a_retrofit_year_counts_like_the_energy_design():
    assert item_points(score(retrofit_year=2019), "A")["A5"] == 15
    assert item_points(score(energy_design="yes"), "A")["A5"] == 15
    assert item_points(score(energy_design="unknown"), "A")["A5"] == 0


@pytest.mark.parametrize("stove, chimney, points", [
    ("electric", None, 50), ("solar", None, 50), ("lpg", None, 40), ("piped_gas", None, 40),
    ("biogas", None, 40), ("improved_wood", True, 20), ("improved_wood", False, 0),
    ("coal", True, 0), ("traditional_wood", True, 0),
])
def test_b1_primary_stove_points(stove, chimney, points):
    result = score(primary_stove=stove, stove_chimney=chimney)
    assert item_points(result, "B")["B1"] == points


def test_b_clean_cooking_and_heating_worked_example():
    # electric 50 + secondary LPG 10 + electric heater 15 + electric hot water 5 = 80
    result = score(primary_stove="electric", stove_chimney=None, secondary_stove="lpg",
                   heating="electric_heater", hot_water="electric")
    assert item_points(result, "B") == {"B1": 50, "B2": 10, "B3": 15, "B4": 5}
    assert category(result, "B").points == 80


@pytest.mark.parametrize("heating, points", [
    ("none", 30), ("heat_pump_ac", 30), ("air_source_heat_pump", 30), ("electric_heater", 15),
    ("biomass", 10), ("coal_brazier", 0),
])
def test_b3_heating_points(heating, points):
    assert item_points(score(heating=heating), "B")["B3"] == points


def test_b2_no_secondary_stove_is_not_a_traditional_one():
    assert item_points(score(secondary_stove="none"), "B")["B2"] == 10
    assert item_points(score(secondary_stove="traditional_wood"), "B")["B2"] == 0


def test_c_renewables_worked_example():
    # 1.5 kWp (half of 3 kWp) = 20; generation 1.5 × 1095 = 1642.5 kWh, self-use 30% = 492.75;
    # use = 1000 + 492.75; self-sufficiency = 1642.5 / 1492.75 > 1 → 20; solar water 20;
    # working digester 10; heat pump (heating) 10
    result = score(pv_installed=True, pv_kwp=1.5, pv_year=2022, pv_location="roof",
                   pv_mode="self_use_surplus", hot_water="solar_thermal",
                   biogas_digester="working", heating="heat_pump_ac")
    assert item_points(result, "C") == {"C1": 20, "C2": 20, "C3": 20, "C4": 10, "C5": 10}
    assert category(result, "C").points == 80


def test_c1_pv_capacity_is_linear_up_to_3_kwp():
    points = [item_points(score(pv_installed=True, pv_kwp=kwp, pv_mode="all_to_grid",
                                pv_location="roof"), "C")["C1"] for kwp in (0.75, 3, 12)]
    assert points == [pytest.approx(10), 40, 40]


def test_c2_pv_self_sufficiency_is_generation_over_use():
    # all to grid: S = 0, U = B = 4000; G = 1000 → 25% → 5 points
    result = score(electricity_kwh=4000, pv_installed=True, pv_kwp=1, pv_mode="all_to_grid",
                   pv_location="roof", pv_generation_kwh=1000)
    assert result.measures["pv_self_sufficiency"] == pytest.approx(0.25)
    assert item_points(result, "C")["C2"] == pytest.approx(5)


def test_c_without_pv_earns_no_pv_points_even_if_a_capacity_is_answered():
    result = score(pv_installed=False, pv_kwp=5)
    assert item_points(result, "C")["C1"] == 0
    assert result.energy.pv_generation_kwh == 0


def test_d_electrification_worked_example():
    # LED 7 of 10 = 70% → 30 × (0.7 − 0.5) / 0.4 = 15; electric cooking 20; AC grade 2 20;
    # e-bike 15; tier 5 (24 h, 6 evening, no outages, no damage) 15 → 85
    result = score(lamps_led=7, lamps_cfl=3, primary_stove="electric", stove_chimney=None,
                   ac_label_grade="2", electric_bike=True, supply_hours=24, evening_hours=6)
    assert item_points(result, "D") == {"D1": pytest.approx(15), "D2": 20, "D3": 20, "D4": 15,
                                        "D5": 15}
    assert category(result, "D").points == pytest.approx(85)


@pytest.mark.parametrize("led, points", [(5, 0), (4, 0), (9, 30), (10, 30), (6, 7.5)])
def test_d1_led_share_scores_from_50_to_90_percent(led, points):
    result = score(lamps_led=led, lamps_cfl=10 - led)
    assert item_points(result, "D")["D1"] == pytest.approx(points)


def test_d3_the_ac_grade_may_come_as_a_number():
    assert item_points(score(ac_label_grade=1), "D")["D3"] == 20
    assert item_points(score(ac_label_grade="3"), "D")["D3"] == 0


def test_e_materials_worked_example():
    # light steel 30; green materials 30; built 2016 to the energy design 20; appraisal A 20
    result = score(structure="light_steel", green_materials=True, year_built=2016,
                   energy_design="yes", safety_appraisal="A")
    assert item_points(result, "E") == {"E1": 30, "E2": 30, "E3": 20, "E4": 20}


@pytest.mark.parametrize("structure, points", [
    ("prefab_steel", 30), ("timber", 30), ("brick_concrete", 15), ("frame", 15), ("stone", 0),
    ("other", 0),
])
def test_e1_structure_points(structure, points):
    assert item_points(score(structure=structure), "E")["E1"] == points


def test_e3_built_before_2013_needs_a_retrofit():
    assert item_points(score(year_built=2012, energy_design="yes"), "E")["E3"] == 0
    assert item_points(score(year_built=2013, energy_design="yes"), "E")["E3"] == 20
    assert item_points(score(year_built=1990, retrofit_year=2020), "E")["E3"] == 20


def test_bonus_items_and_their_points():
    # 10 kWp all to grid: G = 10950, X = 10950, avoided 6390.4 > 583.6 → zero carbon 50;
    # battery 10; electric cooking and heating, no fuel → 20; smart meter 10 = 90
    result = score(pv_installed=True, pv_kwp=10, pv_mode="all_to_grid", pv_location="roof",
                   battery_kwh=5, primary_stove="electric", stove_chimney=None,
                   secondary_stove="none", heating="heat_pump_ac", hot_water="heat_pump",
                   smart_meter=True)
    bonus = {i.id: i.points for i in result.bonus.items}
    assert bonus == {"X1": 50, "X2": 10, "X3": 20, "X4": 0, "X5": 10}
    assert result.bonus.points == 90
    assert result.zero_carbon is True


def test_bonus_biogas_needs_a_working_digester_and_a_biogas_stove():
    result = score(biogas_digester="working", secondary_stove="biogas", biogas_m3=100)
    assert {i.id: i.points for i in result.bonus.items}["X4"] == 10
    result = score(biogas_digester="broken", secondary_stove="biogas", biogas_m3=100)
    assert {i.id: i.points for i in result.bonus.items}["X4"] == 0


def test_no_fuel_burnt_fails_with_any_fuel_quantity():
    electric = dict(primary_stove="electric", stove_chimney=None, secondary_stove="none",
                    heating="none", hot_water="solar_thermal")
    assert {i.id: i.points for i in score(**electric).bonus.items}["X3"] == 20
    assert {i.id: i.points for i in score(**electric, lpg_kg=15).bonus.items}["X3"] == 0


def test_the_bonus_is_capped_at_its_maximum(tmp_path):
    from village_survey.scoring import load_criteria_file
    from village_survey.scoring.criteria import CRITERIA_DIR
    text = (CRITERIA_DIR / "jiujiang-2025.toml").read_text(encoding="utf-8")
    path = tmp_path / "capped.toml"
    path.write_text(text.replace("cap = 100\n\n[[bonus.items]]", "cap = 15\n\n[[bonus.items]]"),
                    encoding="utf-8")
    result = score_farmhouse(farmhouse(smart_meter=True, pv_installed=True, pv_kwp=1,
                                       pv_mode="off_grid", pv_location="roof", battery_kwh=2),
                             load_criteria_file(path))
    assert result.bonus.raw_points == 20
    assert result.bonus.points == 15
    assert result.total == pytest.approx((400 + sum(result.category_points) + 15) / 10)


def test_total_is_prerequisites_plus_categories_plus_bonus_over_ten():
    result = score(roof_insulation=True, primary_stove="electric", stove_chimney=None,
                   smart_meter=True)
    # A 25, B 50, D electric cooking 20, bonus 10
    assert result.category_points == (25, 50, 0, 20, 0)
    assert result.total == pytest.approx((400 + 25 + 50 + 20 + 10) / 10)
