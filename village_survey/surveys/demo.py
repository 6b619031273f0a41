"""Reproducible demo surveys of rural Jiujiang: realistic answers, statuses and revisions, bulk inserted.

A household's situation is drawn once (`draw_profile`) and turned back a year at a time
(`earlier_profile`: the PV not yet installed, the old stove still in use, ...), so that a
household's surveys of two years resemble each other as real ones do; `render_answers` adds what
changes every year (survey date, meter readings, outages). `demo_answers` does both for one year.
`seed_demo_surveys` writes the surveys and their revisions with bulk inserts, because the whole
demo (about 7,800 households, two years) must seed in seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuid_module
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import insert, select

from village_survey import survey_fields as sf
from village_survey.geo.boundaries import boundary as geo_boundary
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision
from village_survey.surveys.services import _changes, content_hash

# Factors of the Jiujiang criteria (scoring/criteria/jiujiang-2025.toml), so that bills and PV
# generation in the demo agree with what the scoring converts them back to.
TARIFF_YUAN_PER_KWH = 0.60
PV_YIELD_KWH_PER_KWP = 1095
LPG_BOTTLE_KG = sf.alt_unit_size("lpg_kg", "bottle")
WOOD_OR_COAL_STOVES = sf.WHEN_WOOD_OR_COAL_STOVE.when_values
PV_KEYS = ("pv_kwp", "pv_year", "pv_location", "pv_mode", "pv_generation_kwh", "battery_kwh")
MINUTE, HOUR, DAY = 1, 60, 24 * 60

# Rough centre of each county-level unit's countryside and its landscape, which shifts the mix:
# the hills burn more wood and have old earth and timber houses, the Poyang lake plain has the
# most rooftop PV and straw, the districts round the city have piped gas and newer houses.
COUNTY_PLACES = {
    "360402": (29.62, 115.98, "suburban"),  # 濂溪区
    "360403": (29.733, 115.985, "suburban"),  # 浔阳区
    "360404": (29.60, 115.85, "suburban"),  # 柴桑区
    "360423": (29.26, 115.10, "hill"),  # 武宁县
    "360424": (29.03, 114.55, "hill"),  # 修水县
    "360425": (29.02, 115.81, "lake"),  # 永修县
    "360426": (29.31, 115.76, "hill"),  # 德安县
    "360428": (29.27, 116.20, "lake"),  # 都昌县
    "360429": (29.73, 116.25, "lake"),  # 湖口县
    "360430": (29.85, 116.55, "lake"),  # 彭泽县
    "360481": (29.67, 115.67, "hill"),  # 瑞昌市
    "360482": (29.25, 115.80, "suburban"),  # 共青城市
    "360483": (29.45, 116.04, "lake"),  # 庐山市
}
DEFAULT_PLACE = (29.45, 115.90, "lake")

# Rural households have shrunk: many are elderly couples whose children work in the cities.
# 0 (an empty house) and 12 are allowed but unusual, so the form warns about them.
RESIDENTS = {0: 0.5, 1: 12, 2: 28, 3: 19, 4: 17, 5: 12, 6: 7, 7: 2.5, 8: 1.5, 9: 0.3, 10: 0.2, 12: 0.2}
STRUCTURES = {
    "suburban": {"brick_concrete": 80, "frame": 12, "light_steel": 3, "prefab_steel": 1, "timber": 1,
                 "earth": 1, "stone": 0.5, "other": 1.5},
    "lake": {"brick_concrete": 84, "frame": 7, "light_steel": 2, "prefab_steel": 1, "timber": 1.5,
             "earth": 2.5, "stone": 0.5, "other": 1.5},
    "hill": {"brick_concrete": 76, "frame": 5, "light_steel": 2, "prefab_steel": 0.5, "timber": 6,
             "earth": 6, "stone": 3, "other": 1.5},
}
# (earliest, most frequent, latest or None for "last year") year built of each structure.
BUILT = {
    "earth": (1930, 1978, 1998), "timber": (1920, 1975, 2000), "stone": (1940, 1980, 2000),
    "brick_concrete": (1982, 2008, None), "frame": (1998, 2016, None),
    "light_steel": (2012, 2021, None), "prefab_steel": (2010, 2019, None), "other": (1960, 2000, None),
}
TRADITIONAL_STRUCTURES = ("earth", "timber", "stone")
STOREYS = {
    "brick_concrete": {1: 12, 2: 44, 3: 36, 4: 7, 5: 1},
    "frame": {2: 30, 3: 45, 4: 20, 5: 4, 6: 1},
    "light_steel": {1: 40, 2: 50, 3: 10},
    "prefab_steel": {1: 40, 2: 50, 3: 10},
}
LOW_STOREYS = {1: 60, 2: 40}

# About 55 % electric or induction, 25 % LPG, 10 % improved and 7 % traditional wood stoves over
# the county mix; piped gas only reaches the villages next to the city.
PRIMARY_STOVES = {
    "suburban": {"electric": 58, "lpg": 24, "piped_gas": 7, "improved_wood": 6,
                 "traditional_wood": 3.5, "coal": 1, "biogas": 0.5},
    "lake": {"electric": 56, "lpg": 26, "improved_wood": 9, "traditional_wood": 6, "coal": 1.5,
             "biogas": 1.5},
    "hill": {"electric": 50, "lpg": 24, "improved_wood": 14, "traditional_wood": 9.5, "coal": 2,
             "biogas": 0.5},
}
# Many keep the big wood stove (土灶) for festivals and pig feed beside the everyday one.
SECONDARY_STOVES = {
    "electric": {"none": 37, "lpg": 34, "improved_wood": 14, "traditional_wood": 11, "biogas": 1,
                 "coal": 1, "piped_gas": 1, "solar": 1},
    "lpg": {"none": 30, "electric": 52, "improved_wood": 9, "traditional_wood": 8, "coal": 1},
    "piped_gas": {"none": 40, "electric": 58, "lpg": 2},
    "improved_wood": {"none": 22, "electric": 52, "lpg": 24, "coal": 2},
    "traditional_wood": {"none": 30, "electric": 45, "lpg": 23, "coal": 2},
    "coal": {"none": 30, "electric": 40, "lpg": 25, "improved_wood": 5},
    "biogas": {"none": 10, "electric": 45, "lpg": 40, "improved_wood": 5},
}
CHIMNEY_SHARE = {"traditional_wood": 0.55, "improved_wood": 0.97, "coal": 0.65}
# Most digesters of the 2000s programmes have been abandoned.
DIGESTERS = {
    "suburban": {"none": 90, "broken": 8, "working": 2},
    "lake": {"none": 82, "broken": 13, "working": 5},
    "hill": {"none": 84, "broken": 12, "working": 4},
}
HEATING = {
    "suburban": {"heat_pump_ac": 50, "none": 18, "electric_heater": 20, "biomass": 3,
                 "coal_brazier": 4, "air_source_heat_pump": 5},
    "lake": {"heat_pump_ac": 45, "none": 20, "electric_heater": 20, "biomass": 5,
             "coal_brazier": 6, "air_source_heat_pump": 4},
    "hill": {"heat_pump_ac": 38, "none": 20, "electric_heater": 20, "biomass": 12,
             "coal_brazier": 8, "air_source_heat_pump": 2},
}
HOT_WATER = {"solar_thermal": 34, "electric": 30, "gas": 14, "heat_pump": 6, "firewood": 9, "none": 7}
AC_GRADES = {"1": 28, "2": 26, "3": 22, "4": 3, "5": 2, "unknown": 19}
OUTAGES = {
    "suburban": {0: 88, 1: 9, 2: 2, 3: 1},
    "lake": {0: 82, 1: 11, 2: 4, 3: 2, 5: 0.7, 8: 0.3},
    "hill": {0: 74, 1: 15, 2: 6, 3: 3, 5: 1.5, 8: 0.5},
}
# Rooftop PV spread with the 2021 "whole county" programme, most on the lake plain.
PV_SHARE = {"suburban": 0.24, "lake": 0.30, "hill": 0.18}
PV_MODES = {"self_use_surplus": 52, "all_to_grid": 44, "off_grid": 4}
# Number of panels: leased roofs feeding the grid are filled, self-use systems are smaller.
PANELS = {"self_use_surplus": (8, 20), "all_to_grid": (22, 54), "off_grid": (8, 12)}
PV_LOCATIONS = {"roof": 84, "courtyard": 7, "farm_building": 9}
METERING = {"kwh": 78, "bill": 20, "both": 2}
# Electricity a year (kWh) that a use adds to a household's base consumption.
ELECTRIC_USES = (
    ("primary_stove", "electric", 600), ("secondary_stove", "electric", 200),
    ("heating", "heat_pump_ac", 450), ("heating", "air_source_heat_pump", 900),
    ("heating", "electric_heater", 300), ("hot_water", "electric", 500), ("hot_water", "heat_pump", 300),
    ("electric_vehicle", True, 1500), ("electric_farm_machinery", True, 400),
)
# The share of a year's surveys a household may have changed since the year before.
STOVE_BEFORE = {
    "electric": (0.09, {"lpg": 7, "improved_wood": 3}),
    "lpg": (0.06, {"traditional_wood": 1}),
    "improved_wood": (0.15, {"traditional_wood": 1}),
}
# A survey still on the phone or waiting for review was made in the last weeks of the season.
RECENT_DAYS = {"draft": 20, "submitted": 40}
# An answer first sent wrong, returned by the reviewer and corrected: (key, wrong value, comment).
FIXES = (
    ("residents", lambda v: v + 2, "常住人口与户籍登记不一致，请核实。"),
    ("floor_area_m2", lambda v: round(v * 1.6), "建筑面积偏大，请核实是否含附属用房。"),
    ("pv_kwp", lambda v: round(v * 10, 2), "请补充光伏装机容量的依据（铭牌或并网合同照片），疑似多输一位。"),
    ("electricity_kwh", lambda v: v * 10, "年用电量疑似多输一位，请按电费单核实。"),
)
FIXED_SHARE = 0.06


@dataclass(frozen=True)
class DemoHousehold:
    """What the demo needs of a household: its id, its village's code and its personal data."""

    id: int
    village_code: str
    house_number: str
    head_name: str
    phone: str | None = None


@dataclass(frozen=True)
class Profile:
    """A household's situation in a year: the answers that carry over, and the facts behind the figures."""

    landscape: str
    home: tuple[float, float] | None  # where the house is; None when the phone had no GPS fix
    metering: str  # how the electricity is answered: "kwh", "bill" or "both"
    stable: dict = field(default_factory=dict)


@dataclass(frozen=True)
class YearPlan:
    """A survey year of the demo: the share of a village's households surveyed and the status mix."""

    year: int
    coverage: float
    statuses: dict


@dataclass(frozen=True)
class Step:
    """One revision of a demo survey."""

    status: str
    user_id: int | None
    at: dt.datetime
    changes: dict
    comment: str | None = None


def _pick(rng, weights):
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _round_to(value, step):
    return int(step * round(value / step))


def _number(value):
    """A decimal answer as the API stores it: an int when integral, else a float."""
    return int(value) if float(value).is_integer() else float(value)


# ---------------------------------------------------------------- the household's situation


def _village_place(village_code):
    centre_lat, centre_lon, landscape = COUNTY_PLACES.get((village_code or "")[:6], DEFAULT_PLACE)
    lat, lon = centre_lat, centre_lon
    if village_code:
        # Seeded by the code alone, so a village stays in its place whatever else is generated;
        # drawn again until it lies within its county, more than a household's spread (~1 km)
        # from the border, as real villages do (else the review flags every farmhouse).
        spot = random.Random(village_code)
        county = geo_boundary(village_code[:6])
        for attempt in range(400):
            if county is None or attempt < 50:
                lat, lon = centre_lat + spot.uniform(-0.12, 0.12), centre_lon + spot.uniform(-0.15, 0.15)
            else:  # a small or oddly shaped county: anywhere within its outline's box
                west, south, east, north = county.bbox
                lat, lon = spot.uniform(south, north), spot.uniform(west, east)
            if county is None or (county.contains(lat, lon) and county.distance_to_edge_m(lat, lon) > 1500):
                break
    return lat, lon, landscape


def _year_built(rng, structure, year):
    low, mode, high = BUILT[structure]
    high = min(high or year - 1, year - 1)
    low = min(low, high)
    return round(rng.triangular(low, high, min(mode, high)))


def _safety(rng, structure, age):
    if structure in TRADITIONAL_STRUCTURES or age > 35:
        weights = {"A": 3, "B": 30, "C": 35, "D": 8, "none": 24}
    elif age > 15:
        weights = {"A": 20, "B": 52, "C": 8, "D": 1, "none": 19}
    else:
        weights = {"A": 55, "B": 28, "C": 1, "none": 16}
    appraisal = _pick(rng, weights)
    danger = appraisal == "D" or (appraisal == "C" and rng.random() < 0.4) or rng.random() < 0.01
    return {"safety_appraisal": appraisal, "visible_danger": danger}


def _measures(rng, structure, year_built, year):
    new = year_built >= 2012
    answers = {
        "roof_insulation": rng.random() < (0.35 if new else 0.18),
        "wall_insulation": rng.random() < (0.15 if new else 0.05),
        "efficient_windows": rng.random() < (0.55 if new else 0.25),
        "shading": rng.random() < (0.75 if structure in TRADITIONAL_STRUCTURES else 0.55),
        "energy_design": _pick(rng, {"yes": 20, "no": 40, "unknown": 40} if year_built >= 2015
                               else {"yes": 3, "no": 55, "unknown": 42}),
        "green_materials": rng.random() < (0.5 if structure in TRADITIONAL_STRUCTURES else 0.15),
    }
    if year_built < 2005 and rng.random() < 0.14:
        answers["retrofit_year"] = rng.randint(max(2010, year_built + 10), year)
        # a retrofit of an old house usually starts with the roof
        answers["roof_insulation"] = answers["roof_insulation"] or rng.random() < 0.6
    return answers


def _building(rng, landscape, year):
    structure = _pick(rng, STRUCTURES[landscape])
    year_built = _year_built(rng, structure, year)
    storeys = _pick(rng, STOREYS.get(structure, LOW_STOREYS))
    per_floor = rng.uniform(50, 110) if structure in TRADITIONAL_STRUCTURES else rng.uniform(70, 140)
    area = storeys * per_floor
    answers = {"year_built": year_built, "storeys": storeys, "structure": structure,
               "floor_area_m2": round(area) if rng.random() < 0.8 else round(area, 1)}
    answers.update(_safety(rng, structure, year - year_built))
    answers.update(_measures(rng, structure, year_built, year))
    return answers


def _cooking(rng, landscape):
    primary = _pick(rng, PRIMARY_STOVES[landscape])
    secondary = _pick(rng, SECONDARY_STOVES[primary])
    answers = {"primary_stove": primary, "secondary_stove": secondary}
    if primary in WOOD_OR_COAL_STOVES:
        answers["stove_chimney"] = rng.random() < CHIMNEY_SHARE[primary]
    if "biogas" in (primary, secondary):
        answers["biogas_digester"] = "working"
    else:
        answers["biogas_digester"] = _pick(rng, DIGESTERS[landscape])
    return answers


def _lamps(rng, storeys):
    total = rng.randint(3, 10) + 2 * storeys
    roll = rng.random()
    # LED bulbs are what the village shop sells; a few old households keep tubes and bulbs.
    share = rng.uniform(0.85, 1) if roll < 0.8 else rng.uniform(0.5, 0.85) if roll < 0.95 else rng.uniform(0, 0.5)
    led = round(total * share)
    older = total - led
    cfl = round(older * rng.uniform(0.4, 1))
    return {"lamps_led": led, "lamps_cfl": cfl, "lamps_incandescent": older - cfl}


def _comfort(rng, landscape, storeys):
    heating = _pick(rng, HEATING[landscape])
    # Jiujiang's summers are hot: most have an air conditioner even if they do not heat with it.
    has_ac = heating == "heat_pump_ac" or rng.random() < 0.6
    answers = {"heating": heating, "hot_water": _pick(rng, HOT_WATER),
               "ac_label_grade": _pick(rng, AC_GRADES) if has_ac else "no_ac"}
    answers.update(_lamps(rng, storeys))
    return answers


def _appliances(rng, landscape, grid):
    return {
        "voltage_damage": rng.random() < (0.05 if landscape == "hill" else 0.025),
        "electric_vehicle": grid and rng.random() < 0.07,
        "electric_bike": rng.random() < 0.65,
        "electric_farm_machinery": rng.random() < (0.18 if landscape == "lake" else 0.09),
    }


def _supply(rng, landscape):
    if landscape == "hill" and rng.random() < 0.006:
        # A hamlet up a valley the grid never reached, living on a solar home system.
        supply = rng.choice((8, 10, 12, 14))
        answers = {"grid_connected": False, "supply_hours": supply,
                   "evening_hours": min(supply, rng.choice((3, 4, 5, 6))), "smart_meter": False}
    else:
        supply = 24 if rng.random() < 0.96 else rng.choice((20, 22, 23, 23.5))
        answers = {"grid_connected": True, "supply_hours": supply,
                   "evening_hours": 6 if supply == 24 else rng.choice((5, 5.5, 6))}
        meter = _pick(rng, {True: 92, False: 3, None: 5})
        if meter is not None:
            answers["smart_meter"] = meter
    answers.update(_appliances(rng, landscape, answers["grid_connected"]))
    return answers


def _pv_year(rng, year_built, year, off_grid):
    start = min(max(2016, year_built), year)
    if off_grid:
        # an off-grid house has had its panels for years: it had no other electricity
        return rng.randint(start, max(start, year - 2))
    # installations took off with the 2021 programme
    return _pick(rng, {y: 1 if y < 2019 else 2 if y < 2021 else 4 for y in range(start, year + 1)})


def _pv(rng, landscape, stable, year):
    off_grid = not stable["grid_connected"]
    if not off_grid and rng.random() >= PV_SHARE[landscape]:
        return {"pv_installed": False}
    mode = "off_grid" if off_grid else _pick(rng, PV_MODES)
    pv_year = _pv_year(rng, stable["year_built"], year, off_grid)
    panel_kwp = 0.4 if pv_year < 2021 else 0.55  # the panels sold grew from ~400 W to ~550 W
    kwp = round(rng.randint(*PANELS[mode]) * panel_kwp, 2)
    location = _pick(rng, PV_LOCATIONS)
    if mode != "off_grid" and rng.random() < 0.015:
        kwp, location = rng.choice((36, 40, 45)), "farm_building"  # unusual but possible: a pig farm roof
    answers = {"pv_installed": True, "pv_kwp": kwp, "pv_year": pv_year, "pv_location": location,
               "pv_mode": mode}
    if mode == "off_grid":
        answers["battery_kwh"] = rng.choice((5, 10, 15, 20))
    elif mode == "self_use_surplus" and rng.random() < 0.12:
        answers["battery_kwh"] = rng.choice((5, 5.12, 10, 10.24))  # 51.2 V packs of 100 or 200 Ah
    return answers


def draw_profile(rng, household, year):
    """A household's situation in `year`, drawn from the mix of its county's landscape."""
    lat, lon, landscape = _village_place(getattr(household, "village_code", None))
    home = None
    if rng.random() < 0.93:
        home = (lat + rng.uniform(-0.006, 0.006), lon + rng.uniform(-0.008, 0.008))
    stable = {"residents": _pick(rng, RESIDENTS)}
    stable.update(_building(rng, landscape, year))
    stable.update(_cooking(rng, landscape))
    stable.update(_comfort(rng, landscape, stable["storeys"]))
    stable.update(_supply(rng, landscape))
    stable.update(_pv(rng, landscape, stable, year))
    # an off-grid house has no bill to read: its electricity is an estimate in kWh
    metering = _pick(rng, METERING) if stable["grid_connected"] else "kwh"
    return Profile(landscape, home, metering, stable)


# ---------------------------------------------------------------- a year earlier


def _undo_pv(stable, year):
    if stable["pv_installed"] and stable["pv_year"] > year:
        for key in PV_KEYS:
            stable.pop(key, None)
        stable["pv_installed"] = False


def _undo_stove(rng, stable):
    primary = stable["primary_stove"]
    share, before_weights = STOVE_BEFORE.get(primary, (0, None))
    if rng.random() >= share:
        return
    before = _pick(rng, before_weights)
    stable["primary_stove"] = before
    if primary == "electric" and rng.random() < 0.5:
        stable["secondary_stove"] = primary  # the induction hob was already there as a second stove
    elif stable["secondary_stove"] == before:
        stable["secondary_stove"] = "none"
    if before in WOOD_OR_COAL_STOVES:
        stable["stove_chimney"] = before == "improved_wood" or rng.random() < 0.5
    else:
        stable.pop("stove_chimney", None)


def _undo_lamps(rng, stable):
    if stable["lamps_led"] >= 2 and rng.random() < 0.25:
        replaced = rng.randint(1, min(3, stable["lamps_led"] - 1))
        stable["lamps_led"] -= replaced
        stable["lamps_cfl"] += replaced


def _undo_small_changes(rng, stable, year):
    if stable.get("retrofit_year", 0) > year:
        del stable["retrofit_year"]
    if stable["electric_vehicle"] and rng.random() < 0.3:
        stable["electric_vehicle"] = False
    if rng.random() < 0.08:
        stable["residents"] = max(0, stable["residents"] + rng.choice((-1, 1)))
    if stable["heating"] == "heat_pump_ac" and rng.random() < 0.04:
        stable["heating"] = "electric_heater"
    if stable["hot_water"] in ("heat_pump", "solar_thermal") and rng.random() < 0.04:
        stable["hot_water"] = "electric"


def earlier_profile(rng, profile, year):
    """The household's situation in `year`, the year before `profile`'s: a few things had not happened yet."""
    stable = dict(profile.stable)
    _undo_pv(stable, year)
    _undo_stove(rng, stable)
    _undo_lamps(rng, stable)
    _undo_small_changes(rng, stable, year)
    return replace(profile, stable=stable)


# ---------------------------------------------------------------- one year's answers


def survey_window(year, today, recent_days=None):
    """The first and last day a demo survey of `year` may carry: the season from March up to yesterday."""
    last = min(dt.date(year, 11, 30), today - dt.timedelta(days=1))
    first = dt.date(year, 3, 1)
    if last < first:  # early in the year: the season has hardly begun
        first = dt.date(year, 1, 1)
        last = max(first, min(last, today))
    if recent_days:
        first = max(first, last - dt.timedelta(days=recent_days))
    return first, last


def _survey_date(rng, year, today, recent_days):
    first, last = survey_window(year, today, recent_days)
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _gps(rng, home):
    if home is None:
        return {}
    roll = rng.random()
    accuracy = rng.uniform(3, 15) if roll < 0.88 else rng.uniform(15, 50) if roll < 0.97 else rng.uniform(50, 150)
    return {"latitude": round(home[0] + rng.uniform(-4e-5, 4e-5), 6),
            "longitude": round(home[1] + rng.uniform(-4e-5, 4e-5), 6),
            "gps_accuracy_m": round(accuracy, 1)}


def _electricity_kwh(rng, stable):
    if not stable["grid_connected"]:
        return rng.uniform(250, 700)
    kwh = 300 + 380 * min(stable["residents"], 8)
    kwh += sum(extra for key, value, extra in ELECTRIC_USES if stable.get(key) == value)
    kwh += 250 if stable["ac_label_grade"] != "no_ac" else 0
    kwh *= rng.lognormvariate(0, 0.25)
    if stable["residents"] == 0:
        kwh *= 0.15  # an empty house: the fridge and a lamp when someone looks in
    elif rng.random() < 0.01:
        kwh *= 3  # unusual but real: a small workshop on the household meter
    return kwh


def _electricity(rng, profile):
    kwh = _electricity_kwh(rng, profile.stable)
    monthly_bill = kwh * TARIFF_YUAN_PER_KWH / 12
    if profile.metering == "bill":
        # people remember a round monthly amount
        return {"electricity_bill_yuan_month": max(5, _round_to(monthly_bill, 5))}
    answers = {"electricity_kwh": round(kwh)}
    if profile.metering == "both":
        answers["electricity_bill_yuan_month"] = round(monthly_bill, 1)
    return answers


def _stove_fuel(rng, stable, stove, primary_range, secondary_range):
    """A year's fuel of `stove`: drawn from the primary or the secondary range, 0 if not used."""
    if stable["primary_stove"] == stove:
        return rng.uniform(*primary_range)
    return rng.uniform(*secondary_range) if stable["secondary_stove"] == stove else 0


def _gas(rng, stable):
    gas_water = stable["hot_water"] == "gas"
    piped = stable["primary_stove"] == "piped_gas"
    bottles = round(_stove_fuel(rng, stable, "lpg", (8, 18), (2, 7)))
    bottles += rng.randint(3, 6) if gas_water and not piped else 0
    m3 = round(_stove_fuel(rng, stable, "piped_gas", (120, 320), (30, 80)))
    m3 += rng.randint(80, 150) if gas_water and piped else 0
    return {"lpg_kg": bottles * LPG_BOTTLE_KG, "piped_gas_m3": m3}


def _firewood(rng, stable):
    kg = (_stove_fuel(rng, stable, "traditional_wood", (1800, 5000), (200, 1200))
          + _stove_fuel(rng, stable, "improved_wood", (1200, 3500), (200, 1200)))
    kg += rng.uniform(600, 2000) if stable["heating"] == "biomass" else 0
    kg += rng.uniform(300, 900) if stable["hot_water"] == "firewood" else 0
    if not kg and rng.random() < 0.1:
        kg = rng.uniform(50, 400)  # a little for the New Year's cooking
    return _round_to(kg, 50)


def _solid_fuels(rng, profile):
    stable = profile.stable
    wood_stove = {stable["primary_stove"], stable["secondary_stove"]} & {"traditional_wood", "improved_wood"}
    straw_share = {"lake": 0.4, "hill": 0.1}.get(profile.landscape, 0) if wood_stove else 0
    coal = _stove_fuel(rng, stable, "coal", (800, 2500), (200, 600))
    coal += rng.uniform(80, 300) if stable["heating"] == "coal_brazier" else 0  # charcoal, as coal
    return {"firewood_kg": _firewood(rng, stable),
            "straw_kg": _round_to(rng.uniform(200, 1500), 50) if rng.random() < straw_share else 0,
            "coal_kg": _round_to(coal, 10)}


def _biogas(rng, stable):
    if stable["biogas_digester"] != "working":
        return 0  # a biogas figure without a working digester would be a contradiction
    if "biogas" not in (stable["primary_stove"], stable["secondary_stove"]) and rng.random() < 0.4:
        return 0  # without a biogas stove, few know how much gas the digester gives
    return round(_stove_fuel(rng, stable, "biogas", (150, 400), (40, 200)) or rng.uniform(40, 200))


def _fuels(rng, profile):
    amounts = _gas(rng, profile.stable)
    amounts.update(_solid_fuels(rng, profile))
    amounts["biogas_m3"] = _biogas(rng, profile.stable)
    # An unused fuel is mostly left blank; some surveyors type 0.
    return {key: value for key, value in amounts.items() if value or rng.random() < 0.08}


def _outages(rng, profile):
    if not profile.stable["grid_connected"]:
        return {"outages_per_week": 0, "outage_hours_per_week": 0}
    count = _pick(rng, OUTAGES[profile.landscape])
    if profile.stable["supply_hours"] < 24:
        count = max(count, 1)
    hours = max(0.5, round(count * rng.uniform(0.3, 3) * 2) / 2) if count else 0
    return {"outages_per_week": count, "outage_hours_per_week": hours}


def _pv_generation(rng, stable, year):
    # Known only from a full year of the grid company's statements, and not by every household.
    if not stable["pv_installed"] or stable["pv_year"] >= year or rng.random() < 0.45:
        return {}
    factor = 0.55 if stable["pv_mode"] == "off_grid" else 1  # a full battery wastes the rest
    kwh = stable["pv_kwp"] * PV_YIELD_KWH_PER_KWP * rng.uniform(0.82, 1.08) * factor
    return {"pv_generation_kwh": round(kwh)}


def _notes(rng, answers):
    if rng.random() >= 0.18:
        return {}
    notes = ["户主在外务工，由家人代为回答。", "老人独居，子女在外地。", "部分房间常年空置。"]
    if answers.get("retrofit_year"):
        notes.append(f"{answers['retrofit_year']}年翻修过屋面，加了保温层。")
    if answers["secondary_stove"] in ("traditional_wood", "improved_wood"):
        notes.append("柴灶平时少用，逢年过节和煮猪食时使用。")
    if "electricity_kwh" not in answers:
        notes.append("户主记不清年用电量，按每月电费填写。")
    if answers.get("pv_mode") == "all_to_grid":
        notes.append("屋顶光伏由企业租赁建设，全额上网，按年收取租金。")
    if answers["biogas_digester"] == "broken":
        notes.append("沼气池已多年未用，池体破损。")
    if answers["heating"] == "coal_brazier":
        notes.append("冬季用木炭火盆取暖。")
    if answers.get("electric_vehicle"):
        notes.append("有电动汽车，在家充电。")
    return {"notes": rng.choice(notes)}


def _as_stored(answers):
    """The answers in the form's key order and JSON types, as the API stores a validated survey."""
    stored = {}
    for key in sf.FIELD_KEYS:
        value = answers.get(key)
        if value is None:
            continue
        stored[key] = _number(value) if sf.FIELDS[key].type == "decimal" else value
    return stored


def render_answers(rng, household, profile, year, today=None, recent_days=None):
    """Complete answers of `household` in `profile`'s situation for the survey year `year`."""
    today = today or dt.date.today()
    answers = {"house_number": household.house_number, "head_name": household.head_name,
               "phone": household.phone}
    answers.update(_gps(rng, profile.home))
    answers["survey_date"] = _survey_date(rng, year, today, recent_days).isoformat()
    answers.update(profile.stable)
    answers.update(_electricity(rng, profile))
    answers.update(_fuels(rng, profile))
    answers.update(_outages(rng, profile))
    answers.update(_pv_generation(rng, profile.stable, year))
    answers.update(_notes(rng, answers))
    return _as_stored(answers)


def demo_answers(rng: random.Random, household, year: int, today=None) -> dict:
    """A complete, valid and realistic answer set of `household` for the survey year `year`."""
    return render_answers(rng, household, draw_profile(rng, household, year), year, today)


# ---------------------------------------------------------------- statuses, revisions, rows


def _return_comment(rng, answers):
    comments = ["请补充房屋正面照片。", "常住人口与户籍登记不一致，请核实。"]
    if answers["secondary_stove"] in ("traditional_wood", "improved_wood"):
        comments.append("请核实主要炊事方式：柴灶是否仍在日常使用。")
    if answers.get("pv_installed"):
        comments += ["请补充光伏装机容量。", "请核实光伏装机容量与年发电量。"]
    if "electricity_kwh" not in answers:
        comments.append("请按电费单补充全年用电量（千瓦时）。")
    if answers.get("gps_accuracy_m", 100) > 50:
        comments.append("GPS定位缺失或精度不足，请到户重新定位。")
    if answers["floor_area_m2"] > 400:
        comments.append("建筑面积偏大，请核实是否含附属用房。")
    if answers["safety_appraisal"] in ("C", "D"):
        comments.append("C、D级房屋请补充隐患整治情况说明。")
    return rng.choice(comments)


def _first_sent(rng, answers):
    """(answers as first sent, the reviewer's comment) when a wrong answer was returned and fixed, else None."""
    options = []
    for key, wrong, comment in FIXES:
        if key in answers:
            value = _number(wrong(answers[key]))
            if value <= sf.allowed_range(key)[1]:
                options.append((key, value, comment))
    if not options:
        return None
    key, value, comment = rng.choice(options)
    return {**answers, key: value}, comment


def _later(rng, at, cutoff, low_minutes, high_minutes):
    return min(cutoff, at + dt.timedelta(minutes=rng.randint(low_minutes, high_minutes)))


def _history(rng, status, answers, start, cutoff, surveyor_id, reviewer_id):
    """The revisions that led to `status`, oldest first."""
    if status == "draft":
        return [Step("draft", surveyor_id, start, _changes({}, answers))]
    # Phones sync when they find a signal: minutes to a few days after the visit.
    sent = _later(rng, start, cutoff, 5 * MINUTE, 3 * DAY)
    fixed = _first_sent(rng, answers) if status == "approved" and rng.random() < FIXED_SHARE else None
    first = fixed[0] if fixed else answers
    steps = [Step("submitted", surveyor_id, sent, _changes({}, first))]
    if status == "submitted":
        return steps
    reviewed = _later(rng, sent, cutoff, DAY, 20 * DAY)
    if status == "returned":
        return steps + [Step("returned", reviewer_id, reviewed, {}, _return_comment(rng, answers))]
    if fixed:
        resent = _later(rng, reviewed, cutoff, 2 * HOUR, 5 * DAY)
        steps += [Step("returned", reviewer_id, reviewed, {}, fixed[1]),
                  Step("submitted", surveyor_id, resent, _changes(first, answers))]
        reviewed = _later(rng, resent, cutoff, DAY, 10 * DAY)
    return steps + [Step("approved", reviewer_id, reviewed, {})]


def _partial_draft(rng, answers):
    """A draft as the phone saves it step by step: the first steps answered, the others not yet."""
    if rng.random() < 0.4:
        return answers
    # Cross-checked keys share a step, so a draft of whole steps never contradicts itself.
    keys = {key for step in sf.STEPS[:rng.randint(1, len(sf.STEPS) - 1)] for key in sf.keys_in_step(step)}
    return {key: value for key, value in answers.items() if key in keys}


def _survey_row(uuid, household, plan, answers, steps):
    last = steps[-1]
    reviewed = last.status in ("approved", "returned")
    sent = [step for step in steps if step.status == "submitted"]
    phone_status = "draft" if last.status == "draft" else "submitted"
    return {
        "uuid": uuid, "household_id": household.id, "year": plan.year, "form_version": sf.FORM_VERSION,
        "status": last.status, "answers": answers,
        "content_hash": content_hash(sf.FORM_VERSION, plan.year, phone_status, answers),
        "revision": len(steps), "reviewer_comment": last.comment if last.status == "returned" else None,
        "created_by_id": steps[0].user_id, "created_at": steps[0].at, "updated_at": last.at,
        # A visit of 12 to 41 minutes before the first save (from the UUID: the random draws stay as they were).
        "started_at": steps[0].at - dt.timedelta(minutes=12 + int(uuid[:8], 16) % 30), "flags": [],
        "submitted_at": sent[-1].at if sent else None, "submitted_by_id": sent[-1].user_id if sent else None,
        "reviewed_at": last.at if reviewed else None, "reviewed_by_id": last.user_id if reviewed else None,
    }


def _revision_rows(uuid, steps):
    return [{"survey_uuid": uuid, "number": number, "user_id": step.user_id, "at": step.at,
             "status": step.status, "changes": step.changes, "comment": step.comment}
            for number, step in enumerate(steps, start=1)]


def _cutoff(today):
    # Half a day before today's midnight (UTC, naive like utcnow): in the past in any time zone the
    # server may run in, and the same all day, so the demo's timestamps are reproducible.
    return dt.datetime.combine(today, dt.time()) - dt.timedelta(hours=12)


def demo_survey(rng, household, profile, plan, today, surveyor_id, reviewer_id):
    """One survey row (for a bulk insert) and its revision rows, keyed by the survey's UUID."""
    status = _pick(rng, plan.statuses)
    answers = render_answers(rng, household, profile, plan.year, today, RECENT_DAYS.get(status))
    if status == "draft":
        answers = _partial_draft(rng, answers)
    uuid = str(uuid_module.UUID(int=rng.getrandbits(128), version=4))
    cutoff = _cutoff(today)
    # Visits during the working day, Beijing time (UTC+8), stored as UTC like every timestamp.
    visit = dt.date.fromisoformat(answers["survey_date"])
    start = min(cutoff, dt.datetime.combine(visit, dt.time()) + dt.timedelta(minutes=rng.randint(0, 10 * HOUR)))
    steps = _history(rng, status, answers, start, cutoff, surveyor_id, reviewer_id)
    return _survey_row(uuid, household, plan, answers, steps), _revision_rows(uuid, steps)


def _village_rate(rng, coverage):
    # Some villages are done, others lag behind: the dashboards show the difference.
    return min(1.0, max(0.4, rng.gauss(coverage, 0.08)))


def _bulk_insert(survey_rows, revision_rows):
    if not survey_rows:
        return
    # Core inserts of the tables: the ORM's bulk insert splits the rows into a batch per pattern
    # of empty columns (submitted_at, reviewed_at, ...), which makes thousands of small statements.
    db.session.execute(insert(Survey.__table__), survey_rows)
    years = {row["year"] for row in survey_rows}
    ids = dict(db.session.execute(select(Survey.uuid, Survey.id).where(Survey.year.in_(years))).all())
    for row in revision_rows:
        row["survey_id"] = ids[row.pop("survey_uuid")]
    db.session.execute(insert(SurveyRevision.__table__), revision_rows)


def seed_demo_surveys(rng, households, plans, surveyor, reviewer, today=None):
    """Insert surveys of `households` for `plans` (newest year first); return the counts by (year, status).

    Every household's situation is drawn for the newest year and turned back a year at a time,
    also through a year it is not surveyed, so that what it had then follows from what it has now.
    """
    today = today or dt.date.today()
    village_rates = {}
    survey_rows, revision_rows = [], []
    for household in households:
        rates = village_rates.get(household.village_code)
        if rates is None:
            rates = village_rates[household.village_code] = [_village_rate(rng, p.coverage) for p in plans]
        profile = draw_profile(rng, household, plans[0].year)
        for index, (plan, rate) in enumerate(zip(plans, rates)):
            if index:
                profile = earlier_profile(rng, profile, plan.year)
            if rng.random() < rate:
                row, revisions = demo_survey(rng, household, profile, plan, today, surveyor.id, reviewer.id)
                survey_rows.append(row)
                revision_rows += revisions
    _bulk_insert(survey_rows, revision_rows)
    return Counter((row["year"], row["status"]) for row in survey_rows)
