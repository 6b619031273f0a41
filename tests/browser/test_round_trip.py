"""The round trip to the phone, at 390 × 844 in Chromium: what a reviewer decides reaches the
field app (returned with its comment, approved), a fix goes back, a change the server can no
longer take is kept readable and never sent over an approved survey; a household surveyed
already is said at once; a backup gives back every survey and photo."""

import datetime as dt
import uuid as uuid_module

import pytest
from sqlalchemy import func, select

from tests.browser.helpers import (
    dated_answers,
    accept_dialogs,
    fill_survey,
    go_offline,
    go_online,
    jpeg_file,
    login,
    message,
    open_app,
    outbox_count,
    server_state_of,
    start_survey,
    wait_for_count,
    wait_until,
)
from tests.factories import complete_answers, make_household, make_user
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Photo, Survey
from village_survey.surveys.services import review_survey, save_survey

pytestmark = pytest.mark.browser

YEAR = dt.date.today().year


def _answers(number, name, **more):
    return dated_answers(number, name, YEAR, **more)


def _latest_uuid(page):
    return page.locator("[data-items] li[data-uuid]").first.get_attribute("data-uuid")


def _send_from_the_phone(page, number, name):
    """A survey filled on the phone and sent: its UUID once the server has it."""
    start_survey(page, "甲村")
    fill_survey(page, _answers(number, name))
    wait_for_count(page, 0)
    uuid = _latest_uuid(page)
    assert server_state_of(uuid).status == "submitted"
    return uuid


def _review(world, uuid, action, comment=""):
    review_survey(world.reviewer_a, server_state_of(uuid), action, comment)
    db.session.commit()


def _todo_line(page, uuid):
    return page.locator(f'[data-todo-items] li[data-uuid="{uuid}"]')


def _sync_now(page):
    page.locator("[data-sync-now]").click()


def _change_residents_and_submit(page, residents):
    page.wait_for_selector("body[data-ready]")
    page.locator('[name="residents"]').fill(str(residents))
    page.locator('[data-goto="summary"]').click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")


def _lose_the_reply_and_hold_later_sends(page):
    """The first batch reaches the server but its answer is lost; later ones get nowhere, so the
    phone keeps what it queues next. Returns a function that lifts the cut."""
    delivered = []

    def handle(route):
        if route.request.method == "POST" and not delivered:
            route.fetch()
            delivered.append(route.request.url)
        route.abort("connectionreset")

    page.context.route("**/api/v1/surveys/batch", handle)
    return delivered, lambda: page.context.unroute("**/api/v1/surveys/batch")


def _sent_without_hearing_back(page, number, name):
    delivered, lift = _lose_the_reply_and_hold_later_sends(page)
    start_survey(page, "甲村")
    fill_survey(page, _answers(number, name))
    for _tick in range(150):  # let Playwright run the route handler while we wait
        if delivered:
            break
        page.wait_for_timeout(100)
    uuid = _latest_uuid(page)
    assert delivered and server_state_of(uuid).status == "submitted"
    assert page.locator(f'[data-items] li[data-uuid="{uuid}"]').get_attribute("data-state") == "queued"
    return uuid, lift


def test_a_returned_survey_shows_its_comment_and_is_fixed_and_resubmitted_offline(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    uuid = _send_from_the_phone(page, "3组1号", "回访户")
    _review(world, uuid, "return", "常住人口应为 5 人")

    _sync_now(page)
    line = _todo_line(page, uuid)
    line.wait_for()
    assert line.get_attribute("data-server-status") == "returned"
    assert message(page, "to_fix") in line.locator("[data-label]").inner_text()
    assert "常住人口应为 5 人" in line.locator("[data-comment]").inner_text()
    # At the top of the app's home: above the outbox and the new survey form.
    assert line.bounding_box()["y"] < page.locator("[data-sync-now]").bounding_box()["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    go_offline(context)
    line.locator("[data-fix]").click()
    page.wait_for_url(f"**/app/survey#{uuid}")
    page.wait_for_selector("body[data-ready]")
    assert "常住人口应为 5 人" in page.locator("[data-reviewer-comment]").inner_text()  # read while fixing
    _change_residents_and_submit(page, 5)
    assert outbox_count(page) == 1
    assert server_state_of(uuid).status == "returned"

    go_online(context)
    wait_for_count(page, 0)
    survey = server_state_of(uuid)
    assert survey.status == "submitted" and survey.answers["residents"] == 5
    assert survey.answers["head_name"] == "回访户" and survey.started_at is not None  # when the phone began
    line = page.locator(f'[data-items] li[data-uuid="{uuid}"]')
    assert line.get_attribute("data-state") == "sent"
    assert message(page, "server_submitted") in line.inner_text()

    _review(world, uuid, "approve")
    _sync_now(page)
    wait_until(page, f"document.querySelector('[data-items] li[data-uuid=\"{uuid}\"]')"
                     ".dataset.serverStatus === 'approved'")
    assert message(page, "server_approved") in page.locator(f'[data-items] li[data-uuid="{uuid}"]').inner_text()


def test_a_change_approved_meanwhile_is_kept_readable_never_sent_and_may_be_discarded(live_server, phone, world):
    page = phone
    accept_dialogs(page)
    login(page, live_server)
    open_app(page, live_server)
    uuid, lift = _sent_without_hearing_back(page, "3组2号", "冲突户")
    # The surveyor changes it on the phone, not knowing that the server has it.
    page.locator(f'[data-items] li[data-uuid="{uuid}"] a').click()
    _change_residents_and_submit(page, 7)
    _review(world, uuid, "approve")
    revision = server_state_of(uuid).revision

    lift()
    _sync_now(page)
    line = page.locator(f'[data-items] li[data-uuid="{uuid}"][data-state="conflict"]')
    line.wait_for()
    assert line.locator("[data-explained]").inner_text() == message(page, "conflict_explained")
    line.locator("[data-my-change] summary").click()
    assert "7" in line.locator("[data-my-change]").inner_text()  # the surveyor's change, readable
    assert line.locator("a").count() == 0  # not opened for editing over the approved survey
    # Nor through a saved address: the survey page shows the change read-only.
    page.goto(f"{live_server}/app/survey#{uuid}")
    page.wait_for_selector("body[data-ready]")
    assert page.locator('[name="residents"]').is_disabled()
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    line.wait_for()
    _sync_now(page)
    wait_until(page, "document.querySelector('[data-sync-progress]').dataset.about === 'attention'")
    survey = server_state_of(uuid)
    assert (survey.status, survey.answers["residents"], survey.revision) == ("approved", 4, revision)

    line.locator("[data-discard]").click()
    sent = page.locator(f'[data-items] li[data-uuid="{uuid}"][data-state="sent"]')
    sent.wait_for()
    assert message(page, "server_approved") in sent.inner_text()
    assert server_state_of(uuid).revision == revision


def test_a_change_queued_before_a_return_waits_until_the_comment_is_read(live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    uuid, lift = _sent_without_hearing_back(page, "3组3号", "退回户")
    page.locator(f'[data-items] li[data-uuid="{uuid}"] a').click()
    _change_residents_and_submit(page, 6)
    _review(world, uuid, "return", "请补拍房屋照片")

    lift()
    _sync_now(page)
    line = _todo_line(page, uuid)
    page.wait_for_selector(f'[data-todo-items] li[data-uuid="{uuid}"][data-state="held"]')
    assert "请补拍房屋照片" in line.locator("[data-comment]").inner_text()
    assert line.locator("[data-explained]").inner_text() == message(page, "held_explained")
    _sync_now(page)  # another sync sends nothing over the return
    wait_until(page, "document.querySelector('[data-sync-progress]').dataset.about === 'attention'")
    survey = server_state_of(uuid)
    assert (survey.status, survey.answers["residents"]) == ("returned", 4)

    line.locator("[data-send-as-is]").click()
    wait_until(page, f"document.querySelector('[data-items] li[data-uuid=\"{uuid}\"]').dataset.state === 'sent'")
    survey = server_state_of(uuid)
    assert (survey.status, survey.answers["residents"]) == ("submitted", 6)


def _on_the_server(world, household, status, number, name):
    uuid = str(uuid_module.uuid4())
    save_survey(world.surveyor_a, uuid, form_version=1, year=YEAR, status=status, household_id=household.id,
                formdata=answers_to_formdata(_answers(number, name)))
    db.session.commit()
    return uuid


def test_a_household_with_a_survey_this_year_is_said_at_selection(live_server, phone, world):
    page = phone
    submitted = make_household(world.village_a, "4组1号", "已交户")
    returned = make_household(world.village_a, "4组2号", "退回户")
    db.session.commit()
    _on_the_server(world, submitted, "submitted", "4组1号", "已交户")
    returned_uuid = _on_the_server(world, returned, "submitted", "4组2号", "退回户")
    _review(world, returned_uuid, "return", "门牌号有误")
    login(page, live_server)
    open_app(page, live_server)

    page.locator("#new-village").select_option(label=page.locator("#new-village option", has_text="甲村").inner_text())
    page.locator("#new-household").select_option(label="4组1号 已交户")
    warning = page.locator("[data-duplicate]")
    warning.wait_for()
    assert message(page, "duplicate_warning", household="4组1号 已交户", year=YEAR,
                   status=message(page, "server_submitted")) in warning.inner_text()
    assert message(page, "duplicate_not_editable") in warning.inner_text()
    assert page.get_by_role("button", name="开始").is_disabled()

    page.locator("#new-household").select_option(label="1组1号 王甲")  # no survey this year
    assert warning.is_hidden() and page.get_by_role("button", name="开始").is_enabled()

    page.locator("#new-household").select_option(label="4组2号 退回户")
    warning.locator("[data-open-existing]").click()
    page.wait_for_url(f"**/app/survey#{returned_uuid}")
    page.wait_for_selector("body[data-ready]")
    assert page.locator('[name="head_name"]').input_value() == "退回户"
    assert page.locator('[name="residents"]').is_enabled()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Survey.id))) == 2  # nothing new was started


def test_export_then_import_gives_back_every_survey_and_photo(live_server, phone, world, tmp_path, app):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, _answers("9组5号", "备份户"), submit=False)
    page.locator('[data-goto="notes"]').click()
    page.locator('[data-photo-kind="house"]').set_input_files(str(jpeg_file(tmp_path / "house.jpg")))
    wait_until(page, "document.querySelectorAll('[data-photos] img').length === 1")
    page.locator('[data-goto="summary"]').click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    start_survey(page, "甲村")  # and a draft
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    with page.expect_download() as download:
        page.locator("[data-export]").click()
    export = tmp_path / "backup.json"
    download.value.save_as(export)
    assert message(page, "exported", n=2, photos=1) in page.locator("[data-status]").inner_text()

    go_online(context)
    session = context.new_cdp_session(page)
    session.send("Storage.clearDataForOrigin", {"origin": live_server, "storageTypes": "all"})
    login(page, live_server)
    open_app(page, live_server)
    page.locator("[data-import]").set_input_files(str(export))
    status = page.locator("[data-status][data-about=import]")
    status.wait_for()
    assert status.inner_text() == message(page, "imported_with_photos", n=2, photos=1)
    wait_for_count(page, 0)
    wait_until(page, "document.querySelector('[data-photo-count]').textContent === ''", 20)
    db.session.expire_all()
    [survey] = db.session.scalars(select(Survey)).all()
    assert survey.answers["head_name"] == "备份户"
    [photo] = db.session.scalars(select(Photo)).all()
    assert photo.survey_id == survey.id and photo.kind == "house" and photo.content_type == "image/jpeg"
    assert page.locator('[data-items] li[data-state="draft"]').count() == 1  # the draft came back too


def test_a_submission_that_no_reviewer_has_decided_on_may_be_withdrawn_for_the_phones_change(
        live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    uuid, lift = _sent_without_hearing_back(page, "3组4号", "撤回户")
    page.locator(f'[data-items] li[data-uuid="{uuid}"] a').click()
    _change_residents_and_submit(page, 8)

    lift()
    _sync_now(page)
    line = page.locator(f'[data-items] li[data-uuid="{uuid}"][data-state="failed"][data-server-status="submitted"]')
    line.wait_for()
    assert line.locator("[data-explained]").inner_text() == message(page, "submitted_explained")
    assert server_state_of(uuid).answers["residents"] == 4
    line.locator("[data-withdraw]").click()
    wait_until(page, f"document.querySelector('[data-items] li[data-uuid=\"{uuid}\"]').dataset.state === 'sent'")
    survey = server_state_of(uuid)
    assert (survey.status, survey.answers["residents"]) == ("submitted", 8)


def test_a_colleagues_returned_survey_is_offered_until_they_submit_it_again(live_server, phone, world):
    colleague = make_user("surveyor-a-2", "surveyor", township=world.township_a)
    household = make_household(world.village_a, "6组1号", "同事户")
    db.session.commit()
    uuid = str(uuid_module.uuid4())
    save_survey(colleague, uuid, form_version=1, year=YEAR, status="submitted", household_id=household.id,
                formdata=answers_to_formdata(_answers("6组1号", "同事户")))
    db.session.commit()
    _review(world, uuid, "return", "请核对电话")
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    line = _todo_line(page, uuid)
    line.wait_for()
    assert "请核对电话" in line.locator("[data-comment]").inner_text()

    save_survey(colleague, uuid, form_version=1, year=YEAR, status="submitted", household_id=household.id,
                formdata=answers_to_formdata(_answers("6组1号", "同事户", phone="13900000000")))
    db.session.commit()
    page.reload()
    page.wait_for_selector("body[data-ready]")
    wait_until(page, f"document.querySelector('[data-items] li[data-uuid=\"{uuid}\"]')?.dataset.serverStatus"
                     " === 'submitted'")
    assert line.count() == 0  # no longer to fix here


def test_a_household_not_surveyed_this_year_starts_from_last_years_answers(live_server, phone, world):
    save_survey(world.surveyor_a, str(uuid_module.uuid4()), form_version=1, year=YEAR - 1, status="submitted",
                household_id=world.household_a.id,
                formdata=answers_to_formdata(complete_answers(residents=6, survey_date=f"{YEAR - 1}-05-01")))
    db.session.commit()
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    # Last year's answers are kept on the phone: the survey may start from them without signal.
    wait_until(page, """new Promise((resolve) => {
      const open = indexedDB.open(`vs-user-%d`);
      open.onsuccess = () => {
        const kept = open.result.transaction("kv").objectStore("kv").get("previous");
        kept.onsuccess = () => { open.result.close(); resolve(Boolean(kept.result)); };
      };
    })""" % world.surveyor_a.id)
    go_offline(context)
    village = page.locator(f'[data-to-survey] li[data-village="{world.village_a.id}"]')
    assert message(page, "village_counts", surveyed=0, total=1, left=1) in village.inner_text()
    village.locator("summary").click()
    village.locator(f'li[data-household="{world.household_a.id}"] [data-start-previous]').click()
    page.wait_for_url("**/app/survey#*")
    page.wait_for_selector("body[data-ready]")
    assert page.locator('[name="residents"]').input_value() == "6"
    assert page.locator('[name="head_name"]').input_value() == "王甲"
    # Today on the phone's own calendar, not last year's date.
    assert page.locator('[name="survey_date"]').input_value() == page.evaluate("new Date().toLocaleDateString('sv')")
    page.goto(page.url.split("/app/")[0] + "/app/")
    page.wait_for_selector("body[data-ready]")
    # Started on the phone: no longer listed as not surveyed.
    assert page.locator(f'[data-to-survey] li[data-village="{world.village_a.id}"]').count() == 0
