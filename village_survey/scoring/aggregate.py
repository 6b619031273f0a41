"""Village, township, county and city evaluations pooled from approved farmhouse results.

Every level pools farmhouses (docs/method/criteria.md, "Village and area level"): a township's
clean cooking rate is its clean-cooking farmhouses over its surveyed farmhouses, never a mean of
village rates. To keep a city's 600,000 farmhouses small, aggregation reads a FarmhouseRecord per
farmhouse: the few figures the indicators sum, not the whole result (see
farmhouse.score_farmhouse_record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Mapping

from village_survey.scoring.criteria import CriteriaSet, Indicator
from village_survey.scoring.explain import Explanation, explain, percent
from village_survey.scoring.farmhouse import FarmhouseRecord, FarmhouseResult, farmhouse_record

INSUFFICIENT_DATA = "insufficient_data"
_EPSILON = 1e-9  # shares such as 3/10 must meet a 0.30 rule despite float rounding


@dataclass(frozen=True)
class IndicatorValue:
    id: str
    label_en: str
    label_zh: str
    value: float | None  # None when no farmhouse gives the figure
    target: float
    score: float  # 0–100; an indicator without a value scores 0
    weight: float
    direction: str
    # a rate with a breakdown: the answer it is broken down by, and the farmhouses counted by
    # that answer's code, ((code, count), ...); None without one
    breakdown_key: str | None = None
    breakdown: tuple[tuple[str, int], ...] | None = None


@dataclass(frozen=True)
class AreaEvaluation:
    level: str
    key: Hashable
    criteria: str
    registered_households: int | None  # of the villages whose count is known
    villages_without_registered_count: int  # left out of coverage
    approved_surveys: int
    coverage: float | None
    indicators: tuple[IndicatorValue, ...]
    score: float | None  # weighted mean of the indicator scores; None without surveys
    grade: str  # a grade code of the set, or "insufficient_data"
    grade_zh: str | None
    grade_en: str | None
    reasons: tuple[Explanation, ...]  # why the data is insufficient
    star_counts: tuple[int, ...]  # farmhouses with 0, 1, 2, 3 stars
    base_level_count: int
    zero_carbon_count: int
    mean_total: float | None
    villages: int

    @property
    def insufficient_data(self) -> bool:
        return self.grade == INSUFFICIENT_DATA


@dataclass(frozen=True)
class AreaEvaluations:
    villages: Mapping[Hashable, AreaEvaluation]
    townships: Mapping[Hashable, AreaEvaluation]
    counties: Mapping[Hashable, AreaEvaluation]
    city: AreaEvaluation
    # the pooled figures behind them: "village", "township", "county" → {key: Tally}, "city" → Tally
    tallies: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    """Pooled figures of a set of farmhouses; tallies of areas add up to their parent's."""

    count: int = 0
    registered: int = 0  # registered households of the villages whose count is known
    counted: int = 0  # approved surveys in those villages: coverage = counted / registered
    uncounted_villages: int = 0  # villages whose registered household count is unknown
    total_sum: float = 0.0
    base_level: int = 0
    zero_carbon: int = 0
    villages: int = 0
    stars: list[int] = field(default_factory=list)
    sums: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As plain values, to store (`tally_from_dict` reads them back unchanged)."""
        return {"count": self.count, "registered": self.registered, "counted": self.counted,
                "uncounted_villages": self.uncounted_villages, "total_sum": self.total_sum,
                "base_level": self.base_level, "zero_carbon": self.zero_carbon,
                "villages": self.villages, "stars": list(self.stars), "sums": list(self.sums)}


def tally_from_dict(data: Mapping[str, Any]) -> Tally:
    return Tally(**{**data, "stars": list(data["stars"]), "sums": [float(x) for x in data["sums"]]})


def pooled_tally(children: Iterable[Tally], criteria: CriteriaSet) -> Tally:
    """An area's tally from its children's (villages of a township, townships of a county, …).

    Every figure is an exact sum of the children's (math.fsum over all of them at once), so the
    result does not depend on the order of the children: an area pooled now from stored
    tallies equals the same area pooled in one go.
    """
    tally = _empty_tally(criteria)
    children = list(children)
    for child in children:
        tally.count += child.count
        tally.registered += child.registered
        tally.counted += child.counted
        tally.uncounted_villages += child.uncounted_villages
        tally.base_level += child.base_level
        tally.zero_carbon += child.zero_carbon
        tally.villages += child.villages
        tally.stars = [a + b for a, b in zip(tally.stars, child.stars)]
    tally.total_sum = math.fsum(child.total_sum for child in children)
    if children:
        tally.sums = [math.fsum(column) for column in zip(*(child.sums for child in children))]
    return tally


def _empty_tally(criteria: CriteriaSet) -> Tally:
    return Tally(stars=[0] * (len(criteria.star_thresholds) + 1),
                  sums=[0.0] * criteria.village.sums_width)


def village_tally(farmhouses: Iterable[FarmhouseResult | FarmhouseRecord],
                   registered: int | None, criteria: CriteriaSet) -> Tally:
    tally = _empty_tally(criteria)
    if registered is not None and (not isinstance(registered, int) or registered < 0):
        raise ValueError(f"registered households must be a whole number ≥ 0, not {registered!r}")
    tally.villages = 1
    rows = []
    totals = []
    stars = tally.stars
    name = criteria.name
    for farmhouse in farmhouses:
        record = farmhouse if isinstance(farmhouse, FarmhouseRecord) else farmhouse_record(farmhouse)
        if record.criteria != name:
            raise ValueError(f"a farmhouse scored with criteria {record.criteria!r} cannot be "
                             f"aggregated with {name!r}")
        totals.append(record.total)
        stars[record.stars] += 1
        tally.base_level += record.base_level
        tally.zero_carbon += record.zero_carbon
        rows.append(record.sums)
    tally.count = len(totals)
    tally.total_sum = math.fsum(totals)
    if rows:
        tally.sums = [math.fsum(column) for column in zip(*rows)]
    # 0 registered households is a village nobody counted: its coverage is unknown, not infinite
    if registered:
        tally.registered = registered
        tally.counted = tally.count
    else:
        tally.uncounted_villages = 1
    return tally


def _indicator_score(indicator: Indicator, value: float | None) -> float:
    if value is None:
        return 0.0
    if indicator.direction == "lower_better":
        # at or below zero (a net-zero village) nothing is left to reduce ✎
        if value <= 0:
            return 100.0
        return min(100.0, 100.0 * indicator.target / value)
    return min(100.0, 100.0 * value / indicator.target)


def evaluate_tally(level: str, key: Hashable, tally: Tally, criteria: CriteriaSet) -> AreaEvaluation:
    rules = criteria.village
    count, sums = tally.count, tally.sums
    coverage = tally.counted / tally.registered if tally.registered else None
    indicators = []
    for ind in rules.indicators:
        if ind.kind == "rate":
            value = sums[ind.slot] / count if count else None
        elif ind.kind == "ratio":
            denominator = sums[ind.slot + 1]
            value = sums[ind.slot] / denominator if denominator > 0 else None
        else:
            value = coverage
        breakdown = None
        if ind.breakdown:
            breakdown = tuple((code, round(sums[ind.breakdown_slot + n]))
                              for n, code in enumerate(ind.breakdown_codes))
        indicators.append(IndicatorValue(ind.id, ind.label_en, ind.label_zh, value, ind.target,
                                         _indicator_score(ind, value), ind.weight, ind.direction,
                                         ind.breakdown, breakdown))
    weights = sum(i.weight for i in indicators)
    score = sum(i.weight * i.score for i in indicators) / weights if count else None

    reasons = []
    if count == 0:
        reasons.append(explain("no_surveys"))
    if count < rules.min_approved_surveys:
        reasons.append(explain("too_few_surveys", approved=count,
                               minimum=rules.min_approved_surveys))
    if coverage is None:
        reasons.append(explain("registered_households_unknown"))
    elif coverage + _EPSILON < rules.min_coverage:
        reasons.append(explain("coverage_too_low", coverage=coverage, minimum=rules.min_coverage,
                               display={"coverage": percent(coverage),
                                        "minimum": percent(rules.min_coverage)}))
    grade = None
    if not reasons:
        grade = next(g for g in rules.grades if score + _EPSILON >= g.min_score)
    return AreaEvaluation(
        level=level, key=key, criteria=criteria.name,
        registered_households=tally.registered if tally.registered else None,
        villages_without_registered_count=tally.uncounted_villages,
        approved_surveys=count, coverage=coverage, indicators=tuple(indicators), score=score,
        grade=grade.code if grade else INSUFFICIENT_DATA,
        grade_zh=grade.zh if grade else None, grade_en=grade.en if grade else None,
        reasons=tuple(reasons), star_counts=tuple(tally.stars),
        base_level_count=tally.base_level, zero_carbon_count=tally.zero_carbon,
        mean_total=tally.total_sum / count if count else None, villages=tally.villages)


def measure_totals(tally: Tally, criteria: CriteriaSet) -> dict[str, float]:
    """Totals of the measures the ratio indicators divide (net tCO2e and persons, say)."""
    totals = {}
    for indicator in criteria.village.indicators:
        if indicator.kind == "ratio":
            totals[indicator.numerator] = tally.sums[indicator.slot]
            totals[indicator.denominator] = tally.sums[indicator.slot + 1]
    return totals


def evaluate_village(farmhouses: Iterable[FarmhouseResult | FarmhouseRecord],
                     registered_households: int | None, criteria: CriteriaSet,
                     key: Hashable = None) -> AreaEvaluation:
    """One village's evaluation from its approved farmhouses and registered household count."""
    return evaluate_tally("village", key, village_tally(farmhouses, registered_households, criteria),
                     criteria)


def evaluate_areas(
    villages: Iterable[tuple[Hashable, int | None, Iterable[FarmhouseResult | FarmhouseRecord]]],
    hierarchy: Mapping[Hashable, tuple[Hashable, Hashable]],
    criteria: CriteriaSet,
    city_key: Hashable = "city",
) -> AreaEvaluations:
    """Evaluations of every village, township, county and the city, pooled from farmhouses.

    `villages` yields (village key, registered households, approved farmhouses) per village;
    `hierarchy` maps each village key to its (township key, county key). A village listed
    without farmhouses still counts its registered households in its areas' coverage; an area's
    coverage leaves out villages whose registered household count is unknown (and says how many).
    """
    village_tallies: dict[Hashable, Tally] = {}
    for key, registered, farmhouses in villages:
        if key in village_tallies:
            raise ValueError(f"village {key!r} is listed twice")
        if key not in hierarchy:
            raise ValueError(f"village {key!r} has no township and county in the hierarchy")
        village_tallies[key] = village_tally(farmhouses, registered, criteria)

    # villages pool into townships, townships into counties, counties into the city
    by_township: dict[Hashable, list[Tally]] = {}
    county_of: dict[Hashable, Hashable] = {}
    for key, tally in village_tallies.items():
        township, county = hierarchy[key]
        by_township.setdefault(township, []).append(tally)
        county_of[township] = county
    townships = {k: pooled_tally(v, criteria) for k, v in by_township.items()}
    by_county: dict[Hashable, list[Tally]] = {}
    for township, tally in townships.items():
        by_county.setdefault(county_of[township], []).append(tally)
    counties = {k: pooled_tally(v, criteria) for k, v in by_county.items()}
    city = pooled_tally(counties.values(), criteria)
    return AreaEvaluations(
        villages={k: evaluate_tally("village", k, t, criteria) for k, t in village_tallies.items()},
        townships={k: evaluate_tally("township", k, t, criteria) for k, t in townships.items()},
        counties={k: evaluate_tally("county", k, t, criteria) for k, t in counties.items()},
        city=evaluate_tally("city", city_key, city, criteria),
        tallies={"village": village_tallies, "township": townships, "county": counties, "city": city},
    )


def evaluation_to_dict(evaluation: AreaEvaluation) -> dict[str, Any]:
    """An area evaluation as JSON-ready values, rounded for output."""
    def r(value, digits=4):
        return None if value is None else round(value, digits) + 0.0

    return {
        "level": evaluation.level,
        "key": evaluation.key,
        "criteria": evaluation.criteria,
        "registered_households": evaluation.registered_households,
        "villages_without_registered_count": evaluation.villages_without_registered_count,
        "approved_surveys": evaluation.approved_surveys,
        "coverage": r(evaluation.coverage),
        "score": r(evaluation.score, 2),
        "grade": evaluation.grade,
        "grade_zh": evaluation.grade_zh,
        "grade_en": evaluation.grade_en,
        "insufficient_data": evaluation.insufficient_data,
        "reasons": [x.to_dict() for x in evaluation.reasons],
        "indicators": [_indicator_to_dict(i, r) for i in evaluation.indicators],
        "star_counts": list(evaluation.star_counts),
        "base_level_count": evaluation.base_level_count,
        "zero_carbon_count": evaluation.zero_carbon_count,
        "mean_total": r(evaluation.mean_total, 2),
        "villages": evaluation.villages,
    }


def _indicator_to_dict(indicator: IndicatorValue, r) -> dict[str, Any]:
    # an indicator without a breakdown keeps the form evaluations were first stored in
    found = {"id": indicator.id, "label_en": indicator.label_en, "label_zh": indicator.label_zh,
             "value": r(indicator.value), "target": indicator.target,
             "score": r(indicator.score, 2), "weight": indicator.weight,
             "direction": indicator.direction}
    if indicator.breakdown is not None:
        found["breakdown_key"] = indicator.breakdown_key
        found["breakdown"] = [{"code": code, "count": count}
                              for code, count in indicator.breakdown]
    return found
