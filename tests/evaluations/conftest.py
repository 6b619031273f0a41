"""Helpers of the evaluation tests: surveys written straight to the database in a given status."""

import itertools
import random

import pytest

from tests.factories import complete_answers, make_household
from tests.surveys.conftest import new_uuid
from village_survey.extensions import db
from village_survey.surveys.models import Survey

YEAR = 2026
_numbers = itertools.count(1)


def add_survey(village, status="approved", year=YEAR, household=None, **answers):
    """A survey of a new household of `village` (or of `household`) in `status`."""
    if household is None:
        household = make_household(village, f"{next(_numbers)}号", "李四")
    survey = Survey(uuid=new_uuid(), household=household, year=year, form_version=1, status=status,
                    answers=complete_answers(house_number=household.house_number,
                                             head_name=household.head_name, **answers),
                    content_hash="0" * 64, revision=1)
    db.session.add(survey)
    return survey


# Answers that move a farmhouse across the indicators: stoves, lamps, PV, envelope, residents.
VARIATIONS = [
    {},
    {"primary_stove": "traditional_wood", "secondary_stove": "none", "stove_chimney": False},
    {"pv_installed": False, "pv_kwp": None, "pv_year": None, "pv_location": None, "pv_mode": None},
    {"lamps_led": 1, "lamps_cfl": 0, "lamps_incandescent": 6},
    {"roof_insulation": False, "efficient_windows": False, "residents": 1},
    {"pv_location": "courtyard", "pv_kwp": 2, "electricity_kwh": 5200, "residents": 6},
    {"visible_danger": True, "coal_kg": 800, "heating": "coal_brazier"},
    {"wall_insulation": True, "green_materials": True, "structure": "light_steel", "energy_design": "yes",
     "year_built": 2018, "pv_kwp": 8, "pv_mode": "all_to_grid", "battery_kwh": 5},
]


def varied_answers(seed):
    """Reproducible answers: a variation, with some figures moved a little."""
    rng = random.Random(seed)
    answers = dict(rng.choice(VARIATIONS))
    answers.setdefault("electricity_kwh", rng.randint(600, 6000))
    answers.setdefault("residents", rng.randint(1, 7))
    answers.setdefault("firewood_kg", rng.choice([0, 200, 1500]))
    return answers


def add_surveys(village, count, seed=0, status="approved", year=YEAR):
    return [add_survey(village, status=status, year=year, **varied_answers(seed * 1000 + n))
            for n in range(count)]


@pytest.fixture
def year():
    return YEAR
