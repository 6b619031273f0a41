"""`flask report`: make a PDF report in the command itself (no consumer needed), with a progress
bar, archived as the web's reports are, and copied to the file given with -o.

    flask report village:<code> --year 2026 -o village.pdf
    flask report county:<code> --year 2026 --locale en -o county.pdf
    flask report city --year 2026 -o city.pdf
    flask report village --village <code or id> --year 2026 -o village.pdf
    flask report annual --area county:<code>|city --year 2026 -o annual.pdf
"""

import sys

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from village_survey import audit
from village_survey.areas.models import County, Village
from village_survey.core.errors import DomainError
from village_survey.extensions import db
from village_survey.jobs import transaction
from village_survey.reports import services
from village_survey.reports.models import ReportJob

STEPS = {"evaluating": 1, "charts": 2, "rendering": 3}


LEVELS = {County: "county", Village: "village"}


def _by_code_or_id(model, value, what):
    found = db.session.scalar(select(model).where(model.code == value))
    if found is None and value.isdigit() and len(value) <= 9:
        found = db.session.get(model, int(value))
    if found is None:
        raise click.ClickException(_("There is no %(what)s with the code or id %(value)s.", what=what,
                                     value=value))
    return services.ReportArea(LEVELS[model], found.id, found.code, found.name)


def _area(spec):
    """city, county:<code> or village:<code> (a village also by its id)."""
    if spec == "city":
        return services.ReportArea("city", None, None, None)
    level, _sep, code = (spec or "").partition(":")
    if level == "county" and code:
        return _by_code_or_id(County, code, _("county"))
    if level == "village" and code:
        return _by_code_or_id(Village, code, _("village"))
    raise click.UsageError(_("Give the report's area as village:<code>, county:<code> or city, not %(spec)s.",
                             spec=spec))


def _target(target, village, area):
    if target == "village":
        if not village:
            raise click.UsageError(_("Give the village with --village <code or id>."))
        return _by_code_or_id(Village, village, _("village"))
    if target == "annual":
        if not area or area.startswith("village:"):
            raise click.UsageError(_("Give the annual report's area with --area county:<code> or --area city."))
        return _area(area)
    return _area(target)


class _Bar:
    """The progress bar driven by the renderer's progress(stage, page)."""

    def __init__(self, bar):
        self.bar = bar
        self.last = None
        self.terminal = sys.stderr.isatty()  # else click draws no bar

    def __call__(self, stage, page):
        text = {"evaluating": _("computing the evaluation"), "charts": _("drawing the charts")}.get(stage)
        if stage == "rendering":
            text = _("rendering page %(n)s", n=page) if page else _("laying out the pages")
        if not self.terminal and (stage, page) != self.last:  # not a terminal (a log): one line each
            click.echo(text, err=True)
        self.last = (stage, page)
        self.bar.update(max(0, STEPS[stage] - self.bar.pos), text)


@click.command("report")
@click.argument("target", metavar="village:<code>|county:<code>|city|village|annual")
@click.option("--village", help="With 'village': the village's code (or id).")
@click.option("--area", help="With 'annual': county:<code> or city.")
@click.option("--year", type=int, required=True, help="The survey year.")
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default="zh_CN", show_default=True,
              help="The report's language.")
@click.option("--criteria", default=None, help="A criteria set's name (default: the default set).")
@click.option("--full-names", is_flag=True, help="Print the household heads' full names (village reports).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The PDF file to write.")
def report_command(target, village, area, year, locale, criteria, full_names, output):
    """Make a PDF report now: a village's evaluation report, or a county's or the city's annual report."""
    chosen = _target(target, village, area)
    try:
        criteria_set = services.criteria_or_error(criteria)
        services.check_year(year)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    if year not in services.year_choices():
        raise click.ClickException(_("There are no surveys of %(year)s (years: %(years)s).", year=year,
                                     years=", ".join(map(str, services.year_choices()))))
    if locale not in current_app.config["LANGUAGES"]:
        raise click.ClickException(_("Choose the report's language."))
    by_name = audit.command_username()
    with transaction():
        job = services.new_job(chosen, year, criteria_set, locale, full_names and chosen.kind == "village",
                               by_name=by_name)
        audit.record("report_requested", None, target=f"report:{job.uuid}", username=by_name, kind=job.kind,
                     level=job.level, area_id=job.area_id, year=year, criteria=criteria_set.name,
                     locale=locale, full_names=job.full_names, via="cli")
        job_id, attempt = job.id, job.attempt
    with click.progressbar(length=len(STEPS) + 1, label=_("Making the report"), show_eta=False,
                           item_show_func=lambda text: text, file=sys.stderr) as bar:
        status = services.run_job(job_id, attempt, progress=_Bar(bar))
        if status == "done":
            bar.update(len(STEPS) + 1 - bar.pos, _("done"))
    job = db.session.get(ReportJob, job_id)
    db.session.refresh(job)
    if job.status != "done":
        raise click.ClickException(_("The report could not be made: %(reason)s", reason=job.error))
    try:
        with open(output, "wb") as out:
            out.write(services.archive_path(job).read_bytes())
    except OSError as error:
        raise click.ClickException(_("Could not write %(file)s: %(error)s", file=output,
                                     error=error.strerror or error)) from None
    state = (_("final (evaluation version %(n)s)", n=job.evaluation_version) if job.finalized
             else _("draft (the evaluation is not finalized)"))
    click.echo(_("%(file)s: %(pages)s pages, %(size)s bytes, %(state)s, SHA-256 %(sha)s; archived as report %(uuid)s.",
                 file=output, pages=job.pages, size=job.size, state=state, sha=job.sha256, uuid=job.uuid))


def register(app):
    app.cli.add_command(report_command)
