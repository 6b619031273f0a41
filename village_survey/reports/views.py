"""Report pages: ask for a PDF report, follow its progress (the page refreshes itself while the
report is made; a small JSON status for programs), list the reports of one's area, download."""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from village_survey import i18n
from village_survey.access import may_see_full_names, may_see_reports, permission_required
from village_survey.reports import services
from village_survey.reports.forms import ReportForm

bp = Blueprint("reports", __name__, url_prefix="/reports")
# seconds between two looks of a job page at its progress while the report is made
REFRESH_SECONDS = 3


@bp.route("/")
@permission_required(may_see_reports)
def index():
    """The reports of the user's area, newest first: all, or the archive (finalized ones)."""
    show = request.args.get("show", "all")
    show = show if show in services.SHOWS else "all"
    page = services.jobs_page(current_user, show, request.args.get("page"))
    return render_template("reports/index.html", page=page, show=show)


def _form(chosen, formdata=None):
    form = ReportForm(formdata=formdata)
    groups = services.area_choices(current_user, chosen)
    form.area.choices = {group: options for group, options in groups}
    form.year.choices = [(year, str(year)) for year in services.year_choices()]
    form.locale.choices = [(code, i18n.LANGUAGE_NAMES[code]) for code in i18n.LANGUAGE_NAMES]
    if not may_see_full_names(current_user):
        del form.full_names
    return form


@bp.route("/new", methods=["GET", "POST"])
@permission_required(may_see_reports)
def new():
    """Ask for a report: of the area given by level and area_id (a village from its evaluation
    page), or of the user's own county or the city; the year, language and full names chosen."""
    criteria = services.criteria_or_error(request.values.get("criteria"))
    if request.method == "POST":
        chosen = services.parse_area_value(current_user, request.form.get("area"))
    elif request.args.get("level"):
        chosen = services.report_area(current_user, request.args.get("level"), request.args.get("area_id"))
    else:
        chosen = services.default_area(current_user)
    form = _form(chosen, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.area.data = services.area_value(chosen) if chosen else None
        year = request.args.get("year", type=int)
        form.year.data = year if year in services.year_choices() else services.year_choices()[0]
        form.locale.data = i18n.select_locale()
        form.criteria.data = criteria.name
    status = 200
    if form.validate_on_submit():
        job, created = services.request_report(
            current_user, chosen, form.year.data, criteria, form.locale.data,
            bool(form.full_names.data) if "full_names" in form else False)
        if not created:
            flash(_("The same report was already asked for: here it is."), "info")
        return redirect(url_for(".show", raw_uuid=job.uuid), 303)
    if request.method == "POST":
        status = 422
    return render_template("reports/new.html", form=form, chosen=chosen, criteria=criteria), status


@bp.route("/<raw_uuid>")
def show(raw_uuid):
    """A report's progress, or its result (download, SHA-256) or failure (the reason, again)."""
    job = services.job_or_404(current_user, raw_uuid)
    return render_template("reports/show.html", job=job, refresh=REFRESH_SECONDS if job.running else None,
                           retry=services.may_retry(current_user, job), file_name=services.file_name(job)[0])


@bp.route("/<raw_uuid>/status.json")
def status(raw_uuid):
    job = services.job_or_404(current_user, raw_uuid)
    body = services.status_of(job)
    body["page_url"] = url_for(".show", raw_uuid=job.uuid)
    body["download_url"] = url_for(".download", raw_uuid=job.uuid) if job.status == "done" else None
    return jsonify(body)


@bp.route("/<raw_uuid>.pdf")
def download(raw_uuid):
    """The report's PDF: the archived bytes, the same every time."""
    job = services.job_or_404(current_user, raw_uuid)
    data = services.job_file(current_user, job)
    return data, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": services.content_disposition(job),
                       "ETag": f'"{job.sha256}"'}


@bp.route("/<raw_uuid>/retry", methods=["POST"])
def retry(raw_uuid):
    """Make a failed report again (the same job, its next attempt)."""
    job = services.job_or_404(current_user, raw_uuid)
    services.retry(current_user, job)
    flash(_("The report is queued again."), "success")
    return redirect(url_for(".show", raw_uuid=job.uuid), 303)

