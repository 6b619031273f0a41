"""Finalizing asks first (surveys waiting, households not surveyed) and is refused while surveys
wait unless finalized anyway; admins reopen a finalized evaluation with a reason, and finalizing
again stores a new version, the earlier one kept frozen and listed."""

import copy
import re

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.evaluations.test_pages import in_english
from tests.factories import make_village
from village_survey.accounts.models import User
from village_survey.areas.models import utcnow
from village_survey.audit import AuditEvent
from village_survey.evaluations import finalizing, services
from village_survey.evaluations.models import Evaluation, FrozenEvaluationError
from village_survey.extensions import db
from village_survey.scoring import load_criteria


@pytest.fixture
def criteria():
    return load_criteria("jiujiang-2025")


def village_path(world):
    return f"/evaluations/village/{world.village_a.id}"


def login_as(auth, username, english=False):
    """Log out whoever is logged in, and log in as `username`."""
    auth.post("/logout")
    (in_english if english else type(auth).login)(auth, username)


def finalize(auth, path, **form):
    """POST the confirmation page's form, sent from that page."""
    return auth.post(f"{path}/finalize", {"year": YEAR, **form}, token_from=f"{path}/finalize?year={YEAR}")


def reopen(auth, path, reason, **kwargs):
    return auth.post(f"{path}/reopen", {"year": YEAR, "reason": reason}, token_from=f"{path}?year={YEAR}",
                     **kwargs)


def stored(level="village"):
    return db.session.scalars(select(Evaluation).where(Evaluation.level == level)
                              .order_by(Evaluation.version)).all()


def count(html, name):
    return int(re.search(rf"data-{name}>([\d,]+)<", html).group(1).replace(",", ""))


def village_with_surveys_waiting(world):
    """Village A: 20 registered, 10 approved, 3 submitted, a draft and a returned one."""
    world.village_a.registered_households = 20
    add_surveys(world.village_a, 10, seed=50)
    waiting = add_surveys(world.village_a, 3, seed=51, status="submitted")
    add_survey(world.village_a, status="draft")
    add_survey(world.village_a, status="returned")
    add_survey(world.village_a, status="submitted", year=YEAR - 1)  # another year: not counted
    add_survey(world.village_b, status="submitted")  # another county
    db.session.commit()
    return waiting


# ---------------------------------------------------------------- the confirmation


def test_confirmation_counts_surveys_waiting_and_households_not_surveyed(auth, world, client):
    village_with_surveys_waiting(world)
    crowded = make_village(world.township_a2, "201", "满村", registered=2)
    add_surveys(crowded, 3, seed=52)  # more surveys than registered: does not offset village A
    db.session.commit()
    in_english(auth, "reviewer-a")
    html = client.get(f"{village_path(world)}/finalize?year={YEAR}").get_data(as_text=True)
    assert (count(html, "waiting"), count(html, "in-progress"), count(html, "approved"),
            count(html, "not-surveyed")) == (3, 2, 10, 5)
    assert "of 20 registered households not surveyed this year" in html
    assert "data-anyway" in html and "data-finalize-form" in html
    county = client.get(f"/evaluations/county/{world.county_a.id}/finalize?year={YEAR}").get_data(as_text=True)
    # village A2 of county A: 100 registered, none surveyed; the crowded village: none missing
    assert (count(county, "waiting"), count(county, "approved"), count(county, "not-surveyed")) == (3, 13, 105)
    assert "of 122 registered households not surveyed this year" in county


def test_confirmation_with_nothing_waiting_asks_no_tick(auth, world, client):
    add_surveys(world.village_a, 10, seed=53)
    db.session.commit()
    auth.login("reviewer-a")
    html = client.get(f"{village_path(world)}/finalize?year={YEAR}").get_data(as_text=True)
    assert count(html, "waiting") == 0 and "data-anyway" not in html and "data-finalize-form" in html
    assert finalize(auth, village_path(world)).status_code == 303
    assert [e.version for e in stored()] == [1]


def test_the_evaluation_page_links_to_the_confirmation_not_straight_to_finalizing(auth, world, client):
    auth.login("reviewer-a")
    html = client.get(f"{village_path(world)}?year={YEAR}").get_data(as_text=True)
    assert f'href="{village_path(world)}/finalize?year={YEAR}' in html
    assert f'action="{village_path(world)}/finalize"' not in html


@pytest.mark.parametrize("username", ["viewer-a", "surveyor-a"])
def test_the_confirmation_is_only_for_those_who_finalize(auth, world, client, username):
    auth.login(username)
    assert client.get(f"{village_path(world)}/finalize?year={YEAR}").status_code == 403


def test_the_confirmation_of_a_finalized_evaluation_goes_back_to_it(auth, world, client):
    auth.login("reviewer-a")
    assert finalize(auth, village_path(world)).status_code == 303
    response = client.get(f"{village_path(world)}/finalize?year={YEAR}")
    assert response.status_code == 303 and response.headers["Location"].startswith(village_path(world))


# ---------------------------------------------------------------- refused while surveys wait


def test_finalizing_while_surveys_wait_is_refused_without_the_tick(auth, world, client):
    village_with_surveys_waiting(world)
    in_english(auth, "reviewer-a")
    response = finalize(auth, village_path(world))
    # a refused page form goes back to the confirmation, which says why
    assert response.status_code == 303 and "/finalize" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 surveys of this area still wait for review" in html
    assert stored() == []
    answer = auth.post(f"{village_path(world)}/finalize", {"year": YEAR}, headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.get_json()["code"] == "invalid" and answer.get_json()["waiting"] == 3
    assert stored() == []


def test_finalizing_anyway_stores_the_evaluation_of_the_approved_surveys(auth, world, client):
    village_with_surveys_waiting(world)
    auth.login("reviewer-a")
    assert finalize(auth, village_path(world), anyway="yes").status_code == 303
    [evaluation] = stored()
    assert evaluation.results["approved_surveys"] == 10 and evaluation.version == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation_finalized")).one()
    assert event.detail["anyway"] is True and event.detail["version"] == 1


# ---------------------------------------------------------------- reopening


def test_only_admins_may_reopen(auth, world, client):
    add_surveys(world.village_a, 10, seed=54)
    db.session.commit()
    auth.login("reviewer-a")
    assert finalize(auth, village_path(world)).status_code == 303
    assert "data-reopen-form" not in client.get(f"{village_path(world)}?year={YEAR}").get_data(as_text=True)
    assert reopen(auth, village_path(world), "wrong surveys").status_code == 403
    assert [e.current for e in stored()] == [True]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation_reopened")).all() == []


def test_reopening_needs_a_reason(auth, world, client):
    auth.login("reviewer-a")
    finalize(auth, village_path(world))
    login_as(auth, "admin", english=True)
    assert "data-reopen-form" in client.get(f"{village_path(world)}?year={YEAR}").get_data(as_text=True)
    response = reopen(auth, village_path(world), "   ")
    assert response.status_code == 303
    assert "Give the reason for reopening." in client.get(response.headers["Location"]).get_data(as_text=True)
    answer = reopen(auth, village_path(world), "", headers={"Accept": "application/json"})
    assert answer.status_code == 422 and "reason" in answer.get_json()["errors"]
    assert [e.current for e in stored()] == [True]


def test_reopening_is_audited_and_finalizing_again_stores_version_2(auth, world, client):
    world.village_a.registered_households = 20
    surveys = add_surveys(world.village_a, 12, seed=55)
    db.session.commit()
    auth.login("reviewer-a")
    finalize(auth, village_path(world))
    first = stored()[0]
    frozen = (copy.deepcopy(first.results), copy.deepcopy(first.inputs), first.finalized_at)

    login_as(auth, "admin", english=True)
    response = reopen(auth, village_path(world), "Two surveys were approved with wrong stoves.")
    assert response.status_code == 303
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation_reopened")).one()
    assert (event.username, event.target) == ("admin", f"village:{world.village_a.code}")
    assert event.detail["reason"] == "Two surveys were approved with wrong stoves."
    assert event.detail["version"] == 1
    db.session.expire_all()
    assert [(e.version, e.current, e.reopened_by_name) for e in stored()] == [(1, False, "admin")]
    html = client.get(f"{village_path(world)}?year={YEAR}").get_data(as_text=True)
    assert "data-preview" in html and "data-finalize-link" in html
    assert "Two surveys were approved with wrong stoves." in html

    for survey in surveys[:2]:  # corrected meanwhile
        survey.answers = {**survey.answers, "primary_stove": "traditional_wood", "stove_chimney": False}
        survey.revision += 1
    db.session.commit()
    login_as(auth, "reviewer-a")
    assert finalize(auth, village_path(world)).status_code == 303
    db.session.expire_all()
    first, second = stored()
    assert (first.version, first.current, second.version, second.current) == (1, False, 2, True)
    # version 1 is frozen: its figures and stamp are what they were
    assert (first.results, first.inputs, first.finalized_at) == frozen
    assert second.results["indicators"] != first.results["indicators"]
    assert sorted(f[1] for f in second.inputs["farmhouses"]) == [1] * 10 + [2] * 2

    login_as(auth, "reviewer-a", english=True)
    html = client.get(f"{village_path(world)}?year={YEAR}").get_data(as_text=True)
    assert re.search(r'data-finalized data-version="2"', html)
    assert "Version 2, finalized by reviewer-a" in html and "data-finalize-link" not in html
    versions = html.split("data-versions")[1]
    assert 'data-version-row="2"' in versions and 'data-version-row="1"' in versions
    assert "Reopened by admin" in versions and "Two surveys were approved with wrong stoves." in versions
    assert "version=1" in versions
    old = client.get(f"{village_path(world)}?year={YEAR}&version=1").get_data(as_text=True)
    assert re.search(r'data-reopened data-version="1"', old)
    assert f'data-score>{first.results["score"]:g}<' in old  # version 1's own figures
    assert f'data-score>{second.results["score"]:g}<' in html
    assert client.get(f"{village_path(world)}?year={YEAR}&version=3").status_code == 404


def test_a_stored_version_is_never_changed_or_deleted(app, world, criteria):
    area = services.Area("village", world.village_a.id)
    evaluation = finalizing.finalize(world.reviewer_a, area, YEAR, criteria).created[0]
    db.session.commit()
    evaluation.results = {**evaluation.results, "score": 100.0}
    with pytest.raises(FrozenEvaluationError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(evaluation)
    with pytest.raises(FrozenEvaluationError):
        db.session.flush()
    db.session.rollback()
    finalizing.reopen(world.admin, area, YEAR, criteria.name, "first reason")
    db.session.commit()
    evaluation.reopen_reason = "another reason"  # a reopened version's record is frozen too
    with pytest.raises(FrozenEvaluationError):
        db.session.flush()
    db.session.rollback()


def test_reopening_a_village_reopens_the_areas_that_pooled_it_not_its_neighbours(app, world, criteria):
    add_surveys(world.village_a, 10, seed=56)
    add_surveys(world.village_a2, 10, seed=57)
    db.session.commit()
    county = services.Area("county", world.county_a.id)
    finalizing.finalize(world.admin, county, YEAR, criteria)
    db.session.commit()
    reopened = finalizing.reopen(world.admin, services.Area("village", world.village_a.id), YEAR,
                                 criteria.name, "late surveys")
    db.session.commit()
    assert [(e.level, e.area_id) for e in reopened] == [
        ("village", world.village_a.id), ("township", world.township_a.id), ("county", world.county_a.id)]
    assert reopened[1].reopen_reason == f"甲村 (village:{world.village_a.code}): late surveys"
    current = {(e.level, e.area_id) for e in db.session.scalars(
        select(Evaluation).where(Evaluation.reopened_at.is_(None)))}
    assert current == {("village", world.village_a2.id), ("township", world.township_a2.id)}

    outcome = finalizing.finalize(world.admin, county, YEAR, criteria)
    db.session.commit()
    assert sorted((e.level, e.version) for e in outcome.created) == [
        ("county", 2), ("township", 2), ("village", 2)]
    assert sorted((e.level, e.version) for e in outcome.kept) == [("township", 1), ("village", 1)]
    new_county = services.current_evaluations("county", [world.county_a.id], YEAR, criteria.name)[world.county_a.id]
    again = finalizing.reproduce(new_county)
    assert again["score"] == new_county.results["score"] and again["indicators"] == new_county.results["indicators"]


def test_reopening_what_is_not_finalized_is_a_conflict(app, world, criteria):
    with pytest.raises(services.EvaluationError) as refused:
        finalizing.reopen(world.admin, services.Area("village", world.village_a.id), YEAR, criteria.name, "why")
    assert refused.value.status == 409


def test_reopening_the_city_and_finalizing_it_again(app, world, criteria):
    finalizing.finalize(world.admin, services.CITY, YEAR, criteria)
    db.session.commit()
    finalizing.reopen(world.admin, services.CITY, YEAR, criteria.name, "new villages")
    db.session.commit()
    outcome = finalizing.finalize(world.admin, services.CITY, YEAR, criteria)
    db.session.commit()
    assert [(e.level, e.version) for e in outcome.created] == [("city", 2)]
    assert [v.version for v in services.version_summaries(services.CITY, YEAR, criteria.name)] == [1, 2]


# ---------------------------------------------------------------- at most one current version


@pytest.mark.parametrize("step", [
    "score_area",  # the other one commits while this one scores
    "_next_versions",  # ... after this one looked for a current version, before it stores its own
])
@pytest.mark.parametrize("reopened_first", [False, True])
def test_two_reviewers_finalizing_at_once_one_is_told_it_is_already_finalized(
        app, world, criteria, monkeypatch, step, reopened_first):
    add_surveys(world.village_a, 10, seed=58)
    db.session.commit()
    area = services.Area("village", world.village_a.id)
    if reopened_first:
        finalizing.finalize(world.reviewer_a, area, YEAR, criteria)
        finalizing.reopen(world.admin, area, YEAR, criteria.name, "again")
        db.session.commit()
    admin_id = world.admin.id
    real_step = getattr(finalizing, step)
    raced = []

    def step_while_another_reviewer_finalizes(*args, **kwargs):
        # the other reviewer's request, in its own session, passed the same checks and commits
        if not raced:
            raced.append(True)
            with app.app_context():
                finalizing.finalize(db.session.get(User, admin_id), area, YEAR, criteria)
                db.session.commit()
        return real_step(*args, **kwargs)

    monkeypatch.setattr(finalizing, step, step_while_another_reviewer_finalizes)
    with pytest.raises(services.EvaluationError) as refused:
        finalizing.finalize(world.reviewer_a, area, YEAR, criteria)
    assert refused.value.status == 409 and "已定稿" in str(refused.value.message)
    db.session.rollback()
    current = [e for e in stored() if e.current]
    assert len(current) == 1 and current[0].finalized_by_name == "admin"
    assert current[0].version == (2 if reopened_first else 1)


def _row(level, area_id, version, reopened=False):
    return {"level": level, "area_id": area_id, "year": YEAR, "criteria": "jiujiang-2025", "version": version,
            "criteria_version": 1, "results": {}, "inputs": {}, "finalized_by_name": "x",
            "finalized_at": utcnow(), "reopened_at": utcnow() if reopened else None,
            "reopened_by_name": "x" if reopened else None, "reopen_reason": "why" if reopened else None}


@pytest.mark.parametrize("level, area_id", [("village", 7), ("city", None)])
def test_the_database_keeps_at_most_one_current_version_and_unique_numbers(app, level, area_id):
    db.session.execute(insert(Evaluation), [_row(level, area_id, 1, reopened=True), _row(level, area_id, 2)])
    db.session.commit()
    for duplicate in (_row(level, area_id, 3), _row(level, area_id, 2, reopened=True)):
        with pytest.raises(IntegrityError):
            db.session.execute(insert(Evaluation), [duplicate])
            db.session.flush()
        db.session.rollback()
    # another year has its own versions
    db.session.execute(insert(Evaluation), [{**_row(level, area_id, 1), "year": YEAR + 1}])
    db.session.commit()
