"""Downloads of the surveys (XLSX, CSV), farmhouses (GeoJSON) and evaluations (XLSX) of the
user's area, filtered by the query parameters year, status, area, labels and full."""

import datetime as dt
import tempfile

from flask import (Blueprint, Response, current_app, redirect, render_template, request, send_file,
                   stream_with_context, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from village_survey import audit
from village_survey.access import may_export, permission_required
from village_survey.core.errors import NotFound
from village_survey.exchange import background, exports, writers
from village_survey.exchange.models import EXPORT_FILES

bp = Blueprint("exchange", __name__, url_prefix="/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"


def _filter():
    return exports.export_filter(current_user, request.args, _, current_app.config["BABEL_DEFAULT_TIMEZONE"])


# A download is made within one request, which a server gives about 30 s (gunicorn's default
# timeout); a county's 50,000 surveys take 5 s as XLSX (bench/exports.py), the city's 600,000
# would not fit: exports of more than EXPORT_MAX_SURVEYS are made by the background worker.


def _too_large(count):
    return count > current_app.config["EXPORT_MAX_SURVEYS"]


def _offer_background(what, f, count):
    """A page instead of the file: the export is made in the background once the user asks."""
    return render_template("exchange/export_background.html", what=what, count=count, f=f,
                           area_name=exports.area_name(f.area) or _("Jiujiang city"),
                           action=url_for(".background_export", what=what, **request.args)), 200


def _audit(name, f, rows):
    audit.record("export", current_user, target=name, rows=rows, **f.audit_detail())


def _attachment(name):
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"}


def _xlsx(sheets, name):
    # Written row by row to a file (XlsxWriter's constant memory), which is then streamed;
    # the file has no name on disk and goes when the response closes it.
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        writers.write_xlsx(handle, sheets)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    response = send_file(handle, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _streamed(chunks, mimetype, name):
    return Response(stream_with_context(chunks), mimetype=mimetype, headers=_attachment(name))


@bp.get("/surveys.xlsx")
@permission_required(may_export)
def surveys_xlsx():
    f = _filter()
    sheets, count = exports.survey_sheets(f, _)
    if _too_large(count):
        return _offer_background("surveys.xlsx", f, count)
    _audit("surveys.xlsx", f, count)
    return _xlsx(sheets, f.file_stem("surveys") + ".xlsx")


@bp.get("/surveys.csv")
@permission_required(may_export)
def surveys_csv():
    f = _filter()
    table = exports.survey_table(f, _, for_csv=True)
    if _too_large(table.count):
        return _offer_background("surveys.csv", f, table.count)
    _audit("surveys.csv", f, table.count)
    return _streamed(writers.csv_chunks(table.header_rows, table.rows, ready=True), CSV, f.file_stem("surveys") + ".csv")


@bp.get("/farmhouses.geojson")
@permission_required(may_export)
def farmhouses_geojson():
    f = _filter()
    count = exports.count_surveys(f)
    if _too_large(count):
        return _offer_background("farmhouses.geojson", f, count)
    _audit("farmhouses.geojson", f, None)
    return _streamed(writers.geojson_chunks(exports.farmhouse_features(f, _)), GEOJSON,
                     f.file_stem("farmhouses") + ".geojson")


@bp.get("/evaluations.xlsx")
@permission_required(may_export)
def evaluations_xlsx():
    f = exports.evaluation_filter(_filter(), dt.date.today().year)
    sheets, count = exports.evaluation_sheets(f, _, str(get_locale()), f.year)
    _audit("evaluations.xlsx", f, count)
    return _xlsx(sheets, f.file_stem("evaluations") + ".xlsx")


@bp.post("/background/<what>")
@permission_required(may_export)
def background_export(what):
    """Make an export in the background (the filter in the query string, as for the download)."""
    if what not in EXPORT_FILES:
        raise NotFound()
    job = background.request_export(current_user, what, _filter(), str(get_locale()))
    return redirect(url_for("exchange_jobs.show", raw_uuid=job.uuid), 303)


def init_app(app):
    """The downloads and `flask export` (one line in the factory)."""
    from village_survey.exchange import cli

    from village_survey.exchange import job_views

    app.register_blueprint(bp)
    app.register_blueprint(job_views.bp)
    cli.register(app)
