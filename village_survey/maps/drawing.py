"""The two map pictures, drawn like every chart (``charts.style.render``, matplotlib's SVG backend)
from plain data, with the pieces of ``charts.map`` (projection, extent, area paths, markers):

- ``county_map``: a county's boundary, its neighbours faintly, farmhouses by category (thinned:
  the legend and table count every farmhouse, given as ``counts``), suspect points as crosses,
  villages labelled at their centroids;
- ``city_map``: the counties' boundaries and one circle per village, its area in proportion to the
  village's approved farmhouses, its colour the class of the village's share.

Why not ``charts.map.area_map`` itself: it counts the points it is given, so it cannot draw a
thinned set with the true counts, and it fits the extent to every area given (no faint
neighbours) and draws one size of mark. Each drawn mark gets an id as there:
``<gid>-area-<i>``, ``<gid>-points-<category>``, ``<gid>-suspect-0``, ``<gid>-village-<i>``, and on
the city map ``<gid>-villages-<class>`` (a group of one ``<use>`` per village).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch

from village_survey.charts.map import (
    MARKERS, MapArea, MapPlace, MapPoint, _area_path, extent, map_height,
)
from village_survey.charts.style import (
    INK, MAP_WIDTH_IN, MUTED, Chart, Numbers, Table, colours, fill_texts, render,
)

Texts = Mapping[str, str]
_NUMBERS = Numbers()
_AREA_FILL = "#f2f2f2"
_CONTEXT_EDGE = "#c8c8c8"
_NO_DATA = "#ffffff"
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


def county_map(areas: Sequence[MapArea], points: Sequence[MapPoint], counts: Sequence[int],
               categories: Sequence[str], texts: Texts, places: Sequence[MapPlace] = (),
               context: Sequence[MapArea] = (), numbers: Numbers = _NUMBERS, gid: str = "map") -> Chart:
    """The areas (extent fitted to them), ``context`` areas faintly, the (thinned) points by
    category, suspect points as crosses, places labelled.

    counts: the farmhouses of each category (all of them, drawn or thinned away or suspect).
    texts: as ``charts.map.area_map``'s: ``category``, ``count``, ``share``, ``suspect``, ``alt``
    ({total}, {category}, {count}, {share}) and ``empty``.
    """
    if not areas:
        raise ValueError("a map needs at least one area")
    bounds = extent(areas)
    total = sum(counts)
    top = max(range(len(categories)), key=lambda i: counts[i]) if categories else None
    if total and top is not None:
        alt = fill_texts(texts["alt"], total=numbers.decimal(total), category=categories[top],
                         count=numbers.decimal(counts[top]), share=numbers.percent(counts[top] / total))
    else:
        alt = texts["empty"]
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
