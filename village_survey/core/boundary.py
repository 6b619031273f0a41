"""The request boundary: a request commits once, after its view, when it succeeded (a status
below 400), and rolls back otherwise, whatever raised or returned the error.

Views and services only add to the session. Exceptions, documented where they are: the batch
API commits each survey on its own, and CLI commands commit their own work.
"""

from flask import g

from village_survey.extensions import db


def keep_changes():
    """Commit this request's changes although it answers with an error status (for instance the
    audit record of a failed login, answered 401)."""
    g.keep_changes = True


def finish(response):
    if response.status_code < 400 or g.get("keep_changes"):
        # A failed commit raises here and is answered as a server error (changes rolled back).
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app):
    app.after_request(finish)
