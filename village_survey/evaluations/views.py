"""Evaluation pages: lists of areas by score, an area's evaluation, finalizing, a farmhouse's score card."""

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from village_survey.access import get_in_scope_or_404, may_finalize
from village_survey.core.errors import NotFound
from village_survey.evaluations import services
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
    """Areas of one level in the user's scope, with score, grade and coverage, sortable."""
    year, criteria = _year(request.args), _criteria(request.args)
    levels = services.list_levels(current_user)
    level = request.args.get("level", "village")
    level = level if level in levels else "village"
    sort = request.args.get("sort", "score")
    sort = sort if sort in services.LIST_SORTS else "score"
    descending = _descending(request.args)
    page = services.area_list(current_user, year, level, criteria, sort, descending,
                              request.args.get("page"))
    return render_template("evaluations/index.html", page=page, year=year, level=level, levels=levels,
                           sort=sort, descending=descending, criteria=criteria,
                           years=services.survey_years(dt.date.today().year))


@bp.route("/city", defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>")
def show(level, area_id):
    """An area's evaluation: the finalized one if it exists, else a preview computed now."""
    area, model = _area_or_404(level, area_id)
    year, criteria = _year(request.args), _criteria(request.args)
    view = services.evaluation_for(area, year, criteria)
    sort = request.args.get("sort", "score")
    sort = sort if sort in services.FARMHOUSE_SORTS else "score"
    descending = _descending(request.args)
    farmhouses = (services.farmhouse_page(view, sort, descending, request.args.get("page"))
                  if level == "village" else None)
    return render_template("evaluations/show.html", view=view, area=model, level=level, year=year,
                           criteria=criteria, farmhouses=farmhouses, sort=sort, descending=descending,
                           finalizable=may_finalize(current_user, area) and not view.finalized,
                           years=services.survey_years(dt.date.today().year))


@bp.route("/city/finalize", methods=["POST"], defaults={"level": "city", "area_id": None})
@bp.route("/<level>/<int:area_id>/finalize", methods=["POST"])
def finalize(level, area_id):
    """Freeze an area's evaluation (reviewers of its county, admins)."""
    area, _model = _area_or_404(level, area_id)
    year, criteria = _year(request.form), _criteria(request.form)
    back = url_for(".show", level=level, area_id=area_id, year=year, criteria=criteria.name)
    outcome = services.finalize(current_user, area, year, criteria)
    flash(_("Finalized: %(created)s evaluations stored, %(kept)s already finalized kept as they were.",
            created=len(outcome.created), kept=len(outcome.kept)), "success")
    return redirect(back, 303)


@bp.route("/farmhouses/<raw_uuid>")
def farmhouse(raw_uuid):
    """A farmhouse's score card: every criterion and why, and what would raise the score most."""
    survey = survey_or_not_found(raw_uuid, current_user)
    criteria = _criteria(request.args)
    card = services.farmhouse_score_card(survey.answers, criteria)
    return render_template("evaluations/farmhouse.html", survey=survey, card=card, criteria=criteria)
