"""File writers of the exports: XLSX (XlsxWriter, constant memory), CSV (UTF-8 with a BOM) and
GeoJSON, from rows of plain cell values (str, int, float, date, datetime or None).

Plain Python: no Flask, no database. Rows are consumed as they come, so that a county's 50,000
surveys never sit in memory: the XLSX is written row by row to a file, CSV and GeoJSON are
yielded in chunks of bytes for a streaming response.

Text that a spreadsheet would take for a formula (starting with =, +, -, @, tab or carriage
return) is never evaluated: in XLSX it is a string cell with Excel's quote prefix (shown as
typed, and still text when edited); in CSV it gets a leading apostrophe (columns.quoted).
Numbers stay numbers, negative ones too.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence

from village_survey.exchange.columns import FORMULA_STARTS, QUOTE, looks_like_formula, quoted

BOM = "\ufeff"
CHUNK_ROWS = 500  # CSV rows and GeoJSON features per chunk yielded
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 6, 40
# Sheet names may not hold these, and at most 31 characters (Excel's rules).
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})

Progress = Callable[[int], None]  # called with the number of rows written since the last call


@dataclass
class SheetColumn:
    """How a column is laid out: its type (columns.CELL_TYPES, or "percent") decides the number
    format; `width` in characters (None: from the headers); `number_format` overrides."""

    type: str = "text"
    width: float | None = None
    number_format: str | None = None


@dataclass
class Sheet:
    name: str
    header_rows: Sequence[Sequence[Any]]  # the last one gets the autofilter
    columns: Sequence[SheetColumn]
    rows: Iterable[Sequence[Any]]
    freeze_columns: int = 0
    autofilter: bool = True
    wrap_columns: Sequence[int] = field(default_factory=tuple)  # long texts (the column sheet)


def display_width(text: Any) -> float:
    """Roughly how many character widths a text takes in a spreadsheet (CJK counts double)."""
    text = "" if text is None else str(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


_NUMBER_FORMATS = {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "percent": "0.0%",
                   "int": "0", "year": "0"}


def sheet_name(name: str) -> str:
    return name.translate(_SHEET_FORBIDDEN)[:31] or "Sheet"


def write_xlsx(target: Any, sheets: Iterable[Sheet], progress: Progress | None = None) -> int:
    """Write sheets to `target` (a path or a binary file object); the rows written in all."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False,
                                            "remove_timezone": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "text_wrap": True, "valign": "top"})
    key_header = workbook.add_format({"italic": True, "font_color": "#555555", "bg_color": "#F3F5F7"})
    text_quoted = workbook.add_format({"quote_prefix": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats: dict[str, Any] = {}

    def number_format(fmt: str | None):
        if fmt is None:
            return None
        if fmt not in formats:
            formats[fmt] = workbook.add_format({"num_format": fmt})
        return formats[fmt]

    written = 0
    try:
        for sheet in sheets:
            written += _write_sheet(workbook, sheet, header, key_header, text_quoted, wrap, number_format,
                                    progress)
    finally:
        workbook.close()
    return written


def _write_sheet(workbook, sheet: Sheet, header, key_header, text_quoted, wrap, number_format,
                 progress: Progress | None) -> int:
    ws = workbook.add_worksheet(sheet_name(sheet.name))
    ncols = len(sheet.columns)
    header_rows = [list(row) for row in sheet.header_rows]
    cell_formats = []
    for c, col in enumerate(sheet.columns):
        width = col.width
        if width is None:
            width = max((display_width(row[c]) for row in header_rows if c < len(row)), default=8) + 2
            if col.type == "datetime":
                width = max(width, 17)
            elif col.type == "date":
                width = max(width, 11)
        fmt = number_format(col.number_format or _NUMBER_FORMATS.get(col.type))
        cell_formats.append(fmt)
        ws.set_column(c, c, min(max(width, MIN_WIDTH), MAX_WIDTH), wrap if c in sheet.wrap_columns else None)
    for r, row in enumerate(header_rows):
        fmt = header if r == 0 else key_header
        for c, text in enumerate(row):
            if text is not None:
                ws.write_string(r, c, str(text), fmt)
    first = len(header_rows)
    date_format = number_format(DATE_FORMAT)
    text_formats = [wrap if c in sheet.wrap_columns else None for c in range(ncols)]
    fast = _FastRows.for_sheet(ws, first, ncols, cell_formats, text_formats, text_quoted, date_format)
    write_row = fast.write if fast is not None else \
        partial(_write_row, ws, cell_formats, text_formats, text_quoted, date_format)
    r = first
    pending = 0
    for row in sheet.rows:
        write_row(r, row)
        r += 1
        pending += 1
        if progress is not None and pending >= CHUNK_ROWS:
            progress(pending)
            pending = 0
    if fast is not None:
        fast.finish(r - 1)
    if progress is not None and pending:
        progress(pending)
    if first:
        ws.freeze_panes(first, sheet.freeze_columns)
    if sheet.autofilter and ncols:
        ws.autofilter(first - 1 if first else 0, 0, max(r - 1, first - 1 if first else 0), ncols - 1)
    return r - first


def _write_row(ws, cell_formats, text_formats, text_quoted, date_format, r, row) -> None:
    """One row through XlsxWriter's public calls (what _FastRows writes faster, byte for byte)."""
    for c, value in enumerate(row):
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            ws.write_string(r, c, value, text_quoted if looks_like_formula(value) else text_formats[c])
        elif kind is int or kind is float:
            if kind is float and not math.isfinite(value):
                continue
            ws.write_number(r, c, value, cell_formats[c])
        elif kind is _dt.datetime or kind is _dt.date:
            value = value if kind is _dt.datetime else _dt.datetime(value.year, value.month, value.day)
            ws.write_datetime(r, c, value, cell_formats[c] or date_format)
        elif kind is bool:
            ws.write_boolean(r, c, value)
        else:
            ws.write_string(r, c, str(value), text_formats[c])


# Strings that XlsxWriter changes before writing them (XML escapes, control characters, Excel's
# own _xHHHH_ escapes, whitespace kept at either end): _FastRows hands those to XlsxWriter's
# functions; every other string is written as it is.
_STRING_NEEDS_CARE = re.compile(r"[&<>\x00-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_EXCEL_EPOCH = _dt.datetime(1899, 12, 31)
_LEADING_OR_TRAILING_SPACE = re.compile(r"^\s|\s$")


class _FastRows:
    """The data rows of a large sheet written straight into XlsxWriter's row file.

    XlsxWriter spends ~8 µs a cell in its public calls (a county's 50,000 surveys are 3 million
    cells: 25 s); this writes the very XML its constant-memory mode writes (inline strings,
    numbers, dates as serial numbers, the formats' style indexes) at about a tenth of that, and
    leaves XlsxWriter the rest of the workbook (styles, headers, panes, filter, widths, other
    sheets). It relies on a few of XlsxWriter's internals, checked before use (None: write the
    rows through the public calls); tests/exchange/test_export_writers.py compares both outputs
    byte for byte.
    """

    def __init__(self, ws, refs, number_attrs, text_attrs, quoted_attr, date_attrs):
        self.ws = ws
        self.fh = ws.fh
        self.refs = refs
        self.number_attrs = number_attrs
        self.text_attrs = text_attrs
        self.quoted_attr = quoted_attr
        self.date_attrs = date_attrs
        self.last_col = -1

    @classmethod
    def for_sheet(cls, ws, first_row, ncols, cell_formats, text_formats, text_quoted, date_format):
        needed = ("fh", "row_data_fh", "previous_row", "table", "col_info", "_write_single_row",
                  "_check_dimensions", "_escape_control_characters", "_escape_data")
        if not getattr(ws, "constant_memory", False) or not all(hasattr(ws, name) for name in needed) \
                or ws.fh is not ws.row_data_fh or ncols == 0:
            return None
        formats = [f for f in (*cell_formats, *text_formats, text_quoted, date_format) if f is not None]
        if not all(hasattr(f, "_get_xf_index") for f in formats):
            return None
        if getattr(ws, "row_info", None) or getattr(ws, "comments", None):
            return None  # rows of their own height or with comments: not what this writes

        def attr(fmt, c):
            if fmt is None:
                # a cell without a format of its own takes its column's, as XlsxWriter does
                info = ws.col_info.get(c)
                fmt = getattr(info, "column_format", None) if info is not None else None
            return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

        from xlsxwriter.utility import xl_col_to_name

        ws._write_single_row(first_row)  # the header rows XlsxWriter still holds, written out now
        return cls(ws, [xl_col_to_name(c) for c in range(ncols)],
                   [attr(cell_formats[c], c) for c in range(ncols)],
                   [attr(text_formats[c], c) for c in range(ncols)], attr(text_quoted, 0),
                   [attr(cell_formats[c] or date_format, c) for c in range(ncols)])

    def _string(self, value: str) -> tuple[str, str]:
        ws = self.ws
        value = ws._escape_control_characters(value)
        preserve = ' xml:space="preserve"' if _LEADING_OR_TRAILING_SPACE.search(value) else ""
        return ws._escape_data(value), preserve

    def write(self, r: int, row: Sequence[Any]) -> None:
        n = str(r + 1)
        parts = [f'<row r="{n}">']
        append = parts.append
        refs = self.refs
        last = -1
        for c, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                attrs = self.quoted_attr if value[:1] in _FORMULA_SET else self.text_attrs[c]
                preserve = ""
                if _STRING_NEEDS_CARE.search(value):
                    value, preserve = self._string(value)
                append(f'<c r="{refs[c]}{n}"{attrs} t="inlineStr"><is><t{preserve}>{value}</t></is></c>')
            elif kind is int or kind is float:
                if kind is float and not math.isfinite(value):
                    continue
                append(f'<c r="{refs[c]}{n}"{self.number_attrs[c]}><v>{value:.16G}</v></c>')
            elif kind is _dt.datetime or kind is _dt.date:
                append(f'<c r="{refs[c]}{n}"{self.date_attrs[c]}><v>{_excel_serial(value):.16G}</v></c>')
            elif kind is bool:
                append(f'<c r="{refs[c]}{n}" t="b"><v>{int(value)}</v></c>')
            else:
                text, preserve = self._string(str(value))
                append(f'<c r="{refs[c]}{n}"{self.text_attrs[c]} t="inlineStr"><is><t{preserve}>{text}</t></is></c>')
            last = c
        if last < 0:
            return  # an empty row: XlsxWriter writes none either
        if last > self.last_col:
            self.last_col = last
        append("</row>")
        self.fh.write("".join(parts))
        self.ws.previous_row = r

    def finish(self, last_row: int) -> None:
        """Tell XlsxWriter how far the data reaches (its dimensions and the last row written)."""
        ws = self.ws
        if self.last_col >= 0:
            ws._check_dimensions(last_row, self.last_col)
        ws.previous_row = max(ws.previous_row, last_row)


_FORMULA_SET = frozenset(FORMULA_STARTS)


def _excel_serial(value) -> float:
    """An Excel serial date as XlsxWriter computes it (1900 date system, its leap-year bug)."""
    if type(value) is _dt.date:
        value = _dt.datetime(value.year, value.month, value.day)
    delta = value - _EXCEL_EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    if value.isocalendar() == (1900, 1, 1):
        serial -= 1
    if serial > 59:
        serial += 1
    return serial


def csv_text(value: Any) -> str:
    """One CSV cell: numbers as numbers (negative ones too), dates in ISO form, text quoted
    against formulas."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return quoted(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else ""
    if kind is int:
        return str(value)
    if kind is _dt.datetime:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind is _dt.date:
        return value.isoformat()
    if kind is bool:
        return "true" if value else "false"
    return quoted(str(value))


def _csv_row(row: Sequence[Any]) -> list:
    """csv_text of every cell, with numbers, None and plain text passed through as they are
    (the csv module writes them so), which is most of them."""
    return [v if v is None or (t := type(v)) is int or (t is float and math.isfinite(v))
            else (QUOTE + v if v[:1] in _FORMULA_SET else v) if t is str else csv_text(v) for v in row]


def csv_chunks(header_rows: Sequence[Sequence[Any]], rows: Iterable[Sequence[Any]],
               progress: Progress | None = None, ready: bool = False) -> Iterator[bytes]:
    """A CSV file in UTF-8 with a BOM (Excel then reads Chinese correctly), in chunks: the BOM
    and the headers first, then CHUNK_ROWS rows at a time as they are read. `ready`: the rows'
    cells are already CSV text (quoted against formulas), numbers or None."""
    prepare = (lambda row: row) if ready else _csv_row
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    for row in header_rows:
        writer.writerow([csv_text(v) for v in row])
    yield buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow(prepare(row))
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress(pending)
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")
        if progress is not None:
            progress(pending)


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def geojson_chunks(features: Iterable[dict], progress: Progress | None = None) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (RFC 7946: WGS 84, [longitude, latitude]) in chunks."""
    yield b'{"type":"FeatureCollection","features":['
    parts: list[str] = []
    first = True
    for feature in features:
        parts.append(("" if first else ",") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"),
                                                         default=_json_default, allow_nan=False))
        first = False
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts).encode("utf-8")
            if progress is not None:
                progress(len(parts))
            parts = []
    if parts:
        yield "".join(parts).encode("utf-8")
        if progress is not None:
            progress(len(parts))
    yield b"]}\n"
