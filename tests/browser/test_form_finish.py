"""At 390 × 844 in Chromium: the website form takes photos on its "照片与备注" step (a refused one
is said at its input, with the typed notes kept), Enter saves and goes on, and the field app
takes bottled LPG in bottles, queueing the kilograms."""

import datetime as dt
import uuid as uuid_module

import pytest
from sqlalchemy import func, select

from tests.browser.helpers import (
    stored_survey,
    fill_survey,
    go_offline,
    go_online,
    jpeg_file,
    login,
    open_app,
    server_state_of,
    start_survey,
    wait_for_count,
)
from tests.factories import complete_answers
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Photo
from village_survey.surveys.services import save_survey

pytestmark = pytest.mark.browser

YEAR = dt.date.today().year


def _draft(world):
    survey_uuid = str(uuid_module.uuid4())
    save_survey(world.surveyor_a, survey_uuid, form_version=1, year=YEAR, status="draft",
                formdata=answers_to_formdata(complete_answers(survey_date=f"{YEAR}-01-02")),
                village_id=world.village_a.id)
    db.session.commit()
    return survey_uuid


def _photo_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Photo.id)))


def _fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_photo_is_added_on_the_photos_step_of_the_website_form(app, live_server, phone, world, tmp_path):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    page = phone
    survey_uuid = _draft(world)
    login(page, live_server)
    page.goto(f"{live_server}/surveys/{survey_uuid}/edit?step=notes")
    assert page.get_by_text("没有照片。").is_visible()
    assert _fits_the_screen(page)

    # A file that is no photo: refused at its input, nothing saved, the notes still as typed.
    not_a_photo = tmp_path / "roof.jpg"
    not_a_photo.write_bytes(b"GIF89a not really a photo")
    page.locator('[name="notes"]').fill("屋顶有光伏板")
    page.get_by_label("屋顶或光伏").set_input_files(str(not_a_photo))
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_load_state()
    roof = page.locator('[data-photo-kind="roof"]')
    assert roof.locator(".error").inner_text() == "该文件不是可读取的照片。"
    assert page.get_by_label("屋顶或光伏").get_attribute("aria-invalid") == "true"
    assert page.locator('[name="notes"]').input_value() == "屋顶有光伏板"
    assert _photo_count() == 0 and "notes" not in server_state_of(survey_uuid).answers
    assert _fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "photos-refused.png"), full_page=True)

    page.get_by_label("房屋正面").set_input_files(str(jpeg_file(tmp_path / "house.jpg")))
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_url("**step=summary")
    assert _photo_count() == 1
    assert server_state_of(survey_uuid).answers["notes"] == "屋顶有光伏板"

    page.goto(f"{live_server}/surveys/{survey_uuid}/edit?step=notes")
    thumbnail = page.get_by_role("img", name="房屋正面")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")
    assert _fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "photos.png"), full_page=True)


def test_enter_in_a_field_of_the_website_form_saves_and_goes_on(live_server, phone, world):
    page = phone
    survey_uuid = _draft(world)
    login(page, live_server)
    page.goto(f"{live_server}/surveys/{survey_uuid}/edit?step=building")
    page.locator('[name="floor_area_m2"]').fill("150")
    page.locator('[name="floor_area_m2"]').press("Enter")
    page.wait_for_url("**step=energy")
    assert server_state_of(survey_uuid).answers["floor_area_m2"] == 150


def test_a_missing_answer_opened_from_the_summary_comes_back_to_it(live_server, phone, world):
    page = phone
    survey_uuid = str(uuid_module.uuid4())
    save_survey(world.surveyor_a, survey_uuid, form_version=1, year=YEAR, status="draft",
                formdata=answers_to_formdata(complete_answers(survey_date=f"{YEAR}-01-02", lamps_led=None)),
                village_id=world.village_a.id)
    db.session.commit()
    login(page, live_server)
    page.goto(f"{live_server}/surveys/{survey_uuid}/edit?step=summary")
    page.get_by_role("alert").get_by_role("link", name="LED 灯").click()
    page.wait_for_url("**step=lighting**")
    page.locator('[name="lamps_led"]').fill("6")
    page.get_by_role("button", name="保存并返回汇总").click()
    page.wait_for_url("**step=summary")
    assert server_state_of(survey_uuid).answers["lamps_led"] == 6


def test_the_field_app_queues_two_bottles_of_lpg_as_30_kg(live_server, phone, world, tmp_path):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    survey_uuid = page.evaluate("location.hash.slice(1)")
    fill_survey(page, complete_answers(house_number="8组2号", head_name="液化气户", survey_date=f"{YEAR}-01-02",
                                       lpg_kg=None), submit=False)

    page.locator('[data-goto="energy"]').click()
    unit = page.get_by_role("combobox", name="单位")
    assert [o.strip() for o in unit.locator("option").all_inner_texts()] == ["千克", "瓶（每瓶 15 千克）"]
    page.locator('[name="lpg_kg"]').fill("2")
    unit.select_option("bottle")
    note = page.locator('[data-unit-note="lpg_kg"]')
    assert note.inner_text() == "即 30 千克。"
    assert _fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "lpg-bottles.png"))

    page.locator('[data-goto="summary"]').click()
    row = page.locator('[data-summary] [data-answer="lpg_kg"]')
    assert "30 千克/12 个月" in row.inner_text()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    stored = stored_survey(page, survey_uuid)
    assert stored["state"] == "queued" and stored["answers"]["lpg_kg"] == 30

    go_online(context)
    wait_for_count(page, 0)
    assert server_state_of(survey_uuid).answers["lpg_kg"] == 30


def test_an_lpg_amount_in_bottles_is_checked_as_its_kilograms_on_the_phone(live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    start_survey(page, "甲村")
    page.locator('[data-goto="energy"]').click()
    page.locator('[name="lpg_kg"]').fill("200")
    field = page.locator('[data-key="lpg_kg"]')
    assert field.locator(".error").count() == 0  # 200 kg is allowed
    page.get_by_role("combobox", name="单位").select_option("bottle")
    assert field.locator(".error").inner_text() == "须在 0 至 2,000 之间。"
    assert page.locator('[data-unit-note="lpg_kg"]').inner_text() == "即 3,000 千克。"
    page.locator('[name="lpg_kg"]').fill("")
    assert page.locator('[data-unit-note="lpg_kg"]').is_hidden()
    assert field.locator(".error").count() == 0
