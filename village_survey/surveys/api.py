"""The sync API (JSON, /api/v1): session cookie plus the CSRF token in a header, page permissions."""

import base64
import binascii
import datetime as dt
import json

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from village_survey import access
from village_survey import survey_fields as sf
from village_survey.access import get_in_scope_or_404, villages_query
from village_survey.areas.models import Household, Township, Village, utcnow
from village_survey.core.errors import CODES, DomainError
from village_survey.extensions import db
from village_survey.surveys import photos, todo
from village_survey.surveys.models import Survey
from village_survey.surveys.openapi import openapi_document
from village_survey.surveys.services import (
    EDITABLE,
    MAX_BATCH,
    find_survey,
    normalize_uuid,
    save_survey_once_more_on_race,
    survey_state,
)
from village_survey.surveys.validator import check_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_SURVEY_BODY = 256 * 1024


def _refusal(status, message, **extra):
    """The body and status of a refusal, as every API error answers it (core.errors does the same
    for errors raised out of a view)."""
    return {"error": str(message), "status": status, "code": CODES.get(status, "error"), **extra}, status


def _error(status, message, **extra):
    body, status = _refusal(status, message, **extra)
    return jsonify(body), status


def _reject_constant(name):
    raise ValueError(f"{name} is not a number")


def _json_body(limit=MAX_SURVEY_BODY):
    """The request body as a JSON object, or None (NaN and Infinity are not JSON numbers)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        body = json.loads(request.get_data(cache=False, as_text=True), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


@bp.get("/session")
def session_info():
    area = current_user.scope_area
    return jsonify(
        user={"id": current_user.id, "username": current_user.username, "role": current_user.role},
        # What the field app may offer; the server checks every request anyway.
        permissions={"survey": access.may_survey(current_user)},
        scope={"level": current_user.scope_level, "code": area.code if area else None,
               "name": area.name if area else None},
        csrf_token=generate_csrf(),
        form_version=sf.FORM_VERSION,
        supported_form_versions=list(sf.SUPPORTED_FORM_VERSIONS),
        locale=str(current_user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]),
    )


@bp.get("/villages")
def villages():
    stmt = (villages_query(current_user).options(selectinload(Village.households))
            .add_columns(Township.name).order_by(Village.code))
    rows = db.session.execute(stmt).all()
    # This year's survey of each household, so that the phone warns at once (even offline) when
    # a household chosen for a new survey already has one.
    year = dt.date.today().year
    this_year = {household_id: {"uuid": uuid, "status": status, "editable": status in EDITABLE}
                 for household_id, uuid, status in db.session.execute(
                     select(Survey.household_id, Survey.uuid, Survey.status).join(Survey.household)
                     .where(Survey.year == year, Household.village_id.in_([v.id for v, _name in rows])))}
    # Whose list this is: the phone keeps it for that user only.
    return jsonify(user_id=current_user.id, year=year, villages=[{
        "id": v.id, "code": v.code, "name": v.name, "township": township_name,
        "registered_households": v.registered_households,
        # In the natural order of house numbers (the relationship's order).
        "households": [{"id": h.id, "house_number": h.house_number, "head_name": h.head_name,
                        "survey": this_year.get(h.id)} for h in v.households],
    } for v, township_name in rows])


@bp.get("/todo")
def surveyor_todo():
    """The user's to-do (surveys.todo): returned surveys, drafts, and the households of the area
    not surveyed this year, each naming its latest earlier survey."""
    found = todo.todo_of(current_user, dt.date.today().year)
    return jsonify(todo.as_json(found) | {"user_id": current_user.id})


@bp.get("/todo/previous")
def previous_answers():
    """The answers of the latest earlier survey of each household of a village not surveyed this
    year: the phone keeps them, so that a survey started without signal can start from them."""
    village_id = request.args.get("village", type=int)
    if village_id is None:
        return _error(400, _("Name a village: ?village=<id>."))
    get_in_scope_or_404(Village, village_id, current_user)
    found = todo.previous_answers(current_user, dt.date.today().year, village_id)
    return jsonify(user_id=current_user.id, village_id=village_id, previous={
        str(household_id): {"uuid": s.uuid, "year": s.year, "answers": s.answers}
        for household_id, s in found.items()})


# --- the phone's pull: what changed on the server since its last look -----------------------------

PULL_PAGE = 100
MAX_PULL_PAGE = 500
# `server_time` is this much before the answer was made: a change flushed before the query but
# committed after it would be missed by an exact cut. Such surveys come twice; the phone keeps
# the latest by revision.
PULL_OVERLAP = dt.timedelta(seconds=60)


def parse_instant(text):
    """An ISO 8601 time with its zone (`Z` or an offset) as naive UTC; None if it is not one.

    A time without a zone is refused: a phone's local time read as UTC would be hours off.
    """
    if not isinstance(text, str) or not 10 <= len(text.strip()) <= 40:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
        if value.tzinfo is None:
            return None
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def _instant_text(value):
    return value.isoformat(timespec="microseconds") + "Z"


def _cursor(survey, server_time):
    raw = json.dumps([survey.updated_at.isoformat(timespec="microseconds"), survey.id,
                      server_time.isoformat(timespec="microseconds")])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(text):
    """(updated_at, id, server_time) of the last survey of the page before; None if not a cursor."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        updated_at, survey_id, server_time = json.loads(raw)
        if not access.is_row_id(survey_id):
            return None
        return dt.datetime.fromisoformat(updated_at), survey_id, dt.datetime.fromisoformat(server_time)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _pull_limit(raw):
    if raw is None:
        return PULL_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PULL_PAGE:
        return None
    return int(raw)


@bp.get("/surveys")
def changed_surveys():
    """The surveys that are the user's work (surveys.todo.surveys_of), changed since
    `updated_since`, oldest change first, a page at a time.

    The order (updated_at, id) is stable: a survey changed while the phone pages moves behind the
    cursor and comes in a later page or the next pull, never lost. Every page of one pull answers
    the same `server_time`, the `updated_since` of the next pull.
    """
    limit = _pull_limit(request.args.get("limit"))
    if limit is None:
        return _error(400, _("The limit must be a whole number from 1 to %(max)d.", max=MAX_PULL_PAGE))
    stmt = todo.surveys_of(current_user)
    if request.args.get("cursor") is not None:
        position = _read_cursor(request.args["cursor"])
        if position is None:
            return _error(400, _("This cursor is not one the server gave: start again without it."))
        updated_at, survey_id, server_time = position
        stmt = stmt.where(or_(Survey.updated_at > updated_at,
                              and_(Survey.updated_at == updated_at, Survey.id > survey_id)))
    else:
        server_time = utcnow() - PULL_OVERLAP
    if request.args.get("updated_since") is not None:
        since = parse_instant(request.args["updated_since"])
        if since is None:
            return _error(400, _("updated_since must be an ISO 8601 time with its time zone, "
                                 "e.g. 2026-05-01T08:00:00Z or 2026-05-01T16:00:00+08:00."))
        stmt = stmt.where(Survey.updated_at >= since)
    surveys = db.session.scalars(stmt.options(contains_eager(Survey.household), selectinload(Survey.photos))
                                 .order_by(Survey.updated_at, Survey.id).limit(limit + 1)).all()
    more = len(surveys) > limit
    surveys = surveys[:limit]
    return jsonify(surveys=[survey_state(s) for s in surveys],
                   next_cursor=_cursor(surveys[-1], server_time) if more else None,
                   server_time=_instant_text(server_time))


KNOWN_BODY_KEYS = {"form_version", "year", "village_id", "household_id", "status", "answers", "started_at",
                   "base_revision"}
# A phone clock may be wrong: a start time beyond this is not kept (the survey is, without it).
STARTED_AT_FUTURE = dt.timedelta(days=1)
MAX_BATCH_BODY = 2 * 1024 * 1024


def _started_at(body, errors):
    """When the phone started the survey (kept when it is created), or None."""
    raw = body.get("started_at")
    if raw is None:
        return None
    value = parse_instant(raw)
    if value is None:
        errors["started_at"] = [_("Give the start as an ISO 8601 time with its time zone.")]
        return None
    if value.year < 2000 or value > utcnow() + STARTED_AT_FUTURE:
        return None  # the phone's clock is wrong: the survey is kept, its start time is not
    return value


def _base_revision(body, errors):
    raw = body.get("base_revision")
    if raw is not None and raw != 0 and not access.is_row_id(raw):
        errors["base_revision"] = [_("Must be a whole number.")]
        return None
    return raw


def _valid_year(year, today):
    """Whether a survey year can be taken for the answers' checks (the save refuses any other)."""
    return isinstance(year, int) and not isinstance(year, bool) and 2000 <= year <= today.year + 1


def _save(raw_uuid, body):
    """Apply one survey PUT and commit it: (the answer's JSON, its HTTP status).

    The one place besides the request boundary that commits: each survey of a batch is
    committed (or rolled back) on its own, so one refusal does not undo the others.
    """
    uuid = normalize_uuid(raw_uuid)
    if uuid is None:
        return _refusal(404, _("No survey with this identifier."))
    if not isinstance(body, dict):
        return _refusal(400, _("The body must be a JSON object (at most 256 KB)."))
    errors = {key: [_("Unknown field.")] for key in body if key not in KNOWN_BODY_KEYS}
    today = dt.date.today()
    year, status = body.get("year"), body.get("status")
    # The answers checked once, in one pass (surveys/validator.py, equal to the form's checks).
    checked, answer_errors = check_json(body.get("answers", {}), status, year if _valid_year(year, today) else None,
                                        today)
    errors.update(answer_errors)
    started_at = _started_at(body, errors)
    base_revision = _base_revision(body, errors)
    if errors:
        # Report every problem at once: the well-typed answers are checked as usual too.
        return _refusal(422, _("Some answers need attention."), errors=checked.errors | errors,
                        warnings=checked.warnings)
    try:
        result = save_survey_once_more_on_race(
            current_user, uuid, form_version=body.get("form_version"), year=year, status=status,
            answers=body.get("answers", {}), checked=checked, today=today, village_id=body.get("village_id"),
            household_id=body.get("household_id"), started_at=started_at, seen_revision=base_revision)
    except DomainError as error:
        db.session.rollback()
        body = error.body()
        if error.status == 409:
            existing = find_survey(uuid, current_user)
            if existing is not None:
                body["state"] = survey_state(existing)
        return body, error.status
    # The answer is built before the commit, which would expire the objects and make it reload them.
    state = survey_state(result.survey) | {"warnings": result.warnings}
    db.session.commit()
    return state, 201 if result.created else 200


@bp.put("/surveys/<raw_uuid>")
def put_survey(raw_uuid):
    body = _json_body()
    if body is None:
        return _error(400, _("The body must be a JSON object (at most 256 KB)."))
    data, status = _save(raw_uuid, body)
    return jsonify(data), status


@bp.post("/surveys/batch")
def put_surveys():
    """Several surveys in one request, each applied and committed as its own PUT would be.

    A phone with a full outbox on a slow line saves a round trip per survey; the server saves
    the fixed cost of a request (session, login, CSRF) per survey. One survey's refusal does not
    stop the others: each result is the status and body its PUT would have answered.
    """
    body = _json_body(MAX_BATCH_BODY)
    surveys = body.get("surveys") if body is not None and set(body) == {"surveys"} else None
    if not isinstance(surveys, list) or not 1 <= len(surveys) <= MAX_BATCH:
        return _error(400, _("The body must be {\"surveys\": [...]} with 1 to %(count)d surveys (at most 2 MB).",
                             count=MAX_BATCH))
    # Each survey is committed on its own; keeping the loaded objects (the user above all)
    # after a commit spares a reload per survey.
    db.session().expire_on_commit = False
    results = []
    for item in surveys:
        fields = dict(item) if isinstance(item, dict) else None
        raw_uuid = fields.pop("uuid", None) if fields is not None else None
        raw_uuid = raw_uuid if isinstance(raw_uuid, str) else None
        data, status = _save(raw_uuid or "", fields)
        results.append({"uuid": raw_uuid, "status": status, "body": data})
    return jsonify(results=results)


@bp.get("/surveys/<raw_uuid>")
def get_survey(raw_uuid):
    uuid = normalize_uuid(raw_uuid)
    survey = find_survey(uuid, current_user) if uuid else None
    if survey is None:
        return _error(404, _("No survey with this identifier."))
    return jsonify(survey_state(survey))


@bp.put("/surveys/<raw_uuid>/photos/<raw_photo_uuid>")
def put_photo(raw_uuid, raw_photo_uuid):
    uuid, photo_uuid = normalize_uuid(raw_uuid), normalize_uuid(raw_photo_uuid)
    survey = find_survey(uuid, current_user) if uuid else None
    if survey is None or photo_uuid is None:
        return _error(404, _("No survey with this identifier."))
    photo, created = photos.save_photo(current_user, survey, photo_uuid, request.args.get("kind", "other"),
                                       request.get_data(cache=False))
    return jsonify(photos.photo_state(photo)), 201 if created else 200


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
