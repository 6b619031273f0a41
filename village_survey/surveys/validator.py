"""The answers of the JSON API checked in one pass: a validator compiled from the data dictionary.

`check_json(answers, status, year, today)` gives exactly what the form gives for the same
answers (`forms.json_to_formdata` then `forms.check_formdata`): the same typed answers, the
same errors per key with the same messages, in the same order, and the same warnings
(tests/surveys/test_validator.py checks this over many random answer sets). It is built once,
at import, from `survey_fields.FIELDS`: one small checking function per answer key, with its
type, range, codes, length and characters bound in, so that a survey's answers are checked
without WTForms' per-field machinery (binding, processing, filters, validator chains), which
cost more than the checks themselves.

The form stays the source of the rules' behaviour: the pages post it, and this module reuses
its messages and its warnings, cross-field checks and required answers (`forms._usual_warnings`,
`survey_fields.cross_check_problems`, `survey_fields.missing_required`).
"""

import datetime as dt
import math
import re
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from wtforms.i18n import DummyTranslations

from village_survey import survey_fields as sf
from village_survey.surveys import forms

try:  # WTForms' own messages, translated as FlaskForm translates them
    from flask_wtf.i18n import translations as _wtf_translations
except ImportError:  # pragma: no cover - babel not installed
    _wtf_translations = None

_DUMMY = DummyTranslations()
_MISSING = object()
_strptime = dt.datetime.strptime


def _wtforms():
    """The translations SurveyAnswersForm's fields use for WTForms' own messages."""
    if _wtf_translations is not None and current_app.config.get("WTF_I18N_ENABLED", True):
        return _wtf_translations
    return _DUMMY


def _range_message(low, high):
    """AllowedRange's message for a number outside [low, high]."""
    if high is None:
        return forms.at_least(forms._fmt(low))
    return forms.between(forms._fmt(low), forms._fmt(high))


def _resolver(bound):
    """A function of `today` giving the bound (constant unless it is "this year" or "today")."""
    if isinstance(bound, sf.DateBound):
        return lambda today: sf._resolve(bound, today, None)
    return lambda today: bound


# Each checker takes the JSON value (of the right type, not None) and today; it returns
# (typed answer or None when unanswered, [errors] or None, the value for the usual-range warning or None).

def _text_checker(spec):
    unstorable = forms.PlainText(spec.multiline).pattern.search
    max_length = spec.max_length
    listed = re.compile(sf.characters_pattern(spec.key)).match if spec.characters else None

    def check(value, today):
        if not value.strip():  # Optional(): blank is no answer
            return None, None, None
        data = value.strip()  # the field's filter
        if unstorable(data):
            return None, [str(forms.UNSTORABLE_TEXT)], None
        errors = None
        if len(data) > max_length:
            errors = [_wtforms().ngettext(*forms.WTFORMS_TOO_LONG, max_length) % {"min": -1, "max": max_length,
                                                                                 "length": len(data)}]
        if listed is not None and not listed(data):
            errors = (errors or []) + [str(forms.ONLY_LISTED_CHARACTERS)]
        return (None, errors, None) if errors else (data, None, None)

    return check


def _code_checker(spec):
    codes = frozenset(spec.codes)
    values = ", ".join(str(code) for code in spec.codes)

    def check(value, today):
        if value in codes:
            return value, None, None
        if not value.strip():
            # Optional() stops at a blank choice; the form keeps it as its data ("" is no answer).
            return (value if value != "" else None), None, None
        return None, [str(forms.NOT_A_CHOICE % {"values": values})], None

    return check


def _bool_checker(spec):
    def check(value, today):
        return value, None, None

    return check


def _int_checker(spec):
    low_of, high_of = _resolver(spec.min), _resolver(spec.max)
    warn = spec.usual_min is not None or spec.usual_max is not None

    def check(value, today):
        number = int(value)
        low, high = low_of(today), high_of(today)
        if (low is not None and number < low) or (high is not None and number > high):
            return None, [_range_message(low, high)], None
        return number, None, (number if warn else None)

    return check


def _decimal_checker(spec):
    low_of, high_of = _resolver(spec.min), _resolver(spec.max)
    warn = spec.usual_min is not None or spec.usual_max is not None

    def check(value, today):
        number = Decimal(str(value))  # as the form's DecimalField reads the text of the JSON number
        low, high = low_of(today), high_of(today)
        if (low is not None and number < low) or (high is not None and number > high):
            return None, [_range_message(low, high)], None
        as_float = float(number)
        typed = int(as_float) if as_float.is_integer() and abs(as_float) < 1e15 else as_float
        return typed, None, (number if warn else None)

    return check


def _date_checker(spec):
    high_of = _resolver(spec.max)
    warn = spec.usual_min is not None or spec.usual_max is not None

    def check(value, today):
        if not value.strip():
            return None, None, None
        try:
            day = _strptime(value, "%Y-%m-%d").date()
        except (ValueError, TypeError):
            return None, [_wtforms().gettext(forms.WTFORMS_MESSAGES["not_date"])], None
        high = high_of(today)
        if high is not None and day > high:
            return None, [str(forms.FUTURE_DATE)], None
        return day.isoformat(), None, (day if warn else None)

    return check


def _is_str(value):
    return isinstance(value, str)


def _is_bool(value):
    return isinstance(value, bool)


def _is_whole(value):
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer())


def _is_number(value):
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value))


_BY_TYPE = {
    "text": (_is_str, _text_checker),
    "code": (_is_str, _code_checker),
    "date": (_is_str, _date_checker),
    "bool": (_is_bool, _bool_checker),
    "int": (_is_whole, _int_checker),
    "year": (_is_whole, _int_checker),
    "decimal": (_is_number, _decimal_checker),
}

def _requirement(spec):
    """A function of the typed answers: whether `spec.key` must be answered (survey_fields.is_required)."""
    rule = spec.required
    if rule.rule == "yes":
        return None  # always
    if rule.rule == "when":
        when_key, when_values = rule.when_key, rule.when_values
        return lambda answers: answers.get(when_key) in when_values
    if rule.rule == "one_of":
        group = rule.group
        return lambda answers: not any(sf._answered(answers.get(key)) for key in group)
    return False  # never


# (key, when it is required) of the keys that can be, in the form's order.
REQUIREMENTS = tuple((spec.key, _requirement(spec)) for spec in sf.FIELDS.values() if _requirement(spec) is not False)


def missing_required(answers):
    """survey_fields.missing_required, compiled: the keys that must be answered but are not."""
    missing = []
    for key, required in REQUIREMENTS:
        value = answers.get(key)
        if (value is None or value == "") and (required is None or required(answers)):
            missing.append(key)
    return missing


# (key, spec, type check, value check) of every answer key, in the form's order.
COMPILED = tuple((spec.key, spec, _BY_TYPE[spec.type][0], _BY_TYPE[spec.type][1](spec)) for spec in sf.FIELDS.values())
_KNOWN = frozenset(sf.FIELDS)


def check_json(answers, status, year, today=None):
    """Check an `answers` object of the JSON API: (forms.Checked, errors of JSON types and keys).

    Equal to `json_to_formdata(answers)` followed by `check_formdata(formdata, status, year,
    today)` on its form data: the Checked's answers, errors and warnings, and the type errors.
    """
    today = today or dt.date.today()
    checked = forms.Checked()
    if not isinstance(answers, dict):
        not_an_object, answers = True, {}
    else:
        not_an_object = False
    typed, errors, raw_values, wrong_types = checked.answers, checked.errors, {}, None
    found = 0
    get = answers.get
    for key, spec, right_type, check in COMPILED:
        value = get(key, _MISSING)
        if value is _MISSING:
            continue
        found += 1
        if value is None:
            continue
        if not right_type(value):
            wrong_types = wrong_types or {}
            wrong_types[key] = [forms._json_type_error(spec, value)]
            continue
        data, problems, raw = check(value, today)
        if problems:
            errors[key] = problems
            continue
        if data is not None:
            typed[key] = data
            if raw is not None:
                raw_values[key] = raw
    type_errors = {}
    if not_an_object:
        type_errors["answers"] = [_("Must be an object of answers.")]
    elif found != len(answers) or wrong_types:
        for key in answers:  # in the order of the answers, as json_to_formdata reports them
            if key not in _KNOWN:
                type_errors[key] = [_("Unknown answer key.")]
            elif wrong_types and key in wrong_types:
                type_errors[key] = wrong_types[key]
    if raw_values:
        forms._usual_warnings(checked, raw_values, today, year)
    if errors:
        return checked, type_errors
    for problem in sf.cross_check_problems(typed):
        kind = "errors" if problem.severity == "error" else "warnings"
        checked.add(kind, problem.keys[0], forms.CHECK_MESSAGES[problem.code])
    if status == "submitted":
        for key in missing_required(typed):
            checked.add("errors", key, forms.REQUIRED_TO_SUBMIT)
    return checked, type_errors
