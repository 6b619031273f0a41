"""The map pages: what is drawn and listed, who may see them, and bad parameters."""

import re
import xml.etree.ElementTree as ET

import pytest

from tests.evaluations.conftest import YEAR, add_survey
from tests.factories import make_county, make_township, make_user, make_village
from village_survey.charts.style import FONT_FAMILY
from village_survey.evaluations import precomputed
from village_survey.extensions import db
from village_survey.maps import services

SVG = "{http://www.w3.org/2000/svg}"
WUNING_SEAT = {"latitude": 29.26, "longitude": 115.10, "gps_accuracy_m": 8}
SHANGHAI = {"latitude": 31.2, "longitude": 121.5, "gps_accuracy_m": 8}


@pytest.fixture(autouse=True)
def _fresh_cache():
    services.cache.clear()
    yield
    services.cache.clear()


@pytest.fixture
def wuning(world):
    county = make_county("360423", "武宁县")
    village = make_village(make_township(county, "100", "新宁镇"), "200", "石门村")
    world.wuning, world.wuning_village = county, village
    world.reviewer_wuning = make_user("reviewer-wuning", "reviewer", county=county)
    add_survey(village, **WUNING_SEAT, pv_installed=False, pv_kwp=None, pv_year=None, pv_location=None,
               pv_mode=None)
    add_survey(village, **{**WUNING_SEAT, "latitude": 29.27})
    world.shanghai = add_survey(village, **SHANGHAI)
    add_survey(village, latitude=None, longitude=None, gps_accuracy_m=None)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    return world


def svg_of(html, figure_id):
    match = re.search(rf'<figure class="map" id="{figure_id}">\s*(<svg.*?</svg>)', html, re.S)
    assert match, f"no map {figure_id}"
    return ET.fromstring(match.group(1))


def marks(root, pattern):
    """The marks in the groups whose id matches: one <use> each, or one <path> (circles of
    different sizes are written out one by one)."""
    groups = [e for e in root.iter() if re.fullmatch(pattern, e.get("id", ""))]
    return sum(len(list(g.iter(SVG + "use"))) or len(list(g.iter(SVG + "path"))) for g in groups)


def get(client, auth, user, path):
    auth.login(user)
    return client.get(path)


def test_the_county_map_draws_the_farmhouse_inside_and_lists_shanghai_apart(client, auth, wuning):
    response = get(client, auth, "reviewer-wuning", f"/maps/county/{wuning.wuning.id}?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    root = svg_of(html, "county-map")
    assert marks(root, r"county-map-points-\d+") == 2  # the seat and its neighbour; Shanghai is not drawn
    assert not [e for e in root.iter() if e.get("id") == "county-map-suspect-0"]  # off the map
    assert [e.get("id") for e in root.iter() if re.fullmatch(r"county-map-village-\d+", e.get("id", ""))] \
        == ["county-map-village-0"]
    texts = list(root.iter(SVG + "text"))
    assert texts and all(FONT_FAMILY in (t.get("font-family") or "") for t in texts)
    assert "石门村" in "".join("".join(t.itertext()) for t in texts)
    assert " style=" not in html[html.index("<svg"):html.index("</svg>")]  # the CSP would ignore it
    suspects = html[html.index('id="suspects-title"'):]
    assert wuning.shanghai.household.house_number in suspects and "31.20000, 121.50000" in suspects
    assert f"/surveys/{wuning.shanghai.uuid}" in suspects
    assert "<details" in html and root.get("aria-label") in html  # the data table and the alt sentence


def test_the_category_choice_changes_the_legend_and_table(client, auth, wuning):
    auth.login("reviewer-wuning")

    def table_rows(by):
        html = client.get(f"/maps/county/{wuning.wuning.id}?year={YEAR}&by={by}").get_data(as_text=True)
        details = html[html.index('<details class="map-data">'):html.index("</details>")]
        legend = {"".join(t.itertext()) for t in svg_of(html, "county-map").iter(SVG + "text")}
        return details.count("<tr>") - 1, legend

    stars, stars_legend = table_rows("stars")
    pv, pv_legend = table_rows("pv")
    cooking, _legend = table_rows("cooking")
    assert (stars, pv) == (4, 2)  # four star levels; with and without PV
    assert cooking >= 1 and stars_legend != pv_legend
    assert any("(1)" in t for t in pv_legend) and any("(2)" in t for t in pv_legend)  # 1 without, 2 with


def test_the_city_map_draws_one_circle_per_village_with_a_position(client, auth, wuning):
    add_survey(wuning.village_a)  # 29.7 N 116.0 E
    add_survey(wuning.village_a)
    add_survey(wuning.village_b, latitude=None, longitude=None, gps_accuracy_m=None)  # no position
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    html = get(client, auth, "viewer-city", f"/maps/city?year={YEAR}&by=cooking").get_data(as_text=True)
    root = svg_of(html, "city-map")
    assert marks(root, r"city-map-villages-\d+") == 2  # 石门村 (Shanghai left out of its centroid) and 甲村
    assert len([e for e in root.iter() if re.fullmatch(r"city-map-area-\d+", e.get("id", ""))]) == 13
    assert all(FONT_FAMILY in (t.get("font-family") or "") for t in root.iter(SVG + "text"))
    assert "石门村" in html and "甲村" in html


def test_a_county_reviewer_sees_only_their_county_and_no_city(client, auth, wuning):
    auth.login("reviewer-a")
    assert client.get(f"/maps/county/{wuning.county_a.id}").status_code == 200
    assert client.get(f"/maps/county/{wuning.county_b.id}").status_code == 404
    assert client.get(f"/maps/county/{wuning.wuning.id}").status_code == 404
    assert client.get("/maps/city").status_code == 404


def test_a_city_viewer_sees_every_county_and_the_city(client, auth, wuning):
    auth.login("viewer-city")
    for county in (wuning.county_a, wuning.county_b, wuning.wuning):
        assert client.get(f"/maps/county/{county.id}").status_code == 200
    assert client.get("/maps/city").status_code == 200


def test_township_staff_get_no_county_map(client, auth, wuning):
    # As every county page (access.counties_query): township staff start at their township.
    auth.login("surveyor-a")
    assert client.get(f"/maps/county/{wuning.county_a.id}").status_code == 404
    assert client.get("/maps/city").status_code == 404


@pytest.mark.parametrize("query", ["by=xyz", "year=abc", "year=99999999999999999999", "by=&year=", "by=stars&by=pv"])
def test_bad_parameters_fall_back(client, auth, wuning, query):
    auth.login("viewer-city")
    assert client.get(f"/maps/county/{wuning.wuning.id}?{query}").status_code == 200
    assert client.get(f"/maps/city?{query}").status_code == 200


@pytest.mark.parametrize("path", ["/maps/county/999999", "/maps/county/0", "/maps/county/abc",
                                  "/maps/county/99999999999", "/maps/county/1?criteria=nope",
                                  "/maps/city?criteria=nope"])
def test_missing_counties_and_criteria_are_404(client, auth, wuning, path):
    auth.login("viewer-city")
    assert client.get(path).status_code == 404


def test_a_drawn_map_is_kept_until_its_data_change(client, auth, wuning):
    auth.login("viewer-city")
    path = f"/maps/county/{wuning.wuning.id}?year={YEAR}"
    first = client.get(path).get_data(as_text=True)
    assert (services.cache.hits, services.cache.misses) == (0, 1)
    assert client.get(path).get_data(as_text=True) == first
    assert services.cache.hits == 1
    add_survey(wuning.wuning_village, **WUNING_SEAT)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    client.get(path)
    assert services.cache.misses == 2  # new rows, a new map


def test_the_cache_is_bounded():
    cache = services.MapCache(size=2)
    for key in "abc":
        cache.get_or_make(key, lambda: key)
    assert len(cache) == 2 and cache.get_or_make("a", lambda: "again") == "again"
