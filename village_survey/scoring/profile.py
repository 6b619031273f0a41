"""A household's energy profile (what it cooks, heats and lights with, its PV, where it is) and
the mixes of an area: counts per answer code, pooled from villages up to the city.

Plain Python, like the rest of `scoring`: the evaluation pages and reports draw the cooking,
heating, hot water and lighting mixes and the PV figures from these counts, and maps read the
profile's position. The profile does not depend on a criteria set.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

# The mixes an area keeps, and the answer (or derived lighting class) each counts.
MIXES = ("cooking", "heating", "hot_water", "lighting")
# Lighting as one class: no incandescent lamp left, mostly efficient, mostly incandescent, none.
LIGHTING_CLASSES = ("efficient", "mostly_efficient", "mostly_incandescent", "no_lamps")
# What the mix charts count as clean (no fuel burnt in the home, or gas).
CLEAN = {
    "cooking": frozenset({"electric", "solar", "lpg", "piped_gas", "biogas"}),
    "heating": frozenset({"none", "heat_pump_ac", "air_source_heat_pump", "electric_heater"}),
    "hot_water": frozenset({"none", "solar_thermal", "heat_pump", "electric", "gas"}),
    "lighting": frozenset({"efficient", "no_lamps"}),
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None and number > 0 else 0


def lighting_class(answers: Mapping[str, Any]) -> str:
    """The household's lighting as one class, from its lamp counts."""
    efficient = _count(answers.get("lamps_led")) + _count(answers.get("lamps_cfl"))
    incandescent = _count(answers.get("lamps_incandescent"))
    if efficient + incandescent == 0:
        return "no_lamps"
    if incandescent == 0:
        return "efficient"
    return "mostly_efficient" if efficient > incandescent else "mostly_incandescent"


def _code(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def household_profile(answers: Mapping[str, Any]) -> dict[str, Any]:
    """What the mixes and maps read of one survey's answers (tolerant: a missing or odd answer
    gives None, never an error; scoring is where answers are judged)."""
    pv = answers.get("pv_installed")
    pv = pv if isinstance(pv, bool) else None
    kwp = _number(answers.get("pv_kwp")) if pv else None
    latitude, longitude = _number(answers.get("latitude")), _number(answers.get("longitude"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        latitude = longitude = None
    return {
        "cooking": _code(answers.get("primary_stove")),
        "heating": _code(answers.get("heating")),
        "hot_water": _code(answers.get("hot_water")),
        "lighting": lighting_class(answers),
        "pv": pv,
        "pv_kwp": kwp if kwp is not None and kwp >= 0 else None,
        "latitude": latitude,
        "longitude": longitude,
        "gps_accuracy_m": _number(answers.get("gps_accuracy_m")),
    }


def empty_mix() -> dict[str, Any]:
    return {"households": 0, "pv_households": 0, "pv_kwp": 0.0, **{name: {} for name in MIXES}}


def village_mix(profiles: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per code of each mix, PV households and their capacity (kWp), of some households."""
    mix = empty_mix()
    capacities = []
    for profile in profiles:
        mix["households"] += 1
        for name in MIXES:
            code = profile.get(name)
            if code is not None:
                mix[name][code] = mix[name].get(code, 0) + 1
        if profile.get("pv"):
            mix["pv_households"] += 1
            capacities.append(profile.get("pv_kwp") or 0.0)
    mix["pv_kwp"] = math.fsum(capacities)
    return mix


def pooled_mix(children: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """An area's mix from its children's: counts add up; capacity is summed exactly (order free)."""
    mix = empty_mix()
    capacities = []
    for child in children:
        mix["households"] += child["households"]
        mix["pv_households"] += child["pv_households"]
        capacities.append(child["pv_kwp"])
        for name in MIXES:
            for code, count in child[name].items():
                mix[name][code] = mix[name].get(code, 0) + count
    mix["pv_kwp"] = math.fsum(capacities)
    return mix


def clean_share(mix: Mapping[str, Any], name: str) -> float | None:
    """The share of households whose answer for mix `name` is clean; None without households."""
    counts = mix[name]
    total = sum(counts.values())
    if not total:
        return None
    return sum(n for code, n in counts.items() if code in CLEAN[name]) / total
