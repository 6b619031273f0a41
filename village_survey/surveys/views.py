"""Survey pages: lists, the step-by-step form, the summary and submit, history, review and photos."""

import datetime as dt
import os
import uuid as uuid_module

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from village_survey import survey_fields as sf
from village_survey.access import get_in_scope_or_404, may_edit_survey, may_survey, permission_required
from village_survey.areas.models import Household, Village, utcnow
from village_survey.core.errors import NotFound
from village_survey.core.paging import paginate, search
from village_survey.extensions import db
from village_survey.review.labels import flag_text
from village_survey.review.services import QueueFilter
from village_survey.surveys import photos
from village_survey.surveys.forms import (
    UNIT_FIELD_SUFFIX,
    SurveyAnswersForm,
    answers_to_formdata,
    check_formdata,
    in_answer_unit,
    unit_choices,
    unit_note,
)
from village_survey.surveys.labels import (
    CODE_LABELS,
    FIELD_LABELS,
    PHOTO_KIND_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    UNIT_LABELS,
)
from village_survey.surveys.models import PHOTO_KINDS, STATUSES, Photo, Survey
from village_survey.surveys.services import (
    SurveyError,
    household_surveys,
    normalize_uuid,
    reopen_survey,
    review_survey,
    save_survey_once_more_on_race,
    starting_answers,
    survey_or_not_found,
    withdraw_survey,
)

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
STEPS = sf.STEPS
SUMMARY = "summary"
PHOTOS_STEP = "notes"  # "照片与备注": its form also takes a photo of each kind
# Parts of the form shown only when another answer makes them relevant (see survey-form.js).
CONDITIONS = {key: (spec.required.when_key, spec.required.when_values)
              for key, spec in sf.FIELDS.items() if spec.required.rule == "when"}
CONDITIONS.update({"pv_generation_kwh": ("pv_installed", (True,)), "battery_kwh": ("pv_installed", (True,))})


def display_value(key, value):
    """An answer as a person reads it: code labels, yes/no, numbers by the locale."""
    if value is None or value == "":
        return "—"
    spec = sf.FIELDS[key]
    if spec.type == "bool":
        return _("Yes") if value else _("No")
    if spec.type == "code":
        return str(CODE_LABELS[key].get(value, value))
    if spec.type in ("int", "decimal") and not isinstance(value, str):
        unit = f" {UNIT_LABELS[spec.unit]}" if spec.unit else ""
        return f"{format_decimal(value)}{unit}"
    return str(value)


@bp.app_template_global()
def requirement_of(key):
    """When `key` must be answered before submitting: its survey_fields.Requirement (rule, group)."""
    return sf.FIELDS[key].required


bp.add_app_template_global(unit_choices)


@bp.app_template_global()
def condition_of(key):
    condition = CONDITIONS.get(key)
    if condition is None:
        return None
    when_key, values = condition
    return f"{when_key}:" + ",".join("true" if v is True else str(v) for v in values)


@bp.app_context_processor
def survey_labels():
    return {"STATUS_LABELS": STATUS_LABELS, "STEP_LABELS": STEP_LABELS, "FIELD_LABELS": FIELD_LABELS,
            "PHOTO_KIND_LABELS": PHOTO_KIND_LABELS,
            "display_value": display_value}


@bp.route("/")
def index():
    village = get_in_scope_or_404(Village, request.args.get("village", type=int))
    status = request.args.get("status", "")
    q = request.args.get("q", "")
    stmt = (select(Survey).join(Survey.household).where(Household.village_id == village.id)
            .order_by(Survey.year.desc(), Household.sort_key, Household.house_number))
    if status in STATUSES:
        stmt = stmt.where(Survey.status == status)
    stmt = search(stmt, q, Household.house_number, Household.head_name)
    return render_template("surveys/list.html", village=village, page=paginate(stmt, request.args.get("page")),
                           q=q, status=status, statuses=STATUSES)


@bp.route("/households/<int:household_id>")
def household(household_id):
    household = get_in_scope_or_404(Household, household_id)
    surveys = db.session.scalars(select(Survey).where(Survey.household_id == household.id)
                                 .order_by(Survey.year.desc())).all()
    return render_template("surveys/household.html", household=household, surveys=surveys,
                           this_year=dt.date.today().year)


def _posted_units(step):
    """{key: unit} of this step's amounts posted in a unit of the form's choice (LPG in bottles)."""
    return {key: request.form.get(key + UNIT_FIELD_SUFFIX) for key in sf.keys_in_step(step)
            if unit_choices(key) and request.form.get(key + UNIT_FIELD_SUFFIX)}


def _merged_formdata(base_answers, step, as_typed=False):
    """The stored answers with this step's fields replaced by what was posted: amounts typed in
    another unit converted to their answer's own, unless `as_typed` (to show the form again)."""
    formdata = answers_to_formdata(base_answers)
    units = {} if as_typed else _posted_units(step)
    for key in sf.keys_in_step(step):
        formdata.poplist(key)
        values = [v for v in request.form.getlist(key) if v != ""]
        if key in units:
            values = [in_answer_unit(key, v, units[key]) for v in values]
        if values:
            formdata.setlist(key, values)
    return formdata


def _unit_notes(step):
    """{key: "That is 3,000 kg."} for the amounts posted in another unit, to show beside them."""
    notes = {key: unit_note(key, request.form.get(key, ""), unit) for key, unit in _posted_units(step).items()}
    return {key: note for key, note in notes.items() if note}


def _save_step(survey_uuid, step, base_answers, year, village_id=None, household_id=None, started_at=None):
    return save_survey_once_more_on_race(
        current_user, survey_uuid, form_version=sf.FORM_VERSION, year=year, status="draft",
        formdata=_merged_formdata(base_answers, step), village_id=village_id, household_id=household_id,
        started_at=started_at)


def _chosen_photos():
    """(kind, photo uuid, content) of each photo chosen on the photos step; a file input left
    empty sends an empty part without a name, which is no photo."""
    chosen = []
    for kind in PHOTO_KINDS:
        upload = request.files.get(f"photo_{kind}")
        if upload is None:
            continue
        data = upload.read()
        if data or upload.filename:
            photo_uuid = normalize_uuid(request.form.get(f"photo_uuid_{kind}")) or str(uuid_module.uuid4())
            chosen.append((kind, photo_uuid, data))
    return chosen


def _save_step_photos(survey, chosen):
    """Add the chosen photos to the request; {kind: [message]} of those refused, and the first
    refusal's status (None when all were taken)."""
    refused, status = {}, None
    for kind, photo_uuid, data in chosen:
        try:
            photos.save_photo(current_user, survey, photo_uuid, kind, data)
        except photos.PhotoError as error:
            refused[kind] = [str(error.message)]
            status = status or error.status
    return refused, status


def _next_step(step):
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else SUMMARY


def _render_step(step, form, survey=None, village=None, household=None, errors=None, warnings=None,
                 year=None, new_uuid=None, previous=None, status=200, units=None, unit_notes=None,
                 photo_errors=None, returning=False, stored_photos=None):
    """The page of one step. `units` and `unit_notes`: the units amounts were typed in, and what
    they are in their answer's unit; `returning`: the step was opened from the summary and
    saving it goes back there; `stored_photos`: the survey's photos, when the request has added
    some it will not keep."""
    action = None
    if survey is not None:
        action = url_for(".edit", raw_uuid=survey.uuid, step=step, **({"return": SUMMARY} if returning else {}))
    photo_uuids = {kind: str(uuid_module.uuid4()) for kind in PHOTO_KINDS}
    return render_template("surveys/step.html", step=step, steps=STEPS, form=form, survey=survey,
                           village=village, household=household, keys=sf.keys_in_step(step),
                           errors=errors or {}, warnings=warnings or {}, year=year, new_uuid=new_uuid,
                           previous=previous, units=units or {}, unit_notes=unit_notes or {},
                           photos_step=PHOTOS_STEP, photo_kinds=PHOTO_KINDS, photo_uuids=photo_uuids,
                           photo_errors=photo_errors or {}, action=action, returning=returning,
                           stored_photos=stored_photos if stored_photos is not None else
                           (survey.photos if survey is not None else [])), status


@bp.route("/new", methods=["GET", "POST"])
@permission_required(may_survey)
def new():
    """Step one of a new survey: the household; saving it creates the draft on the server."""
    village = get_in_scope_or_404(Village, request.args.get("village", type=int))
    household = None
    if request.args.get("household"):
        household = get_in_scope_or_404(Household, request.args.get("household", type=int))
        if household.village_id != village.id:
            raise NotFound()
    this_year = dt.date.today().year
    year = request.values.get("year", this_year, type=int)
    if year not in (this_year, this_year - 1):
        year = this_year
    existing, previous = household_surveys(household, year)
    if existing is not None:
        flash(_("This household already has a survey for %(year)s.", year=year), "info")
        return redirect(url_for(".show", raw_uuid=existing.uuid))
    start = starting_answers(household, previous if request.values.get("from_previous") == "1" else None)
    if request.method == "POST":
        survey_uuid = normalize_uuid(request.form.get("survey_uuid")) or str(uuid_module.uuid4())
        try:
            # The website's survey starts with its first step (the phone says when it started).
            result = _save_step(survey_uuid, "household", start, year, village_id=village.id,
                                household_id=household.id if household else None, started_at=utcnow())
        except SurveyError as error:
            if error.status not in (409, 422):
                raise
            flash(error.message, "error")
            form = SurveyAnswersForm(formdata=request.form)
            return _render_step("household", form, village=village, household=household, errors=error.errors,
                                year=year, new_uuid=survey_uuid, previous=previous, status=error.status,
                                units=_posted_units("household"), unit_notes=_unit_notes("household"))
        return redirect(url_for(".edit", raw_uuid=result.survey.uuid, step=_next_step("household")))
    form = SurveyAnswersForm(formdata=answers_to_formdata(start))
    return _render_step("household", form, village=village, household=household, year=year,
                        new_uuid=str(uuid_module.uuid4()), previous=previous)


@bp.route("/<raw_uuid>/edit", methods=["GET", "POST"])
@permission_required(may_survey)
def edit(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    if not may_edit_survey(current_user, survey):
        flash(_("This survey is %(status)s and cannot be changed now.", status=STATUS_LABELS[survey.status]),
              "info")
        return redirect(url_for(".show", raw_uuid=survey.uuid))
    step = request.args.get("step", STEPS[0])
    if step == SUMMARY:
        return _summary(survey)
    if step not in STEPS:
        raise NotFound()
    returning = request.args.get("return") == SUMMARY
    if request.method == "POST":
        return _save_edited_step(survey, step, returning)
    checked = check_formdata(answers_to_formdata(survey.answers), "draft", survey.year)
    return _render_step(step, SurveyAnswersForm(formdata=answers_to_formdata(survey.answers)), survey=survey,
                        warnings=checked.warnings, returning=returning)


def _save_edited_step(survey, step, returning):
    """Save a step's answers, and on the photos step its chosen photos, all or nothing: when
    anything is refused the step is shown again as typed with every reason, and the error status
    has the request boundary roll back what was added."""
    chosen = _chosen_photos() if step == PHOTOS_STEP else []
    stored_photos = list(survey.photos) if chosen else None
    refusal = result = None
    try:
        result = _save_step(survey.uuid, step, survey.answers, survey.year)
    except SurveyError as error:
        if error.status not in (409, 422):
            raise
        refusal = error
    photo_errors, photo_status = {}, None
    # The photos are checked too, so that one page names every problem; unless the refused save
    # left changes in the session (checking a photo would write them).
    if chosen and (refusal is None or not (db.session.new or db.session.dirty or db.session.deleted)):
        photo_errors, photo_status = _save_step_photos(survey, chosen)
    if refusal is None and not photo_errors:
        target = request.form.get("go") or (SUMMARY if returning else None)
        if target not in STEPS and target != SUMMARY:
            target = _next_step(step)
        if chosen:
            flash(_("Photo saved."), "success")
        if result.warnings:
            flash(_("Saved. Some answers are unusual: please check them on the summary."), "warning")
        return redirect(url_for(".edit", raw_uuid=survey.uuid, step=target))
    flash(refusal.message if refusal is not None else
          _("Nothing was saved: a photo was refused. Choose another file or none, then save again."), "error")
    for kind, _photo_uuid, _data in chosen:  # taken, but rolled back with the rest
        photo_errors.setdefault(kind, [_("Not saved because of the problems on this page: choose this photo "
                                         "again.")])
    form = SurveyAnswersForm(formdata=_merged_formdata(survey.answers, step, as_typed=True))
    return _render_step(step, form, survey=survey, errors=refusal.errors if refusal is not None else None,
                        status=refusal.status if refusal is not None else photo_status,
                        units=_posted_units(step), unit_notes=_unit_notes(step), photo_errors=photo_errors,
                        returning=returning, stored_photos=stored_photos)


def _summary(survey):
    checked = check_formdata(answers_to_formdata(survey.answers), "submitted", survey.year)
    if request.method == "POST":
        if checked.errors:
            flash(_("Some answers need attention before submitting."), "error")
        elif checked.warnings and request.form.get("confirm_warnings") != "y":
            flash(_("Please confirm that you checked the unusual answers."), "error")
        else:
            try:
                save_survey_once_more_on_race(current_user, survey.uuid, form_version=survey.form_version,
                                              year=survey.year, status="submitted",
                                              formdata=answers_to_formdata(survey.answers),
                                              seen_revision=survey.revision)
            except SurveyError as error:
                flash(error.message, "error")
            else:
                flash(_("Submitted for review."), "success")
                return redirect(url_for(".index", village=survey.household.village_id))
        status = 400
    else:
        status = 200
    step_of = {key: spec.step for key, spec in sf.FIELDS.items()}
    return render_template("surveys/summary.html", survey=survey, checked=checked, steps=STEPS,
                           step_of=step_of, fields=sf.FIELDS), status


def _queue_param(values):
    """The review queue's filters carried through a survey page (None when not from the queue)."""
    queue = values.get("queue")
    return QueueFilter.from_query_string(queue).query_string() if queue is not None else None


@bp.route("/<raw_uuid>")
def show(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    _this_year, earlier = household_surveys(survey.household, survey.year)
    last_year = earlier.answers if earlier is not None else {}
    changed = {key for key, value in last_year.items() if key in sf.FIELDS and survey.answers.get(key) != value}
    return render_template("surveys/show.html", survey=survey, steps=STEPS, keys_in_step=sf.keys_in_step,
                           photo_kinds=PHOTO_KINDS, photo_kind_labels=PHOTO_KIND_LABELS,
                           earlier=earlier, last_year=last_year, changed=changed,
                           flags=[(flag, flag_text(flag, display_value)) for flag in survey.flags or []],
                           flagged_keys={flag.get("key") for flag in survey.flags or []},
                           queue=_queue_param(request.args))


@bp.route("/<raw_uuid>/history")
def history(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    events, previous = [], None
    for revision in survey.revisions:
        events.append((revision, _revision_event(previous, revision.status)))
        previous = revision.status
    return render_template("surveys/history.html", survey=survey, events=events)


def _revision_event(before, after):
    """What a revision did, told by the status it left and the one it made (the only way from
    submitted back to draft is a withdrawal; from approved to returned, a reopening)."""
    if after == "draft":
        if before is None:
            return _("Started")
        return _("Withdrawn by the surveyor") if before == "submitted" else _("Changed as a draft")
    if after == "returned":
        return _("Reopened and returned") if before == "approved" else _("Returned to the surveyor")
    return {"submitted": _("Submitted"), "approved": _("Approved")}.get(after, after)


@bp.route("/<raw_uuid>/review", methods=["POST"])
def review(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    review_survey(current_user, survey, request.form.get("action"), request.form.get("comment"))
    flash(_("The survey was approved.") if survey.status == "approved" else _("The survey was returned."),
          "success")
    queue = _queue_param(request.form)
    if queue is not None:  # from the review desk: on to the next survey of the same queue
        return redirect(url_for("review.next_survey", queue=queue, after=survey.uuid))
    return redirect(url_for(".show", raw_uuid=survey.uuid))


@bp.route("/<raw_uuid>/withdraw", methods=["POST"])
def withdraw(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    withdraw_survey(current_user, survey)
    flash(_("The survey was withdrawn: it is a draft again."), "success")
    return redirect(url_for(".show", raw_uuid=survey.uuid))


@bp.route("/<raw_uuid>/reopen", methods=["POST"])
def reopen(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    reopen_survey(current_user, survey, request.form.get("reason"))
    flash(_("The survey was reopened and returned to the surveyor."), "success")
    return redirect(url_for(".show", raw_uuid=survey.uuid))


@bp.route("/<raw_uuid>/photos", methods=["POST"])
def upload_photo(raw_uuid):
    survey = survey_or_not_found(raw_uuid, current_user)
    upload = request.files.get("photo")
    if upload is None:
        flash(_("Choose a photo."), "error")
        return redirect(url_for(".show", raw_uuid=survey.uuid))
    photo_uuid = normalize_uuid(request.form.get("photo_uuid")) or str(uuid_module.uuid4())
    photos.save_photo(current_user, survey, photo_uuid, request.form.get("kind", "other"), upload.read())
    flash(_("Photo saved."), "success")
    return redirect(url_for(".show", raw_uuid=survey.uuid))


@bp.route("/<raw_uuid>/photos/<raw_photo_uuid>/<size>")
def photo_file(raw_uuid, raw_photo_uuid, size):
    survey = survey_or_not_found(raw_uuid, current_user)
    photo = db.session.scalars(select(Photo).where(Photo.uuid == normalize_uuid(raw_photo_uuid),
                                                   Photo.survey_id == survey.id)).first()
    if photo is None or size not in ("thumb", "full"):
        raise NotFound()
    if size == "thumb":
        response = send_file(photos.thumbnail_path(photo.path), mimetype="image/jpeg")
    else:
        response = send_file(os.path.join(photos.photo_folder(), photo.path), mimetype=photo.content_type)
    # A photo of someone's house: never kept by a shared phone's browser or a proxy.
    response.headers["Cache-Control"] = "private, no-store"
    return response

