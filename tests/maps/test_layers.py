"""What a map shows, from plain rows: suspect points by the review flag's rule, thinning, categories."""

import xml.etree.ElementTree as ET

from village_survey import geo
from village_survey.charts.map import MapPoint
from village_survey.maps import layers
from village_survey.charts.presentation import without_inline_styles

WUNING_SEAT = (29.26, 115.10)
SHANGHAI = (31.2, 121.5)


def farmhouse(survey_id, lat, lon, accuracy=None, village_id=1, **kwargs):
    values = {"stars": 2, "cooking": "electric", "pv": True, **kwargs}
    return layers.Farmhouse(survey_id, village_id, values["stars"], values["cooking"], values["pv"], lat, lon,
                            accuracy)


def test_wuning_seat_is_inside_its_county_and_shanghai_is_suspect():
    wuning = geo.boundary("360423")
    rows = [farmhouse(1, *WUNING_SEAT), farmhouse(2, *SHANGHAI), farmhouse(3, None, None)]
    assert layers.suspect_ids(rows, wuning, 1000) == {2}
    assert layers.inside_mask(wuning.polygons, [WUNING_SEAT[0]], [WUNING_SEAT[1]]).tolist() == [True]


def test_a_point_just_beyond_the_boundary_is_suspect_only_beyond_tolerance_plus_accuracy():
    wuning = geo.boundary("360423")
    lon_min, lat_min, lon_max, lat_max = wuning.bbox
    # due west of the westernmost vertex, about 1.5 km out
    west = min((p for polygon in wuning.polygons for p in polygon[0]), key=lambda p: p[0])
    lat, lon = west[1], west[0] - 0.0155
    distance = wuning.distance_to_edge_m(lat, lon)
    assert 1000 < distance < 2500
    assert layers.suspect_ids([farmhouse(1, lat, lon)], wuning, 1000) == {1}
    assert layers.suspect_ids([farmhouse(1, lat, lon, accuracy=distance)], wuning, 1000) == set()
    assert layers.suspect_ids([farmhouse(1, lat, lon)], wuning, distance + 10) == set()


def test_the_categories_follow_the_choice():
    rows = [farmhouse(1, 0, 0, stars=None, cooking="coal", pv=None), farmhouse(2, 0, 0, stars=3, cooking="lpg", pv=False)]
    assert layers.category_keys(rows, "stars") == [3, 2, 1, 0, None]
    assert layers.category_keys(rows, "cooking") == ["lpg", "coal"]  # clean first; only those found
    assert layers.category_keys(rows, "pv") == [True, False, None]
    assert [layers.category_key(f, "stars") for f in rows] == [None, 3]


def test_thinning_keeps_one_mark_per_cell_and_category_and_every_suspect_point():
    bounds = (115.0, 29.0, 116.0, 30.0)
    crowd = [MapPoint(29.5, 115.5, n % 2) for n in range(10_000)]
    suspects = [MapPoint(29.5, 115.5, 0, suspect=True)] * 3
    kept = layers.thin(crowd + suspects, bounds)
    assert len([p for p in kept if not p.suspect]) == 2 and len([p for p in kept if p.suspect]) == 3
    spread = [MapPoint(29 + (n % 100) / 100, 115 + (n // 100) / 100, 0) for n in range(10_000)]
    assert len(layers.thin(spread, bounds, max_marks=500)) <= 500


def test_city_shares_and_classes():
    village = layers.VillageFigures(1, 10, 29.5, 115.5, two_stars=3, scored=6, clean_cooking=8, cooking_answered=10,
                                    with_pv=1)
    assert (village.share("stars"), village.share("cooking"), village.share("pv")) == (0.5, 0.8, 0.1)
    assert [layers.share_class(s) for s in (1.0, 0.75, 0.5, 0.3, 0.0, None)] == [0, 0, 1, 2, 3, 4]
    assert layers.pooled_share([village, layers.VillageFigures(2, 10, None, None, with_pv=9)], "pv") == 0.5


def test_styles_become_presentation_attributes_the_csp_allows():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><style type="text/css">*{stroke: red}</style>'
           '<path d="M0 0" style="fill: #f2f2f2; stroke: #767676; stroke-width: 0.8"/>'
           '<text x="1" style="font-size: 8px; font-family: \'Noto Sans CJK SC\'; fill: #222">村</text></svg>')
    out = without_inline_styles(svg)
    root = ET.fromstring(out)
    assert "style" not in out
    path, text = root
    assert path.attrib == {"d": "M0 0", "fill": "#f2f2f2", "stroke": "#767676", "stroke-width": "0.8"}
    assert text.get("font-family") == "'Noto Sans CJK SC'" and text.get("font-size") == "8px"
