"""GCJ-02 ↔ WGS-84 on published pairs and round trips."""

import math

import pytest

from village_survey.geo.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

# (WGS-84, GCJ-02) pairs published with the eviltransform library's tests (Shanghai, Shenzhen, Beijing).
PUBLISHED = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


def metres(a, b):
    lat = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[0] - b[0]) * 111195, (a[1] - b[1]) * 111195 * math.cos(lat))


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_wgs84_to_gcj02_gives_the_published_pairs(wgs, gcj):
    assert metres(wgs84_to_gcj02(*wgs), gcj) < 0.01


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_gcj02_to_wgs84_finds_the_published_wgs84_point(wgs, gcj):
    assert metres(gcj02_to_wgs84(*gcj), wgs) < 0.01


@pytest.mark.parametrize("point", [(29.26, 115.10), (29.70, 116.00), (29.03, 114.55), (29.85, 116.55),
                                   (28.9, 114.5), (29.5, 116.0)])
def test_a_round_trip_in_jiujiang_comes_back_within_a_metre(point):
    assert metres(gcj02_to_wgs84(*wgs84_to_gcj02(*point)), point) < 1.0
    assert metres(wgs84_to_gcj02(*gcj02_to_wgs84(*point)), point) < 1.0


@pytest.mark.parametrize("point", [(29.26, 115.10), (29.70, 116.00), (29.03, 114.55), (29.85, 116.55)])
def test_the_shift_in_jiujiang_is_a_few_hundred_metres_to_the_south_east(point):
    gcj = wgs84_to_gcj02(*point)
    assert 450 < metres(gcj, point) < 700
    assert gcj[0] < point[0] and gcj[1] > point[1]  # GCJ-02 lies south-east of the true point here


def test_there_is_no_shift_outside_china():
    assert out_of_china(51.5, -0.12) and wgs84_to_gcj02(51.5, -0.12) == (51.5, -0.12)
    assert gcj02_to_wgs84(51.5, -0.12) == (51.5, -0.12)
