"""The commands: `flask score-household` (pure scoring of answers files) and `flask evaluate`."""

import json

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.evaluations.conftest import YEAR, add_surveys
from tests.factories import complete_answers
from village_survey.audit import AuditEvent
from village_survey.evaluations.models import Evaluation
from village_survey.extensions import db
from village_survey.scoring import load_criteria, score_farmhouse


@pytest.fixture(autouse=True)
def in_english(app):
    """Messages in English whatever the catalogs say (the command line's default is Chinese)."""
    with force_locale("en"):
        yield


@pytest.fixture
def answers_file(tmp_path):
    def write(content, name="answers.json"):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        return str(path)
    return write


def test_one_household_as_json_holds_the_full_result(runner, answers_file):
    answers = complete_answers(primary_stove="traditional_wood", stove_chimney=False)
    result = runner.invoke(args=["score-household", answers_file(answers), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = score_farmhouse(answers, load_criteria("jiujiang-2025"))
    assert data["total"] == pytest.approx(expected.total, abs=0.01) and data["stars"] == expected.stars
    assert data["base_level"] is False and 0 <= data["stars"] <= 3
    assert [(p["id"], p["met"]) for p in data["prerequisites"]] == [
        ("P1", True), ("P2", True), ("P3", False), ("P4", True)]
    assert all(p["why"] for p in data["prerequisites"])
    assert [c["id"] for c in data["categories"]] == ["A", "B", "C", "D", "E"]
    assert all({"points", "max", "items"} <= set(c) for c in data["categories"])
    assert {"gross_kgco2e", "avoided_kgco2e", "net_kgco2e", "biogenic_co2_kg"} <= set(data["carbon"])
    assert {"bonus", "zero_carbon", "energy", "mtf_tier"} <= set(data)
    assert data["improvements"][0]["id"] == "P3"


def test_an_array_gives_a_list_in_the_same_order(runner, answers_file):
    batch = [complete_answers(residents=n, pv_installed=n % 2 == 0) for n in (1, 2, 3)]
    result = runner.invoke(args=["score-household", answers_file(batch)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    criteria = load_criteria("jiujiang-2025")
    assert [d["carbon"]["persons"] for d in data] == [1, 2, 3]
    assert [d["total"] for d in data] == [pytest.approx(score_farmhouse(a, criteria).total, abs=0.01) for a in batch]


def test_text_format_is_a_readable_report(runner, answers_file):
    result = runner.invoke(args=["score-household", answers_file(complete_answers()), "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "Prerequisites" in result.output and "P1 met" in result.output
    assert "What would raise the score most" in result.output


def test_standard_input_is_read_with_a_dash(runner):
    result = runner.invoke(args=["score-household", "-"], input=json.dumps(complete_answers()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["criteria"] == "jiujiang-2025"


def test_missing_optional_energy_figures_use_the_documented_defaults_and_say_so(runner, answers_file):
    answers = complete_answers(electricity_kwh=None, lpg_kg=None, firewood_kg=None)
    data = json.loads(runner.invoke(args=["score-household", answers_file(answers)]).output)
    used = {d["code"]: d for d in data["defaults_used"]}
    assert {"electricity_missing", "pv_generation_estimated", "fuel_missing_as_zero"} <= set(used)
    assert "lpg_kg" in used["fuel_missing_as_zero"]["params"]["keys"]
    assert data["energy"]["electricity"]["pv_generation_kwh"] == 5 * 1095


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON: line 1, column 2"),
    ("[1, 2]", "must hold one answers object, or an array of answers objects"),
    ("[]", "must hold one answers object"),
    ('"text"', "must hold one answers object"),
    (json.dumps([complete_answers(), complete_answers(residents="many")]),
     "answers 2: answer 'residents' = 'many': expected a number"),
    (json.dumps(complete_answers(primary_stove="fireplace")), "answer 'primary_stove' = 'fireplace'"),
])
def test_bad_input_is_a_clear_error_not_a_traceback(runner, answers_file, content, message):
    result = runner.invoke(args=["score-household", answers_file(content)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (ValueError, KeyError))


def test_an_unknown_criteria_set_lists_the_available_ones(runner, answers_file):
    result = runner.invoke(args=["score-household", answers_file(complete_answers()), "--criteria", "nowhere-2030"])
    assert result.exit_code != 0
    assert "no criteria set 'nowhere-2030' (available: jiujiang-2025)" in result.output


def test_an_invalid_criteria_file_refuses_with_its_line_and_reason(runner, answers_file, tmp_path):
    from village_survey.scoring.criteria import CRITERIA_DIR

    text = (CRITERIA_DIR / "jiujiang-2025.toml").read_text(encoding="utf-8")
    broken = text.replace("min_approved_surveys = 10", "min_approved_surveys = 0")
    line = broken.splitlines().index("min_approved_surveys = 0") + 1
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    result = runner.invoke(args=["score-household", answers_file(complete_answers()), "--criteria", str(path)])
    assert result.exit_code != 0
    assert f"broken.toml:{line}: min_approved_surveys must be a whole number ≥ 1" in result.output


def test_evaluate_prints_every_village_and_area(runner, app, world):
    world.village_a.registered_households = 20
    add_surveys(world.village_a, 12, seed=30)
    add_surveys(world.village_b, 3, seed=31)
    db.session.commit()
    result = runner.invoke(args=["evaluate", "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    village_a = next(line for line in lines if world.village_a.code in line)
    assert village_a.startswith("village") and "12/20" in village_a
    assert any(line.startswith("city") and "15/" in line for line in lines)
    assert any(world.county_b.code in line for line in lines)
    assert db.session.scalars(select(Evaluation)).all() == []


def test_evaluate_of_one_county_leaves_the_others_out(runner, app, world):
    result = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", f"county:{world.county_a.code}"])
    assert result.exit_code == 0, result.output
    assert world.village_a.code in result.output and world.village_b.code not in result.output


@pytest.mark.parametrize("area, message", [
    ("county:999999", "There is no county with the code 999999."),
    ("province:36", "Give the area as city, county:<code>, township:<code> or village:<code>"),
])
def test_evaluate_refuses_an_unknown_area(runner, app, world, area, message):
    result = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", area])
    assert result.exit_code != 0 and message in result.output


def test_evaluate_finalize_stores_every_level_and_keeps_what_is_finalized(runner, app, world):
    add_surveys(world.village_a, 10, seed=32)
    db.session.commit()
    area = f"township:{world.township_a.code}"
    first = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", area, "--finalize"])
    assert first.exit_code == 0, first.output
    assert "2 evaluations stored, 0 already finalized kept" in first.output
    stored = db.session.scalars(select(Evaluation)).all()
    assert sorted((e.level, e.area_id) for e in stored) == [("township", world.township_a.id),
                                                           ("village", world.village_a.id)]
    assert all(e.finalized_by_name.startswith("cli:") for e in stored)
    before = {e.id: e.results for e in stored}

    add_surveys(world.village_a, 5, seed=33)
    db.session.commit()
    again = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", area, "--finalize"])
    assert again.exit_code == 0, again.output
    assert "0 evaluations stored, 2 already finalized kept" in again.output
    assert "kept: finalized earlier" in again.output
    db.session.expire_all()
    assert {e.id: e.results for e in db.session.scalars(select(Evaluation))} == before


def test_evaluate_finalize_refuses_while_surveys_wait_unless_anyway(runner, app, world):
    add_surveys(world.village_a, 10, seed=34)
    add_surveys(world.village_a, 2, seed=35, status="submitted")
    db.session.commit()
    area = f"village:{world.village_a.code}"
    refused = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", area, "--finalize"])
    assert refused.exit_code != 0
    assert "2 surveys wait for review" in refused.output
    assert "2 surveys of this area still wait for review" in refused.output and "--anyway" in refused.output
    assert db.session.scalars(select(Evaluation)).all() == []
    done = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", area, "--finalize", "--anyway"])
    assert done.exit_code == 0, done.output
    assert "1 evaluations stored" in done.output and "version 1" in done.output
    assert db.session.scalars(select(Evaluation)).one().results["approved_surveys"] == 10


def test_evaluate_reopen_with_a_reason_then_finalize_stores_version_2(runner, app, world):
    add_surveys(world.village_a, 10, seed=36)
    db.session.commit()
    area = f"village:{world.village_a.code}"
    evaluate = ["evaluate", "--year", str(YEAR), "--area", area]
    assert runner.invoke(args=[*evaluate, "--finalize"]).exit_code == 0
    no_reason = runner.invoke(args=[*evaluate, "--reopen"])
    assert no_reason.exit_code != 0 and "Give the reason for reopening." in no_reason.output
    both = runner.invoke(args=[*evaluate, "--reopen", "--finalize", "--reason", "x"])
    assert both.exit_code != 0 and "not both" in both.output
    reopened = runner.invoke(args=[*evaluate, "--reopen", "--reason", "A late survey"])
    assert reopened.exit_code == 0, reopened.output
    assert "version 1 reopened" in reopened.output
    again = runner.invoke(args=[*evaluate, "--finalize"])
    assert again.exit_code == 0, again.output
    assert "1 evaluations stored" in again.output and "version 2" in again.output
    db.session.expire_all()
    versions = db.session.scalars(select(Evaluation).order_by(Evaluation.version)).all()
    assert [(e.version, e.current, e.reopen_reason) for e in versions] == [
        (1, False, "A late survey"), (2, True, None)]
    assert versions[0].reopened_by_name.startswith("cli:")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation_reopened")).one()
    assert event.username.startswith("cli:") and event.detail["reason"] == "A late survey"
    nothing = runner.invoke(args=["evaluate", "--year", str(YEAR), "--area", f"village:{world.village_a2.code}",
                                  "--reopen", "--reason", "why"])
    assert nothing.exit_code != 0 and "nothing to reopen" in nothing.output
