"""A new version of the criteria set (jiujiang-2025 version 2: the PV household rate counts
courtyard arrays too): evaluations finalized with version 1 keep it and stay as they were;
previews and new finalizings use version 2; the village page breaks the PV households down."""

import copy
import re

from sqlalchemy import select

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from village_survey.evaluations import finalizing, services
from village_survey.evaluations.models import Evaluation
from village_survey.extensions import db
from village_survey.scoring import load_criteria

PV = {"pv_installed": True, "pv_kwp": 3, "pv_year": 2022, "pv_mode": "self_use_surplus"}


def pv_village(village):
    """Twelve approved surveys: PV on 2 roofs, 3 courtyards and 1 farm building, 6 without PV."""
    places = ["roof"] * 2 + ["courtyard"] * 3 + ["farm_building"]
    for place in places:
        add_survey(village, **PV, pv_location=place)
    for _ in range(6):
        add_survey(village, pv_installed=False, pv_kwp=None, pv_year=None, pv_location=None,
                   pv_mode=None)


def indicator(results, ident):
    return next(i for i in results["indicators"] if i["id"] == ident)


def test_a_version_1_evaluation_stays_unchanged_and_reproduces_after_the_change(app, world):
    world.village_a.registered_households = 12
    pv_village(world.village_a)
    add_surveys(world.village_a2, 11, seed=31)
    db.session.commit()
    version_1 = load_criteria("jiujiang-2025", version=1)
    finalizing.finalize(world.admin, services.Area("county", world.county_a.id), YEAR, version_1)
    db.session.commit()
    stored = db.session.scalars(select(Evaluation)).all()
    assert {e.criteria_version for e in stored} == {1}
    frozen = {e.id: copy.deepcopy(e.results) for e in stored}

    current = load_criteria()
    village = services.Area("village", world.village_a.id)
    shown = services.evaluation_for(village, YEAR, current)
    assert shown.finalized and shown.criteria_version == 1
    assert indicator(shown.results, "rooftop_pv_rate")["value"] == 0.25  # 3 of 12
    assert shown.results == frozen[next(e.id for e in stored if e.area_id == village.id
                                        and e.level == "village")]
    for evaluation in stored:
        db.session.refresh(evaluation)
        assert evaluation.results == frozen[evaluation.id]
        again = finalizing.reproduce(evaluation)
        for key in ("score", "grade", "indicators", "star_counts", "approved_surveys", "coverage"):
            assert again[key] == evaluation.results[key], (evaluation.level, key)

    preview = services.preview(village, YEAR, current)
    assert preview.criteria_version == 2
    assert indicator(preview.results, "pv_household_rate")["value"] == 0.5  # 6 of 12


def test_finalizing_again_after_reopening_uses_the_new_version(app, world):
    world.village_a.registered_households = 12
    pv_village(world.village_a)
    db.session.commit()
    village = services.Area("village", world.village_a.id)
    first = finalizing.finalize(world.admin, village, YEAR,
                                load_criteria("jiujiang-2025", version=1)).created[0]
    db.session.commit()
    finalizing.reopen(world.admin, village, YEAR, "jiujiang-2025", "criteria version 2")
    second = finalizing.finalize(world.admin, village, YEAR, load_criteria()).created[0]
    db.session.commit()
    assert (first.version, first.criteria_version) == (1, 1)
    assert (second.version, second.criteria_version) == (2, 2)
    assert indicator(first.results, "rooftop_pv_rate")["value"] == 0.25
    assert indicator(second.results, "pv_household_rate")["value"] == 0.5
    assert finalizing.reproduce(first)["indicators"] == first.results["indicators"]
    assert finalizing.reproduce(second)["indicators"] == second.results["indicators"]


def test_the_village_page_shows_the_pv_households_by_place(auth, world, client):
    world.village_a.registered_households = 12
    pv_village(world.village_a)
    db.session.commit()
    auth.login("reviewer-a")
    html = client.get(f"/evaluations/village/{world.village_a.id}?year={YEAR}").get_data(as_text=True)
    row = re.search(r'<tr data-indicator="pv_household_rate">.*?</tr>', html, re.S).group(0)
    assert "光伏农户比例" in row
    counts = dict(re.findall(r'data-breakdown-code="(\w+)"[^>]*>[^<]*<b>(\d+)</b>', row))
    assert counts == {"roof": "2", "courtyard": "3", "farm_building": "1"}
    assert "院落" in row and "屋顶" in row
    # only the PV indicator is broken down
    assert html.count("data-breakdown=") == 1


def test_a_version_1_village_page_shows_its_own_indicator_without_a_breakdown(auth, world, client):
    world.village_a.registered_households = 12
    pv_village(world.village_a)
    db.session.commit()
    finalizing.finalize(world.admin, services.Area("village", world.village_a.id), YEAR,
                        load_criteria("jiujiang-2025", version=1))
    db.session.commit()
    auth.login("reviewer-a")
    html = client.get(f"/evaluations/village/{world.village_a.id}?year={YEAR}").get_data(as_text=True)
    assert 'data-indicator="rooftop_pv_rate"' in html and "屋顶光伏户比例" in html
    assert "data-breakdown=" not in html
    assert "评价标准 jiujiang-2025，第 1 版。" in html
