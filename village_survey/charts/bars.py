"""The evaluation charts, drawn from plain data: stars, targets, energy mixes, PV, CO2e, ranking, change.

Every function takes plain values, the caller's translated ``texts`` (a mapping whose keys each
function lists; sentences use ``str.format`` names for the figures) and a ``Numbers`` formatter,
and returns a ``Chart`` (svg, alt, table). Every ``texts`` may hold ``empty``: the alt text
when there is nothing to draw. Each drawn mark gets an id ``<gid>-<kind>-<index>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from village_survey.charts.style import (
    BAD, GOOD, HATCHES, INK, MUTED, Chart, Numbers, Table, bar_height, colours, fill_texts,
    label_axis, render, text_colour_on, tone,
)

Texts = Mapping[str, str]
_NUMBERS = Numbers()


# --- inputs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaStars:
    name: str
    counts: tuple[int, ...]  # farmhouses with 0, 1, 2, … stars


@dataclass(frozen=True)
class IndicatorTarget:
    name: str
    value: float
    target: float
    unit: str = ""
    higher_is_better: bool = True

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target


@dataclass(frozen=True)
class MixOption:
    label: str
    count: int
    clean: bool = False  # counted in the headline share (e.g. electricity or gas for cooking)


@dataclass(frozen=True)
class AreaPV:
    name: str
    households: int
    kwp: float


@dataclass(frozen=True)
class AreaValue:
    name: str
    value: float


@dataclass(frozen=True)
class AreaScore:
    name: str
    score: float
    grade: str


@dataclass(frozen=True)
class GradeBand:
    label: str
    min_score: float  # the band runs from here to the next band's minimum


@dataclass(frozen=True)
class IndicatorChange:
    name: str
    previous: float
    current: float
    unit: str = ""
    higher_is_better: bool = True

    @property
    def improved(self) -> bool:
        return self.current > self.previous if self.higher_is_better else self.current < self.previous


# --- helpers --------------------------------------------------------------------------------

def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}".strip()


def _unless_empty(data, alt: str, texts: Texts) -> str:
    """With no data, the caller's ``empty`` sentence (if given) instead of a sentence of zeros."""
    return alt if data else texts.get("empty", alt)


def _write(axis, x, y, text, colour=INK, **kw):
    axis.text(x, y, text, va="center", color=colour, fontsize=9, **kw)


# --- charts ---------------------------------------------------------------------------------

def star_distribution(areas: Sequence[AreaStars], texts: Texts, numbers: Numbers = _NUMBERS,
                      gid: str = "stars") -> Chart:
    """One 100 % bar per child area, a segment per star level.

    texts: ``levels`` (one label per star level, joined by "|"), ``area``, ``axis``, ``total``,
    ``alt`` with {share} (of all farmhouses at the top level), {level}, {count}, {total}.
    """
    levels = texts["levels"].split("|")
    totals = [sum(area.counts) for area in areas]
    grand = sum(totals)
    top = sum(area.counts[-1] for area in areas)
    alt = fill_texts(texts["alt"], share=numbers.percent(_share(top, grand)), level=levels[-1],
                     count=numbers.decimal(top), total=numbers.decimal(grand))
    fills = colours(len(levels))

    def draw(figure):
        axis = figure.add_subplot()
        for row, (area, total) in enumerate(zip(areas, totals)):
            left = 0.0
            for level, count in enumerate(area.counts):
                width = _share(count, total) * 100
                bar = axis.barh(row, width, left=left, color=fills[level], hatch=HATCHES[level],
                                edgecolor="white", linewidth=0.8, height=0.7)[0]
                bar.set_gid(f"{gid}-bar-{row}-{level}")
                if width >= 8:
                    _write(axis, left + width / 2, row, numbers.percent(width / 100),
                           text_colour_on(fills[level]), ha="center",
                           bbox={"facecolor": fills[level], "edgecolor": "none", "pad": 0.5})
                left += width
        label_axis(axis, [area.name for area in areas])
        axis.set_xlim(0, 100)
        axis.xaxis.set_major_formatter(lambda x, _pos: numbers.percent(x / 100))
        axis.set_xlabel(texts["axis"])
        axis.legend(handles=[Patch(facecolor=c, hatch=h, edgecolor="white", label=label)
                             for c, h, label in zip(fills, HATCHES, levels)],
                    loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(levels),
                    frameon=False)

    headers = (texts["area"], *levels, texts["total"])
    rows = tuple((area.name, *(numbers.decimal(c) for c in area.counts), numbers.decimal(total))
                 for area, total in zip(areas, totals))
    alt = _unless_empty(areas, alt, texts)
    return Chart(render(draw, bar_height(len(areas)) + 0.4, alt), alt, Table(headers, rows))


def indicators_against_targets(indicators: Sequence[IndicatorTarget], texts: Texts,
                               numbers: Numbers = _NUMBERS, gid: str = "targets") -> Chart:
    """Each indicator as a share of its target (100 % = target met), value and target written out.

    A "lower is better" indicator (e.g. CO2e per person) is drawn as target ÷ value, so a longer
    bar is always better. texts: ``indicator``, ``value``, ``target``, ``met``, ``not_met``,
    ``axis``, ``alt`` with {met}, {total}.
    """
    met = sum(i.met for i in indicators)
    alt = fill_texts(texts["alt"], met=numbers.decimal(met), total=numbers.decimal(len(indicators)))

    def progress(i: IndicatorTarget) -> float:
        ratio = _share(i.value, i.target) if i.higher_is_better else _share(i.target, i.value)
        return min(ratio, 1.5) * 100

    def draw(figure):
        axis = figure.add_subplot()
        for row, indicator in enumerate(indicators):
            fill = tone(GOOD if indicator.met else BAD)
            bar = axis.barh(row, progress(indicator), color=fill, height=0.6,
                            hatch="" if indicator.met else "///", edgecolor=INK, linewidth=0.5)[0]
            bar.set_gid(f"{gid}-bar-{row}")
            line = axis.plot([100, 100], [row - 0.4, row + 0.4], color=INK, linewidth=2)[0]
            line.set_gid(f"{gid}-target-{row}")
            # beside the bar or the target line, whichever ends further right
            _write(axis, max(progress(indicator), 100) + 3, row,
                   f"{_with_unit(numbers.decimal(indicator.value), indicator.unit)} / "
                   f"{_with_unit(numbers.decimal(indicator.target), indicator.unit)}")
        label_axis(axis, [i.name for i in indicators])
        axis.set_xlim(0, 180)
        axis.set_xticks([0, 50, 100, 150], labels=[numbers.percent(x / 100) for x in (0, 50, 100, 150)])
        axis.set_xlabel(texts["axis"])
        axis.legend(handles=[Patch(facecolor=tone(GOOD), edgecolor=INK, label=texts["met"]),
                             Patch(facecolor=tone(BAD), hatch="///", edgecolor=INK, label=texts["not_met"]),
                             Line2D([], [], color=INK, linewidth=2, label=texts["target"])],
                    loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False)

    headers = (texts["indicator"], texts["value"], texts["target"], texts["met"])
    rows = tuple((i.name, _with_unit(numbers.decimal(i.value), i.unit),
                  _with_unit(numbers.decimal(i.target), i.unit),
                  texts["met"] if i.met else texts["not_met"]) for i in indicators)
    alt = _unless_empty(indicators, alt, texts)
    return Chart(render(draw, bar_height(len(indicators)) + 0.4, alt), alt, Table(headers, rows))


def energy_mix(options: Sequence[MixOption], texts: Texts, numbers: Numbers = _NUMBERS,
               previous_share: float | None = None, gid: str = "mix") -> Chart:
    """One bar per option (cooking, heating, hot water or lighting), share and count written out.

    Clean options are dark and plain, the others light and hatched. texts: ``option``, ``count``,
    ``share``, ``clean``, ``other``, ``axis``; ``alt`` with {share}, {total}; with a previous
    year's clean share, ``alt_previous`` with {share}, {previous}, {total}.
    """
    total = sum(o.count for o in options)
    clean = _share(sum(o.count for o in options if o.clean), total)
    values = {"share": numbers.percent(clean), "total": numbers.decimal(total)}
    if previous_share is None:
        alt = fill_texts(texts["alt"], **values)
    else:
        alt = fill_texts(texts["alt_previous"], previous=numbers.percent(previous_share), **values)

    def draw(figure):
        axis = figure.add_subplot()
        for row, option in enumerate(options):
            share = _share(option.count, total) * 100
            bar = axis.barh(row, share, height=0.6, color=tone(GOOD if option.clean else BAD),
                            hatch="" if option.clean else "///", edgecolor=INK, linewidth=0.5)[0]
            bar.set_gid(f"{gid}-bar-{row}")
            _write(axis, share + 1.5, row,
                   f"{numbers.percent(share / 100)} ({numbers.decimal(option.count)})")
        label_axis(axis, [o.label for o in options])
        axis.set_xlim(0, 118)
        axis.set_xticks([0, 25, 50, 75, 100], labels=[numbers.percent(x / 100) for x in (0, 25, 50, 75, 100)])
        axis.set_xlabel(texts["axis"])
        axis.legend(handles=[Patch(facecolor=tone(GOOD), edgecolor=INK, label=texts["clean"]),
                             Patch(facecolor=tone(BAD), hatch="///", edgecolor=INK, label=texts["other"])],
                    loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)

    headers = (texts["option"], texts["count"], texts["share"])
    rows = tuple((o.label, numbers.decimal(o.count), numbers.percent(_share(o.count, total)))
                 for o in options)
    alt = _unless_empty(options, alt, texts)
    return Chart(render(draw, bar_height(len(options)) + 0.4, alt), alt, Table(headers, rows))


def pv_by_area(areas: Sequence[AreaPV], texts: Texts, numbers: Numbers = _NUMBERS,
               gid: str = "pv") -> Chart:
    """Two panels side by side: PV households and installed capacity (kWp) per area.

    texts: ``area``, ``households``, ``kwp``; ``alt`` with {households}, {kwp}, {top_area}
    (the area with the most capacity).
    """
    households = sum(a.households for a in areas)
    kwp = sum(a.kwp for a in areas)
    top = max(areas, key=lambda a: a.kwp).name if areas else ""
    alt = fill_texts(texts["alt"], households=numbers.decimal(households),
                     kwp=numbers.decimal(kwp), top_area=top)

    def draw(figure):
        left, right = figure.subplots(1, 2, sharey=True)
        for axis, kind, values, position, hatch, title in (
                (left, "households", [a.households for a in areas], 0.2, "", texts["households"]),
                (right, "kwp", [a.kwp for a in areas], 0.75, "\\\\\\", texts["kwp"])):
            peak = max(values, default=0) or 1
            for row, value in enumerate(values):
                bar = axis.barh(row, value, height=0.6, color=tone(position), hatch=hatch,
                                edgecolor=INK, linewidth=0.5)[0]
                bar.set_gid(f"{gid}-{kind}-{row}")
                _write(axis, value + peak * 0.02, row, numbers.decimal(value))
            axis.set_xlim(0, peak * 1.3)
            axis.set_title(title, fontsize=10)
            axis.tick_params(axis="x", labelbottom=False, length=0)
            axis.spines["bottom"].set_visible(False)
        label_axis(left, [a.name for a in areas])
        right.tick_params(axis="y", length=0)

    headers = (texts["area"], texts["households"], texts["kwp"])
    rows = tuple((a.name, numbers.decimal(a.households), numbers.decimal(a.kwp)) for a in areas)
    alt = _unless_empty(areas, alt, texts)
    return Chart(render(draw, bar_height(len(areas)), alt), alt, Table(headers, rows))


def co2e_per_person(areas: Sequence[AreaValue], reference: float, texts: Texts,
                    numbers: Numbers = _NUMBERS, gid: str = "co2e") -> Chart:
    """CO2e per person by area, with the reference (the city's figure) as a labelled line.

    Areas above the reference are light and hatched. texts: ``area``, ``value``, ``unit``,
    ``reference`` (the line's label), ``axis``; ``alt`` with {above}, {total}, {reference}.
    """
    above = sum(a.value > reference for a in areas)
    alt = fill_texts(texts["alt"], above=numbers.decimal(above), total=numbers.decimal(len(areas)),
                     reference=_with_unit(numbers.decimal(reference), texts["unit"]))
    peak = max([a.value for a in areas] + [reference, 0.0]) or 1
    # a net-negative area (more PV sold than energy used) draws its bar left of zero
    floor = min([a.value for a in areas] + [reference, 0.0])
    span = peak - floor

    def draw(figure):
        axis = figure.add_subplot()
        for row, area in enumerate(areas):
            high = area.value > reference
            bar = axis.barh(row, area.value, height=0.6, color=tone(BAD if high else GOOD),
                            hatch="///" if high else "", edgecolor=INK, linewidth=0.5)[0]
            bar.set_gid(f"{gid}-bar-{row}")
            _write(axis, max(area.value, 0.0) + span * 0.015, row, numbers.decimal(area.value))
        line = axis.axvline(reference, color=INK, linewidth=1.5, linestyle=(0, (4, 2)))
        line.set_gid(f"{gid}-reference")
        axis.annotate(f"{texts['reference']} {numbers.decimal(reference)}", (reference, 1.0),
                      xycoords=("data", "axes fraction"), xytext=(3, 2), textcoords="offset points",
                      fontsize=9, va="bottom")
        label_axis(axis, [a.name for a in areas])
        axis.set_xlim(floor - span * 0.05 if floor < 0 else 0, peak + span * 0.2)
        if floor < 0:
            axis.axvline(0, color=INK, linewidth=0.6).set_gid(f"{gid}-zero")
        axis.xaxis.set_major_formatter(lambda x, _pos: numbers.decimal(x))
        axis.set_xlabel(_with_unit(texts["axis"], f"({texts['unit']})"))

    headers = (texts["area"], _with_unit(texts["value"], f"({texts['unit']})"))
    rows = tuple((a.name, numbers.decimal(a.value)) for a in areas)
    alt = _unless_empty(areas, alt, texts)
    return Chart(render(draw, bar_height(len(areas)) + 0.3, alt), alt, Table(headers, rows))


def ranking(areas: Sequence[AreaScore], bands: Sequence[GradeBand], texts: Texts,
            numbers: Numbers = _NUMBERS, maximum: float = 100, gid: str = "ranking") -> Chart:
    """Child areas by score, best first, over shaded bands for the grades (highest band first).

    texts: ``rank``, ``area``, ``score``, ``grade``, ``axis``; ``alt`` with {best}, {score},
    {reached} (areas in the highest band), {total}, {grade} (the highest band's label).
    """
    ordered = sorted(areas, key=lambda a: (-a.score, a.name))
    bands = sorted(bands, key=lambda b: -b.min_score)
    best = ordered[0] if ordered else AreaScore("", 0, "")
    reached = sum(a.score >= bands[0].min_score for a in ordered) if bands else 0
    alt = fill_texts(texts["alt"], best=best.name, score=numbers.decimal(best.score),
                     reached=numbers.decimal(reached), total=numbers.decimal(len(ordered)),
                     grade=bands[0].label if bands else "")

    def draw(figure):
        axis = figure.add_subplot()
        upper = maximum
        greys = colours(len(bands))
        for index, band in enumerate(bands):
            span = axis.axvspan(band.min_score, upper, color=greys[index], alpha=0.18, linewidth=0)
            span.set_gid(f"{gid}-band-{index}")
            axis.text((band.min_score + upper) / 2, 1.0, band.label, transform=axis.get_xaxis_transform(),
                      ha="center", va="bottom", fontsize=9)
            if index:
                axis.axvline(upper, color=MUTED, linewidth=0.6)
            upper = band.min_score
        for row, area in enumerate(ordered):
            bar = axis.barh(row, area.score, height=0.6, color=tone(GOOD), edgecolor=INK,
                            linewidth=0.5)[0]
            bar.set_gid(f"{gid}-bar-{row}")
            _write(axis, area.score + maximum * 0.01, row, numbers.decimal(area.score))
        label_axis(axis, [a.name for a in ordered])
        axis.set_xlim(0, maximum * 1.08)
        axis.xaxis.set_major_formatter(lambda x, _pos: numbers.decimal(x))
        axis.set_xlabel(texts["axis"])

    headers = (texts["rank"], texts["area"], texts["score"], texts["grade"])
    rows = tuple((numbers.decimal(rank), a.name, numbers.decimal(a.score), a.grade)
                 for rank, a in enumerate(ordered, start=1))
    alt = _unless_empty(ordered, alt, texts)
    return Chart(render(draw, bar_height(len(ordered)) + 0.4, alt), alt, Table(headers, rows))


def change_from_previous_year(indicators: Sequence[IndicatorChange], texts: Texts,
                              numbers: Numbers = _NUMBERS, gid: str = "change") -> Chart:
    """Each indicator's change since the previous year, relative to that year's value.

    Improvements are dark and plain, setbacks light and hatched, whichever way the indicator is
    better. texts: ``indicator``, ``previous``, ``current``, ``change``, ``improved``,
    ``worsened``, ``axis``; ``alt`` with {improved}, {total}.
    """
    def relative(i: IndicatorChange) -> float:
        return _share(i.current - i.previous, abs(i.previous)) * 100

    improved = sum(i.improved for i in indicators)
    alt = fill_texts(texts["alt"], improved=numbers.decimal(improved),
                     total=numbers.decimal(len(indicators)))
    reach = max([abs(relative(i)) for i in indicators] + [10])

    def draw(figure):
        axis = figure.add_subplot()
        for row, indicator in enumerate(indicators):
            change = relative(indicator)
            good = indicator.improved
            bar = axis.barh(row, change, height=0.6, color=tone(GOOD if good else BAD),
                            hatch="" if good else "///", edgecolor=INK, linewidth=0.5)[0]
            bar.set_gid(f"{gid}-bar-{row}")
            sign = "+" if change > 0 else ""
            text = (f"{sign}{numbers.percent(change / 100)}  "
                    f"({numbers.decimal(indicator.previous)} → "
                    f"{_with_unit(numbers.decimal(indicator.current), indicator.unit)})")
            offset = reach * 0.03
            _write(axis, change + offset if change >= 0 else change - offset, row, text,
                   ha="left" if change >= 0 else "right")
        axis.axvline(0, color=INK, linewidth=0.8)
        label_axis(axis, [i.name for i in indicators])
        axis.set_xlim(-reach * 2.2, reach * 2.2)
        axis.xaxis.set_major_formatter(lambda x, _pos: numbers.percent(x / 100))
        axis.set_xlabel(texts["axis"])
        axis.legend(handles=[Patch(facecolor=tone(GOOD), edgecolor=INK, label=texts["improved"]),
                             Patch(facecolor=tone(BAD), hatch="///", edgecolor=INK, label=texts["worsened"])],
                    loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)

    headers = (texts["indicator"], texts["previous"], texts["current"], texts["change"])
    rows = tuple((i.name, _with_unit(numbers.decimal(i.previous), i.unit),
                  _with_unit(numbers.decimal(i.current), i.unit),
                  numbers.percent(relative(i) / 100)) for i in indicators)
    alt = _unless_empty(indicators, alt, texts)
    return Chart(render(draw, bar_height(len(indicators)) + 0.4, alt), alt, Table(headers, rows))
