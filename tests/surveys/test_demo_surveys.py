"""The demo's surveys: valid answers with a realistic mix, two survey years, reproducible, readable."""

import datetime as dt
import random
from collections import Counter

import pytest
from flask_migrate import upgrade
from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.orm import aliased

from tests.conftest import Auth, IsolatedClient
from village_survey import create_app
from village_survey import survey_fields as sf
from village_survey.accounts.models import User
from village_survey.areas.models import Household, Village
from village_survey.demo import COUNTIES
from village_survey.extensions import db
from village_survey.surveys.demo import (
    DemoHousehold,
    demo_answers,
    draw_profile,
    earlier_profile,
    render_answers,
)
from village_survey.surveys.forms import answers_to_formdata, check_formdata
from village_survey.surveys.models import Survey, SurveyRevision
from village_survey.surveys.services import content_hash

TODAY = dt.date.today()
THIS_YEAR = TODAY.year
BUILDING_KEYS = ("year_built", "storeys", "floor_area_m2", "structure", "safety_appraisal")


def _household(rng, n):
    county = rng.choice(COUNTIES)[0]
    phone = f"139{rng.randrange(10**8):08d}" if rng.random() < 0.6 else None
    return DemoHousehold(id=n, village_code=f"{county}{100 + n % 4:03d}{200 + n % 6:03d}",
                         house_number=f"{1 + n // 15}组{n}号", head_name="刘建国", phone=phone)


def _assert_valid(answers, household, year, status="submitted"):
    checked = check_formdata(answers_to_formdata(answers), status, year)
    assert checked.errors == {}, (checked.errors, answers)
    # the stored shape is the validated one: JSON types, ints when integral, ISO dates
    assert checked.answers == answers
    assert not [c for c in sf.cross_check_problems(answers) if c.severity == "error"]
    assert answers["house_number"] == household.house_number
    assert answers["head_name"] == household.head_name
    assert answers.get("phone") == household.phone
    survey_date = dt.date.fromisoformat(answers["survey_date"])
    assert survey_date.year == year and survey_date <= TODAY


def _generated(count, seed=7):
    rng = random.Random(seed)
    return [demo_answers(rng, _household(rng, n), THIS_YEAR) for n in range(count)]


def _share(answer_sets, test):
    return sum(1 for answers in answer_sets if test(answers)) / len(answer_sets)


def test_generated_answers_pass_the_real_validation(app):
    with app.test_request_context():
        for seed in range(250):
            rng = random.Random(seed)
            household = _household(rng, seed)
            answers = demo_answers(rng, household, THIS_YEAR)
            assert sf.missing_required(answers) == []
            _assert_valid(answers, household, THIS_YEAR)
            # last year's answers of the same household are just as valid
            profile = earlier_profile(rng, draw_profile(rng, household, THIS_YEAR), THIS_YEAR - 1)
            _assert_valid(render_answers(rng, household, profile, THIS_YEAR - 1), household, THIS_YEAR - 1)


def test_generated_answers_show_a_jiujiang_county_mix():
    answer_sets = _generated(4000)
    primary = Counter(a["primary_stove"] for a in answer_sets)
    assert 0.48 < primary["electric"] / 4000 < 0.62
    assert 0.19 < primary["lpg"] / 4000 < 0.31
    assert 0.06 < primary["improved_wood"] / 4000 < 0.14
    assert 0.03 < primary["traditional_wood"] / 4000 < 0.10
    assert 0 < primary["coal"] + primary["biogas"] < 0.06 * 4000
    assert 0.18 < _share(answer_sets, lambda a: a["pv_installed"]) < 0.32
    assert _share(answer_sets, lambda a: a["structure"] == "brick_concrete") > 0.7
    assert _share(answer_sets, lambda a: a["grid_connected"] and a["supply_hours"] == 24) > 0.9
    assert 0.1 < _share(answer_sets, lambda a: "electricity_kwh" not in a) < 0.3
    assert 0.02 < _share(answer_sets, lambda a: a["outages_per_week"] > 0) < 0.35
    assert _share(answer_sets, lambda a: a.get("firewood_kg", 0) > 0) > 0.1
    kwh = sorted(a["electricity_kwh"] for a in answer_sets if "electricity_kwh" in a)
    assert 500 < kwh[len(kwh) // 10] and kwh[-len(kwh) // 10] < 6500
    lamps = [(a["lamps_led"], a["lamps_led"] + a["lamps_cfl"] + a["lamps_incandescent"]) for a in answer_sets]
    assert sum(led for led, _ in lamps) / sum(total for _, total in lamps) > 0.75


def test_generated_answers_follow_the_rules_between_keys():
    for answers in _generated(3000, seed=11):
        wood_or_coal = answers["primary_stove"] in sf.WHEN_WOOD_OR_COAL_STOVE.when_values
        assert ("stove_chimney" in answers) == wood_or_coal
        if answers.get("biogas_m3"):
            assert answers["biogas_digester"] == "working"
        if answers["pv_installed"]:
            assert 3 <= answers["pv_kwp"] <= 50 and 2016 <= answers["pv_year"] <= THIS_YEAR
            assert answers["pv_year"] >= answers["year_built"] or answers["pv_year"] == 2016
        else:
            assert not {"pv_kwp", "pv_year", "pv_mode", "pv_location", "battery_kwh"} & set(answers)
        if not answers["grid_connected"]:
            assert answers["pv_mode"] == "off_grid"


def test_last_year_resembles_this_year():
    rng = random.Random(3)
    pairs = []
    for n in range(2000):
        household = _household(rng, n)
        profile = draw_profile(rng, household, THIS_YEAR)
        pairs.append((profile.stable, earlier_profile(rng, profile, THIS_YEAR - 1).stable))
    assert all(all(now[k] == before[k] for k in BUILDING_KEYS) for now, before in pairs)
    new_pv = sum(1 for now, before in pairs if now["pv_installed"] and not before["pv_installed"])
    lost_pv = sum(1 for now, before in pairs if before["pv_installed"] and not now["pv_installed"])
    new_stove = sum(1 for now, before in pairs if now["primary_stove"] != before["primary_stove"])
    assert lost_pv == 0 and 0 < new_pv < 0.08 * len(pairs)
    assert 0 < new_stove < 0.12 * len(pairs)


# ---------------------------------------------------------------- the seeded database


def _seed(path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded demo database shared by the tests that only read it."""
    app = _seed(tmp_path_factory.mktemp("demo") / "demo.db")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _counts():
    rows = db.session.execute(select(Survey.year, Survey.status, func.count()).group_by(Survey.year, Survey.status))
    return {(year, status): count for year, status, count in rows}


def test_seed_surveys_both_years_with_the_status_mix(seeded):
    counts = _counts()
    households = db.session.scalar(select(func.count(Household.id)))
    this_year = {s: counts.get((THIS_YEAR, s), 0) for s in ("approved", "submitted", "returned", "draft")}
    last_year = {s: counts.get((THIS_YEAR - 1, s), 0) for s in ("approved", "submitted", "returned", "draft")}
    assert 0.80 < sum(this_year.values()) / households < 0.90
    assert 0.70 < sum(last_year.values()) / households < 0.80
    total = sum(this_year.values())
    assert 0.64 < this_year["approved"] / total < 0.76
    assert 0.11 < this_year["submitted"] / total < 0.19
    assert 0.05 < this_year["returned"] / total < 0.11
    assert 0.04 < this_year["draft"] / total < 0.10
    assert last_year["approved"] / sum(last_year.values()) > 0.95 and last_year["draft"] == 0
    assert set(counts) <= {(THIS_YEAR, s) for s in this_year} | {(THIS_YEAR - 1, s) for s in last_year}


def _revisions_by_survey():
    result = {}
    for revision in db.session.scalars(select(SurveyRevision).order_by(SurveyRevision.survey_id,
                                                                       SurveyRevision.number)):
        result.setdefault(revision.survey_id, []).append(revision)
    return result


def _assert_history(survey, revisions):
    assert [r.number for r in revisions] == list(range(1, survey.revision + 1))
    assert revisions[-1].status == survey.status
    assert [r.at for r in revisions] == sorted(r.at for r in revisions)
    assert survey.updated_at == revisions[-1].at and survey.created_at == revisions[0].at
    if survey.status == "returned":
        assert survey.reviewer_comment and survey.reviewer_comment == revisions[-1].comment
        assert survey.reviewed_at and survey.reviewed_by_id
    elif survey.status == "approved":
        assert survey.revision in (2, 4) and survey.reviewer_comment is None
        assert [r.status for r in revisions][-2:] == ["submitted", "approved"]
    else:
        assert survey.revision == 1 and survey.reviewed_at is None
    # The first revision records every answer as new, as a save does.
    first = {k: v for k, (_old, v) in revisions[0].changes.items()}
    if survey.revision == 4:
        (key, (wrong, right)), = revisions[2].changes.items()
        assert first[key] == wrong and survey.answers[key] == right and revisions[1].comment
    else:
        assert first == survey.answers


def test_seeded_surveys_are_consistent(seeded):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    revisions = _revisions_by_survey()
    for survey, household in db.session.execute(select(Survey, Household).join(Survey.household)):
        answers = survey.answers
        sent_as = "draft" if survey.status == "draft" else "submitted"
        assert survey.content_hash == content_hash(1, survey.year, sent_as, answers)
        assert (answers["house_number"], answers["head_name"], answers.get("phone")) == (
            household.house_number, household.head_name, household.phone)
        survey_date = dt.date.fromisoformat(answers["survey_date"])
        assert survey_date.year == survey.year and survey_date <= TODAY
        assert survey.created_at.date() >= survey_date and survey.updated_at <= now
        _assert_history(survey, revisions[survey.id])


def test_a_sample_of_seeded_answers_passes_the_real_validation(seeded):
    surveys = db.session.scalars(select(Survey).order_by(Survey.id)).all()
    with seeded.test_request_context():
        for survey in random.Random(1).sample(surveys, 300):
            status = "draft" if survey.status == "draft" else "submitted"
            _assert_valid(survey.answers, survey.household, survey.year, status)


def test_the_demo_surveyor_reads_a_seeded_survey_through_the_api(seeded):
    surveyor = db.session.scalars(select(User).where(User.username == "demo-surveyor")).one()
    in_township = (select(Survey).join(Survey.household).join(Household.village)
                   .where(Village.township_id == surveyor.township_id).order_by(Survey.id))
    survey = db.session.scalars(in_township.where(Survey.status == "returned")).first()
    elsewhere = db.session.scalars(select(Survey).join(Survey.household).join(Household.village)
                                   .where(Village.township_id != surveyor.township_id)).first()
    client = seeded.test_client()
    assert Auth(client).login("demo-surveyor", seeded.config["DEMO_PASSWORD"]).status_code == 302
    response = client.get(f"/api/v1/surveys/{survey.uuid}")
    assert response.status_code == 200
    state = response.get_json()
    assert state["answers"] == survey.answers and state["status"] == "returned"
    assert state["revision"] == 2 and state["reviewer_comment"] == survey.reviewer_comment
    assert client.get(f"/api/v1/surveys/{elsewhere.uuid}").status_code == 404


def _dump():
    """Every seeded survey and revision, the JSON as stored (byte for byte), without database ids."""
    creator, reviewer = aliased(User), aliased(User)
    surveys = db.session.execute(
        select(Village.code, Household.house_number, Survey.uuid, Survey.year, Survey.status,
               type_coerce(Survey.answers, Text),
               Survey.content_hash, Survey.revision, Survey.reviewer_comment, Survey.created_at,
               Survey.updated_at, Survey.submitted_at, Survey.reviewed_at, creator.username, reviewer.username)
        .join(Survey.household).join(Household.village).join(creator, Survey.created_by)
        .outerjoin(reviewer, Survey.reviewed_by).order_by(Survey.uuid)).all()
    revisions = db.session.execute(
        select(Survey.uuid, SurveyRevision.number, SurveyRevision.status, User.username, SurveyRevision.at,
               type_coerce(SurveyRevision.changes, Text), SurveyRevision.comment)
        .join(SurveyRevision.survey).join(SurveyRevision.user).order_by(Survey.uuid, SurveyRevision.number)).all()
    return surveys, revisions


def test_seeding_again_gives_the_same_surveys(seeded, tmp_path):
    first = _dump()
    counts = _counts(), db.session.scalar(select(func.count(SurveyRevision.id)))
    again = seeded.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert (_counts(), db.session.scalar(select(func.count(SurveyRevision.id)))) == counts  # once only
    other = _seed(tmp_path / "again.db")
    with other.app_context():
        second = _dump()
        db.session.remove()
        db.engine.dispose()
    assert len(first[0]) > 10000 and first == second
