"""The sync API (JSON, /api/v1): session cookie plus the CSRF token in a header, page permissions."""

import json

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import selectinload

from village_survey import access
from village_survey import survey_fields as sf
from village_survey.access import villages_query
from village_survey.areas.models import Township, Village
from village_survey.core.errors import CODES, DomainError
from village_survey.extensions import db
from village_survey.surveys import photos
from village_survey.surveys.forms import check_formdata, json_to_formdata
from village_survey.surveys.openapi import openapi_document
from village_survey.surveys.services import (
    MAX_BATCH,
    find_survey,
    normalize_uuid,
    save_survey_once_more_on_race,
    survey_state,
)

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
    # Whose list this is: the phone keeps it for that user only.
    return jsonify(user_id=current_user.id, villages=[{
        "id": v.id, "code": v.code, "name": v.name, "township": township_name,
        "registered_households": v.registered_households,
        "households": [{"id": h.id, "house_number": h.house_number, "head_name": h.head_name}
                       for h in sorted(v.households, key=lambda h: h.house_number)],
    } for v, township_name in rows])


KNOWN_BODY_KEYS = {"form_version", "year", "village_id", "household_id", "status", "answers"}
MAX_BATCH_BODY = 2 * 1024 * 1024


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
    formdata, answer_errors = json_to_formdata(body.get("answers", {}))
    errors.update(answer_errors)
    if errors:
        # Report every problem at once: the well-typed answers are checked as usual too.
        year = body.get("year") if isinstance(body.get("year"), int) else None
        checked = check_formdata(formdata, body.get("status"), year)
        return _refusal(422, _("Some answers need attention."), errors=checked.errors | errors,
                        warnings=checked.warnings)
    try:
        result = save_survey_once_more_on_race(
            current_user, uuid, form_version=body.get("form_version"), year=body.get("year"),
            status=body.get("status"), formdata=formdata, village_id=body.get("village_id"),
            household_id=body.get("household_id"))
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
