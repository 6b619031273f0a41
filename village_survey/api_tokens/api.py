"""The read API for other platforms (/api/v1/read/…): an API token in `Authorization: Bearer`,
GET only, within the token's area, no personal data.

Never a session: the session user is not looked at, and the answer sets no cookie. CSRF does
not apply (read-only GETs, no cookie). Each token has its own rate limit
(API_TOKEN_RATE_LIMIT); every answered request is one row in the audit log (`api_token_used`),
a revoked or expired token's attempt one `api_token_refused` row. A bearer token on any other
endpoint (the sync API, pages, forms) is refused with 403 `token_not_accepted`.
"""

from flask import Blueprint, current_app, g, jsonify, request, session
from flask_babel import gettext as _

from village_survey import audit
from village_survey.api_tokens import reading, services
from village_survey.areas.models import utcnow
from village_survey.core.boundary import keep_changes
from village_survey.core.errors import DomainError
from village_survey.extensions import csrf, limiter
from village_survey.surveys.api import parse_instant

bp = Blueprint("api_read", __name__, url_prefix="/api/v1/read")
csrf.exempt(bp)
# Query parameters worth keeping in the audit row (the cursor only as "was given").
AUDITED_PARAMETERS = ("updated_since", "year", "level", "criteria", "limit")


def _token_key():
    return f"api-token:{g.api_token.id}"


def _rate_limit():
    return current_app.config["API_TOKEN_RATE_LIMIT"]


# One budget per token, shared by all its endpoints; checked after the token is known.
token_limit = limiter.shared_limit(_rate_limit, scope="api-token", key_func=_token_key)


@bp.before_request
def authenticate():
    g.api_token = services.authenticate(request.headers.get("Authorization"), request.remote_addr, utcnow())


@bp.after_request
def record_use(response):
    # Nothing here starts a session or changes one: whatever touched it (the locale looks for a
    # logged-in user), the answer sets no cookie.
    session.modified = False
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="village_survey", error="invalid_token"'
    scope = g.get("api_token")
    # A refused request (429) read nothing; writing a row for each would defeat the limit.
    if scope is None or response.status_code == 429 or response.status_code >= 500:
        return response
    now = utcnow()
    services.record_use(scope, request.remote_addr, now)
    query = {k: request.args[k] for k in AUDITED_PARAMETERS if k in request.args}
    audit.record("api_token_used", None, target=f"api_token:{scope.id}", key=scope.key, path=request.path,
                 status=response.status_code, rows=g.get("api_rows"), cursor="cursor" in request.args, **query)
    if response.status_code >= 400:
        keep_changes()
    return response


# the sync API's document, which describes the read API too (surveys/api.py)
OPENAPI_ENDPOINT = "api.openapi"


def refuse_bearer_elsewhere():
    """Before every request: a bearer token works on the read API (and its document) only."""
    if request.blueprint == bp.name or request.path.startswith(bp.url_prefix + "/"):
        return
    if request.endpoint == OPENAPI_ENDPOINT:
        return
    if services.bearer_text(request.headers.get("Authorization")) is not None:
        raise DomainError(403, _("API tokens are accepted only by the read API (/api/v1/read/)."),
                          code="token_not_accepted")


def _since():
    raw = request.args.get("updated_since")
    if raw is None:
        return None
    since = parse_instant(raw)
    if since is None:
        raise reading.bad_request(_("updated_since must be an ISO 8601 time with its time zone, "
                                    "e.g. 2026-05-01T08:00:00Z or 2026-05-01T16:00:00+08:00."))
    return since


def _no_since():
    if "updated_since" in request.args:
        raise reading.bad_request(_("updated_since is not offered here: these rows have no change time."))


def _year(required=False):
    year = reading.whole_number(request.args.get("year"), "year", 2000, 2100)
    if year is None and required:
        return utcnow().year
    return year


def _answer(page, name):
    g.api_rows = len(page.items)
    return jsonify(page.body(name))


@bp.get("/surveys")
@token_limit
def surveys():
    paging = reading.paging(request.args.get("limit"), request.args.get("cursor"), reading.CHANGED_CURSOR)
    page = reading.surveys_page(g.api_token, paging, _since(), _year(), utcnow())
    return _answer(page, "surveys")


@bp.get("/farmhouse-scores")
@token_limit
def farmhouse_scores():
    paging = reading.paging(request.args.get("limit"), request.args.get("cursor"), reading.CHANGED_CURSOR)
    criteria = reading.criteria_of(request.args.get("criteria"))
    page = reading.farmhouse_scores_page(g.api_token, paging, _since(), _year(), criteria, utcnow())
    return _answer(page, "farmhouse_scores")


@bp.get("/evaluations")
@token_limit
def evaluations():
    _no_since()
    paging = reading.paging(request.args.get("limit"), request.args.get("cursor"), ("text",))
    criteria = reading.criteria_of(request.args.get("criteria"))
    page = reading.evaluations_page(g.api_token, paging, _year(required=True), request.args.get("level"),
                                    criteria)
    return _answer(page, "areas")


@bp.get("/villages")
@token_limit
def villages():
    _no_since()
    paging = reading.paging(request.args.get("limit"), request.args.get("cursor"), ("id",))
    return _answer(reading.villages_page(g.api_token, paging), "villages")
