"""Jiujiang's shipped county boundaries: which county a point lies in, and how far outside it is."""

import ast
import json
from pathlib import Path

import pytest

from village_survey import geo
from village_survey.geo.boundaries import boundary_from_geojson

COUNTY_CODES = ["360402", "360403", "360404", "360423", "360424", "360425", "360426", "360428", "360429",
                "360430", "360481", "360482", "360483"]
SHANGHAI = (31.2, 121.5)


def test_the_shipped_file_holds_the_city_and_its_13_counties_in_a_few_tens_of_kb():
    assert sorted(geo.counties()) == COUNTY_CODES
    assert geo.boundary("360400").name == "九江市" and geo.boundary("360423").name == "武宁县"
    assert geo.BOUNDARIES_FILE.stat().st_size < 80_000
    data = json.loads(geo.BOUNDARIES_FILE.read_text(encoding="utf-8"))
    assert "MIT" in data["source"] and "WGS-84" in data["crs"]


def test_wuning_county_seat_lies_in_wuning():
    assert geo.county_of(29.26, 115.10) == "360423"
    assert not geo.outside_county("360423", 29.26, 115.10, accuracy_m=0, tolerance_m=0)


def test_the_city_centre_lies_in_lianxi_and_the_old_town_by_the_river_in_xunyang():
    # 29°42′N 116°00′E, the coordinates usually given for Jiujiang, fall in 濂溪区 by these data;
    # the old town on the Yangtze (浔阳楼, about 29.733 N, 115.985 E) in 浔阳区.
    assert geo.county_of(29.70, 116.00) == "360402"
    assert geo.county_of(29.733, 115.985) == "360403"


def test_shanghai_is_outside_every_county_and_the_city():
    assert geo.county_of(*SHANGHAI) is None
    assert geo.county_of(*SHANGHAI, tolerance_m=5000) is None
    assert all(geo.outside_county(code, *SHANGHAI) for code in [*COUNTY_CODES, "360400"])
    assert 400_000 < geo.boundary("360400").distance_m(*SHANGHAI) < 600_000


def test_every_county_lies_within_the_city_outline():
    city = geo.boundary("360400")
    for county in geo.counties().values():
        vertices = [point for polygon in county.polygons for point in polygon[0]]
        assert not any(city.outside(lat, lon, tolerance_m=500) for lon, lat in vertices[::5]), county.name


def test_a_point_just_outside_a_border_is_not_flagged_within_the_tolerance():
    # (29.70, 116.00) lies in 濂溪区 about 690 m from 浔阳区's edge: within the default tolerance
    # (GCJ-02's shift of about 600 m plus the simplification), but not within 300 m.
    distance = geo.boundary("360403").distance_m(29.70, 116.00)
    assert 600 < distance < 800
    assert not geo.outside_county("360403", 29.70, 116.00)
    assert geo.outside_county("360403", 29.70, 116.00, tolerance_m=300)
    assert not geo.outside_county("360403", 29.70, 116.00, accuracy_m=500, tolerance_m=300)  # the GPS's own doubt


def test_an_unknown_division_has_no_boundary():
    assert geo.boundary("110101") is None and geo.boundary(None) is None
    with pytest.raises(KeyError):
        geo.outside_county("110101", 29.7, 116.0)


# A square 1° wide with a square hole, and an island inside the hole: a MultiPolygon.
SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
HOLE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.25, 0.25]]
ISLAND = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]
SHAPE = boundary_from_geojson("1", "test", {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [ISLAND]]})


@pytest.mark.parametrize(("lat", "lon", "inside"), [
    (0.1, 0.1, True),  # in the square
    (0.3, 0.3, False),  # in the hole
    (0.5, 0.5, True),  # on the island in the hole
    (1.5, 0.5, False),  # north of everything
])
def test_holes_and_several_polygons_are_followed(lat, lon, inside):
    assert SHAPE.contains(lat, lon) is inside


def test_the_distance_to_a_hole_edge_counts():
    # 0.3 N 0.3 E lies in the hole, 0.05° (about 5.6 km) from its edge.
    assert 5_400 < SHAPE.distance_m(0.3, 0.3) < 5_700
    assert SHAPE.distance_m(0.1, 0.1) == 0


def test_a_plain_polygon_is_read_too():
    square = boundary_from_geojson("2", "", {"type": "Polygon", "coordinates": [SQUARE]})
    assert square.contains(0.5, 0.5) and not square.contains(0.5, 1.5)
    with pytest.raises(ValueError):
        boundary_from_geojson("3", "", {"type": "Point", "coordinates": [0, 0]})


def test_geo_imports_neither_flask_nor_sqlalchemy():
    for path in Path(geo.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not names & {"flask", "flask_sqlalchemy", "sqlalchemy"}, path.name
