"""A surveyor fills a whole survey on a phone-sized screen in Chromium and sees it listed."""

import pytest

from tests.browser.helpers import fill_step, login
from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.surveys.forms import answers_to_formdata

pytestmark = pytest.mark.browser


def test_surveyor_fills_a_whole_survey_on_a_phone(live_server, phone, world, tmp_path):
    page = phone
    login(page, live_server)
    answers = complete_answers(house_number="6组6号", head_name="郑六", survey_date="2026-04-03",
                               primary_stove="improved_wood", stove_chimney=True)
    formdata = answers_to_formdata(answers)
    page.goto(f"{live_server}/areas/villages/{world.village_a.id}")
    page.get_by_role("link", name="新建调查").click()
    for number, step in enumerate(sf.STEPS):
        fill_step(page, step, formdata)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, step
        if step == "pv":
            page.screenshot(path=str(tmp_path / "pv.png"), full_page=True)
        page.get_by_role("button", name="保存并继续").click()
        page.wait_for_load_state()
        assert page.locator(".error").count() == 0, (step, page.locator(".error").all_inner_texts())
    assert page.get_by_role("heading", name="汇总").is_visible()
    page.screenshot(path=str(tmp_path / "summary.png"), full_page=True)
    page.get_by_role("button", name="提交审核").click()
    listing = page.locator("[data-survey-list]")
    assert "6组6号 郑六" in listing.inner_text()
    assert "已提交" in listing.inner_text()


def test_chimney_question_appears_only_for_wood_or_coal_stoves(live_server, phone, world):
    page = phone
    login(page, live_server)
    page.goto(f"{live_server}/surveys/new?village={world.village_a.id}")
    fill_step(page, "household", answers_to_formdata(complete_answers()))
    page.get_by_role("button", name="保存并继续").click()
    page.goto(page.url.replace("step=building", "step=cooking"))
    chimney = page.locator('[data-key="stove_chimney"]')
    page.locator('select[name="primary_stove"]').select_option("electric")
    assert chimney.is_hidden()
    page.locator('select[name="primary_stove"]').select_option("coal")
    assert chimney.is_visible()
