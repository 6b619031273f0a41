"""A surveyor's to-do: returned surveys to fix, drafts to finish, households not surveyed this year.

Shown on the website's dashboard and in the field app (GET /api/v1/todo). `surveys_of` is also
what the phone pulls (GET /api/v1/surveys?updated_since=): a user's work is the same list in both.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from village_survey import access
from village_survey.access import household_in_scope, households_query, villages_query
from village_survey.areas.models import Household, Township, Village
from village_survey.extensions import db
from village_survey.surveys.models import Survey

# Lists stay short enough for a phone; the counts are always complete.
MAX_SURVEYS = 200
MAX_HOUSEHOLDS = 2000


@dataclass
class HouseholdToSurvey:
    id: int
    village_id: int
    house_number: str
    head_name: str
    previous: Survey | None  # its latest survey of an earlier year: where a new survey may start


@dataclass
class VillageTodo:
    id: int
    name: str
    township: str
    households: int  # known to the app
    surveyed: int  # of them, with a survey this year
    to_survey: list[HouseholdToSurvey] = field(default_factory=list)

    @property
    def not_surveyed(self):
        return self.households - self.surveyed


@dataclass
class Todo:
    year: int
    returned: list[Survey]
    drafts: list[Survey]
    villages: list[VillageTodo]
    truncated: bool = False  # more households wait than are listed

    @property
    def not_surveyed(self):
        return sum(v.not_surveyed for v in self.villages)

    @property
    def empty(self):
        return not (self.returned or self.drafts or self.not_surveyed)


def surveys_of(user):
    """The surveys that are the user's work, within their area: those they started or submitted,
    and, for users who survey, every returned survey of the area (whoever surveys there may fix
    it; a colleague's survey leaves the list once it is submitted again).

    Colleagues' drafts are not included: they are someone's unfinished work.
    """
    mine = or_(Survey.created_by_id == user.id, Survey.submitted_by_id == user.id)
    if access.may_survey(user):
        mine = or_(mine, Survey.status == "returned")
    return (select(Survey).join(Survey.household).join(Household.village).join(Village.township)
            .where(household_in_scope(user), mine))


def _surveys(user, status, order):
    return db.session.scalars(surveys_of(user).where(Survey.status == status)
                              .options(contains_eager(Survey.household).contains_eager(Household.village))
                              .order_by(order, Survey.id.desc()).limit(MAX_SURVEYS)).all()


def _village_counts(user, year):
    stmt = (villages_query(user)
            .add_columns(Township.name, func.count(Household.id), func.count(Survey.id))
            .outerjoin(Household, Household.village_id == Village.id)
            .outerjoin(Survey, and_(Survey.household_id == Household.id, Survey.year == year))
            .group_by(Village.id, Township.name)
            .order_by(Village.code))
    return [VillageTodo(id=village.id, name=village.name, township=township, households=households,
                        surveyed=surveyed)
            for village, township, households, surveyed in db.session.execute(stmt)]


def _households_to_survey(user, year, village_id=None):
    """Households of the area (or of one of its villages) with no survey of `year`, in village and
    natural house-number order, each with its latest earlier survey (one query); at most
    MAX_HOUSEHOLDS + 1."""
    latest = (select(Survey.household_id, func.max(Survey.year).label("year"))
              .where(Survey.year < year).group_by(Survey.household_id).subquery())
    previous = aliased(Survey)
    stmt = (households_query(user).add_columns(previous)
            .where(~exists().where(Survey.household_id == Household.id, Survey.year == year))
            .outerjoin(latest, latest.c.household_id == Household.id)
            .outerjoin(previous, and_(previous.household_id == Household.id, previous.year == latest.c.year))
            .order_by(Village.code, Household.sort_key, Household.house_number)
            .limit(MAX_HOUSEHOLDS + 1))
    if village_id is not None:
        stmt = stmt.where(Household.village_id == village_id)
    return [HouseholdToSurvey(id=h.id, village_id=h.village_id, house_number=h.house_number,
                              head_name=h.head_name, previous=earlier)
            for h, earlier in db.session.execute(stmt)]


def todo_of(user, year):
    """The user's to-do for `year`: returned surveys first (latest return first), then drafts
    (latest change first), then, for users who survey a township, its villages with the
    households not surveyed this year."""
    returned = _surveys(user, "returned", Survey.reviewed_at.desc())
    drafts = _surveys(user, "draft", Survey.updated_at.desc())
    # The households to visit are a township's list: a county or the city is the review desk's.
    if not access.may_survey(user) or user.scope_level != "township":
        return Todo(year=year, returned=returned, drafts=drafts, villages=[])
    villages = _village_counts(user, year)
    households = _households_to_survey(user, year)
    truncated = len(households) > MAX_HOUSEHOLDS
    by_village = {v.id: v for v in villages}
    for household in households[:MAX_HOUSEHOLDS]:
        by_village[household.village_id].to_survey.append(household)
    return Todo(year=year, returned=returned, drafts=drafts, villages=villages, truncated=truncated)


def previous_answers(user, year, village_id):
    """{household id: its latest earlier survey} for the households of one village of the user's
    area not surveyed in `year` that have one (what a new survey may start from)."""
    if not access.may_survey(user) or not access.is_row_id(village_id):
        return {}
    return {h.id: h.previous for h in _households_to_survey(user, year, village_id)[:MAX_HOUSEHOLDS]
            if h.previous is not None}


def _survey_line(survey):
    return {"uuid": survey.uuid, "status": survey.status, "year": survey.year, "revision": survey.revision,
            "reviewer_comment": survey.reviewer_comment, "village_id": survey.household.village_id,
            "village": survey.household.village.name, "household_id": survey.household_id,
            "house_number": survey.household.house_number, "head_name": survey.household.head_name,
            "updated_at": survey.updated_at.isoformat() + "Z"}


def as_json(todo):
    """The to-do as the API answers it. Earlier surveys are named, not given: their answers (a
    megabyte for a large township) come a village at a time (`previous_answers`)."""

    def previous(household):
        if household.previous is None:
            return None
        return {"uuid": household.previous.uuid, "year": household.previous.year}

    return {
        "year": todo.year,
        "returned": [_survey_line(s) for s in todo.returned],
        "drafts": [_survey_line(s) for s in todo.drafts],
        "villages": [{"id": v.id, "name": v.name, "township": v.township, "households": v.households,
                      "surveyed": v.surveyed, "not_surveyed": v.not_surveyed,
                      "to_survey": [{"id": h.id, "house_number": h.house_number, "head_name": h.head_name,
                                     "previous": previous(h)} for h in v.to_survey]}
                     for v in todo.villages],
        "truncated": todo.truncated,
    }
