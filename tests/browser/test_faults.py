"""The field app under faults, at 390 × 844 in Chromium: a server that hangs or cannot be reached,
a photo the server refuses, a browser that may clear the phone's storage, a logout with work
left on the phone. Offline means the pages and the service worker are cut (go_offline)."""

import datetime as dt
import re
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
    server_state_of,
    start_survey,
    wait_for_count,
    wait_until,
)
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Photo
from village_survey.surveys.services import review_survey, save_survey

pytestmark = pytest.mark.browser

YEAR = dt.date.today().year
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _answers(number, name, **more):
    return dated_answers(number, name, YEAR, **more)


def _progress(page):
    return page.locator("[data-sync-progress]")


def _progress_about(page, about, timeout=15):
    wait_until(page, f"document.querySelector('[data-sync-progress]').dataset.about === '{about}'", timeout)


def _back_home(page, live_server):
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")


def test_a_server_that_hangs_times_out_and_the_app_says_when_it_tries_again(live_server, phone, world, app):
    app.config["FIELD_APP_REQUEST_TIMEOUT_MS"] = 1500  # 30 s in the field
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, _answers("5组1号", "挂起户"))
    hanging = []
    context.route("**/api/v1/**", lambda route: hanging.append(route))  # the server takes the request and never answers
    go_online(context)

    page.locator("[data-sync-now]").click()
    # Something visible at once, then the timeout and the next try, in words.
    assert _progress(page).inner_text() in (message(page, "syncing"), message(page, "checking"))
    _progress_about(page, "unreachable")
    seconds = _progress(page).get_attribute("data-retry-in")
    assert seconds.isdigit() and int(seconds) > 0
    shown = _progress(page).inner_text()
    assert shown in {message(page, "retry_in", n=n) for n in range(int(seconds) + 2)}
    assert page.locator("[data-net]").inner_text() == message(page, "server_down")
    assert hanging  # it did ask, and gave up by itself

    context.unroute("**/api/v1/**")  # the server is back: the next try sends without a tap
    wait_for_count(page, 0, timeout=30)
    _progress_about(page, "done")
    assert _progress(page).inner_text() == message(page, "sent_all")
    assert page.locator("[data-net]").inner_text() == message(page, "online")


def test_sync_now_without_signal_says_so_at_once(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    page.locator("[data-sync-now]").click()
    _progress_about(page, "unreachable")
    seconds = int(_progress(page).get_attribute("data-retry-in"))
    assert _progress(page).inner_text() in {message(page, "retry_in", n=n) for n in range(seconds + 2)}
    assert page.locator("[data-net]").inner_text() == message(page, "offline")
    page.locator("[data-sync-now]").click()  # again: it tries again, and says so again
    _progress_about(page, "unreachable")


def test_a_refused_photo_stays_on_the_phone_listed_with_the_reason(live_server, phone, world, tmp_path, app):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    page, context = phone, phone.context
    accept_dialogs(page)
    login(page, live_server)
    open_app(page, live_server)
    context.route("**/photos/**", lambda route: route.abort("connectionreset"))  # the photo waits
    start_survey(page, "甲村")
    fill_survey(page, _answers("5组2号", "拒照户"), submit=False)
    page.locator('[data-goto="notes"]').click()
    page.locator('[data-photo-kind="house"]').set_input_files(str(jpeg_file(tmp_path / "house.jpg")))
    wait_until(page, "document.querySelectorAll('[data-photos] img').length === 1")
    page.locator('[data-goto="summary"]').click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready]")
    wait_for_count(page, 0)
    uuid = page.locator("[data-items] li[data-uuid]").first.get_attribute("data-uuid")
    review_survey(world.reviewer_a, server_state_of(uuid), "approve", "")  # approved before its photo came
    db.session.commit()

    context.unroute("**/photos/**")
    page.locator("[data-sync-now]").click()
    refused = page.locator("[data-refused-photos] [data-refused-photo-list] li")
    refused.wait_for()
    assert page.locator("[data-refused-photos]").is_visible()
    assert refused.locator("[data-reason]").inner_text().strip()  # the server's reason, in words
    assert "5组2号 拒照户" in refused.inner_text()
    _progress_about(page, "attention")
    assert message(page, "photos_refused", n=1) in _progress(page).inner_text()
    assert message(page, "sent_all") not in _progress(page).inner_text()
    kept = page.evaluate("""() => new Promise((resolve) => {
      const open = indexedDB.open(`vs-user-${%d}`);
      open.onsuccess = () => {
        const all = open.result.transaction("photos").objectStore("photos").getAll();
        all.onsuccess = () => resolve(all.result.map((p) => [p.state, p.blob ? p.blob.size : 0]));
      };
    })""" % world.surveyor_a.id)
    assert len(kept) == 1 and kept[0][0] == "failed" and kept[0][1] > 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Photo.id))) == 0

    refused.get_by_role("button").click()  # the surveyor decides to let it go
    page.locator("[data-refused-photos]").wait_for(state="hidden")


FORBID_PERSISTENCE = """
  Object.defineProperty(Navigator.prototype, "storage", { configurable: true, get: () => ({
    persisted: async () => false, persist: async () => false, estimate: async () => ({}) }) });
"""


def test_storage_that_may_be_cleared_is_said_at_the_top_with_a_reminder_to_export(live_server, phone, world):
    page, context = phone, phone.context
    context.add_init_script(FORBID_PERSISTENCE)
    login(page, live_server)
    open_app(page, live_server)
    hint = page.locator("[data-persist-hint]")
    assert hint.is_visible() and hint.inner_text() == message(page, "persist_denied")
    box = hint.bounding_box()
    assert box["y"] + box["height"] <= 844  # in sight without scrolling
    for _number in range(4):  # more than a few surveys only on this phone
        start_survey(page, "甲村")
        _back_home(page, live_server)
    assert hint.inner_text() == f"{message(page, 'persist_denied')} {message(page, 'export_reminder', n=4)}"


def test_a_duplicate_refused_by_the_server_is_told_without_a_raw_uuid(live_server, phone, world):
    page = phone
    login(page, live_server)
    open_app(page, live_server)  # the phone's village list knows of no survey of 1组1号 yet
    save_survey(world.surveyor_a, str(uuid_module.uuid4()), form_version=1, year=YEAR, status="submitted",
                household_id=world.household_a.id, formdata=answers_to_formdata(_answers("1组1号", "王甲")))
    db.session.commit()
    start_survey(page, "甲村")  # a "new household" that turns out to be 1组1号
    fill_survey(page, _answers("1组1号", "王甲"))
    failed = page.locator('[data-items] li[data-state="failed"]')
    failed.wait_for(timeout=15000)
    reason = failed.locator("[data-reason]").inner_text()
    assert reason and not UUID_TEXT.search(failed.inner_text())


def test_the_logout_warning_counts_drafts_and_refused_surveys_too(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    save_survey(world.surveyor_a, str(uuid_module.uuid4()), form_version=1, year=YEAR, status="submitted",
                household_id=world.household_a.id, formdata=answers_to_formdata(_answers("1组1号", "王甲")))
    db.session.commit()
    start_survey(page, "甲村")
    fill_survey(page, _answers("1组1号", "王甲"))  # refused: the household has a survey this year
    page.wait_for_selector('[data-items] li[data-state="failed"]', timeout=15000)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, _answers("5组3号", "待发户"))  # waiting to be sent
    start_survey(page, "甲村")  # a draft
    _back_home(page, live_server)

    seen = []
    page.once("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    page.locator("[data-logout]").click()
    for _tick in range(50):
        if seen:
            break
        page.wait_for_timeout(100)
    assert seen, "no warning"
    assert seen[0] == (message(page, "logout_unsent", n=3) + "\n"
                       + message(page, "logout_breakdown", queued=1, drafts=1, refused=1, photos=0))
    assert page.locator("[data-app]").is_visible()  # dismissed: still logged in, nothing lost
    go_online(context)


RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  const progress = document.querySelector("[data-sync-progress]");
  new MutationObserver(() => window.progressSeen.push([progress.dataset.about, progress.textContent]))
    .observe(progress, { childList: true, characterData: true, subtree: true, attributes: true });
}"""


def test_the_page_shows_the_progress_of_a_send_in_the_background(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    # The server cannot be reached (the browser still thinks it is online, so no `online` event
    # will make the page send by itself later).
    context.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))
    start_survey(page, "甲村")
    fill_survey(page, _answers("5组4号", "后台户"))
    assert page.locator("[data-outbox-count]").inner_text() == "1"
    context.unroute("**/api/v1/**")
    page.evaluate(RECORD_PROGRESS)

    page.evaluate("navigator.serviceWorker.controller.postMessage('sync')")  # the worker sends
    wait_for_count(page, 0)
    _progress_about(page, "done")
    seen = page.evaluate("window.progressSeen")
    assert ["sending", message(page, "sending", n=1, total=1)] in seen  # while it sent, not only after
    assert not any(about == "syncing" for about, _text in seen)  # the page did not send it itself
    assert _progress(page).inner_text() == message(page, "sent_all")
    assert server_state_of(page.locator("[data-items] li[data-uuid]").first.get_attribute("data-uuid"))
