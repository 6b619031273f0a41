"""Exports and imports too long for one request, made by the background worker (Huey).

    request_export(user, what, f, locale)          # in a request: a queued export job
    request_import(user, upload, mode, locale)     # a queued dry run or import of an upload
    run_job(job_id, attempt)                       # the background task
    job_or_404(user, uuid) / job_file(user, job)   # the job page and its download

An export job writes its file under the exports folder and keeps it EXPORT_JOB_KEEP_HOURS; an
import job checks or imports a file kept by import_store, in one transaction with the job's
result, and stores its report (import_report.StoredReport). A job is its requester's only: it may
hold their area's personal data. The job re-checks the user's permissions and area when it runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import time
import uuid as uuid_module
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from village_survey import access, audit
from village_survey.accounts.models import User
from village_survey.areas.models import utcnow
from village_survey.core.errors import DomainError, Forbidden, NotFound
from village_survey.evaluations.precomputed import Area
from village_survey.exchange import exports, import_service, import_store
from village_survey.exchange.import_files import Limits
from village_survey.exchange.import_report import StoredReport
from village_survey.exchange.models import EXPORT_FILES, IMPORT_MODES, ExchangeJob
from village_survey.extensions import db
from village_survey.jobs import enqueue_after_commit, rows, transaction

log = logging.getLogger(__name__)
TASK = "run_exchange_job"
UUID_PATTERN = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# what a page shows of an import's report (the counts are of every row)
ERRORS_SHOWN = 2000
ROWS_SHOWN = 300
# seconds between two progress notes on a job's row
NOTE_SECONDS = 1.0
MODES = {"dry_run": import_service.DRY_RUN, "all": import_service.WHOLE_FILE, "valid": import_service.VALID_ROWS}


def exports_folder() -> Path:
    return Path(current_app.config.get("EXPORTS_FOLDER") or os.path.join(current_app.instance_path, "exports"))


def _new_job(user, kind: str, what: str, params: dict, locale: str, mode: str | None = None) -> ExchangeJob:
    purge_expired()
    job = ExchangeJob(uuid=str(uuid_module.uuid4()), kind=kind, what=what, mode=mode, params=params,
                      locale=locale, status="queued", attempt=1, requested_by_id=user.id,
                      requested_by_name=user.username[:40])
    db.session.add(job)
    db.session.flush()
    enqueue_after_commit(TASK, job.id, job.attempt)
    return job


def filter_params(f: exports.ExportFilter) -> dict[str, Any]:
    return {"area": f.area_spec, "year": f.year, "status": f.status, "labels": f.labels, "full": f.full,
            "timezone": f.timezone}


def request_export(user, what: str, f: exports.ExportFilter, locale: str) -> ExchangeJob:
    """Queue an export of `what` (surveys.xlsx, surveys.csv, farmhouses.geojson) as filtered."""
    if not access.may_export(user) or (f.full and not access.may_export_personal_data(user)):
        raise Forbidden()
    if what not in EXPORT_FILES:
        raise NotFound()
    job = _new_job(user, "export", what, filter_params(f), locale)
    audit.record("export_requested", user, target=f"exchange:{job.uuid}", file=what, **f.audit_detail())
    return job


def request_import(user, upload: import_store.Upload, mode: str, locale: str) -> ExchangeJob:
    """Queue a dry run (mode dry_run) or the import (all, valid) of an upload of the user's."""
    if not access.may_import(user):
        raise Forbidden()
    if mode not in IMPORT_MODES or upload.user_id != user.id:
        raise NotFound()
    job = _new_job(user, "import", upload.kind, {"token": upload.token, "filename": upload.filename}, locale,
                   mode=mode)
    audit.record("import_requested", user, target=f"exchange:{job.uuid}", kind=upload.kind, mode=mode)
    return job


# ---------------------------------------------------------------- running (background)


class _Progress:
    """Progress notes on a job's row, at most one every NOTE_SECONDS (and each new stage)."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt = job_id, attempt
        self.stage, self.done, self.total, self.noted = None, 0, None, 0.0

    def _note(self, force=False):
        now = time.monotonic()
        if force or now - self.noted >= NOTE_SECONDS:
            self.noted = now
            rows.note(ExchangeJob, self.job_id, self.attempt, stage=self.stage, done_rows=self.done,
                      total_rows=self.total)

    def start(self, total: int, _label: str = "") -> None:
        """An export knows how many rows come."""
        self.stage, self.done, self.total = "writing", 0, total
        self._note(force=True)

    def rows(self, count: int) -> None:
        """An export wrote `count` more rows."""
        self.done += count
        self._note()

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        """An import's stage, and how far it is."""
        new_stage = stage != self.stage
        self.stage, self.done, self.total = stage, done or 0, total
        self._note(force=new_stage)


def _user_of(job: ExchangeJob):
    user = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    if user is None or not user.active:
        raise Forbidden(_l("The account that asked for this job is no longer active."))
    return user


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run_export(job: ExchangeJob, attempt: int, progress: _Progress) -> None:
    user = _user_of(job)
    params = job.params
    if not access.may_export(user) or (params.get("full") and not access.may_export_personal_data(user)):
        raise Forbidden(_l("Your account may no longer make this export."))
    # the area again within the user's area as it is now
    area, spec = exports.area_in_scope(user, params["area"], _)
    f = exports.ExportFilter(area=area, area_spec=spec, year=params.get("year"), status=params.get("status"),
                             labels=bool(params.get("labels")), full=bool(params.get("full")),
                             timezone=params.get("timezone") or "Asia/Shanghai")
    kind, _dot, suffix = job.what.partition(".")
    folder = exports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"{job.uuid}.{attempt}.{suffix}"
    path = folder / relative
    partial = folder / f".{relative}.part"
    try:
        written = exports.write_file(kind, "." + suffix, f, partial, _, job.locale, progress.rows, progress.start)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    try:
        with transaction():
            done = rows.finish(ExchangeJob, job.id, attempt, file_path=relative,
                               file_name=f.file_stem(kind) + "." + suffix, size=path.stat().st_size,
                               sha256=_sha256(path), done_rows=written, total_rows=written)
            if done:
                audit.record("export", user, target=job.what, rows=written, job=job.uuid, **f.audit_detail())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if not done:
        path.unlink(missing_ok=True)


def _run_import(job: ExchangeJob, attempt: int, progress: _Progress) -> None:
    user = _user_of(job)
    upload = import_store.load(job.params.get("token"), user.id)
    if upload is None:
        raise DomainError(410, _l("The uploaded file has expired: upload it again."))
    limits = Limits.from_config(current_app.config)
    try:
        with transaction():
            report = import_service.run(user, upload.kind, upload.data, upload.filename, limits,
                                        mode=MODES[job.mode], progress=progress)
            stored = StoredReport.of(report, ERRORS_SHOWN, ROWS_SHOWN)
            rows.finish(ExchangeJob, job.id, attempt, report=stored.as_dict(), done_rows=stored.row_count,
                        total_rows=stored.row_count)
    except import_service.ImportRefused as refusal:
        stored = StoredReport.of(refusal.report, ERRORS_SHOWN, ROWS_SHOWN)
        with transaction():
            rows.fail(ExchangeJob, job.id, attempt, str(refusal.message), report=stored.as_dict())
        return
    if job.mode != "dry_run":
        import_store.discard(upload.token)


def run_job(job_id: int, attempt: int = 1) -> str | None:
    """Run a queued exchange job (the background task): claim it, make the export or run the
    import with progress on its row; a failure is recorded on the job with its reason (never
    raised). Returns the job's status, None if it was not this run's."""
    with transaction():
        if not rows.claim(ExchangeJob, job_id, attempt):
            log.info("exchange job %s attempt %s is not queued: skipped", job_id, attempt)
            return None
    job = db.session.get(ExchangeJob, job_id)
    progress = _Progress(job_id, attempt)
    try:
        # the outer transaction rolls back whatever a failure left open (the runners commit their own)
        with force_locale(job.locale), transaction():
            (_run_export if job.kind == "export" else _run_import)(job, attempt, progress)
    except Exception as error:
        log.exception("exchange job %s attempt %s failed", job_id, attempt)
        with force_locale(job.locale), transaction():
            rows.fail(ExchangeJob, job_id, attempt, rows.failure_message(error))
        return "failed"
    finally:
        db.session.expire_all()
    return db.session.scalar(select(ExchangeJob.status).where(ExchangeJob.id == job_id))


# ---------------------------------------------------------------- reading


def job_or_404(user, raw_uuid: str) -> ExchangeJob:
    """The user's own job by its UUID; 404 for any other."""
    if not isinstance(raw_uuid, str) or not UUID_PATTERN.match(raw_uuid.lower()):
        raise NotFound()
    job = db.session.scalars(select(ExchangeJob).where(ExchangeJob.uuid == raw_uuid.lower(),
                                                       ExchangeJob.requested_by_id == user.id)).first()
    if job is None:
        raise NotFound()
    return job


def stored_report(job: ExchangeJob) -> StoredReport | None:
    return StoredReport.from_dict(job.report) if job.report else None


def job_file(user, job: ExchangeJob) -> Path:
    """An export job's file (checked against its SHA-256), with an audit record of the download."""
    if job.kind != "export" or job.status != "done" or not job.file_path:
        raise NotFound(_l("This export is not ready yet."))
    path = exports_folder() / job.file_path
    if not path.is_file():
        raise NotFound(_l("This export's file has been removed (exports are kept for %(hours)s hours): ask for "
                          "it again.", hours=current_app.config["EXPORT_JOB_KEEP_HOURS"]))
    if _sha256(path) != job.sha256:
        log.error("export %s: file %s does not match its SHA-256", job.uuid, path)
        raise NotFound(_l("This export's file was changed after it was made: ask for it again."))
    audit.record("export_downloaded", user, target=f"exchange:{job.uuid}", sha256=job.sha256)
    return path


def status_of(job: ExchangeJob) -> dict[str, Any]:
    report = stored_report(job)
    return {"uuid": job.uuid, "kind": job.kind, "what": job.what, "mode": job.mode, "status": job.status,
            "stage": job.stage, "done_rows": job.done_rows, "total_rows": job.total_rows, "percent": job.percent,
            "error": job.error, "size": job.size, "sha256": job.sha256,
            "counts": report.counts() if report else None,
            "rows": report.row_count if report else None, "errors": report.error_count if report else None,
            "created_at": job.created_at.isoformat() + "Z",
            "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None}


def purge_expired(now: dt.datetime | None = None) -> int:
    """Remove the export files and jobs older than EXPORT_JOB_KEEP_HOURS; how many jobs went."""
    limit = (now or utcnow()) - dt.timedelta(hours=current_app.config["EXPORT_JOB_KEEP_HOURS"])
    old = db.session.execute(select(ExchangeJob.id, ExchangeJob.file_path)
                             .where(ExchangeJob.created_at < limit, ExchangeJob.status.in_(("done", "failed")))).all()
    for _id, file_path in old:
        if file_path:
            (exports_folder() / file_path).unlink(missing_ok=True)
    if old:
        db.session.execute(delete(ExchangeJob).where(ExchangeJob.id.in_([ident for ident, _p in old])))
    return len(old)
