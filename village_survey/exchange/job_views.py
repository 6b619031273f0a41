"""The page of an export or import made in the background: its progress (the page looks again by
itself while it runs; a small JSON status for programs), then the download or the import's
report, with the confirmation after a dry run."""

import datetime as dt

from flask import Blueprint, current_app, jsonify, render_template, send_file, url_for
from flask_login import current_user

from village_survey.exchange import background
from village_survey.exchange.import_forms import ConfirmForm
from village_survey.exchange.import_report import OUTCOME_LABELS
from village_survey.exchange.import_views import field_label

bp = Blueprint("exchange_jobs", __name__, url_prefix="/exchange/jobs")
REFRESH_SECONDS = 2


def _confirm_form(report):
    form = ConfirmForm()
    form.mode.data = "valid" if report.has_errors else "all"
    return form


@bp.get("/<raw_uuid>")
def show(raw_uuid):
    job = background.job_or_404(current_user, raw_uuid)
    report = background.stored_report(job)
    dry_run_done = job.kind == "import" and job.mode == "dry_run" and job.status == "done"
    return render_template("exchange/job.html", job=job, report=report,
                           refresh=REFRESH_SECONDS if job.running else None,
                           confirm=_confirm_form(report) if dry_run_done and report else None,
                           token=job.params.get("token") if dry_run_done else None,
                           outcome_labels=OUTCOME_LABELS, field_label=field_label,
                           kept_until=job.created_at + dt.timedelta(hours=current_app.config["EXPORT_JOB_KEEP_HOURS"]))


@bp.get("/<raw_uuid>/status.json")
def status(raw_uuid):
    job = background.job_or_404(current_user, raw_uuid)
    body = background.status_of(job)
    body["page_url"] = url_for(".show", raw_uuid=job.uuid)
    body["download_url"] = url_for(".download", raw_uuid=job.uuid) if job.file_path else None
    return jsonify(body)


@bp.get("/<raw_uuid>/download")
def download(raw_uuid):
    job = background.job_or_404(current_user, raw_uuid)
    path = background.job_file(current_user, job)
    response = send_file(path, as_attachment=True, download_name=job.file_name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["ETag"] = f'"{job.sha256}"'
    return response
