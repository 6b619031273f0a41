"""Village, township, county and city evaluations, checked against a naive recomputation."""

import json
import random

import pytest

from village_survey.scoring import (
    INSUFFICIENT_DATA, evaluate_areas, evaluate_village, evaluation_to_dict, farmhouse_record,
    load_criteria, load_criteria_file, score_farmhouse, score_farmhouse_record,
)

from .factories import ONE_STAR, farmhouse, random_farmhouse

# CRITERIA.md's village table: (weight, target)
TABLE = {
    "green_farmhouse_rate": (20, 0.60), "star_farmhouse_rate": (10, 0.30),
    "clean_cooking_rate": (15, 0.90), "efficient_lighting_rate": (5, 0.95),
    "pv_household_rate": (15, 0.30), "modern_renewable_share": (10, 0.15),
    "envelope_rate": (10, 0.40), "net_co2e_per_person": (10, 1.0),
    "survey_coverage": (5, 0.90),
}
CLEAN_STOVES = {"electric", "gas", "piped_gas", "lpg", "biogas", "solar"}


def scored(answer_list):
    criteria = load_criteria()
    return [(a, score_farmhouse(a, criteria)) for a in answer_list]


def naive_values(pairs, registered) -> dict:
    """Every indicator straight from CRITERIA.md's words, from answers and results."""
    n = len(pairs)

    def share(test):
        return sum(1 for a, r in pairs if test(a, r)) / n

    def efficient(a):
        lamps = a["lamps_led"] + a["lamps_cfl"] + a["lamps_incandescent"]
        return lamps > 0 and (a["lamps_led"] + a["lamps_cfl"]) / lamps >= 0.8

    return {
        "green_farmhouse_rate": share(lambda a, r: r.base_level),
        "star_farmhouse_rate": share(lambda a, r: r.stars >= 1),
        "clean_cooking_rate": share(lambda a, r: a["primary_stove"] in CLEAN_STOVES),
        "efficient_lighting_rate": share(lambda a, r: efficient(a)),
        # PV at any place the plan names: house roof, courtyard, farm building (version 2)
        "pv_household_rate": share(lambda a, r: a["pv_installed"] and a["pv_location"]
                                   in ("roof", "courtyard", "farm_building")),
        "modern_renewable_share": sum(r.energy.modern_renewable_kgce for _, r in pairs)
        / sum(r.energy.final_kgce for _, r in pairs),
        "envelope_rate": share(lambda a, r: a["roof_insulation"] + a["wall_insulation"]
                               + a["efficient_windows"] >= 2),
        "net_co2e_per_person": sum(r.carbon.net_kgco2e for _, r in pairs) / 1000
        / sum(max(1, a["residents"]) for a, _ in pairs),
        "survey_coverage": n / registered,
    }


def naive_score(values) -> float:
    total = 0.0
    for key, (weight, target) in TABLE.items():
        value = values[key]
        if key == "net_co2e_per_person":
            score = 100.0 if value <= 0 else min(100.0, 100 * target / value)
        else:
            score = min(100.0, 100 * value / target)
        total += weight * score
    return total / 100


def random_village(seed, n):
    rng = random.Random(seed)
    return [random_farmhouse(rng) for _ in range(n)]


def test_village_indicators_match_a_naive_recomputation():
    pairs = scored(random_village(1, 60))
    evaluation = evaluate_village([r for _, r in pairs], 150, load_criteria(), key="v1")
    expected = naive_values(pairs, 150)
    values = {i.id: i.value for i in evaluation.indicators}
    assert values == pytest.approx(expected)
    assert {i.id: (i.weight, i.target) for i in evaluation.indicators} == TABLE
    assert evaluation.score == pytest.approx(naive_score(expected))
    assert evaluation.approved_surveys == 60
    assert evaluation.coverage == pytest.approx(0.4)
    assert evaluation.star_counts == tuple(
        sum(1 for _, r in pairs if r.stars == s) for s in range(4))


def test_records_aggregate_exactly_like_full_results():
    answers = random_village(2, 40)
    criteria = load_criteria()
    results = [score_farmhouse(a, criteria) for a in answers]
    records = [score_farmhouse_record(a, criteria) for a in answers]
    assert records == [farmhouse_record(r) for r in results]
    assert evaluate_village(results, 50, criteria) == evaluate_village(records, 50, criteria)


def village_of(n, base=ONE_STAR, **overrides):
    criteria = load_criteria()
    return [score_farmhouse_record(farmhouse(base, **overrides), criteria)] * n


@pytest.mark.parametrize("overrides, registered, score, grade", [
    ({}, 10, 50.0, "needs_improvement"),
    ({"wall_insulation": True}, 10, 60.0, "pass"),
    ({"wall_insulation": True}, 12, 60 - 5 * (1 - (10 / 12) / 0.9), "needs_improvement"),
    ({"primary_stove": "electric", "wall_insulation": True}, 10, 75.0, "good"),
    ({"primary_stove": "electric", "wall_insulation": True, "pv_installed": True, "pv_kwp": 3,
      "pv_mode": "self_use_surplus", "pv_location": "roof"}, 10, 100.0, "excellent"),
])
def test_village_grades(overrides, registered, score, grade):
    # ten identical one-star farmhouses: green 20 + stars 10 + lighting 5 + CO2 10 + coverage 5
    # = 50; two envelope measures add 10, electric cooking 15, PV households 15 + renewables 10
    evaluation = evaluate_village(village_of(10, **overrides), registered, load_criteria())
    assert evaluation.score == pytest.approx(score)
    assert evaluation.grade == grade
    grades = {"excellent": "优秀", "good": "良好", "pass": "合格", "needs_improvement": "待提升"}
    assert evaluation.grade_zh == grades[grade]


def test_nine_surveys_are_insufficient_data_and_ten_are_enough():
    nine = evaluate_village(village_of(9), 10, load_criteria())
    assert nine.grade == INSUFFICIENT_DATA and nine.insufficient_data
    assert [r.code for r in nine.reasons] == ["too_few_surveys"]
    assert nine.reasons[0].params == {"approved": 9, "minimum": 10}
    assert nine.score is not None  # the score is shown, without a grade
    assert not evaluate_village(village_of(10), 10, load_criteria()).insufficient_data


def test_coverage_below_30_percent_is_insufficient_data():
    low = evaluate_village(village_of(29), 100, load_criteria())
    assert low.grade == INSUFFICIENT_DATA
    assert [r.code for r in low.reasons] == ["coverage_too_low"]
    assert low.reasons[0].why == "Survey coverage 29% is below the 30% a grade needs."
    enough = evaluate_village(village_of(30), 100, load_criteria())
    assert enough.coverage == 0.3
    assert enough.grade != INSUFFICIENT_DATA


def test_unknown_registered_households_are_insufficient_data():
    evaluation = evaluate_village(village_of(20), None, load_criteria())
    assert [r.code for r in evaluation.reasons] == ["registered_households_unknown"]
    assert evaluation.coverage is None


def test_a_village_without_surveys_has_no_score():
    evaluation = evaluate_village([], 80, load_criteria())
    assert evaluation.score is None
    assert [r.code for r in evaluation.reasons] == ["no_surveys", "too_few_surveys",
                                                    "coverage_too_low"]


def test_areas_pool_farmhouses_instead_of_averaging_villages():
    criteria = load_criteria()
    clean = village_of(10, primary_stove="electric")
    smoky = village_of(30, primary_stove="traditional_wood")
    evaluations = evaluate_areas(
        [("v-clean", 10, clean), ("v-smoky", 100, smoky)],
        {"v-clean": ("t1", "c1"), "v-smoky": ("t1", "c1")}, criteria, city_key="360400")
    township = evaluations.townships["t1"]
    rate = {i.id: i.value for i in township.indicators}["clean_cooking_rate"]
    assert rate == pytest.approx(10 / 40)  # a mean of the village rates would be 0.5
    assert township.coverage == pytest.approx(40 / 110)
    assert township.registered_households == 110
    assert township.villages == 2
    assert evaluations.city.key == "360400"


def test_every_level_equals_one_pooled_village_of_its_farmhouses():
    criteria = load_criteria()
    villages = []
    hierarchy = {}
    for n in range(6):
        answers = random_village(100 + n, 12 + 5 * n)
        villages.append((f"v{n}", 40 + 10 * n, [score_farmhouse_record(a, criteria)
                                                for a in answers]))
        hierarchy[f"v{n}"] = (f"t{n // 2}", f"c{n // 4}")
    evaluations = evaluate_areas(villages, hierarchy, criteria)

    def pooled(keys):
        chosen = [v for v in villages if v[0] in keys]
        return evaluate_village([r for v in chosen for r in v[2]],
                                sum(v[1] for v in chosen), criteria)

    def values(evaluation):
        return [i.value for i in evaluation.indicators]

    for area, keys in (("t0", {"v0", "v1"}), ("t2", {"v4", "v5"})):
        assert values(evaluations.townships[area]) == pytest.approx(values(pooled(keys)))
        assert evaluations.townships[area].score == pytest.approx(pooled(keys).score)
    county = evaluations.counties["c0"]
    assert county.score == pytest.approx(pooled({"v0", "v1", "v2", "v3"}).score)
    assert county.approved_surveys == sum(len(v[2]) for v in villages[:4])
    city = evaluations.city
    assert city.score == pytest.approx(pooled({v[0] for v in villages}).score)
    assert city.level == "city" and city.villages == 6
    assert set(evaluations.villages) == {f"v{n}" for n in range(6)}


def test_an_area_leaves_villages_of_unknown_size_out_of_its_coverage():
    evaluations = evaluate_areas([("a", 20, village_of(10)), ("b", None, village_of(5))],
                                 {"a": ("t", "c"), "b": ("t", "c")}, load_criteria())
    township = evaluations.townships["t"]
    assert township.approved_surveys == 15
    assert township.coverage == pytest.approx(10 / 20)
    assert township.villages_without_registered_count == 1
    assert evaluations.villages["b"].grade == INSUFFICIENT_DATA


def test_farmhouses_of_another_criteria_set_are_refused(tmp_path):
    from village_survey.scoring.criteria import CRITERIA_DIR
    text = (CRITERIA_DIR / "jiujiang-2025.toml").read_text(encoding="utf-8")
    path = tmp_path / "other.toml"
    path.write_text(text.replace('name = "jiujiang-2025"', 'name = "jiujiang-2026"'),
                    encoding="utf-8")
    other = score_farmhouse_record(ONE_STAR, load_criteria_file(path))
    with pytest.raises(ValueError, match="jiujiang-2026"):
        evaluate_village([other], 10, load_criteria())


def test_a_village_listed_twice_or_outside_the_hierarchy_is_refused():
    criteria = load_criteria()
    with pytest.raises(ValueError, match="listed twice"):
        evaluate_areas([("a", 1, []), ("a", 1, [])], {"a": ("t", "c")}, criteria)
    with pytest.raises(ValueError, match="no township"):
        evaluate_areas([("z", 1, [])], {"a": ("t", "c")}, criteria)


def test_evaluations_convert_to_json():
    evaluation = evaluate_village(village_of(29), 100, load_criteria(), key="v9")
    data = evaluation_to_dict(evaluation)
    json.dumps(data, ensure_ascii=False)
    assert data["grade"] == INSUFFICIENT_DATA and data["insufficient_data"] is True
    assert data["key"] == "v9"
    assert [i["id"] for i in data["indicators"]] == list(TABLE)
