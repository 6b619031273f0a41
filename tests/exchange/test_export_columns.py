"""The exchange columns: derived from survey_fields, labelled as the form labels them, and every
value written as a cell reads back as the same value (codes or labels, Chinese or English)."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from village_survey import survey_fields
from village_survey.exchange import columns as C

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Yes": "是", "No": "否", "Coal stove": "煤炉", "House number": "门牌号", "persons": "人",
      "Permanent residents": "常住人口"}.get


def zh(msgid):
    return ZH(msgid) or msgid


def test_answer_columns_are_the_form_keys_in_the_form_order():
    assert tuple(c.key for c in C.ANSWER_COLUMNS) == survey_fields.FIELD_KEYS
    assert len(set(c.key for c in C.SURVEY_COLUMNS)) == len(C.SURVEY_COLUMNS)
    for col in C.ANSWER_COLUMNS:
        f = survey_fields.field(col.key)
        assert col.type == f.type and col.unit == f.unit
        assert col.code_values == f.codes


def test_labels_are_the_msgids_of_the_form_labels():
    from village_survey.surveys import labels

    assert {k: v for k, v in C.FIELD_LABELS.items()} == {k: v._args[0] for k, v in labels.FIELD_LABELS.items()}
    for key, codes in labels.CODE_LABELS.items():
        assert {c: (v if isinstance(v, str) else v._args[0]) for c, v in codes.items()} == dict(C.CODE_LABELS[key])
    assert set(labels.UNIT_LABELS) >= {c.unit for c in C.ANSWER_COLUMNS if c.unit}
    assert {k: v._args[0] for k, v in labels.STATUS_LABELS.items()} == dict(C.STATUS_LABELS)


def test_personal_columns_are_masked():
    personal = {c.key for c in C.SURVEY_COLUMNS if c.personal}
    assert {"head_name", "phone", "latitude", "longitude", "notes"} <= personal
    assert C.mask(C.column("head_name"), "张三丰") == "张**"
    assert C.mask(C.column("phone"), "138-1234-5678") == "138******78"
    assert C.mask(C.column("latitude"), 29.712345) == 29.71
    assert C.mask(C.column("notes"), "ID 36042319800101123X, call 13812345678") == \
        "ID 360***************, call 138********"
    assert C.mask(C.column("residents"), 4) == 4


@pytest.mark.parametrize("key,value,codes,labels", [
    ("visible_danger", True, "true", "是"),
    ("visible_danger", False, "false", "否"),
    ("primary_stove", "coal", "coal", "煤炉"),
    ("residents", 4, 4, 4),
    ("floor_area_m2", 120.5, 120.5, 120.5),
    ("survey_date", "2026-05-01", dt.date(2026, 5, 1), dt.date(2026, 5, 1)),
    ("head_name", "=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")"),
    ("ac_label_grade", "1", "1", "Grade 1"),
])
def test_values_become_cells_and_read_back(key, value, codes, labels):
    col = C.column(key)
    assert C.to_cell(col, value) == codes
    assert C.to_cell(col, value, labels=True, translate=zh) == labels
    assert C.from_cell(col, codes) == value
    assert C.from_cell(col, labels, translators=(zh,)) == value


def test_cells_read_in_many_spellings():
    assert C.from_cell(C.column("primary_stove"), " Coal Stove ") == "coal"
    assert C.from_cell(C.column("grid_connected"), "是") is True
    assert C.from_cell(C.column("grid_connected"), 0) is False
    assert C.from_cell(C.column("residents"), "1,234") == 1234
    assert C.from_cell(C.column("residents"), 4.0) == 4
    assert C.from_cell(C.column("survey_date"), "2026年5月1日") == "2026-05-01"
    assert C.from_cell(C.column("survey_date"), "2026/5/1") == "2026-05-01"
    assert C.from_cell(C.column("survey_date"), 46143) == "2026-05-01"  # an Excel day number
    assert C.from_cell(C.column("house_number"), 12.0) == "12"
    assert C.from_cell(C.column("notes"), "'=1+1") == "=1+1"  # our CSV's quoting undone
    assert C.from_cell(C.column("notes"), "") is None


@pytest.mark.parametrize("key,cell", [("primary_stove", "gas stove"), ("residents", "four"),
                                      ("residents", 2.5), ("survey_date", "May"),
                                      ("grid_connected", "maybe"), ("residents", "nan")])
def test_bad_cells_name_their_column(key, cell):
    with pytest.raises(C.CellError) as caught:
        C.from_cell(C.column(key), cell)
    assert caught.value.key == key


def test_headers_name_their_columns_in_any_language():
    col = C.column("residents")
    assert C.header(col) == "Permanent residents (persons)"
    assert C.header(col, zh, "{label}（{unit}）") == "常住人口（人）"
    for text in ("residents", "Permanent residents", "常住人口（人）", "常住人口 (人)", "permanent residents (persons)"):
        assert C.find_column(text, (zh,)) is col
    assert C.find_column("shoe size") is None


def test_formula_quoting_round_trips():
    for text in ("=SUM(A1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert C.quoted(text) == "'" + text and C.unquoted(C.quoted(text)) == text
    assert C.quoted("1组2号") == "1组2号"


def test_the_columns_load_no_flask():
    probe = ("import sys, village_survey.exchange.columns; "
             "print([m for m in ('flask', 'flask_babel', 'sqlalchemy') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_labels_are_read_in_the_languages_of_the_app_catalogs():
    chinese, english = C.catalog_translators(str(ROOT / "translations"))
    assert chinese("Coal stove") != "Coal stove"
    assert C.from_cell(C.column("primary_stove"), chinese("Coal stove"), (chinese, english)) == "coal"
    assert C.from_cell(C.column("grid_connected"), chinese("No"), (chinese, english)) is False
    assert C.from_cell(C.column("status"), chinese("Approved"), (chinese,)) == "approved"
    assert C.find_column(chinese("Permanent residents"), (chinese,)) is C.column("residents")
