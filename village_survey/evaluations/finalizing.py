"""Finalizing evaluations as frozen versions, reopening them, and what to confirm before finalizing.

A finalized evaluation freezes both its results and its inputs: each village's survey
(uuid, revision) pairs with their scored figures; a township, county or the city lists the
finalized village evaluations it pooled. Finalizing an area finalizes its villages and
intermediate areas that have no current version, and pools the villages that have one from their
frozen figures, so that a county's finalized result always agrees with its villages'.

A stored version is never changed or deleted (models.py refuses it). Reopening marks the current
version as reopened (who, when, why; an audit record); the next finalizing stores version + 1.
Reopening a village also reopens the current versions of the township, county and city that
pooled it, since their figures rest on it; reopening a larger area leaves the villages within
it as they are (they are pooled again from their frozen figures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from village_survey import access, audit
from village_survey.areas.models import Household, Township, Village, utcnow
from village_survey.evaluations import precomputed
from village_survey.evaluations.models import Evaluation
from village_survey.evaluations.services import (
    Area, EvaluationError, ScoredArea, ScoredFarmhouse, area_filter, current_evaluations,
    evaluate_scored, score_area, village_results,
)
from village_survey.extensions import db
from village_survey.scoring import (
    CriteriaSet, FarmhouseRecord, evaluate_areas, evaluate_village, evaluation_to_dict, load_criteria,
)
from village_survey.surveys.models import Survey

REASON_MAX_LENGTH = 500


# ---------------------------------------------------------------- before finalizing


@dataclass(frozen=True)
class Readiness:
    """How far the surveys of an area and year are: what finalizing now would leave out."""

    waiting: int  # submitted, waiting for a reviewer's decision
    in_progress: int  # drafts, and surveys returned to the surveyor
    approved: int
    registered: int  # registered households of the area's villages
    not_surveyed: int  # registered households without a survey of the year (by village, ≥ 0)


def readiness(area: Area, year: int) -> Readiness:
    """Counts of the area's surveys of the year by status, and of households not surveyed."""
    counts = (select(Household.village_id, Survey.status, func.count())
              .select_from(Survey)
              .join(Household, Survey.household_id == Household.id)
              .join(Village, Household.village_id == Village.id)
              .join(Township, Village.township_id == Township.id)
              .where(Survey.year == year, *area_filter(area))
              .group_by(Household.village_id, Survey.status))
    by_status: dict[str, int] = defaultdict(int)
    surveyed: dict[int, int] = defaultdict(int)
    for village_id, status, count in db.session.execute(counts):
        by_status[status] += count
        surveyed[village_id] += count
    villages = (select(Village.id, Village.registered_households)
                .join(Township, Village.township_id == Township.id).where(*area_filter(area)))
    registered = not_surveyed = 0
    for village_id, households in db.session.execute(villages):
        registered += households or 0
        # a village with more surveys than registered households does not make up for another
        not_surveyed += max(0, (households or 0) - surveyed[village_id])
    return Readiness(waiting=by_status["submitted"],
                     in_progress=by_status["draft"] + by_status["returned"],
                     approved=by_status["approved"], registered=registered, not_surveyed=not_surveyed)


def check_may_finalize(user) -> None:
    """Reviewers and admins finalize; others are told that their account may not (403)."""
    if user is not None and not access.may_finalize(user):
        raise EvaluationError(403, _("Your account is not allowed to do this."))


def check_may_reopen(user) -> None:
    """Admins reopen (the command line too); others are told that their account may not (403)."""
    if user is not None and not access.may_reopen_evaluation(user):
        raise EvaluationError(403, _("Your account is not allowed to do this."))


def _already_finalized() -> EvaluationError:
    return EvaluationError(409, _("This evaluation is already finalized."))


def _check_nothing_waits(area: Area, year: int) -> None:
    waiting = readiness(area, year).waiting
    if waiting:
        raise EvaluationError(422, _(
            "%(n)s surveys of this area still wait for review: they would not count. Review them "
            "first, or confirm that you finalize anyway.", n=waiting),
            errors={"anyway": _("Confirm that you finalize anyway.")}, extra={"waiting": waiting})


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


def _next_versions(level: str, ids, year: int, criteria: str) -> dict:
    """The version number the next finalizing of each area stores (1 if it was never finalized)."""
    stmt = (select(Evaluation.area_id, func.max(Evaluation.version))
            .where(Evaluation.level == level, Evaluation.year == year, Evaluation.criteria == criteria)
            .group_by(Evaluation.area_id))
    if level != "city":
        stmt = stmt.where(Evaluation.area_id.in_(list(ids)))
    latest = dict(db.session.execute(stmt).all())
    return defaultdict(lambda: 1, {area_id: version + 1 for area_id, version in latest.items()})


def _new_evaluation(level, area_id, year, criteria, version, results, inputs, *, by_id, by_name, at):
    evaluation = Evaluation(level=level, area_id=area_id, year=year, criteria=criteria.name,
                            version=version, criteria_version=criteria.version, results=results,
                            inputs=inputs, finalized_by_id=by_id, finalized_by_name=by_name,
                            finalized_at=at)
    db.session.add(evaluation)
    return evaluation


def _area_label(area: Area, scored: ScoredArea) -> str:
    if area.level == "city":
        return "city"
    infos = {"village": scored.villages, "township": scored.townships, "county": scored.counties}
    return f"{area.level}:{infos[area.level][area.id]['code']}"


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except IntegrityError:
        # another reviewer finalized the same area at the same moment: theirs stands
        raise _already_finalized() from None


def _finalize_villages(scored: ScoredArea, stamp: dict, outcome: FinalizeOutcome) -> tuple[dict, ScoredArea]:
    """Freeze each village without a current version; pool the others from their frozen figures.

    Returns the village evaluations by village id, and the records to pool the areas from.
    """
    criteria = scored.criteria
    frozen = current_evaluations("village", scored.villages, scored.year, criteria.name)
    versions = _next_versions("village", scored.villages, scored.year, criteria.name)
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
                "village", vid, scored.year, criteria, versions[vid],
                village_results(vid, info, farmhouses, unscorable[vid], criteria),
                _village_inputs(info, farmhouses, unscorable[vid]), **stamp)
            pooled.farmhouses[vid] = [f.record for f in farmhouses]
            outcome.created.append(stored)
        evaluations[vid] = stored
    return evaluations, pooled


def _finalize_areas(area: Area, pooled: ScoredArea, village_evaluations: dict, stamp: dict,
                    outcome: FinalizeOutcome) -> None:
    """Freeze the townships (and counties, and the city) within an area without a current version."""
    criteria, year = pooled.criteria, pooled.year
    results = evaluate_scored(pooled)
    members: dict[tuple, list[int]] = defaultdict(list)
    for vid, info in pooled.villages.items():
        members[("township", info["township_id"])].append(vid)
        if area.level in ("county", "city"):
            members[("county", info["county_id"])].append(vid)
        if area.level == "city":
            members[("city", None)].append(vid)
    ids = {"township": pooled.townships, "county": pooled.counties, "city": [None]}
    frozen = {level: current_evaluations(level, ids[level], year, criteria.name) for level in ids}
    versions = {level: _next_versions(level, ids[level], year, criteria.name) for level in ids}
    for (level, ident), villages in members.items():
        stored = frozen[level].get(ident)
        if stored is not None:
            outcome.kept.append(stored)
            continue
        inputs = {"villages": [[vid, village_evaluations[vid].id] for vid in villages],
                  "hierarchy": {str(vid): [pooled.villages[vid]["township_id"],
                                           pooled.villages[vid]["county_id"]] for vid in villages}}
        outcome.created.append(_new_evaluation(level, ident, year, criteria, versions[level][ident],
                                               results.of(level, ident), inputs, **stamp))



def finalize(user, area: Area, year: int, criteria: CriteriaSet, *, anyway: bool = False,
             progress: Callable[[int], None] | None = None,
             again: bool = False, workers: int = 1) -> FinalizeOutcome:
    """Freeze the evaluation of an area, and of its villages and areas without a current version.

    `user` is None for the command line. The caller has checked that the area is in the user's
    scope and commits. While surveys of the area wait for review, finalizing is refused (422)
    unless `anyway`. A frozen version is never overwritten: finalizing an area that has a
    current version is refused (409), or with `again` finalizes only what is missing within it
    (a village added or reopened since) and lists the area among those kept.
    """
    check_may_finalize(user)
    if not again and area.id in current_evaluations(area.level, [area.id], year, criteria.name):
        raise _already_finalized()
    if not anyway:
        _check_nothing_waits(area, year)
    if precomputed.built(criteria):
        scored = precomputed.scored_area(year, criteria, area)  # the stored results, not scored again
    else:
        scored = score_area(year, criteria, area, detail=True, progress=progress, workers=workers)
    if area.level != "city" and area.id not in {"village": scored.villages,
                                                "township": scored.townships,
                                                "county": scored.counties}[area.level]:
        raise EvaluationError(404, _("This area has no villages."))
    by_name = user.username if user is not None else audit.command_username()
    stamp = {"by_id": getattr(user, "id", None), "by_name": by_name, "at": utcnow()}
    outcome = FinalizeOutcome()
    village_evaluations, pooled = _finalize_villages(scored, stamp, outcome)
    if area.level != "village":
        _flush_or_conflict()  # the village evaluations' ids, listed in the areas' inputs
        _finalize_areas(area, pooled, village_evaluations, stamp, outcome)
    _flush_or_conflict()
    if not again and any(e.level == area.level and e.area_id == area.id for e in outcome.kept):
        # another reviewer finalized it while this request was scoring
        raise _already_finalized()
    finalized = next((e for e in outcome.created + outcome.kept
                      if e.level == area.level and e.area_id == area.id), None)
    audit.record("evaluation_finalized", user, target=_area_label(area, scored),
                 username=None if user is not None else by_name, year=year, criteria=criteria.name,
                 criteria_version=criteria.version, version=getattr(finalized, "version", None),
                 created=len(outcome.created), kept=len(outcome.kept), anyway=anyway)
    return outcome


# ---------------------------------------------------------------- reopening


def _label(evaluation: Evaluation) -> str:
    if evaluation.level == "city":
        return "city"
    return f"{evaluation.level}:{evaluation.results.get('code') or evaluation.area_id}"


def _pooling(village: Evaluation) -> list[Evaluation]:
    """The current township, county and city versions that pooled this village version."""
    township_id, county_id = db.session.execute(
        select(Village.township_id, Township.county_id).join(Township, Village.township_id == Township.id)
        .where(Village.id == village.area_id)).one()
    found = [*current_evaluations("township", [township_id], village.year, village.criteria).values(),
             *current_evaluations("county", [county_id], village.year, village.criteria).values(),
             *current_evaluations("city", [None], village.year, village.criteria).values()]
    return [e for e in found if [village.area_id, village.id] in e.inputs.get("villages", [])]


def clean_reason(reason: str | None) -> str:
    """The reason for reopening, checked: required, at most REASON_MAX_LENGTH characters (422)."""
    reason = " ".join((reason or "").split())
    if not reason:
        message = _("Give the reason for reopening.")
        raise EvaluationError(422, message, errors={"reason": message})
    if len(reason) > REASON_MAX_LENGTH:
        message = _("The reason may have at most %(n)s characters.", n=REASON_MAX_LENGTH)
        raise EvaluationError(422, message, errors={"reason": message})
    return reason


def reopen(user, area: Area, year: int, criteria: str, reason: str | None) -> list[Evaluation]:
    """Reopen the current version of an area's evaluation (and of the areas that pooled it, for a
    village), so that it can be finalized again as a new version; its figures stay as they were.

    `user` is None for the command line. Returns the versions reopened, the area's first.
    Refused: 403 for a user who may not, 422 without a reason, 409 when there is no current
    version (never finalized, or reopened meanwhile by someone else).
    """
    check_may_reopen(user)
    reason = clean_reason(reason)
    current = current_evaluations(area.level, [area.id], year, criteria).get(area.id)
    if current is None:
        raise EvaluationError(409, _("This evaluation is not finalized: there is nothing to reopen."))
    pooling = _pooling(current) if area.level == "village" else []
    by_name = user.username if user is not None else audit.command_username()
    stamp = {"reopened_at": utcnow(), "reopened_by_id": getattr(user, "id", None),
             "reopened_by_name": by_name}
    # an UPDATE that only touches versions still current: a second admin reopening at the same
    # moment changes nothing and is told so, instead of replacing the first one's reason
    done = db.session.execute(
        update(Evaluation).where(Evaluation.id == current.id, Evaluation.reopened_at.is_(None))
        .values(reopen_reason=reason, **stamp).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise EvaluationError(409, _("This evaluation was reopened meanwhile."))
    because = f"{current.results.get('name') or _label(current)} ({_label(current)}): {reason}"
    for evaluation in pooling:
        db.session.execute(
            update(Evaluation).where(Evaluation.id == evaluation.id, Evaluation.reopened_at.is_(None))
            .values(reopen_reason=because, **stamp)
            .execution_options(synchronize_session=False))
    reopened = [current, *pooling]
    for evaluation in reopened:
        db.session.refresh(evaluation)
    audit.record("evaluation_reopened", user, target=_label(current),
                 username=None if user is not None else by_name, year=year, criteria=criteria,
                 version=current.version, reason=reason,
                 also_reopened=[f"{_label(e)} v{e.version}" for e in pooling])
    return reopened


# ---------------------------------------------------------------- checking


def reproduce(evaluation: Evaluation) -> dict[str, Any]:
    """The results of a finalized evaluation computed again from its frozen inputs alone, with
    the version of the criteria set it was finalized with (kept when the set has a newer one)."""
    criteria = load_criteria(evaluation.criteria, version=evaluation.criteria_version)
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
