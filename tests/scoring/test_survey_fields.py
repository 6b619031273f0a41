"""The survey data dictionary: keys, types, codes, ranges and required rules of form version 1."""

import datetime as dt

import pytest

from village_survey import survey_fields as sf


def test_form_version_1_is_the_supported_version():
    assert sf.FORM_VERSION == 1
    assert sf.SUPPORTED_FORM_VERSIONS == (1,)


def test_every_key_of_survey_fields_md_is_in_the_dictionary():
    documented = {
        "house_number", "head_name", "phone", "residents", "latitude", "longitude",
        "gps_accuracy_m", "survey_date", "year_built", "storeys", "floor_area_m2", "structure",
        "safety_appraisal", "visible_danger", "roof_insulation", "wall_insulation",
        "efficient_windows", "shading", "energy_design", "green_materials", "retrofit_year",
        "electricity_kwh", "electricity_bill_yuan_month", "lpg_kg", "piped_gas_m3", "coal_kg",
        "firewood_kg", "straw_kg", "biogas_m3", "biogas_digester", "primary_stove",
        "secondary_stove", "stove_chimney", "heating", "hot_water", "ac_label_grade",
        "lamps_led", "lamps_cfl", "lamps_incandescent", "grid_connected", "supply_hours",
        "evening_hours", "outages_per_week", "outage_hours_per_week", "voltage_damage",
        "electric_vehicle", "electric_bike", "electric_farm_machinery", "smart_meter",
        "pv_installed", "pv_kwp", "pv_year", "pv_location", "pv_mode", "pv_generation_kwh",
        "battery_kwh", "notes",
    }
    assert set(sf.FIELD_KEYS) == documented
    assert len(sf.FIELD_KEYS) == len(documented)


def test_every_field_has_a_known_type_and_step():
    for f in sf.FIELDS.values():
        assert f.type in sf.TYPES, f.key
        assert f.step in sf.STEPS, f.key
        assert (f.type == "code") == bool(f.codes), f.key


def test_codes_keep_the_documented_order():
    assert sf.codes_of("structure") == ("brick_concrete", "frame", "prefab_steel", "light_steel",
                                        "timber", "earth", "stone", "other")
    assert sf.codes_of("safety_appraisal") == ("A", "B", "C", "D", "none")
    assert sf.codes_of("ac_label_grade") == ("1", "2", "3", "4", "5", "no_ac", "unknown")
    assert sf.codes_of("pv_mode") == ("self_use_surplus", "all_to_grid", "off_grid")


def test_secondary_stove_has_the_primary_codes_and_none():
    assert sf.codes_of("secondary_stove") == sf.codes_of("primary_stove") + ("none",)


def test_units_are_english_and_per_period():
    assert sf.field("electricity_kwh").unit == "kWh / 12 months"
    assert sf.field("electricity_bill_yuan_month").unit == "yuan / month"
    assert sf.field("biogas_m3").unit == "m³ / 12 months"
    assert sf.field("supply_hours").unit == "hours / day"


def test_personal_data_keys_are_marked():
    assert sf.PERSONAL_KEYS == {"head_name", "phone"}


def test_this_year_bounds_come_from_the_date_passed_in():
    assert sf.allowed_range("year_built", today=dt.date(2031, 3, 1)) == (1900, 2031)
    assert sf.allowed_range("pv_year", today=dt.date(2026, 1, 1)) == (2005, 2026)
    assert sf.allowed_range("survey_date", today=dt.date(2026, 4, 2)) == (None, dt.date(2026, 4, 2))


def test_survey_date_is_usually_in_the_survey_year():
    assert sf.usual_range("survey_date", today=dt.date(2026, 2, 1), survey_year=2025) == (
        dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_usual_range_is_narrower_than_allowed_for_residents():
    assert sf.allowed_range("residents") == (0, 30)
    assert sf.usual_range("residents") == (1, 10)


def test_unknown_key_is_named_in_the_error():
    with pytest.raises(KeyError, match="roof_insulaton"):
        sf.field("roof_insulaton")


def test_stove_chimney_is_required_only_for_wood_or_coal_stoves():
    assert sf.is_required("stove_chimney", {"primary_stove": "traditional_wood"})
    assert sf.is_required("stove_chimney", {"primary_stove": "coal"})
    assert not sf.is_required("stove_chimney", {"primary_stove": "electric"})


def test_pv_details_are_required_only_when_pv_is_installed():
    for key in ("pv_kwp", "pv_year", "pv_location", "pv_mode"):
        assert sf.is_required(key, {"pv_installed": True})
        assert not sf.is_required(key, {"pv_installed": False})
    assert not sf.is_required("pv_generation_kwh", {"pv_installed": True})


def test_electricity_needs_one_of_kwh_or_bill():
    assert sf.is_required("electricity_kwh", {})
    assert not sf.is_required("electricity_kwh", {"electricity_bill_yuan_month": 80})
    assert not sf.is_required("electricity_bill_yuan_month", {"electricity_kwh": 1200})


def test_missing_required_lists_the_unanswered_required_keys():
    from .factories import PLAIN, farmhouse
    assert sf.missing_required(PLAIN) == []
    missing = sf.missing_required(farmhouse(roof_insulation=None, electricity_kwh=None))
    assert missing == ["roof_insulation", "electricity_kwh", "electricity_bill_yuan_month"]


def test_cross_checks_catch_contradictory_answers():
    problems = sf.cross_check_problems({
        "primary_stove": "lpg", "secondary_stove": "lpg", "supply_hours": 4, "evening_hours": 5,
        "lamps_led": 0, "lamps_cfl": 0, "lamps_incandescent": 0, "pv_installed": True,
        "pv_kwp": 0, "biogas_m3": 50, "biogas_digester": "broken"})
    assert [p.code for p in problems] == [
        "secondary_stove_differs", "evening_within_supply_hours", "at_least_one_lamp",
        "pv_capacity_positive", "biogas_needs_working_digester"]
    assert problems[-1].severity == "warning"


def test_consistent_answers_pass_the_cross_checks():
    from .factories import ONE_STAR
    assert sf.cross_check_problems({**ONE_STAR, "biogas_m3": 0}) == []
    assert sf.cross_check_problems({"primary_stove": "lpg", "secondary_stove": "none"}) == []


def test_steps_list_their_keys_in_form_order():
    assert sf.keys_in_step("lighting") == ("lamps_led", "lamps_cfl", "lamps_incandescent")
    assert sum(len(sf.keys_in_step(s)) for s in sf.STEPS) == len(sf.FIELD_KEYS)
    with pytest.raises(KeyError, match="photos"):
        sf.keys_in_step("photos")
