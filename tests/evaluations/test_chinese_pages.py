"""The evaluation pages in Chinese: grade words, headings, years and units in Chinese as a reader
expects them, not the codes, English words or number formats that leaked before."""

import re

from flask_babel import force_locale

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.evaluations.test_pages import in_english
from tests.factories import make_village
from village_survey.evaluations import finalizing, services
from village_survey.evaluations.labels import grade_label
from village_survey.extensions import db
from village_survey.scoring import load_criteria

CHINESE_GRADES = {"优秀", "良好", "合格", "待提升", "数据不足"}


def grade_words(html):
    return {(code, word.strip()) for code, word in re.findall(r'data-grade="(\w+)">([^<]*)<', html)}


def graded_villages(world):
    world.village_a.registered_households = 12
    add_surveys(world.village_a, 11, seed=60)
    second = make_village(world.township_a, "201", "泉兴村", registered=10)
    add_surveys(second, 10, seed=61, status="approved")
    db.session.commit()
    return second


def test_grade_words_are_chinese_in_the_lists_and_area_rows(auth, world, client):
    graded_villages(world)
    auth.login("admin")
    pages = [f"/evaluations/?year={YEAR}&level=village", f"/evaluations/?year={YEAR}&level=township",
             f"/evaluations/township/{world.township_a.id}?year={YEAR}", f"/evaluations/city?year={YEAR}"]
    for page in pages:
        words = grade_words(client.get(page).get_data(as_text=True))
        assert words and {word for _, word in words} <= CHINESE_GRADES, (page, words)
    # a finalized township's frozen area rows too
    finalizing.finalize(world.admin, services.Area("township", world.township_a.id), YEAR, load_criteria())
    db.session.commit()
    words = grade_words(client.get(f"/evaluations/township/{world.township_a.id}?year={YEAR}").get_data(as_text=True))
    assert {word for _, word in words} <= CHINESE_GRADES


def test_grade_words_of_rows_stored_without_them_come_from_the_criteria_set(app):
    row = {"grade": "good", "insufficient_data": False}  # as area rows were stored before
    with app.test_request_context(), force_locale("zh_CN"):
        assert grade_label(row) == "良好"
    with app.test_request_context(), force_locale("en"):
        assert grade_label(row) == "good"


def test_headings_do_not_repeat_the_level_the_name_says(auth, world, client):
    second = graded_villages(world)
    plain = make_village(world.township_a, "202", "Hill", registered=10)  # a name without 村
    db.session.commit()
    auth.login("admin")
    village = client.get(f"/evaluations/village/{second.id}?year={YEAR}").get_data(as_text=True)
    assert f"<h1>泉兴村 <small>{YEAR}</small></h1>" in village and "泉兴村 村" not in village
    township = client.get(f"/evaluations/township/{world.township_a.id}?year={YEAR}").get_data(as_text=True)
    assert f"<h1>甲镇 <small>{YEAR}</small></h1>" in township
    county = client.get(f"/evaluations/county/{world.county_a.id}?year={YEAR}").get_data(as_text=True)
    assert f"<h1>濂溪区 <small>{YEAR}</small></h1>" in county
    city = client.get(f"/evaluations/city?year={YEAR}").get_data(as_text=True)
    assert f"<h1>九江市 <small>{YEAR}</small></h1>" in city
    assert f"<h1>Hill <small>村 · {YEAR}</small></h1>" in client.get(
        f"/evaluations/village/{plain.id}?year={YEAR}").get_data(as_text=True)
    confirm = client.get(f"/evaluations/village/{second.id}/finalize?year={YEAR}").get_data(as_text=True)
    assert "泉兴村 · 村" not in confirm and f"泉兴村 · {YEAR}" in confirm
    auth.post("/logout")
    in_english(auth, "reviewer-a")  # in English the level is said
    english = client.get(f"/evaluations/village/{second.id}?year={YEAR}").get_data(as_text=True)
    assert f"<h1>泉兴村 <small>Village · {YEAR}</small></h1>" in english


def test_years_in_the_score_card_are_written_without_a_thousands_separator(auth, world, client):
    survey = add_survey(world.village_a, year_built=2012, retrofit_year=2019, pv_year=2021)
    db.session.commit()
    auth.login("surveyor-a")
    html = client.get(f"/evaluations/farmhouses/{survey.uuid}").get_data(as_text=True)
    assert "建成年份 = 2012" in html and "最近一次节能改造年份 = 2019" in html
    assert not re.search(r"\b20,\d\d\d\b|2,0\d\d", html)


def energy_table(html):
    return re.search(r"<table data-energy>.*?</table>", html, re.S).group(0)


def test_electricity_on_the_chinese_score_card_is_in_kilowatt_hours_in_chinese(auth, world, client):
    survey = add_survey(world.village_a, electricity_kwh=3158)
    db.session.commit()
    auth.login("surveyor-a")
    table = energy_table(client.get(f"/evaluations/farmhouses/{survey.uuid}").get_data(as_text=True))
    grid = re.search(r'data-carrier="grid_electricity">.*?</tr>', table, re.S).group(0)
    assert "3,158 千瓦时" in grid and "kWh" not in table
    assert "千瓦时" in re.search(r'data-carrier="lpg">.*?</tr>', table, re.S).group(0)


def test_fuel_units_on_the_chinese_score_card_are_chinese(auth, world, client):
    """Needs the catalog entries of /tmp/i18n/evaluations.tsv (kg, kgce, m³) merged."""
    survey = add_survey(world.village_a, lpg_kg=90, piped_gas_m3=40)
    db.session.commit()
    auth.login("surveyor-a")
    table = energy_table(client.get(f"/evaluations/farmhouses/{survey.uuid}").get_data(as_text=True))
    lpg = re.search(r'data-carrier="lpg">.*?</tr>', table, re.S).group(0)
    assert "90 千克" in lpg and "千克标准煤" in lpg
    assert "立方米" in re.search(r'data-carrier="natural_gas">.*?</tr>', table, re.S).group(0)
    assert not re.search(r"\b(kgce|kg|m³)\b", table)
