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
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from village_survey.exchange.columns import looks_like_formula, quoted

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
    r = first
    pending = 0
    write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
    for row in sheet.rows:
        for c, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                if looks_like_formula(value):
                    write_string(r, c, value, text_quoted)
                else:
                    write_string(r, c, value, wrap if c in sheet.wrap_columns else None)
            elif kind is int or kind is float:
                if kind is float and not math.isfinite(value):
                    continue
                write_number(r, c, value, cell_formats[c])
            elif kind is _dt.datetime or kind is _dt.date:
                value = value if kind is _dt.datetime else _dt.datetime(value.year, value.month, value.day)
                write_datetime(r, c, value, cell_formats[c] or number_format(DATE_FORMAT))
            elif kind is bool:
                ws.write_boolean(r, c, value)
            else:
                write_string(r, c, str(value))
        r += 1
        pending += 1
        if progress is not None and pending >= CHUNK_ROWS:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
    if first:
        ws.freeze_panes(first, sheet.freeze_columns)
    if sheet.autofilter and ncols:
        ws.autofilter(first - 1 if first else 0, 0, max(r - 1, first - 1 if first else 0), ncols - 1)
    return r - first


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


def csv_chunks(header_rows: Sequence[Sequence[Any]], rows: Iterable[Sequence[Any]],
               progress: Progress | None = None) -> Iterator[bytes]:
    """A CSV file in UTF-8 with a BOM (Excel then reads Chinese correctly), in chunks: the BOM
    and the headers first, then CHUNK_ROWS rows at a time as they are read."""
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
        writer.writerow([csv_text(v) for v in row])
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
