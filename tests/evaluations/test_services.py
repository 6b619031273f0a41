"""Evaluations from the database: what counts, naive recomputations, insufficient data, finalizing."""

import math

import pytest
from sqlalchemy import select

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.factories import make_township, make_village
from village_survey.evaluations import finalizing, services
from village_survey.evaluations.models import Evaluation
from village_survey.extensions import db
from village_survey.scoring import load_criteria, score_farmhouse
from village_survey.surveys.models import Survey

CLEAN_STOVES = {"electric", "solar", "lpg", "piped_gas", "biogas"}


@pytest.fixture
def criteria():
    return load_criteria("jiujiang-2025")


def naive_indicators(answers_list, registered):
    """The village indicators of CRITERIA.md computed the long way, from full farmhouse results."""
    criteria = load_criteria("jiujiang-2025")
    results = [(a, score_farmhouse(a, criteria)) for a in answers_list]
    n = len(results)

    def rate(test):
        return sum(1 for a, r in results if test(a, r)) / n

    def envelope(a):
        return sum(bool(a.get(k)) for k in ("roof_insulation", "wall_insulation", "efficient_windows")) >= 2

    persons = sum(r.carbon.persons for _, r in results)
    return {
        "green_farmhouse_rate": rate(lambda a, r: r.base_level),
        "star_farmhouse_rate": rate(lambda a, r: r.stars >= 1),
        "clean_cooking_rate": rate(lambda a, r: a["primary_stove"] in CLEAN_STOVES),
        "efficient_lighting_rate": rate(lambda a, r: r.prerequisites_met[3]),
        "pv_household_rate": rate(lambda a, r: a.get("pv_installed")
                                  and a.get("pv_location") in ("roof", "courtyard", "farm_building")),
        "modern_renewable_share": (sum(r.energy.modern_renewable_kgce for _, r in results)
                                   / sum(r.energy.final_kgce for _, r in results)),
        "envelope_rate": rate(lambda a, r: envelope(a)),
        "net_co2e_per_person": sum(r.carbon.net_kgco2e for _, r in results) / 1000 / persons,
        "survey_coverage": n / registered,
    }


def indicator_values(results):
    return {i["id"]: i["value"] for i in results["indicators"]}


def assert_indicators_match(results, expected):
    got = indicator_values(results)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key


def test_only_approved_surveys_of_the_year_count(app, world, criteria):
    approved = add_surveys(world.village_a, 3)
    for status in ("draft", "submitted", "returned"):
        add_survey(world.village_a, status=status)
    add_survey(world.village_a, year=YEAR - 1)
    db.session.commit()
    view = services.preview(services.Area("village", world.village_a.id), YEAR, criteria)
    assert view.results["approved_surveys"] == 3
    assert {f["uuid"] for f in view.results["farmhouses"]} == {s.uuid for s in approved}


def test_village_indicators_equal_a_naive_recomputation(app, world, criteria):
    world.village_a.registered_households = 40
    surveys = add_surveys(world.village_a, 24, seed=1)
    add_surveys(world.village_a, 5, seed=2, status="submitted")
    db.session.commit()
    view = services.preview(services.Area("village", world.village_a.id), YEAR, criteria)
    assert_indicators_match(view.results, naive_indicators([s.answers for s in surveys], 40))
    totals = [score_farmhouse(s.answers, criteria).total for s in surveys]
    assert view.results["mean_total"] == pytest.approx(math.fsum(totals) / 24, abs=0.01)


@pytest.mark.parametrize("approved, insufficient", [(9, True), (10, False)])
def test_a_village_needs_ten_approved_surveys_for_a_grade(app, world, criteria, approved, insufficient):
    world.village_a.registered_households = 20
    add_surveys(world.village_a, approved, seed=3)
    add_surveys(world.village_a, 3, seed=4, status="submitted")
    db.session.commit()
    results = services.preview(services.Area("village", world.village_a.id), YEAR, criteria).results
    assert results["insufficient_data"] is insufficient
    if insufficient:
        assert results["grade"] == "insufficient_data"
        assert [r["code"] for r in results["reasons"]] == ["too_few_surveys"]
    else:
        assert results["grade"] in {"excellent", "good", "pass", "needs_improvement"}


def test_low_coverage_is_insufficient_data_whatever_the_score(app, world, criteria):
    world.village_a.registered_households = 100
    add_surveys(world.village_a, 12, seed=5)
    db.session.commit()
    results = services.preview(services.Area("village", world.village_a.id), YEAR, criteria).results
    assert results["score"] is not None
    assert results["insufficient_data"] and [r["code"] for r in results["reasons"]] == ["coverage_too_low"]


def test_townships_and_counties_pool_households_not_village_means(app, world, criteria):
    small = world.village_a
    big = make_village(world.township_a, "201", "大村", registered=60)
    other = make_village(make_township(world.county_a, "102", "丙镇"), "200", "丁村", registered=15)
    small.registered_households = 14
    # a small village of clean kitchens and a big one of traditional stoves: means and pools differ
    small_surveys = [add_survey(small, residents=2) for _ in range(12)]
    big_surveys = [add_survey(big, primary_stove="traditional_wood", secondary_stove="none",
                              stove_chimney=False, residents=5) for _ in range(40)]
    other_surveys = add_surveys(other, 11, seed=6)
    add_surveys(world.village_b, 10, seed=7)  # another county: not in county A's pool
    db.session.commit()

    results = services.evaluate_scored(services.score_area(YEAR, criteria))
    township = results.townships[world.township_a.id]
    assert_indicators_match(township, naive_indicators(
        [s.answers for s in small_surveys + big_surveys], 14 + 60))
    village_means = (indicator_values(results.villages[small.id])["clean_cooking_rate"]
                     + indicator_values(results.villages[big.id])["clean_cooking_rate"]) / 2
    assert indicator_values(township)["clean_cooking_rate"] != pytest.approx(village_means)

    county = results.counties[world.county_a.id]
    pooled = small_surveys + big_surveys + other_surveys
    # county A also has the world's village_a2 (100 registered, no surveys)
    assert_indicators_match(county, naive_indicators([s.answers for s in pooled], 14 + 60 + 15 + 100))
    assert county["approved_surveys"] == len(pooled)
    assert results.city["approved_surveys"] == len(pooled) + 10


def test_the_list_is_computed_for_the_users_scope_only(app, world, criteria):
    add_surveys(world.village_a, 10, seed=8)
    add_surveys(world.village_b, 10, seed=9)
    db.session.commit()
    page = services.area_list(world.surveyor_a, YEAR, "village", criteria)
    assert [row["id"] for row in page.items] == [world.village_a.id]
    page = services.area_list(world.reviewer_a, YEAR, "village", criteria)
    assert {row["id"] for row in page.items} == {world.village_a.id, world.village_a2.id}


def _approved_answers(survey, **changes):
    survey.answers = {**survey.answers, **changes}
    survey.revision += 1


def test_finalized_evaluation_is_unchanged_by_later_edits(app, world, criteria):
    world.village_a.registered_households = 20
    surveys = add_surveys(world.village_a, 12, seed=10)
    db.session.commit()
    area = services.Area("village", world.village_a.id)
    before = services.preview(area, YEAR, criteria).results
    finalizing.finalize(world.reviewer_a, area, YEAR, criteria)
    db.session.commit()

    for survey in surveys:
        _approved_answers(survey, primary_stove="coal", pv_installed=False, pv_location=None)
    add_surveys(world.village_a, 3, seed=11)
    db.session.commit()

    preview = services.preview(area, YEAR, criteria).results
    finalized = services.evaluation_for(area, YEAR, criteria)
    assert finalized.finalized and finalized.finalized_by == "reviewer-a"
    assert preview["approved_surveys"] == 15 and preview["indicators"] != before["indicators"]
    assert finalized.results["indicators"] == before["indicators"]
    assert finalized.results["score"] == before["score"]
    assert [f["revision"] for f in finalized.results["farmhouses"]] == [1] * 12


def test_a_finalized_evaluation_reproduces_from_its_frozen_inputs(app, world, criteria):
    add_surveys(world.village_a, 11, seed=12)
    add_surveys(world.village_a2, 13, seed=13)
    db.session.commit()
    finalizing.finalize(world.admin, services.Area("county", world.county_a.id), YEAR, criteria)
    db.session.commit()
    stored = db.session.scalars(select(Evaluation)).all()
    assert sorted(e.level for e in stored) == ["county", "township", "township", "village", "village"]
    for survey in db.session.scalars(select(Survey)):
        survey.answers = {**survey.answers, "residents": 9}
    db.session.commit()
    for evaluation in stored:
        again = finalizing.reproduce(evaluation)
        for key in ("score", "grade", "indicators", "star_counts", "approved_surveys", "coverage"):
            assert again[key] == evaluation.results[key], (evaluation.level, key)


def test_finalizing_an_area_pools_already_finalized_villages_from_their_frozen_figures(app, world, criteria):
    first = add_surveys(world.village_a, 10, seed=14)
    add_surveys(world.village_a2, 10, seed=15)
    db.session.commit()
    village = services.Area("village", world.village_a.id)
    frozen = finalizing.finalize(world.reviewer_a, village, YEAR, criteria).created[0]
    db.session.commit()
    for survey in first:  # changed after the village was finalized: the county must not see it
        _approved_answers(survey, primary_stove="traditional_wood", stove_chimney=False)
    db.session.commit()

    outcome = finalizing.finalize(world.reviewer_a, services.Area("county", world.county_a.id), YEAR, criteria)
    db.session.commit()
    assert frozen in outcome.kept and len(outcome.created) == 4  # village a2, two townships, county
    county = services.evaluation_for(services.Area("county", world.county_a.id), YEAR, criteria)
    frozen_clean = indicator_values(frozen.results)["clean_cooking_rate"]
    village_a2 = services.evaluation_for(services.Area("village", world.village_a2.id), YEAR, criteria)
    expected = (frozen_clean * 10 + indicator_values(village_a2.results)["clean_cooking_rate"] * 10) / 20
    assert indicator_values(county.results)["clean_cooking_rate"] == pytest.approx(expected)


def test_finalizing_twice_is_refused(app, world, criteria):
    area = services.Area("village", world.village_a.id)
    finalizing.finalize(world.reviewer_a, area, YEAR, criteria)
    db.session.commit()
    with pytest.raises(services.EvaluationError) as refused:
        finalizing.finalize(world.admin, area, YEAR, criteria)
    assert refused.value.status == 409
    assert db.session.scalars(select(Evaluation)).one().finalized_by_name == "reviewer-a"


@pytest.mark.parametrize("username", ["viewer-a", "surveyor-a"])
def test_only_reviewers_and_admins_finalize(app, world, criteria, username):
    user = {"viewer-a": world.viewer_a, "surveyor-a": world.surveyor_a}[username]
    with pytest.raises(services.EvaluationError) as refused:
        finalizing.finalize(user, services.Area("village", world.village_a.id), YEAR, criteria)
    assert refused.value.status == 403


def test_a_survey_that_cannot_be_scored_is_listed_not_counted(app, world, criteria):
    add_surveys(world.village_a, 10, seed=16)
    broken = add_survey(world.village_a, residents="many")
    db.session.commit()
    results = services.preview(services.Area("village", world.village_a.id), YEAR, criteria).results
    assert results["approved_surveys"] == 10
    assert [(u["uuid"], u["key"]) for u in results["unscorable"]] == [(broken.uuid, "residents")]


def test_missing_energy_figures_are_scored_with_the_documented_defaults(criteria):
    from tests.factories import complete_answers

    answers = complete_answers(electricity_kwh=None, lpg_kg=None, firewood_kg=None, residents=None)
    card = services.farmhouse_score_card(answers, criteria)
    codes = {d["code"] for d in card["result"]["defaults_used"]}
    assert {"electricity_missing", "fuel_missing_as_zero", "residents_missing"} <= codes
    assert card["result"]["energy"]["electricity"]["bought_kwh"] == 0


def test_worker_processes_give_the_same_evaluations_as_one_process(app, world, criteria):
    for seed, village in enumerate((world.village_a, world.village_a2, world.village_b)):
        add_surveys(village, 10 + seed, seed=40 + seed)
    db.session.commit()
    alone = services.score_area(YEAR, criteria, detail=True)
    shared = services.score_area(YEAR, criteria, detail=True, workers=2)
    assert {vid: sorted(f.uuid for f in fs) for vid, fs in shared.farmhouses.items()} == {
        vid: sorted(f.uuid for f in fs) for vid, fs in alone.farmhouses.items()}
    one, two = services.evaluate_scored(alone), services.evaluate_scored(shared)
    assert two.city["indicators"] == one.city["indicators"]
    assert two.villages == one.villages
