"""Evaluation pages: lists of areas by score, an area's evaluation and its versions, finalizing
(after a confirmation) and reopening, a farmhouse's score card."""

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from village_survey.access import get_in_scope_or_404, may_finalize, may_reopen_evaluation
from village_survey.core.errors import NotFound
from village_survey.evaluations import finalizing, services
from village_survey.evaluations.labels import TEMPLATE_HELPERS
from village_survey.scoring import CriteriaError
from village_survey.surveys.services import survey_or_not_found

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")
# Survey years the pages accept; anything else falls back to this year.
YEARS = range(2000, 2101)


@bp.context_processor
def evaluation_helpers():
    return TEMPLATE_HELPERS


def _year(values):
    this_year = dt.date.today().year
    year = values.get("year", this_year, type=int)
    return year if year in YEARS else this_year


def _criteria(values):
    try:
        return services.criteria_named(values.get("criteria"))
    except CriteriaError:
        raise NotFound() from None


def _descending(values):
    return values.get("dir", "desc") != "asc"


def _area_or_404(level, area_id):
    """The area if it is in the user's scope; the city only for city-level users."""
    if level == "city":
        if current_user.scope_level != "city":
            raise NotFound()
        return services.CITY, None
    if level not in services.AREA_MODELS:
        raise NotFound()
    return services.Area(level, area_id), get_in_scope_or_404(services.AREA_MODELS[level], area_id)


@bp.route("/")
def index():
    """Areas of one level in the user's scope, with score, grade, stars, every village indicator
    and coverage, and each one's change from last year; sortable by any of them."""
    year, criteria = _year(request.args), _criteria(request.args)
    levels = services.list_levels(current_user)
    level = request.args.get("level", "village")
    level = level if level in levels else "village"
    sort = request.args.get("sort", "score")
    sort = sort if sort in services.list_sorts(criteria) else "score"
    descending = _descending(request.args)
    page = services.area_list(current_user, year, level, criteria, sort, descending,
                              request.args.get("page"))
    return render_template("evaluations/index.html", page=page, year=year, level=level, levels=levels,
                           sort=sort, descending=descending, criteria=criteria,
                           years=services.survey_years(dt.date.today().year))


@bp.route("/city", defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>")
def show(level, area_id):
    """An area's evaluation: its current finalized version if there is one, else a preview
    computed now (or an earlier version, asked for by number); the versions are listed."""
    area, model = _area_or_404(level, area_id)
    year, criteria = _year(request.args), _criteria(request.args)
    view = services.evaluation_for(area, year, criteria, request.args.get("version", type=int))
    sort = request.args.get("sort", "score")
    sort = sort if sort in services.FARMHOUSE_SORTS else "score"
    descending = _descending(request.args)
    farmhouses = (services.farmhouse_page(view, sort, descending, request.args.get("page"))
                  if level == "village" else None)
    return render_template("evaluations/show.html", view=view, area=model, level=level, year=year,
                           criteria=criteria, farmhouses=farmhouses, sort=sort, descending=descending,
                           finalizable=may_finalize(current_user, area) and not view.has_current,
                           reopenable=may_reopen_evaluation(current_user, area) and view.current,
                           reason_max_length=finalizing.REASON_MAX_LENGTH,
                           years=services.survey_years(dt.date.today().year))


def _show_url(level, area_id, year, criteria):
    return url_for(".show", level=level, area_id=area_id, year=year, criteria=criteria.name)


@bp.route("/city/finalize", defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>/finalize")
def confirm_finalize(level, area_id):
    """Ask before finalizing: how many surveys of the area still wait for review, how many
    registered households are not surveyed."""
    area, model = _area_or_404(level, area_id)
    year, criteria = _year(request.args), _criteria(request.args)
    finalizing.check_may_finalize(current_user)
    if area.id in services.current_evaluations(level, [area.id], year, criteria.name):
        flash(_("This evaluation is already finalized."), "error")
        return redirect(_show_url(level, area_id, year, criteria), 303)
    name = model.name if model is not None else None
    return render_template("evaluations/finalize.html", level=level, area=model, name=name, year=year,
                           criteria=criteria, readiness=finalizing.readiness(area, year))


@bp.route("/city/finalize", methods=["POST"], defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>/finalize", methods=["POST"])
def finalize(level, area_id):
    """Freeze an area's evaluation as a new version (reviewers of its county, admins)."""
    area, _model = _area_or_404(level, area_id)
    year, criteria = _year(request.form), _criteria(request.form)
    outcome = finalizing.finalize(current_user, area, year, criteria,
                                  anyway=request.form.get("anyway") == "yes")
    flash(_("Finalized: %(created)s evaluations stored, %(kept)s already finalized kept as they were.",
            created=len(outcome.created), kept=len(outcome.kept)), "success")
    return redirect(_show_url(level, area_id, year, criteria), 303)


@bp.route("/city/reopen", methods=["POST"], defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>/reopen", methods=["POST"])
def reopen(level, area_id):
    """Reopen an area's finalized evaluation with a reason (admins), to finalize it again."""
    area, _model = _area_or_404(level, area_id)
    year, criteria = _year(request.form), _criteria(request.form)
    reopened = finalizing.reopen(current_user, area, year, criteria.name, request.form.get("reason"))
    flash(_("Version %(version)s was reopened; its figures stay as they were. Finalize again to "
            "store version %(next)s.", version=reopened[0].version, next=reopened[0].version + 1),
          "success")
    if len(reopened) > 1:
        flash(_("Reopened too, as their figures pooled it: %(areas)s.",
                areas=", ".join(e.results.get("name") or _("Jiujiang city") for e in reopened[1:])), "success")
    return redirect(_show_url(level, area_id, year, criteria), 303)


@bp.route("/farmhouses/<raw_uuid>")
def farmhouse(raw_uuid):
    """A farmhouse's score card: every criterion and why, and what would raise the score most."""
    survey = survey_or_not_found(raw_uuid, current_user)
    criteria = _criteria(request.args)
    card = services.farmhouse_score_card(survey.answers, criteria)
    return render_template("evaluations/farmhouse.html", survey=survey, card=card, criteria=criteria)
