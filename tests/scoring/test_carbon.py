"""Household energy and carbon, computed by hand from the factor table of CRITERIA.md."""

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

from .factories import farmhouse

# The factor table, copied from CRITERIA.md so that the test checks the file, not itself.
GRID = 0.5836  # kg CO2 / kWh, Jiangxi 2023
COAL, LPG, GAS = 1.9003, 3.1013, 2.1622  # kg CO2 per kg, kg, m³
HV = {"coal": 20.908, "lpg": 50.179, "gas": 38.931, "firewood": 16.7, "straw": 14.6,
      "biogas": 20.9}  # MJ per kg or m³
CH4_BIOMASS, N2O_BIOMASS = 300, 4  # kg / TJ
CH4_BIOGAS, N2O_BIOGAS = 5, 0.1
GWP_CH4, GWP_N2O = 28, 265
KGCE = {"electricity": 0.1229, "coal": 0.7143, "lpg": 1.7143, "gas": 1.2143, "firewood": 0.571,
        "straw": 0.500, "biogas": 0.714}
PV_YIELD = 1095  # kWh / kWp / year
TARIFF = 0.60  # yuan / kWh


def carbon(**overrides):
    result = score_farmhouse(farmhouse(**overrides), load_criteria())
    return result.carbon, result.energy


def carrier(energy, name):
    return next(c for c in energy.carriers if c.carrier == name)


def test_1000_kwh_bought_emit_583_6_kg():
    c, e = carbon(electricity_kwh=1000)
    assert c.gross_kgco2e == pytest.approx(583.6)
    assert c.net_kgco2e == pytest.approx(583.6)
    assert c.avoided_kgco2e == 0
    assert carrier(e, "grid_electricity").kgce == pytest.approx(1000 * KGCE["electricity"])


def test_100_kg_coal_emit_190_03_kg():
    c, e = carbon(electricity_kwh=0, coal_kg=100)
    assert c.gross_kgco2e == pytest.approx(190.03)
    coal = carrier(e, "coal")
    assert coal.kgce == pytest.approx(71.43)
    assert coal.kwh == pytest.approx(100 * 20.908 / 3.6)


def test_lpg_and_piped_gas_emit_their_fossil_co2():
    c, _ = carbon(electricity_kwh=0, lpg_kg=15, piped_gas_m3=100)
    assert c.gross_kgco2e == pytest.approx(15 * LPG + 100 * GAS)
    assert c.biogenic_co2_kg == 0


def test_firewood_counts_ch4_and_n2o_but_not_its_biogenic_co2():
    c, e = carbon(electricity_kwh=0, firewood_kg=500)
    tj = 500 * HV["firewood"] / 1e6  # 0.00835 TJ
    ch4, n2o = tj * CH4_BIOMASS, tj * N2O_BIOMASS  # 2.505 kg, 0.0334 kg
    assert ch4 == pytest.approx(2.505) and n2o == pytest.approx(0.0334)
    assert c.gross_kgco2e == pytest.approx(ch4 * GWP_CH4 + n2o * GWP_N2O)  # 78.99 kg
    assert c.gross_kgco2e == pytest.approx(78.991)
    assert c.ch4_kg == pytest.approx(ch4)
    assert c.biogenic_co2_kg == pytest.approx(tj * 112000)  # IPCC default for wood, memo item
    assert carrier(e, "firewood").kgce == pytest.approx(500 * KGCE["firewood"])


def test_straw_and_biogas_ch4_and_n2o():
    c, _ = carbon(electricity_kwh=0, straw_kg=200, biogas_m3=100)
    straw_tj = 200 * HV["straw"] / 1e6
    biogas_tj = 100 * HV["biogas"] / 1e6
    expected = (straw_tj * (CH4_BIOMASS * GWP_CH4 + N2O_BIOMASS * GWP_N2O)
                + biogas_tj * (CH4_BIOGAS * GWP_CH4 + N2O_BIOGAS * GWP_N2O))
    assert c.gross_kgco2e == pytest.approx(expected)
    assert c.gross_kgco2e == pytest.approx(27.6232 + 0.347985)


def test_a_monthly_bill_is_converted_at_the_tariff():
    c, e = carbon(electricity_kwh=None, electricity_bill_yuan_month=90)
    assert e.bought_kwh == pytest.approx(12 * 90 / TARIFF)  # 1800 kWh
    assert c.gross_kgco2e == pytest.approx(1800 * GRID)


def test_kwh_wins_over_the_bill_when_both_are_answered():
    _, e = carbon(electricity_kwh=1000, electricity_bill_yuan_month=90)
    assert e.bought_kwh == 1000


def test_pv_generation_is_estimated_from_capacity_and_exports_avoid_grid_emissions():
    c, e = carbon(pv_installed=True, pv_kwp=4, pv_mode="self_use_surplus", pv_location="roof")
    generation = 4 * PV_YIELD  # 4380 kWh
    self_used, exported = generation * 0.30, generation * 0.70
    assert e.pv_generation_kwh == pytest.approx(generation)
    assert e.pv_self_consumed_kwh == pytest.approx(self_used)
    assert e.pv_exported_kwh == pytest.approx(exported)
    assert e.use_kwh == pytest.approx(1000 + self_used)
    assert c.avoided_kgco2e == pytest.approx(exported * GRID)
    assert c.net_kgco2e == pytest.approx(1000 * GRID - exported * GRID)


@pytest.mark.parametrize("mode, share", [("self_use_surplus", 0.3), ("all_to_grid", 0.0),
                                         ("off_grid", 1.0)])
def test_the_self_use_share_follows_the_pv_mode(mode, share):
    _, e = carbon(pv_installed=True, pv_kwp=2, pv_mode=mode, pv_location="roof",
                  pv_generation_kwh=2000)
    assert e.pv_self_consumed_kwh == pytest.approx(2000 * share)
    assert e.pv_exported_kwh == pytest.approx(2000 * (1 - share))


def test_net_per_person_divides_by_residents():
    c, _ = carbon(residents=4)
    assert c.net_kgco2e_per_person == pytest.approx(583.6 / 4)


def test_a_house_without_residents_counts_as_one_person():
    c, _ = carbon(residents=0)
    assert c.persons == 1
    assert c.net_kgco2e_per_person == pytest.approx(583.6)


def test_modern_renewable_share_is_pv_self_use_and_biogas_over_final_energy_in_kgce():
    _, e = carbon(electricity_kwh=1000, firewood_kg=1000, biogas_m3=100, pv_installed=True,
                  pv_kwp=1, pv_mode="off_grid", pv_location="roof", pv_generation_kwh=500)
    renewable = 500 * KGCE["electricity"] + 100 * KGCE["biogas"]
    final = (1000 + 500) * KGCE["electricity"] + 1000 * KGCE["firewood"] + 100 * KGCE["biogas"]
    assert e.modern_renewable_kgce == pytest.approx(renewable)
    assert e.final_kgce == pytest.approx(final)
    assert e.modern_renewable_share == pytest.approx(renewable / final)


def test_traditional_biomass_is_not_modern_renewable():
    _, e = carbon(electricity_kwh=0, firewood_kg=2000, straw_kg=500)
    assert e.modern_renewable_kgce == 0
    assert e.modern_renewable_share == 0


def test_a_house_using_no_energy_has_no_renewable_share():
    _, e = carbon(electricity_kwh=0)
    assert e.final_kgce == 0
    assert e.modern_renewable_share is None


def test_zero_carbon_means_net_at_or_below_zero():
    # 1000 kWh bought; exports must avoid 583.6 kg: all-to-grid 1000 kWh avoids exactly that
    result = score_farmhouse(farmhouse(pv_installed=True, pv_kwp=1, pv_mode="all_to_grid",
                                       pv_location="roof", pv_generation_kwh=1000),
                             load_criteria())
    assert result.carbon.net_kgco2e == pytest.approx(0, abs=1e-9)
    assert result.zero_carbon is True
    result = score_farmhouse(farmhouse(pv_installed=True, pv_kwp=1, pv_mode="all_to_grid",
                                       pv_location="roof", pv_generation_kwh=999),
                             load_criteria())
    assert result.zero_carbon is False
