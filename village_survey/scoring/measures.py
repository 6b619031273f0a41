"""Derived measures: the figures criteria rules may name besides answers (`measure = "led_share"`).

The registry says which names exist and of what type, so that a criteria file naming an unknown
measure is refused at load time; `farmhouse_measures` computes them for one farmhouse. Measures
of the "result" stage exist only once the farmhouse is scored, for village indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from village_survey.scoring.carbon import HouseholdCarbon, HouseholdEnergy
from village_survey.scoring.supply import SupplyTier

KG_PER_TONNE = 1000.0


@dataclass(frozen=True)
class Measure:
    name: str
    type: str  # "number" or "bool"
    stage: str  # "farmhouse": usable by items; "result": only by village indicators
    unit: str
    description: str


_MEASURE_LIST = (
    Measure("lamps_total", "number", "farmhouse", "lamps", "LED + CFL + incandescent lamps"),
    Measure("led_share", "number", "farmhouse", "share", "LED lamps ÷ all lamps"),
    Measure("efficient_lamp_share", "number", "farmhouse", "share",
            "(LED + CFL lamps) ÷ all lamps"),
    Measure("pv_capacity_kwp", "number", "farmhouse", "kWp", "PV capacity, 0 without PV"),
    Measure("pv_generated_kwh", "number", "farmhouse", "kWh / 12 months",
            "PV generation, answered or estimated from capacity × yield"),
    Measure("pv_self_sufficiency", "number", "farmhouse", "share",
            "PV generation ÷ electricity use, at most 1"),
    Measure("electricity_bought_kwh", "number", "farmhouse", "kWh / 12 months",
            "grid electricity bought"),
    Measure("electricity_use_kwh", "number", "farmhouse", "kWh / 12 months",
            "electricity bought + PV self-consumed"),
    Measure("mtf_tier", "number", "farmhouse", "tier", "electricity supply tier 0–5 (MTF)"),
    Measure("final_energy_kgce", "number", "farmhouse", "kgce / 12 months",
            "all final energy"),
    Measure("modern_renewable_kgce", "number", "farmhouse", "kgce / 12 months",
            "PV self-consumed + biogas"),
    Measure("modern_renewable_share", "number", "farmhouse", "share",
            "modern renewable ÷ final energy"),
    Measure("fuel_burnt_kgce", "number", "farmhouse", "kgce / 12 months",
            "all fuels burnt, unanswered quantities as 0"),
    Measure("gross_kgco2e", "number", "farmhouse", "kg CO2e / 12 months", "gross emissions"),
    Measure("net_kgco2e", "number", "farmhouse", "kg CO2e / 12 months",
            "gross emissions − avoided by PV export"),
    Measure("net_tco2e", "number", "farmhouse", "t CO2e / 12 months", "net emissions in tonnes"),
    Measure("net_kgco2e_per_person", "number", "farmhouse", "kg CO2e / person / 12 months",
            "net emissions ÷ residents (at least 1)"),
    Measure("persons", "number", "farmhouse", "persons", "residents, at least 1"),
    Measure("zero_carbon", "bool", "farmhouse", "", "net CO2e within the set's zero-carbon limit"),
    Measure("base_level", "bool", "result", "", "all prerequisites met"),
    Measure("stars", "number", "result", "stars", "star level 0–3"),
    Measure("total", "number", "result", "points", "total score Q"),
)

MEASURES: Mapping[str, Measure] = {m.name: m for m in _MEASURE_LIST}

# Answer keys the measures read (besides those carbon and supply read).
ANSWER_KEYS = ("lamps_led", "lamps_cfl", "lamps_incandescent", "pv_installed", "pv_kwp")


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def farmhouse_measures(a: Mapping[str, Any], energy: HouseholdEnergy, carbon: HouseholdCarbon,
                       supply: SupplyTier, zero_carbon: bool) -> dict[str, Any]:
    """The farmhouse-stage measures of one farmhouse (unanswered lamp counts count as 0)."""
    led = a.get("lamps_led") or 0
    cfl = a.get("lamps_cfl") or 0
    lamps = led + cfl + (a.get("lamps_incandescent") or 0)
    generation = energy.pv_generation_kwh
    if generation <= 0:
        self_sufficiency = 0.0
    elif energy.use_kwh <= 0:
        self_sufficiency = 1.0  # generation with no use at all covers it fully
    else:
        self_sufficiency = min(1.0, generation / energy.use_kwh)
    installed = a.get("pv_installed") is True
    return {
        "lamps_total": lamps,
        "led_share": _share(led, lamps),
        "efficient_lamp_share": _share(led + cfl, lamps),
        "pv_capacity_kwp": (a.get("pv_kwp") or 0) if installed else 0,
        "pv_generated_kwh": generation,
        "pv_self_sufficiency": self_sufficiency,
        "electricity_bought_kwh": energy.bought_kwh,
        "electricity_use_kwh": energy.use_kwh,
        "mtf_tier": supply.tier,
        "final_energy_kgce": energy.final_kgce,
        "modern_renewable_kgce": energy.modern_renewable_kgce,
        "modern_renewable_share": energy.modern_renewable_share,
        "fuel_burnt_kgce": energy.fuel_burnt_kgce,
        "gross_kgco2e": carbon.gross_kgco2e,
        "net_kgco2e": carbon.net_kgco2e,
        "net_tco2e": carbon.net_kgco2e / KG_PER_TONNE,
        "net_kgco2e_per_person": carbon.net_kgco2e_per_person,
        "persons": carbon.persons,
        "zero_carbon": zero_carbon,
    }
