"""Survey operations shared by the pages and the sync API: save (idempotent on the UUID), review.

A save is identified by the survey's UUID, given by the phone. The same content again changes
nothing; a change to a draft or returned survey becomes a new revision; a change to a survey
under review or approved is a conflict.
"""

import datetime as dt
import hashlib
import json
import uuid as uuid_module
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, insert, join, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, make_transient_to_detached

from village_survey import audit
from village_survey import survey_fields as sf
from village_survey import access
from village_survey.access import get_in_scope_or_404, household_in_scope, is_row_id, villages_query
from village_survey.areas.models import Household, Township, Village, utcnow
from village_survey.core.errors import DomainError, Forbidden, NotFound
from village_survey.evaluations import precomputed
from village_survey.extensions import db
from village_survey.review.flagging import COUNTY_OF_VILLAGE, refresh_flags
from village_survey.surveys.forms import check_formdata
from village_survey.surveys.models import Survey, SurveyRevision
from village_survey.surveys.validator import check_json

EDITABLE = access.EDITABLE_STATUSES
SURVEY_WRITERS = access.SURVEYING_ROLES
MAX_BATCH = 20  # surveys in one request of the batch API
MAX_COMMENT = 2000  # characters of a reviewer's comment or of a reason to reopen


class SurveyError(DomainError):
    """A save or review that cannot be done; `status` is the HTTP status to answer with."""


class _CreatedMeanwhile(Exception):
    """Another request created this very survey between our lookup and our insert."""


@dataclass
class SaveResult:
    survey: Survey
    created: bool = False
    changed: bool = False
    warnings: dict = field(default_factory=dict)


def normalize_uuid(value):
    """The canonical text of a UUID, or None if it is not one."""
    try:
        return str(uuid_module.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def content_hash(form_version, year, status, answers):
    """The fingerprint of what the phone sent (not of the review that followed), so a replay matches."""
    canonical = json.dumps({"form_version": form_version, "year": year, "status": status, "answers": answers},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_survey(uuid, user):
    """The survey with this UUID if it is in the user's area; None if it does not exist; NotFound
    outside it.

    One query answers both, and loads the household with the survey.
    """
    row = db.session.execute(
        select(Survey, household_in_scope(user).label("in_scope"))
        .join(Survey.household).join(Household.village).join(Village.township)
        .options(contains_eager(Survey.household))
        .where(Survey.uuid == uuid)).first()
    if row is None:
        return None
    if not row.in_scope:
        raise NotFound()
    return row.Survey


class _Scope:
    """A user's area as bound parameters: access's queries built once per kind of area."""

    def __init__(self, level):
        self.scope_level = level
        self.township_id = bindparam("scope_township")
        self.county_id = bindparam("scope_county")


_FIND_FOR_SAVE = {}


def _find_for_save_statement(level, new_household):
    key = (level, new_household)
    if key not in _FIND_FOR_SAVE:
        scope = _Scope(level)
        columns = [Survey, household_in_scope(scope).label("in_scope")]
        if new_household:
            in_area = villages_query(scope).with_only_columns(Village.id).where(Village.id == bindparam("village_id"))
            numbered = select(Household.id).where(Household.village_id == bindparam("village_id"),
                                                  Household.house_number == bindparam("house_number"))
            columns += [in_area.correlate(None).scalar_subquery().label("village"),
                        numbered.correlate(None).scalar_subquery().label("numbered"),
                        COUNTY_OF_VILLAGE.correlate(None).scalar_subquery().label("county_code")]
        one_row = select(literal(1).label("one")).subquery("one_row")
        _FIND_FOR_SAVE[key] = (
            select(*columns).select_from(one_row)
            .outerjoin(join(Survey, Household, Survey.household_id == Household.id)
                       .join(Village, Household.village_id == Village.id)
                       .join(Township, Village.township_id == Township.id), Survey.uuid == bindparam("uuid"))
            .options(contains_eager(Survey.household)))
    return _FIND_FOR_SAVE[key]


def _find_for_save(uuid, user, village_id, house_number):
    """find_survey's answer (the survey `uuid` or None; NotFound outside the area) and, asked in the
    same query for a new household's survey, the village if it is in the user's area (None if
    not), the id of its household of that number (None if it has none) and the code of the
    village's county (for the review flags).

    A new survey of a new household then takes one query before its INSERTs; any other case is
    decided by the general path, as before. The statement is built once per kind of area.
    """
    new_household = house_number is not None
    params = {"uuid": uuid, "scope_township": user.township_id, "scope_county": user.county_id}
    if new_household:
        params.update(village_id=village_id, house_number=house_number)
    row = db.session.execute(_find_for_save_statement(user.scope_level, new_household), params).one()
    if row.Survey is not None and not row.in_scope:
        raise NotFound()
    if not new_household:
        return row.Survey, None, None, None
    return row.Survey, row.village, row.numbered, row.county_code


def survey_or_not_found(raw_uuid, user):
    """The survey named by a UUID as written in a URL, in the user's area, or NotFound."""
    uuid = normalize_uuid(raw_uuid)
    survey = find_survey(uuid, user) if uuid else None
    if survey is None:
        raise NotFound()
    return survey


def _check_header(form_version, year, status, today):
    errors = {}
    if form_version not in sf.SUPPORTED_FORM_VERSIONS:
        errors["form_version"] = [_("This form version is not supported: update the app.")]
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= today.year + 1:
        errors["year"] = [_("The survey year must be between 2000 and next year.")]
    if status not in ("draft", "submitted"):
        errors["status"] = [_("The status must be draft or submitted.")]
    return errors


def _changes(old, new):
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def _merged_changes(earlier, later):
    """{key: [old, new]} of two changes one after the other; a key changed back drops out."""
    merged = dict(earlier)
    for key, (old, new) in later.items():
        first = merged[key][0] if key in merged else old
        if first == new:
            merged.pop(key, None)
        else:
            merged[key] = [first, new]
    return merged


def add_revision(survey, user, old_answers, comment=None):
    """Record a change as a revision; a draft saved again by the same user (the form's steps, the
    phone's autosaves) extends their latest draft revision instead of adding one per save."""
    changes = _changes(old_answers, survey.answers)
    if survey.status == "draft" and survey.id is not None:
        latest = db.session.scalars(select(SurveyRevision).where(SurveyRevision.survey_id == survey.id,
                                                                 SurveyRevision.number == survey.revision)).first()
        if latest is not None and latest.status == "draft" and latest.user_id == user.id and latest.comment is None:
            latest.changes = _merged_changes(latest.changes or {}, changes)
            latest.at = utcnow()
            return latest
    survey.revision = (survey.revision or 0) + 1 if survey.id else 1
    revision = SurveyRevision(survey=survey, number=survey.revision, user_id=user.id, at=utcnow(),
                              status=survey.status, changes=changes, comment=comment)
    db.session.add(revision)
    return revision


def _sync_household(household, answers, user):
    """Keep the household's number, name and phone as the latest survey recorded them.

    The household registry is the truth that lists and evaluations show; a survey that changes
    the house number renumbers its household, unless another household of the village has that
    number (then the answer is refused, never two households with one number).
    """
    number = answers.get("house_number")
    if number and household.id is not None and number != household.house_number:
        taken = db.session.scalar(select(Household.id).where(Household.village_id == household.village_id,
                                                             Household.house_number == number,
                                                             Household.id != household.id))
        if taken is not None:
            message = _("Another household of this village has the house number %(number)s.", number=number)
            raise SurveyError(422, message, {"house_number": [message]})
        household.house_number = number
        audit.record("household_renumbered", user, target=f"household:{household.id}")
    if answers.get("head_name"):
        household.head_name = answers["head_name"]
    household.phone = answers.get("phone")


def _resolve_household(user, village_id, household_id, answers):
    if household_id is not None:
        if not isinstance(household_id, int) or isinstance(household_id, bool):
            raise SurveyError(422, _("Invalid data."), {"household_id": [_("Must be a whole number.")]})
        household = get_in_scope_or_404(Household, household_id, user)
        if village_id is not None and household.village_id != village_id:
            raise SurveyError(422, _("Invalid data."),
                              {"household_id": [_("This household is not in the chosen village.")]})
        return household
    if not isinstance(village_id, int) or isinstance(village_id, bool):
        raise SurveyError(422, _("Invalid data."), {"village_id": [_("Choose a village.")]})
    missing = {k: [_("Required for a new household.")] for k in ("house_number", "head_name") if not answers.get(k)}
    if missing:
        get_in_scope_or_404(Village, village_id, user)  # outside the area is 404 before anything else
        raise SurveyError(422, _("Invalid data."), missing)
    # The village within the user's area and its household of that number, if any, in one query.
    if not is_row_id(village_id):
        raise NotFound()
    row = db.session.execute(
        villages_query(user).add_columns(Household)
        .outerjoin(Household, and_(Household.village_id == Village.id,
                                   Household.house_number == answers["house_number"]))
        .where(Village.id == village_id)).first()
    if row is None:
        raise NotFound()
    village, household = row
    if household is None:  # a new one, written with its survey (not through the session)
        household = Household(village_id=village.id, house_number=answers["house_number"],
                              head_name=answers["head_name"])
    return household


def _checked_answers(formdata, answers, checked, status, year, today, header_errors):
    if formdata is not None:
        return check_formdata(formdata, status, year, today)
    if checked is None or header_errors:  # with a header refused, the answers are checked for this year
        checked, type_errors = check_json(answers, status, year, today)
        checked.errors.update(type_errors)
    return checked


def save_survey(user, uuid, *, form_version, year, status, formdata=None, answers=None, checked=None,
                village_id=None, household_id=None, today=None, started_at=None, seen_revision=None):
    """Create or update the survey `uuid`; raise SurveyError (4xx) and write nothing when refused.

    The answers come as form data (`formdata`, the pages: checked by the form) or as the JSON
    API's `answers` object (checked by the compiled validator, which checks them alike);
    `checked` is the latter's outcome for this status, year and `today` when the caller has it.

    `started_at` (naive UTC) is when the surveyor started it, if known; the survey's review
    flags are computed again with every change. `seen_revision` is the server revision the
    surveyor's answers start from, when the client knows it: the same answers sent again after a
    return are a resubmission if the surveyor saw the return, else a replay that changes nothing.
    """
    if not access.may_survey(user):
        raise Forbidden()
    today = today or dt.date.today()
    errors = _check_header(form_version, year, status, today)
    checked = _checked_answers(formdata, answers, checked, status, year if not errors else today.year, today,
                               header_errors=bool(errors))
    errors.update(checked.errors)
    if errors:
        raise SurveyError(422, _("Some answers need attention."), errors, checked.warnings)
    answers = checked.answers
    digest = content_hash(form_version, year, status, answers)

    new_household = household_id is None and is_row_id(village_id) and answers.get("head_name")
    survey, village_in_area, numbered, county_code = _find_for_save(
        uuid, user, village_id, answers.get("house_number") if new_household else None)
    if survey is None and village_in_area is not None and numbered is None and new_household:
        # a new household (written with its survey, not through the session)
        household = Household(village_id=village_in_area, house_number=answers["house_number"],
                              head_name=answers["head_name"])
    elif survey is None:
        household = _household_of_new_survey(user, uuid, village_id, household_id, answers, year)
    else:
        if survey.status == "returned" and seen_revision is not None and survey.revision > seen_revision:
            # Made before the reviewer returned it: not applied over the return until the surveyor
            # has read the comment (the client then sends it again with the return's revision).
            raise SurveyError(409, _("The reviewer returned this survey after this change was made: read "
                                     "the comment and confirm before sending it again."))
        resubmits = (survey.status == "returned" and status == "submitted" and seen_revision is not None
                     and seen_revision >= survey.revision)
        if survey.content_hash == digest and not resubmits:
            return SaveResult(survey, warnings=checked.warnings)
        if survey.status not in EDITABLE:
            raise SurveyError(409, _("This survey is %(status)s and cannot be changed now. Ask the "
                                     "reviewer to return it if it needs a correction.",
                                     status=_status_word(survey.status)))
        if survey.year != year:
            raise SurveyError(409, _("The year of a survey cannot change."))
        old = survey.answers
        survey.answers, survey.status, survey.form_version = answers, status, form_version
        survey.content_hash, survey.updated_at = digest, utcnow()
        if status == "submitted":
            survey.submitted_at, survey.submitted_by_id = utcnow(), user.id
        if started_at is not None and survey.started_at is None:
            survey.started_at = started_at
        _sync_household(survey.household, answers, user)
        add_revision(survey, user, old)
        refresh_flags(survey, checked.warnings)
        db.session.flush()
        return SaveResult(survey, changed=True, warnings=checked.warnings)

    return _create(user, uuid, household, year=year, form_version=form_version, status=status, answers=answers,
                   digest=digest, started_at=started_at, warnings=checked.warnings,
                   county_code=county_code if village_in_area is not None else None)


def _household_of_new_survey(user, uuid, village_id, household_id, answers, year):
    """The household a new survey is for; SurveyError or NotFound when it cannot be made there."""
    household = _resolve_household(user, village_id, household_id, answers)
    if household.id is not None:
        other = db.session.scalars(select(Survey).where(Survey.household_id == household.id,
                                                        Survey.year == year)).first()
        if other is not None and other.uuid == uuid:
            raise _CreatedMeanwhile()  # by a concurrent request with the same survey
        if other is not None:
            message = _("%(house_number)s %(head_name)s already has a survey for %(year)s (%(status)s): "
                        "open it instead of starting another.", house_number=household.house_number,
                        head_name=household.head_name, year=year, status=_status_word(other.status))
            # The survey itself for programs (the field app offers to open it), never as text.
            existing = {"uuid": other.uuid, "status": other.status, "year": other.year,
                        "editable": access.may_edit_survey(user, other),
                        "house_number": household.house_number, "head_name": household.head_name}
            raise SurveyError(409, message, {"household_id": [message]}, extra={"existing_survey": existing})
    return household


_HOUSEHOLDS, _SURVEYS, _REVISIONS = Household.__table__, Survey.__table__, SurveyRevision.__table__
_INSERT_HOUSEHOLD = insert(_HOUSEHOLDS)
_INSERT_SURVEY = insert(_SURVEYS)
_INSERT_REVISION = insert(_REVISIONS)
_IN_ONE_STATEMENT = {}


def _typed_values(table, prefix, exclude=()):
    """{column: its bound parameter "<prefix><column>", of the column's type}."""
    return {column.name: bindparam(prefix + column.name, type_=column.type)
            for column in table.columns if not column.primary_key and column.name not in exclude}


def _in_one_statement(new_household):
    """PostgreSQL: a new survey's rows in one statement (INSERTs in WITH clauses), one round trip:
    (survey id, household id)."""
    if new_household not in _IN_ONE_STATEMENT:
        survey_values = _typed_values(_SURVEYS, "s_")
        if new_household:
            household = insert(_HOUSEHOLDS).values(_typed_values(_HOUSEHOLDS, "h_")).returning(_HOUSEHOLDS.c.id)
            survey_values["household_id"] = select(household.cte("new_household").c.id).scalar_subquery()
        survey = insert(_SURVEYS).values(survey_values).returning(_SURVEYS.c.id, _SURVEYS.c.household_id)
        survey = survey.cte("new_survey")
        revision = insert(_REVISIONS).values(_typed_values(_REVISIONS, "r_", exclude=("survey_id",)) | {
            "survey_id": select(survey.c.id).scalar_subquery()}).cte("first_revision")
        _IN_ONE_STATEMENT[new_household] = select(survey.c.id, survey.c.household_id).add_cte(revision)
    return _IN_ONE_STATEMENT[new_household]


def _insert_rows(connection, household_row, survey_row, revision_row):
    """Insert a new survey's rows (and its household's if `household_row`): (survey id, household id)."""
    if connection.dialect.name == "postgresql":
        params = {f"s_{k}": v for k, v in survey_row.items()} | {f"r_{k}": v for k, v in revision_row.items()}
        if household_row is not None:
            params |= {f"h_{k}": v for k, v in household_row.items()}
        return tuple(connection.execute(_in_one_statement(household_row is not None), params).one())
    if household_row is not None:
        survey_row["household_id"] = connection.execute(_INSERT_HOUSEHOLD, household_row).inserted_primary_key[0]
    survey_id = connection.execute(_INSERT_SURVEY, survey_row).inserted_primary_key[0]
    connection.execute(_INSERT_REVISION, revision_row | {"survey_id": survey_id})
    return survey_id, survey_row["household_id"]


def _create(user, uuid, household, *, year, form_version, status, answers, digest, started_at, warnings,
            county_code=None):
    """Write a new survey, its first revision and, if new, its household.

    Core INSERTs (the ORM's unit of work cost more than the statements), in one statement on
    PostgreSQL; the survey and household then join the session as if loaded, for whatever the
    request does next.
    """
    now = utcnow()
    submitted = status == "submitted"
    survey = Survey(uuid=uuid, household=household, year=year, form_version=form_version, status=status,
                    answers=answers, content_hash=digest, revision=1, reviewer_comment=None,
                    created_by_id=user.id, created_at=now, started_at=started_at, updated_at=now,
                    submitted_at=now if submitted else None, submitted_by_id=user.id if submitted else None,
                    flags=[], reviewed_at=None, reviewed_by_id=None, photos=[])
    _sync_household(household, answers, user)
    refresh_flags(survey, warnings, county_code)  # before the INSERTs: none of a new survey is stored yet
    household_row = None
    if household.id is None:
        household.created_at = now
        household_row = {"village_id": household.village_id, "house_number": household.house_number,
                         "sort_key": household.sort_key, "head_name": household.head_name,
                         "phone": household.phone, "created_at": now}
    else:
        db.session.flush()  # the household's name, phone or number as this survey gives them
    survey_row = {
        "uuid": uuid, "household_id": household.id, "year": year, "form_version": form_version, "status": status,
        "answers": answers, "content_hash": digest, "revision": 1, "reviewer_comment": None,
        "created_by_id": user.id, "created_at": now, "started_at": started_at, "updated_at": now,
        "submitted_at": survey.submitted_at, "submitted_by_id": survey.submitted_by_id, "flags": survey.flags,
        "reviewed_at": None, "reviewed_by_id": None}
    # The first revision: every answer set, from nothing.
    revision_row = {"number": 1, "user_id": user.id, "at": now, "status": status, "comment": None,
                    "changes": {key: [None, answers[key]] for key in sorted(answers)}}
    survey.id, household_id = _insert_rows(db.session.connection(), household_row, survey_row, revision_row)
    if household_row is not None:
        household.id = household_id
        make_transient_to_detached(household)
        db.session.add(household)
    survey.household_id = household_id
    make_transient_to_detached(survey)
    db.session.add(survey)
    return SaveResult(survey, created=True, changed=True, warnings=warnings)


def save_survey_once_more_on_race(user, uuid, **kwargs):
    """Save; if a concurrent request created the same survey first, apply the rules to that one."""
    try:
        return save_survey(user, uuid, **kwargs)
    except (IntegrityError, _CreatedMeanwhile):
        # Nothing else of this request is pending, so a full rollback loses nothing.
        db.session.rollback()
        return save_survey(user, uuid, **kwargs)


def household_surveys(household, year):
    """(the household's survey of `year`, its latest earlier survey); None where there is none."""
    if household is None:
        return None, None
    surveys = db.session.scalars(select(Survey).where(Survey.household_id == household.id, Survey.year <= year)
                                 .order_by(Survey.year.desc())).all()
    this_year = next((s for s in surveys if s.year == year), None)
    earlier = next((s for s in surveys if s.year < year), None)
    return this_year, earlier


def starting_answers(household, previous=None, today=None):
    """What a new survey starts from: an earlier survey's answers (not its date) when offered,
    the household's name and phone as last recorded, and today's date."""
    start = dict(previous.answers) if previous is not None else {}
    start.pop("survey_date", None)
    if household is not None:
        start.update(house_number=household.house_number, head_name=household.head_name, phone=household.phone)
    start["survey_date"] = (today or dt.date.today()).isoformat()
    return start


def _status_word(status):
    from village_survey.surveys.labels import STATUS_LABELS

    return str(STATUS_LABELS[status])


def review_survey(user, survey, action, comment):
    """Approve or return a submitted survey (reviewers of its county, admins).

    Four eyes: nobody approves a survey they submitted themselves (an admin may survey too);
    the refusal is explained and kept in the audit log.
    """
    if not access.may_review(user):
        raise Forbidden()
    if survey.status != "submitted":
        raise SurveyError(409, _("Only a submitted survey can be reviewed."))
    comment = (comment or "").strip()
    if action == "return" and not comment:
        raise SurveyError(422, _("Say what needs fixing."), {"comment": [_("Say what needs fixing.")]})
    if action not in ("approve", "return"):
        raise SurveyError(422, _("Invalid data."), {"action": [_("Approve or return.")]})
    if action == "approve" and access.submitted_it(user, survey):
        raise Forbidden(_("You submitted this survey yourself: another reviewer must approve it "
                          "(four-eyes rule). You may return it with a comment."),
                        code="own_submission",
                        audit=("survey_approval_refused", f"survey:{survey.uuid}", {"reason": "own_submission"}))
    survey.status = "approved" if action == "approve" else "returned"
    survey.reviewer_comment = comment or None
    survey.reviewed_at = survey.updated_at = utcnow()
    survey.reviewed_by_id = user.id
    add_revision(survey, user, survey.answers, comment=comment or None)
    audit.record(f"survey_{survey.status}", user, target=f"survey:{survey.uuid}")
    if survey.status == "approved":
        precomputed.survey_changed(survey)
    db.session.flush()


def withdraw_survey(user, survey):
    """Take back one's own submission while no reviewer has decided: it becomes a draft again.

    Its fingerprint becomes the draft's, so that submitting the same answers again submits it.
    """
    if not access.may_survey(user):
        raise Forbidden()
    if survey.status != "submitted":
        raise SurveyError(409, _("Only a submitted survey that no reviewer has decided on can be withdrawn."))
    if not access.submitted_it(user, survey):
        raise Forbidden(_("Only the surveyor who submitted this survey can withdraw it."))
    survey.status = "draft"
    survey.submitted_at = survey.submitted_by_id = None
    survey.updated_at = utcnow()
    survey.content_hash = content_hash(survey.form_version, survey.year, "draft", survey.answers)
    add_revision(survey, user, survey.answers)
    refresh_flags(survey)
    audit.record("survey_withdrawn", user, target=f"survey:{survey.uuid}")
    db.session.flush()


def reopen_survey(user, survey, reason):
    """Reopen an approved survey (reviewers of its county, admins): it is returned to the
    surveyor with the reason as the reviewer's comment, in its history and the audit log."""
    if not access.may_review(user):
        raise Forbidden()
    if survey.status != "approved":
        raise SurveyError(409, _("Only an approved survey can be reopened."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        message = _("Say why the survey is reopened.")
        raise SurveyError(422, message, {"reason": [message]})
    if len(reason) > MAX_COMMENT:
        message = _("At most %(n)d characters.", n=MAX_COMMENT)
        raise SurveyError(422, message, {"reason": [message]})
    survey.status = "returned"
    survey.reviewer_comment = reason
    survey.reviewed_at = survey.updated_at = utcnow()
    survey.reviewed_by_id = user.id
    add_revision(survey, user, survey.answers, comment=reason)
    audit.record("survey_reopened", user, target=f"survey:{survey.uuid}")
    precomputed.survey_changed(survey)
    db.session.flush()


def survey_state(survey):
    """The server's state of a survey as the API shows it."""
    return {
        "uuid": survey.uuid,
        "status": survey.status,
        "revision": survey.revision,
        "reviewer_comment": survey.reviewer_comment,
        "year": survey.year,
        "form_version": survey.form_version,
        "village_id": survey.household.village_id,
        "household_id": survey.household_id,
        "answers": survey.answers,
        "updated_at": survey.updated_at.isoformat() + "Z",
        "photos": [{"photo_uuid": p.uuid, "kind": p.kind} for p in survey.photos],
    }
