"""The farmhouse survey's data dictionary (form version 1): answer keys, types, ranges, codes, rules.

This is the contract between the form, the JSON API, the database, the scoring and the exports
(docs/method/survey-fields.md). It is plain data plus small lookups; the WTForms form and the
criteria loader are built from it. Labels are translated elsewhere, keyed by the answer key and code.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping

FORM_VERSION = 1
SUPPORTED_FORM_VERSIONS = (1,)

# The form's steps, in the order a surveyor walks through them on a phone.
STEPS = ("household", "building", "energy", "cooking", "heating", "lighting", "supply", "pv", "notes")

TYPES = ("text", "int", "decimal", "date", "year", "bool", "code")
NUMERIC_TYPES = frozenset({"int", "decimal", "year"})


@dataclass(frozen=True)
class DateBound:
    """A bound that depends on the day the survey is checked ("this year", "not in the future")."""

    name: str  # "today", "this_year", "survey_year_start", "survey_year_end"


TODAY = DateBound("today")
THIS_YEAR = DateBound("this_year")
SURVEY_YEAR_START = DateBound("survey_year_start")
SURVEY_YEAR_END = DateBound("survey_year_end")


@dataclass(frozen=True)
class Requirement:
    """When a key must be answered before a survey can be submitted (a draft may be incomplete).

    rule "yes" and "no" are unconditional; "when" applies if `when_key`'s answer is one of
    `when_values`; "one_of" is met when at least one key of `group` is answered.
    """

    rule: str
    when_key: str | None = None
    when_values: tuple = ()
    group: tuple[str, ...] = ()


REQUIRED = Requirement("yes")
OPTIONAL = Requirement("no")
WHEN_WOOD_OR_COAL_STOVE = Requirement(
    "when", when_key="primary_stove", when_values=("traditional_wood", "improved_wood", "coal")
)
WHEN_PV_INSTALLED = Requirement("when", when_key="pv_installed", when_values=(True,))
ONE_OF_ELECTRICITY = Requirement("one_of", group=("electricity_kwh", "electricity_bill_yuan_month"))


@dataclass(frozen=True)
class SurveyField:
    """One answer key of the survey form."""

    key: str
    type: str
    step: str
    required: Requirement
    unit: str = ""
    min: Any = None  # allowed range: outside it the answer is refused
    max: Any = None
    usual_min: Any = None  # usual range: outside it (but allowed) the form warns
    usual_max: Any = None
    max_length: int | None = None
    codes: tuple[str, ...] = ()
    personal: bool = False  # personal data: masked in exports and reports, never logged
    characters: str | None = None  # the only characters a text answer may contain
    multiline: bool = False  # a text answer of several lines (line breaks and tabs allowed)
    # Other units the form lets people type an amount in, each with how many of `unit` one of it
    # is: (("bottle", 15),) takes 3 bottles as 45 kg. The answer itself is always in `unit`.
    alt_units: tuple[tuple[str, Any], ...] = ()


STOVE_CODES = (
    "traditional_wood", "improved_wood", "coal", "lpg", "piped_gas", "biogas", "electric", "solar",
)
FUEL_KG_MAX = 20000


def _f(key, type_, step, required, **kw) -> SurveyField:
    return SurveyField(key=key, type=type_, step=step, required=required, **kw)


_FIELD_LIST = (
    # household
    _f("house_number", "text", "household", REQUIRED, max_length=40),
    _f("head_name", "text", "household", REQUIRED, max_length=40, personal=True),
    # the design gave the phone no length; 40 is our column size
    # (docs/method/survey-fields.md, "Choices of this project")
    _f("phone", "text", "household", OPTIONAL, max_length=40, personal=True,
       characters="0123456789+- "),
    _f("residents", "int", "household", REQUIRED, unit="persons", min=0, max=30,
       usual_min=1, usual_max=10),
    _f("latitude", "decimal", "household", OPTIONAL, unit="degrees", min=-90, max=90,
       usual_min=24.4, usual_max=30.1),
    _f("longitude", "decimal", "household", OPTIONAL, unit="degrees", min=-180, max=180,
       usual_min=113.5, usual_max=118.5),
    # A bound, though no phone reports such a figure: "1e999" would otherwise be stored as infinity,
    # which is no JSON number (PostgreSQL refuses it).
    _f("gps_accuracy_m", "decimal", "household", OPTIONAL, unit="m", min=0, max=100_000, usual_max=50),
    _f("survey_date", "date", "household", REQUIRED, max=TODAY,
       usual_min=SURVEY_YEAR_START, usual_max=SURVEY_YEAR_END),
    # building
    _f("year_built", "year", "building", REQUIRED, min=1900, max=THIS_YEAR),
    _f("storeys", "int", "building", REQUIRED, unit="storeys", min=1, max=7,
       usual_min=1, usual_max=4),
    _f("floor_area_m2", "decimal", "building", REQUIRED, unit="m²", min=10, max=2000,
       usual_min=40, usual_max=500),
    _f("structure", "code", "building", REQUIRED, codes=(
        "brick_concrete", "frame", "prefab_steel", "light_steel", "timber", "earth", "stone",
        "other")),
    _f("safety_appraisal", "code", "building", REQUIRED, codes=("A", "B", "C", "D", "none")),
    _f("visible_danger", "bool", "building", REQUIRED),
    _f("roof_insulation", "bool", "building", REQUIRED),
    _f("wall_insulation", "bool", "building", REQUIRED),
    _f("efficient_windows", "bool", "building", REQUIRED),
    _f("shading", "bool", "building", REQUIRED),
    _f("energy_design", "code", "building", REQUIRED, codes=("yes", "no", "unknown")),
    _f("green_materials", "bool", "building", REQUIRED),
    _f("retrofit_year", "year", "building", OPTIONAL, min=1990, max=THIS_YEAR),
    # energy use, last 12 months
    _f("electricity_kwh", "decimal", "energy", ONE_OF_ELECTRICITY, unit="kWh / 12 months",
       min=0, max=100000, usual_min=300, usual_max=8000),
    _f("electricity_bill_yuan_month", "decimal", "energy", ONE_OF_ELECTRICITY,
       unit="yuan / month", min=0, max=5000),
    # Households count the 15 kg bottles they buy rather than kilograms.
    _f("lpg_kg", "decimal", "energy", OPTIONAL, unit="kg / 12 months", min=0, max=2000,
       alt_units=(("bottle", 15),)),
    _f("piped_gas_m3", "decimal", "energy", OPTIONAL, unit="m³ / 12 months", min=0, max=5000),
    _f("coal_kg", "decimal", "energy", OPTIONAL, unit="kg / 12 months", min=0, max=FUEL_KG_MAX),
    _f("firewood_kg", "decimal", "energy", OPTIONAL, unit="kg / 12 months", min=0,
       max=FUEL_KG_MAX),
    _f("straw_kg", "decimal", "energy", OPTIONAL, unit="kg / 12 months", min=0, max=FUEL_KG_MAX),
    _f("biogas_m3", "decimal", "energy", OPTIONAL, unit="m³ / 12 months", min=0, max=3000),
    _f("biogas_digester", "code", "energy", REQUIRED, codes=("none", "working", "broken")),
    # cooking
    _f("primary_stove", "code", "cooking", REQUIRED, codes=STOVE_CODES),
    _f("secondary_stove", "code", "cooking", REQUIRED, codes=STOVE_CODES + ("none",)),
    _f("stove_chimney", "bool", "cooking", WHEN_WOOD_OR_COAL_STOVE),
    # heating and hot water
    _f("heating", "code", "heating", REQUIRED, codes=(
        "none", "heat_pump_ac", "air_source_heat_pump", "electric_heater", "biomass",
        "coal_brazier")),
    _f("hot_water", "code", "heating", REQUIRED, codes=(
        "none", "solar_thermal", "heat_pump", "electric", "gas", "firewood")),
    _f("ac_label_grade", "code", "heating", REQUIRED, codes=(
        "1", "2", "3", "4", "5", "no_ac", "unknown")),
    # lighting
    _f("lamps_led", "int", "lighting", REQUIRED, unit="lamps", min=0, max=200),
    _f("lamps_cfl", "int", "lighting", REQUIRED, unit="lamps", min=0, max=200),
    _f("lamps_incandescent", "int", "lighting", REQUIRED, unit="lamps", min=0, max=200),
    # electricity supply (Multi-Tier Framework questions)
    _f("grid_connected", "bool", "supply", REQUIRED),
    _f("supply_hours", "decimal", "supply", REQUIRED, unit="hours / day", min=0, max=24),
    _f("evening_hours", "decimal", "supply", REQUIRED, unit="hours (18:00–24:00)", min=0, max=6),
    _f("outages_per_week", "int", "supply", REQUIRED, unit="outages / week", min=0, max=100),
    _f("outage_hours_per_week", "decimal", "supply", REQUIRED, unit="hours / week", min=0,
       max=168),
    _f("voltage_damage", "bool", "supply", REQUIRED),
    _f("electric_vehicle", "bool", "supply", REQUIRED),
    _f("electric_bike", "bool", "supply", REQUIRED),
    _f("electric_farm_machinery", "bool", "supply", REQUIRED),
    _f("smart_meter", "bool", "supply", OPTIONAL),
    # solar PV
    _f("pv_installed", "bool", "pv", REQUIRED),
    _f("pv_kwp", "decimal", "pv", WHEN_PV_INSTALLED, unit="kWp", min=0, max=100,
       usual_min=1, usual_max=30),
    _f("pv_year", "year", "pv", WHEN_PV_INSTALLED, min=2005, max=THIS_YEAR),
    _f("pv_location", "code", "pv", WHEN_PV_INSTALLED, codes=("roof", "courtyard", "farm_building")),
    _f("pv_mode", "code", "pv", WHEN_PV_INSTALLED, codes=(
        "self_use_surplus", "all_to_grid", "off_grid")),
    _f("pv_generation_kwh", "decimal", "pv", OPTIONAL, unit="kWh / 12 months", min=0,
       max=200000),
    _f("battery_kwh", "decimal", "pv", OPTIONAL, unit="kWh", min=0, max=200),
    # notes
    _f("notes", "text", "notes", OPTIONAL, max_length=2000, multiline=True),
)

FIELDS: Mapping[str, SurveyField] = {f.key: f for f in _FIELD_LIST}
FIELD_KEYS: tuple[str, ...] = tuple(FIELDS)
PERSONAL_KEYS: frozenset[str] = frozenset(k for k, f in FIELDS.items() if f.personal)


@dataclass(frozen=True)
class CrossCheck:
    """A rule between answers; "error" refuses submission, "warning" only asks to confirm.

    kinds: "differs_from" (key ≠ other unless key's answer is in `exempt`), "at_most_key"
    (key ≤ other), "sum_at_least" (Σ keys ≥ value), "greater_than_when" (key > value when the
    condition key is True), "zero_unless" (key is 0 unless other's answer is in `exempt`).
    """

    code: str
    kind: str
    keys: tuple[str, ...]
    other: str | None = None
    value: Any = None
    exempt: tuple = ()
    severity: str = "error"


CROSS_CHECKS = (
    CrossCheck("secondary_stove_differs", "differs_from", ("secondary_stove",),
               other="primary_stove", exempt=("none",)),
    CrossCheck("evening_within_supply_hours", "at_most_key", ("evening_hours",),
               other="supply_hours"),
    CrossCheck("at_least_one_lamp", "sum_at_least", ("lamps_led", "lamps_cfl",
                                                      "lamps_incandescent"), value=1),
    CrossCheck("pv_capacity_positive", "greater_than_when", ("pv_kwp",), other="pv_installed",
               value=0),
    CrossCheck("biogas_needs_working_digester", "zero_unless", ("biogas_m3",),
               other="biogas_digester", exempt=("working",), severity="warning"),
)


def field(key: str) -> SurveyField:
    """The field of an answer key; KeyError names the key if it is not in the form."""
    try:
        return FIELDS[key]
    except KeyError:
        raise KeyError(f"unknown survey answer key {key!r}") from None


def is_known_key(key: str) -> bool:
    return key in FIELDS


def codes_of(key: str) -> tuple[str, ...]:
    """The allowed codes of a code field, in the form's order (empty for other types)."""
    return field(key).codes


def alt_unit_size(key: str, unit: str) -> Any:
    """How many of the answer's own unit one `unit` is (15 for a bottle of LPG), or None when
    `unit` is not another unit of that answer."""
    return dict(field(key).alt_units).get(unit)


def keys_in_step(step: str) -> tuple[str, ...]:
    if step not in STEPS:
        raise KeyError(f"unknown form step {step!r}")
    return tuple(f.key for f in _FIELD_LIST if f.step == step)


def _resolve(bound: Any, today: _dt.date, survey_year: int | None) -> Any:
    if not isinstance(bound, DateBound):
        return bound
    year = survey_year if survey_year is not None else today.year
    return {
        "today": today,
        "this_year": today.year,
        "survey_year_start": _dt.date(year, 1, 1),
        "survey_year_end": _dt.date(year, 12, 31),
    }[bound.name]


def allowed_range(key: str, today: _dt.date | None = None) -> tuple[Any, Any]:
    """(min, max) an answer may take, with "this year"/"today" taken from `today`."""
    today = today or _dt.date.today()
    f = field(key)
    return _resolve(f.min, today, None), _resolve(f.max, today, None)


def usual_range(key: str, today: _dt.date | None = None,
                survey_year: int | None = None) -> tuple[Any, Any]:
    """(min, max) outside which an allowed answer gets a warning."""
    today = today or _dt.date.today()
    f = field(key)
    return _resolve(f.usual_min, today, survey_year), _resolve(f.usual_max, today, survey_year)


def characters_pattern(key: str) -> str | None:
    """The pattern a text answer limited to some characters must match (Python and ECMAScript
    syntax alike), or None when any character is allowed."""
    chars = field(key).characters
    if chars is None:
        return None
    return "^[" + "".join("\\" + c if c in "\\[]^-" else c for c in chars) + "]*$"


def _bound_data(bound: Any) -> Any:
    return {"bound": bound.name} if isinstance(bound, DateBound) else bound


def _field_data(f: SurveyField) -> dict:
    data: dict[str, Any] = {"key": f.key, "type": f.type, "step": f.step, "required": f.required.rule}
    if f.required.rule == "when":
        data["when"] = [f.required.when_key, list(f.required.when_values)]
    if f.required.rule == "one_of":
        data["group"] = list(f.required.group)
    for name in ("min", "max", "usual_min", "usual_max", "max_length", "characters"):
        value = getattr(f, name)
        if value is not None:
            data[name] = _bound_data(value)
    if f.codes:
        data["codes"] = list(f.codes)
    if f.multiline:
        data["multiline"] = True
    if f.alt_units:
        data["alt_units"] = dict(f.alt_units)
    return data


def as_data() -> dict:
    """The dictionary as JSON-ready data, for the field app's own answer checks (checks.js).

    Fields are a list, in the form's order (a JSON object's keys may be reordered on the way).
    Bounds that depend on the day are sent by name ({"bound": "this_year"}) and resolved on the
    phone; the cross-field checks go as data, their kinds implemented on both sides.
    """
    return {
        "form_version": FORM_VERSION,
        "steps": list(STEPS),
        "fields": [_field_data(f) for f in _FIELD_LIST],
        "cross_checks": [{"code": c.code, "kind": c.kind, "keys": list(c.keys), "other": c.other,
                          "value": c.value, "exempt": list(c.exempt), "severity": c.severity}
                         for c in CROSS_CHECKS],
    }


def _answered(value: Any) -> bool:
    return value is not None and value != ""


def is_required(key: str, answers: Mapping[str, Any]) -> bool:
    """Whether `key` must be answered, given the other (typed) answers of the survey."""
    req = field(key).required
    if req.rule == "yes":
        return True
    if req.rule == "when":
        return answers.get(req.when_key) in req.when_values
    if req.rule == "one_of":
        return not any(_answered(answers.get(k)) for k in req.group)
    return False


def missing_required(answers: Mapping[str, Any]) -> list[str]:
    """Keys that must be answered but are not; a "one of" group lists all its keys."""
    return [k for k in FIELD_KEYS if is_required(k, answers) and not _answered(answers.get(k))]


def _cross_check_fails(check: CrossCheck, answers: Mapping[str, Any]) -> bool:
    values = [answers.get(k) for k in check.keys]
    other = answers.get(check.other) if check.other else None
    if check.kind == "differs_from":
        value = values[0]
        return value is not None and value not in check.exempt and value == other
    if check.kind == "at_most_key":
        return values[0] is not None and other is not None and values[0] > other
    if check.kind == "sum_at_least":
        if any(v is None for v in values):
            return False  # a missing count is reported as missing, not as this check
        return sum(values) < check.value
    if check.kind == "greater_than_when":
        # a missing capacity is reported by missing_required, not twice
        return other is True and values[0] is not None and values[0] <= check.value
    if check.kind == "zero_unless":
        return bool(values[0]) and other not in check.exempt
    raise ValueError(f"unknown cross-check kind {check.kind!r}")


def cross_check_problems(answers: Mapping[str, Any]) -> list[CrossCheck]:
    """The cross-field checks that the (typed) answers break, errors before warnings."""
    failed = [c for c in CROSS_CHECKS if _cross_check_fails(c, answers)]
    return sorted(failed, key=lambda c: c.severity != "error")
