"""The header of an imported sheet: which column is which (by key or by label, in Chinese or
English, with or without the unit), a second header row of keys skipped, and the file refused
when columns are missing, unknown or doubled."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _

from village_survey.exchange import columns as exchange_columns
from village_survey.exchange.import_files import Formula, Sheet, formula_message, is_blank
from village_survey.exchange.import_report import Problem, RowReport, column_letter


def translators():
    """gettext of the Chinese and the English catalogs: a file may be labelled in either,
    whatever the language of the person importing it."""
    folder = os.path.join(current_app.root_path, current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    return _cached_translators(os.path.normpath(folder))


_TRANSLATORS = {}


def _cached_translators(folder):
    if folder not in _TRANSLATORS:
        _TRANSLATORS[folder] = exchange_columns.catalog_translators(folder)
    return _TRANSLATORS[folder]


def translated_label(column) -> str:
    return _(column.label)


# rows read between two progress reports of a long import (a background job's page)
PROGRESS_ROWS = 500


@dataclass
class Table:
    """The columns found (0-based index → Column) and the data rows (1-based row number, cells)."""

    columns: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # index → the header text as written in the file
    problems: list = field(default_factory=list)

    def cells(self, cells):
        """{key: cell} of one data row (a missing trailing cell is empty, a formula too: it is
        reported by `report_formulas`, once)."""
        found = {col.key: (cells[i] if i < len(cells) else None) for i, col in self.columns.items()}
        return {key: None if isinstance(value, Formula) else value for key, value in found.items()}

    def letter(self, key):
        for index, col in self.columns.items():
            if col.key == key:
                return column_letter(index)
        return None

    def header(self, key):
        for index, col in self.columns.items():
            if col.key == key:
                return self.headers.get(index)
        return None

    def has(self, key):
        return any(col.key == key for col in self.columns.values())

    def typed_rows(self, report, langs, columns, progress=None):
        """[(RowReport, {key: value})] of every data row, each row added to `report` with the
        errors of its cells (a row with a formula gives no values); `progress(done, total)` is
        told every PROGRESS_ROWS rows."""
        parsed = []
        for number, cells in self.rows:
            row = RowReport(number)
            report.rows.append(row)
            if progress is not None and len(report.rows) % PROGRESS_ROWS == 0:
                progress(len(report.rows), len(self.rows))
            formula = self.report_formulas(row, cells)
            values, errors = exchange_columns.row_from_cells(self.cells(cells), langs, columns)
            for error in errors:
                row.error(self.letter(error.key), cell_message(error), self.header(error.key))
            parsed.append((row, {} if formula else values))
        return parsed

    def report_formulas(self, report: RowReport, cells):
        """Refuse the row's formulas, each with its cell named; True when there was one."""
        found = False
        for index, value in enumerate(cells):
            if isinstance(value, Formula):
                report.error(column_letter(index), formula_message(report.row, index), self.headers.get(index))
                found = True
        return found


def _is_key_row(cells, known):
    """A second header row: every non-empty cell is a column key."""
    texts = [c.strip() for c in cells if isinstance(c, str) and c.strip()]
    return bool(texts) and len(texts) == len([c for c in cells if not is_blank(c)]) and all(
        t.casefold() in known for t in texts)


def read_table(sheet: Sheet, importable, ignored=(), required=()) -> Table:
    """The table of `sheet` with the columns of `importable` (Column objects); columns of
    `ignored` (those an export adds: results, review) are read past; `required` keys must be there.
    """
    table = Table()
    rows = [(n, cells) for n, cells in enumerate(sheet.rows, start=1)]
    # Rows that are empty through and through (Excel leaves some below the data) are not data.
    rows = [(n, cells) for n, cells in rows if any(not is_blank(c) for c in cells)]
    if not rows:
        table.problems.append(Problem(None, None, _("The file has no rows.")))
        return table
    header_number, header = rows[0]
    every = list(importable) + list(ignored)
    all_keys = {c.key.casefold() for c in every}
    found_any = False
    seen = {}
    for index, text in enumerate(header):
        letter = column_letter(index)
        if isinstance(text, Formula):
            table.problems.append(Problem(header_number, letter, formula_message(header_number, index)))
            continue
        if is_blank(text):
            continue
        table.headers[index] = str(text).strip()
        col = exchange_columns.find_column(str(text), translators(), every)
        if col is None:
            table.problems.append(Problem(header_number, letter, _(
                "“%(header)s” is not a column of this import. Use the columns of the export (their "
                "names or keys), or delete this column.", header=str(text).strip()), str(text).strip()))
            continue
        found_any = True
        if col.key in seen:
            table.problems.append(Problem(header_number, letter, _(
                "The column “%(header)s” appears twice (columns %(first)s and %(second)s).",
                header=translated_label(col), first=column_letter(seen[col.key]), second=letter), str(text).strip()))
            continue
        seen[col.key] = index
        if col in importable:
            table.columns[index] = col
    if not found_any:
        table.problems.insert(0, Problem(header_number, None, _(
            "The first row must name the columns (as the export does); none of its cells names one.")))
        return table
    data = rows[1:]
    if data and _is_key_row(data[0][1], all_keys):
        data = data[1:]
    # A value below a header that names nothing: refuse it rather than drop it unseen.
    unnamed = set()
    for number, cells in data:
        for index, value in enumerate(cells):
            if index not in table.headers and index not in unnamed and not is_blank(value):
                table.problems.append(Problem(number, column_letter(index), _(
                    "Column %(column)s has values but no name in the first row.", column=column_letter(index))))
                unnamed.add(index)
    by_key = {col.key: col for col in importable}
    missing = [by_key[key] for key in required if key not in seen]
    if missing:
        table.problems.append(Problem(None, None, _(
            "Columns are missing: %(columns)s.",
            columns=", ".join(f"{translated_label(col)} ({col.key})" for col in missing))))
    table.rows = data
    return table




def chunks(items, size=500):
    """The items in lists of at most `size` (ids in one IN (...) of a lookup)."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def cell_message(error):
    """A cell's error (exchange.columns) in the user's language."""
    return _(error.reason, **error.params) if error.params else _(error.reason)
