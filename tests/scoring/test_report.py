"""The result as JSON (to_dict), as text (to_text), and what would raise the score."""

import json

import pytest

from village_survey.scoring import improvements, load_criteria, score_farmhouse, to_dict, to_text

from .factories import ONE_STAR, PLAIN, farmhouse


def test_to_dict_has_the_documented_shape_and_is_json():
    data = to_dict(score_farmhouse(ONE_STAR, load_criteria()))
    json.dumps(data, ensure_ascii=False)
    assert {"total", "stars", "base_level", "prerequisites", "categories", "bonus",
            "zero_carbon", "carbon", "energy", "mtf_tier", "criteria", "defaults_used"} <= set(data)
    assert data["criteria"] == "jiujiang-2025"
    assert data["total"] == 60.0 and data["stars"] == 1 and data["base_level"] is True
    assert [p["id"] for p in data["prerequisites"]] == ["P1", "P2", "P3", "P4"]
    assert {"id", "met", "why", "code", "params"} <= set(data["prerequisites"][0])
    assert [c["id"] for c in data["categories"]] == ["A", "B", "C", "D", "E"]
    item = data["categories"][0]["items"][0]
    assert item == {"id": "A1", "label_en": "Roof insulation", "label_zh": "屋面保温",
                    "value": True, "points": 25.0, "max": 25.0, "code": "A1.full",
                    "params": {"roof_insulation": True},
                    "why": "Roof insulation: roof_insulation = yes; 25 of 25 points."}
    assert data["bonus"]["points"] == 10 and data["bonus"]["max"] == 100
    assert {"gross_kgco2e", "avoided_kgco2e", "net_kgco2e", "biogenic_co2_kg",
            "net_kgco2e_per_person"} <= set(data["carbon"])
    assert data["carbon"]["gross_kgco2e"] == 583.6
    assert data["energy"]["electricity"]["bought_kwh"] == 1000


def test_to_dict_rounds_for_output_only():
    result = score_farmhouse(farmhouse(lamps_led=2, lamps_cfl=1), load_criteria())
    data = to_dict(result)
    assert result.measures["efficient_lamp_share"] == 1.0
    assert result.measures["led_share"] == 2 / 3
    assert data["prerequisites"][3]["params"] == {"efficient_lamp_share": 1.0}
    d1 = data["categories"][3]["items"][0]
    assert d1["value"] == 0.6667 and d1["points"] == 12.5


def test_the_total_is_never_rounded_up_to_a_star_threshold():
    # 179 of 199 lamps LED: D1 = 30 × (179/199 − 0.5) / 0.4 = 29.962 → Q = 59.996
    result = score_farmhouse(farmhouse(ONE_STAR, lamps_led=179, lamps_cfl=20), load_criteria())
    assert 59.99 < result.total < 60
    assert result.stars == 0
    assert to_dict(result)["total"] == 59.99


def test_to_text_reads_as_a_report():
    text = to_text(score_farmhouse(farmhouse(ONE_STAR, lpg_kg=None), load_criteria()))
    assert text.startswith("Farmhouse evaluation, criteria jiujiang-2025 (version 2)\n")
    assert "Total 60.00 of 100; stars 1; base level yes; zero-carbon no" in text
    assert "  P3 met     No traditional stove: met" in text
    assert "  D Electrification and efficiency: 45 of 100" in text
    assert "Carbon: gross 583.60 kg CO2e" in text
    assert "Electricity supply tier (MTF): 3" in text
    assert "  - Fuel quantities not answered, taken as 0: lpg_kg." in text


def test_to_text_marks_unmet_prerequisites_and_weak_categories():
    text = to_text(score_farmhouse(farmhouse(visible_danger=True), load_criteria()))
    assert "  P1 NOT MET Safe structure: not met" in text
    assert "(below the floor for stars)" in text


def test_improvements_put_the_largest_gain_first():
    found = improvements(score_farmhouse(PLAIN, load_criteria()))
    # electric or solar cooking (50) and the zero-carbon bonus (50) add 5 points of Q each
    assert [(i.id, i.points_available, i.total_gain) for i in found[:3]] == [
        ("B1", 50, 5.0), ("X1", 50, 5.0), ("C1", 40, 4.0)]
    gains = [i.total_gain for i in found]
    assert gains == sorted(gains, reverse=True)


def test_unmet_prerequisites_come_first_and_count_together():
    found = improvements(score_farmhouse(farmhouse(visible_danger=True, grid_connected=False),
                                         load_criteria()))
    assert [(i.id, i.total_gain, i.requires) for i in found[:2]] == [
        ("P1", 40.0, ("P1", "P2")), ("P2", 40.0, ("P1", "P2"))]


def test_an_item_at_its_maximum_offers_nothing():
    found = improvements(score_farmhouse(farmhouse(roof_insulation=True), load_criteria()))
    assert "A1" not in {i.id for i in found}
    assert next(i for i in found if i.id == "A2").points_available == pytest.approx(25)
