"""Offline first, in Debian's Chromium: nothing lost, everything sent exactly once."""

import pytest
from sqlalchemy import func, select

from tests.browser.helpers import (
    fill_survey,
    jpeg_file,
    login,
    open_app,
    outbox_count,
    start_survey,
    wait_for_count,
    wait_until,
)
from tests.factories import complete_answers
from village_survey.extensions import db
from village_survey.surveys.models import Photo, Survey

pytestmark = pytest.mark.browser


def _surveys():
    db.session.expire_all()
    return db.session.scalars(select(Survey)).all()


def test_a_survey_made_offline_is_queued_and_sent_once_when_back_online(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    context.set_offline(True)
    page.reload()  # served by the service worker: the network is cut
    page.wait_for_selector("body[data-ready]")
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="4组4号", head_name="离线户"))
    assert outbox_count(page) == 1
    page.close()

    page = context.new_page()  # close and reopen: still queued
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    assert outbox_count(page) == 1
    assert page.locator('[data-items] li[data-state="queued"]').count() == 1
    assert _surveys() == []

    context.set_offline(False)  # the page's `online` event sends the queue
    wait_for_count(page, 0)
    surveys = _surveys()
    assert len(surveys) == 1 and surveys[0].status == "submitted"
    assert surveys[0].answers["head_name"] == "离线户"


def test_a_dropped_connection_during_upload_loses_nothing_and_duplicates_nothing(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    dropped = []

    def drop_the_answer(route):
        if route.request.method in ("PUT", "POST") and not dropped:
            route.fetch()  # the server gets the survey ...
            dropped.append(route.request.url)
            route.abort("connectionreset")  # ... but the phone never hears back
        else:
            route.continue_()

    context.route("**/api/v1/surveys/**", drop_the_answer)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="4组5号", head_name="断线户"))
    for _tick in range(150):  # let Playwright run the route handler while we wait
        if dropped:
            break
        page.wait_for_timeout(100)
    assert dropped and len(_surveys()) == 1  # it did arrive, the phone did not hear it
    # The phone retries (by its backoff, or at once with "sync now") until it hears back.
    for _attempt in range(20):
        if page.locator("[data-outbox-count]").inner_text() == "0":
            break
        page.locator("[data-sync-now]").click()
        page.wait_for_timeout(500)
    wait_for_count(page, 0)
    surveys = _surveys()
    assert len(surveys) == 1 and surveys[0].revision == 1


def test_two_surveys_and_two_photos_queued_offline_all_arrive(live_server, phone, world, tmp_path, app):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    context.set_offline(True)
    photo = jpeg_file(tmp_path / "big.jpg")
    for number, name in (("7组1号", "甲一"), ("7组2号", "甲二")):
        start_survey(page, "甲村")
        fill_survey(page, complete_answers(house_number=number, head_name=name), submit=False)
        page.locator('[data-goto="notes"]').click()
        page.locator('[data-photo-kind="house"]').set_input_files(str(photo))
        wait_until(page, "document.querySelectorAll('[data-photos] img').length === 1")
        page.locator('[data-goto="summary"]').click()
        page.locator("[data-submit]").click()
        page.wait_for_url("**/app/")
        page.wait_for_selector("body[data-ready]")
    assert outbox_count(page) == 2
    context.set_offline(False)
    wait_until(page, "document.body.dataset.ready === 'true' && "
                     "document.querySelector('[data-outbox-count]').textContent === '0' && "
                     "document.querySelector('[data-photo-count]').textContent === ''", 20)
    assert sorted(s.answers["head_name"] for s in _surveys()) == ["甲一", "甲二"]
    photos = db.session.scalars(select(Photo)).all()
    assert len(photos) == 2
    assert all(max(p.width, p.height) == 1600 and p.content_type == "image/jpeg" for p in photos)


def test_a_draft_survives_an_app_update(live_server, phone, world, app):
    page = phone
    login(page, live_server)
    open_app(page, live_server)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="8组1号", head_name="旧版户"), submit=False)
    draft_url = page.url
    old_version = page.locator("body").get_attribute("data-version")

    app.config["ASSET_VERSION"] = "next-release"
    app.extensions.pop("asset_version", None)
    page.goto(f"{live_server}/app/")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    # The new worker has taken over once the old version's cache is gone.
    wait_until(page, "caches.keys().then(k => k.filter(n => n.startsWith('vs-shell-')).join() === "
                     "'vs-shell-next-release')", 15)
    page.goto(draft_url)
    page.wait_for_selector("body[data-ready]")
    assert page.locator("body").get_attribute("data-version") == "next-release" != old_version
    assert page.locator('[name="head_name"]').input_value() == "旧版户"
    page.locator('[data-goto="summary"]').click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    wait_for_count(page, 0)
    assert [s.answers["head_name"] for s in _surveys()] == ["旧版户"]


def test_export_clear_import_and_sync_sends_everything_once(live_server, phone, world, tmp_path):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    context.set_offline(True)
    for number, name in (("9组1号", "导一"), ("9组2号", "导二")):
        start_survey(page, "甲村")
        fill_survey(page, complete_answers(house_number=number, head_name=name))
    with page.expect_download() as download:
        page.locator("[data-export]").click()
    export = tmp_path / "queue.json"
    download.value.save_as(export)
    context.set_offline(False)

    session = context.new_cdp_session(page)
    session.send("Storage.clearDataForOrigin", {"origin": live_server, "storageTypes": "all"})
    page.goto(f"{live_server}/app/")
    assert "/login" in page.url  # the cookies went too
    login(page, live_server)
    open_app(page, live_server)
    assert outbox_count(page) == 0
    page.locator("[data-import]").set_input_files(str(export))
    wait_until(page, "document.querySelector('[data-items] li[data-uuid]') !== null")
    wait_for_count(page, 0)
    page.locator("[data-import]").set_input_files(str(export))  # importing twice changes nothing
    page.locator("[data-sync-now]").click()
    page.wait_for_timeout(500)
    assert sorted(s.answers["head_name"] for s in _surveys()) == ["导一", "导二"]
    assert db.session.scalar(select(func.count(Survey.id))) == 2


def test_logout_with_unsent_surveys_warns_and_keeps_them_for_that_user_only(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    context.set_offline(True)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="3组3号", head_name="共用手机"))
    context.route("**/api/v1/surveys/**", lambda route: route.abort())  # keep it unsent
    context.set_offline(False)
    warnings = []
    page.once("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
    page.locator("[data-logout]").click()
    page.wait_for_url("**/login")
    assert warnings and "1 份调查未发送" in warnings[0]

    login(page, live_server, "surveyor-b")  # another surveyor on the same phone
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    assert outbox_count(page) == 0 and page.locator("[data-items] li[data-uuid]").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("[data-logout]").click()
    page.wait_for_url("**/login")

    context.unroute("**/api/v1/surveys/**")
    login(page, live_server, "surveyor-a")
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    wait_for_count(page, 0)  # back in the owner's hands, it is sent
    assert [s.answers["head_name"] for s in _surveys()] == ["共用手机"]


def test_an_expired_session_asks_for_a_login_and_the_queue_survives(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    context.set_offline(True)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="2组2号", head_name="过期户"))
    context.clear_cookies()  # the session ran out while the phone was offline
    context.set_offline(False)
    page.locator("[data-sync-now]").click()
    prompt = page.locator("[data-status] a")
    prompt.wait_for()
    assert "/login" in prompt.get_attribute("href")
    assert outbox_count(page) == 1 and _surveys() == []
    prompt.click()
    page.get_by_label("用户名").fill("surveyor-a")
    page.get_by_label("密码").fill("correct-horse")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    wait_for_count(page, 0)
    assert [s.answers["head_name"] for s in _surveys()] == ["过期户"]
