"""The import pages: upload a file, read its dry run (row by row), then confirm the whole file or
only its valid rows. The upload waits on the server under a random token (import_store)."""

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from village_survey.access import may_import, permission_required
from village_survey.core.errors import NotFound
from village_survey.exchange import columns as exchange_columns
from village_survey.exchange import background, import_service, import_store
from village_survey.exchange.import_files import Limits
from village_survey.exchange.import_forms import ConfirmForm, UploadForm
from village_survey.exchange.import_registry import REGISTERED
from village_survey.exchange.import_report import OUTCOME_LABELS, StoredReport

bp = Blueprint("imports", __name__, url_prefix="/imports")

def _limits():
    return Limits.from_config(current_app.config)


def field_label(key):
    """The translated name of a column key, as the report names changed fields."""
    column = REGISTERED if key == REGISTERED.key else exchange_columns.COLUMNS.get(key)
    return _(column.label) if column is not None else key


def _render(report, form=None, confirm=None, token=None, refused=None, status=200):
    # A report of 60,000 rows is not read on a page: every error (up to ERRORS_SHOWN) and the
    # first rows of the rest; the counts above the table are of every row.
    stored = StoredReport.of(report, background.ERRORS_SHOWN, background.ROWS_SHOWN)
    limits = _limits()
    return render_template("exchange/import.html", form=form or UploadForm(), report=stored, confirm=confirm,
                           token=token, refused=refused, outcome_labels=OUTCOME_LABELS, field_label=field_label,
                           max_mb=f"{limits.max_bytes / 1_000_000:g}", max_rows=limits.max_rows), status


def _in_background(data):
    """Whether a file is checked and imported by the background worker (large files)."""
    return len(data) > current_app.config["IMPORT_BACKGROUND_BYTES"]


def _queued(upload, mode):
    job = background.request_import(current_user, upload, mode, str(get_locale()))
    return redirect(url_for("exchange_jobs.show", raw_uuid=job.uuid), 303)


@bp.route("/", methods=["GET", "POST"])
@permission_required(may_import)
def upload():
    form = UploadForm()
    limits = _limits()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("exchange/import.html", form=form, report=None,
                               max_mb=f"{limits.max_bytes / 1_000_000:g}", max_rows=limits.max_rows), status
    upload_file = form.file.data
    data = upload_file.read(limits.max_bytes + 1)  # one byte more than allowed tells it is too large
    filename = (upload_file.filename or "").rsplit("/", 1)[-1][:120]
    if _in_background(data):
        token = import_store.save(current_user.id, form.kind.data, filename, data)
        return _queued(import_store.load(token, current_user.id), "dry_run")
    report = import_service.run(current_user, form.kind.data, data, filename, limits)
    if report.file_problems:
        return _render(report, form=form, status=422)
    token = import_store.save(current_user.id, form.kind.data, filename, data)
    return _render(report, form=form, confirm=_confirm_form(report), token=token)


def _confirm_form(report):
    form = ConfirmForm()
    if report.has_errors:
        form.mode.data = "valid"
    return form


def _upload_or_404(token):
    upload = import_store.load(token, current_user.id)
    if upload is None:
        raise NotFound(_("This upload has expired or is not yours: upload the file again."))
    return upload


@bp.route("/<token>", methods=["GET"])
@permission_required(may_import)
def dry_run(token):
    upload = _upload_or_404(token)
    report = import_service.run(current_user, upload.kind, upload.data, upload.filename, _limits())
    return _render(report, confirm=_confirm_form(report), token=token)


@bp.route("/<token>/confirm", methods=["POST"])
@permission_required(may_import)
def confirm(token):
    upload = _upload_or_404(token)
    form = ConfirmForm()
    mode = form.mode.data if form.validate_on_submit() and form.mode.data in ("all", "valid") else None
    if mode is None:
        report = import_service.run(current_user, upload.kind, upload.data, upload.filename, _limits())
        return _render(report, confirm=_confirm_form(report), token=token, status=422)
    if _in_background(upload.data):
        return _queued(upload, mode)
    try:
        report = import_service.run(current_user, upload.kind, upload.data, upload.filename, _limits(), mode=mode)
    except import_service.ImportRefused as refusal:
        # Answered as a page (the request writes nothing: its status rolls it back).
        return _render(refusal.report, confirm=_confirm_form(refusal.report), token=token,
                       refused=str(refusal.message), status=422)
    import_store.discard(token)
    return _render(report)


def init_app(app):
    """The pages and `flask import`."""
    from village_survey.exchange import import_cli

    app.register_blueprint(bp)
    app.cli.add_command(import_cli.import_command)
