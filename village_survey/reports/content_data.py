"""The figures a report is made from, read from the database as plain values.

An area's figures come from its current finalized evaluation if there is one (its frozen
results), else from the preview (`evaluations.services.evaluation_for`, which reads the
precomputed figures once the criteria set's version is built). Children and last year's figures
come from the precomputed figures, each child's frozen version taking their place where it has
one (as the evaluation list shows them). A village report also scores each of its farmhouses in
full (a fraction of a millisecond each) for the recommendations, the energy figures and the
assumptions; names of household heads are read here and masked in `content`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from sqlalchemy import select

from village_survey.accounts.models import User
from village_survey.areas.models import County, Household, Township, Village
from village_survey.dashboards.progress import progress as survey_progress
from village_survey.evaluations import precomputed
from village_survey.evaluations import services
from village_survey.evaluations.precomputed import CITY, Area
from village_survey.extensions import db
from village_survey.scoring import AnswerError, CriteriaError, CriteriaSet, load_criteria, score_farmhouse
from village_survey.scoring.farmhouse import improvements
from village_survey.scoring.profile import household_profile, village_mix
from village_survey.surveys.models import Survey

CHILD = {"city": "county", "county": "township", "township": "village"}
# the ranking of an annual report: villages of a county, counties of the city
RANKED = {"county": "village", "city": "county"}
TOP_IMPROVEMENTS = 8


class ReportAreaError(LookupError):
    """The area of a report does not exist."""


def _frozen(level: str, ids: list, year: int, criteria: CriteriaSet) -> dict:
    if not ids:
        return {}
    return {ident: e.results for ident, e in
            services.current_evaluations(level, ids, year, criteria.name).items()}


# What the city's lists of villages read of each village's results (its 3,000 villages' full
# results and mixes would stay in memory through the layout for nothing).
SLIM_KEYS = ("score", "grade", "grade_zh", "grade_en", "insufficient_data", "reasons", "approved_surveys",
             "registered_households", "coverage", "star_counts", "name", "code")


def _slim(results: dict) -> dict:
    kept = {k: results.get(k) for k in SLIM_KEYS}
    kept["indicators"] = [{"id": i["id"], "value": i["value"], "target": i["target"], "direction": i["direction"],
                           "label_en": i["label_en"], "label_zh": i["label_zh"], "score": i.get("score"),
                           "weight": i.get("weight")} for i in results.get("indicators", ())]
    return kept


def children_figures(criteria: CriteriaSet, year: int, level: str, within: Area,
                     slim: bool = False) -> list[dict[str, Any]]:
    """Every area of `level` within an area: its results (frozen where finalized), mix, names
    of it and of its parent, plain values in code order; `slim` keeps only what the lists of
    villages read (no mix)."""
    found = precomputed.figures(criteria, year, level, within) if precomputed.built(criteria) else {}
    frozen = _frozen(level, list(found), year, criteria)
    parent_level = {"village": "township", "township": "county"}.get(level)
    parents = {}
    if parent_level:
        model = services.AREA_MODELS[parent_level]
        ids = {f.parent_id for f in found.values()}
        parents = dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all()) if ids else {}
    rows = []
    for ident, f in found.items():
        results = frozen.get(ident) or f.results
        rows.append({"id": ident, "name": f.name, "code": f.code, "parent_id": f.parent_id,
                     "parent": parents.get(f.parent_id), "finalized": ident in frozen,
                     "results": _slim(results) if slim else _without_rows(results), "mix": None if slim else f.mix})
    return rows


def _without_rows(results: dict) -> dict:
    """An area's results without its lists of farmhouses and child areas (kept apart)."""
    return {k: v for k, v in results.items() if k not in ("farmhouses", "areas", "unscorable")}


def _previous(criteria: CriteriaSet, year: int, area: Area) -> dict | None:
    """Last year's results of an area: its frozen version, else its precomputed figures."""
    frozen = _frozen(area.level, [area.id], year - 1, criteria)
    if area.id in frozen:
        return _without_rows(frozen[area.id])
    if not precomputed.built(criteria):
        return None
    return _without_rows(precomputed.figures(criteria, year - 1, area.level, area)[area.id].results)


def _names(area: Area) -> dict[str, Any]:
    """The area's name, code and those of the areas above it."""
    if area.level == "city":
        return {"name": None, "code": None}
    if area.level == "village":
        row = db.session.execute(
            select(Village.name, Village.code, Township.name, County.name, County.id, County.code)
            .join(Township, Village.township_id == Township.id).join(County, Township.county_id == County.id)
            .where(Village.id == area.id)).first()
        if row is None:
            raise ReportAreaError(area)
        return {"name": row[0], "code": row[1], "township": row[2], "county": row[3], "county_id": row[4],
                "county_code": row[5]}
    model = services.AREA_MODELS[area.level]
    row = db.session.execute(select(model.name, model.code).where(model.id == area.id)).first()
    if row is None:
        raise ReportAreaError(area)
    return {"name": row[0], "code": row[1]}


def _view(area: Area, year: int, criteria: CriteriaSet) -> dict[str, Any]:
    """The area's current finalized evaluation, else its preview. A county's or the city's
    preview is read here from the stored figures once they are built (with the count of its
    unscorable surveys): services.stored_preview would read every farmhouse row of the area."""
    if area.level != "village" and precomputed.built(criteria):
        frozen = services.current_evaluations(area.level, [area.id], year, criteria.name).get(area.id)
        if frozen is None:
            results = dict(precomputed.figures(criteria, year, area.level, area)[area.id].results)
            return {"results": results, "finalized": False, "version": None, "finalized_at": None,
                    "finalized_by": None, "criteria_version": criteria.version,
                    "unscorable": _unscorable_count(area, year, criteria)}
    view = services.evaluation_for(area, year, criteria)
    current = view.current
    return {"results": view.results, "finalized": current, "version": view.version if current else None,
            "finalized_at": view.finalized_at if current else None,
            "finalized_by": view.finalized_by if current else None,
            "criteria_version": view.criteria_version,
            "unscorable": len(view.results.get("unscorable") or ())}


def _unscorable_count(area: Area, year: int, criteria: CriteriaSet) -> int:
    """Approved surveys of the area that the criteria set could not score (no total stored)."""
    from sqlalchemy import func

    from village_survey.evaluations.models import StoredResult

    stmt = (select(func.count()).select_from(StoredResult)
            .where(StoredResult.criteria == criteria.name, StoredResult.year == year, StoredResult.total.is_(None)))
    if area.level != "city":
        stmt = (stmt.join(Village, StoredResult.village_id == Village.id)
                .join(Township, Village.township_id == Township.id).where(*services.area_filter(area)))
    return db.session.scalar(stmt) or 0


def _criteria_of(criteria: CriteriaSet, version: int) -> CriteriaSet:
    """The criteria set as it was at the version the figures were made with."""
    if version == criteria.version:
        return criteria
    try:
        return load_criteria(criteria.name, version=version)
    except CriteriaError:
        return criteria


# ---------------------------------------------------------------- a village


def _village_surveys(area: Area, year: int, uuids: list[str] | None):
    stmt = (select(Survey.uuid, Survey.revision, Survey.answers, Household.house_number, Household.head_name,
                   Survey.submitted_by_id, Survey.reviewed_by_id, Survey.reviewed_at)
            .join(Household, Survey.household_id == Household.id))
    if uuids is None:
        stmt = stmt.where(Household.village_id == area.id, Survey.year == year, Survey.status == "approved")
    else:
        stmt = stmt.where(Survey.uuid.in_(uuids))
    return db.session.execute(stmt).all()


def _farmhouse(row_info: dict, answers: dict, criteria: CriteriaSet) -> dict[str, Any]:
    """One farmhouse scored in full: what the table, recommendations and appendix read."""
    profile = household_profile(answers)
    detail = {**row_info, "cooking": profile["cooking"], "pv": profile["pv"], "pv_kwp": profile["pv_kwp"],
              "profile": profile}
    try:
        result = score_farmhouse(answers, criteria)
    except AnswerError:
        return {**detail, "sums": None, "improvements": [], "defaults": [], "energy": None}
    energy, carbon = result.energy, result.carbon
    return {**detail, "sums": list(result.sums),
            "improvements": [{"id": i.id, "label_en": i.label_en, "label_zh": i.label_zh,
                              "total_gain": i.total_gain} for i in improvements(result)[:TOP_IMPROVEMENTS]],
            "defaults": [d.code for d in result.defaults_used],
            "energy": {"bought_kwh": energy.bought_kwh, "pv_generation_kwh": energy.pv_generation_kwh,
                       "use_kwh": energy.use_kwh, "net_kgco2e": carbon.net_kgco2e}}


def _usernames(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def village_data(area: Area, year: int, criteria: CriteriaSet,
                 progress: Callable[[str, int | None], None] = lambda s, p: None) -> dict[str, Any]:
    """Everything a village report shows, as plain values (head names included: `content`
    masks them)."""
    names = _names(area)
    progress("evaluating", None)
    view = _view(area, year, criteria)
    results = view["results"]
    scoring_set = _criteria_of(criteria, view["criteria_version"])
    rows = results.get("farmhouses") or []
    surveys = _village_surveys(area, year, [r["uuid"] for r in rows] if view["finalized"] else None)
    by_uuid = {s.uuid: s for s in surveys}
    farmhouses, changed = [], 0
    for row in rows:
        survey = by_uuid.get(row["uuid"])
        if survey is None:
            continue
        changed += survey.revision != row["revision"]
        farmhouses.append(_farmhouse({**row, "head_name": survey.head_name}, survey.answers, scoring_set))
    users = _usernames([s.submitted_by_id for s in surveys] + [s.reviewed_by_id for s in surveys])
    county = Area("county", names["county_id"])
    county_results = None
    if precomputed.built(criteria):
        county_results = _without_rows(precomputed.figures(criteria, year, "county", county)[county.id].results)
    reviewed = [s.reviewed_at for s in surveys if s.reviewed_at is not None]
    return {
        "kind": "village", "area": {"level": "village", "id": area.id, **names}, "year": year,
        "criteria": {"name": criteria.name, "version": view["criteria_version"]},
        "finalized": view["finalized"], "version": view["version"],
        "finalized_at": view["finalized_at"], "finalized_by": view["finalized_by"],
        "results": _without_rows(results), "previous": _previous(criteria, year, area),
        "county_results": county_results,
        "mix": village_mix(f["profile"] for f in farmhouses),
        "farmhouses": farmhouses, "changed_since_finalized": changed,
        "unscorable": len(results.get("unscorable") or ()),
        "surveyors": sorted({users[s.submitted_by_id] for s in surveys if s.submitted_by_id in users}),
        "reviewers": sorted({users[s.reviewed_by_id] for s in surveys if s.reviewed_by_id in users}),
        "last_review": max(reviewed) if reviewed else None,
        "criteria_set": scoring_set,
    }


# ---------------------------------------------------------------- a county or the city


def _county_map(area: Area, year: int, criteria: CriteriaSet):
    from village_survey.maps import services as maps
    from village_survey.review.flagging import rules as flag_rules

    if area.level == "county":
        county = db.session.get(County, area.id)
        return maps.county_map(county, year, criteria, "stars", flag_rules().boundary_tolerance_m).chart
    return maps.city_map(year, criteria, "stars").chart


def annual_data(area: Area, year: int, criteria: CriteriaSet,
                progress: Callable[[str, int | None], None] = lambda s, p: None) -> dict[str, Any]:
    """Everything an annual report of a county or of the city shows, as plain values."""
    if area.level not in RANKED:
        raise ReportAreaError(area)
    names = _names(area)
    progress("evaluating", None)
    view = _view(area, year, criteria)
    child = CHILD[area.level]
    ranked = RANKED[area.level]
    children = children_figures(criteria, year, child, area)
    ranked_rows = children if ranked == child else children_figures(criteria, year, ranked, area)
    last_year = {c["id"]: c["results"] for c in children_figures(criteria, year - 1, ranked, area)} \
        if precomputed.built(criteria) else {}
    villages = ranked_rows if ranked == "village" else children_figures(criteria, year, "village", area, slim=True)
    completeness = survey_progress(area, year)
    townships_completeness = []
    if area.level == "city":
        for county in children:
            townships_completeness.append(
                {"county": county["name"], "rows": survey_progress(Area("county", county["id"]), year).rows})
    else:
        townships_completeness = [{"county": names["name"], "rows": completeness.rows}]
    # the appendix: each township's villages (county), each county's townships (city)
    appendix_level = "village" if area.level == "county" else "township"
    appendix_rows = villages if appendix_level == "village" else children_figures(criteria, year, "township", area)
    return {
        "kind": area.level, "area": {"level": area.level, "id": area.id, **names}, "year": year,
        "criteria": {"name": criteria.name, "version": view["criteria_version"]},
        "finalized": view["finalized"], "version": view["version"],
        "finalized_at": view["finalized_at"], "finalized_by": view["finalized_by"],
        "results": _without_rows(view["results"]), "previous": _previous(criteria, year, area),
        "mix": (precomputed.figures(criteria, year, area.level, area)[area.id].mix
                if precomputed.built(criteria) else None),
        "previous_mix": (precomputed.figures(criteria, year - 1, area.level, area)[area.id].mix
                         if precomputed.built(criteria) else None),
        "children": children, "child_level": child,
        "ranked": ranked_rows, "ranked_level": ranked, "ranked_last_year": last_year,
        "villages": villages, "appendix_level": appendix_level, "appendix_rows": appendix_rows,
        "completeness": completeness, "townships_completeness": townships_completeness,
        "unscorable": view["unscorable"],
        "criteria_set": _criteria_of(criteria, view["criteria_version"]),
        "map": _county_map(area, year, criteria) if precomputed.built(criteria) else None,
        "made_on": dt.date.today(),
    }


def area_for(kind: str, area: Area) -> Area:
    """The area a report of `kind` is about (the city's report is about the city whatever id)."""
    if kind == "city":
        return CITY
    if kind not in ("village", "county") or area.level != kind:
        raise ReportAreaError(area)
    return area
