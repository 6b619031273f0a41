"""Imports of the registry and of paper surveys: read the file, plan every row (the dry run), and
on confirmation write the whole file (refused if any row has an error) or only its valid rows.

The one entry point of the page and of `flask import`; it never commits (the request or the
command does, once).
"""

from __future__ import annotations

from flask_babel import gettext as _

from village_survey import access, audit
from village_survey.core.errors import DomainError, Forbidden
from village_survey.exchange import import_registry, import_surveys
from village_survey.exchange.import_files import ImportFileError, Limits, read_sheet
from village_survey.exchange.import_report import Problem, Report

KINDS = {"registry": import_registry, "surveys": import_surveys}
DRY_RUN, WHOLE_FILE, VALID_ROWS = None, "all", "valid"


class ImportRefused(DomainError):
    """A confirmation that writes nothing; `report` says why, row by row."""

    def __init__(self, report, message):
        super().__init__(422, message)
        self.report = report


def _quiet(stage, done=None, total=None):
    pass


def run(user, kind, data, filename, limits: Limits, mode=DRY_RUN, today=None, progress=_quiet) -> Report:
    """The report of importing `data`; with `mode` WHOLE_FILE or VALID_ROWS, the import done.
    `progress(stage, done, total)` is told each stage (reading, checking, writing) and, while
    the rows are checked, how many of them were.

    Raises ImportRefused (nothing written) for WHOLE_FILE when any row has an error, and for
    either mode when nothing in the file can be imported.
    """
    if not access.may_import(user):
        raise Forbidden()
    if kind not in KINDS:
        raise DomainError(422, _("Choose what the file holds: the registry or surveys."))
    progress("reading")
    try:
        sheet = read_sheet(data, filename, limits)
    except ImportFileError as error:
        report = Report(kind, filename=filename, file_problems=[Problem(None, None, str(error))])
    else:
        def checked(done, total):
            progress("checking", done, total)

        if kind == "surveys":
            plan = import_surveys.plan(user, sheet, filename, today=today, progress=checked)
        else:
            plan = import_registry.plan(user, sheet, filename, progress=checked)
        report = plan.report
    if mode is DRY_RUN:
        return report
    if report.file_problems or not report.rows:
        raise ImportRefused(report, _("Nothing was imported: the file cannot be read as it is."))
    if mode == WHOLE_FILE and report.has_errors:
        raise ImportRefused(report, _("Nothing was imported: %(n)s rows have errors. Correct them, or import "
                                      "only the valid rows.", n=len(report.error_rows)))
    if mode == VALID_ROWS and not report.valid_rows:
        raise ImportRefused(report, _("Nothing was imported: no row is valid."))
    progress("writing", len(report.valid_rows), len(report.rows))
    KINDS[kind].apply(user, plan, valid_only=mode == VALID_ROWS)
    audit.record(f"{kind}_imported", user, target=f"file:{filename[:70]}" if filename else None,
                 **report.summary())
    return report
