"""The review queue: the surveys of a reviewer's area by status and filters, its counts, the next
survey after a decision, and bulk approval (each decision through `review_survey`)."""

import datetime as dt
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _
from flask_babel import to_utc
from sqlalchemy import String, Text, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from village_survey import audit
from village_survey.access import household_in_scope, is_row_id, townships_query, villages_query
from village_survey.accounts.models import User
from village_survey.areas.models import Household, Township, Village
from village_survey.core.errors import DomainError
from village_survey.core.paging import Page
from village_survey.extensions import db
from village_survey.review.flags import FLAG_CODES
from village_survey.scoring import AnswerError, load_criteria, score_farmhouse_record
from village_survey.surveys.models import STATUSES, Survey

DEFAULT_STATUS = "submitted"
# Surveys one bulk approval decides at most (each is its own revision and audit record); the
# answer says how many of the filter's still wait.
BULK_MAX = 1000


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filters, read from query parameters; a value that makes no sense is ignored."""

    status: str = DEFAULT_STATUS
    township: int | None = None
    village: int | None = None
    surveyor: int | None = None
    flag: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args):
        """From a request's args (or any mapping with `.get`); bad values count as not given."""
        status = args.get("status")
        flag = args.get("flag")
        return cls(status=status if status in STATUSES else DEFAULT_STATUS,
                   township=_row_id(args.get("township")), village=_row_id(args.get("village")),
                   surveyor=_row_id(args.get("surveyor")), flag=flag if flag in FLAG_CODES else None,
                   date_from=_date(args.get("from")), date_to=_date(args.get("to")))

    @classmethod
    def from_query_string(cls, text):
        """From the `queue` parameter that carries the filters through the survey pages."""
        try:
            args = dict(parse_qsl(text, max_num_fields=20)) if isinstance(text, str) else {}
        except ValueError:  # more fields than filters: not a queue of ours
            args = {}
        return cls.from_args(args)

    def args(self):
        """The filters that differ from the defaults, as query parameters."""
        values = {"status": self.status if self.status != DEFAULT_STATUS else None, "township": self.township,
                  "village": self.village, "surveyor": self.surveyor, "flag": self.flag,
                  "from": self.date_from.isoformat() if self.date_from else None,
                  "to": self.date_to.isoformat() if self.date_to else None}
        return {key: value for key, value in values.items() if value is not None}

    def query_string(self):
        return urlencode(self.args())

    def but(self, **changes):
        return replace(self, **changes)


def _row_id(raw):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if is_row_id(value) else None


def _date(raw):
    try:
        value = dt.date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        return None
    return value if value is not None and 2000 <= value.year <= 2100 else None


def _when(status):
    """The time the queue sorts and filters by: the submission's, or a draft's last change."""
    return Survey.updated_at if status == "draft" else Survey.submitted_at


def _surveyor_column(status):
    return Survey.created_by_id if status == "draft" else Survey.submitted_by_id


def _has_flag(code):
    """A condition that the survey carries a flag of this code (its flags are a JSON list).

    The JSON is read only where its text names the code at all: parsing every survey's flags
    costs more than finding a word in them.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        element = func.json_array_elements(Survey.flags).table_valued("value").alias("flag")
        matches = element.c.value.op("->>", return_type=String)("code") == code
    else:
        element = func.json_each(Survey.flags).table_valued("value").alias("flag")
        matches = func.json_extract(element.c.value, "$.code") == code
    # Codes are lower-case words with underscores: LIKE's "_" wildcard matches the "_" itself.
    return and_(cast(Survey.flags, Text).like(f"%{code}%"), exists(select(1).select_from(element).where(matches)))


def _local_midnight(day):
    """The start of a local calendar day as the naive UTC time the database stores."""
    return to_utc(dt.datetime.combine(day, dt.time()))


def _filtered(stmt, user, f, skip=()):
    """`stmt` (joined to Household, Village and Township) limited to the user's area and the
    filters, except those named in `skip`."""
    stmt = stmt.where(household_in_scope(user))
    if "status" not in skip:
        stmt = stmt.where(Survey.status == f.status)
        when = _when(f.status)
        surveyor = _surveyor_column(f.status)
    else:  # counts by status: each status by its own time and author
        # Always true; it lets SQLite count through the status index instead of reading the
        # surveys in the order of their households (half the time for a county of 50,000).
        stmt = stmt.where(Survey.status.in_(STATUSES))
        when = case((Survey.status == "draft", Survey.updated_at), else_=Survey.submitted_at)
        surveyor = case((Survey.status == "draft", Survey.created_by_id), else_=Survey.submitted_by_id)
    if f.township and "township" not in skip:
        stmt = stmt.where(Village.township_id == f.township)
    if f.village and "township" not in skip:
        stmt = stmt.where(Household.village_id == f.village)
    if f.surveyor:
        stmt = stmt.where(surveyor == f.surveyor)
    if f.flag:
        stmt = stmt.where(_has_flag(f.flag))
    if f.date_from:
        stmt = stmt.where(when >= _local_midnight(f.date_from))
    if f.date_to:
        stmt = stmt.where(when < _local_midnight(f.date_to + dt.timedelta(days=1)))
    return stmt


def _joined(stmt):
    return (stmt.select_from(Survey).join(Household, Survey.household_id == Household.id)
            .join(Village, Household.village_id == Village.id)
            .join(Township, Village.township_id == Township.id))


def _ordered(stmt, status):
    return stmt.order_by(_when(status).desc(), Survey.id.desc())


def queue_rows(user, f):
    """The query of the queue's rows, newest first (for `paginate`)."""
    stmt = _joined(select(Survey.uuid, Survey.status, Survey.answers, Survey.flags, Survey.submitted_at,
                          Survey.updated_at, Survey.year, Household.house_number, Household.head_name,
                          Village.name.label("village"), Township.name.label("township"),
                          User.username.label("surveyor")))
    stmt = stmt.outerjoin(User, User.id == _surveyor_column(f.status))
    return _ordered(_filtered(stmt, user, f), f.status)


def queue_page(user, f, raw_page, per_page, total):
    """One page of the queue's rows; `total` is the queue's length (counted with the statuses)."""
    try:
        number = min(max(int(raw_page), 1), 100_000)
    except (TypeError, ValueError):
        number = 1
    items = db.session.execute(queue_rows(user, f).limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=items, page=number, per_page=per_page, total=total)


def count_by_status(user, f):
    """{status: surveys} matching the filters other than the status (every status, 0 included)."""
    stmt = _filtered(_joined(select(Survey.status, func.count())), user, f, skip=("status",))
    counts = dict(db.session.execute(stmt.group_by(Survey.status)).all())
    return {status: counts.get(status, 0) for status in STATUSES}


def count_by_township(user, f):
    """[(township id, name, surveys)] matching the filters other than the township and village."""
    stmt = _filtered(_joined(select(Township.id, Township.name, func.count())), user, f, skip=("township",))
    return db.session.execute(stmt.group_by(Township.id, Township.name, Township.code)
                              .order_by(Township.code)).all()


def count_matching(user, f):
    stmt = _filtered(_joined(select(func.count(Survey.id))), user, f)
    return db.session.scalar(stmt)


def filter_choices(user, f):
    """What the filter form offers: the area's townships, the chosen township's villages, and the
    surveyors working in the area."""
    townships = db.session.execute(townships_query(user).with_only_columns(Township.id, Township.name)
                                   .order_by(Township.code)).all()
    villages = []
    if f.township:
        villages = db.session.execute(villages_query(user).with_only_columns(Village.id, Village.name)
                                      .where(Village.township_id == f.township).order_by(Village.code)).all()
    surveyors = db.session.execute(
        select(User.id, User.username)
        .where(User.township_id.in_(townships_query(user).with_only_columns(Township.id)))
        .order_by(User.username)).all()
    return {"townships": townships, "villages": villages, "surveyors": surveyors}


def score_preview(answers):
    """(total points, stars) of a survey's answers by the default criteria, or None if they cannot
    be scored yet."""
    try:
        record = score_farmhouse_record(answers or {}, load_criteria())
    except AnswerError:
        return None
    return round(record.total, 1), record.stars


def next_in_queue(user, f, after_uuid=None):
    """The UUID of the survey after `after_uuid` in the filtered queue (the first one again after
    the last), or None when nothing else waits."""
    when = _when(f.status)
    stmt = _ordered(_filtered(_joined(select(Survey.uuid)), user, f), f.status)
    if after_uuid:
        stmt = stmt.where(Survey.uuid != after_uuid)
        position = db.session.execute(select(when, Survey.id).where(Survey.uuid == after_uuid)).first()
        if position is not None and position[0] is not None:
            later = db.session.scalar(stmt.where(or_(when < position[0], and_(when == position[0],
                                                                               Survey.id < position[1])))
                                      .limit(1))
            if later is not None:
                return later
    return db.session.scalar(stmt.limit(1))


@dataclass
class BulkOutcome:
    """What a bulk approval did: the surveys approved, those skipped with the reason, and how many
    of the filter's still wait (beyond BULK_MAX)."""

    approved: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    remaining: int = 0


def _label(survey):
    household = survey.household
    return {"uuid": survey.uuid, "village": household.village.name, "house_number": household.house_number,
            "head_name": household.head_name}


def _surveys_named(user, uuids):
    """The surveys of these UUIDs in the user's area, in the order given, and the UUIDs not found."""
    stmt = (_joined(select(Survey)).where(household_in_scope(user), Survey.uuid.in_(uuids))
            .options(contains_eager(Survey.household).contains_eager(Household.village)))
    found = {survey.uuid: survey for survey in db.session.scalars(stmt)}
    return [found[uuid] for uuid in uuids if uuid in found], [uuid for uuid in uuids if uuid not in found]


def approve_many(user, uuids=None, f=None):
    """Approve the surveys named by `uuids` (or, when None, every survey waiting that matches the
    filter `f`, at most BULK_MAX), each with its own revision and audit record.

    Those outside the user's area, no longer waiting, or that the four-eyes rule keeps from this
    user are skipped, with the reason.
    """
    from village_survey.surveys.services import normalize_uuid, review_survey

    outcome = BulkOutcome()
    if uuids is None:
        f = (f or QueueFilter()).but(status="submitted")
        stmt = _ordered(_filtered(_joined(select(Survey)), user, f), f.status)
        surveys = db.session.scalars(stmt.options(contains_eager(Survey.household)
                                                  .contains_eager(Household.village)).limit(BULK_MAX)).all()
    else:
        wanted = list(dict.fromkeys(normalize_uuid(u) or u for u in uuids))
        valid = [u for u in wanted if normalize_uuid(u)]
        surveys, missing = _surveys_named(user, valid)
        for uuid in [u for u in wanted if not normalize_uuid(u)] + missing:
            outcome.skipped.append({"uuid": uuid[:40], "reason": _("Not found, or outside your area.")})
    for survey in surveys:
        if survey.status != "submitted":
            from village_survey.surveys.labels import STATUS_LABELS

            outcome.skipped.append(_label(survey) | {"reason": _(
                "It no longer waits for review (now: %(status)s).", status=STATUS_LABELS[survey.status])})
            continue
        try:
            review_survey(user, survey, "approve", None)
        except DomainError as error:
            if error.audit is not None:  # the refusal is remembered, as for one survey
                action, target, detail = error.audit
                audit.record(action, user, target=target, **(detail or {}))
            outcome.skipped.append(_label(survey) | {"reason": str(error.message)})
        else:
            outcome.approved.append(_label(survey))
    if uuids is None:
        outcome.remaining = count_matching(user, f)
    return outcome
