"""Import of surveys taken on paper (last year's, typically) from the columns of the survey export.

A row names its household by village code and house number and its year; its answers are read
with the export's columns (codes or labels) and checked with the form's own rules
(`check_formdata`, as a submission). `plan` only reads; `apply` writes the planned rows.

The imported surveys are approved: the people who may import (reviewers of their county and
admins) are those who approve, the paper forms were checked when they were taken, and the dry
run is the review of the typed data; the surveys are last year's record, which evaluations
compare with, not work waiting in a surveyor's queue. Their history says they were imported,
by whom, from which file. A survey already in the field workflow (draft, submitted, returned)
is never overwritten by a file; an approved one is changed when the file says otherwise, as one
revision.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from village_survey import audit
from village_survey import survey_fields as sf
from village_survey.access import villages_query
from village_survey.areas.models import Household, Village, utcnow
from village_survey.areas.natural import natural_key
from village_survey.exchange import columns as exchange_columns
from village_survey.exchange.import_report import Outcome, Report
from village_survey.exchange.import_table import chunks, read_table, translated_label, translators
from village_survey.evaluations import precomputed
from village_survey.extensions import db
from village_survey.review.flagging import refresh_flags
from village_survey.surveys.forms import answers_to_formdata, check_formdata
from village_survey.surveys.labels import STATUS_LABELS
from village_survey.surveys.models import Survey
# The revision machinery of the survey services (one revision per change, as every save makes).
from village_survey.surveys.services import add_revision, content_hash, normalize_uuid

IMPORTED_STATUS = "approved"
COLUMNS = [exchange_columns.column(key) for key in exchange_columns.IMPORT_KEYS]
IGNORED = [c for c in exchange_columns.SURVEY_COLUMNS if c.key not in exchange_columns.IMPORT_KEYS]
ANSWER_KEYS = tuple(sf.FIELD_KEYS)
# Without these a row cannot be placed; the answers every survey must have are required too
# (an answer required only in some cases, such as the PV's, may come without its column).
REQUIRED = ("year", "village_code") + tuple(k for k in sf.FIELD_KEYS if sf.FIELDS[k].required.rule == "yes")
MIN_YEAR = 2000


@dataclass
class PlannedSurvey:
    """What one valid row will write."""

    row: int
    village: Village
    house_number: str
    year: int
    answers: dict
    warnings: dict
    household: Household | None  # None: a new household
    survey: Survey | None  # None: a new survey
    uuid: str | None
    survey_changes: tuple = ()
    household_changes: tuple = ()
    sync_household: bool = True


@dataclass
class SurveyPlan:
    report: Report
    planned: dict = field(default_factory=dict)  # row number → PlannedSurvey


def _villages_in_scope(user, codes):
    found = {}
    for chunk in chunks(codes):
        for village in db.session.scalars(villages_query(user).where(Village.code.in_(chunk))):
            found[village.code] = village
    return found


def _households(village_ids):
    """{village_id: {house_number: Household}} and {village_id: {natural key: [Household]}}."""
    exact, natural = {}, {}
    for chunk in chunks(village_ids):
        for household in db.session.scalars(select(Household).where(Household.village_id.in_(chunk))):
            exact.setdefault(household.village_id, {})[household.house_number] = household
            natural.setdefault(household.village_id, {}).setdefault(household.sort_key, []).append(household)
    return exact, natural


def _surveys(household_ids):
    """{(household_id, year): Survey}."""
    found = {}
    for chunk in chunks(household_ids):
        for survey in db.session.scalars(select(Survey).where(Survey.household_id.in_(chunk))):
            found[(survey.household_id, survey.year)] = survey
    return found


def _surveys_by_uuid(uuids):
    found = {}
    for chunk in chunks(uuids):
        for survey in db.session.scalars(select(Survey).where(Survey.uuid.in_(chunk))):
            found[survey.uuid] = survey
    return found


def _changed_keys(old, new):
    return tuple(k for k in ANSWER_KEYS if old.get(k) != new.get(k))


def plan(user, sheet, filename="", today=None, progress=None) -> SurveyPlan:
    """Read every row against the database as it is; write nothing."""
    today = today or dt.date.today()
    report = Report("surveys", filename=filename)
    result = SurveyPlan(report)
    table = read_table(sheet, COLUMNS, IGNORED, REQUIRED)
    report.file_problems.extend(table.problems)
    if table.problems:
        return result
    file_answer_keys = [k for k in ANSWER_KEYS if table.has(k)]
    langs = translators()

    # First pass: each row's cells as typed values.
    parsed = table.typed_rows(report, langs, exchange_columns.COLUMNS, progress)

    codes = {values.get("village_code") for _row, values in parsed if values.get("village_code")}
    villages = _villages_in_scope(user, {str(c) for c in codes})
    exact, natural = _households([v.id for v in villages.values()])
    existing_ids = [h.id for by_number in exact.values() for h in by_number.values()]
    surveys = _surveys(existing_ids)
    uuids = {normalize_uuid(values.get("survey_uuid")) for _row, values in parsed if values.get("survey_uuid")}
    by_uuid = _surveys_by_uuid({u for u in uuids if u})

    # Second pass: place each row and check its answers.
    for row, values in parsed:
        if row.problems:
            continue
        _plan_row(user, row, values, table, file_answer_keys, villages, exact, natural, surveys, by_uuid,
                  today, result)

    _refuse_duplicates(result, table)
    _choose_household_rows(result)
    return result


def _plan_row(user, row, values, table, file_answer_keys, villages, exact, natural, surveys, by_uuid, today,
              result):
    year = values.get("year")
    if year is None:
        row.error(table.letter("year"), _("The survey year is missing."), table.header("year"))
    elif not MIN_YEAR <= year <= today.year:
        row.error(table.letter("year"), _("The survey year must be between %(min)s and %(max)s.",
                                          min=MIN_YEAR, max=today.year), table.header("year"))
    code = values.get("village_code")
    village = villages.get(str(code)) if code else None
    if code is None:
        row.error(table.letter("village_code"), _("The village code is missing."), table.header("village_code"))
    elif village is None:
        row.error(table.letter("village_code"), _("There is no village with the code %(code)s in your area.",
                                                  code=code), table.header("village_code"))
    house_number = values.get("house_number")
    row.subject = " ".join(str(p) for p in (village.name if village else code, house_number, year) if p)
    if row.problems:
        return
    household = exact.get(village.id, {}).get(house_number) if house_number else None
    if house_number and household is None:
        twins = natural.get(village.id, {}).get(natural_key(house_number), [])
        if twins:
            row.error(table.letter("house_number"), _(
                "The village already has the household %(existing)s: the same house number written "
                "differently. Write it as in the registry.", existing=twins[0].house_number),
                table.header("house_number"))
            return
    survey = surveys.get((household.id, year)) if household is not None else None
    uuid = None
    if table.has("survey_uuid") and values.get("survey_uuid"):
        uuid = normalize_uuid(values["survey_uuid"])
        owner = by_uuid.get(uuid) if uuid else None
        if uuid is None:
            row.error(table.letter("survey_uuid"), _("Not a survey ID."), table.header("survey_uuid"))
            return
        if owner is not None and owner is not survey:
            row.error(table.letter("survey_uuid"), _(
                "This survey ID belongs to another survey (another household or year)."),
                table.header("survey_uuid"))
            return
    if survey is not None and survey.status != IMPORTED_STATUS:
        row.error(table.letter("house_number"), _(
            "This household already has a survey for %(year)s that is %(status)s in the field: an import does "
            "not replace it. Finish it through the review desk, or leave the row out.",
            year=year, status=str(STATUS_LABELS[survey.status]).lower()), table.header("house_number"))
        return
    # Columns the file does not have keep the survey's answers; an empty cell clears its answer.
    answers = {k: values.get(k) for k in file_answer_keys if values.get(k) is not None}
    if survey is not None:
        answers.update({k: v for k, v in survey.answers.items() if k not in file_answer_keys})
    checked = check_formdata(answers_to_formdata(answers), "submitted", year, today)
    for key, messages in checked.errors.items():
        for message in messages:
            if table.has(key):
                row.error(table.letter(key), message, table.header(key))
            else:
                row.error(None, f"{translated_label(exchange_columns.column(key))}: {message}")
    if row.problems:
        return
    new_answers = checked.answers
    planned = PlannedSurvey(row.row, village, new_answers["house_number"], year, new_answers, checked.warnings,
                            household, survey, uuid)
    if household is None:
        row.outcomes.append(Outcome("new_household", new_answers["house_number"]))
    else:
        changes = tuple(k for k in ("head_name", "phone") if getattr(household, k) != new_answers.get(k))
        planned.household_changes = changes
    if survey is None:
        row.outcomes.append(Outcome("new_survey", f"{new_answers['house_number']} {year}"))
    else:
        planned.survey_changes = _changed_keys(survey.answers, new_answers)
        if planned.survey_changes:
            row.outcomes.append(Outcome("survey_changed", f"{new_answers['house_number']} {year}",
                                        planned.survey_changes))
    result.planned[row.row] = planned


def _refuse_duplicates(result, table):
    """A household twice in the file for one year, or written two ways: every such row refused."""
    by_key, spellings = {}, {}
    for planned in result.planned.values():
        key = (planned.village.id, natural_key(planned.house_number))
        by_key.setdefault(key + (planned.year,), []).append(planned)
        spellings.setdefault(key, {}).setdefault(planned.house_number, []).append(planned)
    rows = {row.row: row for row in result.report.rows}
    letter, header = table.letter("house_number"), table.header("house_number")
    refused = set()
    for group in by_key.values():
        if len(group) > 1:
            numbers = ", ".join(str(p.row) for p in group)
            for planned in group:
                rows[planned.row].error(letter, _("The household %(number)s appears more than once for %(year)s "
                                                  "(rows %(rows)s).", number=planned.house_number,
                                                  year=planned.year, rows=numbers), header)
                refused.add(planned.row)
    for forms in spellings.values():
        if len(forms) > 1:
            written = ", ".join(sorted(forms))
            for group in forms.values():
                for planned in group:
                    if planned.row not in refused:
                        rows[planned.row].error(letter, _(
                            "The house number is written in different ways in this file (%(forms)s): write it "
                            "one way.", forms=written), header)
                        refused.add(planned.row)
    for number in refused:
        rows[number].outcomes.clear()
        result.planned.pop(number, None)


def _choose_household_rows(result):
    """A household's name and phone follow its latest survey: among the file's rows for one
    household, only the latest year's sets them, and none does when the database holds a later
    survey than the file's (so that the same file twice changes nothing)."""
    latest = {}
    for planned in result.planned.values():
        key = (planned.village.id, planned.house_number)
        if key not in latest or planned.year > latest[key].year:
            latest[key] = planned
    later_in_db = {}
    known = [p.household.id for p in latest.values() if p.household is not None]
    for chunk in chunks(known):
        for household_id, year in db.session.execute(
                select(Survey.household_id, Survey.year).where(Survey.household_id.in_(chunk))):
            later_in_db[household_id] = max(year, later_in_db.get(household_id, year))
    rows = {row.row: row for row in result.report.rows}
    for planned in result.planned.values():
        key = (planned.village.id, planned.house_number)
        planned.sync_household = latest[key] is planned and (
            planned.household is None or later_in_db.get(planned.household.id, 0) <= planned.year)
        if not planned.sync_household:
            planned.household_changes = ()
        elif planned.household_changes:
            rows[planned.row].outcomes.insert(0, Outcome("household_changed", planned.house_number,
                                                         planned.household_changes))
    for row in result.report.rows:
        if row.ok and not row.outcomes:
            row.outcomes.append(Outcome("unchanged", row.subject))


def apply(user, survey_plan: SurveyPlan, valid_only=False):
    """Write the planned rows (all of them: the caller refused a file with errors unless
    `valid_only`). One revision per survey created or changed; the audit log names each."""
    report = survey_plan.report
    comment = _("Imported from the file %(file)s.", file=report.filename) if report.filename else _("Imported.")
    new_households = {}
    touched = []
    now = utcnow()
    for planned in survey_plan.planned.values():
        if not planned.survey_changes and planned.survey is not None and not planned.household_changes:
            continue
        household = planned.household
        if household is None:
            key = (planned.village.id, planned.house_number)
            household = new_households.get(key)
            if household is None:
                household = Household(village=planned.village, house_number=planned.house_number,
                                      head_name=planned.answers["head_name"], phone=planned.answers.get("phone"))
                db.session.add(household)
                new_households[key] = household
        if planned.sync_household:
            household.head_name = planned.answers["head_name"]
            household.phone = planned.answers.get("phone")
        survey = planned.survey
        digest = content_hash(sf.FORM_VERSION, planned.year, IMPORTED_STATUS, planned.answers)
        if survey is None:
            survey = Survey(uuid=planned.uuid or str(uuid_module.uuid4()), household=household, year=planned.year,
                            form_version=sf.FORM_VERSION, status=IMPORTED_STATUS, answers=planned.answers,
                            content_hash=digest, created_by_id=user.id, revision=0, submitted_at=now,
                            submitted_by_id=user.id, reviewed_at=now, reviewed_by_id=user.id, photos=[])
            db.session.add(survey)
            add_revision(survey, user, {}, comment=comment)
            action = "survey_imported"
        elif planned.survey_changes:
            old = survey.answers
            survey.answers, survey.content_hash = planned.answers, digest
            survey.updated_at = survey.reviewed_at = now
            survey.reviewed_by_id = user.id
            add_revision(survey, user, old, comment=comment)
            action = "survey_import_changed"
        else:
            continue
        refresh_flags(survey, planned.warnings)
        touched.append((survey, action))
    db.session.flush()
    for survey, action in touched:
        audit.record(action, user, target=f"survey:{survey.uuid}")
    precomputed.surveys_changed([survey for survey, _action in touched])
    report.applied = True
    report.valid_only = valid_only
