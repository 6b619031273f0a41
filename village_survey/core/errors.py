"""Errors, mapped to HTTP in one place: a clear message in the user's language, a stable `code`
for programs, and a 4xx status; never a stack trace.

Services raise a `DomainError` (or a subclass of their own) and never call `abort`; this module
turns it into a page or a JSON answer. The request boundary (`core.boundary`) rolls back the
request's changes whenever the answer is an error.
"""

import errno

from flask import flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from village_survey.extensions import db, login_manager

# The machine-readable `code` of an API error, by HTTP status; clients decide on it, never on
# the translated text.
CODES = {
    400: "bad_request",
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
# Seconds a client is asked to wait before it sends again when the server cannot store anything.
RETRY_AFTER_SECONDS = 30


class DomainError(Exception):
    """Something a service refuses to do; `status` is the HTTP status that fits.

    `errors` and `warnings` name fields (for forms and the API); `extra` adds keys to the API
    answer; `audit` is an audit event (action, target, detail) recorded although the request's
    other changes are rolled back (a refusal worth remembering).
    """

    def __init__(self, status, message, errors=None, warnings=None, *, code=None, extra=None, audit=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.errors = errors or {}
        self.warnings = warnings or {}
        self.extra = extra or {}
        self.audit = audit

    def body(self):
        """The JSON answer of the API."""
        body = {"error": str(self.message), "status": self.status, "code": self.code}
        if self.errors or self.status == 422:
            body["errors"] = self.errors
        if self.warnings or self.status == 422:
            body["warnings"] = self.warnings
        return body | self.extra


class NotFound(DomainError):
    """Does not exist, or lies outside the user's area (the two are not told apart)."""

    def __init__(self, message=None):
        super().__init__(404, message or _l("This page does not exist, or it is outside your area."))


class Forbidden(DomainError):
    def __init__(self, message=None, **kwargs):
        super().__init__(403, message or _l("Your account is not allowed to do this."), **kwargs)


class LoginRequired(DomainError):
    def __init__(self):
        super().__init__(401, _l("Please log in to continue."))


def _messages():
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        401: _("Please log in to continue."),
        403: _("Your account is not allowed to do this."),
        404: _("This page does not exist, or it is outside your area."),
        405: _("This action is not allowed here."),
        409: _("This was changed meanwhile. Please reload the page and try again."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Please wait a minute and try again."),
        500: _("Something went wrong on the server. Your data was not changed. Please try again."),
        503: _("The server cannot store anything right now (its database or disk is not available). Nothing "
               "was changed: your data is kept and can be sent again in a few minutes."),
    }


def unavailable_code(error):
    """The code of an error that says the server cannot store anything for now (a full disk, a
    database that does not answer or is restarting), or None for any other error."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "storage_full"
    if isinstance(error, DBAPIError):
        text = str(error.orig).lower()
        if "disk is full" in text or "no space left" in text or "could not extend file" in text:
            return "storage_full"
        if error.connection_invalidated or isinstance(error, OperationalError):
            return "database_unavailable"
    return None


def message_for(error):
    """The message shown for an HTTP error (a 404 route and the like), in the user's language."""
    return _messages().get(error.code, error.description)


def wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _respond(status, message, code=None):
    """The page or JSON answer of an error (the session was rolled back before)."""
    if wants_json():
        return jsonify(error=str(message), status=status, code=code or CODES.get(status, "error")), status
    if status == 401:
        from village_survey.extensions import login_manager

        return login_manager.unauthorized()
    return render_template("core/error.html", status=status, message=message, back=_back()), status


def _back():
    """Where a refused form goes back to: the page it came from, if it is on this site."""
    from village_survey.security import safe_next

    referrer = request.referrer or ""
    root = request.host_url.rstrip("/")
    return safe_next(referrer[len(root):]) if referrer.startswith(root + "/") else None


def _reset():
    """Drop the request's changes before answering an error (a failed flush leaves the session
    unusable until then); the request boundary then commits nothing."""
    db.session.rollback()


def _domain_error(error):
    _reset()
    if error.audit is not None:
        from village_survey import audit
        from village_survey.core.boundary import keep_changes
        from flask_login import current_user

        action, target, detail = error.audit
        audit.record(action, current_user if current_user.is_authenticated else None, target=target,
                     **(detail or {}))
        keep_changes()
    if wants_json():
        return jsonify(error.body()), error.status
    back = _back() if request.method == "POST" and error.status in (409, 422) else None
    if back is not None:
        # A refused action on a page: say why on the page it came from.
        flash(str(error.message), "error")
        return redirect(back, 303)
    return _respond(error.status, error.message)


def register(app):
    app.register_error_handler(DomainError, _domain_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        _reset()
        return _respond(400, _("Your form expired or was sent from elsewhere. Please reload the page and try again."),
                        code="csrf_expired")

    @app.errorhandler(HTTPException)
    def http_error(error):
        _reset()
        return _respond(error.code or 500, message_for(error))

    @app.errorhandler(Exception)
    def unexpected(error):
        # a failed commit (after the view) reaches here wrapped in an InternalServerError
        original = getattr(error, "original_exception", None) or error
        code = unavailable_code(original)
        if code is None and isinstance(error, HTTPException):
            return http_error(error)
        if code is not None:
            app.logger.error("Cannot store on %s (%s): %s", request.path, code, original)
            # The answer is made without the database: the user (whom the language, the page's
            # menu and the permissions would load) is taken as not logged in for it.
            g._login_user = login_manager.anonymous_user()
            try:
                _reset()
            except Exception:  # the database is gone: nothing to roll back there
                app.logger.warning("Rollback failed after %s", code)
            response, status = _respond(503, _messages()[503], code=code)
            response = app.make_response((response, status))
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        app.logger.exception("Unhandled error on %s", request.path)
        _reset()
        return _respond(500, _messages()[500])

    app.register_error_handler(InternalServerError, unexpected)
