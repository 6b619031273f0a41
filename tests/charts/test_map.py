"""The map chart: boundaries, farmhouses by category, villages, in the charts' SVG."""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from village_survey import geo
from village_survey.charts.map import (
    MapArea, MapPlace, MapPoint, _area_path, _signed_area, area_map, centroid, extent, map_height,
)
from village_survey.charts.style import FONT_FAMILY, MAP_WIDTH_IN, Numbers

SVG = "{http://www.w3.org/2000/svg}"
NUMBERS = Numbers(decimal=lambda v: f"<{v:g}>", percent=lambda s: f"[{round(s * 100)}%]")
TEXTS = {"category": "星级", "count": "户数", "share": "比例", "suspect": "县外（存疑）",
         "alt": "{total} 户中 {category}最多（{count} 户，{share}）", "empty": "没有农户位置"}
STARS = ["0 星", "1 星", "2 星", "3 星"]
WUNING = geo.boundary("360423")
AREA = MapArea(WUNING.name, WUNING.polygons)
POINTS = [MapPoint(29.26, 115.10, 3), MapPoint(29.27, 115.11, 3), MapPoint(29.28, 115.12, 3),
          MapPoint(29.25, 115.09, 1),
          MapPoint(29.30, 115.00, 0), MapPoint(29.5, 115.3, 2, suspect=True),
          MapPoint(31.2, 121.5, 2, suspect=True)]  # Shanghai: off the map, listed apart by the page
VILLAGES = [MapPlace("石门村", 29.26, 115.10), MapPlace("罗坪村", 29.30, 115.00)]


def draw(points=POINTS, places=VILLAGES, **kwargs):
    return area_map([AREA], points, STARS, TEXTS, places=places, numbers=NUMBERS, **kwargs)


def group(root, gid):
    (element,) = [e for e in root.iter() if e.get("id") == gid]
    return element


def test_the_map_is_an_inline_svg_at_the_charts_width_with_the_cjk_font_on_every_text():
    chart = draw()
    assert chart.svg.startswith("<svg")
    root = ET.fromstring(chart.svg)
    x, y, width, height = map(float, root.get("viewBox").split())
    assert (x, y, width) == (0, 0, MAP_WIDTH_IN * 72) and height > 0
    assert FONT_FAMILY in root.get("font-family")
    texts = list(root.iter(SVG + "text"))
    assert texts and all(FONT_FAMILY in t.get("font-family") and t.get("style") is None for t in texts)
    words = "".join("".join(t.itertext()) for t in texts)
    assert "石门村" in words and "罗坪村" in words and "3 星" in words and "县外（存疑）" in words
    assert draw().svg == chart.svg  # same data, same SVG


def test_each_farmhouse_on_the_map_is_one_mark_in_its_categorys_group():
    root = ET.fromstring(draw().svg)
    uses = {category: len(list(group(root, f"map-points-{category}").iter(SVG + "use")))
            for category in (0, 1, 3)}
    assert uses == {0: 1, 1: 1, 3: 3}
    assert not [e for e in root.iter() if e.get("id") == "map-points-2"]  # its only points are suspect
    assert len(list(group(root, "map-suspect-0").iter(SVG + "use"))) == 1  # Shanghai is off the map
    assert len([e for e in root.iter() if re.fullmatch(r"map-village-\d+", e.get("id", ""))]) == 2
    assert len([e for e in root.iter() if re.fullmatch(r"map-area-\d+", e.get("id", ""))]) == 1


def test_the_alt_text_and_table_count_every_farmhouse_by_category():
    chart = draw()
    assert chart.alt == "<7> 户中 3 星最多（<3> 户，[43%]）"
    assert chart.table.headers == ("星级", "户数", "比例")
    assert chart.table.rows == (("0 星", "<1>", "[14%]"), ("1 星", "<1>", "[14%]"), ("2 星", "<2>", "[29%]"),
                                ("3 星", "<3>", "[43%]"))
    root = ET.fromstring(chart.svg)
    assert root.get("aria-label") == chart.alt and root.find(SVG + "title").text == chart.alt


def test_a_map_without_farmhouses_still_draws_the_boundary_and_says_so():
    chart = draw(points=[], places=[])
    root = ET.fromstring(chart.svg)
    assert chart.alt == "没有农户位置"
    assert group(root, "map-area-0") is not None


def test_the_projection_keeps_a_degree_of_longitude_cos_latitude_as_long_as_one_of_latitude():
    lon_min, lat_min, lon_max, lat_max = bounds = extent([AREA], margin=0)
    assert (lon_min, lat_min, lon_max, lat_max) == WUNING.bbox
    expected = MAP_WIDTH_IN * (lat_max - lat_min) / ((lon_max - lon_min) * math.cos(math.radians((lat_min + lat_max) / 2)))
    assert map_height(bounds, legend=False) == pytest.approx(expected)


def test_holes_are_wound_against_their_outer_ring_so_the_svg_fill_leaves_them_empty():
    # SVG fills with the non-zero rule: a hole is empty only if it turns the other way.
    square = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    hole = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75), (0.25, 0.25)]  # anticlockwise, as the outer
    for outer in (square, square[::-1]):
        path = _area_path(MapArea("t", [[outer, hole]]))
        rings = [ring[:-1] for ring in path.to_polygons(closed_only=False)]
        assert [math.copysign(1, _signed_area(ring)) for ring in rings] == [1, -1]


def test_the_city_map_draws_each_county():
    counties = [MapArea(b.name, b.polygons) for b in geo.counties().values()]
    root = ET.fromstring(area_map(counties, [], STARS, TEXTS, gid="city").svg)
    assert len([e for e in root.iter() if re.fullmatch(r"city-area-\d+", e.get("id", ""))]) == 13


def test_a_village_label_goes_at_the_centroid_of_its_farmhouses():
    assert centroid([(29.0, 115.0), (29.2, 115.4)]) == pytest.approx((29.1, 115.2))
    with pytest.raises(ValueError):
        centroid([])
