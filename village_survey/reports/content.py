"""What the PDF reports say, as plain values: pure functions from an evaluation's figures to the
report's sections (indicator table, recommendations, ranking, distributions, completeness, the
areas with insufficient data, the method appendix).

No Flask, no database: the data module (`content_data`) hands in plain dicts (an evaluation's
results, a mix, farmhouse rows), and `render` puts the sections into words in the page's language.
Names of household heads are personal data: `mask_name` is applied here, before any template.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from village_survey.scoring.profile import MIXES, clean_share

# How many of the weakest indicators the recommendations name, and how many measures they list.
WEAKEST = 3
TOP_MEASURES = 6
# An indicator at or above this score needs no recommendation.
GOOD_ENOUGH = 99.5


def mask_name(name: str | None) -> str:
    """A household head's name as reports show it without the right to see it: the family name
    and two stars whatever the length ("王小明" → "王**"), so the length tells nothing either."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else ""


def shown_name(name: str | None, full_names: bool) -> str:
    return (name or "") if full_names else mask_name(name)


def _met(indicator: Mapping) -> bool | None:
    value, target = indicator.get("value"), indicator.get("target")
    if value is None or target is None:
        return None
    if indicator["direction"] == "higher_better":
        return value >= target - 1e-9
    return value <= target + 1e-9


def _by_id(results: Mapping | None) -> dict[str, Mapping]:
    return {i["id"]: i for i in (results or {}).get("indicators", ())}


def has_figures(results: Mapping | None) -> bool:
    return bool(results) and (results.get("approved_surveys") or 0) > 0


def indicator_rows(results: Mapping, previous: Mapping | None) -> list[dict[str, Any]]:
    """Each indicator: value, target, score, weight, points it loses of the area's score, whether
    the target is met, and last year's value (None when last year has no figures)."""
    before = _by_id(previous) if has_figures(previous) else {}
    rows = []
    for indicator in results.get("indicators", ()):
        last = before.get(indicator["id"])
        previous_value = last.get("value") if last else None
        value = indicator.get("value")
        change = None if value is None or previous_value is None else value - previous_value
        rows.append({**indicator, "met": _met(indicator), "previous": previous_value, "change": change,
                     "points_lost": round(indicator["weight"] * (100 - (indicator.get("score") or 0)) / 100, 2)})
    return rows


def summary(results: Mapping, previous: Mapping | None) -> dict[str, Any]:
    """The headline figures of an area and the change of its score since last year."""
    stars = list(results.get("star_counts") or ())
    scored = sum(stars)
    last_score = previous.get("score") if has_figures(previous) else None
    score = results.get("score")
    return {
        "score": score, "grade": results.get("grade"), "insufficient_data": bool(results.get("insufficient_data")),
        "reasons": list(results.get("reasons") or ()), "star_counts": stars,
        "starred": sum(stars[1:]), "scored": scored,
        "zero_carbon": results.get("zero_carbon_count") or 0,
        "base_level": results.get("base_level_count") or 0,
        "approved": results.get("approved_surveys") or 0,
        "registered": results.get("registered_households"),
        "coverage": results.get("coverage"),
        "previous_score": last_score,
        "score_change": None if score is None or last_score is None else score - last_score,
        "indicators_met": sum(1 for i in results.get("indicators", ()) if _met(i)),
        "indicators": len(results.get("indicators", ())),
    }


# ---------------------------------------------------------------- a village's farmhouses


def farmhouse_rows(farmhouses: Iterable[Mapping], full_names: bool) -> list[dict[str, Any]]:
    """The farmhouse table: house number, head (masked unless full_names), stars, score, main
    fuel (the primary stove's code), PV capacity; in the order given (by house number)."""
    return [{"house_number": f["house_number"], "head": shown_name(f.get("head_name"), full_names),
             "stars": f.get("stars"), "total": f.get("total"), "base_level": f.get("base_level"),
             "zero_carbon": f.get("zero_carbon"), "cooking": f.get("cooking"), "pv": f.get("pv"),
             "pv_kwp": f.get("pv_kwp")} for f in farmhouses]


def _farmhouse_misses(indicator, sums: Sequence[float]) -> bool | None:
    """Whether one farmhouse falls short of a village indicator (None: it does not count)."""
    if indicator.kind == "rate":
        return not sums[indicator.slot]
    if indicator.kind == "ratio":
        numerator, denominator = sums[indicator.slot], sums[indicator.slot + 1]
        if not denominator:
            return None
        share = numerator / denominator
        return share < indicator.target if indicator.direction == "higher_better" else share > indicator.target
    return None


def shortfalls(indicators: Sequence, farmhouses: Iterable[Mapping]) -> dict[str, int]:
    """Per village indicator (criteria.village.indicators), how many of the scored farmhouses
    fall short of it: a rate's farmhouses that do not count, a ratio's whose own figure misses
    the target (e.g. net CO2e per person above 1 t)."""
    counts: dict[str, int] = defaultdict(int)
    for farmhouse in farmhouses:
        sums = farmhouse.get("sums")
        if not sums:
            continue
        for indicator in indicators:
            if _farmhouse_misses(indicator, sums):
                counts[indicator.id] += 1
    return {indicator.id: counts.get(indicator.id, 0) for indicator in indicators}


def measure_gains(farmhouses: Iterable[Mapping], limit: int = TOP_MEASURES) -> list[dict[str, Any]]:
    """The measures (criteria items and prerequisites) that would raise the village's farmhouses
    most, over all of them: each farmhouse's improvements (the score card's: the gain of that one
    change to its total) summed by measure. Sorted by the points gained in all, then by id."""
    found: dict[str, dict[str, Any]] = {}
    for farmhouse in farmhouses:
        for improvement in farmhouse.get("improvements") or ():
            gain = improvement["total_gain"]
            if gain <= 0:
                continue
            entry = found.setdefault(improvement["id"], {
                "id": improvement["id"], "label_en": improvement["label_en"],
                "label_zh": improvement["label_zh"], "households": 0, "points": 0.0})
            entry["households"] += 1
            entry["points"] += gain
    rows = sorted(found.values(), key=lambda e: (-e["points"], e["id"]))[:limit]
    for row in rows:
        row["points"] = round(row["points"], 1)
        row["mean_gain"] = round(row["points"] / row["households"], 1)
    return rows


def recommendations(rows: Sequence[Mapping], short: Mapping[str, int], mix: Mapping | None,
                    limit: int = WEAKEST) -> list[dict[str, Any]]:
    """The weakest indicators (most points lost of the area's score first), each with the
    households concerned; for cooking also the households on a traditional wood stove."""
    weak = sorted((r for r in rows if r.get("score") is not None and r["score"] < GOOD_ENOUGH),
                  key=lambda r: (-r["points_lost"], r["id"]))[:limit]
    found = []
    for row in weak:
        entry = {"id": row["id"], "label_en": row["label_en"], "label_zh": row["label_zh"],
                 "value": row["value"], "target": row["target"], "direction": row["direction"],
                 "score": row["score"], "points_lost": row["points_lost"], "households": short.get(row["id"])}
        if row["id"] == "clean_cooking_rate" and mix:
            entry["traditional"] = (mix.get("cooking") or {}).get("traditional_wood", 0)
        found.append(entry)
    return found


def assumptions(farmhouses: Iterable[Mapping]) -> list[tuple[str, int]]:
    """The defaults scoring used where an answer was missing: (code, farmhouses), most first."""
    counts: dict[str, int] = defaultdict(int)
    for farmhouse in farmhouses:
        for code in set(farmhouse.get("defaults") or ()):
            counts[code] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def energy_totals(farmhouses: Iterable[Mapping]) -> dict[str, float]:
    """A village's electricity and PV over its scored farmhouses: bought and used kWh, PV
    generation, self-sufficiency (generation ÷ use, pooled), net t CO2e."""
    bought = generation = use = net = 0.0
    for farmhouse in farmhouses:
        energy = farmhouse.get("energy") or {}
        bought += energy.get("bought_kwh", 0.0)
        generation += energy.get("pv_generation_kwh", 0.0)
        use += energy.get("use_kwh", 0.0)
        net += energy.get("net_kgco2e", 0.0)
    return {"bought_kwh": bought, "pv_generation_kwh": generation, "use_kwh": use,
            "pv_self_sufficiency": min(generation / use, 1.0) if use else None, "net_tco2e": net / 1000}


# ---------------------------------------------------------------- an area's children


def ranking(children: Iterable[Mapping]) -> list[dict[str, Any]]:
    """Children by score, best first; those with insufficient data after, unranked, by code."""
    children = list(children)
    graded = sorted((c for c in children if c.get("score") is not None and not c.get("insufficient_data")),
                    key=lambda c: (-c["score"], c.get("code") or ""))
    rest = sorted((c for c in children if c not in graded), key=lambda c: c.get("code") or "")
    return ([{**c, "rank": n} for n, c in enumerate(graded, 1)] + [{**c, "rank": None} for c in rest])


def _quartiles(ordered: Sequence[float]) -> tuple[float, float, float]:
    if len(ordered) == 1:
        return ordered[0], ordered[0], ordered[0]
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return q1, median, q3


def distributions(children: Iterable[Mapping], indicators: Sequence[Mapping]) -> list[dict[str, Any]]:
    """Per indicator, how the children's values spread: how many have a value, minimum,
    quartiles, maximum, and how many meet the target (children without approved surveys left out)."""
    children = [c for c in children if has_figures(c)]
    rows = []
    for indicator in indicators:
        values = sorted(v for c in children if (v := _by_id(c).get(indicator["id"], {}).get("value")) is not None)
        met = sum(1 for c in children if _met(_by_id(c).get(indicator["id"], {"direction": "higher_better"})))
        row = {"id": indicator["id"], "label_en": indicator["label_en"], "label_zh": indicator["label_zh"],
               "direction": indicator["direction"], "target": indicator["target"], "areas": len(values),
               "met": met}
        if values:
            q1, median, q3 = _quartiles(values)
            row.update(min=values[0], q1=q1, median=median, q3=q3, max=values[-1])
        rows.append(row)
    return rows


def completeness(rows: Iterable[Mapping]) -> list[dict[str, Any]]:
    """Data completeness per child: registered, surveyed (any survey of the year), approved,
    and the shares (None where nothing is registered)."""
    found = []
    for row in rows:
        registered = row["registered"]
        found.append({**row, "surveyed_share": row["surveyed"] / registered if registered else None,
                      "approved_share": row["approved"] / registered if registered else None})
    return found


def insufficient(children: Iterable[Mapping]) -> list[dict[str, Any]]:
    """The children without a grade, with the reasons scoring gave (codes and parameters)."""
    return [c for c in sorted(children, key=lambda c: c.get("code") or "") if c.get("insufficient_data")]


def mix_totals(mix: Mapping) -> dict[str, Any]:
    """PV households and capacity of an area's mix, and each mix's clean share."""
    return {"households": mix.get("households", 0), "pv_households": mix.get("pv_households", 0),
            "pv_kwp": float(mix.get("pv_kwp", 0.0)),
            "clean": {name: clean_share(mix, name) if mix.get(name) else None for name in MIXES}}


# ---------------------------------------------------------------- method appendix


def factor_rows(criteria) -> list[dict[str, Any]]:
    """The criteria set's factors (value, unit, source, year, confidence mark), by id."""
    return [{"id": f.id, "value": f.value, "unit": f.unit, "source": f.source, "year": f.year,
             "confidence": f.confidence, "note": f.note} for _key, f in sorted(criteria.factors.items())]


def method(criteria) -> dict[str, Any]:
    """What the method appendix states of a criteria set, as plain values."""
    village = criteria.village
    return {
        "name": criteria.name, "version": criteria.version, "title_en": criteria.title_en,
        "title_zh": criteria.title_zh, "prerequisite_points": criteria.prerequisite_points,
        "divisor": criteria.divisor, "cap": criteria.cap, "star_thresholds": list(criteria.star_thresholds),
        "category_floor_percent": criteria.category_floor_percent,
        "prerequisites": [{"id": p.id, "label_en": p.label_en, "label_zh": p.label_zh} for p in criteria.prerequisites],
        "categories": [{"id": c.id, "label_en": c.label_en, "label_zh": c.label_zh, "max": c.max}
                       for c in criteria.categories],
        "bonus_cap": criteria.bonus.cap,
        "indicators": [{"id": i.id, "label_en": i.label_en, "label_zh": i.label_zh, "weight": i.weight,
                        "target": i.target, "direction": i.direction} for i in village.indicators],
        "grades": [{"zh": g.zh, "en": g.en, "min_score": g.min_score} for g in village.grades],
        "min_approved_surveys": village.min_approved_surveys, "min_coverage": village.min_coverage,
        "grid_factor": criteria.carbon.grid_factor_id,
        "pv_yield": criteria.carbon.pv_yield_kwh_per_kwp,
        "pv_self_use_share": dict(criteria.carbon.pv_self_use_share),
        "pv_mode_when_unanswered": criteria.carbon.pv_mode_when_unanswered,
        "factors": factor_rows(criteria),
    }


def finite(value: Any) -> Any:
    """A figure safe to store as JSON (NaN and infinities as None)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
