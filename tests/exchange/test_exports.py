"""Exports of surveys (XLSX, CSV), farmhouses (GeoJSON) and evaluations (XLSX): what the files
hold, who gets which area and which personal data, and that nothing in a cell is evaluated."""

import csv
import datetime as dt
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from tests.evaluations.conftest import add_survey
from tests.conftest import Auth
from tests.factories import make_household
from village_survey.audit import AuditEvent
from village_survey.evaluations import precomputed
from village_survey.exchange import columns as C
from village_survey.extensions import db

YEAR = 2026
INJECTIONS = {"head_name": '=HYPERLINK("http://x.cn","go")', "notes": "+1",
              "house_number": "@SUM(A1:A9)"}


@pytest.fixture
def surveys(world):
    """Two approved surveys in village A (one with formula-like text and a negative longitude), a
    draft in village A2 (the same county), an approved one in county B."""
    a1 = add_survey(world.village_a, household=world.household_a, phone="13912345678",
                    latitude=29.712345, longitude=116.004321)
    injected = make_household(world.village_a, INJECTIONS["house_number"], INJECTIONS["head_name"])
    a2 = add_survey(world.village_a, household=injected, notes=INJECTIONS["notes"], latitude=29.5,
                    longitude=-116.25)
    draft = add_survey(world.village_a2, status="draft", household=world.household_a2)
    b = add_survey(world.village_b, household=world.household_b)
    a1.reviewed_by = world.reviewer_a
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    return {"a1": a1.uuid, "a2": a2.uuid, "draft": draft.uuid, "b": b.uuid}


# Streamed bodies are read within the request (buffered): the test client runs each request in a
# context of its own (tests/conftest.py IsolatedClient), as a server's worker does.


def _xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _rows(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _by_uuid(rows):
    keys = rows[1]
    return {row[keys.index("survey_uuid")]: dict(zip(keys, row)) for row in rows[2:]}


def test_survey_xlsx_has_labelled_headers_keys_and_typed_cells(auth, client, world, surveys):
    auth.login("reviewer-a")
    response = client.get(f"/exports/surveys.xlsx?year={YEAR}&full=1", buffered=True)
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["Content-Disposition"]
    book = _xlsx(response)
    ws = book.worksheets[0]
    rows = _rows(ws)
    assert rows[1] == [c.key for c in C.SURVEY_COLUMNS]
    assert "门牌号" in rows[0]
    # the unit in the header, in Chinese (the brackets are the catalog's: full-width once translated)
    assert any(re.fullmatch(r"常住人口 ?[（(]人[)）]", text) for text in rows[0])
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref.startswith("A2:")
    found = _by_uuid(rows)
    assert set(found) == {surveys["a1"], surveys["a2"], surveys["draft"]}  # not county B's
    row = found[surveys["a1"]]
    assert row["residents"] == 4 and isinstance(row["residents"], int)
    assert row["floor_area_m2"] == 180
    assert isinstance(row["survey_date"], dt.datetime) and row["survey_date"].date() == dt.date(2026, 3, 15)
    assert row["visible_danger"] == "false" and row["primary_stove"] == "electric"
    assert row["status"] == "approved" and row["county_code"] == world.county_a.code
    assert row["village_name"] == "甲村" and row["reviewer"] == "reviewer-a"
    assert isinstance(row["farmhouse_score"], float) and row["stars"] in (0, 1, 2, 3)
    assert row["zero_carbon"] in ("true", "false") and isinstance(row["net_tco2e"], float)
    assert row["head_name"] == "王甲" and row["phone"] == "13912345678" and row["latitude"] == 29.712345
    assert found[surveys["draft"]]["farmhouse_score"] is None
    # the second sheet describes every column
    columns = _rows(book.worksheets[1])
    described = {r[0]: r for r in columns[1:]}
    assert set(described) == set(rows[1])
    assert "coal = 燃煤灶" in described["primary_stove"][4]
    assert described["residents"][2] == "人"


def test_labels_instead_of_codes(auth, client, surveys):
    auth.login("reviewer-a")
    rows = _rows(_xlsx(client.get(f"/exports/surveys.xlsx?year={YEAR}&labels=1", buffered=True)).worksheets[0])
    row = _by_uuid(rows)[surveys["a1"]]
    assert row["visible_danger"] == "否" and row["grid_connected"] == "是"
    assert row["primary_stove"] == "电磁炉或电饭煲" or row["primary_stove"] != "electric"
    assert row["status"] == "已通过"


def test_csv_is_utf8_with_bom_and_parses(auth, client, surveys):
    auth.login("reviewer-a")
    response = client.get(f"/exports/surveys.csv?year={YEAR}&status=approved", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1] == [c.key for c in C.SURVEY_COLUMNS]
    found = _by_uuid(rows)
    assert set(found) == {surveys["a1"], surveys["a2"]}  # approved only
    assert found[surveys["a1"]]["residents"] == "4"
    assert found[surveys["a1"]]["survey_date"] == "2026-03-15"


def test_formulas_are_never_evaluated(auth, client, surveys):
    auth.login("reviewer-a")
    rows = list(csv.reader(io.StringIO(client.get("/exports/surveys.csv?full=1", buffered=True).data.decode("utf-8-sig"))))
    row = _by_uuid(rows)[surveys["a2"]]
    for key, text in INJECTIONS.items():
        assert row[key] == "'" + text
    assert row["longitude"] == "-116.25"  # a negative number stays a number
    book = _xlsx(client.get("/exports/surveys.xlsx?full=1", buffered=True))
    ws = book.worksheets[0]
    keys = [c.value for c in ws[2]]
    for cells in ws.iter_rows(min_row=3):
        by_key = dict(zip(keys, cells))
        if by_key["survey_uuid"].value != surveys["a2"]:
            continue
        for key, text in INJECTIONS.items():
            cell = by_key[key]
            assert cell.data_type == "s" and cell.value == text  # a string, not a formula
            assert cell.quotePrefix  # Excel keeps it text even when the cell is edited
        assert by_key["longitude"].data_type == "n" and by_key["longitude"].value == -116.25
        break
    else:
        pytest.fail("survey a2 not exported")


def test_personal_data_is_masked_unless_allowed_and_asked(auth, client, surveys):
    auth.login("reviewer-a")
    row = _by_uuid(_rows(_xlsx(client.get("/exports/surveys.xlsx", buffered=True)).worksheets[0]))[surveys["a1"]]
    assert row["head_name"] == "王*" and row["phone"] == "139******78"
    assert row["latitude"] == 29.71 and row["longitude"] == 116.0
    described = {r[0]: r for r in _rows(_xlsx(client.get("/exports/surveys.xlsx", buffered=True)).worksheets[1])}
    assert described["head_name"][5] == "个人数据，已遮蔽" or described["head_name"][5]


@pytest.mark.parametrize("username", ["viewer-a", "surveyor-a"])
def test_who_may_not_see_personal_data_is_refused_full(auth, client, surveys, username):
    auth.login(username)
    assert client.get("/exports/surveys.csv?full=1", buffered=True).status_code == 403
    response = client.get("/exports/surveys.csv", buffered=True)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert all("王甲" != r[rows[1].index("head_name")] for r in rows[2:])


def _logged_in(app, username):
    client = app.test_client()
    Auth(client).login(username)
    return client


def _csv_uuids(client, query=""):
    response = client.get(f"/exports/surveys.csv{query}", buffered=True)
    assert response.status_code == 200
    return set(_by_uuid(list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))))


def test_scope_per_role(app, world, surveys):
    reviewer = _logged_in(app, "reviewer-a")
    for area in (f"county:{world.county_b.code}", f"village:{world.village_b.code}", "city", "county:999999"):
        assert reviewer.get(f"/exports/surveys.csv?area={area}", buffered=True).status_code == 404
    assert _csv_uuids(reviewer) == {surveys["a1"], surveys["a2"], surveys["draft"]}
    assert _csv_uuids(reviewer, f"?area=township:{world.township_a.code}") == {surveys["a1"], surveys["a2"]}
    # the review desk's filters: a township or village by its id
    assert _csv_uuids(reviewer, f"?township={world.township_a.id}") == {surveys["a1"], surveys["a2"]}
    assert _csv_uuids(reviewer, f"?village={world.village_a2.id}&status=draft") == {surveys["draft"]}
    assert reviewer.get(f"/exports/surveys.csv?village={world.village_b.id}", buffered=True).status_code == 404
    assert reviewer.get("/exports/surveys.csv?township=99999999999", buffered=True).status_code == 404
    assert reviewer.get("/exports/surveys.csv?township=abc", buffered=True).status_code == 400
    surveyor = _logged_in(app, "surveyor-a")  # township staff: their township only
    assert _csv_uuids(surveyor) == {surveys["a1"], surveys["a2"]}
    assert surveyor.get(f"/exports/surveys.csv?area=county:{world.county_a.code}", buffered=True).status_code == 404
    assert _csv_uuids(_logged_in(app, "viewer-city")) == set(surveys.values())


@pytest.mark.parametrize("query", ["year=soon", "year=99999", "status=lost", "area=planet:1", "area=county:",
                                   "labels=maybe", "full=2", "area=" + "x" * 500])
def test_bad_parameters_are_refused_not_crashing(auth, client, surveys, query):
    auth.login("reviewer-a")
    for path in ("/exports/surveys.csv", "/exports/surveys.xlsx", "/exports/farmhouses.geojson",
                 "/exports/evaluations.xlsx"):
        assert client.get(f"{path}?{query}", buffered=True).status_code == 400, (path, query)


def test_exports_need_a_login(client, surveys):
    response = client.get("/exports/surveys.csv", buffered=True)
    assert response.status_code in (302, 401)


def test_every_export_is_in_the_audit_log(auth, client, world, surveys):
    auth.login("reviewer-a")
    client.get(f"/exports/surveys.csv?year={YEAR}&status=approved&labels=1", buffered=True)
    client.get("/exports/surveys.xlsx?full=1", buffered=True)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")
                                .order_by(AuditEvent.id)).all()
    assert [e.target for e in events] == ["surveys.csv", "surveys.xlsx"]
    assert events[0].username == "reviewer-a"
    assert events[0].detail == {"area": f"county:{world.county_a.code}", "year": YEAR, "status": "approved",
                                "labels": True, "full": False, "rows": 2}
    assert events[1].detail["full"] is True
    assert "王甲" not in json.dumps([e.detail for e in events], ensure_ascii=False)


def test_farmhouses_geojson(auth, client, surveys):
    auth.login("reviewer-a")
    response = client.get(f"/exports/farmhouses.geojson?year={YEAR}&full=1", buffered=True)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection"
    by_uuid = {f["properties"]["survey_uuid"]: f for f in data["features"]}
    assert set(by_uuid) == {surveys["a1"], surveys["a2"], surveys["draft"]}
    feature = by_uuid[surveys["a1"]]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == [116.004321, 29.712345]  # longitude, latitude
    assert feature["properties"]["head_name"] == "王甲"
    masked = json.loads(client.get(f"/exports/farmhouses.geojson?year={YEAR}", buffered=True).data)
    feature = next(f for f in masked["features"] if f["properties"]["survey_uuid"] == surveys["a1"])
    assert feature["geometry"]["coordinates"] == [116.0, 29.71] and feature["properties"]["head_name"] == "王*"


def test_evaluations_xlsx(auth, client, world, surveys):
    auth.login("reviewer-a")
    book = _xlsx(client.get(f"/exports/evaluations.xlsx?year={YEAR}", buffered=True))
    names = book.sheetnames
    assert len(names) == 4  # villages, townships, counties, the columns
    villages = _rows(book.worksheets[0])
    keys = villages[1]
    assert keys[:4] == ["code", "name", "township_code", "township_name"]
    assert "clean_cooking_rate" in keys or any(k.endswith("_score") for k in keys)
    by_code = {r[0]: dict(zip(keys, r)) for r in villages[2:]}
    assert set(by_code) == {world.village_a.code, world.village_a2.code}
    assert by_code[world.village_a.code]["approved_surveys"] == 2
    counties = _rows(book.worksheets[2])
    assert [r[0] for r in counties[2:]] == [world.county_a.code]
    assert book.worksheets[0].freeze_panes == "C3"


def test_cli_writes_files(app, runner, world, surveys, tmp_path):
    for name, args in [("s.xlsx", ["surveys"]), ("s.csv", ["surveys", "--labels"]),
                       ("f.geojson", ["farmhouses"]), ("e.xlsx", ["evaluations"])]:
        out = tmp_path / name
        result = runner.invoke(args=["export", *args, "--area", f"county:{world.county_a.code}", "--year",
                                     str(YEAR), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists() and out.stat().st_size > 0
    rows = _rows(openpyxl.load_workbook(tmp_path / "s.xlsx").worksheets[0])
    assert len(rows) == 2 + 3 and _by_uuid(rows)[surveys["a1"]]["head_name"] == "王*"
    assert json.loads((tmp_path / "f.geojson").read_text())["type"] == "FeatureCollection"
    result = runner.invoke(args=["export", "surveys", "--area", "county:000000", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and not (tmp_path / "x.csv").exists()
    result = runner.invoke(args=["export", "surveys", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    cli_events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(cli_events) == 4 and all(e.detail["via"] == "cli" for e in cli_events)


def test_an_export_without_surveys_has_its_headers(auth, client, surveys):
    auth.login("reviewer-a")
    book = _xlsx(client.get("/exports/surveys.xlsx?year=2001", buffered=True))
    rows = _rows(book.worksheets[0])
    assert len(rows) == 2 and rows[1] == [c.key for c in C.SURVEY_COLUMNS]
    data = client.get("/exports/surveys.csv?year=2001", buffered=True).data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(data)))) == 2
    assert json.loads(client.get("/exports/farmhouses.geojson?year=2001", buffered=True).data)["features"] == []


def _menu(app, user, source):
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context():
        login_user(user)
        return render_template_string(
            '{% from "exchange/download_menu.html" import download_menu, evaluations_download with context %}'
            + source)


def test_the_download_menu_links_the_list_filters_to_the_exports(app, world):
    html = _menu(app, world.reviewer_a, "{{ download_menu(status='approved', township=7) }}"
                                        "{{ evaluations_download(2026) }}")
    assert 'href="/exports/surveys.xlsx?status=approved&amp;township=7"' in html
    assert 'href="/exports/surveys.csv?status=approved&amp;township=7"' in html
    assert "full=1" in html and 'href="/exports/evaluations.xlsx?year=2026"' in html
    viewer = _menu(app, world.viewer_a, "{{ download_menu(status='approved') }}")
    assert "/exports/surveys.xlsx?status=approved" in viewer and "full=1" not in viewer


def test_a_download_too_large_for_one_request_offers_the_background_instead(app, auth, client, surveys):
    auth.login("reviewer-a")
    app.config["EXPORT_MAX_SURVEYS"] = 2
    try:
        for path in ("/exports/surveys.xlsx", "/exports/surveys.csv", "/exports/farmhouses.geojson"):
            response = client.get(path, buffered=True)
            html = response.get_data(as_text=True)
            assert response.status_code == 200 and response.mimetype == "text/html"
            assert "data-background-form" in html and "attachment" not in response.headers.get(
                "Content-Disposition", "")
        assert client.get("/exports/surveys.csv?status=approved", buffered=True).mimetype == "text/csv"
    finally:
        app.config["EXPORT_MAX_SURVEYS"] = 200_000


def test_township_staff_get_the_evaluations_of_their_township_only(app, world, surveys):
    surveyor = _logged_in(app, "surveyor-a")
    book = _xlsx(surveyor.get(f"/exports/evaluations.xlsx?year={YEAR}", buffered=True))
    assert len(book.worksheets) == 3  # villages, their township, the columns: no county
    assert [r[0] for r in _rows(book.worksheets[0])[2:]] == [world.village_a.code]
    assert [r[0] for r in _rows(book.worksheets[1])[2:]] == [world.township_a.code]
    assert surveyor.get(f"/exports/evaluations.xlsx?area=county:{world.county_a.code}",
                        buffered=True).status_code == 404


def test_evaluations_xlsx_gives_a_finalized_evaluation_as_frozen(app, auth, client, world, surveys):
    """A village whose evaluation was finalized shows the finalized figures (and says so), even
    after more surveys were approved; the others are provisional."""
    from village_survey.evaluations import finalizing
    from village_survey.evaluations.precomputed import Area
    from village_survey.scoring import load_criteria

    finalizing.finalize(world.admin, Area("village", world.village_a.id), YEAR, load_criteria())
    db.session.commit()
    add_survey(world.village_a, household=make_household(world.village_a, "9组9号", "冯九"))
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    auth.login("reviewer-a")
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    try:
        villages = _rows(_xlsx(client.get(f"/exports/evaluations.xlsx?year={YEAR}", buffered=True)).worksheets[0])
    finally:
        app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    keys = villages[1]
    by_code = {r[0]: dict(zip(keys, r)) for r in villages[2:]}
    assert by_code[world.village_a.code]["approved_surveys"] == 2  # as finalized, not the 3 of today
    assert by_code[world.village_a.code]["evaluation"] == "finalized, version 1"
    assert by_code[world.village_a2.code]["evaluation"] == "provisional"
    counties = _rows(_xlsx(client.get(f"/exports/evaluations.xlsx?year={YEAR}", buffered=True)).worksheets[2])
    assert dict(zip(counties[1], counties[2]))["approved_surveys"] == 3  # the county is not finalized
