"""A household's electricity supply tier by the World Bank ESMAP Multi-Tier Framework (MTF).

The household tier is the lowest tier over the attributes the survey records (availability by
day and evening, reliability, quality); the thresholds are the criteria set's data (MtfMethod).
An unanswered attribute counts at the lowest tier it allows: unknown supply earns no tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple


@dataclass(frozen=True)
class ReliabilityTier:
    tier: int
    outages_per_week_at_most: float
    outage_hours_per_week_below: float | None


@dataclass(frozen=True)
class MtfMethod:
    daily_hours_min: tuple[float, ...]  # index 0 is tier 1
    evening_hours_min: tuple[float, ...]
    reliability: tuple[ReliabilityTier, ...]  # highest tier first
    reliability_free_up_to_tier: int
    voltage_damage_max_tier: int
    not_surveyed: tuple[str, ...]
    source: str
    year: int

    @property
    def top_tier(self) -> int:
        return len(self.daily_hours_min)

    answer_keys = ("supply_hours", "evening_hours", "outages_per_week", "outage_hours_per_week",
                   "voltage_damage")


class SupplyTier(NamedTuple):  # a named tuple: one is built per farmhouse
    tier: int
    daily: int
    evening: int
    reliability: int
    quality: int
    not_surveyed: tuple[str, ...]


def _hours_tier(hours: float | None, minimums: tuple[float, ...]) -> int:
    if hours is None:
        return 0
    tier = 0
    for i, minimum in enumerate(minimums):
        if hours >= minimum:
            tier = i + 1
    return tier


def _reliability_tier(a: Mapping[str, Any], method: MtfMethod) -> int:
    outages = a.get("outages_per_week")
    hours = a.get("outage_hours_per_week")
    if outages is not None:
        for rule in method.reliability:
            if outages > rule.outages_per_week_at_most:
                continue
            if rule.outage_hours_per_week_below is not None and (
                    hours is None or hours >= rule.outage_hours_per_week_below):
                continue
            return rule.tier
    return method.reliability_free_up_to_tier


def supply_tier(a: Mapping[str, Any], method: MtfMethod) -> SupplyTier:
    """The MTF tier (0–5) of one farmhouse and the tier each recorded attribute allows."""
    daily = _hours_tier(a.get("supply_hours"), method.daily_hours_min)
    evening = _hours_tier(a.get("evening_hours"), method.evening_hours_min)
    reliability = _reliability_tier(a, method)
    quality = method.top_tier if a.get("voltage_damage") is False else method.voltage_damage_max_tier
    return SupplyTier(min(daily, evening, reliability, quality), daily, evening, reliability,
                      quality, method.not_surveyed)
