"""Evaluations kept precomputed: each approved survey's farmhouse result, and every area's pooled
figures, updated when a survey is approved or leaves that status and rebuilt when criteria change.

    survey_changed(survey)        # in the approving (or reopening) transaction
    villages_changed([id, ...])   # a village's registered households or township changed
    rebuild(workers, progress)    # `flask evaluate --rebuild`: everything, for every current set
    built(criteria)               # whether pages may read the aggregates of this set's version

An area's figures are pooled from its children's stored tallies (a village from its results, a
township from its villages, a county from its townships, the city from its counties), exactly as
`scoring.evaluate_areas` pools them in one go: the two agree to the last bit (tests check it).
An approval refreshes one village and its three ancestors: a few small reads and four upserts.

Pages never score an area per request once the current version of a set is built; before
that (a new criteria version deployed, a database upgraded) they score when asked, and say so.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from village_survey.areas.models import County, Household, Township, Village, utcnow
from village_survey.evaluations.models import AreaAggregate, EvaluationBuild, StoredResult
from village_survey.extensions import db
from village_survey.scoring import (
    AnswerError, CriteriaSet, FarmhouseRecord, Tally, available_criteria, evaluate_tally,
    evaluation_to_dict, load_criteria, load_criteria_file, measure_totals, pooled_tally, score_farmhouse_record,
    tally_from_dict, village_tally,
)
from village_survey.scoring.profile import empty_mix, household_profile, pooled_mix, village_mix
from village_survey.surveys.models import Survey

CITY_ID = 0  # the city's area_id in area_aggregates
# Villages scored per task of a rebuild: a task's rows are inserted as one batch.
REBUILD_CHUNK = 40
INSERT_BATCH = 5000


def current_sets() -> list[CriteriaSet]:
    """The criteria sets kept precomputed: the current version of every shipped set."""
    return [load_criteria(name) for name in available_criteria()]


def built(criteria: CriteriaSet) -> bool:
    """Whether the current version of this set was rebuilt once (and kept up to date since)."""
    return db.session.get(EvaluationBuild, (criteria.name, criteria.version)) is not None


@dataclass(frozen=True)
class Area:
    """An area to evaluate: a level and an id (None for the city)."""

    level: str
    id: int | None = None


CITY = Area("city")


# ---------------------------------------------------------------- one survey


def result_row(survey_id: int, revision: int, year: int, village_id: int, form_version: int,
               answers: dict, criteria: CriteriaSet) -> dict[str, Any]:
    """The farmhouse_results row of one approved survey under one criteria set."""
    row = {"survey_id": survey_id, "criteria": criteria.name, "criteria_version": criteria.version,
           "revision": revision, "year": year, "village_id": village_id, "total": None,
           "stars": None, "base_level": None, "zero_carbon": None, "sums": None, "error": None,
           **household_profile(answers)}
    if form_version not in criteria.form_versions:
        row["error"] = {"code": "form_version", "key": None,
                        "why": f"form version {form_version} is not scored by {criteria.name}"}
        return row
    try:
        record = score_farmhouse_record(answers, criteria)
    except AnswerError as error:
        row["error"] = {"code": "answer", "key": error.key, "why": str(error)}
        return row
    row.update(total=record.total, stars=record.stars, base_level=record.base_level,
               zero_carbon=record.zero_carbon, sums=list(record.sums))
    return row


def survey_changed(survey: Survey) -> None:
    """Store (if approved) or drop a survey's results, and refresh its village and the areas
    above it for its year. Called in the transaction that changed the survey."""
    surveys_changed([survey])


def surveys_changed(surveys: Iterable[Survey]) -> None:
    """`survey_changed` for many surveys (an import): their results anew, then each year's
    villages (and the areas above them) refreshed once."""
    surveys = list(surveys)
    if not surveys:
        return
    db.session.flush()
    ids = [survey.id for survey in surveys]
    for chunk in _chunks(ids, INSERT_BATCH):
        db.session.execute(delete(StoredResult).where(StoredResult.survey_id.in_(chunk)))
    sets = current_sets()
    rows = [result_row(s.id, s.revision, s.year, s.household.village_id, s.form_version, s.answers, criteria)
            for s in surveys if s.status == "approved" for criteria in sets]
    for batch in _chunks(rows, INSERT_BATCH):
        db.session.execute(insert(StoredResult.__table__), batch)
    by_year: dict[int, set] = defaultdict(set)
    for survey in surveys:
        by_year[survey.year].add(survey.household.village_id)
    for year, village_ids in sorted(by_year.items()):
        for criteria in sets:
            refresh(criteria, year, village_ids)


def villages_changed(village_ids: Iterable[int], moved: bool = False) -> None:
    """Refresh these villages (and above) in every year they have figures: their registered
    households (coverage) changed, or (`moved`) their township or its county did."""
    db.session.flush()
    ids = list(village_ids)
    for criteria in current_sets():
        years = db.session.scalars(select(AreaAggregate.year).distinct()
                                   .where(AreaAggregate.criteria == criteria.name))
        for year in list(years):
            refresh(criteria, year, ids, everywhere=moved)


# ---------------------------------------------------------------- refreshing areas


def _record(row) -> FarmhouseRecord:
    total, stars, base_level, zero_carbon, sums = row
    return FarmhouseRecord(None, total, stars, bool(base_level), bool(zero_carbon), tuple(sums))


def area_results(level: str, key, tally: Tally, criteria: CriteriaSet) -> dict[str, Any]:
    """What pages show of an area, from its tally (the form of an Evaluation's results)."""
    results = evaluation_to_dict(evaluate_tally(level, key, tally, criteria))
    results.update(criteria_version=criteria.version,
                   measure_totals={name: round(value, 4) + 0.0
                                   for name, value in measure_totals(tally, criteria).items()})
    return results


def _village_figures(criteria: CriteriaSet, year: int, village_id: int, registered: int):
    rows = db.session.execute(
        select(StoredResult.total, StoredResult.stars, StoredResult.base_level,
               StoredResult.zero_carbon, StoredResult.sums, StoredResult.cooking,
               StoredResult.heating, StoredResult.hot_water, StoredResult.lighting,
               StoredResult.pv, StoredResult.pv_kwp)
        .where(StoredResult.criteria == criteria.name, StoredResult.year == year,
               StoredResult.village_id == village_id)).all()
    records = [_record(row[:5])._replace(criteria=criteria.name) for row in rows if row[0] is not None]
    profiles = [{"cooking": r[5], "heating": r[6], "hot_water": r[7], "lighting": r[8], "pv": r[9],
                 "pv_kwp": r[10]} for r in rows]
    return village_tally(records, registered, criteria), village_mix(profiles)


def _empty_village(registered: int, criteria: CriteriaSet) -> tuple[Tally, dict]:
    return village_tally([], registered, criteria), empty_mix()


def _stored(criteria: CriteriaSet, year: int, level: str, ids: Iterable[int]) -> dict[int, tuple]:
    rows = db.session.execute(
        select(AreaAggregate.area_id, AreaAggregate.tally, AreaAggregate.mix)
        .where(AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
               AreaAggregate.level == level, AreaAggregate.area_id.in_(list(ids))))
    return {area_id: (tally_from_dict(tally), mix) for area_id, tally, mix in rows}


def _upsert(criteria: CriteriaSet, year: int, level: str, area_id: int, tally: Tally, mix: dict,
            existing: set) -> None:
    values = {"criteria_version": criteria.version, "tally": tally.to_dict(),
              "results": area_results(level, area_id if level != "city" else "city", tally, criteria),
              "mix": mix, "updated_at": _now()}
    if area_id in existing:
        db.session.execute(update(AreaAggregate).where(
            AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
            AreaAggregate.level == level, AreaAggregate.area_id == area_id).values(**values))
    else:
        db.session.execute(insert(AreaAggregate).values(criteria=criteria.name, year=year, level=level,
                                                         area_id=area_id, **values))


def _now():
    return utcnow()


def _lock_year(criteria: CriteriaSet, year: int) -> set:
    """Serialize the refreshes of a set's year: on PostgreSQL, the city's row is locked until the
    transaction ends (made first if missing, without failing when another request makes it at the
    same moment); SQLite has one writer at a time anyway. Returns {CITY_ID}: the row exists."""
    dialect = db.session.get_bind().dialect.name
    make = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(AreaAggregate)
    empty = pooled_tally([], criteria)
    db.session.execute(make.values(
        criteria=criteria.name, criteria_version=criteria.version, year=year, level="city", area_id=CITY_ID,
        tally=empty.to_dict(), results=area_results("city", "city", empty, criteria), mix=empty_mix(),
        updated_at=_now()).on_conflict_do_nothing())
    db.session.execute(
        select(AreaAggregate.id).where(AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
                                       AreaAggregate.level == "city").with_for_update())
    return {CITY_ID}


def _pool(children: dict[int, tuple], criteria: CriteriaSet) -> tuple[Tally, dict]:
    # sorted by id: the pooled figures do not depend on the order, the stored lists do
    ordered = [children[k] for k in sorted(children)]
    return (pooled_tally([t for t, _ in ordered], criteria), pooled_mix([m for _, m in ordered]))


def refresh(criteria: CriteriaSet, year: int, village_ids: Iterable[int], everywhere: bool = False) -> None:
    """Recompute these villages' figures from their results, then their townships', counties'
    and the city's from their children's stored figures. `everywhere`: the villages may have
    moved, so recompute every township and county that holds or held one of them."""
    village_ids = sorted(set(village_ids))
    if not village_ids:
        return
    city_exists = _lock_year(criteria, year)
    villages = {vid: (registered, tid, cid) for vid, registered, tid, cid in db.session.execute(
        select(Village.id, Village.registered_households, Village.township_id, Township.county_id)
        .join(Township, Village.township_id == Township.id).where(Village.id.in_(village_ids)))}
    existing = set(db.session.scalars(
        select(AreaAggregate.area_id).where(AreaAggregate.criteria == criteria.name,
                                            AreaAggregate.year == year, AreaAggregate.level == "village",
                                            AreaAggregate.area_id.in_(village_ids))))
    for vid, (registered, _tid, _cid) in villages.items():
        tally, mix = _village_figures(criteria, year, vid, registered)
        _upsert(criteria, year, "village", vid, tally, mix, existing)
    township_ids = {tid for _r, tid, _c in villages.values()}
    county_ids = {cid for _r, _t, cid in villages.values()}
    if everywhere:
        # where the villages were before: townships whose stored figures count a village no longer theirs
        township_ids |= set(db.session.scalars(select(AreaAggregate.area_id).where(
            AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
            AreaAggregate.level == "township")))
        county_ids |= set(db.session.scalars(select(Township.county_id).where(Township.id.in_(township_ids))))
    _refresh_townships(criteria, year, township_ids)
    _refresh_counties(criteria, year, county_ids)
    _refresh_city(criteria, year, city_exists)


def _refresh_townships(criteria: CriteriaSet, year: int, township_ids: set) -> None:
    if not township_ids:
        return
    members = db.session.execute(select(Village.id, Village.registered_households, Village.township_id)
                                 .where(Village.township_id.in_(township_ids))).all()
    stored = _stored(criteria, year, "village", [vid for vid, _r, _t in members])
    children: dict[int, dict] = defaultdict(dict)
    for vid, registered, tid in members:
        children[tid][vid] = stored.get(vid) or _empty_village(registered, criteria)
    existing = set(_stored(criteria, year, "township", township_ids))
    for tid in township_ids:
        tally, mix = _pool(children.get(tid, {}), criteria)
        _upsert(criteria, year, "township", tid, tally, mix, existing)


def _empty_areas(level: str, ids: set, criteria: CriteriaSet) -> dict[int, tuple]:
    """Figures of townships or counties without any approved survey this year (coverage only)."""
    if not ids:
        return {}
    key = Township.id if level == "township" else Township.county_id
    rows = db.session.execute(
        select(Township.county_id, Township.id, Village.id, Village.registered_households)
        .select_from(Township).outerjoin(Village, Village.township_id == Township.id).where(key.in_(ids)))
    townships: dict[int, dict] = {}
    county_of = {}
    for cid, tid, vid, registered in rows:
        county_of[tid] = cid
        children = townships.setdefault(tid, {})
        if vid is not None:
            children[vid] = _empty_village(registered, criteria)
    pools = {tid: _pool(children, criteria) for tid, children in townships.items()}
    if level == "township":
        return {tid: pools.get(tid) or _pool({}, criteria) for tid in ids}
    counties: dict[int, dict] = {cid: {} for cid in ids}
    for tid, figures in pools.items():
        counties[county_of[tid]][tid] = figures
    return {cid: _pool(children, criteria) for cid, children in counties.items()}


def _refresh_counties(criteria: CriteriaSet, year: int, county_ids: set) -> None:
    if not county_ids:
        return
    members = db.session.execute(select(Township.id, Township.county_id)
                                 .where(Township.county_id.in_(county_ids))).all()
    stored = _stored(criteria, year, "township", [tid for tid, _c in members])
    missing = {tid for tid, _c in members if tid not in stored}
    stored.update(_empty_areas("township", missing, criteria))
    children: dict[int, dict] = defaultdict(dict)
    for tid, cid in members:
        children[cid][tid] = stored[tid]
    existing = set(_stored(criteria, year, "county", county_ids))
    for cid in county_ids:
        tally, mix = _pool(children.get(cid, {}), criteria)
        _upsert(criteria, year, "county", cid, tally, mix, existing)


def _refresh_city(criteria: CriteriaSet, year: int, city_exists: set) -> None:
    county_ids = set(db.session.scalars(select(County.id)))
    stored = _stored(criteria, year, "county", county_ids)
    stored.update(_empty_areas("county", county_ids - set(stored), criteria))
    tally, mix = _pool(stored, criteria)
    _upsert(criteria, year, "city", CITY_ID, tally, mix, city_exists)


# ---------------------------------------------------------------- rebuilding everything


def _approved_rows(village_ids: list[int]):
    return (select(Survey.id, Survey.revision, Survey.year, Household.village_id, Survey.form_version,
                   Survey.answers)
            .join(Household, Survey.household_id == Household.id)
            .where(Survey.status == "approved", Household.village_id.in_(village_ids)))


def _score_chunk(rows, sets: list[CriteriaSet]) -> list[dict]:
    return [result_row(*row, criteria) for row in rows for criteria in sets]


_worker_engine = None


def _worker_start(url: str, parent_engine) -> None:
    global _worker_engine
    parent_engine.dispose(close=False)  # never use the parent's connections
    _worker_engine = create_engine(url)


def _worker_chunk(args) -> list[dict]:
    village_ids, paths = args
    sets = [load_criteria_file(path) for path in paths]
    with _worker_engine.connect() as conn:
        return _score_chunk(conn.execute(_approved_rows(village_ids)), sets)


def _chunks(items: list, size: int) -> list[list]:
    return [items[n:n + size] for n in range(0, len(items), size)]


def rebuild(workers: int = 1, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Recompute every approved survey's results and every area's figures, for every current
    criteria set, and record the build. `progress(done, total)` counts surveys."""
    started = time.perf_counter()
    sets = current_sets()
    total = db.session.scalar(select(func.count()).select_from(Survey).where(Survey.status == "approved"))
    db.session.execute(delete(StoredResult))
    db.session.execute(delete(AreaAggregate))
    village_ids = list(db.session.scalars(select(Village.id).order_by(Village.id)))
    chunks = _chunks(village_ids, REBUILD_CHUNK)
    done = 0
    if progress is not None:
        progress(0, total)

    def store(rows):
        nonlocal done
        # Core inserts: the ORM would split a batch wherever rows leave different fields empty
        for batch in _chunks(rows, INSERT_BATCH):
            db.session.execute(insert(StoredResult.__table__), batch)
        done += len(rows) // max(len(sets), 1)
        if progress is not None:
            progress(done, total)

    if workers > 1 and len(chunks) > 1:
        engine = db.engine
        url = engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("fork")
        paths = [str(criteria.path) for criteria in sets]
        with context.Pool(workers, initializer=_worker_start, initargs=(url, engine)) as pool:
            for rows in pool.imap_unordered(_worker_chunk, [(chunk, paths) for chunk in chunks]):
                store(rows)
    else:
        for chunk in chunks:
            store(_score_chunk(db.session.execute(_approved_rows(chunk)), sets))
    for criteria in sets:
        years = list(db.session.scalars(select(StoredResult.year).distinct()
                                        .where(StoredResult.criteria == criteria.name)))
        for year in years:
            _build_year(criteria, year)
        db.session.execute(delete(EvaluationBuild).where(EvaluationBuild.criteria == criteria.name))
        db.session.add(EvaluationBuild(criteria=criteria.name, criteria_version=criteria.version,
                                       surveys=total, seconds=round(time.perf_counter() - started, 3)))
    db.session.flush()
    return {"surveys": total, "sets": [c.name for c in sets], "seconds": time.perf_counter() - started}


def _build_year(criteria: CriteriaSet, year: int) -> None:
    """Every area's figures of one set and year, from the stored results, in one pass."""
    rows = db.session.execute(
        select(StoredResult.village_id, StoredResult.total, StoredResult.stars,
               StoredResult.base_level, StoredResult.zero_carbon, StoredResult.sums,
               StoredResult.cooking, StoredResult.heating, StoredResult.hot_water,
               StoredResult.lighting, StoredResult.pv, StoredResult.pv_kwp)
        .where(StoredResult.criteria == criteria.name, StoredResult.year == year)
        .execution_options(yield_per=INSERT_BATCH))
    records: dict[int, list] = defaultdict(list)
    profiles: dict[int, list] = defaultdict(list)
    for row in rows:
        vid = row[0]
        if row[1] is not None:
            records[vid].append(_record(row[1:6])._replace(criteria=criteria.name))
        profiles[vid].append({"cooking": row[6], "heating": row[7], "hot_water": row[8],
                              "lighting": row[9], "pv": row[10], "pv_kwp": row[11]})
    hierarchy = db.session.execute(
        select(Village.id, Village.registered_households, Village.township_id, Township.county_id)
        .join(Township, Village.township_id == Township.id)).all()
    villages, townships, counties = {}, defaultdict(dict), defaultdict(dict)
    for vid, registered, tid, cid in hierarchy:
        villages[vid] = (village_tally(records.get(vid, ()), registered, criteria),
                         village_mix(profiles.get(vid, ())))
        townships[tid][vid] = villages[vid]
    township_figures = {tid: _pool(children, criteria) for tid, children in townships.items()}
    for tid, cid in db.session.execute(select(Township.id, Township.county_id)):
        counties[cid][tid] = township_figures.get(tid) or _pool({}, criteria)
    county_figures = {cid: _pool(children, criteria) for cid, children in counties.items()}
    for cid in db.session.scalars(select(County.id)):
        county_figures.setdefault(cid, _pool({}, criteria))
    city = _pool(county_figures, criteria)
    values = []
    now = _now()
    for level, figures in (("village", villages), ("township", township_figures),
                           ("county", county_figures), ("city", {CITY_ID: city})):
        for ident, (tally, mix) in figures.items():
            values.append({"criteria": criteria.name, "criteria_version": criteria.version, "year": year,
                           "level": level, "area_id": ident, "tally": tally.to_dict(),
                           "results": area_results(level, ident if level != "city" else "city", tally, criteria),
                           "mix": mix, "updated_at": now})
    for batch in _chunks(values, INSERT_BATCH):
        db.session.execute(insert(AreaAggregate.__table__), batch)


# ---------------------------------------------------------------- reading


def stored_results(criteria: CriteriaSet, year: int, level: str, ids: Iterable[int] | None = None) -> dict[int, AreaAggregate]:
    """The stored aggregates of a level (all of them, or these ids), by area id (0: the city)."""
    stmt = select(AreaAggregate).where(AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
                                       AreaAggregate.level == level)
    if ids is not None:
        stmt = stmt.where(AreaAggregate.area_id.in_(list(ids)))
    return {a.area_id: a for a in db.session.scalars(stmt)}


def empty_results(level: str, key, registered: int, criteria: CriteriaSet) -> dict[str, Any]:
    """The figures of a village with no approved survey (coverage only)."""
    return area_results(level, key, village_tally([], registered, criteria), criteria)



@dataclass(frozen=True)
class AreaFigures:
    """One area's stored figures with what names it: what dashboards, lists and maps read."""

    level: str
    id: int | None  # None for the city
    name: str | None
    code: str | None
    results: dict  # as an Evaluation's results: score, grade, indicators, star_counts, coverage, …
    mix: dict  # scoring.profile: households, pv_households, pv_kwp, cooking/heating/hot_water/lighting counts
    parent_id: int | None = None  # the township of a village, the county of a township


def _areas_within(level: str, within: Area):
    """(id, name, code, registered, parent id) of every area of `level` within an area."""
    if level == "village":
        stmt = (select(Village.id, Village.name, Village.code, Village.registered_households, Village.township_id)
                .join(Township, Village.township_id == Township.id))
    elif level == "township":
        stmt = select(Township.id, Township.name, Township.code, None, Township.county_id)
    else:
        stmt = select(County.id, County.name, County.code, None, None)
    if within.level == "village":
        stmt = stmt.where(Village.id == within.id)
    elif within.level == "township":
        stmt = stmt.where((Village.township_id if level == "village" else Township.id) == within.id)
    elif within.level == "county":
        stmt = stmt.where((County.id if level == "county" else Township.county_id) == within.id)
    return db.session.execute(stmt.order_by(text("3"))).all()


def _results_and_mix(criteria: CriteriaSet, year: int, level: str, ids: list[int]) -> dict[int, tuple]:
    """(results, mix) of these areas by id: only the two columns pages read (not the tally)."""
    rows = db.session.execute(
        select(AreaAggregate.area_id, AreaAggregate.results, AreaAggregate.mix)
        .where(AreaAggregate.criteria == criteria.name, AreaAggregate.year == year,
               AreaAggregate.level == level, AreaAggregate.area_id.in_(ids)))
    return {area_id: (results, mix) for area_id, results, mix in rows}


def figures(criteria: CriteriaSet, year: int, level: str, within: Area) -> dict[int | None, AreaFigures]:
    """The stored figures of every area of `level` within `within` (or of the city), by id, in
    code order; an area without approved surveys that year gets its coverage-only figures."""
    if level == "city":
        stored = _results_and_mix(criteria, year, "city", [CITY_ID]).get(CITY_ID)
        if stored is None:
            stored = (area_results("city", "city", pooled_tally([], criteria), criteria), empty_mix())
        return {None: AreaFigures("city", None, None, None, *stored)}
    areas = _areas_within(level, within)
    stored = _results_and_mix(criteria, year, level, [row[0] for row in areas])
    found = {}
    for ident, name, code, registered, parent in areas:
        row = stored.get(ident)
        if row is not None:
            results, mix = row
        elif level == "village":
            results, mix = empty_results(level, ident, registered, criteria), empty_mix()
        else:
            tally, mix = _empty_areas(level, {ident}, criteria)[ident]
            results = area_results(level, ident, tally, criteria)
        found[ident] = AreaFigures(level, ident, name, code, {**results, "name": name, "code": code},
                                   mix, parent)
    return found


def scored_area(year: int, criteria: CriteriaSet, area: Area):
    """An area's approved farmhouses as `services.score_area(..., detail=True)` gives them, read
    from the stored results instead of scored again (finalizing a county or the city)."""
    from village_survey.evaluations import services  # services reads this module's figures

    villages, townships, counties = services._hierarchy(area)
    stmt = (select(Survey.uuid, Survey.revision, Survey.household_id, Household.house_number,
                   StoredResult.village_id, StoredResult.total, StoredResult.stars, StoredResult.base_level,
                   StoredResult.zero_carbon, StoredResult.sums, StoredResult.error)
            .select_from(StoredResult).join(Survey, StoredResult.survey_id == Survey.id)
            .join(Household, Survey.household_id == Household.id)
            .where(StoredResult.criteria == criteria.name, StoredResult.year == year,
                   StoredResult.village_id.in_(list(villages)))
            .execution_options(yield_per=INSERT_BATCH))
    farmhouses: dict[int, list] = defaultdict(list)
    unscorable = []
    for uuid, revision, household_id, house_number, vid, total, stars, base, zero, sums, error \
            in db.session.execute(stmt):
        if error is not None:
            unscorable.append({"uuid": uuid, "village_id": vid, **error})
            continue
        record = FarmhouseRecord(criteria.name, total, stars, bool(base), bool(zero), tuple(sums))
        farmhouses[vid].append(services.ScoredFarmhouse(uuid, revision, household_id, house_number, record))
    return services.ScoredArea(year, criteria, villages, townships, counties, dict(farmhouses), unscorable)
