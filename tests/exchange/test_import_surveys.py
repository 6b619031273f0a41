"""Importing surveys taken on paper: the dry run, the two ways to confirm, idempotence, the
revision and audit trail, and a corpus of bad files that each say where and write nothing."""

import pytest
from sqlalchemy import func, select

from tests.exchange.test_import_support import SURVEY_KEYS, csv_bytes, run, survey_rows, xlsx_bytes
from tests.factories import complete_answers, make_user
from village_survey.audit import AuditEvent
from village_survey.areas.models import Household
from village_survey.core.errors import Forbidden
from village_survey.evaluations.models import StoredResult
from village_survey.exchange import columns as exchange_columns
from village_survey.exchange.import_service import ImportRefused
from village_survey.extensions import db
from village_survey.surveys.models import Survey, SurveyRevision

YEAR = 2025


def paper(**overrides):
    return complete_answers(survey_date=f"{YEAR}-06-01", **overrides)


def two_surveys(world):
    return [(world.village_a.code, YEAR, paper()),
            (world.village_a.code, YEAR, paper(house_number="2组5号", head_name="李四", phone=None))]


def snapshot():
    """What an import may write, counted."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Survey, SurveyRevision, Household, AuditEvent, StoredResult))


def letter(key, keys=SURVEY_KEYS):
    from village_survey.exchange.import_report import column_letter

    return column_letter(keys.index(key))


def test_dry_run_reports_each_row_and_writes_nothing(world):
    before = snapshot()
    report = run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(two_surveys(world))))
    assert not report.has_errors
    kinds = {row.row: [o.kind for o in row.outcomes] for row in report.rows}
    # 1组1号 is registered (its phone is new), 2组5号 is not
    assert kinds == {2: ["household_changed", "new_survey"], 3: ["new_household", "new_survey"]}
    assert report.counts() == {"new_household": 1, "household_changed": 1, "new_survey": 2}
    db.session.commit()
    assert snapshot() == before


def test_confirmed_import_makes_approved_surveys_with_one_revision_each_and_audit(world):
    data = xlsx_bytes(survey_rows(two_surveys(world)))
    run(world.reviewer_a, "surveys", data, mode="all", filename="paper-2025.xlsx")
    db.session.commit()
    surveys = db.session.scalars(select(Survey).order_by(Survey.id)).all()
    assert [s.status for s in surveys] == ["approved", "approved"]
    assert surveys[0].household_id == world.household_a.id
    assert surveys[0].answers == paper()
    assert surveys[1].household.house_number == "2组5号" and surveys[1].household.head_name == "李四"
    for survey in surveys:
        assert survey.reviewed_by_id == world.reviewer_a.id and survey.year == YEAR
        assert len(survey.revisions) == 1
        assert survey.revisions[0].status == "approved"
        assert "paper-2025.xlsx" in survey.revisions[0].comment
    assert world.household_a.phone == paper()["phone"]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["survey_imported", "survey_imported", "surveys_imported"]
    summary = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "surveys_imported")).one()
    assert summary.detail["new_survey"] == 2 and summary.target == "file:paper-2025.xlsx"
    # approved: their results are stored and the village's figures counted them
    assert db.session.scalar(select(func.count()).select_from(StoredResult)) >= 2


def test_the_same_file_twice_changes_nothing_the_second_time(world):
    data = xlsx_bytes(survey_rows(two_surveys(world)))
    run(world.reviewer_a, "surveys", data, mode="all")
    db.session.commit()
    stamps = [(s.id, s.revision, s.updated_at) for s in db.session.scalars(select(Survey))]
    counts = snapshot()[:3]
    report = run(world.reviewer_a, "surveys", data, mode="all")
    db.session.commit()
    assert report.counts() == {"unchanged": 2}
    assert snapshot()[:3] == counts
    assert [(s.id, s.revision, s.updated_at) for s in db.session.scalars(select(Survey))] == stamps


def test_a_changed_answer_is_one_more_revision_of_the_approved_survey(world):
    run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(two_surveys(world))), mode="all")
    db.session.commit()
    changed = [(world.village_a.code, YEAR, paper(residents=6))]
    report = run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(changed)), mode="all")
    db.session.commit()
    assert [(o.kind, o.fields) for o in report.rows[0].outcomes] == [("survey_changed", ("residents",))]
    survey = db.session.scalars(select(Survey).where(Survey.household_id == world.household_a.id)).one()
    assert survey.answers["residents"] == 6 and survey.status == "approved" and survey.revision == 2
    assert survey.revisions[-1].changes == {"residents": [4, 6]}


def test_labels_in_chinese_in_a_gbk_csv_are_read(world):
    from tests.exchange.test_import_support import run as run_import
    from village_survey.exchange.import_table import translators

    zh = translators()[0]
    rows = survey_rows(two_surveys(world), labels=True, translate=zh, header="labels")
    assert "是" in rows[1] or "否" in rows[1]  # booleans as labels
    report = run_import(world.reviewer_a, "surveys", csv_bytes(rows, "gbk"), filename="纸质.csv", mode="all")
    assert not report.has_errors, report.as_text()
    db.session.commit()
    survey = db.session.scalars(select(Survey).where(Survey.household_id == world.household_a.id)).one()
    assert survey.answers == paper()


def test_a_second_header_row_of_keys_is_skipped_and_utf8_with_bom_is_read(world):
    rows = survey_rows(two_surveys(world), header="labels")
    rows.insert(1, list(SURVEY_KEYS))
    report = run(world.reviewer_a, "surveys", csv_bytes(rows, "utf-8-sig"), filename="x.csv")
    assert not report.has_errors, report.as_text()
    assert [row.row for row in report.rows] == [3, 4]


def test_whole_file_is_refused_when_a_row_has_an_error_and_valid_rows_only_imports_the_rest(world):
    surveys = two_surveys(world)
    surveys[1][2]["structure"] = "castle"
    data = xlsx_bytes(survey_rows(surveys))
    before = snapshot()
    with pytest.raises(ImportRefused):
        run(world.reviewer_a, "surveys", data, mode="all")
    db.session.rollback()
    assert snapshot() == before
    report = run(world.reviewer_a, "surveys", data, mode="valid")
    db.session.commit()
    assert report.applied and report.valid_only
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 1
    assert db.session.scalar(select(func.count()).where(Household.house_number == "2组5号")) == 0


def test_only_reviewers_and_admins_import(world):
    data = xlsx_bytes(survey_rows(two_surveys(world)))
    for user in (world.surveyor_a, world.viewer_a, world.viewer_city):
        with pytest.raises(Forbidden):
            run(user, "surveys", data)
    assert not run(world.admin, "surveys", data).has_errors


def _bad_rows(world, change):
    """A file of the two surveys, changed by `change(rows)` (rows[0] is the header)."""
    rows = survey_rows(two_surveys(world))
    change(rows)
    return rows


def _set(key, value, row=1):
    def change(rows):
        rows[row][SURVEY_KEYS.index(key)] = value
    return change


# (name, change of the rows, file maker, where the error is: (row, column key or None) or None for the file)
CORPUS = [
    ("unknown code", _set("structure", "castle"), xlsx_bytes, (2, "structure"), "codes"),
    ("unknown label", _set("heating", "地暖"), xlsx_bytes, (2, "heating"), "codes"),
    ("text in a number column", _set("residents", "four"), xlsx_bytes, (2, "residents"), "number"),
    ("text in a number column of a csv", _set("floor_area_m2", "180平米"), csv_bytes, (2, "floor_area_m2"), "number"),
    ("value out of range", _set("residents", 99), xlsx_bytes, (2, "residents"), "30"),
    ("date in the future", _set("survey_date", "2099-01-01"), xlsx_bytes, (2, "survey_date"), ""),
    ("broken cross check", _set("supply_hours", 4), xlsx_bytes,
     (2, "evening_hours"), ""),
    ("required answer empty", _set("storeys", None), xlsx_bytes, (2, "storeys"), ""),
    ("year out of range", _set("year", 1990), xlsx_bytes, (2, "year"), "2000"),
    ("formula cell", _set("residents", "=2+2"), xlsx_bytes, (2, "residents"), "formula"),
    ("formula in a csv", _set("notes", "=HYPERLINK(\"http://x\")", row=2), csv_bytes, (3, "notes"), "formula"),
    ("duplicate household in the file", _set("house_number", "2组5号"), xlsx_bytes, (2, "house_number"), "3"),
    ("same house written two ways", lambda rows: (rows.append(list(rows[2])),
                                                  _set("house_number", "2组05号", row=3)(rows),
                                                  _set("year", YEAR - 1, row=3)(rows),
                                                  _set("survey_date", f"{YEAR - 1}-06-01", row=3)(rows)),
     xlsx_bytes, (4, "house_number"), "2组5号"),
    ("duplicate of a registered household", _set("house_number", "1组01号"), xlsx_bytes, (2, "house_number"),
     "1组1号"),
]


@pytest.mark.parametrize("name, change, make, where, words", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_cells_are_reported_with_row_and_column_and_nothing_is_written(world, name, change, make, where,
                                                                           words):
    data = make(_bad_rows(world, change))
    before = snapshot()
    report = run(world.reviewer_a, "surveys", data)
    row, key = where
    problems = [p for p in report.problems if p.row == row]
    assert problems, report.as_text()
    assert any(p.column == letter(key) for p in problems), report.as_text()
    assert any(words.lower() in p.message.lower() for p in problems), report.as_text()
    if words == "formula":  # said once, not also as a number that is missing
        assert len(problems) == 1, report.as_text()
    with pytest.raises(ImportRefused):
        run(world.reviewer_a, "surveys", data, mode="all")
    db.session.rollback()
    assert snapshot() == before


def test_both_rows_of_a_household_twice_in_the_file_are_refused(world):
    report = run(world.reviewer_a, "surveys", xlsx_bytes(_bad_rows(world, _set("house_number", "2组5号"))))
    assert [row.row for row in report.error_rows] == [2, 3]
    assert "2, 3" in report.error_rows[0].problems[0].message


def test_a_village_outside_the_reviewers_county_is_refused(world):
    rows = _bad_rows(world, _set("village_code", world.village_b.code))
    report = run(world.reviewer_a, "surveys", xlsx_bytes(rows))
    assert [(p.row, p.column) for p in report.problems] == [(2, letter("village_code"))]
    assert world.village_b.code in report.problems[0].message
    # an admin's area is the city
    assert not run(world.admin, "surveys", xlsx_bytes(rows)).has_errors


def test_a_survey_still_in_the_field_is_not_replaced(world):
    from tests.factories import complete_answers as answers

    db.session.add(Survey(uuid="5b0c3f0e-0000-4000-8000-000000000001", household=world.household_a, year=YEAR,
                          form_version=1, status="submitted", answers=answers(), content_hash="x", revision=1))
    db.session.commit()
    report = run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(two_surveys(world))))
    assert [(p.row, p.column) for p in report.problems] == [(2, letter("house_number"))]
    assert "submitted" in report.problems[0].message.lower() or "已提交" in report.problems[0].message


@pytest.mark.parametrize("name, change, words", [
    ("unknown column", lambda rows: rows[0].__setitem__(5, "favourite colour"), "favourite colour"),
    ("column twice", lambda rows: rows[0].__setitem__(5, rows[0][4]), "twice"),
    ("missing column", lambda rows: [row.pop(SURVEY_KEYS.index("residents")) for row in rows], "residents"),
    ("no header", lambda rows: rows.pop(0), "first row"),
])
def test_wrong_or_missing_columns_refuse_the_file(world, name, change, words):
    rows = _bad_rows(world, change)
    report = run(world.reviewer_a, "surveys", xlsx_bytes(rows))
    assert report.file_problems and not report.rows
    assert any(words in p.message for p in report.file_problems), report.as_text()
    with pytest.raises(ImportRefused):
        run(world.reviewer_a, "surveys", xlsx_bytes(rows), mode="valid")


def test_a_survey_id_column_is_kept_for_new_surveys(world):
    keys = ["survey_uuid"] + SURVEY_KEYS
    uuid = "0e0c3f0e-1111-4000-8000-000000000002"
    rows = survey_rows([(world.village_a.code, YEAR, paper())], keys=keys)
    rows[1][0] = uuid
    run(world.reviewer_a, "surveys", xlsx_bytes(rows), mode="all")
    db.session.commit()
    assert db.session.scalar(select(Survey.uuid)) == uuid


def test_columns_left_out_keep_the_answers_an_approved_survey_has(world):
    run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(two_surveys(world))), mode="all")
    db.session.commit()
    keys = [k for k in SURVEY_KEYS if k != "notes"]
    survey = db.session.scalars(select(Survey).where(Survey.household_id == world.household_a.id)).one()
    survey.answers = {**survey.answers, "notes": "纸质问卷"}
    db.session.commit()
    report = run(world.reviewer_a, "surveys", xlsx_bytes(survey_rows(two_surveys(world), keys=keys)))
    assert report.counts() == {"unchanged": 2}, report.as_text()


def test_export_column_keys_are_the_importers(world):
    # The import reads the export's answer columns and place; results and review are read past.
    from village_survey.exchange import import_surveys

    assert [c.key for c in import_surveys.COLUMNS] == list(exchange_columns.IMPORT_KEYS)
    assert {c.key for c in import_surveys.IGNORED} >= {"status", "farmhouse_score", "stars"}


def test_a_reviewer_of_another_county_cannot_see_the_village(world):
    other = make_user("reviewer-b", "reviewer", county=world.county_b)
    db.session.commit()
    report = run(other, "surveys", xlsx_bytes(survey_rows(two_surveys(world))))
    assert {p.column for p in report.problems} == {letter("village_code")}
