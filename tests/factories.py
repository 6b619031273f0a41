"""Small factories for test data."""

import functools
import secrets

from village_survey.accounts.models import User
from village_survey.areas.models import County, Household, Township, Village
from village_survey.extensions import db

PASSWORD = "correct-horse"


def make_county(code, name=None):
    county = County(code=code, name=name or f"县{code}")
    db.session.add(county)
    return county


def make_township(county, suffix="100", name=None):
    township = Township(code=f"{county.code}{suffix}", name=name or f"镇{county.code}{suffix}", county=county)
    db.session.add(township)
    return township


def make_village(township, suffix="200", name=None, registered=100):
    village = Village(code=f"{township.code}{suffix}", name=name or f"村{township.code}{suffix}",
                      township=township, registered_households=registered)
    db.session.add(village)
    return village


def make_household(village, number="1组1号", head="张三"):
    household = Household(village=village, house_number=number, head_name=head)
    db.session.add(household)
    return household


@functools.cache
def _password_hash(password):
    # Hashing is deliberately slow; tests reuse one hash per password.
    user = User()
    user.set_password(password)
    return user.password_hash


def make_user(username, role, county=None, township=None, password=PASSWORD, active=True):
    user = User(username=username, role=role, county=county, township=township, active=active,
                password_hash=_password_hash(password), session_token=secrets.token_hex(16))
    db.session.add(user)
    return user


class World:
    """Named handles on the objects of a small two-county world."""


def make_world():
    w = World()
    w.county_a = make_county("360402", "濂溪区")
    w.county_b = make_county("360403", "浔阳区")
    w.township_a = make_township(w.county_a, "100", "甲镇")
    w.township_a2 = make_township(w.county_a, "101", "乙镇")
    w.township_b = make_township(w.county_b, "100", "丙镇")
    w.village_a = make_village(w.township_a, "200", "甲村")
    w.village_a2 = make_village(w.township_a2, "200", "乙村")
    w.village_b = make_village(w.township_b, "200", "丙村")
    w.household_a = make_household(w.village_a, "1组1号", "王甲")
    w.household_a2 = make_household(w.village_a2, "1组2号", "王乙")
    w.household_b = make_household(w.village_b, "1组3号", "王丙")
    w.surveyor_a = make_user("surveyor-a", "surveyor", township=w.township_a)
    w.surveyor_b = make_user("surveyor-b", "surveyor", township=w.township_b)
    w.reviewer_a = make_user("reviewer-a", "reviewer", county=w.county_a)
    w.viewer_a = make_user("viewer-a", "viewer", county=w.county_a)
    w.viewer_city = make_user("viewer-city", "viewer")
    w.admin = make_user("admin", "admin")
    db.session.commit()
    return w


def complete_answers(**overrides):
    """A complete, valid farmhouse survey (form version 1)."""
    answers = {
        "house_number": "1组1号", "head_name": "王甲", "phone": "13800000000", "residents": 4,
        "latitude": 29.7, "longitude": 116.0, "gps_accuracy_m": 8, "survey_date": "2026-03-15",
        "year_built": 2008, "storeys": 2, "floor_area_m2": 180, "structure": "brick_concrete",
        "safety_appraisal": "B", "visible_danger": False, "roof_insulation": True, "wall_insulation": False,
        "efficient_windows": True, "shading": True, "energy_design": "no", "green_materials": False,
        "electricity_kwh": 2400, "lpg_kg": 90, "firewood_kg": 300, "biogas_digester": "none",
        "primary_stove": "electric", "secondary_stove": "lpg", "heating": "heat_pump_ac",
        "hot_water": "solar_thermal", "ac_label_grade": "2", "lamps_led": 8, "lamps_cfl": 1,
        "lamps_incandescent": 0, "grid_connected": True, "supply_hours": 24, "evening_hours": 6,
        "outages_per_week": 0, "outage_hours_per_week": 0, "voltage_damage": False,
        "electric_vehicle": False, "electric_bike": True, "electric_farm_machinery": False,
        "pv_installed": True, "pv_kwp": 5, "pv_year": 2022, "pv_location": "roof", "pv_mode": "self_use_surplus",
    }
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}
