"""Error pages: a clear message in the user's language and a 4xx status, never a stack trace."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from village_survey.extensions import db


def _messages():
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        401: _("Please log in to continue."),
        403: _("Your account is not allowed to do this."),
        404: _("This page does not exist, or it is outside your area."),
        405: _("This action is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Please wait a minute and try again."),
        500: _("Something went wrong on the server. Your data was not changed. Please try again."),
    }


def message_for(error):
    """The message shown for an HTTP error (abort(404) and the like), in the user's language."""
    return _messages().get(error.code, error.description)


def _respond(status, message):
    db.session.rollback()
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message, status=status), status
    return render_template("core/error.html", status=status, message=message), status


def register(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, _("Your form expired or was sent from elsewhere. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 401 and not request.path.startswith("/api/"):
            from village_survey.extensions import login_manager

            return login_manager.unauthorized()
        return _respond(error.code or 500, message_for(error))

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error on %s", request.path)
        return _respond(500, _messages()[500])

    app.register_error_handler(InternalServerError, unexpected)
