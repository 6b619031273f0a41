"""House numbers sort naturally (1组2号 before 1组10号): the key, how it is kept, and the database's order."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text
from sqlalchemy.orm import selectinload

from tests import factories
from village_survey.areas.models import Household, Village
from village_survey.areas.natural import MAX_LENGTH, natural_key
from village_survey.extensions import db

NATURAL = ["1组1号", "1组2号", "1组10号", "2组1号", "10组1号"]


def test_natural_key_orders_digit_runs_by_their_number():
    shuffled = ["10组1号", "1组10号", "2组1号", "1组1号", "1组2号"]
    assert sorted(shuffled, key=natural_key) == NATURAL
    assert sorted(shuffled) != NATURAL  # as plain text, 1组10号 comes before 1组2号


def test_natural_key_reads_full_width_digits_as_ascii_ones():
    assert natural_key("１组１０号") == natural_key("1组10号")
    assert sorted(["１组１０号", "1组2号"], key=natural_key) == ["1组2号", "１组１０号"]


def test_natural_key_ignores_leading_zeros_ascii_case_and_surrounding_spaces():
    assert natural_key("03号") == natural_key("3号")
    assert natural_key(" A栋2号 ") == natural_key("a栋2号")
    assert sorted(["B-2", "a-10", "A-3"], key=natural_key) == ["A-3", "a-10", "B-2"]


def test_natural_key_fits_the_column_however_many_digit_runs():
    longest = "-".join(["1"] * 20)  # 39 characters, 20 digit runs
    assert len(longest) <= 40 and len(natural_key(longest)) == MAX_LENGTH


def _village():
    county = factories.make_county("360402")
    village = factories.make_village(factories.make_township(county))
    db.session.flush()
    return village


def _numbers_in_database_order(village_id):
    return db.session.scalars(select(Household.house_number).where(Household.village_id == village_id)
                              .order_by(Household.sort_key, Household.house_number)).all()


def test_the_orm_keeps_sort_key_in_step_with_the_house_number(app):
    village = _village()
    household = factories.make_household(village, "1组10号")
    assert household.sort_key == natural_key("1组10号")
    household.house_number = "2组3号"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Household, household.id).sort_key == natural_key("2组3号")


def test_core_inserts_compute_sort_key_for_one_row_and_for_many(app):
    village = _village()
    db.session.execute(insert(Household).values(village_id=village.id, house_number="3组7号", head_name="甲"))
    db.session.execute(insert(Household), [{"village_id": village.id, "house_number": n, "head_name": "乙"}
                                           for n in reversed(NATURAL)])
    db.session.execute(insert(Household.__table__), [{"village_id": village.id, "house_number": n,
                                                      "head_name": "丙"} for n in ("4组12号", "4组9号")])
    db.session.commit()
    keys = dict(db.session.execute(select(Household.house_number, Household.sort_key)).all())
    assert keys == {n: natural_key(n) for n in NATURAL + ["3组7号", "4组12号", "4组9号"]}


def test_the_database_orders_sort_key_naturally(app):
    village = _village()
    for number in ["10组1号", "1组10号", "２组１号", "1组1号", "1组2号", "1组1号附1", "a栋1号", "B栋1号"]:
        factories.make_household(village, number)
    db.session.commit()
    assert _numbers_in_database_order(village.id) == ["1组1号", "1组1号附1", "1组2号", "1组10号", "２组１号",
                                                   "10组1号", "a栋1号", "B栋1号"]


def test_the_database_uses_a_binary_comparison_for_sort_key(app):
    """Under a language collation (PostgreSQL's default) '-' and case may be ignored; "C" keeps code points."""
    village = _village()
    numbers = ["1-2", "12", "1-10", "北1号", "中1号", "Z1", "b1"]
    for number in numbers:
        factories.make_household(village, number)
    db.session.commit()
    # The same order as Python's (the API and exports sort in Python): code points, not pinyin.
    assert _numbers_in_database_order(village.id) == sorted(numbers, key=natural_key) == [
        "1-2", "1-10", "12", "b1", "Z1", "中1号", "北1号"]
    if db.engine.dialect.name == "postgresql":
        collation = db.session.execute(text(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'households' AND column_name = 'sort_key'")).scalar()
        assert collation == "C"


def test_the_migration_backfills_sort_key_of_existing_households(app):
    village_id = _village().id
    db.session.commit()
    db.session.remove()
    try:
        downgrade(revision="0004")
        with db.engine.begin() as conn:
            for number in NATURAL:
                conn.execute(text("INSERT INTO households (village_id, house_number, head_name, created_at) "
                                  "VALUES (:v, :n, '张三', CURRENT_TIMESTAMP)"), {"v": village_id, "n": number})
    finally:
        upgrade()
    rows = db.session.execute(select(Household.house_number, Household.sort_key)).all()
    assert dict(rows) == {n: natural_key(n) for n in NATURAL}
    assert _numbers_in_database_order(village_id) == NATURAL



def test_a_villages_households_come_in_natural_order(app):
    village = _village()
    for number in reversed(NATURAL):
        factories.make_household(village, number)
    db.session.commit()
    village_id = village.id
    db.session.remove()
    assert [h.house_number for h in db.session.get(Village, village_id).households] == NATURAL
    loaded = db.session.scalars(select(Village).where(Village.id == village_id)
                                .options(selectinload(Village.households))).one()
    assert [h.house_number for h in loaded.households] == NATURAL
