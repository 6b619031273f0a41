"""The survey form: one WTForms class generated from the data dictionary.

It is the single source of validation: the pages post it as a form, the JSON API converts the
`answers` object to the same form data (after checking JSON types) and validates it the same way.
"""

import datetime as dt
import math
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, DecimalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional, Regexp, StopValidation, ValidationError

from village_survey import survey_fields as sf
from village_survey.surveys.labels import CHECK_MESSAGES, CODE_LABELS, FIELD_LABELS, UNIT_LABELS

SELECT_THRESHOLD = 6  # code fields with more choices are a drop-down, fewer are radio buttons

# The checks' messages, each written once: the server fills them in, and `phone_messages()` gives
# the field app (checks.js) the same translated texts with {placeholders} in their place.
NOT_FINITE = _l("Enter a number.")
FUTURE_DATE = _l("The date cannot be in the future.")
UNSTORABLE_TEXT = _l("Contains invisible control characters or broken text that cannot be stored. "
                     "Please type it again.")
ONLY_LISTED_CHARACTERS = _l("Use only digits, + and -.")
YES_OR_NO = _l("Choose yes or no.")
NOT_A_CHOICE = _l("Not one of the listed choices.")
UNUSUAL_DATE = _l("Unusual: the date is not in the survey year. Please check.")
REQUIRED_TO_SUBMIT = _l("Required to submit.")


def at_least(low):
    return _("Must be at least %(min)s.", min=low)


def between(low, high):
    return _("Must be between %(min)s and %(max)s.", min=low, max=high)


def usually_at_most(high):
    return _("Unusual: usually at most %(max)s. Please check.", max=high)


def usually_between(low, high):
    return _("Unusual: usually between %(min)s and %(max)s. Please check.", min=low, max=high)


class AllowedRange:
    """The allowed range of a key, with "this year" and "today" taken on the day of checking."""

    def __init__(self, key):
        self.key = key

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if isinstance(value, Decimal) and not value.is_finite():
            raise StopValidation(str(NOT_FINITE))
        low, high = sf.allowed_range(self.key, form.today)
        if isinstance(value, dt.date):
            if high is not None and value > high:
                raise ValidationError(str(FUTURE_DATE))
            return
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                raise ValidationError(at_least(_fmt(low)))
            raise ValidationError(between(_fmt(low), _fmt(high)))


class PlainText:
    """Text that can be stored and shown: valid Unicode (no lone surrogates, which a JSON body can
    carry as "\\ud800") and no control characters (PostgreSQL refuses NUL in text; the others are
    invisible and break exports), except tab and line breaks where the field has several lines."""

    SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
    MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

    def __init__(self, multiline=False):
        self.pattern = self.MULTI_LINE if multiline else self.SINGLE_LINE

    def __call__(self, form, field):
        if isinstance(field.data, str) and self.pattern.search(field.data):
            raise StopValidation(str(UNSTORABLE_TEXT))


def _fmt(value):
    return format_decimal(value) if isinstance(value, (int, float, Decimal)) else str(value)


def _field_for(spec):
    label = FIELD_LABELS[spec.key]
    unit = UNIT_LABELS.get(spec.unit, "")
    common = {"label": label, "description": unit}
    validators = [Optional()]
    if spec.type == "text":
        validators += [PlainText(spec.multiline), Length(max=spec.max_length)]
        if spec.characters:
            validators.append(Regexp(sf.characters_pattern(spec.key), message=ONLY_LISTED_CHARACTERS))
        klass = TextAreaField if spec.multiline else StringField
        render = {"maxlength": spec.max_length}
        if spec.key == "phone":
            render.update(type="tel", inputmode="tel", autocomplete="off")
        return klass(validators=validators, filters=[lambda v: v.strip() if isinstance(v, str) else v],
                     render_kw=render, **common)
    if spec.type in ("int", "year"):
        return IntegerField(validators=validators + [AllowedRange(spec.key)],
                            render_kw={"inputmode": "numeric", "pattern": "[0-9]*"}, **common)
    if spec.type == "decimal":
        return DecimalField(places=None, validators=validators + [AllowedRange(spec.key)],
                            render_kw={"inputmode": "decimal"}, **common)
    if spec.type == "date":
        return DateField(validators=validators + [AllowedRange(spec.key)], **common)
    if spec.type == "bool":
        return RadioField(choices=[("true", _l("Yes")), ("false", _l("No"))], validate_choice=False,
                          validators=validators + [AnyOf(("true", "false"), message=YES_OR_NO)],
                          **common)
    labels = CODE_LABELS[spec.key]
    choices = [(code, labels[code]) for code in spec.codes]
    klass = SelectField if len(choices) > SELECT_THRESHOLD else RadioField
    if klass is SelectField:
        choices = [("", _l("— choose —"))] + choices
    return klass(choices=choices, validate_choice=False,
                 validators=validators + [AnyOf(spec.codes, message=NOT_A_CHOICE)],
                 **common)


# Amounts that may be typed in another unit than their answer's (survey_fields' alt_units): the
# form's unit choice posts "<key>_unit" beside the amount; the answer is stored in its own unit.
UNIT_FIELD_SUFFIX = "_unit"
OWN_UNIT_WORDS = {"kg / 12 months": ("kg", _l("kg"))}  # the answer's own unit, as the choice names it


def unit_choices(key):
    """[(unit, label)] to type the amount `key` in, its answer's own unit first; [] when the
    answer takes its own unit only."""
    spec = sf.FIELDS[key]
    if not spec.alt_units:
        return []
    own, own_label = OWN_UNIT_WORDS[spec.unit]
    words = {"bottle": lambda size: _("bottles (%(size)s kg each)", size=_fmt(size))}
    return [(own, str(own_label))] + [(unit, words[unit](size)) for unit, size in spec.alt_units]


def _in_answer_unit(key, text, unit):
    """The amount typed as `text` in `unit`, in its answer's own unit (a Decimal), or None when
    `unit` is the answer's own (or unknown) or the text is no finite number."""
    size = sf.alt_unit_size(key, unit)
    if size is None:
        return None
    try:
        amount = Decimal(text)  # as the form's DecimalField reads it
    except (InvalidOperation, ValueError, TypeError):
        return None
    return amount * size if amount.is_finite() else None


def in_answer_unit(key, text, unit):
    """The text of an amount typed in `unit` as its answer's own unit ("3" bottles: "45" kg).
    The text as typed when `unit` is the answer's own, or when the text is no finite number:
    the form's checks then say why, as they would for an amount typed in kg."""
    amount = _in_answer_unit(key, text, unit)
    return text if amount is None else str(amount)


def unit_note(key, text, unit):
    """What an amount typed in another unit is in its answer's own ("That is 3,000 kg."), or None."""
    amount = _in_answer_unit(key, text, unit)
    if amount is None:
        return None
    _own, own_label = OWN_UNIT_WORDS[sf.FIELDS[key].unit]
    return _("That is %(amount)s %(unit)s.", amount=_fmt(amount), unit=own_label)


class SurveyAnswersForm(FlaskForm):
    """Every answer key of the current form version as a field (CSRF is checked app-wide)."""

    class Meta:
        csrf = False

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or dt.date.today()


for _spec in sf.FIELDS.values():
    setattr(SurveyAnswersForm, _spec.key, _field_for(_spec))


@dataclass
class Checked:
    """The outcome of validating answers: typed answers (JSON-ready), errors and warnings by key."""

    answers: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)

    def add(self, kind, key, message):
        getattr(self, kind).setdefault(key, []).append(str(message))


def _typed(spec, value):
    """The JSON value of a validated field's data (None when unanswered)."""
    if value is None or value == "":
        return None
    if spec.type == "bool":
        return value == "true"
    if spec.type == "decimal":
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if spec.type == "date":
        return value.isoformat()
    return value


def _usual_warnings(checked, raw_values, today, year):
    for key, value in raw_values.items():
        spec = sf.FIELDS[key]
        if spec.usual_min is None and spec.usual_max is None:
            continue
        low, high = sf.usual_range(key, today, year)
        if isinstance(value, Decimal):
            value = float(value)
        if (low is not None and value < low) or (high is not None and value > high):
            if low is None:
                message = usually_at_most(_fmt(high))
            elif isinstance(value, dt.date):
                message = UNUSUAL_DATE
            else:
                message = usually_between(_fmt(low), _fmt(high))
            checked.add("warnings", key, message)


def check_form(form, status, year, today=None):
    """Validate a filled SurveyAnswersForm; `submitted` also needs the required answers."""
    today = today or form.today
    checked = Checked()
    form.validate()
    raw_values = {}
    for key, spec in sf.FIELDS.items():
        f = form[key]
        if f.errors:
            for message in f.errors:
                checked.add("errors", key, message)
            continue
        value = _typed(spec, f.data)
        if value is not None:
            checked.answers[key] = value
            if spec.type not in ("bool", "code", "text"):
                raw_values[key] = f.data
    _usual_warnings(checked, raw_values, today, year)
    if checked.errors:
        return checked
    # Contradictions are refused even in a draft; they only arise once both answers are there.
    for problem in sf.cross_check_problems(checked.answers):
        kind = "errors" if problem.severity == "error" else "warnings"
        checked.add(kind, problem.keys[0], CHECK_MESSAGES[problem.code])
    if status == "submitted":
        for key in sf.missing_required(checked.answers):
            checked.add("errors", key, REQUIRED_TO_SUBMIT)
    return checked


_checking = threading.local()


def check_formdata(formdata, status, year, today=None):
    """Validate answers given as form data.

    The form is built once per thread and refilled for each check: binding its 58 fields costs
    more than validating them, and `process()` resets every field's data and errors.
    """
    form = getattr(_checking, "form", None)
    if form is None:
        form = _checking.form = SurveyAnswersForm(formdata=formdata, today=today)
    else:
        form.today = today or dt.date.today()
        form.process(formdata)
    return check_form(form, status, year, today)


def _json_type_error(spec, value):
    """A message if a JSON value has the wrong type for its key, else None."""
    if value is None:
        return None
    if spec.type in ("text", "code", "date"):
        ok = isinstance(value, str)
    elif spec.type == "bool":
        ok = isinstance(value, bool)
    elif spec.type in ("int", "year"):
        ok = isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
    else:
        # An integer is finite however long (math.isfinite() cannot take one beyond a float's range).
        ok = isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and math.isfinite(value))
    if ok:
        return None
    expected = {"text": _("text"), "code": _("a code"), "date": _("a date (YYYY-MM-DD)"), "bool": _("true or false"),
                "int": _("a whole number"), "year": _("a year"), "decimal": _("a number")}[spec.type]
    return _("Wrong type: expected %(expected)s.", expected=expected)


def _as_formdata(spec, value):
    if spec.type == "bool":
        return "true" if value else "false"
    if spec.type in ("int", "year"):
        return str(int(value))
    return str(value)


def json_to_formdata(answers):
    """Check the JSON types of an `answers` object; return (form data, errors by key)."""
    errors = {}
    data = MultiDict()
    if not isinstance(answers, dict):
        return data, {"answers": [_("Must be an object of answers.")]}
    for key, value in answers.items():
        spec = sf.FIELDS.get(key)
        if spec is None:
            errors[key] = [_("Unknown answer key.")]
            continue
        problem = _json_type_error(spec, value)
        if problem:
            errors[key] = [problem]
        elif value is not None:
            data[key] = _as_formdata(spec, value)
    return data, errors


def answers_to_formdata(answers):
    """Stored (typed) answers as form data, to fill the form or to merge a step into them."""
    data = MultiDict()
    for key, value in answers.items():
        spec = sf.FIELDS.get(key)
        if spec is not None and value is not None:
            data[key] = _as_formdata(spec, value)
    return data


def _first_key_of_type(*types):
    return next(key for key, spec in sf.FIELDS.items() if spec.type in types)


# WTForms' own messages (translated in WTForms' catalog, not ours: kept out of our extraction).
WTFORMS_MESSAGES = {
    "not_integer": "Not a valid integer value.",
    "not_decimal": "Not a valid decimal value.",
    "not_date": "Not a valid date value.",
}
WTFORMS_TOO_LONG = ("Field cannot be longer than %(max)d character.",
                    "Field cannot be longer than %(max)d characters.")


def phone_messages(form):
    """The checks' messages in the user's language for the field app, placeholders as {min}/{max}.

    `form` is a bound SurveyAnswersForm: WTForms' own messages come through its fields, so they
    are translated as the server's are.
    """
    integer = form[_first_key_of_type("int", "year")]
    text = form[_first_key_of_type("text")]
    lengths = sorted({spec.max_length for spec in sf.FIELDS.values() if spec.max_length})
    return {
        "not_integer": integer.gettext(WTFORMS_MESSAGES["not_integer"]),
        "not_decimal": form[_first_key_of_type("decimal")].gettext(WTFORMS_MESSAGES["not_decimal"]),
        "not_date": form[_first_key_of_type("date")].gettext(WTFORMS_MESSAGES["not_date"]),
        # Length's message, as WTForms words it for a maximum only (singular or plural by the count)
        "too_long": {str(n): text.ngettext(*WTFORMS_TOO_LONG, n) % {"max": n} for n in lengths},
        "not_finite": str(NOT_FINITE),
        "future_date": str(FUTURE_DATE),
        "unstorable_text": str(UNSTORABLE_TEXT),
        "only_listed_characters": str(ONLY_LISTED_CHARACTERS),
        "yes_or_no": str(YES_OR_NO),
        "not_a_choice": str(NOT_A_CHOICE),
        "at_least": at_least("{min}"),
        "between": between("{min}", "{max}"),
        "usually_at_most": usually_at_most("{max}"),
        "usually_between": usually_between("{min}", "{max}"),
        "unusual_date": str(UNUSUAL_DATE),
        "required": str(REQUIRED_TO_SUBMIT),
        "cross": {code: str(message) for code, message in CHECK_MESSAGES.items()},
    }
