"""The map pages' data: one read of farmhouse_results, the layers (``maps.layers``), the picture
(``charts.map``), and an in-process cache of the drawn map.

County map: one query reads the needed columns of the county's approved farmhouses of the year
(survey, village, stars, stove, PV, position, accuracy); a second the county's village names; a
third, only when there are suspect points, their house numbers and survey ids for the list.
Thinning (``layers.thin``) keeps the SVG small: one mark per category and cell of about a
mark's width, at most ``layers.MAX_MARKS`` marks; the legend and table still count every
farmhouse.

City map: one query aggregates farmhouse_results per village in the database (count, centroid of
the positions inside the city's box, the counts behind each share): the city's 600,000 rows
never reach Python.

Cache: the drawn map is kept by a hash of everything it is drawn from (the rows read, the names,
the choice of category, the tolerance, the locale), so that a warm page costs the query and the
hash; at most ``CACHE_SIZE`` maps, least recently used dropped first.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from village_survey import geo
from village_survey.areas.models import County, Household, Township, Village
from village_survey.charts.map import MapArea, MapPlace, MapPoint, extent
from village_survey.charts.style import Chart, Numbers, Table
from village_survey.evaluations import precomputed
from village_survey.evaluations.labels import STAR_LABELS
from village_survey.evaluations.models import StoredResult
from village_survey.extensions import db
from village_survey.charts import map as chart_map
from village_survey.maps import layers
from village_survey.scoring import CriteriaSet
from village_survey.scoring.profile import CLEAN
from village_survey.surveys.labels import CODE_LABELS
from village_survey.surveys.models import Survey

CACHE_SIZE = 32
MAX_SUSPECTS_LISTED = 200
CITY_BOX_MARGIN = 0.05  # degrees (about 5 km) around the city's outline: positions beyond are left out


class MapCache:
    """A small least-recently-used cache of drawn maps, shared by the threads of a process."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_make(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = make()  # outside the lock: drawing takes a while, other maps need not wait
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


cache = MapCache()


def _key(*parts: Any) -> str:
    return hashlib.sha256(pickle.dumps(parts, protocol=5)).hexdigest()


def _numbers() -> Numbers:
    return Numbers(decimal=lambda value: format_decimal(value), percent=lambda share: format_percent(share))


def _map_area(boundary: geo.Boundary) -> MapArea:
    return MapArea(boundary.name, boundary.polygons)


# ---------------------------------------------------------------- labels


def by_heading(by: str) -> str:
    return {"stars": _("Star level"), "cooking": _("Primary stove"), "pv": _("PV")}[by]


def category_label(by: str, key) -> str:
    if by == "stars":
        return str(STAR_LABELS[key]) if key is not None else _("not scored")
    if key is None:
        return _("not answered")
    if by == "pv":
        return _("with PV") if key else _("without PV")
    return str(CODE_LABELS["primary_stove"].get(key, key))


def share_heading(by: str) -> str:
    return {"stars": _("Share with two or three stars"),
            "cooking": _("Share cooking with electricity, gas, biogas or sun"),
            "pv": _("Share with PV")}[by]


def _class_labels() -> list[str]:
    """The city map's share classes, highest first, then "no figure"."""
    labels = []
    for n, low in enumerate(layers.SHARE_CLASSES):
        if n == 0:
            labels.append(_("%(low)s or more", low=format_percent(low)))
        elif low == 0:
            labels.append(_("under %(high)s", high=format_percent(layers.SHARE_CLASSES[n - 1])))
        else:
            labels.append(_("%(low)s to %(high)s", low=format_percent(low),
                            high=format_percent(layers.SHARE_CLASSES[n - 1])))
    return [*labels, _("no figure")]


# ---------------------------------------------------------------- the county map


@dataclass(frozen=True)
class SuspectPoint:
    """A farmhouse whose position lies outside the county (beyond the tolerance)."""

    survey_uuid: str
    house_number: str
    village: str
    lat: float
    lon: float
    distance_m: float
    accuracy_m: float | None


@dataclass(frozen=True)
class CountyMap:
    chart: Chart | None  # None when the county has no shipped boundary
    farmhouses: int  # approved farmhouses of the year (with a farmhouse_results row)
    located: int  # of them with a position
    drawn_marks: int  # marks left after thinning (normal and suspect, inside the map)
    suspects: tuple[SuspectPoint, ...]  # the first MAX_SUSPECTS_LISTED, farthest first
    suspect_count: int
    tolerance_m: float
    built: bool  # whether the criteria set's results were rebuilt (else some may be missing)


@dataclass(frozen=True)
class _DrawnCounty:
    chart: Chart | None
    farmhouses: int
    located: int
    drawn_marks: int
    suspects: tuple[tuple[int, float], ...]  # (survey id, metres beyond the boundary), farthest first


def county_rows(county_id: int, year: int, criteria: CriteriaSet) -> list[tuple]:
    """The county's farmhouse_results rows of the year: only what the map reads, in one query."""
    stmt = (select(StoredResult.survey_id, StoredResult.village_id, StoredResult.stars, StoredResult.cooking,
                   StoredResult.pv, StoredResult.latitude, StoredResult.longitude, StoredResult.gps_accuracy_m)
            .join(Village, Village.id == StoredResult.village_id)
            .join(Township, Township.id == Village.township_id)
            .where(Township.county_id == county_id, StoredResult.criteria == criteria.name,
                   StoredResult.year == year)
            .order_by(StoredResult.survey_id))
    return [tuple(row) for row in db.session.execute(stmt)]


def _village_names(county_id: int) -> dict[int, str]:
    stmt = (select(Village.id, Village.name).join(Township, Township.id == Village.township_id)
            .where(Township.county_id == county_id))
    return {vid: name for vid, name in db.session.execute(stmt)}


def _draw_county(boundary: geo.Boundary | None, rows: list[tuple], names: dict[int, str], by: str,
                 tolerance_m: float) -> _DrawnCounty:
    farmhouses = [layers.Farmhouse(*row) for row in rows]
    located = [f for f in farmhouses if f.located]
    if boundary is None:
        return _DrawnCounty(None, len(farmhouses), len(located), 0, ())
    suspect = layers.suspect_ids(located, boundary, tolerance_m)
    keys = layers.category_keys(located, by)
    index = {key: n for n, key in enumerate(keys)}
    counts = [0] * len(keys)
    points = []
    for f in located:
        category = index[layers.category_key(f, by)]
        counts[category] += 1
        points.append(MapPoint(f.lat, f.lon, category, suspect=f.survey_id in suspect))
    area = _map_area(boundary)
    drawn = layers.thin(points, extent([area]))
    inside = [p for p in drawn if _within(p, extent([area]))]
    centroids = layers.village_centroids(located, skip=suspect)
    places = [MapPlace(names.get(vid, ""), lat, lon)
              for vid, (lat, lon) in sorted(centroids.items(), key=lambda item: names.get(item[0], ""))]
    context = [_map_area(b) for code, b in sorted(geo.counties().items()) if code != boundary.code]
    texts = {"category": by_heading(by), "count": _("Farmhouses"), "share": _("Share"),
             "suspect": _("outside the county (suspect)"),
             "alt": _("{total} approved farmhouses with a position; the most are {category}: {count} ({share})."),
             "empty": _("No approved farmhouse of this year has a position.")}
    chart = chart_map.area_map([area], drawn, [category_label(by, key) for key in keys], texts, counts=counts,
                               places=places, context=context, numbers=_numbers(), gid="county-map")
    distances = sorted(((f.survey_id, boundary.distance_to_edge_m(f.lat, f.lon)) for f in located
                        if f.survey_id in suspect), key=lambda item: (-item[1], item[0]))
    return _DrawnCounty(chart, len(farmhouses), len(located), len(inside), tuple(distances))


def _within(point: MapPoint, bounds) -> bool:
    lon_min, lat_min, lon_max, lat_max = bounds
    return lon_min <= point.lon <= lon_max and lat_min <= point.lat <= lat_max


def _suspect_details(suspects: tuple[tuple[int, float], ...], rows: list[tuple],
                     names: dict[int, str]) -> tuple[SuspectPoint, ...]:
    listed = suspects[:MAX_SUSPECTS_LISTED]
    if not listed:
        return ()
    ids = [survey_id for survey_id, _distance in listed]
    details = {survey_id: (uuid, number) for survey_id, uuid, number in db.session.execute(
        select(Survey.id, Survey.uuid, Household.house_number).join(Survey.household).where(Survey.id.in_(ids)))}
    by_id = {row[0]: row for row in rows}
    out = []
    for survey_id, distance in listed:
        if survey_id not in details:
            continue
        _sid, village_id, _stars, _cooking, _pv, lat, lon, accuracy = by_id[survey_id]
        uuid, number = details[survey_id]
        out.append(SuspectPoint(uuid, number, names.get(village_id, ""), lat, lon, distance, accuracy))
    return tuple(out)


def county_map(county: County, year: int, criteria: CriteriaSet, by: str, tolerance_m: float) -> CountyMap:
    """The county's map of approved farmhouses of ``year`` coloured by ``by`` (``layers.BY``),
    with the farmhouses outside its boundary by more than ``tolerance_m`` plus their accuracy
    listed apart."""
    if by not in layers.BY:
        raise ValueError(f"unknown map category {by!r}")
    rows = county_rows(county.id, year, criteria)
    names = _village_names(county.id)
    boundary = geo.boundary(county.code)
    key = _key("county", county.code, by, tolerance_m, str(get_locale()), rows, names)
    drawn = cache.get_or_make(key, lambda: _draw_county(boundary, rows, names, by, tolerance_m))
    return CountyMap(drawn.chart, drawn.farmhouses, drawn.located, drawn.drawn_marks,
                     _suspect_details(drawn.suspects, rows, names), len(drawn.suspects), tolerance_m,
                     precomputed.built(criteria))


# ---------------------------------------------------------------- the city map


@dataclass(frozen=True)
class CityMap:
    chart: Chart
    table: Table  # one row per village on the map: county, village, farmhouses, share
    villages: int  # villages with approved farmhouses of the year
    drawn: int  # of them on the map (with a position)
    skipped: int  # of them without a position inside the city
    farmhouses: int
    built: bool


def _city_box() -> tuple[float, float, float, float]:
    outline = geo.boundary(geo.CITY_CODE)
    if outline is not None:
        lon_min, lat_min, lon_max, lat_max = outline.bbox
    else:
        boxes = [b.bbox for b in geo.counties().values()]
        lon_min, lat_min = min(b[0] for b in boxes), min(b[1] for b in boxes)
        lon_max, lat_max = max(b[2] for b in boxes), max(b[3] for b in boxes)
    m = CITY_BOX_MARGIN
    return lon_min - m, lat_min - m, lon_max + m, lat_max + m


def city_rows(year: int, criteria: CriteriaSet) -> list[tuple]:
    """Per village: farmhouses, centroid of the positions inside the city's box, and the counts
    behind each share (2+ stars of scored, clean stove of answered, PV), aggregated in one query."""
    lon_min, lat_min, lon_max, lat_max = _city_box()
    r = StoredResult
    in_box = and_(r.latitude.between(lat_min, lat_max), r.longitude.between(lon_min, lon_max))
    stmt = (select(r.village_id, func.count(),
                   func.avg(case((in_box, r.latitude))), func.avg(case((in_box, r.longitude))),
                   func.sum(case((r.stars >= 2, 1), else_=0)), func.count(r.stars),
                   func.sum(case((r.cooking.in_(sorted(CLEAN["cooking"])), 1), else_=0)), func.count(r.cooking),
                   func.sum(case((r.pv.is_(True), 1), else_=0)))
            .where(r.criteria == criteria.name, r.year == year)
            .group_by(r.village_id).order_by(r.village_id))
    return [(vid, n, lat, lon, int(two or 0), scored, int(clean or 0), answered, int(pv or 0))
            for vid, n, lat, lon, two, scored, clean, answered, pv in db.session.execute(stmt)]


def _village_places() -> dict[int, tuple[str, str]]:
    stmt = (select(Village.id, Village.name, County.name).join(Township, Township.id == Village.township_id)
            .join(County, County.id == Township.county_id))
    return {vid: (village, county) for vid, village, county in db.session.execute(stmt)}


def _draw_city(rows: list[tuple], places: dict[int, tuple[str, str]], by: str) -> tuple[Chart, Table, int]:
    villages = [layers.VillageFigures(vid, n, lat, lon, two_stars=two, scored=scored, clean_cooking=clean,
                                      cooking_answered=answered, with_pv=pv)
                for vid, n, lat, lon, two, scored, clean, answered, pv in rows]
    on_map = [v for v in villages if v.located]
    classes = _class_labels()
    marks = [(v.lat, v.lon, v.farmhouses, layers.share_class(v.share(by))) for v in on_map]
    pooled = layers.pooled_share(villages, by)
    numbers = _numbers()
    heading = share_heading(by)
    alt = _("%(villages)s villages with %(farmhouses)s approved farmhouses on the map. %(measure)s, over all "
            "approved farmhouses: %(share)s.", villages=numbers.decimal(len(on_map)),
            farmhouses=numbers.decimal(sum(v.farmhouses for v in on_map)), measure=heading,
            share=numbers.percent(pooled) if pooled is not None else "—")
    texts = {"class": heading, "alt": alt, "size": _("Circle area: approved farmhouses of the village")}
    areas = [_map_area(b) for _code, b in sorted(geo.counties().items())]
    chart = chart_map.city_map(areas, marks, classes, texts, gid="city-map")
    ordered = sorted(on_map, key=lambda v: (places.get(v.village_id, ("", ""))[1], places.get(v.village_id, ("", ""))[0]))
    table = Table((_("County"), _("Village"), _("Farmhouses"), heading), tuple(
        (places.get(v.village_id, ("", ""))[1], places.get(v.village_id, ("", ""))[0],
         numbers.decimal(v.farmhouses), numbers.percent(v.share(by)) if v.share(by) is not None else "—")
        for v in ordered))
    return chart, table, len(on_map)


def city_map(year: int, criteria: CriteriaSet, by: str) -> CityMap:
    """The city's map: one circle per village with a position, sized by its approved farmhouses
    of ``year`` and coloured by its share for ``by``; the 13 counties' boundaries."""
    if by not in layers.BY:
        raise ValueError(f"unknown map category {by!r}")
    rows = city_rows(year, criteria)
    places = _village_places()
    key = _key("city", by, str(get_locale()), rows, places)
    chart, table, drawn = cache.get_or_make(key, lambda: _draw_city(rows, places, by))
    return CityMap(chart, table, len(rows), drawn, len(rows) - drawn, sum(row[1] for row in rows),
                   precomputed.built(criteria))
