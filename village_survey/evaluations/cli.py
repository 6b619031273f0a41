"""Flask commands: score one household's answers from a file, evaluate (and finalize or reopen) an area."""

import json
import os
import unicodedata

import click
from flask_babel import gettext as _

from village_survey.evaluations import finalizing, precomputed, services
from village_survey.evaluations.labels import grade_label
from village_survey.jobs.transaction import transaction
from village_survey.scoring import (
    DEFAULT_CRITERIA, AnswerError, CriteriaError, load_criteria, load_criteria_file, score_farmhouse,
    to_dict, to_text,
)


def _load_criteria(spec):
    """A shipped criteria set by name, or a criteria file by its path (to check a new set)."""
    try:
        if spec.endswith(".toml") or "/" in spec:
            return load_criteria_file(spec)
        return load_criteria(spec)
    except CriteriaError as error:
        raise click.ClickException(str(error)) from None


def _read_answers(source):
    """The answers objects of a JSON file: one object, or an array of them."""
    try:
        data = json.load(source)
    except UnicodeDecodeError:
        raise click.ClickException(_("%(file)s is not UTF-8 text.", file=source.name)) from None
    except json.JSONDecodeError as error:
        raise click.ClickException(_("%(file)s is not valid JSON: line %(line)s, column %(col)s: %(msg)s.",
                                     file=source.name, line=error.lineno, col=error.colno,
                                     msg=error.msg)) from None
    if isinstance(data, dict):
        return data, False
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return data, True
    raise click.ClickException(_("%(file)s must hold one answers object, or an array of answers "
                                 "objects.", file=source.name))


def _score(answers, criteria, number):
    try:
        return score_farmhouse(answers, criteria)
    except AnswerError as error:
        where = _("answers %(n)s: ", n=number) if number else ""
        raise click.ClickException(f"{where}{error}") from None


def _as_json(result):
    return {**to_dict(result), "improvements": services.top_improvements(result)}


def _as_text(result):
    lines = [to_text(result), "What would raise the score most"]
    lines += [f"  {i['id']:<3} {i['label_en']}: +{i['total_gain']:.2f}"
              for i in services.top_improvements(result)]
    return "\n".join(lines)


@click.command("score-household")
@click.argument("answers_file", type=click.File("r", encoding="utf-8"))
@click.option("--criteria", default=DEFAULT_CRITERIA, show_default=True,
              help="A criteria set's name, or the path of a criteria .toml file.")
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="json",
              show_default=True)
def score_household_command(answers_file, criteria, output_format):
    """Score a household's survey answers (a JSON object, or an array of them; - reads stdin)."""
    criteria_set = _load_criteria(criteria)
    data, many = _read_answers(answers_file)
    answers_list = data if many else [data]
    results = [_score(answers, criteria_set, n if many else None)
               for n, answers in enumerate(answers_list, 1)]
    if output_format == "json":
        shown = [_as_json(r) for r in results]
        click.echo(json.dumps(shown if many else shown[0], ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(_as_text(r) for r in results))


def _pad(text, width):
    """Text padded to a width in terminal columns: Chinese characters take two."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def _row(level, results, finalized_note=""):
    score = "—" if results["score"] is None else f"{results['score']:.2f}"
    registered = results["registered_households"] or 0
    name = results.get("name") or _("city")
    return (f"{_pad(level, 9)} {_pad(results.get('code') or '', 12)} {_pad(name, 16)} {score:>6}  "
            f"{_pad(grade_label(results), 18)} {results['approved_surveys']:>7}/{registered}{finalized_note}")


def _progress(count):
    click.echo(_("%(n)s surveys scored", n=count), err=True)


def _print_preview(area, year, criteria, workers):
    scored = services.score_area(year, criteria, area, progress=_progress, workers=workers)
    results = services.evaluate_scored(scored)
    click.echo(f"{_pad(_('level'), 9)} {_pad(_('code'), 12)} {_pad(_('name'), 16)} {_('score'):>6}  "
               f"{_pad(_('grade'), 18)} {_('approved/registered')}")
    for level, found in (("village", results.villages), ("township", results.townships),
                         ("county", results.counties)):
        if area.level == "township" and level == "county":
            break
        if area.level == "village" and level != "village":
            break
        for ident in sorted(found, key=lambda i: found[i]["code"]):
            click.echo(_row(level, found[ident]))
    if area.level == "city":
        click.echo(_row("city", results.city))
    for item in scored.unscorable:
        click.echo(_("Not scored: survey %(uuid)s: %(why)s", uuid=item["uuid"], why=item["why"]), err=True)


def _fail(error):
    raise click.ClickException(str(error.message)) from None


def _finalize(area, year, criteria, workers, anyway):
    ready = finalizing.readiness(area, year)
    click.echo(_("%(waiting)s surveys wait for review; %(not_surveyed)s of %(registered)s registered "
                 "households are not surveyed.", waiting=ready.waiting, not_surveyed=ready.not_surveyed,
                 registered=ready.registered), err=True)
    if ready.waiting and not anyway:
        raise click.ClickException(_("%(n)s surveys of this area still wait for review: they would not "
                                     "count. Review them first, or give --anyway.", n=ready.waiting))
    try:
        with transaction():
            outcome = finalizing.finalize(None, area, year, criteria, anyway=anyway, progress=_progress,
                                          again=True, workers=workers)
    except services.EvaluationError as error:
        _fail(error)
    kept_ids = {evaluation.id for evaluation in outcome.kept}
    for evaluation in sorted(outcome.created + outcome.kept,
                             key=lambda e: (services.LEVEL_ORDER[e.level], e.results.get("code") or "")):
        kept = evaluation.id in kept_ids
        note = ("  " + _("kept: finalized earlier, on %(at)s by %(name)s",
                         at=evaluation.finalized_at.strftime("%Y-%m-%d %H:%M"),
                         name=evaluation.finalized_by_name)) if kept else ""
        version = "  " + _("version %(n)s", n=evaluation.version)
        click.echo(_row(evaluation.level, evaluation.results, version + note))
    click.echo(_("Finalized: %(created)s evaluations stored, %(kept)s already finalized kept as they were.",
                 created=len(outcome.created), kept=len(outcome.kept)))


def _reopen(area, year, criteria, reason):
    try:
        with transaction():
            reopened = finalizing.reopen(None, area, year, criteria.name, reason)
    except services.EvaluationError as error:
        _fail(error)
    for evaluation in reopened:
        click.echo(_row(evaluation.level, evaluation.results,
                        "  " + _("version %(n)s reopened", n=evaluation.version)))
    click.echo(_("Reopened: %(n)s evaluations; their figures stay as they were. Finalize again to store "
                 "new versions.", n=len(reopened)))


def _rebuild(workers):
    """Recompute every precomputed result and aggregate, with a progress bar on the terminal."""
    with transaction(), click.progressbar(length=1, label=_("Scoring approved surveys"), show_pos=True) as bar:
        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        outcome = precomputed.rebuild(workers=workers, progress=progress)
    click.echo(_("Rebuilt the evaluations of %(surveys)s approved surveys (criteria: %(sets)s) in "
                 "%(seconds).1f s.", surveys=outcome["surveys"], sets=", ".join(outcome["sets"]),
                 seconds=outcome["seconds"]))


@click.command("evaluate")
@click.option("--year", type=int, help="The survey year (not needed with --rebuild).")
@click.option("--area", default="city", show_default=True,
              help="city, county:<code>, township:<code> or village:<code>")
@click.option("--criteria", default=DEFAULT_CRITERIA, show_default=True, help="A criteria set's name.")
@click.option("--finalize", "do_finalize", is_flag=True,
              help="Store finalized evaluations of the area and every village and area in it "
                   "that has no current version.")
@click.option("--anyway", is_flag=True,
              help="With --finalize: finalize although surveys of the area still wait for review.")
@click.option("--reopen", "do_reopen", is_flag=True,
              help="Reopen the area's finalized evaluation (and, for a village, those that pooled it), "
                   "so that --finalize stores a new version. Needs --reason.")
@click.option("--reason", help="With --reopen: why (kept with the reopened version and in the audit log).")
@click.option("--rebuild", "do_rebuild", is_flag=True,
              help="Recompute the stored results of every approved survey and the figures of every "
                   "area, for every year and current criteria set (after criteria change or an upgrade).")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default=True,
              help="Processes that score surveys side by side.")
def evaluate_command(year, area, criteria, do_finalize, anyway, do_reopen, reason, do_rebuild, workers):
    """Evaluate an area's villages, townships and counties from approved surveys."""
    if do_rebuild:
        if do_finalize or do_reopen:
            raise click.UsageError(_("Give --rebuild alone."))
        _rebuild(workers)
        return
    if year is None:
        raise click.UsageError(_("Give the survey year with --year."))
    if do_finalize and do_reopen:
        raise click.UsageError(_("Give --finalize or --reopen, not both."))
    try:
        criteria_set = load_criteria(criteria)
        target = services.area_from_spec(area)
    except CriteriaError as error:
        raise click.ClickException(str(error)) from None
    except services.EvaluationError as error:
        raise click.ClickException(error.message) from None
    if do_reopen:
        _reopen(target, year, criteria_set, reason)
    elif do_finalize:
        _finalize(target, year, criteria_set, workers, anyway)
    else:
        _print_preview(target, year, criteria_set, workers)


def register(app):
    app.cli.add_command(score_household_command)
    app.cli.add_command(evaluate_command)
