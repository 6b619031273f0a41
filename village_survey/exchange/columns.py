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
from village_survey.field_labels import CODE_LABELS, FIELD_LABELS, STATUS_LABELS, N_


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


MASK_MARK = "*"
MASKED_REASON = N_("This value is masked (an export without personal data): import an export made with full "
                   "personal data instead.")


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
        if col.mask in ("name", "phone") and isinstance(cell, str) and MASK_MARK in cell:
            # a masked export read back would overwrite the registry's names with "王**"
            errors.append(CellError(key, cell, MASKED_REASON))
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
