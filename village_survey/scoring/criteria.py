"""Criteria sets: a named, versioned TOML file, validated on load and compiled for scoring.

`load_criteria("jiujiang-2025")` reads `criteria/jiujiang-2025.toml` beside this module. A file
that is wrong in any way scoring would notice is refused with CriteriaError naming the file, the
line (found in the file text) and the reason, so that a bad set never reaches a report.

A set has versions: `<name>.toml` is the current one; when its scoring changes, its version goes
up and the previous file stays beside it, unchanged, as `<name>.v<N>.toml`, so that an evaluation
finalized with version N is reproduced and labelled with version N:
`load_criteria(name, version=evaluation.criteria_version)`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from village_survey import survey_fields
from village_survey.scoring import measures as measures_module
from village_survey.scoring.answers import Parsers, compile_parsers
from village_survey.scoring.carbon import CarbonMethod, FuelMethod
from village_survey.scoring.measures import MEASURES
from village_survey.scoring.rules import (
    Condition, ConditionCompiler, Locator, RuleCode, RuleProblem, ScoredItem, assigned,
    check_fields, compile_farmhouse_condition, compile_item, getter, is_number, number_field,
    quoted, table_header, text_field,
)
from village_survey.scoring.supply import MtfMethod, ReliabilityTier

CRITERIA_DIR = Path(__file__).with_name("criteria")
DEFAULT_CRITERIA = "jiujiang-2025"
CONFIDENCE_MARKS = ("✔", "~", "✎")  # published source; secondary source; our own choice
INDICATOR_WEIGHT_TOTAL = 100
# Float sums of points such as 25 + 25 + 25 + 10 + 15 may differ from 100 in the last bit.
_POINTS_TOLERANCE = 1e-9


class CriteriaError(Exception):
    """A criteria file that cannot be used; str() is "file:line: reason"."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path.name}:{line}" if line else self.path.name
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Factor:
    id: str
    value: float
    unit: str
    source: str
    year: int
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class Prerequisite:
    id: str
    label_en: str
    label_zh: str
    met_en: str
    not_met_en: str
    condition: Condition


@dataclass(frozen=True)
class Category:
    id: str
    label_en: str
    label_zh: str
    max: float
    items: tuple[ScoredItem, ...]


@dataclass(frozen=True)
class Bonus:
    label_en: str
    label_zh: str
    cap: float
    items: tuple[ScoredItem, ...]


@dataclass(frozen=True)
class Grade:
    code: str
    zh: str
    en: str
    min_score: float


@dataclass(frozen=True)
class Indicator:
    """A village indicator. Farmhouses add to sums: a rate its condition (0/1), a ratio its
    numerator and denominator measures; coverage comes from the registered households."""

    id: str
    label_en: str
    label_zh: str
    kind: str  # "rate", "ratio" or "coverage"
    weight: float
    target: float
    direction: str  # "higher_better": score = 100·value/target; "lower_better": 100·target/value
    condition: Condition | None = None
    numerator: str | None = None
    denominator: str | None = None
    slot: int = -1  # index of this indicator's first figure in a farmhouse's sums
    # a rate's households counted, by their answer to a code question (`breakdown`): one figure
    # per code from `breakdown_slot` on
    breakdown: str | None = None
    breakdown_codes: tuple[str, ...] = ()
    breakdown_slot: int = -1


@dataclass(frozen=True)
class VillageRules:
    min_approved_surveys: int
    min_coverage: float
    grades: tuple[Grade, ...]  # highest first
    indicators: tuple[Indicator, ...]
    sums_width: int


@dataclass(frozen=True, eq=False)
class CriteriaSet:
    name: str
    version: int
    title_en: str
    title_zh: str
    path: Path
    form_versions: tuple[int, ...]
    prerequisite_points: float
    divisor: float
    cap: float
    star_thresholds: tuple[float, ...]
    category_floor_percent: float
    zero_carbon_net_kgco2e_at_most: float
    prerequisites: tuple[Prerequisite, ...]
    categories: tuple[Category, ...]
    bonus: Bonus
    carbon: CarbonMethod
    mtf: MtfMethod
    village: VillageRules
    factors: Mapping[str, Factor]
    answer_keys: tuple[str, ...]  # every answer key scoring reads
    parsers: Parsers
    farmhouse_sums: Callable[[Mapping[str, Any], Mapping[str, Any]], tuple]
    # generated functions scoring runs (see rules.RuleCode): one call each per farmhouse
    prerequisites_test: Callable  # (a, m) -> (met, ...) in prerequisite order
    category_scorers: tuple[Callable, ...]  # per category: (a, m) -> ((points, value), ...)
    bonus_scorer: Callable

    def __repr__(self) -> str:
        return f"<CriteriaSet {self.name} v{self.version}>"


# ---------------------------------------------------------------- loading and caching

_cache: dict[tuple[str, int], CriteriaSet] = {}
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_PREVIOUS_VERSION = re.compile(r"\.v\d+$")  # the stem of a previous version's file


def available_criteria() -> list[str]:
    """Names of the criteria sets shipped with the product (their current versions)."""
    return sorted(p.stem for p in CRITERIA_DIR.glob("*.toml")
                  if not _PREVIOUS_VERSION.search(p.stem))


def load_criteria(name: str = DEFAULT_CRITERIA, version: int | None = None) -> CriteriaSet:
    """The shipped criteria set `name`, loaded once per process (and again if its file changes):
    its current version, or the given `version` (a previous one is kept as `<name>.v<N>.toml`)."""
    # the name may come from a URL or a stored evaluation: it must not reach outside the folder
    path = CRITERIA_DIR / f"{name}.toml"
    if (not _NAME.fullmatch(name) or ".." in name or _PREVIOUS_VERSION.search(name)
            or not path.is_file()):
        raise CriteriaError(path.name, None, f"no criteria set {name!r} (available: "
                            f"{', '.join(available_criteria())})")
    criteria = _named(load_criteria_file(path), name)
    if version is None or version == criteria.version:
        return criteria
    current = criteria.version
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < current:
        raise CriteriaError(path.name, None, f"no version {version!r} of criteria set {name!r} "
                            f"(versions 1 to {current})")
    path = CRITERIA_DIR / f"{name}.v{version}.toml"
    if not path.is_file():
        raise CriteriaError(path.name, None, f"no version {version} of criteria set {name!r}: "
                            f"its file {path.name} is missing")
    criteria = _named(load_criteria_file(path), name)
    if criteria.version != version:
        raise CriteriaError(criteria.path, _find_line(criteria.path.read_text("utf-8"),
                                                      (assigned("version"),)),
                            f"the file of a previous version says version {criteria.version}, "
                            f"not {version}")
    return criteria


def _named(criteria: CriteriaSet, name: str) -> CriteriaSet:
    if criteria.name != name:
        raise CriteriaError(criteria.path, _find_line(criteria.path.read_text("utf-8"),
                                                      (assigned("name"),)),
                            f"the set is named {criteria.name!r} but its file is {name!r}")
    return criteria


def load_criteria_file(path: str | Path) -> CriteriaSet:
    """Load, validate and compile a criteria file; raises CriteriaError if it is not usable."""
    path = Path(path).resolve()
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise CriteriaError(path, None, f"cannot read the file: {exc.strerror}") from None
    if stamp in _cache:
        return _cache[stamp]
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise CriteriaError(path, int(match.group(1)) if match else None,
                            f"not valid TOML: {exc}") from None
    try:
        criteria = _build(data, path)
    except RuleProblem as problem:
        raise CriteriaError(path, _find_line(text, problem.locator), problem.reason) from None
    _cache[stamp] = criteria
    return criteria


def _find_line(text: str, locator: Locator) -> int | None:
    """The 1-based line the locator's patterns lead to, each searched from the previous hit."""
    lines = [("" if line.lstrip().startswith("#") else line) for line in text.splitlines()]
    start, found = 0, None
    for step in locator:
        pattern, nth = (step, 0) if isinstance(step, str) else step
        regex = re.compile(pattern)
        hits = (i for i in range(start, len(lines)) if regex.search(lines[i]))
        hit = next((i for n, i in enumerate(hits) if n == nth), None)
        if hit is None:
            break
        found = start = hit
    return None if found is None else found + 1


# ---------------------------------------------------------------- validation and compilation

_TOP_FIELDS = {"name", "version", "title_en", "title_zh", "form_versions", "total", "stars",
               "zero_carbon", "definitions", "prerequisites", "categories", "bonus", "mtf",
               "carbon", "factors", "village"}


def _table(data: Mapping[str, Any], name: str, loc: Locator) -> dict:
    value = data.get(name)
    if not isinstance(value, dict):
        raise RuleProblem(f"missing table [{name}]", loc)
    return value


def _array(data: Mapping[str, Any], name: str, where: str, loc: Locator) -> list:
    value = data.get(name)
    if not isinstance(value, list) or not value:
        raise RuleProblem(f"{where} needs a non-empty array {name!r}", loc)
    return value


def _unique(ids: list[str], what: str, locate: Callable[[str], Locator]) -> None:
    seen = set()
    for i in ids:
        if i in seen:
            raise RuleProblem(f"{what} id {i!r} is used twice", locate(i))
        seen.add(i)


def _build(data: dict, path: Path) -> CriteriaSet:
    check_fields(data, _TOP_FIELDS, "the criteria set", ())
    name = text_field(data, "name", "the criteria set", (assigned("name"),))
    if not _NAME.fullmatch(name) or ".." in name:
        raise RuleProblem(f"set name {name!r} must be lower case letters, digits, '.', '-', '_'",
                          (assigned("name"),))
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RuleProblem("version must be a whole number ≥ 1", (assigned("version"),))
    form_versions = data.get("form_versions")
    if not isinstance(form_versions, list) or not form_versions:
        raise RuleProblem("form_versions must list the survey form versions the set scores",
                          (assigned("form_versions"),))
    for v in form_versions:
        if v not in survey_fields.SUPPORTED_FORM_VERSIONS:
            raise RuleProblem(f"survey form version {v!r} is not supported (supported: "
                              f"{survey_fields.SUPPORTED_FORM_VERSIONS})",
                              (assigned("form_versions"),))

    total = _table(data, "total", ())
    total_loc = (table_header("total"),)
    check_fields(total, {"prerequisite_points", "divisor", "cap"}, "[total]", total_loc)
    stars = _table(data, "stars", ())
    stars_loc = (table_header("stars"),)
    check_fields(stars, {"thresholds", "category_floor_percent"}, "[stars]", stars_loc)
    thresholds = stars.get("thresholds")
    if (not isinstance(thresholds, list) or not thresholds
            or not all(is_number(t) for t in thresholds) or thresholds != sorted(thresholds)):
        raise RuleProblem("star thresholds must be ascending numbers",
                          stars_loc + (assigned("thresholds"),))
    floor = number_field(stars, "category_floor_percent", "[stars]", stars_loc, minimum=0)
    zero_carbon = _table(data, "zero_carbon", ())
    check_fields(zero_carbon, {"net_kgco2e_at_most"}, "[zero_carbon]",
                 (table_header("zero_carbon"),))

    definitions = data.get("definitions", {})
    if not isinstance(definitions, dict):
        raise RuleProblem("definitions must be a table of named conditions",
                          (table_header("definitions"),))
    compiler = ConditionCompiler(definitions)
    compiler.compile_all_definitions()

    prerequisites = _prerequisites(data, compiler)
    categories = _categories(data, compiler)
    bonus = _bonus(data, compiler)
    item_ids = [i.id for c in categories for i in c.items] + [i.id for i in bonus.items]
    _unique(item_ids, "item", lambda i: (r'\bid\s*=\s*' + quoted(i), (r'\bid\s*=\s*' +
                                                                      quoted(i), 1)))
    factors = _factors(data)
    carbon = _carbon(data, factors)
    mtf = _mtf(data)
    village = _village(data, compiler)

    keys: dict[str, None] = {}
    for condition in [p.condition for p in prerequisites] + [
            ind.condition for ind in village.indicators if ind.condition]:
        keys.update(dict.fromkeys(condition.keys))
    for item in [i for c in categories for i in c.items] + list(bonus.items):
        keys.update(dict.fromkeys(item.keys))
        if item.value_name and survey_fields.is_known_key(item.value_name):
            keys[item.value_name] = None
    keys.update(dict.fromkeys(ind.breakdown for ind in village.indicators if ind.breakdown))
    keys.update(dict.fromkeys(carbon.answer_keys))
    keys.update(dict.fromkeys(mtf.answer_keys))
    keys.update(dict.fromkeys(measures_module.ANSWER_KEYS))

    return CriteriaSet(
        name=name, version=version,
        title_en=text_field(data, "title_en", "the criteria set", ()),
        title_zh=text_field(data, "title_zh", "the criteria set", ()),
        path=path, form_versions=tuple(form_versions),
        prerequisite_points=number_field(total, "prerequisite_points", "[total]", total_loc,
                                         minimum=0),
        divisor=_positive(total, "divisor", "[total]", total_loc),
        cap=_positive(total, "cap", "[total]", total_loc),
        star_thresholds=tuple(float(t) for t in thresholds),
        category_floor_percent=floor,
        zero_carbon_net_kgco2e_at_most=number_field(
            zero_carbon, "net_kgco2e_at_most", "[zero_carbon]", (table_header("zero_carbon"),)),
        prerequisites=prerequisites, categories=categories, bonus=bonus, carbon=carbon,
        mtf=mtf, village=village, factors=factors, answer_keys=tuple(keys),
        parsers=compile_parsers(keys),
        farmhouse_sums=_sums_function(village.indicators, compiler.code),
        prerequisites_test=_tuple_function([p.condition.expr for p in prerequisites],
                                           compiler.code),
        category_scorers=tuple(_tuple_function([i.expr for i in c.items], compiler.code)
                               for c in categories),
        bonus_scorer=_tuple_function([i.expr for i in bonus.items], compiler.code),
    )


def _tuple_function(exprs: list[str], code: RuleCode) -> Callable:
    return code.function("(" + "".join(f"{e}, " for e in exprs) + ")")


def _positive(table, name, where, loc) -> float:
    value = number_field(table, name, where, loc)
    if value <= 0:
        raise RuleProblem(f"{name!r} in {where} must be greater than 0", loc + (assigned(name),))
    return value


def _prerequisites(data, compiler) -> tuple[Prerequisite, ...]:
    header = r"^\s*\[\[\s*prerequisites\s*\]\]"
    result = []
    for n, spec in enumerate(_array(data, "prerequisites", "the criteria set", ())):
        loc = ((header, n),)
        if not isinstance(spec, dict):
            raise RuleProblem("each prerequisite must be a table", loc)
        check_fields(spec, {"id", "label_en", "label_zh", "when", "met_en", "not_met_en"},
                     "a prerequisite", loc)
        pid = text_field(spec, "id", "a prerequisite", loc)
        where = f"prerequisite {pid}"
        if "when" not in spec:
            raise RuleProblem(f"{where} needs 'when'", loc)
        result.append(Prerequisite(
            pid, text_field(spec, "label_en", where, loc), text_field(spec, "label_zh", where, loc),
            text_field(spec, "met_en", where, loc), text_field(spec, "not_met_en", where, loc),
            compile_farmhouse_condition(compiler, spec["when"], where, loc)))
    _unique([p.id for p in result], "prerequisite", lambda i: ((header, 0),))
    return tuple(result)


def _items(specs: list, compiler, owner: str, loc: Locator, item_header: str):
    return tuple(compile_item(spec, compiler, f"item {n + 1} of {owner}", loc + ((item_header, n),))
                 for n, spec in enumerate(specs))


def _categories(data, compiler) -> tuple[Category, ...]:
    header = r"^\s*\[\[\s*categories\s*\]\]"
    item_header = r"^\s*\[\[\s*categories\.items\s*\]\]"
    result = []
    for n, spec in enumerate(_array(data, "categories", "the criteria set", ())):
        loc = ((header, n),)
        if not isinstance(spec, dict):
            raise RuleProblem("each category must be a table", loc)
        check_fields(spec, {"id", "label_en", "label_zh", "max", "items"}, "a category", loc)
        cid = text_field(spec, "id", "a category", loc)
        where = f"category {cid}"
        maximum = _positive(spec, "max", where, loc)
        items = _items(_array(spec, "items", where, loc), compiler, where, loc, item_header)
        points = sum(i.max for i in items)
        if abs(points - maximum) > _POINTS_TOLERANCE:
            raise RuleProblem(
                f"the items of category {cid} add up to {points:g} points, not its maximum "
                f"{maximum:g}", loc + (assigned("max"),))
        result.append(Category(cid, text_field(spec, "label_en", where, loc),
                               text_field(spec, "label_zh", where, loc), maximum, items))
    _unique([c.id for c in result], "category", lambda i: ((header, 0),))
    return tuple(result)


def _bonus(data, compiler) -> Bonus:
    spec = _table(data, "bonus", ())
    loc = (table_header("bonus"),)
    check_fields(spec, {"label_en", "label_zh", "cap", "items"}, "[bonus]", loc)
    items = _items(_array(spec, "items", "[bonus]", loc), compiler, "the bonus", (),
                   r"^\s*\[\[\s*bonus\.items\s*\]\]")
    return Bonus(text_field(spec, "label_en", "[bonus]", loc),
                 text_field(spec, "label_zh", "[bonus]", loc),
                 number_field(spec, "cap", "[bonus]", loc, minimum=0), items)


def _factors(data) -> dict[str, Factor]:
    factors = {}
    for fid, spec in _table(data, "factors", ()).items():
        loc = (table_header(f"factors.{fid}"),)
        where = f"factor {fid!r}"
        if not isinstance(spec, dict):
            raise RuleProblem(f"{where} must be a table", loc)
        check_fields(spec, {"value", "unit", "source", "year", "confidence", "note"}, where, loc)
        for name in ("source", "unit"):
            if not isinstance(spec.get(name), str) or not spec[name].strip():
                raise RuleProblem(f"{where} has no {name}: every factor must name its {name}",
                                  loc)
        year = spec.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
            raise RuleProblem(f"{where} needs the year of its source (a year such as 2023)",
                              _at(spec, "year", loc))
        if spec.get("confidence") not in CONFIDENCE_MARKS:
            raise RuleProblem(f"{where} needs a confidence mark, one of "
                              f"{' '.join(CONFIDENCE_MARKS)}", _at(spec, "confidence", loc))
        factors[fid] = Factor(fid, number_field(spec, "value", where, loc), spec["unit"],
                              spec["source"], year, spec["confidence"], spec.get("note", ""))
    return factors


def _at(table: Mapping[str, Any], name: str, loc: Locator) -> Locator:
    """The locator of field `name` if the table has it, else of the table itself."""
    return loc + (assigned(name),) if name in table else loc


def _factor_value(factors, fid: Any, unit: str, where: str, loc: Locator) -> float:
    if not isinstance(fid, str) or fid not in factors:
        raise RuleProblem(f"{where} names no factor of the factor table ({fid!r})",
                          loc + (quoted(str(fid)),))
    if factors[fid].unit != unit:
        raise RuleProblem(f"factor {fid!r} used in {where} is in {factors[fid].unit!r}, "
                          f"expected {unit!r}", (table_header(f"factors.{fid}"), assigned("unit")))
    return factors[fid].value


def _carbon(data, factors) -> CarbonMethod:
    spec = _table(data, "carbon", ())
    loc = (table_header("carbon"),)
    check_fields(spec, {"grid_factor", "tariff", "pv_yield", "electricity_kgce", "gwp_ch4",
                        "gwp_n2o", "pv_mode_when_unanswered", "pv_self_use_share", "fuels"},
                 "[carbon]", loc)

    def ref(name: str, unit: str) -> float:
        return _factor_value(factors, spec.get(name), unit, f"[carbon] {name}",
                             loc + (assigned(name),))

    modes = survey_fields.codes_of("pv_mode")
    shares = spec.get("pv_self_use_share")
    share_loc = (table_header("carbon.pv_self_use_share"),)
    if not isinstance(shares, dict) or set(shares) != set(modes):
        raise RuleProblem(f"[carbon.pv_self_use_share] must give a share for each PV mode: "
                          f"{', '.join(modes)}", share_loc)
    for mode, share in shares.items():
        if not is_number(share) or not 0 <= share <= 1:
            raise RuleProblem(f"self-use share of {mode!r} must be between 0 and 1",
                              share_loc + (assigned(mode),))
    fallback = spec.get("pv_mode_when_unanswered")
    if fallback not in modes:
        raise RuleProblem(f"pv_mode_when_unanswered must be a PV mode: {', '.join(modes)}",
                          loc + (assigned("pv_mode_when_unanswered"),))

    fuels = []
    header = r"^\s*\[\[\s*carbon\.fuels\s*\]\]"
    for n, fuel in enumerate(_array(spec, "fuels", "[carbon]", loc)):
        floc = ((header, n),)
        where = f"fuel {n + 1} of [carbon]"
        check_fields(fuel, {"key", "carrier", "unit", "heating_value", "kgce", "fossil_co2",
                            "ch4", "n2o", "biogenic_co2", "modern_renewable"}, where, floc)
        key = fuel.get("key")
        if not isinstance(key, str) or not survey_fields.is_known_key(key):
            raise RuleProblem(f"unknown answer key {key!r} in {where}", floc + (assigned("key"),))
        unit = text_field(fuel, "unit", where, floc)
        answer_unit = survey_fields.field(key).unit.split(" / ")[0]
        if answer_unit != unit:
            raise RuleProblem(f"{where}: {key!r} is answered in {answer_unit!r}, not {unit!r}",
                              floc + (assigned("unit"),))
        if not isinstance(fuel.get("modern_renewable"), bool):
            raise RuleProblem(f"{where} must say modern_renewable = true or false",
                              floc + (assigned("key"),))

        def fuel_ref(name: str, factor_unit: str, optional: bool = False) -> float:
            if optional and name not in fuel:
                return 0.0
            return _factor_value(factors, fuel.get(name), factor_unit, f"{where} {name}",
                                 floc + (assigned(name),))

        fuels.append(FuelMethod(
            key=key, carrier=text_field(fuel, "carrier", where, floc), unit=unit,
            heating_value_mj=fuel_ref("heating_value", f"MJ/{unit}"),
            kgce=fuel_ref("kgce", f"kgce/{unit}"),
            fossil_co2_kg=fuel_ref("fossil_co2", f"kg CO2/{unit}", optional=True),
            ch4_kg_per_tj=fuel_ref("ch4", "kg/TJ", optional=True),
            n2o_kg_per_tj=fuel_ref("n2o", "kg/TJ", optional=True),
            biogenic_co2_kg_per_tj=fuel_ref("biogenic_co2", "kg/TJ", optional=True),
            modern_renewable=fuel["modern_renewable"]))

    tariff = ref("tariff", "yuan/kWh")
    if tariff <= 0:
        raise RuleProblem("the tariff must be greater than 0", loc + (assigned("tariff"),))
    return CarbonMethod(
        grid_factor_id=spec.get("grid_factor"),
        grid_kgco2_per_kwh=ref("grid_factor", "kg CO2/kWh"),
        tariff_yuan_per_kwh=tariff,
        pv_yield_kwh_per_kwp=ref("pv_yield", "kWh/kWp/year"),
        electricity_kgce_per_kwh=ref("electricity_kgce", "kgce/kWh"),
        gwp_ch4=ref("gwp_ch4", "kg CO2e/kg"),
        gwp_n2o=ref("gwp_n2o", "kg CO2e/kg"),
        pv_self_use_share={m: float(s) for m, s in shares.items()},
        pv_mode_when_unanswered=fallback,
        fuels=tuple(fuels),
    )


def _numbers(table, name, where, loc, length: int | None = None) -> tuple[float, ...]:
    values = table.get(name)
    if (not isinstance(values, list) or not values or not all(is_number(v) for v in values)
            or values != sorted(values) or (length is not None and len(values) != length)):
        size = f"{length} " if length else ""
        raise RuleProblem(f"{name!r} in {where} must be {size}ascending numbers",
                          loc + (assigned(name),))
    return tuple(float(v) for v in values)


def _mtf(data) -> MtfMethod:
    spec = _table(data, "mtf", ())
    loc = (table_header("mtf"),)
    check_fields(spec, {"source", "year", "not_surveyed", "daily_hours_min", "evening_hours_min",
                        "reliability_free_up_to_tier", "voltage_damage_max_tier", "reliability"},
                 "[mtf]", loc)
    daily = _numbers(spec, "daily_hours_min", "[mtf]", loc)
    evening = _numbers(spec, "evening_hours_min", "[mtf]", loc, length=len(daily))
    top = len(daily)

    def tier(table, name, where, tloc) -> int:
        value = table.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise RuleProblem(f"{name!r} in {where} must be a tier from 0 to {top}",
                              tloc + (assigned(name),))
        return value

    rules = []
    header = r"^\s*\[\[\s*mtf\.reliability\s*\]\]"
    for n, rule in enumerate(_array(spec, "reliability", "[mtf]", loc)):
        rloc = ((header, n),)
        where = f"reliability rule {n + 1} of [mtf]"
        check_fields(rule, {"tier", "outages_per_week_at_most", "outage_hours_per_week_below"},
                     where, rloc)
        below = rule.get("outage_hours_per_week_below")
        rules.append(ReliabilityTier(
            tier(rule, "tier", where, rloc),
            number_field(rule, "outages_per_week_at_most", where, rloc, minimum=0),
            None if below is None else number_field(rule, "outage_hours_per_week_below", where,
                                                    rloc, minimum=0)))
    rules.sort(key=lambda r: -r.tier)
    not_surveyed = spec.get("not_surveyed", [])
    if not isinstance(not_surveyed, list) or not all(isinstance(s, str) for s in not_surveyed):
        raise RuleProblem("not_surveyed in [mtf] must list attribute names",
                          loc + (assigned("not_surveyed"),))
    year = spec.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise RuleProblem("[mtf] needs the year of its source", loc + (assigned("year"),))
    return MtfMethod(daily, evening, tuple(rules),
                     tier(spec, "reliability_free_up_to_tier", "[mtf]", loc),
                     tier(spec, "voltage_damage_max_tier", "[mtf]", loc), tuple(not_surveyed),
                     text_field(spec, "source", "[mtf]", loc), year)


def _village(data, compiler) -> VillageRules:
    spec = _table(data, "village", ())
    loc = (table_header("village"),)
    check_fields(spec, {"min_approved_surveys", "min_coverage", "grades", "indicators"},
                 "[village]", loc)
    minimum = spec.get("min_approved_surveys")
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
        raise RuleProblem("min_approved_surveys must be a whole number ≥ 1",
                          loc + (assigned("min_approved_surveys"),))
    coverage = number_field(spec, "min_coverage", "[village]", loc, minimum=0)

    grades = []
    gheader = r"^\s*\[\[\s*village\.grades\s*\]\]"
    for n, g in enumerate(_array(spec, "grades", "[village]", loc)):
        gloc = ((gheader, n),)
        check_fields(g, {"code", "zh", "en", "min_score"}, f"grade {n + 1}", gloc)
        grades.append(Grade(text_field(g, "code", f"grade {n + 1}", gloc),
                            text_field(g, "zh", f"grade {n + 1}", gloc),
                            text_field(g, "en", f"grade {n + 1}", gloc),
                            number_field(g, "min_score", f"grade {n + 1}", gloc, minimum=0)))
    if [g.min_score for g in grades] != sorted((g.min_score for g in grades), reverse=True):
        raise RuleProblem("grades must be listed from the highest min_score down", ((gheader, 0),))
    if grades[-1].min_score != 0:
        raise RuleProblem("the lowest grade must start at min_score = 0 so every score has one",
                          ((gheader, len(grades) - 1),))

    indicators = []
    iheader = r"^\s*\[\[\s*village\.indicators\s*\]\]"
    slot = 0
    for n, ind in enumerate(_array(spec, "indicators", "[village]", loc)):
        iloc = ((iheader, n),)
        check_fields(ind, {"id", "label_en", "label_zh", "kind", "when", "numerator",
                           "denominator", "direction", "weight", "target", "breakdown"},
                     "an indicator", iloc)
        iid = text_field(ind, "id", "an indicator", iloc)
        where = f"indicator {iid}"
        kind = ind.get("kind")
        if "breakdown" in ind and kind != "rate":
            raise RuleProblem(f"only a rate has a breakdown, and {where} is not one",
                              iloc + (assigned("breakdown"),))
        direction = ind.get("direction", "higher_better")
        if direction not in ("higher_better", "lower_better"):
            raise RuleProblem(f"direction of {where} must be higher_better or lower_better",
                              iloc + (assigned("direction"),))
        common = dict(id=iid, label_en=text_field(ind, "label_en", where, iloc),
                      label_zh=text_field(ind, "label_zh", where, iloc), kind=kind,
                      weight=_positive(ind, "weight", where, iloc),
                      target=_positive(ind, "target", where, iloc), direction=direction)
        if kind == "rate":
            if "when" not in ind:
                raise RuleProblem(f"{where} of kind rate needs 'when'", iloc)
            condition = compiler.compile(ind["when"], where, iloc)
            key = ind.get("breakdown")
            if key is None:
                indicators.append(Indicator(**common, slot=slot, condition=condition))
                slot += 1
                continue
            if (not isinstance(key, str) or not survey_fields.is_known_key(key)
                    or survey_fields.field(key).type != "code"):
                raise RuleProblem(f"breakdown of {where} must name a code answer, not {key!r}",
                                  iloc + (assigned("breakdown"),))
            codes = tuple(survey_fields.codes_of(key))
            indicators.append(Indicator(**common, slot=slot, condition=condition, breakdown=key,
                                        breakdown_codes=codes, breakdown_slot=slot + 1))
            slot += 1 + len(codes)
        elif kind == "ratio":
            for name in ("numerator", "denominator"):
                measure = ind.get(name)
                if not isinstance(measure, str) or measure not in MEASURES:
                    raise RuleProblem(f"unknown derived measure {measure!r} as {name} of {where}",
                                      iloc + (assigned(name),))
                if MEASURES[measure].type != "number":
                    raise RuleProblem(f"{name} of {where} must be a number measure",
                                      iloc + (assigned(name),))
            indicators.append(Indicator(**common, slot=slot, numerator=ind["numerator"],
                                        denominator=ind["denominator"]))
            slot += 2
        elif kind == "coverage":
            indicators.append(Indicator(**common))
        else:
            raise RuleProblem(f"unknown kind {kind!r} of {where} (rate, ratio, coverage)",
                              iloc + (assigned("kind"),))
    _unique([i.id for i in indicators], "indicator", lambda i: ((iheader, 0),))
    weights = sum(i.weight for i in indicators)
    if abs(weights - INDICATOR_WEIGHT_TOTAL) > _POINTS_TOLERANCE:
        raise RuleProblem(f"the weights of the village indicators add up to {weights:g}, not "
                          f"{INDICATOR_WEIGHT_TOTAL}", ((iheader, 0),))
    return VillageRules(minimum, coverage, tuple(grades), tuple(indicators), slot)


def _sums_function(indicators: tuple[Indicator, ...], code: RuleCode) -> Callable:
    """A farmhouse's figures for the village sums, in indicator slot order: a rate's 0 or 1,
    a ratio's numerator and denominator (both 0 when either measure is missing); after a rate
    with a breakdown, its 0 or 1 for each code of the breakdown's answer."""
    exprs = []
    for ind in indicators:
        if ind.kind == "rate":
            exprs.append(f"(1 if {ind.condition.expr} else 0)")
            for answer in ind.breakdown_codes:
                exprs.append(f"(1 if {ind.condition.expr} and {getter('key', ind.breakdown)} "
                             f"== {answer!r} else 0)")
        elif ind.kind == "ratio":
            num, den = getter("measure", ind.numerator), getter("measure", ind.denominator)
            exprs.append(f"(0 if {den} is None or (_v := {num}) is None else _v)")
            exprs.append(f"(0 if {num} is None or (_v := {den}) is None else _v)")
    return _tuple_function(exprs, code)
