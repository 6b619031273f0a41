"""The dashboard (a surveyor's to-do first, then the scope's progress, indicators and charts), the
language switch and the health check."""

import datetime as dt

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select

from village_survey.access import counties_query, households_query, may_survey, townships_query, villages_query
from village_survey.core import health
from village_survey.extensions import csrf, db
from village_survey.jobs.queue import huey_of
from village_survey.security import safe_next
from village_survey.surveys.todo import todo_of

bp = Blueprint("core", __name__)


def _count(stmt):
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


@bp.route("/")
def dashboard():
    user = current_user
    counts = {
        "counties": _count(counties_query(user)),
        "townships": _count(townships_query(user)),
        "villages": _count(villages_query(user)),
        "households": _count(households_query(user)),
    }
    # What waits for the user: returned surveys, drafts, and the households not surveyed this year.
    todo = todo_of(user, dt.date.today().year) if may_survey(user) else None
    # Imported here: the charts bring matplotlib and numpy (~40 MB), which a worker that only
    # takes the phones' syncs never loads (bench/upload_memory.py).
    from village_survey.dashboards import services as dashboards

    board = dashboards.dashboard(user, dashboards.year_from(request.args.get("year")))
    return render_template("dashboards/index.html", counts=counts, todo=todo, board=board)


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
    return redirect(safe_next(request.form.get("next")) or url_for("core.dashboard"))


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """For the proxy: 200 while the database and the job queue answer, 503 naming the part that
    does not (core/health.py)."""
    body, status = health.check(huey_of())
    return body, status
