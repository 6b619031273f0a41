"""Reading an uploaded spreadsheet (XLSX or CSV in UTF-8, GBK or UTF-16) into rows of cells,
refusing what is not one, what is too large, and formulas, each with the cell it is in.

Cells come back as Python values: text from a CSV; from an XLSX, what the cell holds (text,
int, float, bool, datetime). Nothing here knows the columns; `import_columns` does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext as _

from village_survey.exchange.import_report import column_letter

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
OTHER_FORMATS = (  # a few files people pick by mistake, named so the message can say what they are
    (b"%PDF-", "PDF"), (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"),
    (b"Rar!", "RAR"), (b"7z\xbc\xaf", "7z"), (b"\x1f\x8b", "gzip"),
)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (nothing in it is read further)."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int

    @classmethod
    def from_config(cls, config):
        return cls(config["IMPORT_MAX_BYTES"], config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_UNPACKED_BYTES"])


@dataclass
class Sheet:
    """The rows of a spreadsheet's first sheet: `rows[i]` is row number `i + 1`, a list of cells.

    A cell that holds a formula holds a `Formula` instead of its value: the row that has it is
    refused with the cell named (never evaluated, never stored).
    """

    kind: str  # "xlsx" or "csv"
    rows: list = field(default_factory=list)
    encoding: str | None = None


@dataclass(frozen=True)
class Formula:
    text: str


def formula_message(row, index):
    cell = f"{column_letter(index)}{row}"
    return _("Cell %(cell)s holds a formula: formulas are not imported. Copy the column and paste it as "
             "values.", cell=cell)


def _megabytes(n):
    return f"{n / 1_000_000:g}"


def _too_many_rows(limits):
    return ImportFileError(_("The file has more than %(n)s rows: import at most %(n)s rows at once "
                             "(split the file).", n=f"{limits.max_rows:,}"))


def read_sheet(data: bytes, filename: str, limits: Limits) -> Sheet:
    """The rows of the uploaded file, or ImportFileError saying why it cannot be read."""
    if len(data) > limits.max_bytes:
        raise ImportFileError(_("The file is %(size)s MB: at most %(max)s MB can be imported at once (split the file).",
                                size=_megabytes(len(data)), max=_megabytes(limits.max_bytes)))
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls): save it as .xlsx or as CSV and import that."))
    for magic, name in OTHER_FORMATS:
        if data.startswith(magic):
            raise ImportFileError(_("This is a %(format)s file, not a spreadsheet: import an .xlsx or .csv file.",
                                    format=name))
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, limits)
    return _read_csv(data, limits)


# ---------------------------------------------------------------- XLSX


def _read_xlsx(data, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(_("The file is damaged or not a spreadsheet: import an .xlsx or .csv file.")) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_("This is a ZIP archive, not an Excel workbook: import an .xlsx or .csv file."))
    if unpacked > limits.max_unpacked_bytes:
        raise ImportFileError(_("The workbook unpacks to %(size)s MB: at most %(max)s MB can be imported at once "
                                "(split the file).", size=_megabytes(unpacked),
                                max=_megabytes(limits.max_unpacked_bytes)))
    from openpyxl import load_workbook

    try:
        # read_only streams the rows; data_only=False keeps a formula as its text, to refuse it
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors, ...) on a damaged workbook
        raise ImportFileError(_("The file is damaged or not a spreadsheet: import an .xlsx or .csv file.")) from None
    try:
        if not book.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        sheet = Sheet("xlsx")
        for number, cells in enumerate(book.worksheets[0].iter_rows(), start=1):
            if number > limits.max_rows + 2:  # the header rows come on top of the data rows
                raise _too_many_rows(limits)
            row = []
            for index, cell in enumerate(cells):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or type(value).__name__ in ("ArrayFormula",
                                                                                     "DataTableFormula"):
                    value = Formula(str(getattr(value, "text", value)))
                row.append(value)
            sheet.rows.append(row)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(_("The file is damaged or not a spreadsheet: import an .xlsx or .csv file.")) from None
    finally:
        book.close()
    return sheet


# ---------------------------------------------------------------- CSV


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode
    text"), else GB18030 (a superset of GBK, which Excel in China saves CSV in)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), "gbk" if encoding == "gb18030" else "utf-8"
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is not a spreadsheet, nor text in UTF-8 or GBK: import an .xlsx or .csv file."))


def _looks_binary(text):
    """Text decoded from bytes that are no text file: NUL or many control characters."""
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n")
    return controls > 0


def _delimiter(text):
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(data, limits):
    text, encoding = decode(data)
    if _looks_binary(text):
        raise ImportFileError(_("The file is not a spreadsheet, nor text in UTF-8 or GBK: import an .xlsx or .csv file."))
    sheet = Sheet("csv", encoding=encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, row in enumerate(reader, start=1):
            if number > limits.max_rows + 2:
                raise _too_many_rows(limits)
            # Excel would evaluate such a cell when it opens the CSV: a formula, not a value
            sheet.rows.append([Formula(value) if value.startswith("=") else value for value in row])
    except csv.Error as error:
        raise ImportFileError(_("The file is not valid CSV near line %(line)s: %(reason)s",
                                line=reader.line_num, reason=str(error))) from None
    return sheet


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_date(value):
    """A cell's date, when the spreadsheet holds it as one (an XLSX date cell)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None
