"""PDF reports rendered with WeasyPrint: the village evaluation report and the annual report of
a county or of the city.

    render_report(kind, area, year, criteria, locale, full_names, progress) -> RenderedReport

The figures are read by `content_data`, turned into sections by `content` (pure), drawn by the
chart module (the dashboards' charts, the same SVG as the web), written out by the templates
under templates/reports/print/ with static/css/print.css, and laid out by WeasyPrint. WeasyPrint
fetches only the app's own static files (`StaticOnlyFetcher`): no file elsewhere on the disk,
no network.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from village_survey.dashboards import drawing, figures, texts
from village_survey.evaluations.labels import STAR_LABELS, chinese, explanation, label
from village_survey.evaluations.precomputed import Area
from village_survey.i18n import LEVEL_LABELS
from village_survey.reports import content, content_data
from village_survey.scoring import CriteriaSet
from village_survey.scoring.profile import MIXES
from village_survey.surveys.labels import CODE_LABELS

KINDS = ("village", "county", "city")
Progress = Callable[[str, "int | None"], None]


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    figures: dict  # the figures the report was made from (JSON-ready; no personal data)
    pages: int
    finalized: bool  # made from a current finalized evaluation
    version: int | None  # that evaluation's version


# ---------------------------------------------------------------- fetching resources


class RefusedResource(ValueError):
    """A resource a report may not load (WeasyPrint leaves it out and goes on)."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the app's static folder (file: URLs, as the template's base URL
    makes them) and data: URLs; refuses any other file and every other scheme (http, https,
    ftp, …), so a report never reads the server's disk or reaches the network."""

    def __init__(self, static_folder: str | Path):
        super().__init__(allowed_protocols=("file", "data"))
        self.root = Path(static_folder).resolve()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedResource(f"reports load no external resource: {url}")
        path = Path(unquote(urlsplit(url).path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RefusedResource(f"reports load only the app's static files: {url}")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                  {"Content-Type": _content_type(path)})


_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
          ".jpeg": "image/jpeg", ".woff2": "font/woff2", ".otf": "font/otf", ".ttf": "font/ttf"}


def _content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower(), "application/octet-stream")


def fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher(current_app.static_folder)


def static_base_url() -> str:
    return Path(current_app.static_folder).resolve().as_uri() + "/"


# ---------------------------------------------------------------- page progress from WeasyPrint


class _PageProgress(logging.Handler):
    """WeasyPrint logs each page it lays out ("Step 5 - Creating layout - Page %d") to
    `weasyprint.progress`; this handler passes the page number to the callback of the thread
    that renders."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.local = threading.local()

    def emit(self, record):
        callback = getattr(self.local, "callback", None)
        if callback is not None and record.msg.startswith("Step 5") and record.args:
            callback("rendering", int(record.args[0]))


_page_progress = _PageProgress()
_progress_logger = logging.getLogger("weasyprint.progress")
_progress_logger.addHandler(_page_progress)
_progress_logger.setLevel(logging.INFO)
_progress_logger.propagate = False  # the steps are for the progress bar, not for the app's log


def write_pdf(html: str, progress: Progress = lambda s, p: None) -> tuple[bytes, int]:
    """The HTML laid out as a PDF by WeasyPrint with the static-only fetcher: (bytes, pages)."""
    _page_progress.local.callback = progress
    try:
        document = HTML(string=html, base_url=static_base_url(), url_fetcher=fetcher()).render()
        return document.write_pdf(), len(document.pages)
    finally:
        _page_progress.local.callback = None


# ---------------------------------------------------------------- words and numbers


def number(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal(round(value, digits), format="#,##0." + "#" * digits if digits else "#,##0")


def percent(share) -> str:
    return "—" if share is None else format_percent(share, "#,##0.#%")


def indicator_value(indicator: dict, value) -> str:
    """A value of an indicator: a share as a percentage, an amount with its unit."""
    if value is None:
        return "—"
    if indicator["direction"] == "higher_better":
        return percent(value)
    return _("%(value)s t CO2e/person", value=number(value, 2))


def figure(indicator: dict, value) -> str:
    """A value of an indicator in a table whose heading names the unit: a share as a
    percentage, an amount as a bare number."""
    if value is None:
        return "—"
    return percent(value) if indicator["direction"] == "higher_better" else number(value, 2)


def indicator_change(indicator: dict, change) -> str:
    if change is None:
        return "—"
    sign = "+" if change > 0 else ""
    if indicator["direction"] == "higher_better":
        return sign + number(change * 100, 1)  # percentage points
    return sign + number(change, 2)


def kwh(value) -> str:
    return _("%(value)s kWh", value=number(value, 0))


def kwp(value) -> str:
    return _("%(value)s kWp", value=number(value, 1))


def tco2e(value) -> str:
    return _("%(value)s t CO2e", value=number(value, 1))


def grade_word(results: dict) -> str:
    if results.get("insufficient_data"):
        return _("insufficient data")
    return results.get("grade_zh" if chinese() else "grade_en") or results.get("grade") or ""


def stars_word(stars) -> str:
    return "—" if stars is None else str(STAR_LABELS.get(stars, stars))


def stove_word(code) -> str:
    return "—" if code is None else str(CODE_LABELS["primary_stove"].get(code, code))


def area_title(data: dict) -> str:
    """The area as the report names it: 九江市 泉兴村 (township, county above it)."""
    area = data["area"]
    if area["level"] == "city":
        return _("Jiujiang city")
    return area["name"]


def css_string(text: str) -> str:
    """A text as the inside of a CSS string (for the page's margin boxes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def page_counter_css() -> tuple[str, str, str]:
    """The words around N and M of "Page N of M" in the page's language, for a CSS content."""
    marker_page, marker_pages = "\x01", "\x02"
    sentence = _("Page %(page)s of %(pages)s", page=marker_page, pages=marker_pages)
    before, _sep, rest = sentence.partition(marker_page)
    middle, _sep, after = rest.partition(marker_pages)
    return css_string(before), css_string(middle), css_string(after)


# The defaults scoring used where an answer was missing, by code, as the method appendix counts them.
ASSUMPTION_WORDS = {
    "electricity_from_bill": _l("electricity bought estimated from the monthly bill and the tariff"),
    "electricity_missing": _l("neither electricity kWh nor the bill answered: electricity bought taken as 0"),
    "pv_generation_estimated": _l("PV generation not answered: estimated from the capacity and the yield"),
    "pv_capacity_missing": _l("PV without its generation or capacity: generation taken as 0"),
    "pv_mode_assumed": _l("PV mode not answered: the usual mode (self use, surplus to the grid) assumed"),
    "fuel_missing_as_zero": _l("fuel quantities not answered: taken as 0"),
    "residents_missing": _l("residents not answered: per-person figures use 1 person"),
    "residents_zero": _l("no permanent residents: per-person figures use 1 person"),
    "answers_missing": _l("required answers missing: counted as not met"),
}

HELPERS = {"number": number, "percent": percent, "indicator_value": indicator_value, "figure": figure,
           "indicator_change": indicator_change, "kwh": kwh, "kwp": kwp, "tco2e": tco2e,
           "grade_word": grade_word, "stars_word": stars_word, "stove_word": stove_word,
           "label": label, "explanation": explanation, "css_string": css_string,
           "STAR_LABELS": STAR_LABELS, "LEVEL_LABELS": LEVEL_LABELS,
           "assumption_words": ASSUMPTION_WORDS}


# ---------------------------------------------------------------- charts




def _chart(key: str, title: str, kind: str, data: tuple, words: dict, gid: str, note: str | None = None,
           **options) -> dict:
    chart = drawing.draw(kind, data, words, texts.locale_name(), f"{gid}-{key}", **options)
    return {"key": key, "title": title, "svg": chart.svg, "src": svg_data_url(chart.svg), "alt": chart.alt,
            "note": note}


def svg_data_url(svg: str) -> str:
    """A chart's SVG as an image URL: WeasyPrint draws it apart from the page (its text stays
    text, in the font the SVG names), without running the page's CSS over its thousands of
    elements (a third of the layout time when inline)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def village_charts(data: dict) -> list[dict]:
    """The village's charts: targets, the four mixes, CO2e against the county (its star
    levels, PV and the change from last year are in its tables: one bar each would say no more)."""
    results, mix = data["results"], data["mix"]
    name = data["area"]["name"]
    gid = f"report-village{data['area']['id']}"
    village = figures.Child(name, results, mix)
    charts = []
    if not content.has_figures(results):
        return charts
    charts.append(_chart("targets", _("Indicators against their targets"), "targets",
                         (figures.targets(results, texts.indicator_name, texts.unit),), texts.targets_texts(), gid))
    for which in MIXES:
        charts.append(_chart(which, str(texts.MIX_TITLES[which]), "mix",
                             (figures.mix_options(mix, which, texts.mix_label(which)),), texts.mix_texts(which), gid))
    county = data.get("county_results")
    reference = figures.co2e_reference(county) if county else None
    if reference is not None:  # beside the targets (the report shows its charts two a line)
        charts.insert(1, _chart("co2e", _("Net CO2e per person against the county"), "co2e",
                                (figures.co2e([village, figures.Child(data["area"]["county"], county, {})]),
                                 reference),
                                texts.co2e_texts(str(LEVEL_LABELS["village"]), data["area"]["county"]), gid))
    return charts


def annual_charts(data: dict, criteria: CriteriaSet) -> list[dict]:
    """An annual report's charts: by child area (townships of a county, counties of the city)."""
    results = data["results"]
    if not content.has_figures(results):
        return []
    level = str(LEVEL_LABELS[data["child_level"]])
    name = area_title(data)
    gid = f"report-{data['kind']}{data['area']['id'] or ''}"
    kids = [figures.Child(c["name"], c["results"], c["mix"]) for c in data["children"]]
    mix = data["mix"] or {}
    previous = data["previous"]
    charts = [_chart("targets", _("Indicators against their targets"), "targets",
                     (figures.targets(results, texts.indicator_name, texts.unit),), texts.targets_texts(), gid)]
    change = figures.changes(results, previous, texts.indicator_name, texts.unit)
    if change:
        charts.append(_chart("change", _("Change from %(previous)s", previous=data["year"] - 1), "change",
                             (change,), texts.change_texts(data["year"]), gid))
    graded = figures.scores(kids, texts.grade_name)
    left_out = len(kids) - len(graded)
    charts.append(_chart("ranking", _("Ranking by score, with the grade bands"), "ranking",
                         (graded, figures.bands(criteria.village.grades, chinese())), texts.ranking_texts(level), gid,
                         note=_("%(n)s without a grade (too few approved surveys or too low a coverage) are left out.",
                                n=left_out) if left_out and graded else None))
    charts.append(_chart("stars", _("Star levels by %(level)s", level=level), "stars",
                         (figures.stars(kids, len(STAR_LABELS)),), texts.stars_texts(level), gid))
    for which in MIXES:
        previous_share = figures.previous_clean_share(data.get("previous_mix"), which)
        charts.append(_chart(which, str(texts.MIX_TITLES[which]), "mix",
                             (figures.mix_options(mix, which, texts.mix_label(which)),), texts.mix_texts(which), gid,
                             previous_share=previous_share))
    charts.append(_chart("pv", _("PV households and capacity by %(level)s", level=level), "pv",
                         (figures.pv(kids),), texts.pv_texts(level), gid))
    reference = figures.co2e_reference(results)
    if reference is not None:
        charts.append(_chart("co2e", _("Net CO2e per person by %(level)s", level=level), "co2e",
                             (figures.co2e(kids), reference), texts.co2e_texts(level, name), gid))
    return charts


# ---------------------------------------------------------------- the reports' contexts


def _common(data: dict, criteria: CriteriaSet) -> dict[str, Any]:
    results = data["results"]
    before, middle, after = page_counter_css()
    title = area_title(data)
    year_text = _("%(year)s annual report", year=data["year"]) if data["kind"] != "village" \
        else _("Evaluation %(year)s", year=data["year"])
    return {
        "data": data, "results": results, "criteria": criteria, "method": content.method(criteria),
        "summary": content.summary(results, data["previous"]),
        "indicators": content.indicator_rows(results, data["previous"]),
        "finalized": data["finalized"], "version": data["version"],
        "lang": "zh-CN" if chinese() else "en", "chinese": chinese(),
        "title": title, "running_header": css_string(f"{title} · {year_text}"),
        "page_before": before, "page_middle": middle, "page_after": after,
        "draft_mark": css_string(_("Draft").upper()),
        "criteria_title": criteria.title_zh if chinese() else criteria.title_en,
        "today": dt.date.today(), **HELPERS,
    }


def village_context(data: dict, full_names: bool) -> dict[str, Any]:
    criteria = data["criteria_set"]
    farmhouses = data["farmhouses"]
    context = _common(data, criteria)
    rows = context["indicators"]
    short = content.shortfalls(criteria.village.indicators, farmhouses)
    context.update(
        farmhouse_rows=content.farmhouse_rows(farmhouses, full_names),
        recommendations=content.recommendations(rows, short, data["mix"]),
        measures=content.measure_gains(farmhouses),
        assumptions=content.assumptions(farmhouses),
        energy=content.energy_totals(f for f in farmhouses if f.get("energy")),
        mix_totals=content.mix_totals(data["mix"]),
        full_names=full_names,
        signature_date=(data["finalized_at"].date() if data["finalized_at"] else dt.date.today()),
    )
    return context


def annual_context(data: dict) -> dict[str, Any]:
    criteria = data["criteria_set"]
    context = _common(data, criteria)
    ranked = [{"id": c["id"], "name": c["name"], "code": c["code"], "parent": c["parent"],
               "finalized": c["finalized"], **c["results"],
               "previous_score": (data["ranked_last_year"].get(c["id"]) or {}).get("score")
               if content.has_figures(data["ranked_last_year"].get(c["id"])) else None}
              for c in data["ranked"]]
    villages = [{"name": c["name"], "code": c["code"], "parent": c["parent"], **c["results"]} for c in data["villages"]]
    groups: dict[Any, dict] = {}
    for row in data["appendix_rows"]:
        group = groups.setdefault(row["parent_id"], {"name": row["parent"], "rows": []})
        group["rows"].append({"name": row["name"], "code": row["code"], **row["results"]})
    context.update(
        ranking=content.ranking(ranked),
        distributions=content.distributions([c["results"] for c in data["villages"]],
                                            data["results"].get("indicators", ())),
        completeness=content.completeness(vars(r) for r in data["completeness"].rows),
        completeness_total=content.completeness([vars(data["completeness"].total)])[0],
        township_completeness=[{"county": g["county"], "rows": content.completeness(vars(r) for r in g["rows"])}
                               for g in data["townships_completeness"]],
        insufficient=content.insufficient(villages),
        appendix=sorted(groups.values(), key=lambda g: g["rows"][0]["code"] or ""),
        mix_totals=content.mix_totals(data["mix"] or {"households": 0}),
        map=data["map"], map_src=svg_data_url(data["map"].svg) if data["map"] else None, child_level=data["child_level"], ranked_level=data["ranked_level"],
        appendix_level=data["appendix_level"], made_on=data["made_on"],
        signature_date=(data["finalized_at"].date() if data["finalized_at"] else dt.date.today()),
    )
    return context


# ---------------------------------------------------------------- the figures kept with a report


def report_figures(data: dict) -> dict[str, Any]:
    """The figures a report was made from, JSON-ready, without personal data (no names)."""
    kept = {"kind": data["kind"], "area": {k: v for k, v in data["area"].items()}, "year": data["year"],
            "criteria": data["criteria"], "finalized": data["finalized"], "version": data["version"],
            "finalized_at": data["finalized_at"].isoformat() if data["finalized_at"] else None,
            "results": data["results"], "previous": data["previous"]}
    if data["kind"] == "village":
        kept.update(mix=data["mix"], county_results=data["county_results"],
                    farmhouses=[{k: f.get(k) for k in ("uuid", "revision", "house_number", "total", "stars",
                                                       "base_level", "zero_carbon", "cooking", "pv", "pv_kwp")}
                                for f in data["farmhouses"]])
    else:
        kept.update(mix=data["mix"], previous_mix=data["previous_mix"],
                    children=[{k: c[k] for k in ("id", "name", "code", "finalized", "results", "mix")}
                              for c in data["children"]],
                    villages=[{"id": c["id"], "name": c["name"], "code": c["code"], "score": c["results"].get("score"),
                               "grade": c["results"].get("grade"), "approved_surveys": c["results"].get("approved_surveys"),
                               "coverage": c["results"].get("coverage")} for c in data["villages"]],
                    completeness=[vars(r) for r in data["completeness"].rows])
    return kept


# ---------------------------------------------------------------- the entry point


def render_html(kind: str, area: Area, year: int, criteria: CriteriaSet, full_names: bool,
                progress: Progress = lambda s, p: None) -> tuple[str, dict]:
    """The report's HTML (in the current locale) and the data it was made from."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    area = content_data.area_for(kind, area)
    if kind == "village":
        data = content_data.village_data(area, year, criteria, progress)
        progress("charts", None)
        context = village_context(data, full_names)
        context["charts"] = village_charts(data)
        html = render_template("reports/print/village.html", **context)
    else:
        data = content_data.annual_data(area, year, criteria, progress)
        progress("charts", None)
        context = annual_context(data)
        context["charts"] = annual_charts(data, data["criteria_set"])
        html = render_template("reports/print/annual.html", **context)
    return html, data


def render_report(kind: str, area: Area, year: int, criteria: CriteriaSet, locale: str, full_names: bool,
                  progress: Progress = lambda s, p: None) -> RenderedReport:
    """A village evaluation report ("village") or an annual report ("county", "city") as a PDF.

    Runs in an app context; `progress(stage, page)` hears "evaluating", "charts", then
    "rendering" with each page as it is laid out. Head names are masked unless `full_names`
    (the caller decides whether the user may see them).
    """
    with force_locale(locale):
        html, data = render_html(kind, area, year, criteria, full_names, progress)
        kept, finalized, version = report_figures(data), bool(data["finalized"]), data["version"]
        annual = data["kind"] != "village"
        del data  # the city's figures need not stay in memory while WeasyPrint lays out the pages
        if annual:  # a full collection takes 0.2 s: worth it only for the city's and counties' figures
            gc.collect()
        progress("rendering", None)
        pdf, pages = write_pdf(html, progress)
    return RenderedReport(pdf, kept, pages, finalized, version)
