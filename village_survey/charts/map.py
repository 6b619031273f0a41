"""A map of a county (or the city) drawn from plain data: boundaries, farmhouses, villages.

No tile server: the boundaries are polygons given by the caller (e.g. ``village_survey.geo``'s,
WGS-84 ``(lon, lat)`` rings), drawn with matplotlib like every other chart (``style.render``).
Projection: equirectangular, with one degree of longitude drawn ``cos(latitude)`` as long as one
of latitude at the map's middle latitude (true shapes at the scale of a county or the city).

Farmhouses are points coloured by a category (star level, cooking fuel, PV …) from the
colour-blind-safe palette, each category with its own marker shape too, so neither colour nor
grey level carries the meaning alone; villages are labelled dots at their centroids. Points
outside the map's extent are not drawn (the page lists them apart); points the caller marks
``suspect`` (e.g. outside the county) are drawn as crosses.

``area_map`` draws a county: its boundary, neighbours faintly, farmhouses (possibly thinned,
with the true counts given) by category; ``city_map`` the counties' boundaries and one circle
per village, its area in proportion to the village's farmhouses, its colour the class of a share.

Each drawn mark gets an id: ``<gid>-area-<i>``, ``<gid>-points-<category>`` (a group of one
``<use>`` per point), ``<gid>-suspect-0``, ``<gid>-village-<i>``, on the city map
``<gid>-villages-<class>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from village_survey.charts.style import (
    INK, MAP_WIDTH_IN, MUTED, Chart, Numbers, Table, colours, fill_texts, render,
)

Texts = Mapping[str, str]
_NUMBERS = Numbers()
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")
_AREA_FILL = "#f2f2f2"
_CONTEXT_EDGE = "#c8c8c8"  # neighbouring areas, drawn faintly
_NO_DATA = "#ffffff"
_LEGEND_IN = 0.7  # room under the map for the legend


@dataclass(frozen=True)
class MapArea:
    """A boundary: its name and polygons, each a sequence of rings (outer first, then holes) of
    ``(lon, lat)`` positions (GeoJSON order, WGS-84)."""

    name: str
    polygons: Sequence[Sequence[Sequence[tuple[float, float]]]]


@dataclass(frozen=True)
class MapPoint:
    """A farmhouse: its position and the index of its category (in the ``categories`` given)."""

    lat: float
    lon: float
    category: int
    suspect: bool = False


@dataclass(frozen=True)
class MapPlace:
    """A labelled place, e.g. a village at the centroid of its farmhouses."""

    name: str
    lat: float
    lon: float


def _signed_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]])) / 2


def _area_path(area: MapArea) -> Path:
    """One path of all the area's rings: outer rings anticlockwise, holes clockwise, so that the
    (non-zero) fill leaves the holes empty whatever the data's orientation."""
    vertices, codes = [], []
    for polygon in area.polygons:
        for n, ring in enumerate(polygon):
            ring = [tuple(p[:2]) for p in ring]
            if ring[0] == ring[-1]:
                ring = ring[:-1]
            if len(ring) < 3:
                continue
            if (_signed_area(ring) > 0) != (n == 0):
                ring = ring[::-1]
            vertices += [*ring, ring[0]]
            codes += [Path.MOVETO, *[Path.LINETO] * (len(ring) - 1), Path.CLOSEPOLY]
    return Path(vertices, codes)


def extent(areas: Sequence[MapArea], margin: float = 0.03) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of the areas' outer rings, widened by ``margin`` of
    their span on each side."""
    xs = [p[0] for area in areas for polygon in area.polygons for p in polygon[0]]
    ys = [p[1] for area in areas for polygon in area.polygons for p in polygon[0]]
    dx, dy = (max(xs) - min(xs)) * margin, (max(ys) - min(ys)) * margin
    return min(xs) - dx, min(ys) - dy, max(xs) + dx, max(ys) + dy


def map_height(bounds: tuple[float, float, float, float], legend: bool = True) -> float:
    """Figure height (inches) for the extent at the charts' width, in the projection's aspect."""
    lon_min, lat_min, lon_max, lat_max = bounds
    ratio = (lat_max - lat_min) / ((lon_max - lon_min) * math.cos(math.radians((lat_min + lat_max) / 2)))
    return min(10.0, max(2.5, MAP_WIDTH_IN * ratio)) + (_LEGEND_IN if legend else 0.0)


MAX_CIRCLE = 160.0  # pt², the largest village's circle
MIN_CIRCLE = 6.0


def _columns(entries: int) -> int:
    return entries if entries <= 5 else 3


def _legend_rows_in(entries: int) -> float:
    """Room (inches) for the legend's rows beyond the first one that ``map_height`` allows for."""
    return 0.15 * (math.ceil(entries / _columns(entries)) - 1) if entries else 0.0


def _axis(figure, bounds):
    lon_min, lat_min, lon_max, lat_max = bounds
    axis = figure.add_subplot()
    axis.set_xlim(lon_min, lon_max)
    axis.set_ylim(lat_min, lat_max)
    axis.set_aspect(1 / math.cos(math.radians((lat_min + lat_max) / 2)))
    axis.set_axis_off()
    return axis


def _areas(axis, areas, gid, context=()):
    for area in context:
        axis.add_patch(PathPatch(_area_path(area), facecolor="none", edgecolor=_CONTEXT_EDGE, linewidth=0.6,
                                 zorder=1))
    for n, area in enumerate(areas):
        patch = PathPatch(_area_path(area), facecolor=_AREA_FILL, edgecolor=MUTED, linewidth=0.8, zorder=2)
        patch.set_gid(f"{gid}-area-{n}")
        axis.add_patch(patch)


def _inside(points, bounds):
    lon_min, lat_min, lon_max, lat_max = bounds
    return [p for p in points if lon_min <= p.lon <= lon_max and lat_min <= p.lat <= lat_max]


def area_map(areas: Sequence[MapArea], points: Sequence[MapPoint], categories: Sequence[str], texts: Texts,
             places: Sequence[MapPlace] = (), numbers: Numbers = _NUMBERS, gid: str = "map",
             counts: Sequence[int] | None = None, context: Sequence[MapArea] = ()) -> Chart:
    """The areas' boundaries (the extent fitted to them), ``context`` areas faintly, the points
    coloured by category, suspect points as crosses, the places labelled.

    counts: the farmhouses of each category when ``points`` is a thinned set (the legend and
    table count them all); by default the points given are counted.
    texts: ``category`` (the legend's and table's heading, e.g. "星级"), ``count``, ``share``,
    ``suspect`` (the legend entry of suspect points), ``alt`` with {total} (points), {category}
    (the most frequent), {count} and {share} (of it), and optionally ``empty`` (the alt text
    when there is no point).
    """
    if not areas:
        raise ValueError("a map needs at least one area")
    bounds = extent(areas)
    if counts is None:
        counts = [0] * len(categories)
        for point in points:
            counts[point.category] += 1
    total = sum(counts)
    top = max(range(len(categories)), key=lambda i: counts[i]) if categories else None
    if total and top is not None:
        alt = fill_texts(texts["alt"], total=numbers.decimal(total), category=categories[top],
                         count=numbers.decimal(counts[top]), share=numbers.percent(counts[top] / total))
    else:
        alt = texts.get("empty", fill_texts(texts["alt"], total=numbers.decimal(0), category="",
                                            count=numbers.decimal(0), share=numbers.percent(0)))
    fills = colours(len(categories)) if categories else []
    inside = _inside(points, bounds)

    def draw(figure):
        axis = _axis(figure, bounds)
        _areas(axis, areas, gid, context)
        handles = []
        for category, label in enumerate(categories):
            chosen = [p for p in inside if p.category == category and not p.suspect]
            marker = MARKERS[category % len(MARKERS)]
            if chosen:
                drawn = axis.scatter([p.lon for p in chosen], [p.lat for p in chosen], s=14, marker=marker,
                                     color=fills[category], edgecolors=INK, linewidths=0.3, zorder=3)
                drawn.set_gid(f"{gid}-points-{category}")
            handles.append(Line2D([], [], linestyle="", marker=marker, markersize=6, color=fills[category],
                                  markeredgecolor=INK, markeredgewidth=0.3,
                                  label=f"{label} ({numbers.decimal(counts[category])})"))
        suspect = [p for p in inside if p.suspect]
        if suspect:
            drawn = axis.scatter([p.lon for p in suspect], [p.lat for p in suspect], s=30, marker="x",
                                 color=INK, linewidths=1.2, zorder=4)
            drawn.set_gid(f"{gid}-suspect-0")
            handles.append(Line2D([], [], linestyle="", marker="x", markersize=6, color=INK,
                                  label=texts["suspect"]))
        for n, place in enumerate(places):
            dot = axis.plot([place.lon], [place.lat], marker="o", markersize=3, color=INK, zorder=5)[0]
            dot.set_gid(f"{gid}-village-{n}")
            axis.annotate(place.name, (place.lon, place.lat), xytext=(3, 3), textcoords="offset points",
                          fontsize=7, color=INK, zorder=5,
                          bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.3})
        if handles:
            figure.legend(handles=handles, title=texts["category"], loc="outside lower center",
                          ncols=_columns(len(handles)), frameon=False, fontsize=8, title_fontsize=8)

    headers = (texts["category"], texts["count"], texts["share"])
    rows = tuple((label, numbers.decimal(count), numbers.percent(count / total if total else 0.0))
                 for label, count in zip(categories, counts))
    height = map_height(bounds, legend=bool(categories)) + _legend_rows_in(len(categories) + 1)
    return Chart(render(draw, height, alt, width_in=MAP_WIDTH_IN), alt, Table(headers, rows))


def circle_size(farmhouses: int, largest: int) -> float:
    """A village's circle (pt²): its area in proportion to its farmhouses, the largest MAX_CIRCLE."""
    if largest <= 0:
        return MIN_CIRCLE
    return max(MIN_CIRCLE, MAX_CIRCLE * farmhouses / largest)


def city_map(areas: Sequence[MapArea], villages: Sequence[tuple[float, float, int, int]],
             classes: Sequence[str], texts: Texts, gid: str = "city") -> Chart:
    """The areas and one circle per village: ``villages`` are (lat, lon, farmhouses, class
    index), the last class (if any village has it) meaning "no figure".

    texts: ``class`` (the legend's title), ``alt`` (already filled in by the caller, who knows
    the pooled figure) and ``size`` (a note on what the circle's area means). The data table is
    the caller's too (it names the villages), so ``Chart.table`` is empty here.
    """
    if not areas:
        raise ValueError("a map needs at least one area")
    bounds = extent(areas)
    fills = list(colours(len(classes) - 1)) + [_NO_DATA] if len(classes) > 1 else list(colours(1))
    largest = max((v[2] for v in villages), default=0)
    inside = [v for v in villages if bounds[0] <= v[1] <= bounds[2] and bounds[1] <= v[0] <= bounds[3]]

    def draw(figure):
        axis = _axis(figure, bounds)
        _areas(axis, areas, gid)
        handles = []
        for index, label in enumerate(classes):
            # large circles first, so that small ones stay visible on top
            chosen = sorted((v for v in inside if v[3] == index), key=lambda v: -v[2])
            if chosen:
                drawn = axis.scatter([v[1] for v in chosen], [v[0] for v in chosen],
                                     s=[circle_size(v[2], largest) for v in chosen], marker="o",
                                     color=fills[index], edgecolors=INK, linewidths=0.4, alpha=0.85, zorder=3)
                drawn.set_gid(f"{gid}-villages-{index}")
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=7, color=fills[index],
                                  markeredgecolor=INK, markeredgewidth=0.4, label=label))
        figure.legend(handles=handles, title=texts["class"], loc="outside lower center",
                      ncols=_columns(len(handles)), frameon=False, fontsize=8, title_fontsize=8)
        figure.text(0.01, 0.99, texts["size"], fontsize=7, color=MUTED, va="top")

    height = map_height(bounds) + _legend_rows_in(len(classes))
    return Chart(render(draw, height, texts["alt"], width_in=MAP_WIDTH_IN), texts["alt"], Table((), ()))


def centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The mean (lat, lon) of a village's farmhouses: where its label goes."""
    if not points:
        raise ValueError("a centroid needs at least one point")
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)
