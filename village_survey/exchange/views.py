"""Downloads of the surveys (XLSX, CSV), farmhouses (GeoJSON) and evaluations (XLSX) of the
user's area, filtered by the query parameters year, status, area, labels and full."""

import datetime as dt
import tempfile

from flask import Blueprint, Response, current_app, request, send_file, stream_with_context
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from village_survey import audit
from village_survey.access import may_export, permission_required
from village_survey.exchange import exports, writers

bp = Blueprint("exchange", __name__, url_prefix="/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"


def _filter():
    return exports.export_filter(current_user, request.args, _, current_app.config["BABEL_DEFAULT_TIMEZONE"])


# A download is made within one request, which a server gives about 30 s (gunicorn's default
# timeout); a county's 50,000 surveys take 5 s as XLSX (bench/exports.py), the city's 600,000
# would not fit: larger exports are for `flask export`.
MAX_SURVEYS = 200_000


def _check_size(count):
    limit = current_app.config.get("EXPORT_MAX_SURVEYS", MAX_SURVEYS)
    if count > limit:
        raise exports.ExportError(413, _(
            "%(n)s surveys are too many for one download (at most %(max)s): choose a county, a year or a "
            "status, or ask the administrator for `flask export`.", n=format_number(count),
            max=format_number(limit)))


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
    _check_size(count)
    _audit("surveys.xlsx", f, count)
    return _xlsx(sheets, f.file_stem("surveys") + ".xlsx")


@bp.get("/surveys.csv")
@permission_required(may_export)
def surveys_csv():
    f = _filter()
    table = exports.survey_table(f, _, for_csv=True)
    _check_size(table.count)
    _audit("surveys.csv", f, table.count)
    return _streamed(writers.csv_chunks(table.header_rows, table.rows, ready=True), CSV, f.file_stem("surveys") + ".csv")


@bp.get("/farmhouses.geojson")
@permission_required(may_export)
def farmhouses_geojson():
    f = _filter()
    _check_size(exports.count_surveys(f))
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


def init_app(app):
    """The downloads and `flask export` (one line in the factory)."""
    from village_survey.exchange import cli

    app.register_blueprint(bp)
    cli.register(app)
