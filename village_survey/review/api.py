"""JSON endpoints of the review loop (/api/v1): a surveyor withdraws their submission, a reviewer
reopens an approved survey. Both answer the survey's state as GET /api/v1/surveys/<uuid> does."""

import json

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from village_survey.core.errors import DomainError, NotFound
from village_survey.surveys.services import find_survey, normalize_uuid, reopen_survey, survey_state, withdraw_survey

bp = Blueprint("review_api", __name__, url_prefix="/api/v1")
MAX_BODY = 16 * 1024


def _survey(raw_uuid):
    uuid = normalize_uuid(raw_uuid)
    survey = find_survey(uuid, current_user) if uuid else None
    if survey is None:
        raise NotFound(_("No survey with this identifier."))
    return survey


def _json_object():
    """The body as a JSON object (an empty body counts as {}), or a 400."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise DomainError(400, _("The body must be a JSON object."))
    raw = request.get_data(cache=False, as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise DomainError(400, _("The body must be a JSON object."))
    return body


@bp.post("/surveys/<raw_uuid>/withdraw")
def withdraw(raw_uuid):
    survey = _survey(raw_uuid)
    withdraw_survey(current_user, survey)
    return jsonify(survey_state(survey))


@bp.post("/surveys/<raw_uuid>/reopen")
def reopen(raw_uuid):
    survey = _survey(raw_uuid)
    body = _json_object()
    reopen_survey(current_user, survey, body.get("reason"))
    return jsonify(survey_state(survey))
