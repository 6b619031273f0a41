"""The one place that decides who may see and do what, by role and by area.

Every view, API and service goes through these queries and named permissions (`may_…`), and
templates use the same permissions (no role names outside this module and the user model).
Something outside the user's area is answered with 404, so that a URL never reveals that it
exists; something the user's role may not do is answered with 403.
"""

from functools import wraps

from flask_login import current_user
from sqlalchemy import and_, false, or_, select, true

from village_survey.areas.models import County, Household, Township, Village
from village_survey.core.errors import Forbidden, LoginRequired, NotFound
from village_survey.extensions import db

# Who may do what, by role; the area is checked by the queries below.
SURVEYING_ROLES = ("surveyor", "admin")  # create and change surveys, add photos
REVIEWING_ROLES = ("reviewer", "admin")  # approve or return surveys
FINALIZING_ROLES = ("reviewer", "admin")  # freeze evaluations
EDITABLE_STATUSES = ("draft", "returned")


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
        raise NotFound()
    stmt = _QUERIES[model](user).where(model.id == ident)
    obj = db.session.scalars(stmt).first()
    if obj is None:
        raise NotFound()
    return obj


# --- named permissions ---------------------------------------------------------------------------
# Each answers for a user already limited to their area by the queries above (an object handed
# to a permission was loaded through them).


def _role(user):
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


def may_survey(user, village=None):
    """Start surveys (on the website or in the field app), in `village` if given."""
    return _role(user) in SURVEYING_ROLES


def may_edit_survey(user, survey):
    """Change a survey's answers: while it is a draft or was returned."""
    return may_survey(user) and survey.status in EDITABLE_STATUSES


def may_add_photo(user, survey):
    return may_survey(user) and survey.status != "approved"


def may_review(user, survey=None):
    """Approve or return surveys; for a given survey, only while it waits for review."""
    if _role(user) not in REVIEWING_ROLES:
        return False
    return survey is None or survey.status == "submitted"


def submitted_it(user, survey):
    """Whether `user` made the submission under review (four-eyes rule: they may not approve it)."""
    return survey.submitted_by_id is not None and survey.submitted_by_id == user.id


def may_approve(user, survey):
    """Approve: review it, and not be the one who submitted it (four-eyes rule)."""
    return may_review(user, survey) and not submitted_it(user, survey)


def may_finalize(user, area=None):
    """Freeze evaluations (of an area already checked to be in the user's scope)."""
    return _role(user) in FINALIZING_ROLES


def may_manage_users(user):
    return _role(user) == "admin"


def may_manage_areas(user):
    return _role(user) == "admin"


def may_withdraw(user, survey):
    """Take back one's own submission (it becomes a draft) while no reviewer has decided on it."""
    return may_survey(user) and survey.status == "submitted" and submitted_it(user, survey)


def may_reopen(user, survey=None):
    """Reopen an approved survey with a reason (it is returned to the surveyor)."""
    if _role(user) not in REVIEWING_ROLES:
        return False
    return survey is None or survey.status == "approved"


def may_reopen_evaluation(user, area=None):
    """Reopen a finalized evaluation so that it can be finalized again (a new version)."""
    return _role(user) == "admin"


def permission_required(permission):
    """Allow the view only to users with `permission` (a `may_…` function of the user alone);
    others get 403 (they know the feature exists)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise LoginRequired()
            if not permission(current_user):
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator


# What templates may ask (registered as template globals by the factory).
TEMPLATE_PERMISSIONS = {
    "may_survey": may_survey,
    "may_edit_survey": may_edit_survey,
    "may_add_photo": may_add_photo,
    "may_review": may_review,
    "may_approve": may_approve,
    "submitted_it": submitted_it,
    "may_withdraw": may_withdraw,
    "may_reopen": may_reopen,
    "may_finalize": may_finalize,
    "may_manage_users": may_manage_users,
    "may_manage_areas": may_manage_areas,
    "may_reopen_evaluation": may_reopen_evaluation,
}


def admin_required(view):
    """The user administration pages."""
    return permission_required(may_manage_users)(view)


# --- reports ---------------------------------------------------------------------------------------
REPORTING_ROLES = ("reviewer", "viewer", "admin")  # ask for, list and download PDF reports
FULL_NAME_ROLES = ("reviewer", "admin")  # household heads' full names in a report


def may_see_reports(user):
    """List, ask for and download the PDF reports of one's area (not township staff)."""
    return _role(user) in REPORTING_ROLES


def may_request_report(user, area=None):
    """Ask for a report of `area` (an area already checked to be in the user's scope; the city's
    reports are for city-level users)."""
    if not may_see_reports(user):
        return False
    return getattr(area, "level", None) != "city" or user.scope_level == "city"


def may_see_full_names(user):
    """Have household heads' full names printed in a report (when asked for: masked otherwise)."""
    return _role(user) in FULL_NAME_ROLES


def report_in_scope(user, level_col, area_col, full_names_col):
    """A SQL condition that a report (by its area's level and id) is the user's to see: reviewers
    and county viewers their county and its villages, city users all; a report with full names
    only to users who may see them."""
    if not may_see_reports(user):
        return false()
    names = true() if may_see_full_names(user) else full_names_col.is_(False)
    if user.scope_level == "city":
        return names
    if user.scope_level != "county":
        return false()
    villages = select(Village.id).join(Village.township).where(Township.county_id == user.county_id)
    return and_(names, or_(and_(level_col == "county", area_col == user.county_id),
                           and_(level_col == "village", area_col.in_(villages))))


TEMPLATE_PERMISSIONS.update(may_see_reports=may_see_reports, may_request_report=may_request_report,
                            may_see_full_names=may_see_full_names)


# --- API tokens ------------------------------------------------------------------------------------


def may_manage_api_tokens(user):
    """Make, list and revoke the read API's tokens for other platforms (city administrators)."""
    return _role(user) == "admin"


TEMPLATE_PERMISSIONS.update(may_manage_api_tokens=may_manage_api_tokens)


# --- imports -------------------------------------------------------------------------------------
IMPORTING_ROLES = ("reviewer", "admin")  # import the registry and paper surveys of their area


def may_import(user):
    """Import households and paper surveys into one's area (the city for admins, the county for
    reviewers; villages themselves only with may_manage_areas)."""
    return _role(user) in IMPORTING_ROLES


TEMPLATE_PERMISSIONS.update(may_import=may_import)


# --- exports ---------------------------------------------------------------------------------------
PERSONAL_EXPORT_ROLES = ("reviewer", "admin")  # household heads' names, phones, exact GPS in exports


def may_export(user):
    """Download the surveys, farmhouses and evaluations of one's area (XLSX, CSV, GeoJSON)."""
    return _role(user) is not None


def may_export_personal_data(user):
    """Have personal data unmasked in an export of one's area (when asked for: masked otherwise)."""
    return _role(user) in PERSONAL_EXPORT_ROLES


TEMPLATE_PERMISSIONS.update(may_export=may_export, may_export_personal_data=may_export_personal_data)
