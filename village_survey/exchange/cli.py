"""`flask export`: the web's exports written to a file by the server's operator, with a progress
bar (the command line sees every area; personal data only with --full).

    flask export surveys --area county:360423 --year 2026 -o surveys.xlsx   (or .csv)
    flask export farmhouses --area township:360423100 -o farmhouses.geojson
    flask export evaluations --area city --year 2026 --locale en -o evaluations.xlsx
"""

import datetime as dt
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from village_survey import audit
from village_survey.core.errors import DomainError
from village_survey.exchange import exports
from village_survey.jobs.transaction import transaction

SUFFIXES = {"surveys": (".xlsx", ".csv"), "farmhouses": (".geojson",), "evaluations": (".xlsx",)}


def _options(command):
    options = [
        click.option("--area", default="city", show_default=True,
                     help="city, county:<code>, township:<code> or village:<code>."),
        click.option("--year", type=int, default=None, help="The survey year (evaluations: this year if not given)."),
        click.option("--status", type=click.Choice(("draft", "submitted", "approved", "returned", "all")),
                     default="all", show_default=True, help="Only surveys of this status."),
        click.option("--labels", is_flag=True, help="Translated labels instead of codes."),
        click.option("--full", is_flag=True, help="Personal data in full (masked otherwise)."),
        click.option("--locale", type=click.Choice(["zh_CN", "en"]), default="zh_CN", show_default=True,
                     help="The language of headers and labels."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
                     help="The file to write; its suffix chooses the format."),
    ]
    for option in reversed(options):
        command = option(command)
    return command



def _run(kind, area, year, status, labels, full, locale, output):
    path = Path(output)
    if path.suffix.lower() not in SUFFIXES[kind]:
        raise click.UsageError(_("Write %(kind)s to a file ending in %(suffixes)s.", kind=kind,
                                 suffixes=" or ".join(SUFFIXES[kind])))
    with force_locale(locale):
        try:
            f = exports.cli_filter(area, year, status, labels, full, _, current_app.config["BABEL_DEFAULT_TIMEZONE"])
            if kind == "evaluations":
                f = exports.evaluation_filter(f, dt.date.today().year)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
        with transaction():
            audit.record("export", None, target=f"{kind}{path.suffix.lower()}", username=audit.command_username(), via="cli",
                         **f.audit_detail())
        partial = path.with_name(f".{path.name}.part")
        try:
            rows = _write(kind, f, path.suffix.lower(), partial, locale)
            os.replace(partial, path)
        except OSError as error:
            raise click.ClickException(_("Could not write %(file)s: %(error)s", file=output,
                                         error=error.strerror or error)) from None
        finally:
            if partial.exists():
                partial.unlink()
    click.echo(_("%(file)s: %(rows)s rows.", file=output, rows=rows))


class _Bar:
    """The progress bar of `flask export`, started when the writer knows how many rows come."""

    def __init__(self):
        self.bar = None

    def start(self, total, label):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True,
                                     show_percent=True)
        self.bar.__enter__()

    def __call__(self, rows):
        self.bar.update(rows)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _write(kind, f, suffix, target, locale):
    bar = _Bar()
    try:
        return exports.write_file(kind, suffix, f, target, _, locale, bar, bar.start)
    finally:
        bar.close()


@click.group("export")
def export_group():
    """Export surveys (XLSX, CSV), farmhouses (GeoJSON) or evaluations (XLSX) to a file."""


@export_group.command("surveys")
@_options
def export_surveys(**options):
    """One row per survey, one column per answer; XLSX or CSV by the file's suffix."""
    _run("surveys", **options)


@export_group.command("farmhouses")
@_options
def export_farmhouses(**options):
    """The surveyed farmhouses with a GPS position, as GeoJSON points."""
    _run("farmhouses", **options)


@export_group.command("evaluations")
@_options
def export_evaluations(**options):
    """Villages, townships and counties with every indicator (XLSX)."""
    _run("evaluations", **options)


def register(app):
    app.cli.add_command(export_group)
