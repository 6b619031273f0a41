"""Exports and imports too long for one request, made by the background worker (Huey runs tasks
at once in the tests): offered, queued, followed on a page, downloaded or confirmed; only the
requester sees a job; the job checks the user's area again when it runs."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import Auth
from tests.exchange.test_exports import surveys  # noqa: F401  (the fixture)
from tests.exchange.test_import_pages import paper_file
from village_survey.audit import AuditEvent
from village_survey.exchange import background
from village_survey.exchange.models import ExchangeJob
from village_survey.extensions import db
from village_survey.jobs import rows as job_rows
from village_survey.surveys.models import Survey

JOB_URL = re.compile(r"/exchange/jobs/([0-9a-f-]{36})$")


@pytest.fixture(autouse=True)
def folders(app, tmp_path):
    app.config.update(EXPORTS_FOLDER=str(tmp_path / "exports"), IMPORT_FOLDER=str(tmp_path / "imports"))
    yield
    app.config.update(EXPORTS_FOLDER=None, IMPORT_FOLDER=None, EXPORT_MAX_SURVEYS=200_000,
                      IMPORT_BACKGROUND_BYTES=200_000)


def _job_uuid(response):
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    match = JOB_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _offer_and_queue(auth, client, path):
    offer = client.get(path, buffered=True)
    html = offer.get_data(as_text=True)
    assert offer.status_code == 200 and "data-background-offer" in html
    action = re.search(r'<form method="post" action="([^"]+)" data-background-form', html).group(1)
    return _job_uuid(auth.post(action.replace("&amp;", "&"), token_from=path))


def test_a_large_export_is_made_in_the_background_and_gives_the_same_file(app, auth, client, world, surveys):
    auth.login("reviewer-a")
    direct = client.get("/exports/surveys.csv?year=2026", buffered=True)
    assert direct.status_code == 200
    app.config["EXPORT_MAX_SURVEYS"] = 2
    uuid = _offer_and_queue(auth, client, "/exports/surveys.csv?year=2026")
    page = client.get(f"/exchange/jobs/{uuid}").get_data(as_text=True)
    assert 'data-status="done"' in page and "data-download" in page
    status = client.get(f"/exchange/jobs/{uuid}/status.json").get_json()
    assert status["status"] == "done" and status["done_rows"] == 3 and status["what"] == "surveys.csv"
    download = client.get(status["download_url"], buffered=True)
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "surveys-county-" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    # the same rows as the direct download (masked alike)
    assert list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")))) == \
        list(csv.reader(io.StringIO(direct.data.decode("utf-8-sig"))))
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "export_requested" in actions and "export_downloaded" in actions


@pytest.mark.parametrize("path, check", [
    ("/exports/surveys.xlsx", lambda data: data[:2] == b"PK"),
    ("/exports/farmhouses.geojson", lambda data: json.loads(data)["type"] == "FeatureCollection"),
])
def test_every_large_export_kind_goes_to_the_background(app, auth, client, world, surveys, path, check):
    auth.login("reviewer-a")
    app.config["EXPORT_MAX_SURVEYS"] = 1
    uuid = _offer_and_queue(auth, client, path)
    status = client.get(f"/exchange/jobs/{uuid}/status.json").get_json()
    assert status["status"] == "done", status
    assert check(client.get(status["download_url"], buffered=True).data)


def test_a_job_is_its_requesters_alone(app, auth, client, world, surveys):
    auth.login("reviewer-a")
    app.config["EXPORT_MAX_SURVEYS"] = 1
    uuid = _offer_and_queue(auth, client, "/exports/surveys.csv")
    for name in ("surveyor-a", "admin", "viewer-a"):
        other = app.test_client()
        Auth(other).login(name)
        for suffix in ("", "/status.json", "/download"):
            assert other.get(f"/exchange/jobs/{uuid}{suffix}").status_code == 404, (name, suffix)
    assert client.get("/exchange/jobs/not-a-uuid").status_code == 404


def test_the_offer_needs_a_post_with_csrf_and_a_known_file(app, auth, client, world, surveys):
    auth.login("reviewer-a")
    assert client.post("/exports/background/surveys.csv").status_code in (400, 403)
    assert auth.post("/exports/background/evil.exe", token_from="/").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ExchangeJob)) == 0


def test_personal_data_in_the_background_needs_the_permission(app, auth, client, world, surveys):
    auth.login("viewer-a")
    app.config["EXPORT_MAX_SURVEYS"] = 1
    assert auth.post("/exports/background/surveys.csv?full=1", token_from="/").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ExchangeJob)) == 0


def _queued(world, number, **fields):
    """A queued job of reviewer A's, as a request would have made it."""
    job = ExchangeJob(uuid=f"00000000-0000-4000-8000-{number:012d}", status="queued", attempt=1,
                      requested_by_id=world.reviewer_a.id, requested_by_name="reviewer-a",
                      **{"kind": "export", "what": "surveys.csv", "locale": "en", **fields})
    db.session.add(job)
    db.session.commit()
    return job


def test_the_job_checks_the_area_again_when_it_runs(app, world, surveys):
    """A job whose area left the user's scope meanwhile fails with a reason and writes no file."""
    job = _queued(world, 1, params={"area": f"county:{world.county_b.code}"})
    assert background.run_job(job.id, 1) == "failed"
    db.session.expire_all()
    assert job.status == "failed" and job.error and job.file_path is None
    assert background.run_job(job.id, 1) is None  # a run is claimed once per attempt


def test_progress_is_noted_on_the_job_while_it_writes(app, world, surveys, monkeypatch):
    notes = []
    real_note = job_rows.note

    def note(model, job_id, attempt, **values):
        notes.append(values)
        real_note(model, job_id, attempt, **values)

    monkeypatch.setattr(job_rows, "note", note)
    monkeypatch.setattr(background, "NOTE_SECONDS", 0)
    job = _queued(world, 2, params={"area": f"county:{world.county_a.code}"}, locale="zh_CN")
    assert background.run_job(job.id, 1) == "done"
    assert notes[0] == {"stage": "writing", "done_rows": 0, "total_rows": 3}
    assert notes[-1]["done_rows"] == 3
    db.session.expire_all()
    assert (job.done_rows, job.total_rows, job.percent) == (3, 3, 100)


def test_old_export_files_and_jobs_are_purged(app, auth, client, world, surveys):
    auth.login("reviewer-a")
    app.config["EXPORT_MAX_SURVEYS"] = 1
    uuid = _offer_and_queue(auth, client, "/exports/surveys.csv")
    job = db.session.scalar(select(ExchangeJob).where(ExchangeJob.uuid == uuid))
    path = background.exports_folder() / job.file_path
    assert path.is_file()
    later = job.created_at + dt.timedelta(hours=app.config["EXPORT_JOB_KEEP_HOURS"], minutes=1)
    assert background.purge_expired(later) == 1
    db.session.commit()
    assert not path.exists() and db.session.get(ExchangeJob, job.id) is None


# ---------------------------------------------------------------- imports


def _count_surveys():
    return db.session.scalar(select(func.count()).select_from(Survey))


def _upload(auth, data):
    return auth.post("/imports/", data={"kind": "surveys", "file": (io.BytesIO(data), "paper.xlsx")},
                     token_from="/imports/", content_type="multipart/form-data")


def test_a_large_import_is_checked_then_imported_in_the_background(app, auth, client, world):
    app.config["IMPORT_BACKGROUND_BYTES"] = 10
    auth.login("reviewer-a")
    uuid = _job_uuid(_upload(auth, paper_file(world, bad_second=True)))
    page = client.get(f"/exchange/jobs/{uuid}")
    html = page.get_data(as_text=True)
    assert "data-dry-run" in html and "data-error" in html and 'data-outcome="new_survey"' in html
    assert 'value="all" disabled' in html and _count_surveys() == 0
    token = re.search(r'action="/imports/([A-Za-z0-9_-]{32})/confirm"', html).group(1)
    status = client.get(f"/exchange/jobs/{uuid}/status.json").get_json()
    assert status["rows"] == 2 and status["errors"] == 1 and status["counts"]["new_survey"] == 1
    # the whole file is refused in the background too: the job fails with the reason, nothing written
    refused = _job_uuid(auth.post(f"/imports/{token}/confirm", data={"mode": "all"},
                                  token_from=f"/exchange/jobs/{uuid}"))
    refused_page = client.get(f"/exchange/jobs/{refused}").get_data(as_text=True)
    assert 'data-status="failed"' in refused_page and "data-import-refused" in refused_page
    assert _count_surveys() == 0
    done = _job_uuid(auth.post(f"/imports/{token}/confirm", data={"mode": "valid"},
                               token_from=f"/exchange/jobs/{uuid}"))
    assert "data-import-done" in client.get(f"/exchange/jobs/{done}").get_data(as_text=True)
    assert _count_surveys() == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "surveys_imported")) == 1
    # the upload is gone once imported
    assert auth.post(f"/imports/{token}/confirm", data={"mode": "valid"},
                     token_from="/imports/").status_code == 404


def test_an_import_job_whose_upload_expired_fails_with_a_reason(app, world):
    job = _queued(world, 3, kind="import", what="surveys", mode="all",
                  params={"token": "x" * 32, "filename": "a.xlsx"})
    assert background.run_job(job.id, 1) == "failed"
    db.session.expire_all()
    assert "upload it again" in job.error
