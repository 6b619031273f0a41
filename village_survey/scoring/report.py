"""A farmhouse result as JSON-ready plain values (`to_dict`) and as a readable report (`to_text`).

Figures keep full precision in the result; rounding happens here, for output only.
"""

from __future__ import annotations

import math
from typing import Any

from village_survey.scoring.explain import fmt, percent
from village_survey.scoring.farmhouse import FarmhouseResult, ItemResult


def _r(value: Any, digits: int = 2) -> Any:
    if isinstance(value, float):
        return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return value


def _total(total: float) -> float:
    # rounded down: a displayed 60.00 must never hide a 59.996 that earned no star
    return math.floor(total * 100 + 1e-7) / 100


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return _r(value, 4)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _item(item: ItemResult) -> dict[str, Any]:
    return {"id": item.id, "label_en": item.label_en, "label_zh": item.label_zh,
            "value": _plain(item.value), "points": _r(item.points), "max": _r(item.max),
            "code": item.code, "params": _plain(dict(item.params)), "why": item.why}


def to_dict(result: FarmhouseResult) -> dict[str, Any]:
    """The result as JSON-ready values (see the module docs of village_survey.scoring)."""
    e, c, s = result.energy, result.carbon, result.supply
    bonus = result.bonus
    return {
        "criteria": result.criteria.name,
        "criteria_version": result.criteria.version,
        "total": _total(result.total),
        "stars": result.stars,
        "base_level": result.base_level,
        "zero_carbon": result.zero_carbon,
        "mtf_tier": s.tier,
        "prerequisites": [
            {"id": p.id, "label_en": p.label_en, "label_zh": p.label_zh, "met": p.met,
             "code": p.code, "params": _plain(dict(p.params)), "why": p.why}
            for p in result.prerequisites],
        "categories": [
            {"id": cat.id, "label_en": cat.label_en, "label_zh": cat.label_zh,
             "points": _r(cat.points), "max": _r(cat.max), "floor_met": cat.floor_met,
             "items": [_item(i) for i in cat.items]}
            for cat in result.categories],
        "bonus": {"points": _r(bonus.points), "raw_points": _r(bonus.raw_points),
                  "max": _r(bonus.max), "items": [_item(i) for i in bonus.items]},
        "carbon": {
            "gross_kgco2e": _r(c.gross_kgco2e), "avoided_kgco2e": _r(c.avoided_kgco2e),
            "net_kgco2e": _r(c.net_kgco2e), "biogenic_co2_kg": _r(c.biogenic_co2_kg),
            "ch4_kg": _r(c.ch4_kg, 4), "n2o_kg": _r(c.n2o_kg, 5), "persons": c.persons,
            "gross_kgco2e_per_person": _r(c.gross_kgco2e_per_person),
            "net_kgco2e_per_person": _r(c.net_kgco2e_per_person),
            "grid_factor": {"id": c.grid_factor_id, "kgco2_per_kwh": c.grid_kgco2_per_kwh},
        },
        "energy": {
            "electricity": {
                "bought_kwh": _r(e.bought_kwh, 1), "pv_generation_kwh": _r(e.pv_generation_kwh, 1),
                "pv_self_consumed_kwh": _r(e.pv_self_consumed_kwh, 1),
                "pv_exported_kwh": _r(e.pv_exported_kwh, 1), "use_kwh": _r(e.use_kwh, 1),
                "pv_self_sufficiency": _r(result.measures["pv_self_sufficiency"], 4),
            },
            "carriers": [
                {"carrier": u.carrier, "quantity": _r(u.quantity), "unit": u.unit,
                 "kwh": _r(u.kwh, 1), "kgce": _r(u.kgce), "kgco2e": _r(u.kgco2e),
                 "biogenic_co2_kg": _r(u.biogenic_co2_kg)}
                for u in e.carriers],
            "final_kwh": _r(e.final_kwh, 1),
            "final_kgce": _r(e.final_kgce),
            "modern_renewable_kgce": _r(e.modern_renewable_kgce),
            "modern_renewable_share": _r(e.modern_renewable_share, 4),
        },
        "mtf": {"tier": s.tier, "daily": s.daily, "evening": s.evening,
                "reliability": s.reliability, "quality": s.quality,
                "not_surveyed": list(s.not_surveyed)},
        "defaults_used": [_plain(d.to_dict()) for d in result.defaults_used],
    }


def to_text(result: FarmhouseResult) -> str:
    """A readable multi-line English report of one farmhouse's result."""
    e, c, s = result.energy, result.carbon, result.supply
    criteria = result.criteria
    lines = [
        f"Farmhouse evaluation, criteria {criteria.name} (version {criteria.version})",
        f"Total {_total(result.total):.2f} of {fmt(criteria.cap)}; stars {result.stars}; "
        f"base level {fmt(result.base_level)}; zero-carbon {fmt(result.zero_carbon)}",
        "",
        "Prerequisites",
    ]
    for p in result.prerequisites:
        lines.append(f"  {p.id} {'met    ' if p.met else 'NOT MET'} {p.why}")
    lines += ["", "Categories"]
    for cat in result.categories:
        floor = "" if cat.floor_met else "  (below the floor for stars)"
        lines.append(f"  {cat.id} {cat.label_en}: {fmt(round(cat.points, 2))} of "
                     f"{fmt(cat.max)}{floor}")
        lines += [f"    {i.id:<3} {i.why}" for i in cat.items]
    b = result.bonus
    lines.append(f"  Bonus: {fmt(round(b.points, 2))} of {fmt(b.max)}")
    lines += [f"    {i.id:<3} {i.why}" for i in b.items]
    lines += [
        "",
        "Energy, last 12 months",
        f"  electricity bought {e.bought_kwh:.1f} kWh; PV generation {e.pv_generation_kwh:.1f} "
        f"kWh (self-consumed {e.pv_self_consumed_kwh:.1f}, exported {e.pv_exported_kwh:.1f}); "
        f"use {e.use_kwh:.1f} kWh",
    ]
    for u in e.carriers:
        if u.quantity:
            as_kwh = "" if u.unit == "kWh" else f" = {u.kwh:.1f} kWh"
            lines.append(f"  {u.carrier}: {fmt(u.quantity)} {u.unit}{as_kwh}, {u.kgce:.2f} kgce")
    lines += [
        f"  final energy {e.final_kgce:.2f} kgce; modern renewable share "
        f"{percent(e.modern_renewable_share)}",
        "",
        f"Carbon: gross {c.gross_kgco2e:.2f} kg CO2e, avoided by PV export "
        f"{c.avoided_kgco2e:.2f}, net {c.net_kgco2e:.2f} ({c.net_kgco2e_per_person:.2f} per "
        f"person, {c.persons} persons); biogenic CO2 {c.biogenic_co2_kg:.2f} kg (memo item)",
        f"  grid factor {c.grid_factor_id}: {c.grid_kgco2_per_kwh} kg CO2/kWh",
        "",
        f"Electricity supply tier (MTF): {s.tier} (daily hours {s.daily}, evening {s.evening}, "
        f"reliability {s.reliability}, quality {s.quality}); not surveyed: "
        f"{', '.join(s.not_surveyed)}",
    ]
    if result.defaults_used:
        lines += ["", "Assumptions"]
        lines += [f"  - {d.why}" for d in result.defaults_used]
    return "\n".join(lines) + "\n"
