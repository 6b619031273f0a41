"""What a map shows, from plain rows: each farmhouse's category, which points are suspect, the
marks left after thinning, village centroids, and the city's per-village shares.

Pure Python (numpy for the point-in-polygon pre-test), no Flask, no database: the services hand
in rows of farmhouse_results and get plain values back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from matplotlib.path import Path

from village_survey.charts.map import MapPoint, centroid
from village_survey.scoring.profile import CLEAN
from village_survey.survey_fields import STOVE_CODES

# What may colour the points (``?by=``); the first is the default.
BY = ("stars", "cooking", "pv")
STAR_LEVELS = (3, 2, 1, 0)  # best first: the palette runs dark to light, so the best reads dark
# Stoves, clean ones first: the palette runs dark to light, so clean cooking reads dark.
STOVE_ORDER = tuple(sorted(STOVE_CODES, key=lambda code: code not in CLEAN["cooking"]))
NOT_ANSWERED = None  # the category key of a farmhouse without that answer (or not scored)

# Thinning: at most this many marks per map; points closer than a mark's width in the same
# category are drawn once (the legend and table still count every farmhouse).
MAX_MARKS = 4000
MAP_UNITS = 518.4  # the charts' width in SVG user units (7.2 in × 72)
MARK_UNITS = 3.0  # about a mark's width (s=14 pt²) in those units


@dataclass(frozen=True)
class Farmhouse:
    """One approved farmhouse as a map reads it (a farmhouse_results row)."""

    survey_id: int
    village_id: int
    stars: int | None
    cooking: str | None
    pv: bool | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None = None

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


def category_key(farmhouse: Farmhouse, by: str):
    """The farmhouse's category for ``by``: a star level, a stove code, True/False for PV, or
    None when not answered (not scored, for stars)."""
    if by == "stars":
        return farmhouse.stars if farmhouse.stars in STAR_LEVELS else NOT_ANSWERED
    if by == "cooking":
        return farmhouse.cooking or NOT_ANSWERED
    if by == "pv":
        return farmhouse.pv if isinstance(farmhouse.pv, bool) else NOT_ANSWERED
    raise ValueError(f"unknown map category {by!r}")


def category_keys(farmhouses: Iterable[Farmhouse], by: str) -> list:
    """The legend's categories in order: all star levels or both PV answers always; the stoves
    that occur (clean first); then unknown codes and 'not answered' if any occur."""
    present = {category_key(f, by) for f in farmhouses}
    if by == "stars":
        keys = list(STAR_LEVELS)
    elif by == "pv":
        keys = [True, False]
    else:
        keys = [code for code in STOVE_ORDER if code in present]
        keys += sorted(k for k in present if k is not NOT_ANSWERED and k not in keys)
    if NOT_ANSWERED in present:
        keys.append(NOT_ANSWERED)
    return keys


def inside_mask(polygons, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Which points lie inside one of the polygons (and none of its holes): matplotlib's C
    point-in-polygon test, many points at once. A point on an edge may go either way."""
    inside = np.zeros(len(lats), dtype=bool)
    if not len(lats):
        return inside
    xy = np.column_stack([lons, lats])
    for polygon in polygons:
        here = Path(np.asarray(polygon[0], dtype=float)).contains_points(xy)
        for hole in polygon[1:]:
            here &= ~Path(np.asarray(hole, dtype=float)).contains_points(xy)
        inside |= here
    return inside


def suspect_ids(farmhouses: Sequence[Farmhouse], boundary, tolerance_m: float) -> set[int]:
    """The survey ids of located farmhouses outside ``boundary`` (a ``geo.Boundary``) by more
    than ``tolerance_m`` plus their stated accuracy: the review flag's rule
    (``Boundary.outside``), asked only of the points the fast test did not find inside."""
    located = [f for f in farmhouses if f.located]
    if not located:
        return set()
    inside = inside_mask(boundary.polygons, np.array([f.lat for f in located]), np.array([f.lon for f in located]))
    return {f.survey_id for f, surely_in in zip(located, inside)
            if not surely_in and boundary.outside(f.lat, f.lon, f.accuracy_m, tolerance_m)}


def thin(points: Sequence[MapPoint], bounds: tuple[float, float, float, float],
         max_marks: int = MAX_MARKS) -> list[MapPoint]:
    """The points to draw: one per grid cell of about a mark's width and per category (marks
    closer than that overlap anyway), the cell doubled until at most ``max_marks`` remain.
    Suspect points are never thinned. The first point of a cell (in the given order) stays."""
    lon_min, lat_min, lon_max, lat_max = bounds
    kept_suspect = [p for p in points if p.suspect]
    normal = [p for p in points if not p.suspect]
    cos_lat = math.cos(math.radians((lat_min + lat_max) / 2))
    cell_lon = max(lon_max - lon_min, 1e-9) * MARK_UNITS / MAP_UNITS
    cell_lat = cell_lon * cos_lat
    budget = max(1, max_marks - len(kept_suspect))
    while True:
        seen, kept = set(), []
        for p in normal:
            key = (math.floor((p.lon - lon_min) / cell_lon), math.floor((p.lat - lat_min) / cell_lat), p.category)
            if key not in seen:
                seen.add(key)
                kept.append(p)
        if len(kept) <= budget:
            return kept + kept_suspect
        cell_lon, cell_lat = cell_lon * 2, cell_lat * 2


def village_centroids(farmhouses: Iterable[Farmhouse], skip: set[int] = frozenset()) -> dict[int, tuple[float, float]]:
    """Each village's centroid (lat, lon) from its located farmhouses, leaving out ``skip``
    (the suspect ones, which would drag it away)."""
    points: dict[int, list[tuple[float, float]]] = {}
    for f in farmhouses:
        if f.located and f.survey_id not in skip:
            points.setdefault(f.village_id, []).append((f.lat, f.lon))
    return {village_id: centroid(ps) for village_id, ps in points.items()}


# ---------------------------------------------------------------- the city: one mark per village

# Share classes of the city map by their lower bounds, highest first (it reads dark); a village's
# share falls in the first class it reaches.
SHARE_CLASSES = (0.75, 0.5, 0.25, 0.0)


@dataclass(frozen=True)
class VillageFigures:
    """One village's aggregate on the city map: farmhouses and how many of them count for each
    measure (of those that answered it), and its centroid (None without located farmhouses)."""

    village_id: int
    farmhouses: int
    lat: float | None
    lon: float | None
    two_stars: int = 0
    scored: int = 0
    clean_cooking: int = 0
    cooking_answered: int = 0
    with_pv: int = 0

    def share(self, by: str) -> float | None:
        """The share the city map colours by: 2+ stars of scored farmhouses, clean cooking of
        those that answered, PV of all approved farmhouses; None without a denominator."""
        if by == "stars":
            part, whole = self.two_stars, self.scored
        elif by == "cooking":
            part, whole = self.clean_cooking, self.cooking_answered
        elif by == "pv":
            part, whole = self.with_pv, self.farmhouses
        else:
            raise ValueError(f"unknown map category {by!r}")
        return part / whole if whole else None

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None


def share_class(share: float | None) -> int:
    """The index of a share's class in SHARE_CLASSES, or len(SHARE_CLASSES) for no share."""
    if share is None:
        return len(SHARE_CLASSES)
    return next(i for i, low in enumerate(SHARE_CLASSES) if share >= low)


def pooled_share(villages: Iterable[VillageFigures], by: str) -> float | None:
    """The share over all the villages' farmhouses (pooled, not a mean of shares)."""
    villages = list(villages)
    total = VillageFigures(0, sum(v.farmhouses for v in villages), None, None,
                           two_stars=sum(v.two_stars for v in villages), scored=sum(v.scored for v in villages),
                           clean_cooking=sum(v.clean_cooking for v in villages),
                           cooking_answered=sum(v.cooking_answered for v in villages),
                           with_pv=sum(v.with_pv for v in villages))
    return total.share(by)
