"""`flask report`: made in the command (no consumer), with a progress bar, archived as the web's
reports are; a bad area, year or village exits non-zero with a clear message."""

import hashlib

import pytest
from sqlalchemy import select

from tests.reports.conftest import YEAR
from village_survey.audit import AuditEvent
from village_survey.extensions import db
from village_survey.reports.models import ReportJob


def run(runner, *args):
    return runner.invoke(args=["report", *args])


def only_job():
    db.session.expire_all()
    return db.session.scalars(select(ReportJob)).one()


def test_the_command_writes_the_pdf_and_archives_it(world, runner, renderer, reports_folder, tmp_path):
    out = tmp_path / "village.pdf"
    result = run(runner, f"village:{world.village_a.code}", "--year", str(YEAR), "-o", str(out))
    assert result.exit_code == 0, result.output
    job = only_job()
    data = out.read_bytes()
    assert data == (reports_folder / job.file_path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == job.sha256 and job.sha256 in result.output
    assert (job.status, job.kind, job.area_id, job.locale) == ("done", "village", world.village_a.id, "zh_CN")
    assert job.requested_by_name.startswith("cli:") and job.requested_by_id is None
    assert renderer.calls[0][0] == "village"
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "report_requested", "report_made"]


def test_the_progress_bar_follows_the_renderer(world, runner, renderer, reports_folder, tmp_path):
    renderer.pages = 3
    result = run(runner, "city", "--year", str(YEAR), "--locale", "en", "-o", str(tmp_path / "c.pdf"))
    assert result.exit_code == 0, result.output
    assert "rendering page 3" in result.output or "正在排版第 3 页" in result.output
    assert (only_job().kind, only_job().locale) == ("city", "en")


@pytest.mark.parametrize("args", [
    ["village", "--village", "{village}"],
    ["annual", "--area", "county:{county}"],
    ["annual", "--area", "city"],
    ["county:{county}"],
])
def test_the_issue_s_forms_of_the_command(world, runner, renderer, reports_folder, tmp_path, args):
    args = [a.format(village=world.village_a.code, county=world.county_a.code) for a in args]
    result = run(runner, *args, "--year", str(YEAR), "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_full_names_on_the_command_line(world, runner, renderer, reports_folder, tmp_path):
    result = run(runner, f"village:{world.village_a.code}", "--year", str(YEAR), "--full-names",
                 "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 0, result.output
    assert only_job().full_names is True and renderer.calls[0][-1] is True


@pytest.mark.parametrize("args, message", [
    (["village:999999999999"], "999999999999"),
    (["county:nope"], "nope"),
    (["township:{township}"], "township:"),
    (["village"], "--village"),
    (["annual"], "--area"),
    (["annual", "--area", "village:{village}"], "--area"),
    (["village:{village}", "--year", "1990"], "2000"),
    (["village:{village}", "--year", "2024"], "2024"),
    (["village:{village}", "--criteria", "nonsense"], "nonsense"),
])
def test_a_bad_area_year_or_village_exits_non_zero_with_a_message(world, runner, renderer, reports_folder,
                                                                   tmp_path, args, message):
    args = [a.format(village=world.village_a.code, township=world.township_a.code) for a in args]
    if "--year" not in args:
        args += ["--year", str(YEAR)]
    result = run(runner, *args, "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.pdf").exists()
    assert renderer.calls == []


def test_a_failure_exits_non_zero_with_the_reason(world, runner, renderer, reports_folder, tmp_path):
    renderer.fail = RuntimeError("WeasyPrint is not installed")
    result = run(runner, f"village:{world.village_a.code}", "--year", str(YEAR), "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 1
    assert "WeasyPrint is not installed" in result.output and not (tmp_path / "r.pdf").exists()
    assert only_job().status == "failed"
