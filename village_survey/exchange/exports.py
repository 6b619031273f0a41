"""Exports of surveys, farmhouses and evaluations within a user's area, as the list filters them.

    f = export_filter(user, args)            # year, status, area, labels, full: checked, in scope
    survey_table(f, _) → Table         header rows and rows of cells (columns.SURVEY_COLUMNS)
    farmhouse_features(f, _)           GeoJSON features of the surveys with a GPS position
    evaluation_sheets(f, _, language)  villages, townships, counties with every indicator

Rows are streamed from the database (`yield_per`) and turned into cells one at a time, so that a
county's 50,000 surveys are never all in memory. Personal data is masked (columns.mask) unless
the filter asks for it and the user may see it (access.may_export_personal_data). Services
raise DomainError, NotFound or Forbidden; they never commit (the request boundary does).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select

from village_survey import access
from village_survey.accounts.models import User
from village_survey.areas.models import County, Household, Township, Village
from village_survey.core.errors import DomainError, Forbidden, NotFound
from village_survey.evaluations import precomputed
from village_survey.evaluations.models import StoredResult
from village_survey.evaluations.precomputed import CITY, Area
from village_survey.exchange import columns as C
from village_survey.exchange import writers
from village_survey.exchange.writers import Sheet, SheetColumn
from village_survey.extensions import db
from village_survey.scoring import CriteriaSet, DEFAULT_CRITERIA, load_criteria
from village_survey.surveys.models import STATUSES, Survey

Translate = Callable[..., str]
FILES = {"surveys": ("xlsx", "csv"), "farmhouses": ("geojson",), "evaluations": ("xlsx",)}
YIELD_PER = 2000
YEAR_RANGE = (2000, 2100)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
AREA_MODELS = {"county": County, "township": Township, "village": Village}
_SCOPED_QUERIES = {"county": access.counties_query, "township": access.townships_query,
                   "village": access.villages_query}
# The GeoJSON's properties: what names and places a farmhouse, and what maps colour it by.
FEATURE_KEYS = ("survey_uuid", "year", "county_name", "township_name", "village_code", "village_name",
                "house_number", "head_name", "status", "survey_date", "residents", "primary_stove",
                "heating", "hot_water", "pv_installed", "pv_kwp", "gps_accuracy_m", "farmhouse_score",
                "stars", "zero_carbon", "net_tco2e")


class ExportError(DomainError):
    """An export that cannot be made as asked (a bad parameter: 400)."""


@dataclass(frozen=True)
class ExportFilter:
    """What an export holds: the surveys of an area (in the user's scope), of a year and a status
    (None: all), with codes or labels, personal data masked unless `full`."""

    area: Area
    area_spec: str  # "city", "county:<code>", … as given on the command line
    year: int | None = None
    status: str | None = None
    labels: bool = False
    full: bool = False
    timezone: str = "Asia/Shanghai"

    def audit_detail(self) -> dict[str, Any]:
        return {"area": self.area_spec, "year": self.year, "status": self.status, "labels": self.labels,
                "full": self.full}

    def file_stem(self, kind: str) -> str:
        parts = [kind, self.area_spec.replace(":", "-")]
        if self.year is not None:
            parts.append(str(self.year))
        if self.status:
            parts.append(self.status)
        return re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts))  # a file name in any header


# ---------------------------------------------------------------- the filter


def _flag(raw: Any, name: str, _: Translate) -> bool:
    text = (raw or "").strip().lower() if isinstance(raw, str) else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ExportError(400, _("%(name)s must be 1 or 0.", name=name))


def _year(raw: Any, _: Translate) -> int | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        year = int(str(raw).strip())
    except ValueError:
        year = None
    if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise ExportError(400, _("Give the year as a number such as 2026."))
    return year


def _status(raw: Any, _: Translate) -> str | None:
    if raw is None or raw in ("", "all"):
        return None
    if raw not in STATUSES:
        raise ExportError(400, _("Give the status as draft, submitted, approved, returned or all."))
    return raw


def scope_spec(user) -> tuple[Area, str]:
    """The user's whole area and how it is written."""
    if user.scope_level == "township":
        return Area("township", user.township_id), f"township:{user.township.code}"
    if user.scope_level == "county":
        return Area("county", user.county_id), f"county:{user.county.code}"
    return CITY, "city"


def area_in_scope(user, spec: str | None, _: Translate) -> tuple[Area, str]:
    """The area written as city, county:<code>, township:<code> or village:<code>, if it lies in
    the user's area (NotFound otherwise, as for an unknown code); the user's area when not given."""
    if spec is None or spec.strip() == "":
        return scope_spec(user)
    spec = spec.strip()
    if spec == "city":
        if user.scope_level != "city":
            raise NotFound()
        return CITY, "city"
    level, _sep, code = spec.partition(":")
    if level not in AREA_MODELS or not code or len(code) > 12:
        raise ExportError(400, _("Give the area as city, county:<code>, township:<code> or "
                                         "village:<code>, not %(spec)s.", spec=spec[:40]))
    model = AREA_MODELS[level]
    ident = db.session.scalar(_SCOPED_QUERIES[level](user).where(model.code == code)
                              .with_only_columns(model.id))
    if ident is None:
        raise NotFound()
    return Area(level, ident), f"{level}:{code}"


def area_name(area: Area) -> str | None:
    """The name of a county, township or village; None for the city."""
    model = AREA_MODELS.get(area.level)
    return db.session.scalar(select(model.name).where(model.id == area.id)) if model is not None else None


def _area_by_id(user, level: str, raw: Any, _: Translate) -> tuple[Area, str]:
    """A township or village given by its id, as the review desk's filters give it."""
    try:
        ident = int(str(raw).strip())
    except ValueError:
        raise ExportError(400, _("Give the township or village by its number.")) from None
    found = access.get_in_scope_or_404(AREA_MODELS[level], ident, user)
    return Area(level, found.id), f"{level}:{found.code}"


def export_filter(user, args: Mapping[str, Any], _: Translate, timezone: str = "Asia/Shanghai") -> ExportFilter:
    """The filter of a request's query parameters, checked: year, status, area (city,
    county:<code>, township:<code>, village:<code>; or as the review desk filters, township=<id>
    or village=<id>), labels, full. ExportError (400) for a malformed one, NotFound for an area
    outside the user's, Forbidden for personal data the user may not export."""
    if args.get("village"):
        area, spec = _area_by_id(user, "village", args.get("village"), _)
    elif args.get("township"):
        area, spec = _area_by_id(user, "township", args.get("township"), _)
    else:
        area, spec = area_in_scope(user, args.get("area"), _)
    full = _flag(args.get("full"), "full", _)
    if full and not access.may_export_personal_data(user):
        raise Forbidden(_("Your account may not export personal data; leave out full=1."))
    return ExportFilter(area=area, area_spec=spec, year=_year(args.get("year"), _),
                        status=_status(args.get("status"), _),
                        labels=_flag(args.get("labels"), "labels", _), full=full, timezone=timezone)


def cli_filter(area_spec: str | None, year: int | None, status: str | None, labels: bool, full: bool,
               _: Translate, timezone: str = "Asia/Shanghai") -> ExportFilter:
    """The filter of the command line, which may export anything (its user is the server's)."""
    spec = (area_spec or "city").strip()
    if spec == "city":
        area = CITY
    else:
        level, _sep, code = spec.partition(":")
        model = AREA_MODELS.get(level)
        if model is None or not code:
            raise ExportError(400, _("Give the area as city, county:<code>, township:<code> or "
                                             "village:<code>, not %(spec)s.", spec=spec[:40]))
        ident = db.session.scalar(select(model.id).where(model.code == code))
        if ident is None:
            raise ExportError(404, _("There is no %(level)s with the code %(code)s.", level=level,
                                             code=code))
        area = Area(level, ident)
    return ExportFilter(area=area, area_spec=spec, year=_year(year, _), status=_status(status, _),
                        labels=labels, full=full, timezone=timezone)


# ---------------------------------------------------------------- surveys


@dataclass
class Table:
    """An export's columns, header rows (labels with units; keys) and rows of cells (a generator)."""

    columns: Sequence[C.Column]
    header_rows: list[list[str]]
    rows: Iterable[list[Any]]
    count: int


def _area_condition(area: Area):
    if area.level == "village":
        return Household.village_id == area.id
    if area.level == "township":
        return Village.township_id == area.id
    if area.level == "county":
        return Township.county_id == area.id
    return None


def _surveys_where(stmt, f: ExportFilter):
    condition = _area_condition(f.area)
    if condition is not None:
        stmt = stmt.where(condition)
    if f.year is not None:
        stmt = stmt.where(Survey.year == f.year)
    if f.status is not None:
        stmt = stmt.where(Survey.status == f.status)
    return stmt


def _joined(stmt):
    return (stmt.join(Household, Survey.household_id == Household.id)
            .join(Village, Household.village_id == Village.id)
            .join(Township, Village.township_id == Township.id))


def count_surveys(f: ExportFilter) -> int:
    return db.session.scalar(_surveys_where(_joined(select(func.count()).select_from(Survey)), f))


def header_text(col: C.Column, _: Translate) -> str:
    label = _(col.label)
    if not col.unit:
        return label
    return _("%(label)s (%(unit)s)", label=label, unit=_(col.unit))


def header_rows(columns: Sequence[C.Column], _: Translate) -> list[list[str]]:
    return [[header_text(col, _) for col in columns], [col.key for col in columns]]


_NUMBERS = frozenset({int, float})
_TEXT = frozenset({str})
_NOTHING: frozenset = frozenset()
_DATETIMES = frozenset({dt.datetime})


class _Lookup(dict):
    """value → cell by a dictionary lookup (a C call: most cells of a column are a few known
    values, true/false or codes), anything else through `fallback`."""

    def __init__(self, table, fallback):
        super().__init__(table)
        self.fallback = fallback

    def __missing__(self, value):
        return self.fallback(value)


def _converter(col: C.Column, f: ExportFilter, _: Translate, for_csv: bool = False):
    """(types passed through as they are, value → cell) for one column, with the translations
    looked up once: most cells (numbers, codes, plain text) need no Python call at all.

    `for_csv`: the cells are final CSV text or numbers (dates in ISO form, text that a
    spreadsheet would evaluate quoted), so that the CSV writer passes them on as they are."""
    def cell(value):
        value = C.to_cell(col, value)
        return C.quoted(value) if for_csv and isinstance(value, str) else value

    masked = col.mask is not None and not f.full
    if masked:
        return _NOTHING, lambda value: cell(C.mask(col, value))
    if col.type == "bool":
        table = {True: _(C.YES), False: _(C.NO)} if f.labels else \
            {True: C.TRUE_CODE, False: C.FALSE_CODE}
        return _NOTHING, _Lookup(table, cell).__getitem__
    if col.type == "code":
        table = {code: _(label) if f.labels else code for code, label in col.codes}
        if not f.labels and not for_csv:
            return _TEXT, cell
        return _NOTHING, _Lookup(table, cell).__getitem__
    if col.type in C.NUMBER_TYPES:
        return _NUMBERS, cell
    if col.type == "text" or (col.type == "date" and for_csv):
        return _TEXT, cell  # stored dates are ISO text, as CSV writes them
    if col.type == "datetime":
        return (_TEXT if for_csv else _DATETIMES), cell  # made local (and text for CSV) when read
    return _NOTHING, cell


def _net_slot(criteria: CriteriaSet) -> int | None:
    """Where a farmhouse's net tCO2e sits in its stored sums (the numerator of the net CO2e
    per person indicator), or None if the set has no such indicator."""
    for indicator in criteria.village.indicators:
        if indicator.kind == "ratio" and indicator.numerator == "net_tco2e":
            return indicator.slot
    return None


def _local(timezone: ZoneInfo):
    """Stored times (naive UTC) as local wall-clock times; the offset looked up once a day."""
    offsets: dict[int, dt.timedelta] = {}
    utc = dt.timezone.utc

    def local(value):
        if value is None:
            return None
        day = value.toordinal()
        offset = offsets.get(day)
        if offset is None:
            offset = offsets[day] = timezone.utcoffset(value.replace(tzinfo=utc).astimezone(timezone))
        return value + offset
    return local


def _places(area: Area) -> dict[int, tuple]:
    """(county code, county name, township code, township name, village code, village name) by
    village id, for the villages of an area (a few thousand at most: cheaper than joining names
    into every row)."""
    stmt = (select(Village.id, County.code, County.name, Township.code, Township.name, Village.code, Village.name)
            .join(Township, Village.township_id == Township.id).join(County, Township.county_id == County.id))
    if area.level == "village":
        stmt = stmt.where(Village.id == area.id)
    elif area.level == "township":
        stmt = stmt.where(Township.id == area.id)
    elif area.level == "county":
        stmt = stmt.where(County.id == area.id)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(stmt)}


def _survey_records(f: ExportFilter, criteria: CriteriaSet, gps_only: bool = False,
                    text_times: bool = False) -> Iterator[dict[str, Any]]:
    """Each survey of the filter as {column key: stored value}, in the order of village code and
    house number, read `YIELD_PER` rows at a time. Times are local, as text if `text_times`."""
    places = _places(f.area)
    users = dict(db.session.execute(select(User.id, User.username)).all())
    local = _local(ZoneInfo(f.timezone))
    if text_times:
        to_local = local

        def local(value):
            return None if value is None else to_local(value).isoformat(" ", "seconds")
    net_slot = _net_slot(criteria)
    # Only the net CO2e of the stored sums is read, in SQL (the sums of a set's current version)
    net = (case((StoredResult.criteria_version == criteria.version, StoredResult.sums[net_slot].as_float()))
           if net_slot is not None else literal(None))
    stmt = _surveys_where(_joined(select(
        Survey.uuid, Survey.year, Survey.status, Survey.answers, Survey.household_id, Household.village_id,
        func.coalesce(Survey.submitted_by_id, Survey.created_by_id), Survey.reviewed_by_id,
        Survey.created_at, Survey.submitted_at, Survey.reviewed_at, Survey.updated_at,
        StoredResult.total, StoredResult.stars, StoredResult.zero_carbon, net).select_from(Survey)), f)
    stmt = (stmt.outerjoin(StoredResult, and_(StoredResult.survey_id == Survey.id,
                                              StoredResult.criteria == criteria.name))
            .order_by(Village.code, Household.sort_key, Household.house_number, Survey.year)
            .execution_options(yield_per=YIELD_PER))
    no_place = (None,) * 6
    for (uuid, year, status, answers, household_id, village_id, surveyor_id, reviewer_id, created, submitted,
         reviewed, updated, total, stars, zero, net_tco2e) in db.session.execute(stmt):
        answers = answers if isinstance(answers, dict) else {}
        if gps_only and (not _is_number(answers.get("latitude")) or not _is_number(answers.get("longitude"))):
            continue
        place = places.get(village_id) or no_place
        yield {**answers, "survey_uuid": uuid, "year": year, "county_code": place[0], "county_name": place[1],
               "township_code": place[2], "township_name": place[3], "village_code": place[4],
               "village_name": place[5], "household_id": household_id, "status": status,
               "surveyor": users.get(surveyor_id), "reviewer": users.get(reviewer_id),
               "created_at": local(created), "submitted_at": local(submitted), "reviewed_at": local(reviewed),
               "updated_at": local(updated), "farmhouse_score": None if total is None else round(total, 2) + 0.0,
               "stars": stars, "zero_carbon": zero,
               "net_tco2e": None if net_tco2e is None else round(net_tco2e, 3) + 0.0}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def default_criteria() -> CriteriaSet:
    return load_criteria(DEFAULT_CRITERIA)


def survey_table(f: ExportFilter, _: Translate, columns: Sequence[C.Column] = C.SURVEY_COLUMNS,
                 for_csv: bool = False) -> Table:
    """One row per survey, one column per answer in the form's order, between the survey's place
    and its review and farmhouse result; two header rows (labels with units, keys). Dates are
    date objects; `for_csv`, every cell is final CSV text or a number (dates in ISO form, text
    that a spreadsheet would evaluate quoted)."""
    criteria = default_criteria()
    spec = [(col.key, *_converter(col, f, _, for_csv)) for col in columns]
    # Text passed through as it is must still be quoted against formulas, in CSV: one look at
    # each such cell of a row, cheaper than a call for each.
    free_text = [n for n, col in enumerate(columns) if col.type in ("text", "date")] if for_csv else []
    formula_starts = C.FORMULA_STARTS

    def rows():
        for record in _survey_records(f, criteria, text_times=for_csv):
            get = record.get
            row = [value if (value := get(key)) is None or type(value) in passed else convert(value)
                   for key, passed, convert in spec]
            for n in free_text:
                value = row[n]
                if value is not None and value.startswith(formula_starts):
                    row[n] = C.QUOTE + value
            yield row

    return Table(columns, header_rows(columns, _), rows(), count_surveys(f))


def farmhouse_features(f: ExportFilter, _: Translate) -> Iterator[dict[str, Any]]:
    """A GeoJSON feature per survey with a GPS position: a point [longitude, latitude] (rounded
    to two decimals when personal data is masked) and the columns of FEATURE_KEYS."""
    criteria = default_criteria()
    lat_col, lon_col = C.column("latitude"), C.column("longitude")
    converters = [(key, _converter(C.column(key), f, _, for_csv=True)[1]) for key in FEATURE_KEYS]
    for record in _survey_records(f, criteria, gps_only=True, text_times=True):
        lat, lon = record["latitude"], record["longitude"]
        if not f.full:
            lat, lon = C.mask(lat_col, lat), C.mask(lon_col, lon)
        properties = {}
        for key, convert in converters:
            value = record.get(key)
            properties[key] = None if value is None else convert(value)
        yield {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": properties}


def column_sheet(columns: Sequence[C.Column], f: ExportFilter, _: Translate) -> Sheet:
    """The second sheet: every column of the first described (key, label, unit, type, codes and
    their labels, whether it is personal data and masked in this file)."""
    type_labels = {"text": _("text"), "int": _("whole number"), "decimal": _("number"),
                   "date": _("date"), "datetime": _("date and time"), "year": _("year"),
                   "bool": _("yes or no"), "code": _("code")}
    yes, no = _(C.YES), _(C.NO)

    def rows():
        for col in columns:
            if col.type == "bool":
                codes = f"{C.TRUE_CODE} = {yes}; {C.FALSE_CODE} = {no}"
            else:
                codes = "; ".join(f"{code} = {_(label)}" for code, label in col.codes)
            if not col.personal:
                personal = ""
            elif f.full:
                personal = _("personal data, in full")
            else:
                personal = _("personal data, masked")
            yield [col.key, _(col.label), _(col.unit) if col.unit else "",
                   type_labels.get(col.type, col.type), codes, personal]

    header = [_("Key"), _("Column"), _("Unit"), _("Type"),
              _("Codes and their labels"), _("Personal data")]
    return Sheet(_("Columns"), [header],
                 [SheetColumn(width=26), SheetColumn(width=36), SheetColumn(width=16), SheetColumn(width=12),
                  SheetColumn(width=60), SheetColumn(width=18)], rows(), wrap_columns=(1, 4))


def survey_sheets(f: ExportFilter, _: Translate) -> tuple[list[Sheet], int]:
    table = survey_table(f, _)
    sheet = Sheet(_("Surveys"), table.header_rows,
                  [SheetColumn(type=_sheet_type(col), number_format=_number_format(col)) for col in table.columns],
                  table.rows, freeze_columns=0)
    return [sheet, column_sheet(table.columns, f, _)], table.count


def _sheet_type(col: C.Column) -> str:
    return col.type


def _number_format(col: C.Column) -> str | None:
    if col.key == "farmhouse_score":
        return "0.00"
    if col.key == "net_tco2e":
        return "0.000"
    if col.key in ("latitude", "longitude"):
        return "0.000000"
    return None


# ---------------------------------------------------------------- evaluations

LEVEL_SHEETS = (("village", C.N_("Villages")), ("township", C.N_("Townships")), ("county", C.N_("Counties")))
LEVEL_NAMES = {"township": C.N_("Township"), "county": C.N_("County")}
PARENTS = {"village": ("township", Township), "township": ("county", County)}


def _levels_within(area: Area) -> tuple[str, ...]:
    order = ("village", "township", "county")
    if area.level == "city":
        return order
    return order[:order.index(area.level) + 1]


def _indicator_unit(indicator) -> str | None:
    if indicator.kind == "coverage" or indicator.direction == "higher_better":
        return "percent"
    return None


def _evaluation_rows(criteria: CriteriaSet, year: int, level: str, area: Area) -> list[tuple]:
    """(code, name, parent code, parent name, results, finalized version or None) of every area of
    `level` within `area`: an area's current finalized evaluation as it was frozen, else the
    precomputed figures once the set is built, else scored now (as the evaluation lists do)."""
    from village_survey.evaluations import services

    if precomputed.built(criteria):
        found = precomputed.figures(criteria, year, level, area)
        rows = [(ident, fig.code, fig.name, fig.parent_id, fig.results) for ident, fig in found.items()]
    else:
        scored = services.score_area(year, criteria, area)
        results = services.evaluate_scored(scored)
        infos = {"village": scored.villages, "township": scored.townships, "county": scored.counties}[level]
        parent_key = {"village": "township_id", "township": "county_id"}.get(level)
        rows = [(ident, info["code"], info["name"], info.get(parent_key) if parent_key else None,
                 results.of(level, ident))
                for ident, info in sorted(infos.items(), key=lambda item: item[1]["code"])]
    finalized = {}
    for chunk in _chunks([row[0] for row in rows]):
        finalized.update(services.current_evaluations(level, chunk, year, criteria.name))
    parent = PARENTS.get(level)
    names = {}
    if parent is not None:
        model = parent[1]
        ids = {row[3] for row in rows if row[3] is not None}
        names = {i: (code, name) for i, code, name in db.session.execute(
            select(model.id, model.code, model.name).where(model.id.in_(ids)))}
    out = []
    for ident, code, name, parent_id, results in rows:
        frozen = finalized.get(ident)
        if frozen is not None:
            results = frozen.results
        out.append((code, name, *names.get(parent_id, (None, None)), results,
                    frozen.version if frozen is not None else None))
    return out


def _chunks(items: Sequence, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def evaluation_sheets(f: ExportFilter, _: Translate, language: str, year: int) -> tuple[list[Sheet], int]:
    """A sheet per level within the area (villages, townships, counties) with each area's
    coverage, score, grade, stars, zero-carbon farmhouses and every village indicator's value and
    score; and a sheet describing the columns."""
    criteria = default_criteria()
    indicators = criteria.village.indicators
    zh = language.startswith("zh")
    sheets = []
    described = []
    total = 0
    for level, title in LEVEL_SHEETS:
        if level not in _levels_within(f.area):
            continue
        parent = PARENTS.get(level)
        head: list[tuple[str, str, str, str]] = [  # key, header, type, description
            ("code", _("Code"), "text", ""), ("name", _("Name"), "text", "")]
        if parent is not None:
            parent_label = _(LEVEL_NAMES[parent[0]])
            head += [(f"{parent[0]}_code", _("%(level)s code", level=parent_label), "text", ""),
                     (f"{parent[0]}_name", parent_label, "text", "")]
        head += [("evaluation", _("Evaluation"), "text",
                  _("finalized (its figures as frozen) or provisional (as the approved surveys give them now)")),
                 ("registered_households", _("Registered households"), "int", ""),
                 ("approved_surveys", _("Approved surveys"), "int", ""),
                 ("coverage", _("Survey coverage"), "percent", ""),
                 ("score", _("Score"), "decimal", _("0 to 100")),
                 ("grade", _("Grade"), "text", ""),
                 ("stars_0", _("Farmhouses without a star"), "int", ""),
                 ("stars_1", _("Farmhouses with 1 star"), "int", ""),
                 ("stars_2", _("Farmhouses with 2 stars"), "int", ""),
                 ("stars_3", _("Farmhouses with 3 stars"), "int", ""),
                 ("zero_carbon", _("Zero-carbon farmhouses"), "int", "")]
        for ind in indicators:
            label = ind.label_zh if zh else ind.label_en
            head.append((ind.id, label, _indicator_unit(ind) or "decimal",
                         _("target %(target)s, weight %(weight)s", target=f"{ind.target:g}",
                                   weight=f"{ind.weight:g}")))
        for ind in indicators:
            label = ind.label_zh if zh else ind.label_en
            head.append((f"{ind.id}_score", _("%(indicator)s: score", indicator=label), "decimal",
                         _("0 to 100")))
        rows = _evaluation_rows(criteria, year, level, f.area)
        total += len(rows)

        def cells(rows=rows, parent=parent):
            for code, name, parent_code, parent_name, results, version in rows:
                stars = list(results.get("star_counts") or ())
                stars += [None] * (4 - len(stars))
                by_id = {i["id"]: i for i in results.get("indicators", ())}
                grade = results.get("grade")
                if results.get("insufficient_data"):
                    grade_text = _("Insufficient data")
                else:
                    grade_text = (results.get("grade_zh") if zh else results.get("grade_en")) or grade
                row = [code, name]
                if parent is not None:
                    row += [parent_code, parent_name]
                state = _("finalized, version %(n)s", n=version) if version else _("provisional")
                row += [state, results.get("registered_households"), results.get("approved_surveys"),
                        results.get("coverage"), _round(results.get("score"), 2), grade_text, *stars[:4],
                        results.get("zero_carbon_count")]
                row += [_round(by_id.get(ind.id, {}).get("value"), 4) for ind in indicators]
                row += [_round(by_id.get(ind.id, {}).get("score"), 2) for ind in indicators]
                yield row

        columns = [SheetColumn(type=kind if kind in ("percent", "int") else "decimal" if kind == "decimal" else "text",
                               number_format="0.00" if kind == "decimal" else None) for _k, _h, kind, _d in head]
        for c, (_key, text, _kind, _desc) in enumerate(head):
            columns[c].width = min(max(len(text) * (2 if zh else 1) / 2 + 4, 10), 28) if c > 1 else 20
        sheets.append(Sheet(_(title), [[h for _k, h, _t, _d in head], [k for k, _h, _t, _d in head]],
                            columns, cells(), freeze_columns=2))
        described.append((_(title), head))

    def description_rows():
        for title, head in described:
            for key, text, kind, desc in head:
                unit = "%" if kind == "percent" else ""
                yield [title, key, text, unit, desc]

    sheets.append(Sheet(_("Columns"), [[_("Sheet"), _("Key"), _("Column"),
                                                 _("Unit"), _("Description")]],
                        [SheetColumn(width=14), SheetColumn(width=24), SheetColumn(width=48), SheetColumn(width=8),
                         SheetColumn(width=40)], description_rows(), wrap_columns=(2,)))
    return sheets, total


def _round(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return round(value, digits) + 0.0
    return value


def evaluation_filter(f: ExportFilter, this_year: int) -> ExportFilter:
    """Evaluations are of one year: this year unless the filter names one."""
    return f if f.year is not None else replace(f, year=this_year)


# ---------------------------------------------------------------- a whole file (command line, background job)

Progress = Callable[[int], None]


def write_file(kind: str, suffix: str, f: ExportFilter, target, _: Translate, locale: str,
               progress: Progress = lambda rows: None,
               start: Callable[[int, str], None] = lambda total, label: None) -> int:
    """Write an export to `target` (a path): `kind` surveys (.xlsx or .csv), farmhouses (.geojson)
    or evaluations (.xlsx). `start(total, label)` is told how many rows come once that is known,
    `progress(rows)` each time rows are written. Returns the rows written."""
    label = {"evaluations": _("Writing the evaluations"), "farmhouses": _("Writing the farmhouses"),
             "surveys": _("Writing the surveys")}[kind]
    if kind == "evaluations":
        sheets, count = evaluation_sheets(f, _, locale, f.year)
        start(count, label)
        writers.write_xlsx(str(target), sheets, progress=progress)
        return count
    if kind == "farmhouses":
        start(count_surveys(f), label)
        read = [0]
        with open(target, "wb") as out:
            for chunk in writers.geojson_chunks(_counted(farmhouse_features(f, _), progress, read)):
                out.write(chunk)
        return read[0]
    if suffix == ".csv":
        table = survey_table(f, _, for_csv=True)
        start(table.count, label)
        with open(target, "wb") as out:
            for chunk in writers.csv_chunks(table.header_rows, table.rows, progress=progress, ready=True):
                out.write(chunk)
        return table.count
    sheets, count = survey_sheets(f, _)
    start(count, label)
    writers.write_xlsx(str(target), sheets, progress=progress)
    return count


def _counted(features, progress, read):
    """The features, counting the surveys read (those without GPS are read too)."""
    for feature in features:
        read[0] += 1
        progress(1)
        yield feature
