"""The stored figures of an area and of its children, turned into the charts' inputs.

Pure: plain values in (an evaluation's results, a mix of counts, names), the frozen inputs of
`village_survey.charts.bars` out, so that the dashboard and a report draw the same charts, and
the drawing cache can key on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from village_survey.charts.bars import (
    AreaPV, AreaScore, AreaStars, AreaValue, GradeBand, IndicatorChange, IndicatorTarget, MixOption,
)
from village_survey.scoring.profile import CLEAN, MIXES, clean_share

CO2E_INDICATOR = "net_co2e_per_person"


@dataclass(frozen=True)
class Child:
    """What the charts read of one child area."""

    name: str
    results: Mapping
    mix: Mapping


def is_rate(indicator: Mapping) -> bool:
    """Indicators that rise towards a target are shares (shown as percentages); the one that
    should fall is an amount (net CO2e per person)."""
    return indicator["direction"] == "higher_better"


def shown_value(indicator: Mapping, value: float) -> float:
    """An indicator's value as the charts write it: a share in percent, an amount as it is."""
    return round(value * 100, 1) if is_rate(indicator) else round(value, 2)


def has_figures(results: Mapping | None) -> bool:
    return bool(results) and results.get("approved_surveys", 0) > 0


def stars(children: Sequence[Child], levels: int) -> tuple[AreaStars, ...]:
    """The star levels of each child's approved farmhouses (children without any left out)."""
    found = []
    for child in children:
        counts = tuple(child.results.get("star_counts") or ())
        if sum(counts):
            found.append(AreaStars(child.name, (counts + (0,) * levels)[:levels]))
    return tuple(found)


def targets(results: Mapping, name: Callable[[Mapping], str],
            unit: Callable[[Mapping], str]) -> tuple[IndicatorTarget, ...]:
    """The area's indicators with a value, against their targets."""
    return tuple(IndicatorTarget(name(i), shown_value(i, i["value"]), shown_value(i, i["target"]), unit(i),
                                 is_rate(i))
                 for i in results.get("indicators", ()) if i["value"] is not None)


def mix_options(mix: Mapping, which: str, label: Callable[[str], str]) -> tuple[MixOption, ...]:
    """One mix's answers, most frequent first (by code on a tie), clean ones marked."""
    counts = sorted(mix.get(which, {}).items(), key=lambda item: (-item[1], item[0]))
    return tuple(MixOption(label(code), count, code in CLEAN[which]) for code, count in counts if count)


def previous_clean_share(previous_mix: Mapping | None, which: str) -> float | None:
    if not previous_mix or not sum(previous_mix.get(which, {}).values()):
        return None
    return clean_share(previous_mix, which)


def pv(children: Sequence[Child]) -> tuple[AreaPV, ...]:
    return tuple(AreaPV(c.name, int(c.mix.get("pv_households", 0)), round(float(c.mix.get("pv_kwp", 0.0)), 1))
                 for c in children if c.mix.get("households"))


def indicator_of(results: Mapping | None, ident: str) -> Mapping | None:
    for indicator in (results or {}).get("indicators", ()):
        if indicator["id"] == ident:
            return indicator
    return None


def co2e(children: Sequence[Child]) -> tuple[AreaValue, ...]:
    found = []
    for child in children:
        indicator = indicator_of(child.results, CO2E_INDICATOR)
        if indicator is not None and indicator["value"] is not None:
            found.append(AreaValue(child.name, round(indicator["value"], 2)))
    return tuple(found)


def co2e_reference(results: Mapping) -> float | None:
    indicator = indicator_of(results, CO2E_INDICATOR)
    return None if indicator is None or indicator["value"] is None else round(indicator["value"], 2)


def scores(children: Sequence[Child], grade: Callable[[Mapping], str]) -> tuple[AreaScore, ...]:
    """The children that have a grade (enough approved surveys and coverage), by their score."""
    return tuple(AreaScore(c.name, round(c.results["score"], 1), grade(c.results)) for c in children
                 if c.results.get("score") is not None and not c.results.get("insufficient_data"))


def bands(grades: Sequence, chinese: bool) -> tuple[GradeBand, ...]:
    """The criteria set's grade bands (criteria.village.grades: code, zh, en, min_score)."""
    return tuple(GradeBand(g.zh if chinese else g.en, float(g.min_score)) for g in grades)


def changes(results: Mapping, previous: Mapping | None, name: Callable[[Mapping], str],
            unit: Callable[[Mapping], str]) -> tuple[IndicatorChange, ...]:
    """Each indicator with a value in both years; nothing if the previous year has no figures."""
    if not has_figures(previous):
        return ()
    found = []
    for indicator in results.get("indicators", ()):
        before = indicator_of(previous, indicator["id"])
        if indicator["value"] is None or before is None or before["value"] is None:
            continue
        found.append(IndicatorChange(name(indicator), shown_value(indicator, before["value"]),
                                     shown_value(indicator, indicator["value"]), unit(indicator),
                                     is_rate(indicator)))
    return tuple(found)


MIX_INDICATORS = {"cooking": "clean_cooking_rate", "lighting": "efficient_lighting_rate"}
