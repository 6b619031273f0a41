"""Precomputed evaluations equal a fresh scoring of the database, whatever happened before.

The property test runs random sequences of what changes an evaluation (approvals, returns,
reopenings, resubmissions, a village's registered households, a village moved to another
township, a rebuild, a new version of the criteria set) and after every step compares each
stored area's figures with `services.evaluate_scored(services.score_area(...))` — exactly.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import _empty_tables
from tests.evaluations.conftest import add_survey, varied_answers
from tests.factories import make_village, make_world
from village_survey.accounts.models import User
from village_survey.areas.models import Village
from village_survey.evaluations import precomputed, services
from village_survey.evaluations.models import AreaAggregate, EvaluationBuild, StoredResult
from village_survey.extensions import db
from village_survey.scoring import load_criteria
from village_survey.surveys.models import Survey
from village_survey.surveys.services import reopen_survey, review_survey

YEARS = (2025, 2026)
SHOWN_ONLY = ("name", "code", "areas", "farmhouses", "unscorable")


def _comparable(results):
    return {k: v for k, v in results.items() if k not in SHOWN_ONLY}


def assert_matches_fresh_scoring(criteria):
    """Every stored area of every year equals a fresh scoring of the approved surveys."""
    for year in YEARS:
        fresh = services.evaluate_scored(services.score_area(year, criteria, services.CITY))
        stored = {level: precomputed.stored_results(criteria, year, level)
                  for level in ("village", "township", "county", "city")}
        for level, found in (("village", fresh.villages), ("township", fresh.townships),
                             ("county", fresh.counties)):
            for ident, results in found.items():
                row = stored[level].get(ident)
                if row is None:  # an area nobody surveyed that year: its figures are coverage only
                    assert results["approved_surveys"] == 0, (level, ident, year)
                    continue
                assert _comparable(row.results) == _comparable(results), (level, ident, year)
        if stored["city"]:
            assert _comparable(stored["city"][0].results) == _comparable(fresh.city), year
        else:
            assert fresh.city["approved_surveys"] == 0
    # one stored result per approved survey and current set, of its current revision
    approved = dict(db.session.execute(select(Survey.id, Survey.revision).where(Survey.status == "approved")).all())
    rows = db.session.execute(select(StoredResult.survey_id, StoredResult.revision, StoredResult.criteria_version)
                              .where(StoredResult.criteria == criteria.name)).all()
    assert {survey_id: revision for survey_id, revision, _v in rows} == approved
    assert {version for _s, _r, version in rows} <= {criteria.version}


class Scenario:
    """A small world (two counties, three townships, four villages) and what can happen to it."""

    def __init__(self, rng):
        self.rng = rng
        self.world = make_world()
        self.village_c = make_village(self.world.township_a, "201", "丁村", registered=8)
        self.reviewer = self.world.reviewer_a
        self.admin = self.world.admin
        db.session.commit()
        self.villages = [self.world.village_a, self.world.village_a2, self.world.village_b, self.village_c]

    def _pick(self, status):
        ids = db.session.scalars(select(Survey.id).where(Survey.status == status).order_by(Survey.id)).all()
        return db.session.get(Survey, self.rng.choice(ids)) if ids else None

    def submit_new(self):
        village = self.rng.choice(self.villages)
        add_survey(village, status="submitted", year=self.rng.choice(YEARS),
                   **varied_answers(self.rng.randrange(10_000)))

    def approve(self):
        survey = self._pick("submitted")
        if survey is not None:
            review_survey(self.admin, survey, "approve", "")

    def return_one(self):
        survey = self._pick("submitted")
        if survey is not None:
            review_survey(self.admin, survey, "return", "Please check the stove.")

    def reopen(self):
        survey = self._pick("approved")
        if survey is not None:
            reopen_survey(self.admin, survey, "The PV capacity looks wrong.")

    def resubmit(self):
        survey = self._pick("returned")
        if survey is not None:
            survey.answers = {**survey.answers, "residents": self.rng.randint(1, 8)}
            survey.status, survey.revision = "submitted", survey.revision + 1

    def registered(self):
        village = self.rng.choice(self.villages)
        village.registered_households = self.rng.choice([0, 3, 40, 120])
        precomputed.villages_changed([village.id])

    def move(self):
        village = self.rng.choice(self.villages)
        townships = [self.world.township_a, self.world.township_a2, self.world.township_b]
        village.township = self.rng.choice(townships)
        precomputed.villages_changed([village.id], moved=True)

    def rebuild(self):
        precomputed.rebuild()

    STEPS = ("submit_new", "approve", "return_one", "reopen", "resubmit", "registered", "move", "rebuild")


STEP = st.sampled_from(Scenario.STEPS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), steps=st.lists(STEP, min_size=1, max_size=25))
def test_precomputed_figures_equal_fresh_scoring_after_any_sequence(app, seed, steps):
    _empty_tables()
    criteria = services.criteria_named(None)
    scenario = Scenario(random.Random(seed))
    for _ in range(6):  # something to approve from the start
        scenario.submit_new()
    precomputed.rebuild()
    db.session.commit()
    for step in steps:
        getattr(scenario, step)()
        db.session.commit()
        assert_matches_fresh_scoring(criteria)


def test_a_new_criteria_version_is_not_built_until_the_rebuild_which_recomputes_everything(app, monkeypatch):
    scenario = Scenario(random.Random(7))
    for _ in range(12):
        scenario.submit_new()
    db.session.flush()
    for _ in range(8):
        scenario.approve()
    precomputed.rebuild()
    db.session.commit()
    current = services.criteria_named(None)
    assert precomputed.built(current)
    assert_matches_fresh_scoring(current)

    # the set as it was at version 1 (PV on roofs and farm buildings only) stands for "criteria changed"
    older = load_criteria(current.name, version=1)
    monkeypatch.setattr(precomputed, "current_sets", lambda: [older])
    assert not precomputed.built(older)
    precomputed.rebuild()
    db.session.commit()
    assert precomputed.built(older)
    assert_matches_fresh_scoring(older)
    assert set(db.session.scalars(select(StoredResult.criteria_version))) == {1}
    assert set(db.session.scalars(select(AreaAggregate.criteria_version))) == {1}


def test_approving_through_the_service_updates_the_village_and_every_area_above(app):
    scenario = Scenario(random.Random(3))
    precomputed.rebuild()
    db.session.commit()
    criteria = services.criteria_named(None)
    village = scenario.world.village_b
    survey = add_survey(village, status="submitted", year=2026)
    db.session.commit()
    review_survey(scenario.admin, survey, "approve", "")
    db.session.commit()
    township, county = village.township_id, village.township.county_id
    for level, ident in (("village", village.id), ("township", township), ("county", county),
                         ("city", precomputed.CITY_ID)):
        row = precomputed.stored_results(criteria, 2026, level, [ident])[ident]
        assert row.results["approved_surveys"] == 1, level
    reopen_survey(scenario.admin, survey, "Wrong household.")
    db.session.commit()
    for level, ident in (("village", village.id), ("county", county), ("city", precomputed.CITY_ID)):
        assert precomputed.stored_results(criteria, 2026, level, [ident])[ident].results["approved_surveys"] == 0
    assert db.session.scalar(select(func.count()).select_from(StoredResult)) == 0


def test_an_unscorable_survey_is_kept_with_its_reason_and_listed_on_the_village_page(app):
    scenario = Scenario(random.Random(5))
    village = scenario.world.village_a
    good = add_survey(village, status="approved", year=2026)
    odd = add_survey(village, status="approved", year=2026)
    odd.form_version = 99
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    criteria = services.criteria_named(None)
    rows = {r.survey_id: r for r in db.session.scalars(select(StoredResult))}
    assert rows[good.id].error is None and rows[good.id].stars is not None
    assert rows[odd.id].error["code"] == "form_version" and rows[odd.id].total is None
    view = services.evaluation_for(services.Area("village", village.id), 2026, criteria)
    assert [f["uuid"] for f in view.results["farmhouses"]] == [good.uuid]
    assert [u["uuid"] for u in view.results["unscorable"]] == [odd.uuid]
    assert view.results["approved_surveys"] == 1


def test_pages_read_the_stored_figures_once_built(app, monkeypatch):
    """Once built, a list and a preview never score surveys in the request."""
    scenario = Scenario(random.Random(11))
    for village in scenario.villages:
        for _ in range(3):
            add_survey(village, status="approved", year=2026)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    criteria = services.criteria_named(None)

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored in the request")

    monkeypatch.setattr(services, "score_area", no_scoring)
    page = services.area_list(scenario.world.viewer_city, 2026, "village", criteria)
    assert sum(row["approved_surveys"] for row in page.items) == 12
    for area in (services.CITY, services.Area("county", scenario.world.county_a.id),
                 services.Area("village", scenario.village_c.id)):
        assert services.evaluation_for(area, 2026, criteria).results["approved_surveys"] > 0


def test_the_rebuild_command_reports_and_records_the_build(app, runner):
    scenario = Scenario(random.Random(13))
    for village in scenario.villages:
        add_survey(village, status="approved", year=2026)
    db.session.commit()
    result = runner.invoke(args=["evaluate", "--rebuild", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "4" in result.output
    db.session.remove()
    build = db.session.scalars(select(EvaluationBuild)).one()
    assert build.surveys == 4
    assert_matches_fresh_scoring(services.criteria_named(None))


def test_the_evaluate_command_still_needs_a_year_without_rebuild(app, runner):
    result = runner.invoke(args=["evaluate"])
    assert result.exit_code != 0
    assert "--year" in result.output


@pytest.mark.parametrize("registered", [0, 50])
def test_editing_a_village_in_the_admin_updates_its_coverage(app, auth, registered):
    scenario = Scenario(random.Random(17))
    village = scenario.world.village_a
    add_survey(village, status="approved", year=2026)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    auth.login("admin")
    response = auth.post(f"/admin/areas/village/{village.id}", {
        "code": village.code, "name": village.name, "registered_households": registered,
        "parent": village.township_id}, token_from=f"/admin/areas/village/{village.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    db.session.remove()
    criteria = services.criteria_named(None)
    village = db.session.get(Village, village.id)
    row = precomputed.stored_results(criteria, 2026, "village", [village.id])[village.id]
    assert row.results["registered_households"] == (registered or None)
    assert_matches_fresh_scoring(criteria)


def test_two_approvals_at_once_in_one_township_both_count(app):
    """Two reviewers approve at the same moment: the second refresh waits for the first
    transaction (PostgreSQL: the city row is locked; SQLite: its one writer lock, within the busy
    timeout), so neither approval is lost."""
    import threading

    scenario = Scenario(random.Random(19))
    precomputed.rebuild()
    first = add_survey(scenario.world.village_a, status="submitted", year=2026)
    second = add_survey(scenario.village_c, status="submitted", year=2026)
    db.session.commit()
    ids = [first.id, second.id]
    township, admin_id = scenario.world.township_a.id, scenario.admin.id
    first_refreshed, release = threading.Event(), threading.Event()
    errors = []

    def approve(survey_id, hold):
        with app.app_context():
            try:
                survey = db.session.get(Survey, survey_id)
                review_survey(db.session.get(User, admin_id), survey, "approve", "")
                if hold:
                    first_refreshed.set()
                    release.wait(10)
                db.session.commit()
            except Exception as error:  # reported below
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    holder = threading.Thread(target=approve, args=(ids[0], True))
    holder.start()
    assert first_refreshed.wait(10)
    other = threading.Thread(target=approve, args=(ids[1], False))
    other.start()
    other.join(0.5)
    assert other.is_alive(), "the second refresh did not wait for the first transaction"
    release.set()
    holder.join(10)
    other.join(10)
    assert not errors
    db.session.remove()
    criteria = services.criteria_named(None)
    assert precomputed.stored_results(criteria, 2026, "township", [township])[township].results["approved_surveys"] == 2
    assert_matches_fresh_scoring(criteria)


def test_finalizing_a_county_reads_the_stored_results_and_freezes_the_same_figures(app, monkeypatch):
    from village_survey.evaluations import finalizing

    scenario = Scenario(random.Random(23))
    for village in scenario.villages:
        for n in range(3):
            add_survey(village, status="approved", year=2026, **varied_answers(n))
    odd = add_survey(scenario.world.village_a, status="approved", year=2026)
    odd.form_version = 99
    db.session.commit()
    criteria = services.criteria_named(None)
    county = services.Area("county", scenario.world.county_a.id)
    fresh = services.evaluate_scored(services.score_area(2026, criteria, county, detail=True))
    precomputed.rebuild()
    db.session.commit()

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored again while finalizing")

    monkeypatch.setattr(finalizing, "score_area", no_scoring)
    outcome = finalizing.finalize(scenario.admin, county, 2026, criteria, anyway=True)
    db.session.commit()
    frozen = {(e.level, e.area_id): e for e in outcome.created}
    assert _comparable(frozen[("county", county.id)].results) == _comparable(fresh.counties[county.id])
    village = scenario.world.village_a
    stored_village = frozen[("village", village.id)]
    assert stored_village.results["farmhouses"] == fresh.villages[village.id]["farmhouses"]
    assert [u["uuid"] for u in stored_village.inputs["unscorable"]] == [odd.uuid]
    assert finalizing.reproduce(frozen[("county", county.id)]) == {
        k: v for k, v in frozen[("county", county.id)].results.items()
        if k not in ("name", "code", "areas", "criteria_version", "measure_totals")}


def test_a_scored_result_stores_no_error_at_all(app):
    """None is SQL NULL in the JSON columns: 'error IS NULL' selects the scored rows."""
    scenario = Scenario(random.Random(29))
    add_survey(scenario.world.village_a, status="approved", year=2026)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StoredResult).where(StoredResult.error.is_(None))) == 1
    assert db.session.scalar(select(func.count()).select_from(StoredResult).where(StoredResult.sums.is_(None))) == 0
