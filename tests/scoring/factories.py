"""Survey answers for scoring tests: a plain farmhouse whose score is worked out by hand, and
seeded random farmhouses with realistic variety."""

from __future__ import annotations

import random

# A farmhouse that meets every prerequisite and earns no category or bonus points:
#   P1 no danger, appraisal "none"; P2 grid; P3 coal stove with chimney; P4 10 CFL lamps.
#   Total Q = 400 / 10 = 40.0, no stars (every category is below 30%).
#   Carbon: 1000 kWh × 0.5836 = 583.6 kg CO2e; no fuel.
PLAIN = {
    "house_number": "12", "head_name": "王五", "residents": 3, "survey_date": "2025-05-10",
    "year_built": 2000, "storeys": 2, "floor_area_m2": 120, "structure": "earth",
    "safety_appraisal": "none", "visible_danger": False,
    "roof_insulation": False, "wall_insulation": False, "efficient_windows": False,
    "shading": False, "energy_design": "no", "green_materials": False,
    "electricity_kwh": 1000, "lpg_kg": 0, "piped_gas_m3": 0, "coal_kg": 0, "firewood_kg": 0,
    "straw_kg": 0, "biogas_m3": 0, "biogas_digester": "none",
    "primary_stove": "coal", "secondary_stove": "traditional_wood", "stove_chimney": True,
    "heating": "coal_brazier", "hot_water": "firewood", "ac_label_grade": "no_ac",
    "lamps_led": 0, "lamps_cfl": 10, "lamps_incandescent": 0,
    "grid_connected": True, "supply_hours": 12, "evening_hours": 4, "outages_per_week": 0,
    "outage_hours_per_week": 0, "voltage_damage": False,
    "electric_vehicle": False, "electric_bike": False, "electric_farm_machinery": False,
    "smart_meter": False, "pv_installed": False,
}

# Every category at 30% or more, Q = 60.0 exactly (one star):
#   A roof 25 + shading 10 + energy design 15 = 50; B secondary 10 + electric heater 15 + solar
#   hot water 10 = 35; C solar water heater 20 + working digester 10 = 30; D LED 90% 30 + e-bike
#   15 = 45; E green materials 30; bonus smart meter 10.  (400 + 200) / 10 = 60.
ONE_STAR = {
    **PLAIN,
    "roof_insulation": True, "shading": True, "energy_design": "yes",
    "secondary_stove": "electric", "heating": "electric_heater", "hot_water": "solar_thermal",
    "biogas_digester": "working",
    "lamps_led": 9, "lamps_cfl": 1, "electric_bike": True,
    "green_materials": True, "smart_meter": True,
}


def farmhouse(base: dict = PLAIN, **overrides) -> dict:
    """A copy of `base` with some answers changed; an override of None removes the answer."""
    answers = {**base, **overrides}
    return {k: v for k, v in answers.items() if v is not None}


STOVES = ("traditional_wood", "improved_wood", "coal", "lpg", "piped_gas", "biogas", "electric",
          "solar")


def random_farmhouse(rng: random.Random) -> dict:
    """A complete, valid farmhouse survey with realistic variety."""
    primary = rng.choice(STOVES)
    secondary = rng.choice([s for s in STOVES + ("none",) if s != primary])
    lamps = [rng.randint(0, 12), rng.randint(0, 5), rng.randint(0, 5)]
    if sum(lamps) == 0:
        lamps[1] = 1
    supply = rng.choice([24, 23, 18, 12, 6])
    answers = {
        "house_number": str(rng.randint(1, 500)), "head_name": "户主",
        "residents": rng.randint(0, 7), "survey_date": "2025-05-10",
        "year_built": rng.randint(1960, 2025), "storeys": rng.randint(1, 4),
        "floor_area_m2": rng.randint(40, 400),
        "structure": rng.choice(["brick_concrete", "frame", "prefab_steel", "light_steel",
                                 "timber", "earth", "stone", "other"]),
        "safety_appraisal": rng.choice(["A", "B", "C", "D", "none"]),
        "visible_danger": rng.random() < 0.1,
        "roof_insulation": rng.random() < 0.5, "wall_insulation": rng.random() < 0.4,
        "efficient_windows": rng.random() < 0.5, "shading": rng.random() < 0.5,
        "energy_design": rng.choice(["yes", "no", "unknown"]),
        "green_materials": rng.random() < 0.5,
        "electricity_kwh": rng.randint(0, 6000),
        "lpg_kg": rng.choice([0, 0, 45, 120]), "piped_gas_m3": rng.choice([0, 0, 200]),
        "coal_kg": rng.choice([0, 0, 0, 500]), "firewood_kg": rng.choice([0, 0, 800, 2500]),
        "straw_kg": rng.choice([0, 0, 300]), "biogas_m3": rng.choice([0, 0, 150]),
        "biogas_digester": rng.choice(["none", "working", "broken"]),
        "primary_stove": primary, "secondary_stove": secondary,
        "stove_chimney": rng.random() < 0.5,
        "heating": rng.choice(["none", "heat_pump_ac", "air_source_heat_pump", "electric_heater",
                               "biomass", "coal_brazier"]),
        "hot_water": rng.choice(["none", "solar_thermal", "heat_pump", "electric", "gas",
                                 "firewood"]),
        "ac_label_grade": rng.choice(["1", "2", "3", "4", "5", "no_ac", "unknown"]),
        "lamps_led": lamps[0], "lamps_cfl": lamps[1], "lamps_incandescent": lamps[2],
        "grid_connected": rng.random() < 0.95, "supply_hours": supply,
        "evening_hours": min(supply, rng.choice([2, 4, 6])),
        "outages_per_week": rng.choice([0, 2, 10, 20]),
        "outage_hours_per_week": rng.choice([0, 1, 5]),
        "voltage_damage": rng.random() < 0.1,
        "electric_vehicle": rng.random() < 0.2, "electric_bike": rng.random() < 0.5,
        "electric_farm_machinery": rng.random() < 0.2, "smart_meter": rng.random() < 0.5,
        "pv_installed": rng.random() < 0.35,
    }
    if answers["pv_installed"]:
        answers.update(pv_kwp=rng.choice([1.5, 3, 6, 12]), pv_year=2022,
                       pv_location=rng.choice(["roof", "courtyard", "farm_building"]),
                       pv_mode=rng.choice(["self_use_surplus", "all_to_grid", "off_grid"]),
                       battery_kwh=rng.choice([0, 5]))
    return answers
