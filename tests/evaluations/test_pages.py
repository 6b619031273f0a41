"""Evaluation pages: the score card, an area's evaluation, the sortable list, finalizing, scope."""

import re

import pytest
from sqlalchemy import select

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.factories import make_county, make_township, make_user, make_village
from village_survey.audit import AuditEvent
from village_survey.evaluations.models import Evaluation
from village_survey.extensions import db


def in_english(auth, username):
    auth.login(username)
    auth.post("/language", {"locale": "en", "next": "/"})


def test_score_card_shows_prerequisites_items_and_what_would_raise_the_score(auth, world, client):
    survey = add_survey(world.village_a, status="submitted", primary_stove="traditional_wood",
                        secondary_stove="none", stove_chimney=False, electricity_kwh=None)
    db.session.commit()
    in_english(auth, "surveyor-a")
    response = client.get(f"/evaluations/farmhouses/{survey.uuid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-prerequisite="P3" data-met="no"', html)
    assert 'data-prerequisite="P1" data-met="yes"' in html
    improvements = re.findall(r'data-improvement="(\w+)"', html)
    assert improvements and improvements[0] == "P3"  # the unmet prerequisite is worth most
    assert 'data-item="B1"' in html and 'data-category="E"' in html
    assert "does not count in evaluations" in html  # submitted, not approved
    assert 'data-default="electricity_missing"' in html
    assert "Neither electricity kWh nor the monthly bill was answered" in html


def test_score_card_uses_the_criteria_labels_of_the_language(auth, world, client):
    survey = add_survey(world.village_a)
    db.session.commit()
    auth.login("surveyor-a")
    html = client.get(f"/evaluations/farmhouses/{survey.uuid}").get_data(as_text=True)
    assert "屋面保温" in html and "Roof insulation" not in html
    assert "does not count" not in html


def test_survey_page_links_to_its_score_card(auth, world, client):
    survey = add_survey(world.village_a)
    db.session.commit()
    auth.login("surveyor-a")
    assert f"/evaluations/farmhouses/{survey.uuid}" in client.get(f"/surveys/{survey.uuid}").get_data(as_text=True)


def test_village_evaluation_shows_indicators_grade_and_farmhouses(auth, world, client):
    world.village_a.registered_households = 20
    surveys = add_surveys(world.village_a, 12, seed=20)
    db.session.commit()
    in_english(auth, "surveyor-a")
    assert f"/evaluations/village/{world.village_a.id}" in client.get(
        f"/areas/villages/{world.village_a.id}").get_data(as_text=True)
    html = client.get(f"/evaluations/village/{world.village_a.id}?year={YEAR}").get_data(as_text=True)
    assert "data-preview" in html and "data-insufficient" not in html
    assert len(re.findall(r"data-indicator=", html)) == 9
    assert "Clean cooking rate" in html and "data-finalize-link" not in html  # surveyors do not finalize
    assert set(re.findall(r'data-farmhouse="([^"]+)"', html)) == {s.uuid for s in surveys}
    assert "李四" in html  # head names within scope


def test_village_with_too_few_surveys_shows_insufficient_data_not_a_grade(auth, world, client):
    world.village_a.registered_households = 20
    add_surveys(world.village_a, 9, seed=21)
    db.session.commit()
    in_english(auth, "reviewer-a")
    html = client.get(f"/evaluations/village/{world.village_a.id}?year={YEAR}").get_data(as_text=True)
    assert 'data-grade="insufficient_data"' in html and "data-insufficient" in html
    assert "9 approved surveys, fewer than the 10 a grade needs." in html
    for grade in ("excellent", "good", "pass", "needs_improvement"):
        assert f'data-grade="{grade}"' not in html


def test_farmhouse_list_sorts_by_score(auth, world, client):
    low = add_survey(world.village_a, primary_stove="traditional_wood", stove_chimney=False, visible_danger=True)
    high = add_survey(world.village_a, wall_insulation=True, green_materials=True)
    mid = add_survey(world.village_a)
    db.session.commit()
    auth.login("reviewer-a")
    base = f"/evaluations/village/{world.village_a.id}?year={YEAR}&sort=score"
    order = re.findall(r'data-farmhouse="([^"]+)"', client.get(base + "&dir=desc").get_data(as_text=True))
    assert order == [high.uuid, mid.uuid, low.uuid]
    order = re.findall(r'data-farmhouse="([^"]+)"', client.get(base + "&dir=asc").get_data(as_text=True))
    assert order == [low.uuid, mid.uuid, high.uuid]


def test_area_list_sorts_by_score_name_and_coverage(auth, world, client):
    world.village_a.registered_households = 12
    second = make_village(world.township_a, "201", "二村", registered=10)
    third = make_village(world.township_a2, "201", "三村", registered=30)
    ungraded = make_village(world.township_a2, "202", "四村", registered=9)
    for _ in range(10):
        add_survey(world.village_a, primary_stove="traditional_wood", stove_chimney=False)
        add_survey(second, wall_insulation=True, green_materials=True)
        add_survey(third)
    for _ in range(9):  # the best farmhouses, but too few surveys for a grade
        add_survey(ungraded, wall_insulation=True, green_materials=True, structure="light_steel")
    db.session.commit()
    auth.login("reviewer-a")

    def order(query):
        html = client.get(f"/evaluations/?year={YEAR}&level=village&{query}").get_data(as_text=True)
        return re.findall(r'data-area="village:(\d+)"', html)

    a, b, c, d, empty = (str(v.id) for v in (world.village_a, second, third, ungraded, world.village_a2))
    # a ranking by score lists the graded villages first, then those with insufficient data
    assert order("sort=score&dir=desc") == [b, c, a, d, empty]
    assert order("sort=score&dir=asc") == [a, c, b, d, empty]
    assert order("sort=coverage&dir=desc") == [b, d, a, c, empty]
    assert order("sort=coverage&dir=asc") == [empty, c, a, b, d]  # no surveys: a coverage of 0
    codes = sorted((v.code, str(v.id)) for v in (world.village_a, second, third, ungraded, world.village_a2))
    assert order("sort=name&dir=asc") == [i for _, i in codes]
    assert order("sort=name&dir=desc") == [i for _, i in reversed(codes)]
    townships = client.get(f"/evaluations/?year={YEAR}&level=township").get_data(as_text=True)
    assert set(re.findall(r'data-area="township:(\d+)"', townships)) == {str(world.township_a.id),
                                                                         str(world.township_a2.id)}


def test_dashboard_links_to_the_evaluations(auth, world, client):
    auth.login("viewer-a")
    assert 'href="/evaluations/"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("username, path", [
    ("surveyor-b", "/evaluations/village/{village_a}"),
    ("surveyor-a", "/evaluations/township/{township_a2}"),
    ("surveyor-a", "/evaluations/county/{county_a}"),
    ("reviewer-a", "/evaluations/village/{village_b}"),
    ("reviewer-a", "/evaluations/county/{county_b}"),
    ("viewer-a", "/evaluations/city"),
    ("reviewer-a", "/evaluations/region/{village_a}"),
    ("surveyor-b", "/evaluations/farmhouses/{survey}"),
])
def test_pages_outside_the_users_area_are_404(auth, world, client, username, path):
    survey = add_survey(world.village_a)
    db.session.commit()
    auth.login(username)
    ids = {"village_a": world.village_a.id, "village_b": world.village_b.id, "township_a2": world.township_a2.id,
           "county_a": world.county_a.id, "county_b": world.county_b.id, "survey": survey.uuid}
    assert client.get(path.format(**ids)).status_code == 404


@pytest.mark.parametrize("username, path", [
    ("viewer-city", "/evaluations/city"),
    ("viewer-a", "/evaluations/county/{county_a}"),
    ("surveyor-a", "/evaluations/township/{township_a}"),
])
def test_pages_within_the_users_area_are_shown(auth, world, client, username, path):
    auth.login(username)
    ids = {"county_a": world.county_a.id, "township_a": world.township_a.id}
    assert client.get(path.format(**ids)).status_code == 200


def _finalize(auth, path):
    return auth.post(f"{path}/finalize", {"year": YEAR}, token_from=path)


def test_reviewer_finalizes_a_village_and_the_page_shows_it_frozen(auth, world, client):
    add_surveys(world.village_a, 10, seed=22)
    db.session.commit()
    in_english(auth, "reviewer-a")
    path = f"/evaluations/village/{world.village_a.id}"
    assert f'href="{path}/finalize?year={YEAR}' in client.get(f"{path}?year={YEAR}").get_data(as_text=True)
    assert "data-finalize-form" in client.get(f"{path}/finalize?year={YEAR}").get_data(as_text=True)
    response = _finalize(auth, path)
    assert response.status_code == 303
    stored = db.session.scalars(select(Evaluation)).one()
    assert (stored.level, stored.area_id, stored.year, stored.finalized_by_name) == (
        "village", world.village_a.id, YEAR, "reviewer-a")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation_finalized")).one()
    assert event.target == f"village:{world.village_a.code}" and event.username == "reviewer-a"
    html = client.get(f"{path}?year={YEAR}").get_data(as_text=True)
    assert "data-finalized" in html and "Version 1, finalized by reviewer-a" in html
    assert "data-finalize-link" not in html


def test_finalizing_twice_says_it_is_already_finalized(auth, world, client):
    in_english(auth, "reviewer-a")
    path = f"/evaluations/village/{world.village_a.id}"
    assert _finalize(auth, path).status_code == 303
    response = _finalize(auth, path)
    assert response.status_code == 303
    assert "already finalized" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(db.session.scalars(select(Evaluation)).all()) == 1


def test_reviewer_of_another_county_gets_404_on_finalize(auth, world, client):
    make_user("reviewer-b", "reviewer", county=world.county_b)
    db.session.commit()
    auth.login("reviewer-b")
    response = auth.post(f"/evaluations/village/{world.village_a.id}/finalize", {"year": YEAR})
    assert response.status_code == 404
    assert db.session.scalars(select(Evaluation)).all() == []


@pytest.mark.parametrize("username", ["viewer-a", "surveyor-a"])
def test_viewers_and_surveyors_get_403_on_finalize(auth, world, client, username):
    auth.login(username)
    response = auth.post(f"/evaluations/village/{world.village_a.id}/finalize", {"year": YEAR})
    assert response.status_code == 403
    assert db.session.scalars(select(Evaluation)).all() == []


def test_finalize_needs_the_csrf_token(auth, world, client):
    auth.login("reviewer-a")
    response = client.post(f"/evaluations/village/{world.village_a.id}/finalize", data={"year": YEAR})
    assert response.status_code == 400
    assert db.session.scalars(select(Evaluation)).all() == []


def test_admin_finalizes_the_city_with_every_area_in_it(auth, world, client):
    add_surveys(world.village_b, 10, seed=23)
    make_village(make_township(make_county("360404", "柴桑区"), "100"), "200")
    db.session.commit()
    auth.login("admin")
    assert 'href="/evaluations/city/finalize?' in client.get("/evaluations/city").get_data(as_text=True)
    assert 'action="/evaluations/city/finalize"' in client.get("/evaluations/city/finalize").get_data(as_text=True)
    assert _finalize(auth, "/evaluations/city").status_code == 303
    levels = sorted(e.level for e in db.session.scalars(select(Evaluation)))
    assert levels == ["city"] + ["county"] * 3 + ["township"] * 4 + ["village"] * 4


def test_farmhouse_list_sorts_house_numbers_naturally(auth, world, client):
    from tests.factories import make_household

    for number in ("3组10号", "3组2号", "30组1号", "3组1号"):
        add_survey(world.village_a, household=make_household(world.village_a, number, "李四"))
    db.session.commit()
    auth.login("reviewer-a")
    html = client.get(f"/evaluations/village/{world.village_a.id}?year={YEAR}&sort=house&dir=asc").get_data(as_text=True)
    shown = [n for n in re.findall(r"(\d+组\d+号)", html) if n in ("3组10号", "3组2号", "30组1号", "3组1号")]
    assert list(dict.fromkeys(shown)) == ["3组1号", "3组2号", "3组10号", "30组1号"]
