"""Jiujiang's county boundaries (WGS-84) and the questions asked of them, in pure Python.

`Boundary` is one division's MultiPolygon (rings of (lon, lat), holes included); `boundaries()`
reads the shipped `jiujiang_counties.geojson` once. Distances are in metres on a local
equirectangular projection around the point asked about (exact enough within a county: well
under 1 % at tens of kilometres).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

BOUNDARIES_FILE = Path(__file__).with_name("jiujiang_counties.geojson")
CITY_CODE = "360400"
EARTH_RADIUS_M = 6371008.8
# A phone may give GCJ-02 rather than WGS-84 (Chinese location services do): about 600 m here;
# the shipped rings are simplified by up to about 200 m (README.md). Nearer the line is not outside.
DEFAULT_TOLERANCE_M = 1000.0

Ring = Sequence[tuple[float, float]]  # (lon, lat), closed (first = last)
Polygon = Sequence[Ring]  # outer ring, then holes


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Even–odd ray casting; a point exactly on an edge may go either way."""
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def _segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


@dataclass(frozen=True)
class Boundary:
    """One division: its code, name and MultiPolygon (WGS-84 degrees)."""

    code: str
    name: str
    polygons: tuple[Polygon, ...]

    @functools.cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max)."""
        xs = [x for polygon in self.polygons for x, _ in polygon[0]]
        ys = [y for polygon in self.polygons for _, y in polygon[0]]
        return min(xs), min(ys), max(xs), max(ys)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies in one of the polygons and in none of its holes."""
        lon_min, lat_min, lon_max, lat_max = self.bbox
        if not (lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
            return False
        return any(_in_ring(lon, lat, polygon[0]) and not any(_in_ring(lon, lat, hole) for hole in polygon[1:])
                   for polygon in self.polygons)

    def distance_to_edge_m(self, lat: float, lon: float) -> float:
        """Metres from (lat, lon) to the nearest edge (outer ring or hole) of the boundary."""
        kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat))
        ky = math.radians(1) * EARTH_RADIUS_M
        best = math.inf
        for polygon in self.polygons:
            for ring in polygon:
                ax, ay = ring[0]
                for bx, by in ring[1:]:
                    d = _segment_distance(0.0, 0.0, (ax - lon) * kx, (ay - lat) * ky, (bx - lon) * kx,
                                          (by - lat) * ky)
                    if d < best:
                        best = d
                    ax, ay = bx, by
        return best

    def distance_m(self, lat: float, lon: float) -> float:
        """Metres from (lat, lon) to the area: 0 inside, else the distance to its edge."""
        return 0.0 if self.contains(lat, lon) else self.distance_to_edge_m(lat, lon)

    def outside(self, lat: float, lon: float, accuracy_m: float | None = None,
                tolerance_m: float = DEFAULT_TOLERANCE_M) -> bool:
        """Whether (lat, lon) is outside by more than the tolerance plus the GPS's stated accuracy."""
        if self.contains(lat, lon):
            return False
        margin = tolerance_m + max(0.0, accuracy_m or 0.0)
        lon_min, lat_min, lon_max, lat_max = self.bbox
        # Far beyond the bounding box: no need to measure to every edge.
        dlat = max(lat_min - lat, lat - lat_max, 0.0) * math.radians(1) * EARTH_RADIUS_M
        dlon = max(lon_min - lon, lon - lon_max, 0.0) * math.radians(1) * EARTH_RADIUS_M \
            * math.cos(math.radians(max(abs(lat_min), abs(lat_max), abs(lat))))
        if math.hypot(dlat, dlon) > margin:
            return True
        return self.distance_to_edge_m(lat, lon) > margin

    @property
    def geometry(self) -> dict:
        """As a GeoJSON MultiPolygon."""
        return {"type": "MultiPolygon",
                "coordinates": [[[list(p) for p in ring] for ring in polygon] for polygon in self.polygons]}


def boundary_from_geojson(code: str, name: str, geometry: Mapping) -> Boundary:
    """A Boundary from a GeoJSON Polygon or MultiPolygon geometry ([lon, lat] positions)."""
    kind = geometry.get("type")
    if kind == "Polygon":
        polygons = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"{code}: a Polygon or MultiPolygon is needed, not {kind!r}")
    return Boundary(str(code), str(name), tuple(
        tuple(tuple((float(x), float(y)) for x, y, *_ in ring) for ring in polygon) for polygon in polygons))


def load_boundaries(path: str | Path = BOUNDARIES_FILE) -> dict[str, Boundary]:
    """The boundaries of a GeoJSON FeatureCollection by division code (property `code`)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {str(f["properties"]["code"]): boundary_from_geojson(f["properties"]["code"], f["properties"].get("name", ""),
                                                               f["geometry"])
            for f in data["features"]}


@functools.cache
def boundaries() -> dict[str, Boundary]:
    """The shipped boundaries (the city 360400 and its 13 county-level divisions), read once."""
    return load_boundaries()


def boundary(code: str | None) -> Boundary | None:
    """The shipped boundary of a division code, None if there is none."""
    return boundaries().get(code or "")


def counties() -> dict[str, Boundary]:
    """The county-level boundaries (the city's outline left out)."""
    return {code: b for code, b in boundaries().items() if code != CITY_CODE}


def county_of(lat: float, lon: float, tolerance_m: float = 0.0) -> str | None:
    """The code of the county containing (lat, lon); with a tolerance, else the nearest county
    within it (the simplified boundaries leave slivers between neighbours); None if none."""
    candidates = counties()
    for code, county in candidates.items():
        if county.contains(lat, lon):
            return code
    if tolerance_m > 0:
        near = [(county.distance_to_edge_m(lat, lon), code) for code, county in candidates.items()
                if not county.outside(lat, lon, tolerance_m=tolerance_m)]
        if near:
            return min(near)[1]
    return None


def outside_county(code: str, lat: float, lon: float, accuracy_m: float | None = None,
                   tolerance_m: float = DEFAULT_TOLERANCE_M) -> bool:
    """Whether a WGS-84 position lies outside the division `code` by more than the tolerance plus
    the position's stated accuracy. KeyError if the division has no shipped boundary."""
    return boundaries()[code].outside(lat, lon, accuracy_m, tolerance_m)
