"""Report jobs: asked for on a page, made in the background (Huey, immediate mode in tests) with
their progress on the job's row, archived with their SHA-256, failures recorded and made again."""

import hashlib
import re
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select, text

from tests.evaluations.conftest import add_surveys
from tests.reports.conftest import YEAR
from village_survey.audit import AuditEvent
from village_survey.evaluations import finalizing, precomputed
from village_survey.extensions import db
from village_survey.jobs import enqueue_after_commit, huey_of
from village_survey.jobs.queue import make_huey, tasks_of
from village_survey.reports import services
from village_survey.reports.models import ReportJob
from village_survey.scoring import load_criteria


def ask(auth, area, year=YEAR, locale="zh_CN", **form):
    """POST the request form, sent from the request page; the response."""
    return auth.post("/reports/new", {"area": area, "year": str(year), "locale": locale, **form},
                     token_from="/reports/new")


def job_of(response):
    match = re.search(r"/reports/([0-9a-f-]{36})$", response.headers["Location"])
    assert match, response.headers.get("Location")
    db.session.expire_all()
    return db.session.scalars(select(ReportJob).where(ReportJob.uuid == match.group(1))).one()


def actions(uuid):
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"report:{uuid}").order_by(AuditEvent.id))]


def test_a_report_asked_for_is_made_in_the_background_and_kept_with_its_sha256(
        world, auth, renderer, reports_folder):
    auth.login("reviewer-a")
    response = ask(auth, f"village:{world.village_a.id}")
    assert response.status_code == 303
    job = job_of(response)
    assert (job.kind, job.level, job.area_id, job.year, job.locale) == ("village", "village",
                                                                       world.village_a.id, YEAR, "zh_CN")
    assert job.status == "done" and job.requested_by_name == "reviewer-a"
    assert job.started_at is not None and job.finished_at >= job.started_at
    path = reports_folder / job.file_path
    data = path.read_bytes()
    assert job.sha256 == hashlib.sha256(data).hexdigest() and job.size == len(data) and job.pages == 2
    assert job.figures == {"kind": "village", "year": YEAR, "score": 71.5}
    assert renderer.calls == [("village", services.Area("village", world.village_a.id), YEAR,
                               "jiujiang-2025", "zh_CN", False)]
    assert actions(job.uuid) == ["report_requested", "report_made"]

    page = auth.client.get(f"/reports/{job.uuid}").get_data(as_text=True)
    assert job.sha256 in page and 'http-equiv="refresh"' not in page
    assert f"/reports/{job.uuid}.pdf" in page


def test_progress_is_written_on_the_job_while_the_report_is_made(app, world, auth, renderer, reports_folder):
    """Each stage and page is on the job's row (committed) while the renderer is still at work."""
    engine = create_engine(db.engine.url)  # another connection, as the job page's request has
    seen = []

    def look(stage, page):
        with engine.connect() as conn:
            seen.append(tuple(conn.execute(text("SELECT status, stage, page FROM report_jobs")).one()))

    renderer.during = look
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    engine.dispose()
    assert seen == [("running", "evaluating", None), ("running", "charts", None),
                    ("running", "rendering", 1), ("running", "rendering", 2)]
    assert (job.status, job.stage, job.page) == ("done", None, None)


def test_a_running_job_page_refreshes_itself_and_says_how_far_it_is(world, auth, renderer, reports_folder):
    pages = {}

    def look(stage, page):
        if stage == "rendering" and page == 2:
            job = db.session.scalars(select(ReportJob)).one()
            with auth.client.application.app_context():
                pages["html"] = auth.client.get(f"/reports/{job.uuid}").get_data(as_text=True)
                pages["json"] = auth.client.get(f"/reports/{job.uuid}/status.json").get_json()

    renderer.during = look
    auth.login("reviewer-a")
    ask(auth, f"village:{world.village_a.id}")
    assert '<meta http-equiv="refresh" content="3">' in pages["html"]
    assert "正在排版第 2 页" in pages["html"] or "Rendering page 2" in pages["html"]
    assert pages["json"]["status"] == "running"
    assert (pages["json"]["stage"], pages["json"]["page"]) == ("rendering", 2)
    assert pages["json"]["download_url"] is None


def test_a_failure_is_recorded_with_its_reason_shown_and_never_a_500(world, auth, renderer, reports_folder):
    renderer.fail = RuntimeError("the CJK font is missing")
    auth.login("reviewer-a")
    response = ask(auth, f"village:{world.village_a.id}")
    assert response.status_code == 303
    job = job_of(response)
    assert job.status == "failed" and job.finished_at is not None
    assert job.error == "RuntimeError: the CJK font is missing"
    assert job.file_path is None and not list(reports_folder.rglob("*.pdf"))
    page = auth.client.get(f"/reports/{job.uuid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "the CJK font is missing" in html and "data-retry" in html
    status = auth.client.get(f"/reports/{job.uuid}/status.json").get_json()
    assert status["status"] == "failed" and status["error"] == job.error
    assert auth.client.get(f"/reports/{job.uuid}.pdf").status_code == 404
    assert actions(job.uuid) == ["report_requested", "report_failed"]


def test_a_failed_report_can_be_made_again(world, auth, renderer, reports_folder):
    renderer.fail = RuntimeError("out of memory")
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    renderer.fail = None
    response = auth.post(f"/reports/{job.uuid}/retry", token_from=f"/reports/{job.uuid}")
    assert response.status_code == 303
    db.session.expire_all()
    assert (job.status, job.attempt, job.error) == ("done", 2, None)
    assert (reports_folder / job.file_path).is_file() and job.file_path.endswith(f"{job.uuid}.2.pdf")
    assert actions(job.uuid) == ["report_requested", "report_failed", "report_retried", "report_made"]
    # a finished report is not made again
    again = auth.post(f"/reports/{job.uuid}/retry", token_from=f"/reports/{job.uuid}")
    assert again.status_code in (303, 409)
    db.session.expire_all()
    assert job.attempt == 2


def test_a_stale_run_leaves_a_newer_attempt_alone(app, world, renderer, reports_folder):
    area = services.ReportArea("village", world.village_a.id, world.village_a.code, world.village_a.name)
    job = services.new_job(area, YEAR, load_criteria("jiujiang-2025"), "zh_CN", False, world.admin)
    job.attempt = 2
    db.session.commit()
    assert services.run_job(job.id, 1) is None  # attempt 1 was queued again as attempt 2
    assert services.run_job(job.id, 2) == "done"
    assert services.run_job(job.id, 2) is None  # it runs once
    assert len(renderer.calls) == 1


def test_download_gives_the_same_bytes_every_time_with_a_chinese_file_name(world, auth, renderer,
                                                                            reports_folder):
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    first = auth.client.get(f"/reports/{job.uuid}.pdf")
    second = auth.client.get(f"/reports/{job.uuid}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.data == second.data == (reports_folder / job.file_path).read_bytes()
    assert hashlib.sha256(first.data).hexdigest() == job.sha256
    disposition = first.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="village-report-')
    assert disposition.endswith("-draft.pdf\"; filename*=UTF-8''" + services.quote(
        f"甲村{YEAR}年村庄评价报告（草稿）.pdf", safe=""))
    assert "no-store" in first.headers["Cache-Control"]
    assert actions(job.uuid) == ["report_requested", "report_made", "report_downloaded", "report_downloaded"]


def test_a_changed_or_lost_file_is_not_served(world, auth, renderer, reports_folder):
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    path = reports_folder / job.file_path
    path.write_bytes(path.read_bytes() + b"tampered")
    response = auth.client.get(f"/reports/{job.uuid}.pdf")
    assert response.status_code == 404
    path.unlink()
    assert auth.client.get(f"/reports/{job.uuid}.pdf").status_code == 404
    assert "report_downloaded" not in actions(job.uuid)


def test_a_report_of_an_unfinalized_evaluation_is_a_draft_and_not_in_the_archive(
        world, auth, renderer, reports_folder):
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    assert job.draft and job.finalized is False and job.evaluation_version is None
    assert job.file_path.startswith("drafts/")
    html = auth.client.get(f"/reports/{job.uuid}").get_data(as_text=True)
    assert "data-draft-note" in html
    assert job.uuid in auth.client.get("/reports/").get_data(as_text=True)
    assert job.uuid not in auth.client.get("/reports/?show=archive").get_data(as_text=True)
    # asked for again: a new draft (the evaluation may have changed since)
    assert job_of(ask(auth, f"village:{world.village_a.id}")).uuid != job.uuid


def test_a_report_of_a_finalized_evaluation_is_archived_and_served_again(world, auth, renderer,
                                                                         reports_folder):
    add_surveys(world.village_a, 3)
    precomputed.rebuild()
    criteria = load_criteria("jiujiang-2025")
    finalizing.finalize(world.reviewer_a, services.Area("village", world.village_a.id), YEAR, criteria)
    db.session.commit()
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}"))
    assert job.finalized is True and job.evaluation_version == 1 and not job.draft
    assert job.file_path == f"final/{job.uuid}.pdf"
    assert job.uuid in auth.client.get("/reports/?show=archive").get_data(as_text=True)
    assert 'filename="village-report-' in auth.client.get(f"/reports/{job.uuid}.pdf").headers[
        "Content-Disposition"]
    # the same report asked for again is the archived one, not made twice
    again = ask(auth, f"village:{world.village_a.id}")
    assert job_of(again).uuid == job.uuid and len(renderer.calls) == 1
    assert actions(job.uuid) == ["report_requested", "report_made", "report_downloaded", "report_requested"]
    # in another language it is another report
    assert job_of(ask(auth, f"village:{world.village_a.id}", locale="en")).uuid != job.uuid


def test_an_annual_report_of_the_county_and_of_the_city(world, auth, renderer, reports_folder):
    auth.login("viewer-city")
    county = job_of(ask(auth, f"county:{world.county_a.id}"))
    city = job_of(ask(auth, "city:"))
    assert (county.kind, county.area_id, county.status) == ("county", world.county_a.id, "done")
    assert (city.kind, city.area_id, city.status) == ("city", None, "done")
    assert services.file_name(city) == (f"九江市{YEAR}年度报告（草稿）.pdf", f"annual-report-jiujiang-{YEAR}-draft.pdf")


def test_a_job_is_enqueued_only_once_its_request_has_committed(app, world, monkeypatch):
    queued = []
    monkeypatch.setitem(tasks_of(app), "run_report_job", lambda *args: queued.append(args))
    enqueue_after_commit("run_report_job", 7, 1)
    db.session.rollback()
    db.session.commit()
    assert queued == []
    enqueue_after_commit("run_report_job", 8, 1)
    assert queued == []
    db.session.commit()
    assert queued == [(8, 1)]


def test_the_queue_is_sqlite_in_the_instance_folder_redis_with_a_url_and_immediate_in_tests(app, tmp_path):
    huey = make_huey({}, str(tmp_path))
    assert type(huey).__name__ == "SqliteHuey" and not huey.immediate
    assert huey.storage.filename == str(tmp_path / "huey.db")
    assert make_huey({"HUEY_SQLITE_PATH": str(tmp_path / "q" / "jobs.db")}, "/nowhere").storage.filename == str(
        tmp_path / "q" / "jobs.db")
    assert huey_of(app).immediate


def test_the_queue_is_on_redis_when_a_url_is_set(tmp_path):
    pytest.importorskip("redis")
    redis_huey = make_huey({"REDIS_URL": "redis://127.0.0.1:6399/0"}, str(tmp_path))
    assert type(redis_huey).__name__ == "RedisHuey"


def test_a_job_whose_worker_stopped_can_be_queued_again(app, world, auth, renderer, reports_folder):
    """A job still queued (or running) long after it was asked for: its worker stopped, or the
    queue lost it; the page offers to queue it again (a fresh job is not offered that)."""
    area = services.ReportArea("village", world.village_a.id, world.village_a.code, world.village_a.name)
    job = services.new_job(area, YEAR, load_criteria("jiujiang-2025"), "zh_CN", False, world.reviewer_a)
    db.session.commit()
    auth.login("reviewer-a")
    assert "data-retry" not in auth.client.get(f"/reports/{job.uuid}").get_data(as_text=True)
    refused = auth.post(f"/reports/{job.uuid}/retry", token_from=f"/reports/{job.uuid}")
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/reports/{job.uuid}")
    db.session.expire_all()
    assert (job.status, job.attempt) == ("queued", 1)
    job.created_at -= services.dt.timedelta(minutes=app.config["REPORT_JOB_STALE_MINUTES"] + 1)
    db.session.commit()
    assert "data-retry" in auth.client.get(f"/reports/{job.uuid}").get_data(as_text=True)
    assert auth.post(f"/reports/{job.uuid}/retry", token_from=f"/reports/{job.uuid}").status_code == 303
    db.session.expire_all()
    assert (job.status, job.attempt) == ("done", 2)
    assert services.run_job(job.id, 1) is None  # the first attempt, should its worker wake up


def test_a_web_worker_makes_its_queue_only_when_it_first_needs_one(tmp_path):
    """Importing Huey imports redis and psycopg when installed: a worker that never queues a job
    does not pay for them; the first users, from several threads at once, get one instance."""
    probe = f"""
import sys, threading
from village_survey import create_app
from village_survey.jobs.queue import huey_of, tasks_of
app = create_app(SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/app.db", HUEY_SQLITE_PATH="{tmp_path}/q.db")
assert "huey" not in sys.modules and "redis" not in sys.modules, "imported by create_app"
seen = []
threads = [threading.Thread(target=lambda: seen.append(huey_of(app))) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
assert len({{id(h) for h in seen}}) == 1 and "huey" in sys.modules
assert sorted(tasks_of(app)) == ["run_exchange_job", "run_report_job"]
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
