"""Files that are not spreadsheets, too large, or damaged: refused as a whole, with a message
that says why (and the limit), nothing written."""

import io
import os
import zipfile

import pytest
from sqlalchemy import func, select

from tests.exchange.test_import_support import csv_bytes, run, survey_rows, xlsx_bytes
from tests.factories import complete_answers
from village_survey.exchange.import_files import Formula, Limits, decode, read_sheet
from village_survey.exchange.import_service import ImportRefused
from village_survey.extensions import db
from village_survey.surveys.models import Survey

LIMITS = Limits(max_bytes=10_000_000, max_rows=60_000, max_unpacked_bytes=200_000_000)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


def rows(world, n=2):
    answers = complete_answers(survey_date="2025-06-01")
    return survey_rows([(world.village_a.code, 2025, dict(answers, house_number=f"3组{i}号"))
                        for i in range(1, n + 1)])


@pytest.mark.parametrize("name, data, words", [
    ("random bytes", bytes(range(256)) * 40, "not a spreadsheet"),
    ("a PDF", PDF, "PDF"),
    ("a PNG", b"\x89PNG\r\n\x1a\n" + os.urandom(200), "PNG"),
    ("an old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), ".xls"),
    ("an empty file", b"", "empty"),
    ("a zip that is no workbook", None, "ZIP"),
    ("a damaged workbook", b"PK\x03\x04" + os.urandom(300), "damaged"),
])
def test_files_that_are_not_spreadsheets_are_refused_whole(world, name, data, words):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        data = out.getvalue()
    report = run(world.reviewer_a, "surveys", data)
    assert report.file_problems and not report.rows
    assert words.lower() in report.file_problems[0].message.lower(), report.as_text()
    with pytest.raises(ImportRefused):
        run(world.reviewer_a, "surveys", data, mode="valid")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0


def test_a_file_over_the_size_limit_names_the_limit(app, world):
    app.config["IMPORT_MAX_BYTES"] = 2_000
    try:
        report = run(world.reviewer_a, "surveys", xlsx_bytes(rows(world)))
    finally:
        app.config["IMPORT_MAX_BYTES"] = 10_000_000
    assert "0.002 MB" in report.file_problems[0].message


def test_a_file_over_the_row_limit_names_the_limit(app, world):
    app.config["IMPORT_MAX_ROWS"] = 2
    try:
        for make in (xlsx_bytes, csv_bytes):
            report = run(world.reviewer_a, "surveys", make(rows(world, 5)))
            assert report.file_problems and "2" in report.file_problems[0].message
            assert not report.rows
        assert not run(world.reviewer_a, "surveys", xlsx_bytes(rows(world, 2))).has_errors
    finally:
        app.config["IMPORT_MAX_ROWS"] = 60_000


def test_the_default_limits_are_ten_megabytes_and_sixty_thousand_rows(app):
    limits = Limits.from_config(app.config)
    assert (limits.max_bytes, limits.max_rows) == (10_000_000, 60_000)


def test_a_workbook_that_unpacks_too_large_is_refused(app, world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", "a" * 3_000_000)
    small = Limits(10_000_000, 60_000, 1_000_000)
    with app.test_request_context():
        with pytest.raises(Exception) as raised:
            read_sheet(out.getvalue(), "bomb.xlsx", small)
    assert "1 MB" in str(raised.value)


def test_text_encodings_are_detected(app):
    text = "户号,户主\n1组1号,王甲\n"
    with app.test_request_context():
        assert decode(text.encode("utf-8")) == (text, "utf-8")
        assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8")
        assert decode(text.encode("gbk")) == (text, "gbk")
        assert decode(text.encode("utf-16")) == (text, "utf-16")


def test_a_formula_is_kept_as_a_formula_never_evaluated(app):
    with app.test_request_context():
        sheet = read_sheet(xlsx_bytes([["residents"], ["=SUM(1,2)"], [3]]), "f.xlsx", LIMITS)
        assert sheet.rows[1] == [Formula("=SUM(1,2)")] and sheet.rows[2] == [3]
        sheet = read_sheet(csv_bytes([["notes"], ["=1+1"], ["'=1+1"]]), "f.csv", LIMITS)
        assert sheet.rows[1] == [Formula("=1+1")] and sheet.rows[2] == ["'=1+1"]


def test_semicolons_and_tabs_separate_columns_too(app):
    with app.test_request_context():
        assert read_sheet("a;b\n1;2\n".encode(), "x.csv", LIMITS).rows == [["a", "b"], ["1", "2"]]
        assert read_sheet("a\tb\n1\t2\n".encode(), "x.txt", LIMITS).rows == [["a", "b"], ["1", "2"]]
