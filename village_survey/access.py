"""The one place that decides who may see and do what, by role and by area.

Every view and API goes through these queries and checks. Something outside the user's area
is answered with 404, so that a URL never reveals that it exists.
"""

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import false, select, true

from village_survey.areas.models import County, Household, Township, Village
from village_survey.extensions import db

WRITE_ROLES = ("surveyor", "reviewer", "admin")


def _condition(user, township_col, county_col):
    level = user.scope_level
    if level == "township":
        return township_col == user.township_id
    if level == "county":
        return county_col == user.county_id
    return None


def _limit(stmt, user, township_col, county_col):
    condition = _condition(user, township_col, county_col)
    return stmt if condition is None else stmt.where(condition)


def household_in_scope(user):
    """A SQL condition, on a query joined to Village and Township, that the household is in the
    user's area (to ask in one query whether a row exists and whether the user may see it)."""
    condition = _condition(user, Village.township_id, Township.county_id)
    return true() if condition is None else condition


def counties_query(user):
    """County pages are for county- and city-level users; township staff start at their township."""
    stmt = select(County)
    if user.scope_level == "county":
        return stmt.where(County.id == user.county_id)
    if user.scope_level == "township":
        return stmt.where(false())
    return stmt


def townships_query(user):
    return _limit(select(Township), user, Township.id, Township.county_id)


def villages_query(user):
    stmt = select(Village).join(Village.township)
    return _limit(stmt, user, Village.township_id, Township.county_id)


def households_query(user):
    stmt = select(Household).join(Household.village).join(Village.township)
    return _limit(stmt, user, Village.township_id, Township.county_id)


_QUERIES = {
    County: counties_query,
    Township: townships_query,
    Village: villages_query,
    Household: households_query,
}


MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER key holds on PostgreSQL


def is_row_id(value):
    """Whether `value` can be a row's id; anything else names nothing (and must not reach the
    database, which refuses numbers beyond its integer range)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def get_in_scope_or_404(model, ident, user=None):
    """Load one area or household, or 404 if it does not exist or lies outside the user's area."""
    user = user or current_user
    if not is_row_id(ident):
        abort(404)
    stmt = _QUERIES[model](user).where(model.id == ident)
    obj = db.session.scalars(stmt).first()
    if obj is None:
        abort(404)
    return obj


def can_write(user):
    return user.is_authenticated and user.role in WRITE_ROLES


def roles_required(*roles):
    """Allow the view only to these roles; others get 403 (they know the feature exists)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def admin_required(view):
    return roles_required("admin")(view)
