"""A survey's review flags from the database: gathers the plain facts `flags.survey_flags` needs
(the village's other farmhouses, last year's answers, the photos, the county's boundary or bounds) and stores
the flags on the survey. Called when a survey is saved; a photo added changes only its photo flag."""

import os

from flask import current_app
from sqlalchemy import bindparam, exists, select

from village_survey.areas.models import County, Household, Township, Village
from village_survey import geo
from village_survey.extensions import db
from village_survey.review import flags as flag_rules
from village_survey.surveys.models import Photo, Survey

# A median needs no more: the village's positions are sampled, not all read, on every save.
VILLAGE_POINTS = 200
_bounds_cache = {}


def rules():
    """The thresholds: the defaults with the app's REVIEW_FLAG_RULES ({name: value}) put in."""
    return flag_rules.FlagRules.from_settings(current_app.config.get("REVIEW_FLAG_RULES"))


def bounds():
    """The areas' bounds from REVIEW_BOUNDS_FILE (default: review/bounds.toml), read again when it changes."""
    path = current_app.config.get("REVIEW_BOUNDS_FILE") or str(flag_rules.BOUNDS_FILE)
    stamp = (path, os.stat(path).st_mtime_ns)
    if stamp not in _bounds_cache:
        _bounds_cache.clear()
        _bounds_cache[stamp] = flag_rules.load_bounds(path)
    return _bounds_cache[stamp]


def boundary_of(area_bounds, county_code):
    """The county's shipped boundary (`village_survey.geo`), unless the bounds file has a rectangle
    of its own for the county (the operator's choice wins); None if neither is known."""
    if not county_code or county_code in area_bounds:
        return None
    return geo.boundary(county_code)


def _village_id(household):
    return household.village_id if household.village_id is not None else household.village.id


_LAT, _LON = Survey.answers["latitude"].as_float(), Survey.answers["longitude"].as_float()
# Built once with bound parameters (building them cost more than running them, on every save).
_VILLAGE_POINTS = (select(_LAT, _LON)
                   .where(Survey.household_id.in_(select(Household.id)
                                                  .where(Household.village_id == bindparam("village_id"))),
                          Survey.year == bindparam("year"), _LAT.is_not(None), _LON.is_not(None))
                   .limit(VILLAGE_POINTS))
_OTHER_VILLAGE_POINTS = _VILLAGE_POINTS.where(Survey.household_id != bindparam("household_id"))
COUNTY_OF_VILLAGE = (select(County.code).join(Township, Township.county_id == County.id)
                      .join(Village, Village.township_id == Township.id).where(Village.id == bindparam("village_id")))


def village_points_query(village_id, year, household_id=None):
    """(lat, lon) of the village's farmhouses surveyed in `year`, but for `household_id`'s, and
    the statement's parameters.

    From the village's households to their survey of the year (the unique household-year index):
    written as a join, SQLite without statistics read every survey of the year instead (42 ms a
    survey in a city's database, bench/season.py)."""
    params = {"village_id": village_id, "year": year}
    if household_id is None:
        return _VILLAGE_POINTS, params
    return _OTHER_VILLAGE_POINTS, params | {"household_id": household_id}


def _county_and_village_points(survey, household, connection, county_code=None):
    """The county's code (for its boundary or bounds; read unless given), and [(lat, lon)] of the
    village's other farmhouses surveyed that year."""
    village_id = _village_id(household)
    if county_code is None:
        county_code = connection.scalar(COUNTY_OF_VILLAGE, {"village_id": village_id})
    if survey.answers.get("latitude") is None or survey.answers.get("longitude") is None:
        return county_code, []  # nothing to compare
    points = connection.execute(*village_points_query(village_id, survey.year, household.id)).all()
    return county_code, [tuple(point) for point in points]


def _facts(survey, warning_keys, county_code=None):
    household = survey.household
    # Through the connection: plain rows, without the ORM's bookkeeping, on every save.
    connection = db.session.connection()
    area_bounds = bounds()
    county_code, points = _county_and_village_points(survey, household, connection, county_code)
    last_year = None
    if household.id is not None:
        last_year = connection.scalar(select(Survey.answers).where(Survey.household_id == household.id,
                                                                   Survey.year < survey.year)
                                      .order_by(Survey.year.desc()).limit(1))
    has_house_photo = survey.id is not None and connection.scalar(
        select(exists().where(Photo.survey_id == survey.id, Photo.kind == "house")))
    return flag_rules.SurveyFacts(
        answers=survey.answers, warning_keys=warning_keys, village_points=points,
        area=flag_rules.area_of(area_bounds, county_code),
        boundary=boundary_of(area_bounds, county_code), has_house_photo=bool(has_house_photo),
        last_year=last_year, started_at=survey.started_at,
        submitted_at=survey.submitted_at if survey.status != "draft" else None)


def refresh_flags(survey, warnings=None, county_code=None):
    """Compute and store the survey's flags; `warnings` ({key: messages}) are the form's, or, when
    not given (a photo was added), the unusual answers flagged before. `county_code`, the code of
    the survey's county, when the caller read it already (saves a query)."""
    if warnings is None:
        warning_keys = [flag["key"] for flag in survey.flags or () if flag.get("code") == "unusual_value"]
    else:
        warning_keys = list(warnings)
    with db.session.no_autoflush:
        survey.flags = flag_rules.survey_flags(_facts(survey, warning_keys, county_code), rules())
    return survey.flags


def photo_added(survey, kind):
    """A photo of `kind` was added to the survey: its flags as they now are, without reading
    anything (the other flags depend on the answers, which the photo does not change)."""
    flags = flag_rules.after_photo(survey.flags, kind)
    if flags is not None:
        survey.flags = flags
    return survey.flags
