"""Criteria sets: the shipped set loads and holds every number; broken files are refused with
the file, the line and the reason."""

import pytest

from village_survey.scoring import (
    CriteriaError, available_criteria, load_criteria, load_criteria_file, score_farmhouse,
)
from village_survey.scoring.criteria import CRITERIA_DIR

from .factories import ONE_STAR, PLAIN, farmhouse

SHIPPED = (CRITERIA_DIR / "jiujiang-2025.toml").read_text(encoding="utf-8")
# sha256 of version 1 of jiujiang-2025 from its `name = ` line on, as it was finalized with
V1_BODY_SHA256 = "5db7cb4f410ca129ed6bc5bec68a33c192bace273c8c3e0c73c3f82cdf46f435"


def write_variant(tmp_path, old: str, new: str, name: str = "variant.toml"):
    assert SHIPPED.count(old) == 1, f"the test's anchor {old!r} must be unique"
    text = SHIPPED.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def refusal(path) -> CriteriaError:
    with pytest.raises(CriteriaError) as caught:
        load_criteria_file(path)
    return caught.value


def test_the_shipped_set_is_available_and_loads():
    assert "jiujiang-2025" in available_criteria()
    criteria = load_criteria("jiujiang-2025")
    assert criteria.name == "jiujiang-2025"
    assert criteria.version == 2
    assert [c.id for c in criteria.categories] == ["A", "B", "C", "D", "E"]
    assert [p.id for p in criteria.prerequisites] == ["P1", "P2", "P3", "P4"]
    assert all(c.max == 100 for c in criteria.categories)
    assert criteria.bonus.cap == 100
    assert criteria.star_thresholds == (60, 70, 85)
    assert criteria.category_floor_percent == 30


def test_loaded_sets_are_cached():
    assert load_criteria() is load_criteria("jiujiang-2025")


@pytest.mark.parametrize("name", ["jiujiang-1999", "../criteria/jiujiang-2025", "Jiujiang-2025"])
def test_an_unknown_set_name_is_refused(name):
    with pytest.raises(CriteriaError, match="no criteria set"):
        load_criteria(name)


def test_every_factor_names_its_source_year_and_confidence():
    criteria = load_criteria()
    for factor in criteria.factors.values():
        assert factor.source.strip(), factor.id
        assert 1990 <= factor.year <= 2030, factor.id
        assert factor.confidence in ("✔", "~", "✎"), factor.id


def test_the_jiangxi_grid_factor_is_the_sets_choice():
    criteria = load_criteria()
    assert criteria.carbon.grid_factor_id == "grid_jiangxi_2023"
    assert criteria.carbon.grid_kgco2_per_kwh == 0.5836
    assert criteria.factors["grid_national_2023"].value == 0.5306
    assert criteria.factors["grid_central_china_2023"].value == 0.5271


def test_grades_and_data_sufficiency_rule_are_the_sets_data():
    village = load_criteria().village
    assert [(g.code, g.zh, g.min_score) for g in village.grades] == [
        ("excellent", "优秀", 85), ("good", "良好", 70), ("pass", "合格", 60),
        ("needs_improvement", "待提升", 0)]
    assert village.min_approved_surveys == 10
    assert village.min_coverage == 0.30
    assert sum(i.weight for i in village.indicators) == 100


def test_changing_a_star_threshold_in_the_file_changes_the_stars(tmp_path):
    # without the energy design: Q = 58.5, every category still at 30% or more
    answers = farmhouse(ONE_STAR, energy_design="no")
    assert score_farmhouse(answers, load_criteria()).stars == 0
    path, _ = write_variant(tmp_path, "thresholds = [60, 70, 85]", "thresholds = [50, 70, 85]")
    result = score_farmhouse(answers, load_criteria_file(path))
    assert result.total == pytest.approx(58.5)
    assert result.stars == 1


def test_changing_the_grid_factor_in_the_file_changes_the_carbon(tmp_path):
    path, _ = write_variant(tmp_path, 'grid_factor = "grid_jiangxi_2023"',
                            'grid_factor = "grid_national_2023"')
    result = score_farmhouse(PLAIN, load_criteria_file(path))
    assert result.carbon.gross_kgco2e == pytest.approx(1000 * 0.5306)


def test_unknown_answer_key_is_refused_with_its_line(tmp_path):
    path, text = write_variant(tmp_path, 'key = "roof_insulation"\npoints', 'key = "roof_insulaton"\npoints')
    error = refusal(path)
    assert error.line == line_of(text, '"roof_insulaton"')
    assert "unknown answer key 'roof_insulaton'" in error.reason
    assert str(error).startswith(f"variant.toml:{error.line}: ")


def test_unknown_answer_key_inside_a_definition_is_refused(tmp_path):
    path, text = write_variant(tmp_path, '{ key = "grid_connected", is = true },',
                               '{ key = "grid_conected", is = true },')
    error = refusal(path)
    assert error.line == line_of(text, '"grid_conected"')
    assert "unknown answer key 'grid_conected'" in error.reason


def test_unknown_code_for_a_key_is_refused(tmp_path):
    path, text = write_variant(
        tmp_path, 'points = { solar_thermal = 10, heat_pump = 10, electric = 5, gas = 5,',
        'points = { solar_thermal = 10, heat_pumps = 10, electric = 5, gas = 5,')
    error = refusal(path)
    assert "unknown code 'heat_pumps' for 'hot_water'" in error.reason
    assert error.line == line_of(text, "heat_pumps = 10")


def test_unknown_code_in_a_condition_is_refused(tmp_path):
    path, text = write_variant(tmp_path, '{ key = "safety_appraisal", in = ["A", "B"] }',
                               '{ key = "safety_appraisal", in = ["A", "E"] }')
    error = refusal(path)
    assert "unknown code 'E' for 'safety_appraisal'" in error.reason
    assert error.line == line_of(text, '["A", "E"]')


def test_category_points_that_do_not_add_up_are_refused(tmp_path):
    path, text = write_variant(tmp_path, 'key = "shading"\npoints = 10', 'key = "shading"\npoints = 5')
    error = refusal(path)
    assert "items of category A add up to 95 points, not its maximum 100" in error.reason
    category_a = line_of(text, 'label_en = "Envelope"')
    assert error.line == category_a + 2  # the category's "max = 100"
    assert text.splitlines()[error.line - 1] == "max = 100"


def test_a_factor_without_source_is_refused(tmp_path):
    path, text = write_variant(
        tmp_path,
        'source = "Chinese default parameters for raw coal: 20,908 kJ/kg, 26.37 tC/TJ, oxidation 0.94"\n',
        "")
    error = refusal(path)
    assert "factor 'co2_raw_coal' has no source" in error.reason
    assert error.line == line_of(text, "[factors.co2_raw_coal]")


def test_a_factor_without_year_is_refused(tmp_path):
    path, text = write_variant(tmp_path, "year = 2014\nsource = \"IPCC Fifth Assessment Report (AR5) GWP100 for CH4",
                               "source = \"IPCC Fifth Assessment Report (AR5) GWP100 for CH4")
    error = refusal(path)
    assert "factor 'gwp_ch4' needs the year of its source" in error.reason
    assert error.line == line_of(text, "[factors.gwp_ch4]")


def test_indicator_weights_that_do_not_sum_to_100_are_refused(tmp_path):
    path, text = write_variant(tmp_path, "weight = 20\ntarget = 0.60", "weight = 25\ntarget = 0.60")
    error = refusal(path)
    assert "weights of the village indicators add up to 105, not 100" in error.reason
    assert error.line == line_of(text, "[[village.indicators]]")


def test_unknown_derived_measure_is_refused(tmp_path):
    path, text = write_variant(tmp_path, 'measure = "led_share"', 'measure = "led_ratio"')
    error = refusal(path)
    assert "unknown derived measure 'led_ratio'" in error.reason
    assert error.line == line_of(text, '"led_ratio"')


def test_a_measure_known_only_after_scoring_cannot_score_an_item(tmp_path):
    path, text = write_variant(tmp_path, 'when = { measure = "mtf_tier", at_least = 4 }',
                               'when = { measure = "stars", at_least = 1 }')
    error = refusal(path)
    assert "'stars'" in error.reason and "only known after scoring" in error.reason
    assert error.line == line_of(text, '"stars", at_least = 1')


def test_a_misspelt_field_is_refused(tmp_path):
    path, text = write_variant(tmp_path, 'key = "roof_insulation"\npoints = 25',
                               'key = "roof_insulation"\npionts = 25')
    error = refusal(path)
    assert "unknown field 'pionts' in item A1" in error.reason
    assert error.line == line_of(text, "pionts = 25")


def test_definitions_that_refer_to_each_other_are_refused(tmp_path):
    path, text = write_variant(
        tmp_path, 'efficient_lighting = { measure = "efficient_lamp_share", at_least = 0.8 }',
        'efficient_lighting = { ref = "lighting_again" }\n'
        'lighting_again = { ref = "efficient_lighting" }')
    error = refusal(path)
    assert "cycle: efficient_lighting -> lighting_again -> efficient_lighting" in error.reason
    assert error.line == line_of(text, 'efficient_lighting = { ref')


def test_a_factor_in_the_wrong_unit_is_refused(tmp_path):
    path, text = write_variant(tmp_path, 'value = 0.5836\nunit = "kg CO2/kWh"',
                               'value = 583.6\nunit = "kg CO2/MWh"')
    error = refusal(path)
    assert "'grid_jiangxi_2023'" in error.reason and "expected 'kg CO2/kWh'" in error.reason
    assert error.line == line_of(text, 'unit = "kg CO2/MWh"')


def test_a_toml_syntax_error_is_refused_with_its_line(tmp_path):
    path, text = write_variant(tmp_path, "divisor = 10", "divisor = = 10")
    error = refusal(path)
    assert "not valid TOML" in error.reason
    assert error.line == line_of(text, "divisor = = 10")


def test_a_missing_file_is_refused():
    with pytest.raises(CriteriaError, match="cannot read the file"):
        load_criteria_file(CRITERIA_DIR / "no-such-set.toml")


# ---------------------------------------------------------------- versions of a set


def test_the_current_version_is_loaded_by_default_and_by_its_number():
    assert load_criteria("jiujiang-2025", version=2) is load_criteria("jiujiang-2025")


def test_a_previous_version_stays_loadable_for_the_evaluations_made_with_it():
    old = load_criteria("jiujiang-2025", version=1)
    assert (old.name, old.version) == ("jiujiang-2025", 1)
    assert old.path.name == "jiujiang-2025.v1.toml"
    assert "rooftop_pv_rate" in {i.id for i in old.village.indicators}
    assert load_criteria("jiujiang-2025", version=1) is old


def test_a_previous_version_is_not_listed_as_a_set_of_its_own():
    assert "jiujiang-2025.v1" not in available_criteria()
    with pytest.raises(CriteriaError, match="no criteria set"):
        load_criteria("jiujiang-2025.v1")


@pytest.mark.parametrize("version", [0, 3, "1"])
def test_an_unknown_version_is_refused(version):
    with pytest.raises(CriteriaError, match="no version"):
        load_criteria("jiujiang-2025", version=version)


def test_a_previous_version_whose_file_says_another_version_is_refused(tmp_path, monkeypatch):
    from village_survey.scoring import criteria as criteria_module
    monkeypatch.setattr(criteria_module, "CRITERIA_DIR", tmp_path)
    (tmp_path / "jiujiang-2025.toml").write_text(SHIPPED, encoding="utf-8")
    (tmp_path / "jiujiang-2025.v1.toml").write_text(SHIPPED, encoding="utf-8")  # says version 2
    with pytest.raises(CriteriaError, match="version 2, not 1"):
        load_criteria("jiujiang-2025", version=1)


def test_version_1_is_kept_as_it_was_finalized_with():
    # the scoring data of version 1, as shipped when the first evaluations were finalized: a
    # previous version is never edited (only its header comment says what it is)
    import hashlib
    text = (CRITERIA_DIR / "jiujiang-2025.v1.toml").read_text(encoding="utf-8")
    body = text[text.index('name = "jiujiang-2025"'):]
    assert hashlib.sha256(body.encode()).hexdigest() == V1_BODY_SHA256


def test_a_breakdown_must_be_a_code_answer(tmp_path):
    path, text = write_variant(tmp_path, 'breakdown = "pv_location"', 'breakdown = "pv_kwp"')
    error = refusal(path)
    assert "breakdown" in error.reason and "'pv_kwp'" in error.reason
    assert error.line == line_of(text, 'breakdown = "pv_kwp"')


def test_only_a_rate_has_a_breakdown(tmp_path):
    path, text = write_variant(tmp_path, 'denominator = "persons"\n',
                               'denominator = "persons"\nbreakdown = "pv_location"\n')
    error = refusal(path)
    assert "only a rate" in error.reason
