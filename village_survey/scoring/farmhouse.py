"""Scoring one farmhouse against a criteria set: prerequisites, categories, bonus, total, stars.

`score_farmhouse(answers, criteria)` is pure and deterministic
(docs/method/criteria.md, "Farmhouse level").
The result keeps the figures scoring needs; the per-item explanations are built when asked for
(`result.categories`, `to_dict`), because aggregating a city scores many farmhouses whose
explanations nobody reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, NamedTuple

from village_survey import survey_fields
from village_survey.scoring.answers import normalize_answers
from village_survey.scoring.carbon import (
    HouseholdCarbon, HouseholdEnergy, household_energy_and_carbon,
)
from village_survey.scoring.criteria import CriteriaSet, Prerequisite
from village_survey.scoring.explain import Explanation, explain, fmt
from village_survey.scoring.measures import farmhouse_measures
from village_survey.scoring.rules import ScoredItem
from village_survey.scoring.supply import SupplyTier, supply_tier

# Points and thresholds are floats (linear items give fractions); a total that is 60 up to float
# noise must reach the 60 threshold.
_EPSILON = 1e-9


@dataclass(frozen=True)
class PrerequisiteResult:
    id: str
    label_en: str
    label_zh: str
    met: bool
    code: str
    params: Mapping[str, Any]
    why: str


@dataclass(frozen=True)
class ItemResult:
    id: str
    label_en: str
    label_zh: str
    value: Any
    points: float
    max: float
    code: str
    params: Mapping[str, Any]
    why: str


@dataclass(frozen=True)
class CategoryResult:
    id: str
    label_en: str
    label_zh: str
    points: float
    max: float
    floor_met: bool  # at least the set's share of the maximum, needed for stars
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class BonusResult:
    label_en: str
    label_zh: str
    points: float  # capped
    raw_points: float
    max: float
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class Improvement:
    """What raising one prerequisite or item to its maximum would add to the total Q."""

    id: str
    label_en: str
    label_zh: str
    points_available: float  # in the item's own points (a prerequisite: the set's Q0)
    total_gain: float  # in points of Q
    requires: tuple[str, ...] = ()  # prerequisites that only count together


@dataclass(frozen=True, eq=False)
class FarmhouseResult:
    # the first fields are _Scores' in its order, so that a result is built from one unpacking
    answers: Mapping[str, Any]  # typed answers of the keys scoring reads
    measures: Mapping[str, Any]
    prerequisites_met: tuple[bool, ...]
    item_scores: tuple[tuple[tuple[float, Any], ...], ...]  # per category: (points, value)
    category_points: tuple[float, ...]
    bonus_scores: tuple[tuple[float, Any], ...]
    bonus_raw: float
    bonus_points: float
    base_level: bool
    total: float
    stars: int
    zero_carbon: bool
    energy: HouseholdEnergy
    carbon: HouseholdCarbon
    supply: SupplyTier
    sums: tuple  # this farmhouse's figures for the village indicators
    criteria: CriteriaSet
    defaults_used: tuple[Explanation, ...]

    @property
    def mtf_tier(self) -> int:
        return self.supply.tier

    @property
    def raw_points(self) -> float:
        """Q0 + ΣA..E + bonus, before dividing by the set's divisor."""
        q0 = self.criteria.prerequisite_points if self.base_level else 0.0
        return q0 + sum(self.category_points) + self.bonus_points

    @cached_property
    def prerequisites(self) -> tuple[PrerequisiteResult, ...]:
        return tuple(_prerequisite_result(p, met, self.answers, self.measures)
                     for p, met in zip(self.criteria.prerequisites, self.prerequisites_met))

    @cached_property
    def categories(self) -> tuple[CategoryResult, ...]:
        floor = self.criteria.category_floor_percent
        return tuple(
            CategoryResult(c.id, c.label_en, c.label_zh, points, c.max,
                           _floor_met(points, c.max, floor),
                           tuple(_item_result(i, s, self.answers, self.measures)
                                 for i, s in zip(c.items, scores)))
            for c, points, scores in zip(self.criteria.categories, self.category_points,
                                         self.item_scores))

    @cached_property
    def bonus(self) -> BonusResult:
        b = self.criteria.bonus
        return BonusResult(b.label_en, b.label_zh, self.bonus_points, self.bonus_raw, b.cap,
                           tuple(_item_result(i, s, self.answers, self.measures)
                                 for i, s in zip(b.items, self.bonus_scores)))


def _floor_met(points: float, maximum: float, floor_percent: float) -> bool:
    # compared in percent so that 30 of 100 meets a 30% floor exactly (0.3 × 100 ≠ 30 in floats)
    return points * 100 + _EPSILON >= floor_percent * maximum


class FarmhouseRecord(NamedTuple):
    """What aggregation needs of one scored farmhouse (a few dozen bytes)."""

    criteria: str
    total: float
    stars: int
    base_level: bool
    zero_carbon: bool
    sums: tuple  # figures for the set's village indicators, in slot order


class _Scores(NamedTuple):
    """The figures of one scoring: FarmhouseResult's first fields, in the same order."""

    answers: dict[str, Any]
    measures: dict[str, Any]
    prerequisites_met: tuple[bool, ...]
    item_scores: tuple
    category_points: tuple[float, ...]
    bonus_scores: tuple
    bonus_raw: float
    bonus_points: float
    base_level: bool
    total: float
    stars: int
    zero_carbon: bool
    energy: HouseholdEnergy
    carbon: HouseholdCarbon
    supply: SupplyTier
    sums: tuple


def _score(answers: Mapping[str, Any], criteria: CriteriaSet,
           notes: list[Explanation]) -> _Scores:
    a = normalize_answers(answers, criteria.parsers)
    energy, carbon = household_energy_and_carbon(a, criteria.carbon, notes)
    supply = supply_tier(a, criteria.mtf)
    zero_carbon = carbon.net_kgco2e <= criteria.zero_carbon_net_kgco2e_at_most + _EPSILON
    m = farmhouse_measures(a, energy, carbon, supply, zero_carbon)

    met = criteria.prerequisites_test(a, m)
    base_level = all(met)
    item_scores = tuple([score(a, m) for score in criteria.category_scorers])
    category_points = tuple([sum([points for points, _ in scores]) for scores in item_scores])
    bonus_scores = criteria.bonus_scorer(a, m)
    bonus_raw = sum([points for points, _ in bonus_scores])
    bonus_points = min(bonus_raw, criteria.bonus.cap)

    q0 = criteria.prerequisite_points if base_level else 0.0
    total = min(criteria.cap, (q0 + sum(category_points) + bonus_points) / criteria.divisor)
    stars = _stars(total, base_level, category_points, criteria)
    m["base_level"] = base_level
    m["stars"] = stars
    m["total"] = total
    return _Scores(a, m, met, item_scores, category_points, bonus_scores, bonus_raw, bonus_points,
                   base_level, total, stars, zero_carbon, energy, carbon, supply,
                   criteria.farmhouse_sums(a, m))


def score_farmhouse(answers: Mapping[str, Any], criteria: CriteriaSet) -> FarmhouseResult:
    """Score one farmhouse's survey answers (JSON or form values) against a criteria set."""
    notes: list[Explanation] = []
    scores = _score(answers, criteria, notes)
    missing = _missing_required(scores.answers)
    if missing:
        notes.append(explain("answers_missing", keys=missing))
    return FarmhouseResult(*scores, criteria, tuple(notes))


def score_farmhouse_record(answers: Mapping[str, Any], criteria: CriteriaSet) -> FarmhouseRecord:
    """Score a farmhouse and keep only what aggregation needs: the way to feed a city.

    The same scoring as score_farmhouse, without building the explainable result.
    """
    s = _score(answers, criteria, [])
    return FarmhouseRecord(criteria.name, s.total, s.stars, s.base_level, s.zero_carbon, s.sums)


def farmhouse_record(result: FarmhouseResult) -> FarmhouseRecord:
    return FarmhouseRecord(result.criteria.name, result.total, result.stars, result.base_level,
                           result.zero_carbon, result.sums)


def _stars(total: float, base_level: bool, category_points: tuple[float, ...],
           criteria: CriteriaSet) -> int:
    if not base_level:
        return 0
    floor = criteria.category_floor_percent
    if not all(_floor_met(p, c.max, floor) for p, c in zip(category_points, criteria.categories)):
        return 0
    return sum(1 for t in criteria.star_thresholds if total + _EPSILON >= t)


_SOMETIMES_REQUIRED = frozenset(
    k for k, f in survey_fields.FIELDS.items() if f.required.rule != "no")


def _missing_required(a: Mapping[str, Any]) -> tuple[str, ...]:
    unanswered = [k for k, v in a.items() if v is None]
    return tuple([k for k in unanswered
                  if k in _SOMETIMES_REQUIRED and survey_fields.is_required(k, a)])


# ---------------------------------------------------------------- explanations, on demand

def _inputs(keys: tuple[str, ...], measures: tuple[str, ...], a: Mapping[str, Any],
            m: Mapping[str, Any]) -> dict[str, Any]:
    params = {k: a.get(k) for k in keys}
    params.update((name, m.get(name)) for name in measures)
    return params


def _shown(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {fmt(v)}" for k, v in params.items())


def _prerequisite_result(p: Prerequisite, met: bool, a, m) -> PrerequisiteResult:
    params = _inputs(p.condition.keys, p.condition.measures, a, m)
    text = p.met_en if met else p.not_met_en
    why = f"{p.label_en}: {'met' if met else 'not met'}, {text} ({_shown(params)})."
    return PrerequisiteResult(p.id, p.label_en, p.label_zh, met,
                              f"{p.id}.{'met' if met else 'not_met'}", params, why)


def _item_result(item: ScoredItem, score: tuple[float, Any], a, m) -> ItemResult:
    points, value = score
    params = _inputs(item.keys, item.measures, a, m)
    if points >= item.max - _EPSILON:
        outcome = "full"
    elif points > _EPSILON:
        outcome = "partial"
    elif item.keys and all(a.get(k) is None for k in item.keys):
        outcome = "not_answered"
    else:
        outcome = "none"
    detail = _detail(item, value, params, a, m)
    why = f"{item.label_en}: {detail}; {fmt(points)} of {fmt(item.max)} points."
    return ItemResult(item.id, item.label_en, item.label_zh, value, points, item.max,
                      f"{item.id}.{outcome}", params, why)


def _detail(item: ScoredItem, value: Any, params: Mapping[str, Any], a, m) -> str:
    if item.kind == "linear":
        low, high = item.linear
        return (f"{item.value_name} = {fmt(value)} (no points at {fmt(low)}, full at "
                f"{fmt(high)})")
    if item.kind == "cases":
        case = next((c for c in item.cases if c.condition.test(a, m)), None)
        label = case.label_en if case else "no case applies"
        return f"{label} ({_shown(params)})"
    if item.kind == "condition" and item.value_name is None:
        return f"{'met' if value else 'not met'} ({_shown(params)})"
    if item.kind == "condition" and len(params) > 1:
        return _shown(params)
    return f"{item.value_name} = {fmt(value)}"


def improvements(result: FarmhouseResult) -> list[Improvement]:
    """What would raise the total most: unmet prerequisites, then items below their maximum.

    Each gain is for that change alone (a prerequisite's Q0 counts only once all unmet ones are
    met, so they list each other in `requires`); sorted by gain, largest first.
    """
    criteria = result.criteria
    raw = result.raw_points
    found: list[Improvement] = []
    unmet = tuple(p.id for p, met in zip(criteria.prerequisites, result.prerequisites_met)
                  if not met)

    def gain(extra: float) -> float:
        return min(criteria.cap, (raw + extra) / criteria.divisor) - result.total

    for p in criteria.prerequisites:
        if p.id in unmet:
            found.append(Improvement(p.id, p.label_en, p.label_zh, criteria.prerequisite_points,
                                     gain(criteria.prerequisite_points), unmet))
    for c, scores in zip(criteria.categories, result.item_scores):
        for item, (points, _) in zip(c.items, scores):
            available = item.max - points
            if available > _EPSILON:
                found.append(Improvement(item.id, item.label_en, item.label_zh, available,
                                         gain(available)))
    room = criteria.bonus.cap - result.bonus_points
    for item, (points, _) in zip(criteria.bonus.items, result.bonus_scores):
        available = item.max - points
        if available > _EPSILON:
            found.append(Improvement(item.id, item.label_en, item.label_zh, available,
                                     gain(min(available, room))))
    found.sort(key=lambda i: (-i.total_gain, i.id))
    return found
