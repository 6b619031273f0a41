"""Evaluations of areas from approved surveys: previews computed now, finalized ones stored.

Scoring is the pure `village_survey.scoring` package; this module feeds it from the database and
keeps what it returns. Loading reads only the columns scoring needs, streamed (`yield_per`),
and keeps one small FarmhouseRecord per farmhouse, so that a city of 100,000 surveys fits in a
few tens of megabytes (bench/evaluate_db.py measures it).

A finalized evaluation freezes both its results and its inputs: each village's survey
(uuid, revision) pairs with their scored figures; a township, county or the city lists the
finalized village evaluations it pooled. Finalizing an area finalizes its villages and
intermediate areas that are not finalized yet, and pools already finalized villages from their
frozen figures, so that a county's finalized result always agrees with its villages'.
"""

from __future__ import annotations

import gc
import getpass
import math
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
from sqlalchemy.exc import IntegrityError

from village_survey import access, audit
from village_survey.areas.models import County, Household, Township, Village, utcnow
from village_survey.core.errors import DomainError
from village_survey.core.paging import Page
from village_survey.evaluations.models import Evaluation
from village_survey.extensions import db
from village_survey.scoring import (
    DEFAULT_CRITERIA, AnswerError, CriteriaSet, FarmhouseRecord, FarmhouseResult,
    evaluate_areas, evaluate_village, evaluation_to_dict, improvements, load_criteria,
    load_criteria_file, score_farmhouse, score_farmhouse_record, to_dict,
)
from village_survey.surveys.models import Survey

LIST_LEVELS = ("village", "township", "county")
LEVEL_ORDER = {"village": 0, "township": 1, "county": 2, "city": 3}
LIST_SORTS = ("score", "name", "coverage")
FARMHOUSE_SORTS = ("score", "house")
TOP_IMPROVEMENTS = 5
# Rows fetched per round trip while streaming surveys: large enough to keep the driver busy,
# small enough that only a few megabytes of answers are decoded at once.
YIELD_PER = 2000
PROGRESS_EVERY = 10_000


class EvaluationError(DomainError):
    """An evaluation request that cannot be done; `status` is the HTTP status that fits."""


@dataclass(frozen=True)
class Area:
    """An area to evaluate: a level and an id (None for the city)."""

    level: str
    id: int | None = None


CITY = Area("city")


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
class EvaluationView:
    """What an evaluation page shows: the results, and whether and by whom they were frozen."""

    level: str
    area_id: int | None
    year: int
    criteria: str
    criteria_version: int
    results: dict
    finalized_at: datetime | None = None
    finalized_by: str | None = None

    @property
    def finalized(self) -> bool:
        return self.finalized_at is not None


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
    stmt = stmt.where(*_area_filter(area))
    villages, townships, counties = {}, {}, {}
    for vid, vcode, vname, registered, tid, tcode, tname, cid, ccode, cname in db.session.execute(stmt):
        villages[vid] = {"code": vcode, "name": vname, "registered": registered,
                         "township_id": tid, "county_id": cid}
        townships[tid] = {"code": tcode, "name": tname, "county_id": cid}
        counties[cid] = {"code": ccode, "name": cname}
    return villages, townships, counties


def _area_filter(area: Area) -> list:
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


def _measure_totals(records: Iterable[FarmhouseRecord], criteria: CriteriaSet) -> dict[str, float]:
    """Totals of the measures the ratio indicators divide (net tCO2e and persons, say)."""
    slots = []
    for indicator in criteria.village.indicators:
        if indicator.kind == "ratio":
            slots += [(indicator.numerator, indicator.slot), (indicator.denominator, indicator.slot + 1)]
    columns: dict[str, list[float]] = {name: [] for name, _ in slots}
    for record in records:
        for name, slot in slots:
            columns[name].append(record.sums[slot])
    return {name: math.fsum(values) for name, values in columns.items()}


def _add_totals(into: dict[str, float], totals: dict[str, float]) -> None:
    for name, value in totals.items():
        into[name] = into.get(name, 0.0) + value


def _results(evaluation, name: str | None, code: str | None, totals: dict[str, float],
             criteria: CriteriaSet) -> dict[str, Any]:
    results = evaluation_to_dict(evaluation)
    results.update(name=name, code=code, criteria_version=criteria.version,
                   measure_totals={k: round(v, 4) + 0.0 for k, v in totals.items()})
    return results


def _child_row(level: str, ident: int, info: dict, results: dict) -> dict[str, Any]:
    return {"level": level, "id": ident, "name": info["name"], "code": info["code"],
            "score": results["score"], "grade": results["grade"],
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
    records = {vid: scored.records(vid) for vid in scored.villages}
    evaluations = evaluate_areas(((vid, v["registered"], records[vid])
                                  for vid, v in scored.villages.items()), hierarchy, criteria)
    totals = {"village": {}, "township": defaultdict(dict), "county": defaultdict(dict)}
    city_totals: dict[str, float] = {}
    for vid, (tid, cid) in hierarchy.items():
        village_totals = totals["village"][vid] = _measure_totals(records[vid], criteria)
        _add_totals(totals["township"][tid], village_totals)
        _add_totals(totals["county"][cid], village_totals)
        _add_totals(city_totals, village_totals)

    def level_results(level, infos, found):
        return {ident: _results(found[ident], infos[ident]["name"], infos[ident]["code"],
                                totals[level][ident], criteria) for ident in found}

    results = AreaResults(
        villages=level_results("village", scored.villages, evaluations.villages),
        townships=level_results("township", scored.townships, evaluations.townships),
        counties=level_results("county", scored.counties, evaluations.counties),
        city=_results(evaluations.city, None, None, city_totals, criteria))
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
    rows.sort(key=lambda r: r["house_number"])
    return rows


def _village_results(village_id: int, info: dict, farmhouses: list[ScoredFarmhouse],
                     unscorable: list[dict], criteria: CriteriaSet) -> dict[str, Any]:
    records = [f.record for f in farmhouses]
    evaluation = evaluate_village(records, info["registered"], criteria, key=village_id)
    results = _results(evaluation, info["name"], info["code"], _measure_totals(records, criteria),
                       criteria)
    results["farmhouses"] = _farmhouse_rows(farmhouses)
    results["unscorable"] = unscorable
    return results


# ---------------------------------------------------------------- previews and finalized ones


def _finalized(level: str, ids: Iterable[int | None], year: int, criteria: str) -> dict:
    """The finalized evaluations of these areas, by area id."""
    stmt = select(Evaluation).where(Evaluation.level == level, Evaluation.year == year,
                                    Evaluation.criteria == criteria)
    if level != "city":
        stmt = stmt.where(Evaluation.area_id.in_(list(ids)))
    return {e.area_id: e for e in db.session.scalars(stmt)}


def _view(evaluation: Evaluation) -> EvaluationView:
    return EvaluationView(evaluation.level, evaluation.area_id, evaluation.year,
                          evaluation.criteria, evaluation.criteria_version, evaluation.results,
                          evaluation.finalized_at, evaluation.finalized_by_name)


def preview(area: Area, year: int, criteria: CriteriaSet) -> EvaluationView:
    """The evaluation of an area computed now from its approved surveys."""
    if area.level == "village":
        scored = score_area(year, criteria, area, detail=True)
        info = scored.villages[area.id]
        results = _village_results(area.id, info, scored.farmhouses.get(area.id, []),
                                   scored.unscorable, criteria)
    else:
        scored = score_area(year, criteria, area)
        results = evaluate_scored(scored).of(area.level, area.id)
        results["unscorable"] = scored.unscorable
    return EvaluationView(area.level, area.id, year, criteria.name, criteria.version, results)


def evaluation_for(area: Area, year: int, criteria: CriteriaSet) -> EvaluationView:
    """The finalized evaluation of an area if there is one, else a preview computed now."""
    stored = _finalized(area.level, [area.id], year, criteria.name).get(area.id)
    return _view(stored) if stored is not None else preview(area, year, criteria)


def _sort_key(sort: str, descending: bool):
    def key(row):
        if sort == "name":
            return (row["code"] or "",)
        value = row["score"] if sort == "score" else row["coverage"]
        # areas without a figure go last whichever way the list is sorted; by score, so do those
        # with insufficient data, so that a ranking never puts an ungraded area above graded ones
        ungraded = sort == "score" and row["insufficient_data"]
        if value is None:
            return (2, 0, row["code"] or "")
        return (1 if ungraded else 0, -value if descending else value, row["code"] or "")
    return key


def area_list(user, year: int, level: str, criteria: CriteriaSet, sort: str = "score",
              descending: bool = True, page: Any = 1) -> Page:
    """One page of the areas of a level within the user's scope, with their evaluations.

    The user's whole scope is scored once; an area that is finalized shows its frozen figures.
    """
    scope = user_scope(user)
    scored = score_area(year, criteria, scope)
    results = evaluate_scored(scored)
    infos = {"village": scored.villages, "township": scored.townships,
             "county": scored.counties}[level]
    frozen = _finalized(level, infos, year, criteria.name)
    rows = []
    for ident, info in infos.items():
        stored = frozen.get(ident)
        shown = stored.results if stored is not None else results.of(level, ident)
        row = _child_row(level, ident, info, shown)
        row.update(finalized=stored is not None, reasons=shown["reasons"])
        if level == "village":
            row["township"] = scored.townships[info["township_id"]]["name"]
        elif level == "township":
            row["county"] = scored.counties[info["county_id"]]["name"]
        rows.append(row)
    if sort == "name":
        rows.sort(key=_sort_key(sort, descending), reverse=descending)
    else:
        rows.sort(key=_sort_key(sort, descending))
    return _page(rows, page)


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
        rows.sort(key=lambda r: (r["total"], r["house_number"]), reverse=descending)
    else:
        rows.sort(key=lambda r: r["house_number"], reverse=descending)
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


# ---------------------------------------------------------------- finalizing


@dataclass
class FinalizeOutcome:
    """What finalizing an area did: the evaluations stored now and those already finalized."""

    created: list[Evaluation] = field(default_factory=list)
    kept: list[Evaluation] = field(default_factory=list)


def _frozen_records(evaluation: Evaluation, criteria: CriteriaSet) -> list[FarmhouseRecord]:
    if evaluation.criteria_version != criteria.version:
        raise EvaluationError(409, _(
            "%(area)s was finalized with version %(old)s of the criteria, not version %(new)s: "
            "it cannot be pooled with the others.",
            area=evaluation.results.get("name") or evaluation.area_id, old=evaluation.criteria_version,
            new=criteria.version))
    return [FarmhouseRecord(criteria.name, total, stars, base, zero, tuple(sums))
            for _uuid, _revision, total, stars, base, zero, sums in evaluation.inputs["farmhouses"]]


def _village_inputs(info: dict, farmhouses: list[ScoredFarmhouse], unscorable: list) -> dict:
    return {"registered_households": info["registered"],
            "farmhouses": [[f.uuid, f.revision, f.record.total, f.record.stars,
                            f.record.base_level, f.record.zero_carbon, list(f.record.sums)]
                           for f in farmhouses],
            "unscorable": unscorable}


def _new_evaluation(level, area_id, year, criteria, results, inputs, *, by_id, by_name, at):
    evaluation = Evaluation(level=level, area_id=area_id, year=year, criteria=criteria.name,
                            criteria_version=criteria.version, results=results, inputs=inputs,
                            finalized_by_id=by_id, finalized_by_name=by_name, finalized_at=at)
    db.session.add(evaluation)
    return evaluation


def _area_label(area: Area, scored: ScoredArea) -> str:
    if area.level == "city":
        return "city"
    infos = {"village": scored.villages, "township": scored.townships, "county": scored.counties}
    return f"{area.level}:{infos[area.level][area.id]['code']}"


def check_may_finalize(user) -> None:
    """Reviewers and admins finalize; others are told that their account may not (403)."""
    if user is not None and not access.may_finalize(user):
        raise EvaluationError(403, _("Your account is not allowed to do this."))


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except IntegrityError:
        # another reviewer finalized the same area at the same moment: theirs stands
        raise EvaluationError(409, _("This evaluation is already finalized.")) from None


def _finalize_villages(scored: ScoredArea, stamp: dict, outcome: FinalizeOutcome) -> tuple[dict, ScoredArea]:
    """Freeze each village not finalized yet; pool the finalized ones from their frozen figures.

    Returns the village evaluations by village id, and the records to pool the areas from.
    """
    criteria = scored.criteria
    frozen = _finalized("village", scored.villages, scored.year, criteria.name)
    unscorable = defaultdict(list)
    for item in scored.unscorable:
        unscorable[item["village_id"]].append(item)
    pooled = ScoredArea(scored.year, criteria, scored.villages, scored.townships, scored.counties, {})
    evaluations = {}
    for vid, info in scored.villages.items():
        stored = frozen.get(vid)
        if stored is not None:
            pooled.farmhouses[vid] = _frozen_records(stored, criteria)
            outcome.kept.append(stored)
        else:
            farmhouses = scored.farmhouses.get(vid, [])
            stored = _new_evaluation(
                "village", vid, scored.year, criteria,
                _village_results(vid, info, farmhouses, unscorable[vid], criteria),
                _village_inputs(info, farmhouses, unscorable[vid]), **stamp)
            pooled.farmhouses[vid] = [f.record for f in farmhouses]
            outcome.created.append(stored)
        evaluations[vid] = stored
    return evaluations, pooled


def _finalize_areas(area: Area, pooled: ScoredArea, village_evaluations: dict, stamp: dict,
                    outcome: FinalizeOutcome) -> None:
    """Freeze the townships (and counties, and the city) within an area, if not finalized yet."""
    criteria, year = pooled.criteria, pooled.year
    results = evaluate_scored(pooled)
    members: dict[tuple, list[int]] = defaultdict(list)
    for vid, info in pooled.villages.items():
        members[("township", info["township_id"])].append(vid)
        if area.level in ("county", "city"):
            members[("county", info["county_id"])].append(vid)
        if area.level == "city":
            members[("city", None)].append(vid)
    frozen = {"township": _finalized("township", pooled.townships, year, criteria.name),
              "county": _finalized("county", pooled.counties, year, criteria.name),
              "city": _finalized("city", [None], year, criteria.name)}
    for (level, ident), villages in members.items():
        stored = frozen[level].get(ident)
        if stored is not None:
            outcome.kept.append(stored)
            continue
        inputs = {"villages": [[vid, village_evaluations[vid].id] for vid in villages],
                  "hierarchy": {str(vid): [pooled.villages[vid]["township_id"],
                                           pooled.villages[vid]["county_id"]] for vid in villages}}
        outcome.created.append(_new_evaluation(level, ident, year, criteria,
                                               results.of(level, ident), inputs, **stamp))


def finalize(user, area: Area, year: int, criteria: CriteriaSet,
             progress: Callable[[int], None] | None = None,
             again: bool = False, workers: int = 1) -> FinalizeOutcome:
    """Freeze the evaluation of an area, and of its villages and areas not yet finalized.

    `user` is None for the command line. The caller has checked that the area is in the user's
    scope and commits. A frozen evaluation is never overwritten: finalizing an area that is
    already finalized is refused (409), or with `again` finalizes only what is missing within
    it (a village added since) and lists the area among those kept.
    """
    check_may_finalize(user)
    if not again and area.id in _finalized(area.level, [area.id], year, criteria.name):
        raise EvaluationError(409, _("This evaluation is already finalized."))
    scored = score_area(year, criteria, area, detail=True, progress=progress, workers=workers)
    if area.level != "city" and area.id not in {"village": scored.villages,
                                                "township": scored.townships,
                                                "county": scored.counties}[area.level]:
        raise EvaluationError(404, _("This area has no villages."))
    by_name = user.username if user is not None else f"cli:{getpass.getuser()}"[:40]
    stamp = {"by_id": getattr(user, "id", None), "by_name": by_name, "at": utcnow()}
    outcome = FinalizeOutcome()
    village_evaluations, pooled = _finalize_villages(scored, stamp, outcome)
    if area.level != "village":
        _flush_or_conflict()  # the village evaluations' ids, listed in the areas' inputs
        _finalize_areas(area, pooled, village_evaluations, stamp, outcome)
    _flush_or_conflict()
    audit.record("evaluation_finalized", user, target=_area_label(area, scored),
                 username=None if user is not None else by_name, year=year, criteria=criteria.name,
                 criteria_version=criteria.version, created=len(outcome.created),
                 kept=len(outcome.kept))
    return outcome


def reproduce(evaluation: Evaluation) -> dict[str, Any]:
    """The results of a finalized evaluation computed again from its frozen inputs alone."""
    criteria = load_criteria(evaluation.criteria)
    if evaluation.level == "village":
        records = _frozen_records(evaluation, criteria)
        result = evaluate_village(records, evaluation.inputs["registered_households"], criteria,
                                  key=evaluation.area_id)
        return evaluation_to_dict(result)
    village_ids = dict(evaluation.inputs["villages"])
    stored = {e.id: e for e in db.session.scalars(
        select(Evaluation).where(Evaluation.id.in_(list(village_ids.values()))))}
    hierarchy = {int(vid): tuple(pair) for vid, pair in evaluation.inputs["hierarchy"].items()}
    villages = [(vid, stored[eid].inputs["registered_households"],
                 _frozen_records(stored[eid], criteria)) for vid, eid in village_ids.items()]
    found = evaluate_areas(villages, hierarchy, criteria)
    if evaluation.level == "city":
        return evaluation_to_dict(found.city)
    return evaluation_to_dict({"township": found.townships, "county": found.counties}[
        evaluation.level][evaluation.area_id])


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


