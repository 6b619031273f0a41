"""Importing the registry of villages and households: admins add and change villages, reviewers
households of their county; duplicates and bad codes are refused by row and column."""

import pytest
from sqlalchemy import func, select

from tests.exchange.test_import_support import REGISTRY_KEYS, csv_bytes, run, xlsx_bytes
from village_survey.areas.models import Household, Township, Village
from village_survey.exchange.import_report import column_letter
from village_survey.exchange.import_service import ImportRefused
from village_survey.extensions import db


def registry(*rows, keys=REGISTRY_KEYS):
    return [list(keys)] + [[row.get(k) for k in keys] for row in rows]


def household(world, number, head, phone=None, village=None, **extra):
    village = village or world.village_a
    township = village.township
    return {"county_code": township.county.code, "township_code": township.code, "township_name": township.name,
            "village_code": village.code, "village_name": village.name,
            "registered_households": village.registered_households, "house_number": number, "head_name": head,
            "phone": phone, **extra}


def new_village_row(world, number="1组1号", head="赵一"):
    return {"county_code": world.county_a.code, "township_code": world.county_a.code + "102",
            "township_name": "丁镇", "village_code": world.county_a.code + "102201", "village_name": "丁村",
            "registered_households": 250, "house_number": number, "head_name": head, "phone": "13900000000"}


def col(key):
    return column_letter(REGISTRY_KEYS.index(key))


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Township, Village, Household))


def test_an_admin_adds_a_township_a_village_and_its_households_once(world):
    rows = registry(new_village_row(world), new_village_row(world, "1组2号", "赵二"),
                    household(world, "1组1号", "王甲"))
    before = counts()
    report = run(world.admin, "registry", xlsx_bytes(rows))
    assert [[o.kind for o in r.outcomes] for r in report.rows] == [
        ["new_village", "new_household"], ["new_household"], ["unchanged"]]
    assert counts() == before
    run(world.admin, "registry", xlsx_bytes(rows), mode="all")
    db.session.commit()
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 2)
    village = db.session.scalars(select(Village).where(Village.name == "丁村")).one()
    assert village.registered_households == 250 and village.township.name == "丁镇"
    assert [h.house_number for h in village.households] == ["1组1号", "1组2号"]
    again = run(world.admin, "registry", xlsx_bytes(rows), mode="all")
    db.session.commit()
    assert again.counts() == {"unchanged": 3} and counts() == (before[0] + 1, before[1] + 1, before[2] + 2)


def test_a_changed_head_or_phone_is_a_household_change(world):
    rows = registry(household(world, "1组1号", "王甲新", phone="13700000000"))
    report = run(world.reviewer_a, "registry", csv_bytes(rows, "gbk"), mode="all")
    db.session.commit()
    assert [(o.kind, o.fields) for o in report.rows[0].outcomes] == [("household_changed", ("head_name", "phone"))]
    assert (world.household_a.head_name, world.household_a.phone) == ("王甲新", "13700000000")


def test_a_reviewer_adds_households_of_the_county_but_not_villages(world):
    report = run(world.reviewer_a, "registry", xlsx_bytes(registry(household(world, "9组9号", "钱九"))))
    assert not report.has_errors and report.counts() == {"new_household": 1}
    refused = run(world.reviewer_a, "registry", xlsx_bytes(registry(new_village_row(world))))
    assert [(p.row, p.column) for p in refused.problems] == [(2, col("village_code"))]
    changed = run(world.reviewer_a, "registry",
                  xlsx_bytes(registry(household(world, "9组9号", "钱九", registered_households=999))))
    assert [(p.row, p.column) for p in changed.problems] == [(2, col("registered_households"))]
    assert run(world.admin, "registry", xlsx_bytes(registry(
        household(world, "9组9号", "钱九", registered_households=999)))).counts() == {
        "village_changed": 1, "new_household": 1}


def test_a_household_outside_the_reviewers_county_is_refused(world):
    report = run(world.reviewer_a, "registry", xlsx_bytes(registry(household(world, "5号", "孙五",
                                                                             village=world.village_b))))
    assert [(p.row, p.column) for p in report.problems] == [(2, col("village_code"))]


@pytest.mark.parametrize("name, rows, where", [
    ("duplicate in the file", lambda w: [household(w, "3组1号", "甲"), household(w, "3组01号", "乙")],
     [(2, "house_number"), (3, "house_number")]),
    ("duplicate of a registered household", lambda w: [household(w, "1组01号", "王甲")], [(2, "house_number")]),
    ("new household without a head", lambda w: [household(w, "3组2号", None)], [(2, "head_name")]),
    ("phone with letters", lambda w: [household(w, "3组3号", "丙", phone="call me")], [(2, "phone")]),
    ("village code of a new village too short", lambda w: [dict(new_village_row(w), village_code="3604021022")],
     [(2, "village_code")]),
    ("number of households as text", lambda w: [household(w, "3组4号", "丁", registered_households="many")],
     [(2, "registered_households")]),
    ("a village given two names", lambda w: [household(w, "3组5号", "戊"),
                                             household(w, "3组6号", "己", village_name="别名村")],
     [(3, "village_name")]),
    ("formula", lambda w: [household(w, "3组7号", "=A1")], [(2, "head_name")]),
])
def test_bad_registry_rows_are_reported_and_nothing_is_written(world, name, rows, where):
    data = xlsx_bytes(registry(*rows(world)))
    before = counts()
    report = run(world.admin, "registry", data)
    assert [(p.row, p.column) for p in report.problems] == [(row, col(key)) for row, key in where], report.as_text()
    with pytest.raises(ImportRefused):
        run(world.admin, "registry", data, mode="all")
    db.session.rollback()
    assert counts() == before


def test_valid_rows_only_writes_the_village_a_valid_row_needs(world):
    first = new_village_row(world, "1组1号", "=1+1")  # refused for its household
    second = new_village_row(world, "1组2号", "赵二")
    report = run(world.admin, "registry", xlsx_bytes(registry(first, second)), mode="valid")
    db.session.commit()
    assert [r.row for r in report.error_rows] == [2]
    village = db.session.scalars(select(Village).where(Village.name == "丁村")).one()
    assert [h.house_number for h in village.households] == ["1组2号"]


def test_registry_missing_its_village_code_column_is_refused(world):
    keys = [k for k in REGISTRY_KEYS if k != "village_code"]
    report = run(world.admin, "registry", xlsx_bytes(registry(household(world, "1号", "甲"), keys=keys)))
    assert report.file_problems and "village_code" in report.file_problems[0].message


def test_one_household_on_several_rows_that_agree_is_imported_once(world):
    rows = registry(household(world, "5组1号", "钱一"), household(world, "5组1号", "钱一"))
    before = counts()
    report = run(world.admin, "registry", xlsx_bytes(rows), mode="all")
    db.session.commit()
    assert [[o.kind for o in r.outcomes] for r in report.rows] == [["new_household"], ["unchanged"]]
    assert counts() == (before[0], before[1], before[2] + 1)


def test_a_survey_export_of_several_years_gives_each_household_its_latest_head(app, world):
    """The registry taken from a survey export of 2025 and 2026: one household per house number,
    with the head and phone of the latest year, whatever the row order; the other columns of the
    export are read past."""
    from tests.exchange.test_import_support import survey_rows
    from tests.factories import complete_answers

    export = survey_rows([
        (world.village_a.code, 2026, complete_answers(house_number="6组1号", head_name="孙新", phone="13900000001")),
        (world.village_a.code, 2025, complete_answers(house_number="6组1号", head_name="孙旧", phone="13900000002")),
        (world.village_a.code, 2025, complete_answers(house_number="6组2号", head_name="周一")),
    ])
    before = counts()
    report = run(world.reviewer_a, "registry", xlsx_bytes(export), mode="all")
    db.session.commit()
    assert not report.has_errors, report.as_text()
    assert report.counts() == {"new_household": 2, "unchanged": 1}
    assert counts() == (before[0], before[1], before[2] + 2)
    new = db.session.scalars(select(Household).where(Household.house_number == "6组1号")).one()
    assert (new.head_name, new.phone) == ("孙新", "13900000001")


def test_two_rows_of_one_household_in_the_same_year_that_disagree_are_refused(world):
    rows = registry(household(world, "7组1号", "吴一", year=2026), household(world, "7组1号", "吴二", year=2026),
                    keys=REGISTRY_KEYS + ["year"])
    report = run(world.admin, "registry", xlsx_bytes(rows))
    assert [r.ok for r in report.rows] == [False, False]
    assert "2, 3" in report.rows[0].problems[0].message


def test_a_masked_export_never_overwrites_names_or_phones(world):
    """An export made without personal data (王**, 139****78) read back as the registry: those
    cells are refused, the registered head and phone stay."""
    rows = registry(household(world, world.household_a.house_number, "王*", phone="139****5678"))
    report = run(world.admin, "registry", xlsx_bytes(rows))
    problems = {p.column: p.message for p in report.rows[0].problems}
    assert set(problems) == {col("head_name"), col("phone")}
    assert "masked" in problems[col("head_name")]
