"""The dashboard of a user for a year: progress by child area (counted live), the scope's
headline indicators against their targets and last year, and the charts, all read from the
precomputed figures (never scored in the request)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _

from village_survey.charts.style import Chart
from village_survey.dashboards import drawing, figures, texts
from village_survey.dashboards.progress import CHILD_LEVEL, Progress, progress
from village_survey.evaluations import precomputed
from village_survey.evaluations import services as evaluations
from village_survey.evaluations.labels import LEVEL_PLURALS, STAR_LABELS, chinese
from village_survey.evaluations.precomputed import Area
from village_survey.i18n import LEVEL_LABELS
from village_survey.scoring.profile import MIXES

YEARS = range(2000, 2101)
# The evaluation list's sort behind each chart (an indicator id, or the score).
CHART_SORTS = {"stars": "star_farmhouse_rate", "targets": "score", "cooking": "clean_cooking_rate",
               "heating": "score", "hot_water": "score", "lighting": "efficient_lighting_rate",
               "pv": "pv_household_rate", "co2e": figures.CO2E_INDICATOR, "ranking": "score",
               "change": "score"}


def year_from(raw, today: dt.date | None = None) -> int:
    """The year asked for (`?year=`), or this year for anything else."""
    this_year = (today or dt.date.today()).year
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return this_year
    return year if year in YEARS else this_year


@dataclass(frozen=True)
class Headline:
    """One indicator of the scope: its value, target and last year's value, as written."""

    id: str
    name: str
    value: str
    target: str
    previous: str | None
    met: bool | None


@dataclass(frozen=True)
class ChartView:
    key: str
    title: str
    chart: Chart
    sort: str  # the evaluation list's sort behind it
    note: str | None = None


@dataclass
class Dashboard:
    year: int
    years: list[int]
    scope: Area
    scope_name: str
    child_level: str
    child_plural: str
    progress: Progress
    built: bool
    has_figures: bool = False
    score: float | None = None
    grade: str | None = None
    previous_score: float | None = None
    headlines: list[Headline] = field(default_factory=list)
    charts: list[ChartView] = field(default_factory=list)


def scope_name(user) -> str:
    area = user.scope_area
    return area.name if area is not None else _("Jiujiang city")


def _met(indicator) -> bool | None:
    value, target = indicator["value"], indicator["target"]
    if value is None or target is None:
        return None
    return value >= target if indicator["direction"] == "higher_better" else value <= target


def headlines(results: dict, previous: dict | None) -> list[Headline]:
    found = []
    for indicator in results.get("indicators", ()):
        before = figures.indicator_of(previous, indicator["id"]) if figures.has_figures(previous) else None
        found.append(Headline(
            indicator["id"], texts.indicator_name(indicator),
            texts.indicator_value(indicator, indicator["value"]),
            texts.indicator_value(indicator, indicator["target"]),
            texts.indicator_value(indicator, before["value"]) if before is not None else None,
            _met(indicator)))
    return found


def charts(scope: Area, name: str, year: int, child_level: str, own, previous, children, criteria) -> list[ChartView]:
    """Every chart of the scope and its children; the drawing is cached by its inputs."""
    locale = texts.locale_name()
    level = str(LEVEL_LABELS[child_level])
    kids = [figures.Child(c.name, c.results, c.mix) for c in children.values()]
    prefix = f"{scope.level}{scope.id or ''}"
    views = []

    def add(key, title, kind, data, words, note=None, **options):
        chart = drawing.draw(kind, data, words, locale, f"{prefix}-{key}", **options)
        views.append(ChartView(key, title, chart, CHART_SORTS[key], note))

    add("stars", _("Star levels by %(level)s", level=level), "stars",
        (figures.stars(kids, len(STAR_LABELS)),), texts.stars_texts(level))
    add("targets", _("Indicators against their targets"), "targets",
        (figures.targets(own.results, texts.indicator_name, texts.unit),), texts.targets_texts())
    for which in MIXES:
        previous_share = figures.previous_clean_share(previous.mix if previous else None, which)
        add(which, str(texts.MIX_TITLES[which]), "mix",
            (figures.mix_options(own.mix, which, texts.mix_label(which)),), texts.mix_texts(which),
            previous_share=previous_share)
    add("pv", _("PV households and capacity by %(level)s", level=level), "pv",
        (figures.pv(kids),), texts.pv_texts(level))
    reference = figures.co2e_reference(own.results)
    if reference is not None:
        add("co2e", _("Net CO2e per person by %(level)s", level=level), "co2e",
            (figures.co2e(kids), reference), texts.co2e_texts(level, name))
    graded = figures.scores(kids, texts.grade_name)
    left_out = len(kids) - len(graded)
    add("ranking", _("Ranking by score, with the grade bands"), "ranking",
        (graded, figures.bands(criteria.village.grades, chinese())), texts.ranking_texts(level),
        note=_("%(n)s without a grade (too few approved surveys or too low a coverage) are left out.",
               n=left_out) if left_out and graded else None)
    change = figures.changes(own.results, previous.results if previous else None, texts.indicator_name,
                             texts.unit)
    if change:
        add("change", _("Change from %(previous)s", previous=year - 1), "change", (change,),
            texts.change_texts(year))
    return views


def dashboard(user, year: int) -> Dashboard:
    """What the dashboard shows a user for a year, within their scope."""
    scope = evaluations.user_scope(user)
    name = scope_name(user)
    child_level = CHILD_LEVEL[scope.level]
    board = Dashboard(year=year, years=evaluations.survey_years(dt.date.today().year), scope=scope,
                      scope_name=name, child_level=child_level,
                      child_plural=str(LEVEL_PLURALS[child_level]),
                      progress=progress(scope, year, _("Total")),
                      built=False)
    criteria = evaluations.criteria_named(None)
    board.built = precomputed.built(criteria)
    if not board.built:
        return board
    own = precomputed.figures(criteria, year, scope.level, scope)[scope.id]
    previous = precomputed.figures(criteria, year - 1, scope.level, scope)[scope.id]
    board.has_figures = figures.has_figures(own.results)
    board.score = own.results.get("score")
    board.grade = texts.grade_name(own.results) if not own.results.get("insufficient_data") else None
    board.previous_score = previous.results.get("score") if figures.has_figures(previous.results) else None
    board.headlines = headlines(own.results, previous.results)
    if board.has_figures:
        children = precomputed.figures(criteria, year, child_level, scope)
        board.charts = charts(scope, name, year, child_level, own,
                              previous if figures.has_figures(previous.results) else None, children, criteria)
    return board
