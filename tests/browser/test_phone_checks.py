"""The field app checks answers on the phone as the server does (checks.js against check_formdata),
its summary lists answers and gaps by step, and the last keystroke survives a reload. In Chromium."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.browser.helpers import (
    stored_survey,
    fill_survey,
    go_offline,
    go_online,
    login,
    open_app,
    outbox_count,
    start_survey,
    wait_for_count,
)
from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata, check_formdata
from village_survey.surveys.labels import STEP_LABELS
from village_survey.surveys.models import Survey

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 6, 15)
COMPLETE = {key: values[0] for key, values in answers_to_formdata(complete_answers()).lists()}

# The phone's checker, built from what the survey page carries (the dictionary, the messages, the
# language), run on a list of answer sets: (answers, errors, warnings) of each.
RUN_PHONE_CHECKS = """async ({ cases, today }) => {
  if (!window.phoneChecker) {
    const html = await (await fetch("/app/survey")).text();
    const page = new DOMParser().parseFromString(html, "text/html");
    const { createChecker } = await import("/static/js/app/checks.js");
    window.phoneChecker = createChecker(JSON.parse(page.getElementById("field-spec").textContent),
                                        JSON.parse(page.getElementById("check-messages").textContent),
                                        page.documentElement.lang);
  }
  return cases.map(({ formdata, status, year }) => {
    const { answers, errors, warnings } = window.phoneChecker.check(formdata, { status, year, today });
    return { answers, errors, warnings };
  });
}"""


def _server_checks(app, cases):
    with app.test_request_context("/"):
        return [{"answers": c.answers, "errors": c.errors, "warnings": c.warnings}
                for c in (check_formdata(MultiDict(case["formdata"]), case["status"], case["year"], TODAY)
                          for case in cases)]


def _phone_checks(page, cases):
    return page.evaluate(RUN_PHONE_CHECKS, {"cases": cases, "today": TODAY.isoformat()})


def _case(changes=(), status="draft", year=2026, drop=()):
    formdata = {k: v for k, v in COMPLETE.items() if k not in drop} | dict(changes)
    return {"formdata": formdata, "status": status, "year": year}


# Invalid and unusual answers, one or a few at a time on a complete survey.
CASES = [
    _case(),
    _case(status="submitted"),
    _case({"residents": "45"}),
    _case({"residents": "45"}, status="submitted"),
    _case({"residents": "-1"}),
    _case({"residents": "4.5"}),
    _case({"residents": "abc"}),
    _case({"residents": " 12 "}),
    _case({"residents": "+5"}),
    _case({"residents": "1_0"}),
    _case({"residents": "1__0"}),
    _case({"residents": "٣٠"}),
    _case({"residents": "１２"}),
    _case({"residents": "\u30005"}),
    _case({"residents": "\x1c5"}),
    _case({"residents": "0"}),
    _case({"residents": "   "}, status="submitted"),
    _case({"storeys": "7", "floor_area_m2": "2000.0000000000000000001"}),
    _case({"floor_area_m2": "9.9999999999999999999999"}),
    _case({"floor_area_m2": "1e3"}),
    _case({"floor_area_m2": "1E+4"}),
    _case({"floor_area_m2": "_1_0_0"}),
    _case({"floor_area_m2": "1 00"}),
    _case({"floor_area_m2": ".5e2"}),
    _case({"floor_area_m2": "39.99"}),
    _case({"latitude": "nan", "longitude": "-Infinity"}),
    _case({"latitude": "sNaN12", "longitude": "inf"}),
    _case({"latitude": "1e999999999999", "longitude": "-1e-999999999999"}),
    _case({"latitude": "90.0000000000000000000001"}),
    _case({"latitude": "-90", "longitude": "180"}),
    _case({"latitude": "24.3", "longitude": "118.6"}),
    _case({"gps_accuracy_m": "-0"}),
    _case({"gps_accuracy_m": "-0.000001"}),
    _case({"gps_accuracy_m": "51"}),
    _case({"gps_accuracy_m": "1e400"}),
    _case({"survey_date": "2026-06-16"}),
    _case({"survey_date": "2026-06-15"}),
    _case({"survey_date": "2025-12-31"}),
    _case({"survey_date": "2025-12-31"}, year=None),
    _case({"survey_date": "2025-12-31"}, year=2025),
    _case({"survey_date": "2026-2-30"}),
    _case({"survey_date": "2024-2-29"}),
    _case({"survey_date": "2023-02-29"}),
    _case({"survey_date": "0000-01-01"}),
    _case({"survey_date": " 2026-01-01"}),
    _case({"survey_date": "2026-01-01 "}),
    _case({"survey_date": "2026-01- 5"}),
    _case({"survey_date": "2026-001-05"}),
    _case({"survey_date": "٢٠٢٦-01-05"}),
    _case({"survey_date": "2026/01/05"}),
    _case({"year_built": "1899"}),
    _case({"year_built": "2027", "retrofit_year": "1989", "pv_year": "2004"}),
    _case({"year_built": "2026", "retrofit_year": "2026", "pv_year": "2026"}),
    _case({"head_name": "王" * 41, "house_number": "  1组1号  "}),
    _case({"head_name": "王" * 40}),
    _case({"head_name": "a\x00b", "house_number": "1\n2"}),
    _case({"head_name": "王\x1f", "house_number": "\x85号\u3000"}),
    _case({"notes": "两行\n文字\t制表"}),
    _case({"notes": "x" * 2001}),
    _case({"phone": "12a"}),
    _case({"phone": "+86 138-0000-0000"}),
    _case({"phone": "１３８"}),
    _case({"phone": "1" * 41 + "a"}),
    _case({"visible_danger": "maybe", "roof_insulation": "True"}),
    _case({"visible_danger": " ", "structure": " "}, status="submitted"),
    _case({"structure": "zzz", "ac_label_grade": "6"}),
    _case({"secondary_stove": "electric"}),
    _case({"secondary_stove": "none"}),
    _case({"evening_hours": "6.5"}),
    _case({"supply_hours": "5", "evening_hours": "5.5"}),
    _case({"lamps_led": "0", "lamps_cfl": "0", "lamps_incandescent": "0"}),
    _case({"lamps_led": "0", "lamps_cfl": "0"}, drop=("lamps_incandescent",), status="submitted"),
    _case({"pv_kwp": "0"}),
    _case({"pv_kwp": "0", "pv_installed": "false"}),
    _case({"pv_kwp": "31", "electricity_kwh": "20000"}),
    _case({"biogas_m3": "5"}),
    _case({"biogas_m3": "5", "biogas_digester": "working"}),
    _case({"biogas_m3": "5"}, drop=("biogas_digester",), status="submitted"),
    _case({"biogas_m3": "5", "residents": "45"}),
    _case({"primary_stove": "coal"}, status="submitted"),
    _case({"primary_stove": "coal", "stove_chimney": "true"}, status="submitted"),
    _case({"pv_installed": "true"}, drop=("pv_kwp", "pv_year"), status="submitted"),
    _case({"pv_installed": "false"}, drop=("pv_kwp", "pv_year", "pv_location", "pv_mode"), status="submitted"),
    _case(drop=("electricity_kwh",), status="submitted"),
    _case({"electricity_bill_yuan_month": "80"}, drop=("electricity_kwh",), status="submitted"),
    _case(drop=tuple(COMPLETE), status="submitted"),
    _case(drop=tuple(COMPLETE), status="draft"),
]


@pytest.fixture
def checks_page(live_server, phone, world):
    """A logged-in phone page of the app's origin, where the app's modules can be imported."""
    login(phone, live_server)
    return phone


def test_the_phone_finds_the_same_errors_and_warnings_as_the_server(app, checks_page):
    phone = _phone_checks(checks_page, CASES)
    server = _server_checks(app, CASES)
    for case, on_phone, on_server in zip(CASES, phone, server):
        assert on_phone == on_server, case
    # The list does reach every kind of message.
    assert sum(bool(s["warnings"]) for s in server) > 10 and sum(bool(s["errors"]) for s in server) > 40


def _field_text(key):
    """Answers as a form might carry them: plausible ones, near the limits, and odd text."""
    spec = sf.FIELDS[key]
    odd = st.text(st.sampled_from("0123456789+-_. eE\u3000\x1c\u0663١\uff11nai\n"), max_size=8)
    if spec.type in ("int", "year"):
        return st.one_of(st.integers(-100, 2100).map(str), odd)
    if spec.type == "decimal":
        return st.one_of(st.decimals(-300, 120000, allow_nan=False, places=3).map(str),
                         st.floats(-1e6, 1e6).map(repr), odd)
    if spec.type == "date":
        return st.one_of(st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat),
                         st.from_regex(r"\A[0-9]{4}-[0-9]{1,3}-[ 0-9]{1,2}\Z"), odd)
    if spec.type == "bool":
        return st.sampled_from(["true", "false", " ", "", "True", "1"])
    if spec.type == "code":
        return st.sampled_from(list(spec.codes) + ["", " ", "other-code"])
    letters = st.sampled_from("王组号1+- \t\n\x00\x1f\x7f\x85\u3000\xa0a")
    return st.one_of(st.text(letters, max_size=(spec.max_length or 40) + 2),
                     st.integers(0, 10**15).map(str))


answer_sets = st.fixed_dictionaries({
    "changes": st.dictionaries(st.sampled_from(sf.FIELD_KEYS), st.none(), max_size=6).flatmap(
        lambda keys: st.fixed_dictionaries({key: _field_text(key) for key in keys})),
    "drop": st.lists(st.sampled_from(sf.FIELD_KEYS), max_size=4),
    "status": st.sampled_from(["draft", "submitted"]),
    "year": st.sampled_from([None, 2025, 2026]),
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer_sets)
def test_generated_answers_get_the_same_errors_and_warnings_on_the_phone_and_the_server(app, checks_page, drawn):
    case = _case(drawn["changes"], drawn["status"], drawn["year"], drawn["drop"])
    [on_phone] = _phone_checks(checks_page, [case])
    [on_server] = _server_checks(app, [case])
    assert (set(on_phone["errors"]), set(on_phone["warnings"])) == (set(on_server["errors"]),
                                                                    set(on_server["warnings"]))
    assert on_phone == on_server


def test_residents_45_is_refused_at_the_field_and_the_survey_cannot_be_queued(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    page.locator('[name="residents"]').fill("45")
    field = page.locator('[data-key="residents"]')
    # At once, at the field, in the server's words.
    assert field.locator(".error").inner_text() == "须在 0 至 30 之间。"
    assert page.locator('[name="residents"]').get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    fill_survey(page, complete_answers(house_number="4组7号", head_name="超员户", residents=45), submit=False)
    summary = page.locator("[data-missing]").inner_text()
    assert "提交前还有数据需要处理" in summary and "常住人口" in summary and "须在 0 至 30 之间" in summary
    assert page.locator("[data-submit]").is_disabled()
    page.locator("[data-submit]").click(force=True)
    assert stored_survey(page)["state"] == "draft"
    # The summary's link leads to the field.
    page.locator('[data-missing] [data-edit="residents"]').click()
    assert page.locator('section[data-step="household"]').is_visible()
    assert page.locator('[name="residents"]').evaluate("e => e === document.activeElement")

    page.locator('[name="residents"]').fill("4")
    assert field.locator(".error").count() == 0
    page.locator('[data-goto="summary"]').click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    assert outbox_count(page) == 1


def test_the_summary_lists_answers_and_missing_ones_by_step_in_the_forms_order(app, live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    start_survey(page, "甲村")
    answers = complete_answers(house_number="4组8号", head_name="汇总户")
    for key in ("year_built", "lamps_led", "grid_connected"):
        answers.pop(key)
    fill_survey(page, answers, submit=False)

    with app.test_request_context("/"):
        step_titles = {step: str(STEP_LABELS[step]) for step in sf.STEPS}
    answered_steps = page.locator("[data-summary] .summary-step h2").all_inner_texts()
    assert answered_steps == [step_titles[s] for s in sf.STEPS if s != "notes"]
    rows = page.locator("[data-summary] [data-answer]")
    keys = [rows.nth(i).get_attribute("data-answer") for i in range(rows.count())]
    assert keys == [k for k in sf.FIELD_KEYS if k in answers]  # the form's order
    assert page.locator("[data-summary] [data-answer] [data-edit]").count() == len(keys)
    missing = page.locator("[data-missing] .summary-step")
    assert missing.locator("h2").all_inner_texts() == [step_titles[s] for s in ("building", "lighting", "supply")]
    assert [link.get_attribute("data-edit") for link in missing.locator("[data-edit]").all()] == [
        "year_built", "lamps_led", "grid_connected"]
    assert page.locator("[data-submit]").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator('[data-summary] [data-edit="pv_kwp"]').click()
    assert page.locator('section[data-step="pv"]').is_visible()
    assert page.locator('[name="pv_kwp"]').evaluate("e => e === document.activeElement")


def test_unusual_answers_are_confirmed_before_the_survey_is_queued(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="4组9号", head_name="高耗户", electricity_kwh=20000),
                submit=False)
    row = page.locator('[data-summary] [data-answer="electricity_kwh"]')
    assert "异常：通常在 300 至 8,000 之间，请核实。" in row.inner_text()
    page.locator("[data-submit]").click()
    assert page.locator("[data-confirm-needed]").is_visible()
    assert stored_survey(page)["state"] == "draft"
    page.get_by_label("我已核实异常数据，填写无误。").check()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    assert outbox_count(page) == 1


def test_a_survey_the_server_refuses_anyway_shows_the_error_at_the_field(live_server, phone, world):
    """A survey queued by an app version that did not check on the phone, refused after sync."""
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="4组6号", head_name="错误户"), submit=False)
    page.evaluate("""async () => {
      const open = (name) => new Promise((resolve) => { const r = indexedDB.open(name); r.onsuccess = () => resolve(r.result); });
      const meta = await open("vs-meta");
      const session = await new Promise((resolve) => {
        const g = meta.transaction("kv").objectStore("kv").get("session"); g.onsuccess = () => resolve(g.result); });
      const db = await open(`vs-user-${session.user.id}`);
      const store = db.transaction("surveys", "readwrite").objectStore("surveys");
      const item = await new Promise((resolve) => { const g = store.get(location.hash.slice(1)); g.onsuccess = () => resolve(g.result); });
      Object.assign(item.answers, { residents: 99 });
      Object.assign(item, { state: "queued", status: "submitted", queued_at: Date.now(), attempts: 0 });
      await new Promise((resolve) => { store.put(item).onsuccess = resolve; });
    }""")
    page.goto(page.url.split("#")[0].replace("/app/survey", "/app/"))
    page.wait_for_selector("body[data-ready]")
    go_online(context)
    page.wait_for_selector('[data-items] li[data-state="failed"]', timeout=15000)
    assert "有数据需要处理" in page.locator('[data-items] li[data-state="failed"] [data-reason]').inner_text()
    assert db.session.scalars(select(Survey)).all() == []
    page.locator('[data-items] li[data-state="failed"] a').click()
    page.wait_for_selector("body[data-ready]")
    error = page.locator('[data-server-error="residents"]')
    assert error.is_visible() and "30" in error.inner_text()
    assert page.locator('[name="residents"]').evaluate("e => e === document.activeElement")


def test_a_change_typed_just_before_a_reload_is_kept(live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    start_survey(page, "甲村")
    # No pause for the typing timer: the page is reloaded at once.
    page.locator('[name="head_name"]').press_sequentially("刘")
    page.evaluate("location.reload()")
    page.wait_for_selector("body[data-ready]")
    assert page.locator('[name="head_name"]').input_value() == "刘"
    assert stored_survey(page)["answers"]["head_name"] == "刘"


def test_looking_through_a_queued_survey_leaves_it_queued(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="5组1号", head_name="排队户"))
    page.locator('[data-items] li[data-state="queued"] a').click()
    page.wait_for_selector("body[data-ready]")
    page.locator('[data-goto="pv"]').click()
    page.locator('[data-goto="summary"]').click()
    page.evaluate("location.reload()")
    page.wait_for_selector("body[data-ready]")
    assert stored_survey(page)["state"] == "queued"
    go_online(context)
    page.goto(page.url.split("#")[0].replace("/app/survey", "/app/"))
    wait_for_count(page, 0)
