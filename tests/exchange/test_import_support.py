"""Helpers of the import tests (no tests here): files made in memory, in the export's columns."""

import csv
import io

import openpyxl
from flask import current_app

from village_survey import survey_fields
from village_survey.exchange import columns as exchange_columns
from village_survey.exchange.import_files import Limits
from village_survey.exchange import import_service

SURVEY_KEYS = ["year", "village_code"] + list(survey_fields.FIELD_KEYS)
REGISTRY_KEYS = ["county_code", "township_code", "township_name", "village_code", "village_name",
                 "registered_households", "house_number", "head_name", "phone"]


def xlsx_bytes(rows):
    """An XLSX of these rows (a text starting with "=" becomes a formula, as openpyxl writes it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8-sig"):
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding)


def survey_rows(surveys, keys=None, labels=False, translate=str, header="keys"):
    """[header, *rows] of (village code, year, answers) triples in the export's columns."""
    keys = keys or SURVEY_KEYS
    cols = [exchange_columns.column(k) for k in keys]
    head = [c.key if header == "keys" else exchange_columns.header(c, translate) for c in cols]
    rows = [head]
    for village_code, year, answers in surveys:
        values = {"year": year, "village_code": village_code, **answers}
        rows.append([exchange_columns.to_cell(c, values.get(c.key), labels=labels, translate=translate)
                     for c in cols])
    return rows


def run(user, kind, data, mode=None, filename="test.xlsx", **kwargs):
    limits = Limits.from_config(current_app.config)
    return import_service.run(user, kind, data, filename, limits, mode=mode, **kwargs)
