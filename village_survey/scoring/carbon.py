"""A household's energy and operational carbon over 12 months, by the criteria set's method.

Follows docs/method/criteria.md, "Household energy and carbon, step by step"; every factor
comes from the set's factor table (CarbonMethod), none is written here. Only unit conversions are
constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from village_survey.scoring.explain import Explanation, explain

MJ_PER_KWH = 3.6
TJ_PER_MJ = 1e-6
MONTHS_PER_YEAR = 12


# Named tuples, not dataclasses, for the per-farmhouse figures: a city's aggregation builds
# hundreds of thousands of them and a frozen dataclass is three times slower to construct.
class CarrierUse(NamedTuple):
    """One energy carrier's use: the quantity as answered, as kWh and as kgce, and its emissions."""

    carrier: str
    quantity: float
    unit: str
    kwh: float
    kgce: float
    kgco2e: float
    biogenic_co2_kg: float


@dataclass(frozen=True)
class FuelMethod:
    """How one fuel answer (a quantity over 12 months) turns into energy and emissions."""

    key: str  # answer key holding the quantity
    carrier: str
    unit: str
    heating_value_mj: float  # MJ per unit
    kgce: float  # kg standard coal equivalent per unit
    fossil_co2_kg: float  # kg fossil CO2 per unit (0 for biomass and biogas)
    ch4_kg_per_tj: float
    n2o_kg_per_tj: float
    biogenic_co2_kg_per_tj: float  # memo item, not in gross CO2e
    modern_renewable: bool

    unused: CarrierUse = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the record of this fuel not used at all, shared by every farmhouse (it is immutable)
        object.__setattr__(self, "unused",
                           CarrierUse(self.carrier, 0, self.unit, 0.0, 0.0, 0.0, 0.0))


@dataclass(frozen=True)
class CarbonMethod:
    grid_factor_id: str
    grid_kgco2_per_kwh: float
    tariff_yuan_per_kwh: float
    pv_yield_kwh_per_kwp: float
    electricity_kgce_per_kwh: float
    gwp_ch4: float
    gwp_n2o: float
    pv_self_use_share: Mapping[str, float]  # by pv_mode code
    pv_mode_when_unanswered: str
    fuels: tuple[FuelMethod, ...]

    @property
    def answer_keys(self) -> tuple[str, ...]:
        return ("electricity_kwh", "electricity_bill_yuan_month", "pv_installed", "pv_kwp",
                "pv_generation_kwh", "pv_mode", "residents") + tuple(f.key for f in self.fuels)


class HouseholdEnergy(NamedTuple):
    bought_kwh: float  # B
    pv_generation_kwh: float  # G
    pv_self_consumed_kwh: float  # S
    pv_exported_kwh: float  # X
    use_kwh: float  # U = B + S
    carriers: tuple[CarrierUse, ...]
    final_kwh: float
    final_kgce: float
    modern_renewable_kgce: float
    modern_renewable_share: float | None  # None when no final energy at all
    fuel_burnt_kgce: float


class HouseholdCarbon(NamedTuple):
    gross_kgco2e: float
    avoided_kgco2e: float
    net_kgco2e: float
    biogenic_co2_kg: float
    ch4_kg: float
    n2o_kg: float
    persons: int  # residents, at least 1, for per-person figures
    gross_kgco2e_per_person: float
    net_kgco2e_per_person: float
    grid_factor_id: str
    grid_kgco2_per_kwh: float


def _electricity_bought(a: Mapping[str, Any], method: CarbonMethod,
                        notes: list[Explanation]) -> float:
    kwh = a.get("electricity_kwh")
    if kwh is not None:
        return kwh
    bill = a.get("electricity_bill_yuan_month")
    if bill is not None:
        kwh = MONTHS_PER_YEAR * bill / method.tariff_yuan_per_kwh
        notes.append(explain("electricity_from_bill", bill_yuan_month=bill,
                             tariff=method.tariff_yuan_per_kwh, kwh=kwh))
        return kwh
    notes.append(explain("electricity_missing"))
    return 0.0


def _pv_generation(a: Mapping[str, Any], method: CarbonMethod,
                   notes: list[Explanation]) -> float:
    if a.get("pv_installed") is not True:
        return 0.0
    generation = a.get("pv_generation_kwh")
    if generation is not None:
        return generation
    kwp = a.get("pv_kwp")
    if kwp is None:
        notes.append(explain("pv_capacity_missing"))
        return 0.0
    generation = kwp * method.pv_yield_kwh_per_kwp
    notes.append(explain("pv_generation_estimated", kwp=kwp,
                         pv_yield=method.pv_yield_kwh_per_kwp, kwh=generation))
    return generation


def _self_use_share(a: Mapping[str, Any], method: CarbonMethod,
                    notes: list[Explanation]) -> float:
    mode = a.get("pv_mode")
    if mode is None:
        mode = method.pv_mode_when_unanswered
        share = method.pv_self_use_share[mode]
        notes.append(explain("pv_mode_assumed", mode=mode, share=share))
        return share
    return method.pv_self_use_share[mode]


def _persons(a: Mapping[str, Any], notes: list[Explanation]) -> int:
    residents = a.get("residents")
    if residents is None:
        notes.append(explain("residents_missing"))
        return 1
    if residents < 1:
        notes.append(explain("residents_zero"))
        return 1
    return residents


def household_energy_and_carbon(
    a: Mapping[str, Any], method: CarbonMethod, notes: list[Explanation],
) -> tuple[HouseholdEnergy, HouseholdCarbon]:
    """Energy and carbon of one farmhouse from its typed answers; assumptions go to `notes`."""
    grid = method.grid_kgco2_per_kwh
    e_kgce = method.electricity_kgce_per_kwh

    bought = _electricity_bought(a, method, notes)
    generation = _pv_generation(a, method, notes)
    self_consumed = generation * _self_use_share(a, method, notes) if generation else 0.0
    exported = generation - self_consumed
    use = bought + self_consumed

    carriers = [
        CarrierUse("grid_electricity", bought, "kWh", bought, bought * e_kgce, bought * grid, 0.0),
        CarrierUse("pv_self_use", self_consumed, "kWh", self_consumed, self_consumed * e_kgce,
                   0.0, 0.0),
    ]
    gross = bought * grid
    ch4_total = n2o_total = biogenic_total = 0.0
    fuel_kgce = renewable_fuel_kgce = 0.0
    fuel_kwh = 0.0
    unanswered = []
    for fuel in method.fuels:
        quantity = a.get(fuel.key)
        if quantity is None:
            unanswered.append(fuel.key)
            quantity = 0
        if quantity == 0:
            # most farmhouses burn few of the fuels: skip the arithmetic for those
            carriers.append(fuel.unused)
            continue
        mj = quantity * fuel.heating_value_mj
        tj = mj * TJ_PER_MJ
        ch4 = tj * fuel.ch4_kg_per_tj
        n2o = tj * fuel.n2o_kg_per_tj
        kgco2e = quantity * fuel.fossil_co2_kg + ch4 * method.gwp_ch4 + n2o * method.gwp_n2o
        biogenic = tj * fuel.biogenic_co2_kg_per_tj
        kgce = quantity * fuel.kgce
        kwh = mj / MJ_PER_KWH
        carriers.append(CarrierUse(fuel.carrier, quantity, fuel.unit, kwh, kgce, kgco2e, biogenic))
        gross += kgco2e
        ch4_total += ch4
        n2o_total += n2o
        biogenic_total += biogenic
        fuel_kgce += kgce
        fuel_kwh += kwh
        if fuel.modern_renewable:
            renewable_fuel_kgce += kgce
    if unanswered:
        notes.append(explain("fuel_missing_as_zero", keys=tuple(unanswered)))

    final_kgce = (bought + self_consumed) * e_kgce + fuel_kgce
    renewable_kgce = self_consumed * e_kgce + renewable_fuel_kgce
    energy = HouseholdEnergy(
        bought_kwh=bought,
        pv_generation_kwh=generation,
        pv_self_consumed_kwh=self_consumed,
        pv_exported_kwh=exported,
        use_kwh=use,
        carriers=tuple(carriers),
        final_kwh=use + fuel_kwh,
        final_kgce=final_kgce,
        modern_renewable_kgce=renewable_kgce,
        modern_renewable_share=renewable_kgce / final_kgce if final_kgce > 0 else None,
        fuel_burnt_kgce=fuel_kgce,
    )

    avoided = exported * grid
    net = gross - avoided
    persons = _persons(a, notes)
    carbon = HouseholdCarbon(
        gross_kgco2e=gross,
        avoided_kgco2e=avoided,
        net_kgco2e=net,
        biogenic_co2_kg=biogenic_total,
        ch4_kg=ch4_total,
        n2o_kg=n2o_total,
        persons=persons,
        gross_kgco2e_per_person=gross / persons,
        net_kgco2e_per_person=net / persons,
        grid_factor_id=method.grid_factor_id,
        grid_kgco2_per_kwh=grid,
    )
    return energy, carbon
