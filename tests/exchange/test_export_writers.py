"""The file writers alone: the XLSX's fast rows are XlsxWriter's own XML, byte for byte; CSV
cells; GeoJSON chunks."""

import csv
import datetime as dt
import io
import json
import zipfile

import openpyxl
import pytest

from village_survey.exchange import writers
from village_survey.exchange.writers import Sheet, SheetColumn

ROWS = [
    ["plain", 1, 2.5, -3.25, dt.date(2026, 3, 15), dt.datetime(2026, 3, 15, 8, 30, 5, 123456), None, "x"],
    ["=SUM(A1)", 10**17, 1e-7, 0, dt.date(1900, 2, 28), dt.datetime(1900, 3, 1), "+1", "@x"],
    ["a & b < c > d", 3, float("nan"), None, None, None, " leading", "trailing "],
    ["tab\tand\nnewline", None, None, None, None, None, "ctrl\x01char _x0041_ \rcr", "\tstarts with tab"],
    [None, None, None, None, None, None, None, None],
    ["中文 门牌号", True, None, 7, None, None, "-12", "\ufffe"],
]


def _sheets():
    columns = [SheetColumn("text"), SheetColumn("int"), SheetColumn("decimal", number_format="0.00"),
               SheetColumn("decimal"), SheetColumn("date"), SheetColumn("datetime"), SheetColumn("text"),
               SheetColumn("text")]
    return [Sheet("Data", [[f"Label {n}" for n in range(8)], [f"key_{n}" for n in range(8)]], columns,
                  iter(ROWS), wrap_columns=(7,)),
            Sheet("Columns", [["Key", "Column"]], [SheetColumn(width=20), SheetColumn(width=30)],
                  iter([["a", "b"], ["=c", "d"]]), wrap_columns=(1,))]


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if not name.startswith("docProps/")}


def test_fast_rows_write_what_xlsxwriter_writes(tmp_path, monkeypatch):
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    writers.write_xlsx(str(fast), _sheets())
    monkeypatch.setattr(writers._FastRows, "for_sheet", classmethod(lambda cls, *args: None))
    writers.write_xlsx(str(slow), _sheets())
    assert _parts(fast) == _parts(slow)


def test_the_xlsx_opens_with_its_values_and_formats(tmp_path):
    path = tmp_path / "out.xlsx"
    assert writers.write_xlsx(str(path), _sheets()) == len(ROWS) + 2
    book = openpyxl.load_workbook(path)
    ws = book["Data"]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:H8"
    assert ws["A3"].value == "plain" and ws["B3"].value == 1 and ws["D3"].value == -3.25
    assert ws["E3"].value == dt.datetime(2026, 3, 15) and ws["E3"].number_format == "yyyy-mm-dd"
    assert ws["F3"].value.replace(microsecond=0) == dt.datetime(2026, 3, 15, 8, 30, 5)
    assert ws["C3"].number_format == "0.00"
    assert ws["A4"].value == "=SUM(A1)" and ws["A4"].data_type == "s" and ws["A4"].quotePrefix
    assert ws["G4"].quotePrefix and ws["H4"].quotePrefix and not ws["A3"].quotePrefix
    assert ws["A5"].value == "a & b < c > d" and ws["G5"].value == " leading"
    # control characters in Excel's own escapes (Excel decodes them; openpyxl shows them as stored)
    assert ws["G6"].value == "ctrl_x0001_char _x005F_x0041_ _x000D_cr"
    assert ws["A8"].value == "中文 门牌号" and ws["G8"].value == "-12" and ws["G8"].quotePrefix
    assert ws.column_dimensions["F"].width >= 17


def test_csv_cells():
    data = b"".join(writers.csv_chunks([["Label"], ["key"]], iter(ROWS)))
    assert data.startswith(writers.BOM.encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[2] == ["plain", "1", "2.5", "-3.25", "2026-03-15", "2026-03-15 08:30:05", "", "x"]
    assert rows[3][0] == "'=SUM(A1)" and rows[3][6:] == ["'+1", "'@x"]
    assert rows[4][2] == ""  # not a number: left empty
    assert rows[5][7] == "'\tstarts with tab" and rows[5][0] == "tab\tand\nnewline"
    assert rows[7][1] == "true" and rows[7][6] == "'-12"


def test_geojson_chunks_make_one_collection():
    features = ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.0 + n, 29.7]},
                 "properties": {"n": n, "when": dt.date(2026, 1, 1)}} for n in range(1200))
    data = json.loads(b"".join(writers.geojson_chunks(features)))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 1200
    assert data["features"][5]["properties"] == {"n": 5, "when": "2026-01-01"}
    with pytest.raises(ValueError):
        b"".join(writers.geojson_chunks(iter([{"x": float("nan")}])))
