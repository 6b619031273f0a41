"""Report jobs: asking for a PDF report, making it in the background, archiving and serving it.

    request_report(user, area, year, criteria, locale, full_names)  # in a request: a queued job
    run_job(job_id, attempt)           # the background task (or the command line, synchronously)
    retry(user, job)                   # a failed (or stale) job queued again
    job_file(user, job)                # the archived bytes, checked against their SHA-256

The rendering itself is `reports.render.render_report`, which reports its progress through a
callback; this module writes that progress on the job's row over a connection of its own (the
rendering's session is never committed under it), so that the job page and its JSON show it
while the report is made.

Files live in the reports folder (REPORTS_FOLDER, by default instance/reports): final/<uuid>.pdf
for reports made from a current finalized evaluation (the archive), drafts/<uuid>.pdf for the
others (the job's download, marked as a draft; not archived as final).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import uuid as uuid_module
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from village_survey import access, audit
from village_survey.areas.models import County, Village, utcnow
from village_survey.core.errors import DomainError, Forbidden, NotFound
from village_survey.core.paging import paginate
from village_survey.evaluations.precomputed import CITY, Area
from village_survey.evaluations.services import current_evaluations, survey_years
from village_survey.extensions import db
from village_survey.jobs import enqueue_after_commit, rows, transaction
from village_survey.reports.models import KINDS, LEVEL_OF_KIND, STAGES, ReportJob
from village_survey.scoring import CriteriaError, CriteriaSet, load_criteria

log = logging.getLogger(__name__)
AREA_MODELS = {"village": Village, "county": County}
UUID_PATTERN = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
FIRST_YEAR = 2000
TASK = "run_report_job"


class ReportError(DomainError):
    """A report request that cannot be done; `status` is the HTTP status that fits."""


def render_report(kind, area, year, criteria, locale, full_names, progress):
    """The renderer (reports/render.py, imported when a report is made: the pages and the queue
    need none of WeasyPrint); tests replace this function."""
    from village_survey.reports.render import render_report as render

    return render(kind, area, year, criteria, locale, full_names, progress)


# ---------------------------------------------------------------- what may be asked for


@dataclass(frozen=True)
class ReportArea:
    """An area a report may be asked for: its level and id (None for the city), code and name."""

    level: str
    id: int | None
    code: str | None
    name: str | None

    @property
    def area(self) -> Area:
        return CITY if self.level == "city" else Area(self.level, self.id)

    @property
    def kind(self) -> str:
        return self.level  # the village evaluation report, or the county's or city's annual report


def report_area(user, level: str | None, area_id: Any) -> ReportArea:
    """The area of a report asked for by level and id, if it is in the user's scope (404 else)."""
    if level == "city":
        if user.scope_level != "city":
            raise NotFound()
        return ReportArea("city", None, None, None)
    model = AREA_MODELS.get(level)
    if model is None:
        raise NotFound()
    try:
        ident = int(area_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    found = access.get_in_scope_or_404(model, ident, user)
    return ReportArea(level, found.id, found.code, found.name)


def default_area(user) -> ReportArea | None:
    """The user's own annual report: their county's, or the city's; None for township staff."""
    if user.scope_level == "city":
        return ReportArea("city", None, None, None)
    if user.scope_level == "county":
        return report_area(user, "county", user.county_id)
    return None


def area_choices(user, chosen: ReportArea | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The areas a user may ask reports for, grouped for a select: (group, [(value, label)]).

    City users: the city and the counties (a village's report is asked for from its evaluation
    page); county users: their county and its villages by township. `chosen` is kept if missing.
    """
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if user.scope_level == "city":
        counties = db.session.execute(select(County.id, County.name).order_by(County.code)).all()
        groups.append((_("Annual reports"), [("city:", _("Jiujiang city"))]
                       + [(f"county:{ident}", name) for ident, name in counties]))
    elif user.scope_level == "county":
        county = db.session.get(County, user.county_id)
        groups.append((_("Annual reports"), [(f"county:{county.id}", county.name)]))
        for township in county.townships:
            groups.append((township.name, [(f"village:{v.id}", v.name) for v in township.villages]))
    if chosen is not None:
        value = area_value(chosen)
        if not any(value == v for _g, options in groups for v, _l in options):
            groups.append((_("Village evaluation report"), [(value, chosen.name or "")]))
    return groups


def area_value(area: ReportArea) -> str:
    return f"{area.level}:{area.id if area.id is not None else ''}"


def parse_area_value(user, value: str | None) -> ReportArea:
    level, _sep, ident = (value or "").partition(":")
    return report_area(user, level, ident or None)


def year_choices() -> list[int]:
    return [y for y in survey_years(dt.date.today().year) if FIRST_YEAR <= y <= dt.date.today().year]


def check_year(year: Any) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= dt.date.today().year:
        raise ReportError(422, _("Give a survey year from %(first)s to %(last)s.", first=FIRST_YEAR,
                                 last=dt.date.today().year))
    return year


def criteria_or_error(name: str | None) -> CriteriaSet:
    from village_survey.evaluations.services import criteria_named

    try:
        return criteria_named(name)
    except CriteriaError:
        raise ReportError(422, _("There is no criteria set called %(name)s.", name=name)) from None


# ---------------------------------------------------------------- asking for a report


def _current_version(area: ReportArea, year: int, criteria: CriteriaSet) -> int | None:
    found = current_evaluations(area.level, [area.id], year, criteria.name).get(area.id)
    return found.version if found is not None else None


def _same_report(area: ReportArea, year: int, criteria: CriteriaSet, locale: str, full_names: bool):
    return select(ReportJob).where(
        ReportJob.kind == area.kind, ReportJob.level == area.level,
        ReportJob.area_id.is_(None) if area.id is None else ReportJob.area_id == area.id,
        ReportJob.year == year, ReportJob.criteria == criteria.name,
        ReportJob.criteria_version == criteria.version, ReportJob.locale == locale,
        ReportJob.full_names.is_(full_names))


def existing_report(area: ReportArea, year: int, criteria: CriteriaSet, locale: str,
                    full_names: bool) -> ReportJob | None:
    """The same report already on its way (queued or running), or archived from the evaluation's
    current finalized version: asking again gives that one instead of making it twice."""
    same = _same_report(area, year, criteria, locale, full_names)
    running = db.session.scalars(same.where(ReportJob.status.in_(("queued", "running")))
                                 .order_by(ReportJob.id.desc())).first()
    if running is not None:
        return running
    version = _current_version(area, year, criteria)
    if version is None:
        return None
    return db.session.scalars(same.where(ReportJob.status == "done", ReportJob.finalized.is_(True),
                                         ReportJob.evaluation_version == version)
                              .order_by(ReportJob.id.desc())).first()


def new_job(area: ReportArea, year: int, criteria: CriteriaSet, locale: str, full_names: bool,
            user=None, by_name: str | None = None) -> ReportJob:
    job = ReportJob(uuid=str(uuid_module.uuid4()), kind=area.kind, level=LEVEL_OF_KIND[area.kind],
                    area_id=area.id, area_code=area.code, area_name=area.name, year=year,
                    criteria=criteria.name, criteria_version=criteria.version, locale=locale,
                    full_names=full_names, status="queued", attempt=1,
                    requested_by_id=getattr(user, "id", None),
                    requested_by_name=(by_name or getattr(user, "username", None) or audit.command_username())[:40])
    db.session.add(job)
    db.session.flush()
    return job


def request_report(user, area: ReportArea, year: Any, criteria: CriteriaSet, locale: str,
                   full_names: bool) -> tuple[ReportJob, bool]:
    """Queue a report of an area in the user's scope: (the job, whether it is new). The same
    report already queued, running or archived from the current finalized evaluation is given
    back instead of a new one. Full names only for users who may see them."""
    if not access.may_request_report(user, area):
        raise Forbidden()
    if full_names and not access.may_see_full_names(user):
        raise Forbidden(_l("Your account may not have the household heads' full names printed."))
    if area.kind != "village":
        full_names = False  # the annual reports list no household
    year = check_year(year)
    if locale not in current_app.config["LANGUAGES"]:
        raise ReportError(422, _("Choose the report's language."))
    found = existing_report(area, year, criteria, locale, full_names)
    if found is not None:
        audit.record("report_requested", user, target=f"report:{found.uuid}", reused=True)
        return found, False
    job = new_job(area, year, criteria, locale, full_names, user)
    audit.record("report_requested", user, target=f"report:{job.uuid}", kind=job.kind, level=job.level,
                 area_id=job.area_id, year=year, criteria=criteria.name, locale=locale, full_names=full_names)
    enqueue_after_commit(TASK, job.id, job.attempt)
    return job, True


def stale(job: ReportJob, now: dt.datetime | None = None) -> bool:
    """A queued or running job with no news for REPORT_JOB_STALE_MINUTES (its worker stopped)."""
    if not job.running:
        return False
    last = job.started_at or job.created_at
    limit = dt.timedelta(minutes=current_app.config["REPORT_JOB_STALE_MINUTES"])
    return (now or utcnow()) - last > limit


def may_retry(user, job: ReportJob) -> bool:
    return access.may_request_report(user, job) and (job.status == "failed" or stale(job))


def retry(user, job: ReportJob) -> ReportJob:
    """Queue a failed (or stale) job again, as its next attempt; the failure stays in the audit log."""
    if not may_retry(user, job):
        raise ReportError(409, _("This report is not failed: it cannot be made again."))
    db.session.execute(update(ReportJob).where(ReportJob.id == job.id).values(
        attempt=ReportJob.attempt + 1, status="queued", stage=None, page=None, error=None,
        started_at=None, finished_at=None))
    db.session.refresh(job)
    audit.record("report_retried", user, target=f"report:{job.uuid}", attempt=job.attempt)
    enqueue_after_commit(TASK, job.id, job.attempt)
    return job


# ---------------------------------------------------------------- making it (background)


class _Progress:
    """The renderer's progress callback: each new (stage, page) written on the job's row over a
    connection of its own (committed at once, whatever the rendering's session holds)."""

    def __init__(self, job_id: int, attempt: int, also: Callable[[str, int | None], None] | None = None):
        self.job_id, self.attempt, self.also = job_id, attempt, also
        self.last: tuple | None = None

    def __call__(self, stage: str, page: int | None = None) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown report stage {stage!r}")
        if (stage, page) != self.last:
            self.last = (stage, page)
            rows.note(ReportJob, self.job_id, self.attempt, stage=stage, page=page)
        if self.also is not None:
            self.also(stage, page)


def reports_folder() -> Path:
    folder = current_app.config.get("REPORTS_FOLDER") or os.path.join(current_app.instance_path, "reports")
    return Path(folder)


def _write(relative: str, pdf: bytes) -> Path:
    path = reports_folder() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(pdf)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path


def _json_ready(figures: Any) -> Any:
    return json.loads(json.dumps(figures, default=str, ensure_ascii=False))


def _finish(job: ReportJob, attempt: int, criteria: CriteriaSet, rendered) -> Path | None:
    """Write the file and record it on the job, if the job is still this attempt's (a stale run
    that was queued again leaves the newer attempt alone); the file's path, or None."""
    pdf = rendered.pdf
    finalized = bool(rendered.finalized)
    # one file per attempt: a stale run never overwrites (or removes) a newer attempt's file
    name = f"{job.uuid}.pdf" if attempt == 1 else f"{job.uuid}.{attempt}.pdf"
    relative = f"{'final' if finalized else 'drafts'}/{name}"
    path = _write(relative, pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        done = rows.finish(ReportJob, job.id, attempt, page=None, file_path=relative, sha256=digest,
                           size=len(pdf), pages=rendered.pages, figures=_json_ready(rendered.figures),
                           finalized=finalized, evaluation_version=rendered.version if finalized else None,
                           criteria_version=criteria.version)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    if not done:
        path.unlink(missing_ok=True)
        return None
    audit.record("report_made", None, target=f"report:{job.uuid}", sha256=digest, pages=rendered.pages,
                 finalized=finalized, version=rendered.version, requested_by=job.requested_by_name)
    return path


failure_message = rows.failure_message


def _fail(job_id: int, attempt: int, error: BaseException) -> None:
    message = failure_message(error)
    if rows.fail(ReportJob, job_id, attempt, message, page=None):
        job_uuid = db.session.scalar(select(ReportJob.uuid).where(ReportJob.id == job_id))
        audit.record("report_failed", None, target=f"report:{job_uuid}", attempt=attempt, error=message)


def run_job(job_id: int, attempt: int = 1,
            progress: Callable[[str, int | None], None] | None = None) -> str | None:
    """Make a queued job's report (the background task): claim it, render it with progress on
    its row, write and record the file; a failure is recorded on the job with its reason (never
    raised: the job page shows it). Returns the job's status, None if it was not this run's."""
    with transaction():
        if not rows.claim(ReportJob, job_id, attempt):
            log.info("report job %s attempt %s is not queued: skipped", job_id, attempt)
            return None
    written = None
    try:
        with transaction():
            job = db.session.get(ReportJob, job_id)
            criteria = load_criteria(job.criteria)
            rendered = render_report(job.kind, Area(job.level, job.area_id), job.year, criteria, job.locale,
                                     job.full_names, _Progress(job_id, attempt, progress))
            written = _finish(job, attempt, criteria, rendered)
            status = "done" if written is not None else None
    except Exception as error:
        log.exception("report job %s attempt %s failed", job_id, attempt)
        if written is not None:
            written.unlink(missing_ok=True)  # recorded, but the commit failed
        with transaction():
            _fail(job_id, attempt, error)
        return "failed"
    return status


# ---------------------------------------------------------------- reading


def _in_scope(user):
    return access.report_in_scope(user, ReportJob.level, ReportJob.area_id, ReportJob.full_names)


def job_or_404(user, raw_uuid: str) -> ReportJob:
    """A job in the user's scope by its UUID; 404 if there is none, or it is outside the scope."""
    if not isinstance(raw_uuid, str) or not UUID_PATTERN.match(raw_uuid.lower()):
        raise NotFound()
    job = db.session.scalars(select(ReportJob).where(ReportJob.uuid == raw_uuid.lower(),
                                                     _in_scope(user))).first()
    if job is None:
        raise NotFound()
    return job


SHOWS = ("all", "archive")


def jobs_page(user, show: str, page: Any):
    """The reports of the user's scope, newest first: all of them, or the archive (final ones)."""
    stmt = select(ReportJob).where(_in_scope(user)).order_by(ReportJob.created_at.desc(), ReportJob.id.desc())
    if show == "archive":
        stmt = stmt.where(ReportJob.status == "done", ReportJob.finalized.is_(True))
    return paginate(stmt, page)


def status_of(job: ReportJob) -> dict[str, Any]:
    """What the JSON status says of a job (no personal data)."""
    return {"uuid": job.uuid, "status": job.status, "stage": job.stage, "page": job.page,
            "error": job.error, "attempt": job.attempt, "kind": job.kind, "year": job.year,
            "locale": job.locale, "finalized": job.finalized if job.status == "done" else None,
            "draft": job.draft, "pages": job.pages, "size": job.size, "sha256": job.sha256,
            "evaluation_version": job.evaluation_version,
            "created_at": job.created_at.isoformat() + "Z",
            "started_at": job.started_at.isoformat() + "Z" if job.started_at else None,
            "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None}


def file_name(job: ReportJob) -> tuple[str, str]:
    """The download's file name in the report's language, and a plain ASCII one for old clients."""
    english = job.locale == "en"
    draft = job.draft
    if job.kind == "village":
        name = (f"{job.area_name} village evaluation report {job.year}" if english
                else f"{job.area_name}{job.year}年村庄评价报告")
        ascii_name = f"village-report-{job.area_code}-{job.year}"
    else:
        area = job.area_name or ("Jiujiang" if english else "九江市")
        name = f"{area} annual report {job.year}" if english else f"{area}{job.year}年度报告"
        ascii_name = f"annual-report-{job.area_code or 'jiujiang'}-{job.year}"
    if draft:
        name += " (draft)" if english else "（草稿）"
        ascii_name += "-draft"
    return f"{name}.pdf", f"{ascii_name}.pdf"


def content_disposition(job: ReportJob) -> str:
    name, ascii_name = file_name(job)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def job_file(user, job: ReportJob) -> bytes:
    """The report's bytes as archived (checked against the SHA-256 recorded when it was made),
    with an audit record of the download."""
    if job.status != "done" or not job.file_path:
        raise NotFound(_l("This report is not ready yet."))
    path = reports_folder() / job.file_path
    try:
        data = path.read_bytes()
    except OSError:
        log.error("report %s: file %s is missing", job.uuid, path)
        raise NotFound(_l("The report's file is missing. Ask for the report again.")) from None
    if hashlib.sha256(data).hexdigest() != job.sha256:
        log.error("report %s: file %s does not match its SHA-256", job.uuid, path)
        raise NotFound(_l("The report's file was changed after it was made. Ask for the report again."))
    audit.record("report_downloaded", user, target=f"report:{job.uuid}", sha256=job.sha256)
    return data



def archive_path(job: ReportJob) -> Path | None:
    return reports_folder() / job.file_path if job.file_path else None


def kinds() -> tuple[str, ...]:
    return KINDS
