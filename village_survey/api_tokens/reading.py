"""What the read API answers: pages of surveys, farmhouse scores, evaluations and villages of a
token's area, as plain values (no personal data: see masking).

Lists are paged by an opaque cursor over a stable order. Where rows have a change time
(surveys, farmhouse scores), `updated_since` keeps those changed since, oldest change first;
every page of one pull answers the same `server_time`, the next pull's `updated_since` (a
minute early, so that a change committed late is never missed: such rows come twice). With
`updated_since`, a survey that left the approved state since (returned, reopened) comes as
`{"uuid", "approved": false, "updated_at"}`, so that the other platform can drop it.
"""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from village_survey import access
from village_survey.api_tokens.masking import masked_answers, round_coordinate
from village_survey.areas.models import County, Household, Township, Village
from village_survey.core.errors import DomainError
from village_survey.evaluations import precomputed
from village_survey.evaluations.models import StoredResult
from village_survey.evaluations.precomputed import CITY, Area
from village_survey.evaluations.services import current_evaluations
from village_survey.extensions import db
from village_survey.scoring.criteria import CriteriaError, DEFAULT_CRITERIA, load_criteria
from village_survey.surveys.models import Survey

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
OVERLAP = dt.timedelta(seconds=60)
LEVELS_BELOW = {"township": ("village", "township"), "county": ("village", "township", "county"),
                "city": ("village", "township", "county", "city")}
# Per-survey rows are the farmhouse-scores endpoint's; the figures keep the area's own.
LEFT_OUT_OF_FIGURES = ("farmhouses", "unscorable")


def bad_request(message):
    return DomainError(400, message)


@dataclass(frozen=True)
class Paging:
    limit: int
    position: list | None  # the last row of the page before, as its cursor holds it


@dataclass
class ReadPage:
    items: list
    next_cursor: str | None
    server_time: dt.datetime | None = None
    extra: dict | None = None

    def body(self, name):
        body = {name: self.items, "next_cursor": self.next_cursor}
        if self.server_time is not None:
            body["server_time"] = instant_text(self.server_time)
        return body | (self.extra or {})


def instant_text(value):
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


def encode_cursor(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(text, kinds):
    """The values of a cursor the server gave, checked against `kinds` ("time", "id", "text")."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        decoded = []
        for kind, value in zip(kinds, values):
            if kind == "time":
                value = dt.datetime.fromisoformat(value)
            elif kind == "id" and not access.is_row_id(value):
                raise ValueError
            elif kind == "text" and not isinstance(value, str):
                raise ValueError
            decoded.append(value)
        return decoded
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise bad_request(_("This cursor is not one the server gave: start again without it.")) from None


def paging(raw_limit, raw_cursor, kinds):
    if raw_limit is None:
        limit = DEFAULT_LIMIT
    elif raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
        limit = int(raw_limit)
    else:
        raise bad_request(_("The limit must be a whole number from 1 to %(max)d.", max=MAX_LIMIT))
    return Paging(limit, decode_cursor(raw_cursor, kinds) if raw_cursor is not None else None)


def whole_number(raw, name, low, high):
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad_request(_("%(name)s must be a whole number from %(low)d to %(high)d.",
                            name=name, low=low, high=high))
    return int(raw)


def criteria_of(raw):
    try:
        return load_criteria(raw or DEFAULT_CRITERIA)
    except (CriteriaError, ValueError, OSError):
        raise bad_request(_("There is no criteria set named %(name)s.", name=raw)) from None


def _in_area(stmt, scope):
    """`stmt` (joined to Household) limited to the token's area."""
    return (stmt.join(Village, Household.village_id == Village.id)
            .join(Township, Village.township_id == Township.id)
            .where(access.household_in_scope(scope)))


def _changed_page(stmt, scope, paging, since, now, row_item):
    """The shared pull of surveys and farmhouse scores: order (Survey.updated_at, Survey.id)."""
    stmt = _in_area(stmt, scope)
    if paging.position is not None:
        updated_at, survey_id, server_time = paging.position
        stmt = stmt.where(or_(Survey.updated_at > updated_at,
                              and_(Survey.updated_at == updated_at, Survey.id > survey_id)))
    else:
        server_time = now - OVERLAP
    if since is not None:
        stmt = stmt.where(Survey.updated_at >= since)
    rows = db.session.execute(stmt.order_by(Survey.updated_at, Survey.id).limit(paging.limit + 1)).all()
    more = len(rows) > paging.limit
    rows = rows[:paging.limit]
    cursor = (encode_cursor([rows[-1].updated_at.isoformat(timespec="microseconds"), rows[-1].id,
                             server_time.isoformat(timespec="microseconds")]) if more else None)
    return ReadPage([row_item(row) for row in rows], cursor, server_time)


CHANGED_CURSOR = ("time", "id", "time")


def _removed(row):
    return {"uuid": row.uuid, "approved": False, "updated_at": instant_text(row.updated_at)}


def surveys_page(scope, paging, since, year, now):
    """Approved surveys with their answers (masked); with `since`, also those that left the
    approved state since, as removed."""
    stmt = (select(Survey.id, Survey.uuid, Survey.status, Survey.year, Survey.form_version, Survey.revision,
                   Survey.answers, Survey.reviewed_at, Survey.updated_at, Survey.household_id,
                   Household.village_id, Household.house_number)
            .select_from(Survey).join(Household, Survey.household_id == Household.id))
    if since is None:
        stmt = stmt.where(Survey.status == "approved")
    if year is not None:
        stmt = stmt.where(Survey.year == year)

    def item(row):
        if row.status != "approved":
            return _removed(row)
        return {"uuid": row.uuid, "approved": True, "year": row.year, "form_version": row.form_version,
                "revision": row.revision, "village_id": row.village_id, "household_id": row.household_id,
                "house_number": row.house_number, "approved_at": instant_text(row.reviewed_at),
                "updated_at": instant_text(row.updated_at), "answers": masked_answers(row.answers)}

    return _changed_page(stmt, scope, paging, since, now, item)


def farmhouse_scores_page(scope, paging, since, year, criteria, now):
    """The stored farmhouse results of approved surveys under one criteria set; with `since`,
    also the surveys that left the approved state since, as removed."""
    r = StoredResult
    stmt = (select(Survey.id, Survey.uuid, Survey.status, Survey.updated_at, Survey.household_id,
                   Household.village_id, r.survey_id.label("scored"), r.year, r.criteria, r.criteria_version,
                   r.revision, r.total, r.stars, r.base_level, r.zero_carbon, r.error, r.cooking, r.heating,
                   r.hot_water, r.lighting, r.pv, r.pv_kwp, r.latitude, r.longitude, r.gps_accuracy_m)
            .select_from(Survey).join(Household, Survey.household_id == Household.id)
            .outerjoin(r, and_(r.survey_id == Survey.id, r.criteria == criteria.name)))
    scored = and_(Survey.status == "approved", r.survey_id.is_not(None))
    stmt = stmt.where(scored if since is None else or_(scored, Survey.status != "approved"))
    if year is not None:
        stmt = stmt.where(Survey.year == year)

    def item(row):
        if row.status != "approved":
            return _removed(row)
        return {"uuid": row.uuid, "approved": True, "year": row.year, "village_id": row.village_id,
                "household_id": row.household_id, "criteria": row.criteria,
                "criteria_version": row.criteria_version, "revision": row.revision,
                "total": row.total, "stars": row.stars, "base_level": row.base_level,
                "zero_carbon": row.zero_carbon, "unscorable": (row.error or {}).get("code"),
                "cooking": row.cooking, "heating": row.heating, "hot_water": row.hot_water,
                "lighting": row.lighting, "pv": row.pv, "pv_kwp": row.pv_kwp,
                "latitude": round_coordinate(row.latitude), "longitude": round_coordinate(row.longitude),
                "gps_accuracy_m": row.gps_accuracy_m, "updated_at": instant_text(row.updated_at)}

    return _changed_page(stmt, scope, paging, since, now, item)


def villages_page(scope, paging):
    stmt = (select(Village.id, Village.code, Village.name, Village.registered_households,
                   Township.id.label("township_id"), Township.code.label("township_code"),
                   Township.name.label("township_name"), County.id.label("county_id"),
                   County.code.label("county_code"), County.name.label("county_name"))
            .select_from(Village).join(Township, Village.township_id == Township.id)
            .join(County, Township.county_id == County.id)
            .where(access.household_in_scope(scope)))
    if paging.position is not None:
        stmt = stmt.where(Village.id > paging.position[0])
    rows = db.session.execute(stmt.order_by(Village.id).limit(paging.limit + 1)).all()
    more = len(rows) > paging.limit
    rows = rows[:paging.limit]
    items = [{"id": row.id, "code": row.code, "name": row.name,
              "registered_households": row.registered_households,
              "township": {"id": row.township_id, "code": row.township_code, "name": row.township_name},
              "county": {"id": row.county_id, "code": row.county_code, "name": row.county_name}}
             for row in rows]
    return ReadPage(items, encode_cursor([rows[-1].id]) if more else None)


def scope_area(scope):
    if scope.scope_level == "township":
        return Area("township", scope.township_id)
    if scope.scope_level == "county":
        return Area("county", scope.county_id)
    return CITY


def _figures_only(results):
    return {k: v for k, v in (results or {}).items() if k not in LEFT_OUT_OF_FIGURES}


def evaluations_page(scope, paging, year, level, criteria):
    """The figures of every area of `level` within the token's area (kept up to date from the
    approved surveys), each with its current finalized version if there is one; in code order."""
    level = level or scope.scope_level
    if level not in LEVELS_BELOW[scope.scope_level]:
        raise bad_request(_("The level must be one of %(levels)s for this token.",
                            levels=", ".join(LEVELS_BELOW[scope.scope_level])))
    found = list(precomputed.figures(criteria, year, level, scope_area(scope)).values())
    if paging.position is not None:
        found = [f for f in found if (f.code or "") > paging.position[0]]
    more = len(found) > paging.limit
    found = found[:paging.limit]
    finalized = current_evaluations(level, [f.id for f in found], year, criteria.name)
    items = []
    for figures in found:
        evaluation = finalized.get(figures.id)
        items.append({
            "level": figures.level, "id": figures.id, "code": figures.code, "name": figures.name,
            "parent_id": figures.parent_id, "figures": _figures_only(figures.results), "mix": figures.mix,
            "finalized": None if evaluation is None else {
                "version": evaluation.version, "criteria_version": evaluation.criteria_version,
                "finalized_at": instant_text(evaluation.finalized_at),
                "figures": _figures_only(evaluation.results)}})
    cursor = encode_cursor([found[-1].code or ""]) if more else None
    return ReadPage(items, cursor, extra={
        "year": year, "level": level, "criteria": criteria.name, "criteria_version": criteria.version,
        # False until `flask evaluate --rebuild` ran for this criteria version: figures may be empty.
        "precomputed": precomputed.built(criteria)})
