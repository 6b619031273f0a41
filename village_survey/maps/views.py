"""Map pages: a county's farmhouses (county- and city-level users whose scope holds the county)
and the city's villages (city-level users); anything else, a missing id or a bad parameter is a 404
or falls back to the default, never an error."""

import datetime as dt

from flask import Blueprint, render_template, request
from flask_login import current_user

from village_survey.access import get_in_scope_or_404
from village_survey.areas.models import County
from village_survey.core.errors import NotFound
from village_survey.evaluations import services as evaluations
from village_survey.review.flagging import rules as flag_rules
from village_survey.scoring import CriteriaError

bp = Blueprint("maps", __name__, url_prefix="/maps")
YEARS = range(2000, 2101)  # as the evaluation pages: anything else falls back to this year


def _year(values):
    this_year = dt.date.today().year
    year = values.get("year", this_year, type=int)
    return year if year in YEARS else this_year


def _maps():
    """The map modules, imported when a map is asked for: they bring matplotlib and numpy, which a
    worker that only takes the phones' syncs never loads (core/views.py does the same)."""
    from village_survey.maps import layers, services

    return layers, services


def _by(values):
    layers, _services = _maps()
    by = values.get("by", layers.BY[0])
    return by if by in layers.BY else layers.BY[0]


def _criteria(values):
    try:
        return evaluations.criteria_named(values.get("criteria"))
    except CriteriaError:
        raise NotFound() from None


def _choices():
    layers, services = _maps()
    return [(by, services.by_heading(by)) for by in layers.BY]


@bp.route("/county/<int:county_id>")
def county(county_id):
    """A county's approved farmhouses of the year as points; township staff get a 404, as on
    every county page (access.counties_query)."""
    county = get_in_scope_or_404(County, county_id)
    year, by, criteria = _year(request.args), _by(request.args), _criteria(request.args)
    view = _maps()[1].county_map(county, year, criteria, by, flag_rules().boundary_tolerance_m)
    return render_template("maps/county.html", county=county, view=view, year=year, by=by, criteria=criteria,
                           choices=_choices(), years=evaluations.survey_years(dt.date.today().year))


@bp.route("/city")
def city():
    """The city's villages, one circle each (city-level users only)."""
    if current_user.scope_level != "city":
        raise NotFound()
    year, by, criteria = _year(request.args), _by(request.args), _criteria(request.args)
    view = _maps()[1].city_map(year, criteria, by)
    return render_template("maps/city.html", view=view, year=year, by=by, criteria=criteria,
                           choices=_choices(), years=evaluations.survey_years(dt.date.today().year))
