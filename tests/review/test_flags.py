"""Review flags from plain values: no app, no database."""

import ast
import datetime as dt
from pathlib import Path

import pytest

from village_survey.extensions import db
from village_survey.review import flags
from village_survey.review.flags import Box, FlagRules, SurveyFacts, survey_flags

CITY = Box(28.7, 30.1, 113.9, 116.9, "九江市")
# A village of farmhouses within a few hundred metres of each other.
VILLAGE = [(29.700, 116.000), (29.702, 116.001), (29.699, 115.998), (29.701, 116.003)]


def facts(answers=None, **kwargs):
    base = {"latitude": 29.7005, "longitude": 116.0005, "gps_accuracy_m": 8, "residents": 4}
    defaults = dict(answers={**base, **(answers or {})}, village_points=VILLAGE, area=CITY, has_house_photo=True)
    return SurveyFacts(**(defaults | kwargs))


def codes(result):
    return [(flag["code"], flag["key"]) for flag in result]


def test_a_plain_survey_has_no_flags():
    assert survey_flags(facts()) == []


def test_each_confirmed_warning_is_a_flag_naming_its_answer():
    result = survey_flags(facts(warning_keys=["residents", "electricity_kwh"]))
    assert codes(result) == [("unusual_value", "residents"), ("unusual_value", "electricity_kwh")]


def test_a_position_outside_the_area_is_flagged():
    result = survey_flags(facts({"latitude": 31.2, "longitude": 121.5}, village_points=()))
    assert result == [{"code": "outside_area", "key": "latitude", "area": "九江市"}]


def test_latitude_and_longitude_swapped_are_outside_the_area():
    assert "outside_area" in flags.flag_codes(survey_flags(facts({"latitude": 116.0, "longitude": 29.7})))


def test_a_position_far_from_the_other_farmhouses_of_the_village_is_flagged_with_its_distance():
    result = survey_flags(facts({"latitude": 29.75, "longitude": 116.0}))  # about 5.6 km north
    (flag,) = result
    assert flag["code"] == "far_from_village" and flag["key"] == "latitude"
    assert 5.0 < flag["km"] < 6.0


def test_the_distance_is_not_judged_with_too_few_other_farmhouses():
    assert survey_flags(facts({"latitude": 29.75, "longitude": 116.0}, village_points=VILLAGE[:2])) == []


def test_one_stray_farmhouse_does_not_move_the_village_centre():
    stray = VILLAGE + [(29.9, 116.5)]
    assert survey_flags(facts(village_points=stray)) == []


def test_gps_accuracy_worse_than_50_m_is_flagged_once():
    # The form warns about it too; the flag of its own replaces the unusual-answer one.
    result = survey_flags(facts({"gps_accuracy_m": 80}, warning_keys=["gps_accuracy_m"]))
    assert result == [{"code": "gps_inaccurate", "key": "gps_accuracy_m", "value": 80.0}]
    assert survey_flags(facts({"gps_accuracy_m": 50})) == []


def test_no_photo_of_the_house_is_flagged():
    assert codes(survey_flags(facts(has_house_photo=False))) == [("no_house_photo", None)]


def test_a_number_changed_by_more_than_half_since_last_year_is_flagged():
    last_year = {"residents": 4, "electricity_kwh": 2400, "floor_area_m2": 180}
    result = survey_flags(facts({"electricity_kwh": 9000, "floor_area_m2": 200}, last_year=last_year))
    assert result == [{"code": "changed_from_last_year", "key": "electricity_kwh", "before": 2400,
                       "after": 9000, "share": 2.75}]


def test_a_change_from_nothing_is_not_a_share_and_not_flagged():
    assert survey_flags(facts({"lpg_kg": 30}, last_year={"lpg_kg": 0})) == []


def test_the_share_and_the_compared_answers_are_settings():
    rules = FlagRules.from_settings({"max_change_share": 0.1, "compared_keys": ["floor_area_m2"]})
    result = survey_flags(facts({"floor_area_m2": 200, "residents": 9},
                                last_year={"floor_area_m2": 180, "residents": 4}), rules)
    assert codes(result) == [("changed_from_last_year", "floor_area_m2")]


def test_unknown_rule_settings_are_refused():
    with pytest.raises(ValueError, match="max_share"):
        FlagRules.from_settings({"max_share": 1})


def test_a_survey_done_in_under_three_minutes_is_flagged():
    start = dt.datetime(2026, 3, 15, 2, 0)
    quick = survey_flags(facts(started_at=start, submitted_at=start + dt.timedelta(minutes=2)))
    assert quick == [{"code": "too_quick", "key": None, "minutes": 2.0}]
    assert survey_flags(facts(started_at=start, submitted_at=start + dt.timedelta(minutes=12))) == []
    assert survey_flags(facts(started_at=None, submitted_at=start)) == []  # not known: no judgement


def test_flags_come_in_the_order_of_their_codes():
    result = survey_flags(facts({"gps_accuracy_m": 90, "residents": 9, "latitude": 31.0, "longitude": 121.0},
                                warning_keys=["residents"], has_house_photo=False, last_year={"residents": 4},
                                started_at=dt.datetime(2026, 1, 1), submitted_at=dt.datetime(2026, 1, 1, 0, 1)))
    assert flags.flag_codes(result) == [code for code, _key in codes(result)]
    assert flags.flag_codes(result) == ["unusual_value", "outside_area", "far_from_village", "gps_inaccurate",
                                        "no_house_photo", "changed_from_last_year", "too_quick"]


def test_the_shipped_bounds_hold_the_city_and_a_county_falls_back_to_it(tmp_path):
    bounds = flags.load_bounds()
    assert bounds["city"].contains(29.7, 116.0) and not bounds["city"].contains(31.2, 121.5)
    assert flags.area_of(bounds, "360402") == bounds["city"]
    own = tmp_path / "bounds.toml"
    own.write_text('[city]\nlat = [28.7, 30.1]\nlon = [113.9, 116.9]\n'
                   '[counties."360402"]\nname = "濂溪区"\nlat = [29.5, 29.75]\nlon = [115.85, 116.15]\n',
                   encoding="utf-8")
    assert flags.area_of(flags.load_bounds(own), "360402").name == "濂溪区"


def test_a_broken_bounds_file_names_the_table(tmp_path):
    broken = tmp_path / "bounds.toml"
    broken.write_text('[counties."360402"]\nlat = [29.9, 29.5]\nlon = [115.8, 116.1]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[360402\]"):
        flags.load_bounds(broken)


def test_flags_module_imports_neither_flask_nor_sqlalchemy():
    tree = ast.parse(Path(flags.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"flask", "flask_babel", "sqlalchemy", "village_survey"}


def test_the_village_points_query_reads_the_villages_households_surveys_of_the_year(app, world):
    """The village's other farmhouses of the year with a position, on either database; on SQLite
    (which plans without statistics) the plan reads the village's households, then each one's
    survey of the year, never every survey of the year."""
    from tests.evaluations.conftest import add_survey
    from village_survey.review.flagging import village_points_query

    add_survey(world.village_a, household=world.household_a, latitude=29.1, longitude=116.1)  # its own
    add_survey(world.village_a, latitude=29.2, longitude=116.2)
    add_survey(world.village_a, latitude=29.3, longitude=116.3, year=2025)  # another year
    add_survey(world.village_a2, latitude=29.4, longitude=116.4)  # another village
    add_survey(world.village_a, latitude=None, longitude=None)  # no position
    db.session.commit()
    statement, params = village_points_query(world.village_a.id, 2026, world.household_a.id)
    assert [tuple(p) for p in db.session.execute(statement, params)] == [(29.2, 116.2)]
    assert sorted(tuple(p) for p in db.session.execute(*village_points_query(world.village_a.id, 2026))) == [
        (29.1, 116.1), (29.2, 116.2)]
    if db.engine.dialect.name == "sqlite":
        sql = str(statement.params(params).compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "ix_households_village_id (village_id=?)" in plan, plan
        assert "(household_id=? AND year=?)" in plan, plan
        assert "ix_surveys_year" not in plan, plan


def test_a_photo_changes_only_the_house_photo_flag():
    from village_survey.review.flags import after_photo

    flags = [{"code": "outside_area", "key": "latitude", "area": "360402"}, {"code": "no_house_photo", "key": None},
             {"code": "too_quick", "key": None, "minutes": 3.0}]
    assert after_photo(flags, "stove") is None and after_photo(flags, "roof") is None
    assert after_photo(flags, "house") == [flags[0], flags[2]]
    assert after_photo(flags[:1], "house") is None and after_photo([], "house") is None
    assert after_photo(None, "house") is None
