"""The JSON API's compiled validator (surveys/validator.py) checks answers exactly as the form does:
for any answers, valid or not, `check_json` gives the answers, errors (same keys, same messages,
same order), warnings and type errors of `json_to_formdata` + `check_formdata`."""

import datetime as dt

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.surveys.forms import check_formdata, json_to_formdata
from village_survey.surveys.validator import check_json

TODAY = dt.date(2026, 6, 15)

# --- answers of every kind: valid, near the limits and beyond, of the wrong type ------------------

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(10**20, 10**400),
    st.floats(allow_nan=False), st.floats(-1e4, 1e6), st.text(max_size=8),
    st.sampled_from(["", " ", "\t", "\u3000", "x", "1", "A", "none", "2026-03-01", "true", "１２", "1e3"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
# Text near the edges: blank, padded, control characters, Unicode digits and spaces.
texts = st.text(alphabet=st.sampled_from(list("王1组号 +-a\t\n\r\x00\x1c\x1f\x7f\x85\u3000\ud800１٣")),
                max_size=12)


def _bound(value):
    return sf._resolve(value, TODAY, 2026) if isinstance(value, sf.DateBound) else value


def _number_near(spec):
    points = [p for p in (_bound(spec.min), _bound(spec.max), spec.usual_min, spec.usual_max) if p is not None]
    near = st.sampled_from(points).flatmap(
        lambda p: st.sampled_from([p, p - 1, p + 1, p + 1e-9, p - 1e-9]) | st.floats(p - 2, p + 2))
    return near | st.integers(-50, 300) | st.floats(-1e3, 1e5)


def _value(spec):
    """Values for one answer key: mostly of its type, often at or past its limits, sometimes junk."""
    if spec.type == "bool":
        typed = st.booleans()
    elif spec.type == "code":
        odd = ["", " ", "x", spec.codes[0] + " ", spec.codes[0].upper()]
        typed = st.sampled_from(spec.codes) | st.sampled_from(odd)
    elif spec.type == "text":
        length = spec.max_length or 40
        edges = ["1" * length, "1" * (length + 1), " " + "王" * length + " ", "+86 138-0000"]
        typed = texts | st.text(max_size=length + 3) | st.sampled_from(edges)
    elif spec.type == "date":
        days = st.dates(dt.date(2019, 1, 1), dt.date(2028, 12, 31))
        typed = (days.map(dt.date.isoformat) | days.map(lambda d: f"{d.year}-{d.month}-{d.day}")
                 | st.sampled_from(["2026-2-30", " 2026-01-01", "2026-01-01 ", "2026/01/05", "٢٠٢٦-01-05",
                                    "2026-06-16", "2026-06-15", "0000-01-01", "2025-12-31", "   "]))
    elif spec.type in ("int", "year"):
        typed = _number_near(spec).map(lambda n: int(n) if not isinstance(n, float) else float(int(n)))
    else:
        typed = _number_near(spec)
    return st.one_of(typed, typed, typed, junk)


changes = st.fixed_dictionaries({}, optional={spec.key: _value(spec) for spec in sf.FIELDS.values()})
unknown_keys = st.dictionaries(st.sampled_from(["bogus", "Residents", "", "pv", "house number"]), junk, max_size=2)


@st.composite
def answer_sets(draw):
    """A complete survey or an empty one, some answers changed, some dropped, rarely no object at all."""
    if draw(st.integers(0, 40)) == 0:
        return draw(st.one_of(st.none(), st.lists(st.integers(), max_size=2), st.text(max_size=3), st.integers()))
    base = complete_answers() if draw(st.booleans()) else {}
    answers = base | draw(changes)
    for key in draw(st.lists(st.sampled_from(sf.FIELD_KEYS), max_size=4)):
        answers.pop(key, None)
    if draw(st.integers(0, 5)) == 0:
        answers |= draw(unknown_keys)
    return answers


def _form(answers, status, year, today):
    formdata, type_errors = json_to_formdata(answers)
    return check_formdata(formdata, status, year, today), type_errors


def _same(answers, status, year, today):
    expected, expected_types = _form(answers, status, year, today)
    got, got_types = check_json(answers, status, year, today)
    # Equal, and in the same order (the stored answers' JSON, the order of messages).
    assert list(got.answers.items()) == list(expected.answers.items())
    assert [type(v) for v in got.answers.values()] == [type(v) for v in expected.answers.values()]
    assert list(got.errors.items()) == list(expected.errors.items())
    assert list(got.warnings.items()) == list(expected.warnings.items())
    assert list(got_types.items()) == list(expected_types.items())
    return got, got_types


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(answers=answer_sets(), status=st.sampled_from(["submitted", "draft", None, "approved"]),
       year=st.sampled_from([2026, 2025, 2027, None, 2000]), locale=st.sampled_from(["zh_CN", "en"]))
@example(answers={"survey_date": "2026-06-16", "structure": " ", "pv_kwp": 100.00000000000001},
         status="submitted", year=2026, locale="en")
@example(answers={"floor_area_m2": 10**400, "residents": 1e300, "phone": "１２a" * 20}, status="draft", year=None,
         locale="zh_CN")
def test_the_validator_checks_like_the_form(app, answers, status, year, locale):
    with app.test_request_context(), force_locale(locale):
        _same(answers, status, year, TODAY)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changed=changes, status=st.sampled_from(["submitted", "draft"]))
def test_valid_surveys_with_one_change_each(app, changed, status):
    """From a complete valid survey: the answers the phone sends every day, each key varied."""
    with app.test_request_context():
        got, _types = _same(complete_answers() | changed, status, 2026, TODAY)
        assume(not got.errors)


@pytest.mark.parametrize("answers", [
    complete_answers(),
    complete_answers(pv_installed=False, pv_kwp=None, pv_year=None, pv_location=None, pv_mode=None),
    complete_answers(primary_stove="coal", stove_chimney=None),
    complete_answers(electricity_kwh=None),
    complete_answers(secondary_stove="electric"),
    complete_answers(biogas_m3=3),
    complete_answers(residents=12, gps_accuracy_m=80, survey_date="2025-12-01"),
    {},
])
def test_named_cases(app, answers):
    with app.test_request_context():
        for status in ("draft", "submitted"):
            _same(answers, status, 2026, TODAY)


def test_a_complete_survey_is_accepted_with_its_typed_answers(app):
    with app.test_request_context():
        answers = complete_answers(floor_area_m2=180.0, latitude=29.7)
        checked, type_errors = check_json(answers, "submitted", 2026, TODAY)
    assert checked.errors == {} and type_errors == {}
    assert checked.answers["floor_area_m2"] == 180 and type(checked.answers["floor_area_m2"]) is int
    assert checked.answers["latitude"] == 29.7


def test_wrong_types_and_unknown_keys_are_named(app):
    with app.test_request_context(), force_locale("en"):
        answers = {"bogus": 1, "residents": "4", "pv_installed": 1, "floor_area_m2": 10**400}
        checked, type_errors = check_json(answers, "draft", 2026, TODAY)
        assert type_errors == {"bogus": ["Unknown answer key."], "residents": ["Wrong type: expected a whole number."],
                               "pv_installed": ["Wrong type: expected true or false."]}
        assert checked.errors == {"floor_area_m2": ["Must be between 10 and 2,000."]}
        assert check_json([1], "draft", 2026, TODAY)[1] == {"answers": ["Must be an object of answers."]}


@settings(max_examples=300, deadline=None)
@given(answers=answer_sets())
def test_the_compiled_required_keys_are_survey_fields_own(answers):
    from village_survey.surveys.validator import missing_required

    typed = answers if isinstance(answers, dict) else {}
    assert missing_required(typed) == sf.missing_required(typed)
