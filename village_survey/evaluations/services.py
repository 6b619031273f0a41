"""Evaluations of areas from approved surveys: previews computed now, finalized ones read back.

Scoring is the pure `village_survey.scoring` package; this module feeds it from the database and
shows what it returns. Loading reads only the columns scoring needs, streamed (`yield_per`),
and keeps one small FarmhouseRecord per farmhouse, so that a city of 100,000 surveys fits in a
few tens of megabytes (bench/evaluate_db.py measures it).

Pages show an area's current finalized version (the latest one not reopened) if there is one,
else a preview; `finalizing` stores and reopens versions.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import create_engine, select

from village_survey.areas.models import County, Household, Township, Village
from village_survey.areas.natural import natural_key
from village_survey.core.errors import DomainError, NotFound
from village_survey.core.paging import Page
from village_survey.evaluations import precomputed
from village_survey.evaluations.models import AreaAggregate, Evaluation, StoredResult
from village_survey.extensions import db
from village_survey.scoring import (
    DEFAULT_CRITERIA, AnswerError, CriteriaSet, FarmhouseRecord, FarmhouseResult,
    evaluate_areas, improvements, load_criteria, load_criteria_file, score_farmhouse,
    score_farmhouse_record, to_dict, village_tally,
)
from village_survey.evaluations.precomputed import CITY, Area, area_results
from village_survey.surveys.models import Survey

LIST_LEVELS = ("village", "township", "county")
LEVEL_ORDER = {"village": 0, "township": 1, "county": 2, "city": 3}
LIST_SORTS = ("score", "name", "coverage", "stars")
# The unit of a ratio indicator's value, by its numerator and denominator measures (rates and
# shares are percentages); the list's headers name it in the page's language.
RATIO_UNITS = {("net_tco2e", "persons"): "t_co2e_per_person"}
FARMHOUSE_SORTS = ("score", "house")
TOP_IMPROVEMENTS = 5
# Rows fetched per round trip while streaming surveys: large enough to keep the driver busy,
# small enough that only a few megabytes of answers are decoded at once.
YIELD_PER = 2000
PROGRESS_EVERY = 10_000


class EvaluationError(DomainError):
    """An evaluation request that cannot be done; `status` is the HTTP status that fits."""


@dataclass(frozen=True)
class ScoredFarmhouse:
    """One approved survey, scored, with what identifies it in a finalized evaluation."""

    uuid: str
    revision: int
    household_id: int
    house_number: str
    record: FarmhouseRecord


@dataclass
class ScoredArea:
    """Every approved farmhouse of an area scored, with the villages and areas they lie in."""

    year: int
    criteria: CriteriaSet
    villages: dict[int, dict]  # id → code, name, registered, township_id, county_id
    townships: dict[int, dict]  # id → code, name, county_id
    counties: dict[int, dict]  # id → code, name
    farmhouses: dict[int, list]  # village id → FarmhouseRecord or ScoredFarmhouse
    unscorable: list[dict] = field(default_factory=list)

    def records(self, village_id: int) -> list[FarmhouseRecord]:
        return [f.record if isinstance(f, ScoredFarmhouse) else f
                for f in self.farmhouses.get(village_id, ())]


@dataclass(frozen=True)
class VersionSummary:
    """One finalized version of an area's evaluation: when and by whom, and if reopened, why."""

    version: int
    finalized_at: datetime
    finalized_by: str
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None

    @property
    def current(self) -> bool:
        return self.reopened_at is None


@dataclass(frozen=True)
class EvaluationView:
    """What an evaluation page shows: the results, whether and by whom they were frozen (which
    version, and if it was reopened, why), and every finalized version of the area."""

    level: str
    area_id: int | None
    year: int
    criteria: str
    criteria_version: int
    results: dict
    finalized_at: datetime | None = None
    finalized_by: str | None = None
    version: int | None = None
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None
    versions: tuple[VersionSummary, ...] = ()
    precomputed: bool = False  # a preview read from the stored figures (else scored now)

    @property
    def finalized(self) -> bool:
        return self.finalized_at is not None

    @property
    def current(self) -> bool:
        """The current finalized version (not a preview, not a reopened version)."""
        return self.finalized and self.reopened_at is None

    @property
    def has_current(self) -> bool:
        """Whether the area has a current finalized version (shown or not)."""
        return any(v.current for v in self.versions)


# ---------------------------------------------------------------- criteria and years


def criteria_named(name: str | None) -> CriteriaSet:
    """The criteria set to use: the named one, or the default; CriteriaError if unknown."""
    return load_criteria(name or DEFAULT_CRITERIA)


def survey_years(this_year: int) -> list[int]:
    """Years that have surveys, and this year, newest first (for the year selector)."""
    years = set(db.session.scalars(select(Survey.year).distinct()))
    years.add(this_year)
    return sorted(years, reverse=True)


# ---------------------------------------------------------------- loading and scoring


def _hierarchy(area: Area) -> tuple[dict, dict, dict]:
    """The villages, townships and counties of an area, as plain values."""
    stmt = (select(Village.id, Village.code, Village.name, Village.registered_households,
                   Village.township_id, Township.code, Township.name, Township.county_id,
                   County.code, County.name)
            .join(Township, Village.township_id == Township.id)
            .join(County, Township.county_id == County.id))
    stmt = stmt.where(*area_filter(area))
    villages, townships, counties = {}, {}, {}
    for vid, vcode, vname, registered, tid, tcode, tname, cid, ccode, cname in db.session.execute(stmt):
        villages[vid] = {"code": vcode, "name": vname, "registered": registered,
                         "township_id": tid, "county_id": cid}
        townships[tid] = {"code": tcode, "name": tname, "county_id": cid}
        counties[cid] = {"code": ccode, "name": cname}
    return villages, townships, counties


def area_filter(area: Area) -> list:
    if area.level == "village":
        return [Village.id == area.id]
    if area.level == "township":
        return [Village.township_id == area.id]
    if area.level == "county":
        return [Township.county_id == area.id]
    return []


def _approved_surveys_query(year: int, area: Area, detail: bool, share: tuple[int, int] | None = None):
    """The approved surveys of an area and year: only the columns scoring needs, streamed.

    `share` = (index, shares) keeps the villages whose id modulo `shares` is `index`, so that
    worker processes split an area between them without lists of ids.
    """
    columns = [Survey.uuid, Survey.form_version, Survey.answers, Household.village_id]
    if detail:
        columns += [Survey.revision, Survey.household_id, Household.house_number]
    stmt = (select(*columns).select_from(Survey)
            .join(Household, Survey.household_id == Household.id)
            .where(Survey.status == "approved", Survey.year == year))
    if area.level == "village":
        stmt = stmt.where(Household.village_id == area.id)
    elif area.level == "township":
        stmt = stmt.join(Village, Household.village_id == Village.id).where(Village.township_id == area.id)
    elif area.level == "county":
        stmt = (stmt.join(Village, Household.village_id == Village.id)
                .join(Township, Village.township_id == Township.id)
                .where(Township.county_id == area.id))
    if share is not None:
        index, shares = share
        stmt = stmt.where(Household.village_id % shares == index)
    return stmt.execution_options(yield_per=YIELD_PER)


@contextmanager
def _garbage_collection_paused():
    """Scoring allocates a few small objects per farmhouse and keeps them all, no cycles among
    them: the collector's passes over the growing heap cost about a tenth of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score_rows(rows, criteria: CriteriaSet, detail: bool,
                progress: Callable[[int], None] | None = None) -> tuple[dict, list, int]:
    """Score streamed survey rows: (farmhouses by village id, unscorable surveys, rows read)."""
    farmhouses: dict[int, list] = defaultdict(list)
    unscorable = []
    form_versions = criteria.form_versions
    count = 0
    with _garbage_collection_paused():
        for row in rows:
            uuid, form_version, answers, village_id = row[:4]
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
            if form_version not in form_versions:
                unscorable.append({"uuid": uuid, "village_id": village_id, "code": "form_version",
                                   "key": None, "why": f"form version {form_version} is not scored "
                                                       f"by {criteria.name}"})
                continue
            try:
                record = score_farmhouse_record(answers, criteria)
            except AnswerError as error:
                unscorable.append({"uuid": uuid, "village_id": village_id, "code": "answer",
                                   "key": error.key, "why": str(error)})
                continue
            if detail:
                revision, household_id, house_number = row[4:]
                record = ScoredFarmhouse(uuid, revision, household_id, house_number, record)
            farmhouses[village_id].append(record)
    return dict(farmhouses), unscorable, count


def _forget_parent_connections(engine) -> None:
    # a forked worker must never use or close the connections it inherited from its parent
    engine.dispose(close=False)


def _score_share(url: str, year: int, criteria_path: str, area: Area, detail: bool,
                 share: tuple[int, int]) -> tuple[dict, list, int]:
    """In a worker process: score one share of an area's villages over its own connection."""
    criteria = load_criteria_file(criteria_path)  # inherited from the parent's cache
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return _score_rows(conn.execute(_approved_surveys_query(year, area, detail, share)),
                               criteria, detail)
    finally:
        engine.dispose()


def _score_in_workers(year: int, criteria: CriteriaSet, area: Area, detail: bool, workers: int,
                      progress: Callable[[int], None] | None) -> tuple[dict, list, int]:
    engine = db.engine
    # "fork": the workers start with the scoring code and the compiled criteria already loaded
    context = multiprocessing.get_context("fork")
    farmhouses: dict[int, list] = {}
    unscorable: list = []
    count = 0
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_forget_parent_connections,
                             initargs=(engine,)) as pool:
        url = engine.url.render_as_string(hide_password=False)
        shares = [pool.submit(_score_share, url, year, str(criteria.path), area, detail,
                              (index, workers)) for index in range(workers)]
        for done in as_completed(shares):
            share_farmhouses, share_unscorable, share_count = done.result()
            farmhouses.update(share_farmhouses)  # the shares' villages are disjoint
            unscorable += share_unscorable
            count += share_count
            if progress is not None:
                progress(count)
    return farmhouses, unscorable, count


def score_area(year: int, criteria: CriteriaSet, area: Area = CITY, detail: bool = False,
               progress: Callable[[int], None] | None = None, workers: int = 1) -> ScoredArea:
    """Score every approved survey of an area and year; `detail` keeps what identifies each one.

    A survey that cannot be scored (a form version the set does not read, an answer of the
    wrong type) is left out and listed in `unscorable`, never guessed at. `workers` > 1 splits
    the villages between that many forked processes (the command line and the benchmark: a
    web request scores in its own process).
    """
    villages, townships, counties = _hierarchy(area)
    if workers > 1 and area.level != "village":
        farmhouses, unscorable, _count = _score_in_workers(year, criteria, area, detail, workers,
                                                           progress)
    else:
        # Core rows over the session's connection: the ORM's row handling would cost about a
        # sixth of the time for columns that need none of it
        rows = db.session.connection().execute(_approved_surveys_query(year, area, detail))
        farmhouses, unscorable, count = _score_rows(rows, criteria, detail, progress)
        if progress is not None:
            progress(count)
    return ScoredArea(year, criteria, villages, townships, counties, farmhouses, unscorable)


# ---------------------------------------------------------------- results


def _results(level: str, key, tally, name: str | None, code: str | None,
             criteria: CriteriaSet) -> dict[str, Any]:
    results = area_results(level, key, tally, criteria)
    results.update(name=name, code=code)
    return results


def _child_row(level: str, ident: int, info: dict, results: dict) -> dict[str, Any]:
    return {"level": level, "id": ident, "name": info["name"], "code": info["code"],
            "score": results["score"], "grade": results["grade"],
            "grade_zh": results.get("grade_zh"), "grade_en": results.get("grade_en"),
            "insufficient_data": results["insufficient_data"],
            "approved_surveys": results["approved_surveys"],
            "registered_households": results["registered_households"],
            "coverage": results["coverage"]}


@dataclass
class AreaResults:
    """Results (plain dicts, as stored) of every area of a ScoredArea, by level and id."""

    villages: dict[int, dict]
    townships: dict[int, dict]
    counties: dict[int, dict]
    city: dict

    def of(self, level: str, ident: int | None) -> dict | None:
        if level == "city":
            return self.city
        return {"village": self.villages, "township": self.townships,
                "county": self.counties}[level].get(ident)


def evaluate_scored(scored: ScoredArea) -> AreaResults:
    """Evaluate every village, township and county of a scored area, and the area as a city."""
    criteria = scored.criteria
    hierarchy = {vid: (v["township_id"], v["county_id"]) for vid, v in scored.villages.items()}
    evaluations = evaluate_areas(((vid, v["registered"], scored.records(vid))
                                  for vid, v in scored.villages.items()), hierarchy, criteria)
    tallies = evaluations.tallies

    def level_results(level, infos):
        return {ident: _results(level, ident, tally, infos[ident]["name"], infos[ident]["code"], criteria)
                for ident, tally in tallies[level].items()}

    results = AreaResults(
        villages=level_results("village", scored.villages),
        townships=level_results("township", scored.townships),
        counties=level_results("county", scored.counties),
        city=_results("city", "city", tallies["city"], None, None, criteria))
    _add_children(results, scored)
    for vid, farmhouses in scored.farmhouses.items():
        if farmhouses and isinstance(farmhouses[0], ScoredFarmhouse):
            results.villages[vid]["farmhouses"] = _farmhouse_rows(farmhouses)
    return results


def _add_children(results: AreaResults, scored: ScoredArea) -> None:
    """Each township lists its villages, each county its townships, the city its counties."""
    for r in (*results.townships.values(), *results.counties.values()):
        r["areas"] = []
    for vid, v in scored.villages.items():
        results.townships[v["township_id"]]["areas"].append(
            _child_row("village", vid, v, results.villages[vid]))
    for tid, t in scored.townships.items():
        results.counties[t["county_id"]]["areas"].append(
            _child_row("township", tid, t, results.townships[tid]))
    results.city["areas"] = [_child_row("county", cid, c, results.counties[cid])
                             for cid, c in scored.counties.items()]


def _farmhouse_rows(farmhouses: list[ScoredFarmhouse]) -> list[dict[str, Any]]:
    rows = [{"uuid": f.uuid, "revision": f.revision, "household_id": f.household_id,
             "house_number": f.house_number, "total": round(f.record.total, 2) + 0.0,
             "stars": f.record.stars, "base_level": f.record.base_level,
             "zero_carbon": f.record.zero_carbon} for f in farmhouses]
    rows.sort(key=lambda r: natural_key(r["house_number"]))
    return rows


def village_results(village_id: int, info: dict, farmhouses: list[ScoredFarmhouse],
                    unscorable: list[dict], criteria: CriteriaSet) -> dict[str, Any]:
    tally = village_tally([f.record for f in farmhouses], info["registered"], criteria)
    results = _results("village", village_id, tally, info["name"], info["code"], criteria)
    results["farmhouses"] = _farmhouse_rows(farmhouses)
    results["unscorable"] = unscorable
    return results


# ---------------------------------------------------------------- previews and finalized ones


def _of_area(stmt, level: str, ids: Iterable[int | None], year: int, criteria: str):
    stmt = stmt.where(Evaluation.level == level, Evaluation.year == year, Evaluation.criteria == criteria)
    return stmt if level == "city" else stmt.where(Evaluation.area_id.in_(list(ids)))


def current_evaluations(level: str, ids: Iterable[int | None], year: int, criteria: str) -> dict:
    """The current finalized versions (not reopened) of these areas, by area id."""
    stmt = _of_area(select(Evaluation), level, ids, year, criteria).where(Evaluation.reopened_at.is_(None))
    return {e.area_id: e for e in db.session.scalars(stmt)}


def version_summaries(area: Area, year: int, criteria: str) -> tuple[VersionSummary, ...]:
    """Every finalized version of an area's evaluation, oldest first (without their figures)."""
    stmt = _of_area(select(Evaluation.version, Evaluation.finalized_at, Evaluation.finalized_by_name,
                           Evaluation.reopened_at, Evaluation.reopened_by_name, Evaluation.reopen_reason),
                    area.level, [area.id], year, criteria).order_by(Evaluation.version)
    return tuple(VersionSummary(*row) for row in db.session.execute(stmt))


def _view(evaluation: Evaluation, versions: tuple[VersionSummary, ...]) -> EvaluationView:
    return EvaluationView(evaluation.level, evaluation.area_id, evaluation.year,
                          evaluation.criteria, evaluation.criteria_version, evaluation.results,
                          evaluation.finalized_at, evaluation.finalized_by_name, evaluation.version,
                          evaluation.reopened_at, evaluation.reopened_by_name, evaluation.reopen_reason,
                          versions)


def _stored_farmhouses(criteria: CriteriaSet, year: int, area: Area) -> tuple[list, list]:
    """The precomputed farmhouse rows of a village, and the unscorable surveys of an area."""
    columns = (Survey.uuid, Survey.revision, Survey.household_id, Household.house_number,
               StoredResult.total, StoredResult.stars, StoredResult.base_level,
               StoredResult.zero_carbon, StoredResult.error, Household.village_id)
    stmt = (select(*columns).select_from(StoredResult)
            .join(Survey, StoredResult.survey_id == Survey.id)
            .join(Household, Survey.household_id == Household.id)
            .where(StoredResult.criteria == criteria.name, StoredResult.year == year))
    if area.level != "village":
        stmt = stmt.where(StoredResult.total.is_(None))  # the unscorable only (they have no total)
        if area.level != "city":
            stmt = stmt.join(Village, StoredResult.village_id == Village.id)
            stmt = stmt.join(Township, Village.township_id == Township.id).where(*area_filter(area))
    else:
        stmt = stmt.where(StoredResult.village_id == area.id)
    rows, unscorable = [], []
    for uuid, revision, household_id, house_number, total, stars, base_level, zero_carbon, error, vid \
            in db.session.execute(stmt):
        if error is not None:
            unscorable.append({"uuid": uuid, "village_id": vid, **error})
        else:
            rows.append({"uuid": uuid, "revision": revision, "household_id": household_id,
                         "house_number": house_number, "total": round(total, 2) + 0.0, "stars": stars,
                         "base_level": bool(base_level), "zero_carbon": bool(zero_carbon)})
    rows.sort(key=lambda r: natural_key(r["house_number"]))
    return rows, unscorable


def stored_preview(area: Area, year: int, criteria: CriteriaSet) -> dict[str, Any]:
    """An area's results as a preview shows them, read from the precomputed figures."""
    own = precomputed.figures(criteria, year, area.level, area)[area.id]
    results = dict(own.results)
    farmhouses, results["unscorable"] = _stored_farmhouses(criteria, year, area)
    if area.level == "village":
        results["farmhouses"] = farmhouses
    else:
        child = {"city": "county", "county": "township", "township": "village"}[area.level]
        results["areas"] = [_child_row(child, ident, {"name": f.name, "code": f.code}, f.results)
                            for ident, f in precomputed.figures(criteria, year, child, area).items()]
    return results


def preview(area: Area, year: int, criteria: CriteriaSet,
            versions: tuple[VersionSummary, ...] = ()) -> EvaluationView:
    """The evaluation of an area from its approved surveys: read from the precomputed figures
    once the criteria set's version is built, else computed now."""
    stored = precomputed.built(criteria)
    if stored:
        results = stored_preview(area, year, criteria)
    elif area.level == "village":
        scored = score_area(year, criteria, area, detail=True)
        info = scored.villages[area.id]
        results = village_results(area.id, info, scored.farmhouses.get(area.id, []),
                                  scored.unscorable, criteria)
    else:
        scored = score_area(year, criteria, area)
        results = evaluate_scored(scored).of(area.level, area.id)
        results["unscorable"] = scored.unscorable
    return EvaluationView(area.level, area.id, year, criteria.name, criteria.version, results,
                          versions=versions, precomputed=stored)


def evaluation_for(area: Area, year: int, criteria: CriteriaSet, version: int | None = None) -> EvaluationView:
    """The current finalized version of an area's evaluation if there is one, else a preview
    computed now; or the given version (a reopened one too), 404 if there is none such."""
    versions = version_summaries(area, year, criteria.name)
    stmt = _of_area(select(Evaluation), area.level, [area.id], year, criteria.name)
    if version is not None:
        stored = db.session.scalars(stmt.where(Evaluation.version == version)).first()
        if stored is None:
            raise NotFound()
        return _view(stored, versions)
    if any(v.current for v in versions):
        return _view(db.session.scalars(stmt.where(Evaluation.reopened_at.is_(None))).one(), versions)
    return preview(area, year, criteria, versions)


def _list_figure(row: dict, sort: str):
    """The figure a list is sorted by: score, coverage, mean stars or an indicator's value."""
    if sort in ("score", "coverage"):
        return row[sort]
    if sort == "stars":
        return row["mean_stars"]
    return row["indicators"].get(sort)


def _sort_key(sort: str, descending: bool):
    def key(row):
        if sort == "name":
            return (row["code"] or "",)
        value = _list_figure(row, sort)
        # areas without a figure go last whichever way the list is sorted; by score, so do those
        # with insufficient data, so that a ranking never puts an ungraded area above graded ones
        ungraded = sort == "score" and row["insufficient_data"]
        if value is None:
            return (2, 0, row["code"] or "")
        return (1 if ungraded else 0, -value if descending else value, row["code"] or "")
    return key


def list_columns(criteria: CriteriaSet) -> list[dict[str, Any]]:
    """The village indicators a list shows as columns, in the criteria set's order (a new
    version's indicators become columns by themselves): all but survey coverage, which the list
    shows as its own column beside the approved and registered households. `unit` is "percent"
    for rates and shares (the indicators that rise towards a target), else the unit of the
    ratio's measures if known."""
    return [{"id": i.id, "label_en": i.label_en, "label_zh": i.label_zh, "direction": i.direction,
             "unit": ("percent" if i.direction == "higher_better"
                      else RATIO_UNITS.get((i.numerator, i.denominator)))}
            for i in criteria.village.indicators if i.kind != "coverage"]


def list_sorts(criteria: CriteriaSet) -> tuple[str, ...]:
    """What a list may be sorted by: score, name, coverage, stars and every village indicator."""
    return LIST_SORTS + tuple(i.id for i in criteria.village.indicators)


def _mean_stars(star_counts) -> float | None:
    """Stars per scored farmhouse (star_counts: farmhouses with 0, 1, 2, 3 stars)."""
    scored = sum(star_counts or ())
    if not scored:
        return None
    return round(sum(stars * n for stars, n in enumerate(star_counts)) / scored, 4) + 0.0


def _list_figures(results: dict) -> dict[str, Any]:
    """What a list row shows and compares of an area's results, as plain values."""
    return {"score": results.get("score"), "coverage": results.get("coverage"),
            "indicators": {i["id"]: i["value"] for i in results.get("indicators", ())}}


def _changes(this: dict, last: dict | None) -> dict[str, float | None]:
    """This year's figure minus last year's, by "score", "coverage" and indicator id; None
    where either year has none."""
    def minus(now, then):
        return None if now is None or then is None else round(now - then, 4) + 0.0

    last = last or {"indicators": {}}
    changes = {key: minus(this[key], last.get(key)) for key in ("score", "coverage")}
    for ident, value in this["indicators"].items():
        changes[ident] = minus(value, last["indicators"].get(ident))
    return changes


def _finalized_results(level: str, ids: list, years: tuple[int, ...], criteria: str) -> dict:
    """The current finalized versions of these areas in these years, in one query:
    {(year, area id): (version, results)}."""
    stmt = (select(Evaluation.year, Evaluation.area_id, Evaluation.version, Evaluation.results)
            .where(Evaluation.level == level, Evaluation.year.in_(years), Evaluation.criteria == criteria,
                   Evaluation.reopened_at.is_(None), Evaluation.area_id.in_(ids)))
    return {(year, ident): (version, results) for year, ident, version, results in db.session.execute(stmt)}


def _stored_last_year(criteria: CriteriaSet, year: int, level: str, ids: list) -> dict[int, dict]:
    """Last year's precomputed figures of these areas, by id, as _list_figures gives them, in one
    query that reads only the figures out of the stored results (decoding whole results would
    cost more than the rest of the list). Stored aggregates are all of the set's current version,
    so an indicator sits where the set lists it; its id is read along to make sure."""
    indicators = criteria.village.indicators
    columns = [AreaAggregate.area_id, AreaAggregate.results["score"].as_float(),
               AreaAggregate.results["coverage"].as_float()]
    for position, _indicator in enumerate(indicators):
        columns += [AreaAggregate.results[("indicators", position, "id")].as_string(),
                    AreaAggregate.results[("indicators", position, "value")].as_float()]
    stmt = select(*columns).where(
        AreaAggregate.criteria == criteria.name, AreaAggregate.year == year - 1,
        AreaAggregate.level == level, AreaAggregate.area_id.in_(ids))
    found = {}
    for area_id, score, coverage, *values in db.session.execute(stmt):
        found[area_id] = {"score": score, "coverage": coverage, "indicators": {
            indicator.id: values[2 * n + 1] if values[2 * n] == indicator.id else None
            for n, indicator in enumerate(indicators)}}
    return found


@dataclass
class AreaListPage(Page):
    """A page of an evaluation list, with its indicator columns and what its changes compare
    with: `previous_year` if the changes from last year are shown, else `no_change` says why
    ("not_built": the figures are scored now, and last year's are not; "no_figures": nothing
    was evaluated last year)."""

    columns: list = field(default_factory=list)
    previous_year: int | None = None
    no_change: str | None = None


def area_list(user, year: int, level: str, criteria: CriteriaSet, sort: str = "score",
              descending: bool = True, page: Any = 1) -> AreaListPage:
    """One page of the areas of a level within the user's scope, with their evaluations, their
    indicators and the change of each from last year.

    The figures are read from the precomputed evaluations once the criteria set's version is
    built (last year's too, in one query); before that the user's whole scope is scored once,
    and the changes are left out. An area that is finalized shows its frozen figures (and
    compares with last year's frozen ones where that year is finalized too).
    """
    scope = user_scope(user)
    built = precomputed.built(criteria)
    if built:
        found = precomputed.figures(criteria, year, level, scope)
        infos = {ident: {"name": f.name, "code": f.code} for ident, f in found.items()}
        computed = {ident: f.results for ident, f in found.items()}
        parent_level = {"village": "township", "township": "county"}.get(level)
        parents = {}
        if parent_level is not None:
            model = AREA_MODELS[parent_level]
            parents = dict(db.session.execute(select(model.id, model.name).where(
                model.id.in_({f.parent_id for f in found.values()}))).all())
        parent_of = {ident: parents.get(f.parent_id) for ident, f in found.items()}
        last_year = _stored_last_year(criteria, year, level, list(infos))
    else:
        scored = score_area(year, criteria, scope)
        results = evaluate_scored(scored)
        infos = {"village": scored.villages, "township": scored.townships,
                 "county": scored.counties}[level]
        computed = {ident: results.of(level, ident) for ident in infos}
        parent_of = {ident: (scored.townships[info["township_id"]]["name"] if level == "village" else
                             scored.counties[info["county_id"]]["name"] if level == "township" else None)
                     for ident, info in infos.items()}
        last_year = {}
    years = (year, year - 1) if built else (year,)
    frozen = _finalized_results(level, list(infos), years, criteria.name)
    rows = []
    for ident, info in infos.items():
        stored = frozen.get((year, ident))
        shown = stored[1] if stored is not None else computed[ident]
        row = _child_row(level, ident, info, shown)
        figures = _list_figures(shown)
        row.update(finalized=stored is not None, version=stored[0] if stored is not None else None,
                   reasons=shown.get("reasons", []), indicators=figures["indicators"],
                   star_counts=list(shown.get("star_counts") or ()),
                   mean_stars=_mean_stars(shown.get("star_counts")))
        if built:
            last = frozen.get((year - 1, ident))
            last = _list_figures(last[1]) if last is not None else last_year.get(ident)
            row["changes"] = _changes(figures, last)
        else:
            row["changes"] = {}
        if level == "village":
            row["township"] = parent_of[ident]
        elif level == "township":
            row["county"] = parent_of[ident]
        rows.append(row)
    if sort == "name":
        rows.sort(key=_sort_key(sort, descending), reverse=descending)
    else:
        rows.sort(key=_sort_key(sort, descending))
    found_page = _page(rows, page)
    compared = built and bool(last_year or any(y == year - 1 for y, _i in frozen))
    return AreaListPage(found_page.items, found_page.page, found_page.per_page, found_page.total,
                        columns=list_columns(criteria), previous_year=year - 1 if compared else None,
                        no_change=None if compared else "no_figures" if built else "not_built")


def _page(rows: list, raw_page: Any) -> Page:
    """A page of a list already in memory, numbered as core.paging numbers database pages."""
    per_page = current_app.config["PAGE_SIZE"]
    try:
        number = min(max(int(raw_page), 1), 100_000)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    return Page(items=rows[start:start + per_page], page=number, per_page=per_page, total=len(rows))


def farmhouse_page(view: EvaluationView, sort: str, descending: bool, raw_page: Any) -> Page:
    """A page of a village evaluation's farmhouses with the household heads' names."""
    rows = list(view.results.get("farmhouses", []))
    if sort == "score":
        rows.sort(key=lambda r: (r["total"], natural_key(r["house_number"])), reverse=descending)
    else:
        rows.sort(key=lambda r: natural_key(r["house_number"]), reverse=descending)
    page = _page(rows, raw_page)
    ids = [r["household_id"] for r in page.items]
    # names are personal data: read live for the shown rows, never stored in an evaluation
    rows = db.session.execute(select(Household.id, Household.head_name).where(Household.id.in_(ids)))
    names = {household_id: name for household_id, name in rows}
    page.items = [{**r, "head_name": names.get(r["household_id"])} for r in page.items]
    return page


AREA_MODELS = {"village": Village, "township": Township, "county": County}


def area_from_spec(spec: str) -> Area:
    """The area written as on the command line: city, county:<code>, township:<code>, village:<code>."""
    if spec == "city":
        return CITY
    level, _sep, code = spec.partition(":")
    model = AREA_MODELS.get(level)
    if model is None or not code:
        raise EvaluationError(400, _("Give the area as city, county:<code>, township:<code> or "
                                     "village:<code>, not %(spec)s.", spec=spec))
    ident = db.session.scalar(select(model.id).where(model.code == code))
    if ident is None:
        raise EvaluationError(404, _("There is no %(level)s with the code %(code)s.", level=level,
                                     code=code))
    return Area(level, ident)


def user_scope(user) -> Area:
    """The area a user may evaluate as a whole: their township, their county or the city."""
    if user.scope_level == "township":
        return Area("township", user.township_id)
    if user.scope_level == "county":
        return Area("county", user.county_id)
    return CITY


def list_levels(user) -> tuple[str, ...]:
    """The levels a user's list may show: township staff see villages and their township."""
    return LIST_LEVELS[:2] if user.scope_level == "township" else LIST_LEVELS


# ---------------------------------------------------------------- one farmhouse


def farmhouse_score_card(answers: dict, criteria: CriteriaSet) -> dict[str, Any]:
    """A farmhouse's full result and what would raise its score most, as plain values.

    Answers that cannot be scored give {"error": ...} instead, naming the answer.
    """
    try:
        result = score_farmhouse(answers, criteria)
    except AnswerError as error:
        return {"error": {"key": error.key, "reason": error.reason}}
    return {"result": to_dict(result), "improvements": top_improvements(result)}


def top_improvements(result: FarmhouseResult) -> list[dict[str, Any]]:
    """The changes that would raise a farmhouse's total most, largest first, as plain values."""
    return [{"id": i.id, "label_en": i.label_en, "label_zh": i.label_zh,
             "points_available": round(i.points_available, 2),
             "total_gain": round(i.total_gain, 2), "requires": list(i.requires)}
            for i in improvements(result)[:TOP_IMPROVEMENTS]]


