"""Survey progress of an area for a year, by child area: registered households, households
surveyed (any survey of the year), and surveys submitted, approved and returned.

Counted live (the review desk changes them all day), in two grouped queries: the registered
households per child from the villages, the surveys per child and status from the surveys of
the year. A township's and a county's go from their villages through the indexes of
households by village and surveys by (household, year); the city's read the year's surveys
once (a covering index on surveys (year, status, household_id) would halve that: see
bench/out or the dashboard helper's report).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from village_survey.areas.models import County, Household, Township, Village
from village_survey.evaluations.precomputed import Area
from village_survey.extensions import db
from village_survey.surveys.models import Survey

CHILD_LEVEL = {"city": "county", "county": "township", "township": "village"}


@dataclass(frozen=True)
class ProgressRow:
    """One child area's progress (or the total's: level and id None)."""

    level: str | None
    id: int | None
    name: str
    code: str | None
    parent_id: int | None  # the township of a village (the review queue filters by both)
    registered: int
    surveyed: int
    draft: int
    submitted: int
    approved: int
    returned: int

    @property
    def coverage(self) -> float | None:
        """Approved surveys over registered households (what evaluations call coverage)."""
        return self.approved / self.registered if self.registered else None


@dataclass(frozen=True)
class Progress:
    area: Area
    year: int
    child_level: str
    rows: tuple[ProgressRow, ...]
    total: ProgressRow


def _children(area: Area, child_level: str):
    """(id, name, code, parent id, registered households) of the area's children, in code order."""
    if child_level == "village":
        stmt = (select(Village.id, Village.name, Village.code, Village.township_id,
                       Village.registered_households)
                .where(Village.township_id == area.id))
    elif child_level == "township":
        registered = func.coalesce(func.sum(Village.registered_households), 0)
        stmt = (select(Township.id, Township.name, Township.code, Township.county_id, registered)
                .outerjoin(Village, Village.township_id == Township.id)
                .where(Township.county_id == area.id)
                .group_by(Township.id, Township.name, Township.code, Township.county_id))
    else:
        registered = func.coalesce(func.sum(Village.registered_households), 0)
        stmt = (select(County.id, County.name, County.code, None, registered)
                .outerjoin(Township, Township.county_id == County.id)
                .outerjoin(Village, Village.township_id == Township.id)
                .group_by(County.id, County.name, County.code))
    return db.session.execute(stmt.order_by(stmt.selected_columns[2])).all()


def survey_counts(area: Area, year: int) -> dict[int, dict[str, int]]:
    """{child id: {status: surveys of the year}} of an area's children (only those with some)."""
    child_level = CHILD_LEVEL[area.level]
    stmt = select(Survey.status, func.count()).select_from(Survey).join(Household, Survey.household_id == Household.id)
    if child_level == "village":
        child = Household.village_id
        # the township's villages first, then their households and each one's survey of the year
        stmt = stmt.where(Household.village_id.in_(select(Village.id).where(Village.township_id == area.id)))
    elif child_level == "township":
        child = Village.township_id
        stmt = (stmt.join(Village, Household.village_id == Village.id)
                .where(Village.township_id.in_(select(Township.id).where(Township.county_id == area.id))))
    else:
        # the city: by village, summed by county here; joining every survey of the year to its
        # township takes twice as long (SQLite, 600,000 surveys: 0.9 s against 1.6 s)
        child = Household.village_id
    stmt = stmt.add_columns(child).where(Survey.year == year).group_by(child, Survey.status)
    parent = None
    if child_level == "county":
        parent = dict(db.session.execute(select(Village.id, Township.county_id)
                                         .join(Township, Village.township_id == Township.id)).all())
    counts: dict[int, dict[str, int]] = {}
    for status, count, ident in db.session.execute(stmt):
        key = parent[ident] if parent is not None else ident
        by_status = counts.setdefault(key, {})
        by_status[status] = by_status.get(status, 0) + count
    return counts


def _row(level, ident, name, code, parent, registered, by_status) -> ProgressRow:
    return ProgressRow(level, ident, name, code, parent, int(registered or 0), sum(by_status.values()),
                       by_status.get("draft", 0), by_status.get("submitted", 0),
                       by_status.get("approved", 0), by_status.get("returned", 0))


def progress(area: Area, year: int, total_name: str = "") -> Progress:
    """The progress of an area (a township, a county or the city) by child area, with a total."""
    child_level = CHILD_LEVEL[area.level]
    counts = survey_counts(area, year)
    rows = tuple(_row(child_level, ident, name, code, parent, registered, counts.get(ident, {}))
                 for ident, name, code, parent, registered in _children(area, child_level))
    fields = ("registered", "surveyed", "draft", "submitted", "approved", "returned")
    sums = {name: sum(getattr(r, name) for r in rows) for name in fields}
    total = ProgressRow(None, None, total_name, None, None, **sums)
    return Progress(area, year, child_level, rows, total)
