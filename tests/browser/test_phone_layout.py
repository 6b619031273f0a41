"""The website's pages keep their layout on a 390 × 844 phone: nothing wider than the screen, search
boxes wide enough to type in, labels beside long values still readable, filter buttons on one line."""

import datetime as dt
import uuid

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import login
from tests.factories import complete_answers
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.services import save_survey

pytestmark = pytest.mark.browser

LONG_NOTE = "户主记不清年用电量，按每月电费填写；厨房在院子东侧另建，灶台为改良柴灶，烟囱完好。"

SCROLL_WIDTH = "document.documentElement.scrollWidth"
WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map(e => e.tagName + (e.id ? '#' + e.id : ''))"""
# Each label of two characters or more is wider than one character (1em) of its own font.
SQUEEZED_LABELS = """() => [...document.querySelectorAll('dt')]
  .filter(e => e.textContent.trim().length > 1
               && e.getBoundingClientRect().width < 1.5 * parseFloat(getComputedStyle(e).fontSize))
  .map(e => e.textContent.trim())"""
# How many lines of text an element's content takes: its content height over its line height.
LINES = """(selector) => {
  const element = document.querySelector(selector), style = getComputedStyle(element);
  const content = element.getBoundingClientRect().height - ["paddingTop", "paddingBottom",
    "borderTopWidth", "borderBottomWidth"].reduce((sum, side) => sum + parseFloat(style[side]), 0);
  return content / parseFloat(style.lineHeight);
}"""


def _survey(world, status, **answers):
    survey_uuid = str(uuid.uuid4())
    formdata = answers_to_formdata(complete_answers(survey_date=dt.date.today().isoformat(), **answers))
    save_survey(world.surveyor_a, survey_uuid, form_version=1, year=dt.date.today().year, status=status,
                formdata=formdata, village_id=world.village_a.id)
    db.session.commit()
    return survey_uuid


def _fits_the_screen(page):
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], page.evaluate(WIDER_THAN_SCREEN)


def test_survey_list_search_box_stays_wide_enough_to_type_in(live_server, phone, world):
    _survey(world, "submitted")
    login(phone, live_server)
    phone.goto(f"{live_server}/surveys/?village={world.village_a.id}")
    assert phone.locator("#q").bounding_box()["width"] >= 150
    assert phone.evaluate(LINES, ".search button") < 1.5
    _fits_the_screen(phone)


def test_summary_labels_stay_readable_beside_a_long_value(live_server, phone, world):
    draft = _survey(world, "draft", notes=LONG_NOTE)
    login(phone, live_server)
    for path in (f"/surveys/{draft}/edit?step=summary", f"/surveys/{draft}"):
        phone.goto(live_server + path)
        assert phone.get_by_text(LONG_NOTE).is_visible()
        assert phone.evaluate(SQUEEZED_LABELS) == [], path
        _fits_the_screen(phone)


def test_evaluation_year_filter_keeps_its_button_on_one_line(live_server, phone, world):
    login(phone, live_server, "viewer-a")
    phone.goto(f"{live_server}/evaluations/village/{world.village_a.id}")
    assert phone.locator("#year").is_visible()
    assert phone.evaluate(LINES, "form:has(#year) button") < 1.5
    assert phone.evaluate(LINES, "form:has(#year) label[for=year]") < 1.5
    _fits_the_screen(phone)
    phone.goto(f"{live_server}/evaluations/")
    assert phone.evaluate(LINES, "form:has(#year) button") < 1.5
    _fits_the_screen(phone)


def test_file_inputs_fit_the_phone_screen(live_server, phone, world):
    draft = _survey(world, "draft")
    login(phone, live_server)
    phone.goto(f"{live_server}/surveys/{draft}")
    assert phone.locator("input[type=file]").is_visible()
    _fits_the_screen(phone)
    phone.context.clear_cookies()
    login(phone, live_server, "admin")
    phone.goto(f"{live_server}/admin/areas/import")
    assert phone.locator("input[type=file]").is_visible()
    _fits_the_screen(phone)
