"""Export then import gives the same surveys: the export's XLSX and CSV, with codes and with
labels, imported into an instance without surveys or households (the same villages)."""

import pytest
from sqlalchemy import delete, select

from tests.exchange.test_import_support import run
from tests.factories import complete_answers
from village_survey.areas.models import Household
from village_survey.evaluations.models import StoredResult
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision

YEAR = 2025


def _answers(world):
    """Surveys that use every kind of cell: codes, booleans, decimals, dates, empty answers, text
    that a spreadsheet would take for a formula, and personal data."""
    return {
        (world.village_a, "1组1号"): complete_answers(survey_date=f"{YEAR}-06-01"),
        (world.village_a, "2组10号"): complete_answers(
            survey_date=f"{YEAR}-07-15", house_number="2组10号", head_name="李四", phone="+86-139 0000 0000",
            floor_area_m2=123.45, latitude=29.712345, longitude=116.012345, primary_stove="improved_wood",
            secondary_stove="none", stove_chimney=True, pv_installed=False, pv_kwp=None, pv_year=None,
            pv_location=None, pv_mode=None, heating="biomass", ac_label_grade="no_ac", lpg_kg=None,
            notes="=1+1 不是公式\n第二行", retrofit_year=2015, electricity_kwh=None,
            electricity_bill_yuan_month=85.5),
        (world.village_b, "1组3号"): complete_answers(survey_date=f"{YEAR}-05-20", house_number="1组3号",
                                                      head_name="王丙", safety_appraisal="none",
                                                      energy_design="unknown", smart_meter=True),
    }


@pytest.fixture
def exported_world(world):
    for n, ((village, number), answers) in enumerate(_answers(world).items(), start=1):
        household = db.session.scalars(select(Household).where(Household.village_id == village.id,
                                                                Household.house_number == number)).first()
        household = household or Household(village=village, house_number=number, head_name=answers["head_name"])
        db.session.add(Survey(uuid=f"00000000-0000-4000-8000-00000000000{n}", household=household, year=YEAR,
                              form_version=1, status="approved", answers=answers, content_hash=str(n), revision=1))
    db.session.commit()
    return world


def _stored():
    return {(s.household.village.code, s.household.house_number, s.year): (s.uuid, s.answers)
            for s in db.session.scalars(select(Survey))}


def _empty_surveys_and_households():
    for model in (StoredResult, SurveyRevision, Survey, Household):
        db.session.execute(delete(model))
    db.session.commit()


@pytest.mark.parametrize("path", [
    f"/exports/surveys.xlsx?year={YEAR}&full=1",
    f"/exports/surveys.xlsx?year={YEAR}&full=1&labels=1",
    f"/exports/surveys.csv?year={YEAR}&full=1",
    f"/exports/surveys.csv?year={YEAR}&full=1&labels=1",
])
def test_export_then_import_gives_the_same_answers(client, auth, exported_world, path):
    world = exported_world
    before = _stored()
    assert len(before) == 3
    auth.login("admin")
    response = client.get(path, buffered=True)
    assert response.status_code == 200
    _empty_surveys_and_households()
    name = "surveys." + path.split("?")[0].rsplit(".", 1)[1]
    report = run(world.admin, "surveys", response.data, mode="all", filename=name)
    assert not report.has_errors, report.as_text()
    assert report.counts()["new_survey"] == 3
    db.session.commit()
    assert _stored() == before
    # and once more: nothing changes
    again = run(world.admin, "surveys", response.data, mode="all", filename=name)
    assert again.counts() == {"unchanged": 3}
