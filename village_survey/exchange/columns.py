"""The columns of the survey exchange files (XLSX, CSV), shared by exports and imports.

Plain Python: the answer columns come from `survey_fields` in the form's order, each with its
label, unit and code labels as English msgids (the same msgids as surveys/labels.py, so the
catalogs already translate them; a test keeps the two in step). Around the answers sit the columns
that name the survey and its place (before) and its review and farmhouse result (after).

Translation happens at the edge: functions that write or read labels take `translate`, a
gettext-like callable (msgid → text), or several of them for reading (Chinese and English).

    value → cell:  to_cell(column, value, labels=False, translate=str)
    cell → value:  from_cell(column, cell, translators=())   raises CellError
    masking:       mask(column, value)
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from village_survey import survey_fields


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; translated where it is shown."""
    return msgid


Translate = Callable[[str], str]

# Cell types: the answer types of survey_fields, and "datetime" for the review's times.
CELL_TYPES = survey_fields.TYPES + ("datetime",)
NUMBER_TYPES = frozenset({"int", "decimal", "year"})

# Where a column's value comes from (the exporter fills a row from these).
SOURCES = ("survey", "area", "answer", "review", "result")

# How a personal column is masked when personal data is not asked for (or not allowed):
# "name" keeps the first character, "phone" the first three and last two digits, "gps" rounds to
# two decimals (about a kilometre), "digits" hides runs of digits in free text (phone and ID-card
# numbers written into notes).
MASKS = ("name", "phone", "gps", "digits")
GPS_MASKED_DECIMALS = 2


@dataclass(frozen=True)
class Column:
    """One column of a survey exchange file."""

    key: str  # the second header row; an answer key for answer columns
    label: str  # English msgid
    type: str  # one of CELL_TYPES
    source: str  # one of SOURCES
    unit: str = ""  # English msgid of the unit (surveys/labels.py UNIT_LABELS), "" for none
    codes: tuple[tuple[str, str], ...] = ()  # (code, English msgid of its label), in the form's order
    personal: bool = False  # personal data: masked unless asked for by a user who may see it
    mask: str | None = None  # how it is masked (MASKS); None: never masked

    @property
    def code_values(self) -> tuple[str, ...]:
        return tuple(code for code, _label in self.codes)

    def code_label(self, code: str) -> str | None:
        """The English msgid of a code's label, or None for an unknown code."""
        return dict(self.codes).get(code)


# ---------------------------------------------------------------- labels (msgids)

FIELD_LABELS: Mapping[str, str] = {
    "house_number": N_("House number"),
    "head_name": N_("Name of the household head"),
    "phone": N_("Phone"),
    "residents": N_("Permanent residents"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "gps_accuracy_m": N_("GPS accuracy"),
    "survey_date": N_("Survey date"),
    "year_built": N_("Year built"),
    "storeys": N_("Storeys"),
    "floor_area_m2": N_("Floor area"),
    "structure": N_("Structure"),
    "safety_appraisal": N_("Safety appraisal"),
    "visible_danger": N_("Visible structural danger"),
    "roof_insulation": N_("Roof insulation"),
    "wall_insulation": N_("External wall insulation"),
    "efficient_windows": N_("Energy-saving windows (double glazing or thermal-break frames)"),
    "shading": N_("External shading or deep eaves"),
    "energy_design": N_("Designed to the rural energy-saving standard GB/T 50824"),
    "green_materials": N_("Green or local materials used"),
    "retrofit_year": N_("Year of the last energy retrofit"),
    "electricity_kwh": N_("Electricity from the bills"),
    "electricity_bill_yuan_month": N_("Or the average monthly electricity bill"),
    "lpg_kg": N_("Bottled LPG"),
    "piped_gas_m3": N_("Piped gas"),
    "coal_kg": N_("Coal"),
    "firewood_kg": N_("Firewood"),
    "straw_kg": N_("Straw"),
    "biogas_m3": N_("Biogas"),
    "biogas_digester": N_("Biogas digester"),
    "primary_stove": N_("Primary stove"),
    "secondary_stove": N_("Secondary stove"),
    "stove_chimney": N_("The wood or coal stove has a chimney"),
    "heating": N_("Space heating"),
    "hot_water": N_("Hot water"),
    "ac_label_grade": N_("Air conditioner energy label grade"),
    "lamps_led": N_("LED lamps"),
    "lamps_cfl": N_("Fluorescent or energy-saving (CFL) lamps"),
    "lamps_incandescent": N_("Incandescent lamps"),
    "grid_connected": N_("Connected to the grid"),
    "supply_hours": N_("Hours of electricity a day"),
    "evening_hours": N_("Hours of electricity in the evening"),
    "outages_per_week": N_("Outages a week"),
    "outage_hours_per_week": N_("Total outage hours a week"),
    "voltage_damage": N_("Appliances damaged by voltage"),
    "electric_vehicle": N_("Electric car"),
    "electric_bike": N_("Electric bike or scooter"),
    "electric_farm_machinery": N_("Electric farm machinery"),
    "smart_meter": N_("Smart meter"),
    "pv_installed": N_("Solar PV installed"),
    "pv_kwp": N_("PV capacity"),
    "pv_year": N_("Year the PV was installed"),
    "pv_location": N_("Where the PV is"),
    "pv_mode": N_("How the PV power is used"),
    "pv_generation_kwh": N_("PV generation (empty: estimated)"),
    "battery_kwh": N_("Battery storage"),
    "notes": N_("Notes"),
}

_STOVES = {
    "traditional_wood": N_("Traditional firewood stove"),
    "improved_wood": N_("Improved firewood stove with chimney"),
    "coal": N_("Coal stove"),
    "lpg": N_("LPG"),
    "piped_gas": N_("Piped gas"),
    "biogas": N_("Biogas"),
    "electric": N_("Electric or induction"),
    "solar": N_("Solar cooker"),
    "none": N_("None"),
}

CODE_LABELS: Mapping[str, Mapping[str, str]] = {
    "structure": {
        "brick_concrete": N_("Brick and concrete"), "frame": N_("Concrete frame"),
        "prefab_steel": N_("Prefabricated steel"), "light_steel": N_("Light steel"),
        "timber": N_("Timber"), "earth": N_("Earth or adobe"), "stone": N_("Stone"), "other": N_("Other"),
    },
    "safety_appraisal": {"A": "A", "B": "B", "C": "C", "D": "D", "none": N_("Not appraised")},
    "energy_design": {"yes": N_("Yes"), "no": N_("No"), "unknown": N_("Unknown")},
    "biogas_digester": {"none": N_("None"), "working": N_("Working"), "broken": N_("Broken")},
    "primary_stove": _STOVES,
    "secondary_stove": _STOVES,
    "heating": {
        "none": N_("None"), "heat_pump_ac": N_("Heat-pump air conditioner"),
        "air_source_heat_pump": N_("Air-source heat pump"), "electric_heater": N_("Electric heater"),
        "biomass": N_("Biomass stove or boiler"), "coal_brazier": N_("Coal or charcoal brazier"),
    },
    "hot_water": {
        "none": N_("None"), "solar_thermal": N_("Solar water heater"), "heat_pump": N_("Air-source heat pump"),
        "electric": N_("Electric"), "gas": N_("Gas"), "firewood": N_("Firewood"),
    },
    "ac_label_grade": {
        "1": N_("Grade 1"), "2": N_("Grade 2"), "3": N_("Grade 3"), "4": N_("Grade 4"), "5": N_("Grade 5"),
        "no_ac": N_("No air conditioner"), "unknown": N_("Unknown"),
    },
    "pv_location": {"roof": N_("Roof"), "courtyard": N_("Courtyard"), "farm_building": N_("Farm building")},
    "pv_mode": {
        "self_use_surplus": N_("Self-use, surplus to the grid"), "all_to_grid": N_("All to the grid"),
        "off_grid": N_("Off-grid"),
    },
}

STATUS_LABELS: Mapping[str, str] = {
    "draft": N_("Draft"), "submitted": N_("Submitted"), "approved": N_("Approved"), "returned": N_("Returned"),
}

# Booleans as labels: 是 / 否 in Chinese.
YES, NO = N_("Yes"), N_("No")
# Booleans as codes.
TRUE_CODE, FALSE_CODE = "true", "false"

_MASKS_BY_KEY = {"head_name": "name", "phone": "phone", "latitude": "gps", "longitude": "gps",
                 "notes": "digits"}
# Personal beyond survey_fields' own flag: GPS to full precision finds the house.
_PERSONAL_KEYS = survey_fields.PERSONAL_KEYS | {"latitude", "longitude"}


def _answer_column(f: survey_fields.SurveyField) -> Column:
    codes = tuple((code, CODE_LABELS[f.key][code]) for code in f.codes) if f.codes else ()
    mask = _MASKS_BY_KEY.get(f.key)
    return Column(key=f.key, label=FIELD_LABELS[f.key], type=f.type, source="answer", unit=f.unit,
                  codes=codes, personal=f.key in _PERSONAL_KEYS or mask == "digits", mask=mask)


LEADING_COLUMNS: tuple[Column, ...] = (
    Column("survey_uuid", N_("Survey ID"), "text", "survey"),
    Column("year", N_("Survey year"), "year", "survey"),
    Column("county_code", N_("County code"), "text", "area"),
    Column("county_name", N_("County"), "text", "area"),
    Column("township_code", N_("Township code"), "text", "area"),
    Column("township_name", N_("Township"), "text", "area"),
    Column("village_code", N_("Village code"), "text", "area"),
    Column("village_name", N_("Village"), "text", "area"),
    Column("household_id", N_("Household ID"), "int", "area"),
)

ANSWER_COLUMNS: tuple[Column, ...] = tuple(_answer_column(survey_fields.field(k)) for k in survey_fields.FIELD_KEYS)

REVIEW_COLUMNS: tuple[Column, ...] = (
    Column("status", N_("Status"), "code", "review", codes=tuple(STATUS_LABELS.items())),
    Column("surveyor", N_("Surveyor"), "text", "review"),
    Column("reviewer", N_("Reviewer"), "text", "review"),
    Column("created_at", N_("Created at"), "datetime", "review"),
    Column("submitted_at", N_("Submitted at"), "datetime", "review"),
    Column("reviewed_at", N_("Reviewed at"), "datetime", "review"),
    Column("updated_at", N_("Last changed at"), "datetime", "review"),
)

RESULT_COLUMNS: tuple[Column, ...] = (
    Column("farmhouse_score", N_("Farmhouse score"), "decimal", "result", unit=N_("points")),
    Column("stars", N_("Stars"), "int", "result"),
    Column("zero_carbon", N_("Zero-carbon farmhouse"), "bool", "result"),
    Column("net_tco2e", N_("Net CO2e"), "decimal", "result", unit=N_("t CO2e / 12 months")),
)

SURVEY_COLUMNS: tuple[Column, ...] = LEADING_COLUMNS + ANSWER_COLUMNS + REVIEW_COLUMNS + RESULT_COLUMNS
COLUMNS: Mapping[str, Column] = {c.key: c for c in SURVEY_COLUMNS}
# What an import may write: the place of the survey and its answers (the rest is the app's).
IMPORT_KEYS: tuple[str, ...] = tuple(c.key for c in LEADING_COLUMNS + ANSWER_COLUMNS)


def column(key: str) -> Column:
    try:
        return COLUMNS[key]
    except KeyError:
        raise KeyError(f"unknown exchange column {key!r}") from None


# ---------------------------------------------------------------- headers


def header(col: Column, translate: Translate = str, with_unit: str = "{label} ({unit})") -> str:
    """The first header row's text: the translated label, with its translated unit if it has one
    (`with_unit` is the translated pattern, "{label}（{unit}）" in Chinese)."""
    label = translate(col.label)
    if not col.unit:
        return label
    return with_unit.format(label=label, unit=translate(col.unit))


def _normal(text: str) -> str:
    """How header and label spellings are compared: case, spaces, full-width brackets ignored."""
    text = text.strip().casefold().replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", " ", text)


def find_column(text: Any, translators: Sequence[Translate] = (),
                columns: Iterable[Column] = SURVEY_COLUMNS,
                with_units: Sequence[str] = ("{label} ({unit})", "{label}（{unit}）")) -> Column | None:
    """The column a header cell names: its key, or its label (with or without the unit) in
    English or in any language of `translators`; None if it names none."""
    if not isinstance(text, str) or not text.strip():
        return None
    wanted = _normal(text)
    for col in columns:
        if wanted == col.key.casefold():
            return col
    for translate in (str, *translators):
        for col in columns:
            if wanted == _normal(translate(col.label)):
                return col
            if col.unit and any(wanted == _normal(header(col, translate, fmt)) for fmt in with_units):
                return col
    return None


# ---------------------------------------------------------------- value → cell


def to_cell(col: Column, value: Any, labels: bool = False, translate: Translate = str) -> Any:
    """A stored value as a spreadsheet cell: codes (or translated labels), booleans as "true" /
    "false" (or 是 / 否), numbers as numbers, dates as dates; None for no answer.

    A value that is not of the column's type (an answer saved by an older form) is written as
    it is, as text, rather than lost."""
    if value is None or value == "":
        return None
    kind = col.type
    if kind == "bool":
        if isinstance(value, bool):
            if labels:
                return translate(YES if value else NO)
            return TRUE_CODE if value else FALSE_CODE
        return str(value)
    if kind == "code":
        code = str(value)
        if labels:
            label = col.code_label(code)
            return translate(label) if label is not None else code
        return code
    if kind in NUMBER_TYPES:
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, (int, float)):
            return value if not isinstance(value, float) or math.isfinite(value) else None
        if isinstance(value, Decimal):
            return int(value) if kind != "decimal" else float(value)
        return _number_or_text(str(value), kind)
    if kind == "date":
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        try:
            return _dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if kind == "datetime":
        if isinstance(value, _dt.datetime):
            return value.replace(tzinfo=None, microsecond=0)
        return str(value)
    return str(value)


def _number_or_text(text: str, kind: str) -> Any:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if kind != "decimal" or number == number.to_integral_value():
        return int(number)
    return float(number)


# ---------------------------------------------------------------- masking


def _mask_name(text: str) -> str:
    text = text.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


def _mask_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


# Runs of 7 or more digits (landlines, mobiles, ID-card numbers with their final X).
_DIGIT_RUN = re.compile(r"\d{7,}[\dXx]*")


def mask_digits(text: str) -> str:
    """Free text with every long run of digits hidden but its first three."""
    return _DIGIT_RUN.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 3), text)


def mask(col: Column, value: Any) -> Any:
    """The value as shown to someone who may not (or did not ask to) see personal data."""
    if value is None or value == "" or col.mask is None:
        return value
    if col.mask == "gps":
        try:
            return round(float(value), GPS_MASKED_DECIMALS)
        except (TypeError, ValueError):
            return None
    text = str(value)
    if col.mask == "name":
        return _mask_name(text)
    if col.mask == "phone":
        return _mask_phone(text)
    return mask_digits(text)


# ---------------------------------------------------------------- spreadsheet safety

# A text cell starting with one of these is a formula (or becomes one) when a spreadsheet opens
# it as CSV or when someone edits the cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def looks_like_formula(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def quoted(text: str) -> str:
    """Text for a CSV cell that Excel shows as written and never evaluates (OWASP's advice:
    an apostrophe before a leading =, +, -, @, tab or carriage return)."""
    return QUOTE + text if looks_like_formula(text) else text


def unquoted(text: str) -> str:
    """The text `quoted` was given (reading back our own CSV)."""
    if text.startswith(QUOTE) and looks_like_formula(text[1:]):
        return text[1:]
    return text


# ---------------------------------------------------------------- cell → value


class CellError(ValueError):
    """A cell that cannot be the column's value; `reason` is an English msgid with %(…)s
    placeholders filled from `params` (translated by whoever shows it)."""

    def __init__(self, key: str, cell: Any, reason: str, **params: Any):
        super().__init__(f"{key}: {cell!r}: {reason % params if params else reason}")
        self.key = key
        self.cell = cell
        self.reason = reason
        self.params = params


_TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "有", "对", "√", "✓"})
_FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "无", "没有", "×", "✗"})
EXCEL_EPOCH = _dt.date(1899, 12, 30)
_DATE_PATTERN = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


@lru_cache(maxsize=256)
def _spellings(col: Column, translators: tuple) -> dict[str, Any]:
    """Every accepted spelling of a code (or boolean) column's values, normalized → value."""
    found: dict[str, Any] = {}
    if col.type == "bool":
        for translate in (str, *translators):
            found.setdefault(_normal(translate(YES)), True)
            found.setdefault(_normal(translate(NO)), False)
        return found
    for code, _label in col.codes:
        found[_normal(code)] = code
    for translate in (str, *translators):
        for code, label in col.codes:
            found.setdefault(_normal(translate(label)), code)
    return found


def from_cell(col: Column, cell: Any, translators: Sequence[Translate] = ()) -> Any:
    """A spreadsheet cell as the column's typed value (None when empty).

    Codes are accepted as codes or as their labels in English or in the language of any of
    `translators`; booleans as true/false, yes/no, 1/0, 是/否 or their translated labels;
    numbers as numbers or number text; dates as dates, ISO text, 2026/5/1, 2026年5月1日 or
    an Excel day number. Raises CellError naming the column for anything else."""
    if isinstance(cell, str):
        cell = unquoted(cell.strip()) if col.type == "text" else cell.strip()
        if cell == "":
            return None
    if cell is None:
        return None
    kind = col.type
    if kind == "text":
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        return cell.isoformat() if isinstance(cell, _dt.date) else str(cell)
    if kind == "bool":
        return _bool_from_cell(col, cell, tuple(translators))
    if kind == "code":
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        value = _spellings(col, tuple(translators)).get(_normal(str(cell)))
        if value is None:
            raise CellError(col.key, cell, N_("%(value)s is not one of the codes of this column."), value=str(cell))
        return value
    if kind in NUMBER_TYPES:
        return _number_from_cell(col, cell)
    if kind == "date":
        return _date_from_cell(col, cell).isoformat()
    if kind == "datetime":
        if isinstance(cell, _dt.datetime):
            return cell
        try:
            return _dt.datetime.fromisoformat(str(cell))
        except ValueError:
            raise CellError(col.key, cell, N_("Expected a date and time.")) from None
    raise ValueError(f"unknown cell type {kind!r}")


def _bool_from_cell(col: Column, cell: Any, translators: tuple) -> bool:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return cell == 1
    word = _normal(str(cell))
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    value = _spellings(col, translators).get(word)
    if value is None:
        raise CellError(col.key, cell, N_("Expected yes or no."))
    return value


def _number_from_cell(col: Column, cell: Any) -> int | float:
    if isinstance(cell, bool):
        raise CellError(col.key, cell, N_("Expected a number."))
    if isinstance(cell, (int, float, Decimal)):
        number = Decimal(str(cell)) if isinstance(cell, float) else Decimal(cell)
    else:
        text = str(cell).replace(",", "").replace("，", "").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(col.key, cell, N_("Expected a number.")) from None
    if not number.is_finite():
        raise CellError(col.key, cell, N_("Expected a number."))
    if col.type == "decimal":
        return int(number) if number == number.to_integral_value() and abs(number) < 2**53 else float(number)
    if number != number.to_integral_value():
        raise CellError(col.key, cell, N_("Expected a whole number."))
    return int(number)


def _date_from_cell(col: Column, cell: Any) -> _dt.date:
    if isinstance(cell, _dt.datetime):
        return cell.date()
    if isinstance(cell, _dt.date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool) and 1 <= cell < 2958466:
        return EXCEL_EPOCH + _dt.timedelta(days=int(cell))
    match = _DATE_PATTERN.match(str(cell))
    if match:
        try:
            return _dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(col.key, cell, N_("Expected a date such as 2026-05-01."))


def row_from_cells(cells: Mapping[str, Any], translators: Sequence[Translate] = (),
                   columns: Mapping[str, Column] = COLUMNS) -> tuple[dict[str, Any], list[CellError]]:
    """The typed values of a row given as {column key: cell}, and the errors of the cells that
    could not be read (their keys left out of the values)."""
    values: dict[str, Any] = {}
    errors: list[CellError] = []
    for key, cell in cells.items():
        col = columns.get(key)
        if col is None:
            continue
        try:
            values[key] = from_cell(col, cell, translators)
        except CellError as error:
            errors.append(error)
    return values, errors


# ---------------------------------------------------------------- translations without Flask


def catalog_translators(directory: str, locales: Sequence[str] = ("zh_Hans_CN", "en")) -> tuple[Translate, ...]:
    """gettext functions of the app's catalogs (translations/), for reading labels outside a
    request (the command line, a background job)."""
    from babel.support import Translations  # Babel only: no Flask

    return tuple(Translations.load(directory, [locale]).gettext for locale in locales)
