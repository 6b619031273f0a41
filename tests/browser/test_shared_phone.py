"""One phone, several people: nobody sees, sends or inherits another user's work or data."""

import re
import uuid

import pytest
from sqlalchemy import select

from tests.browser.helpers import (
    cached_bodies,
    fill_survey,
    go_offline,
    go_online,
    login,
    open_app,
    outbox_count,
    remembered_session,
    start_survey,
    wait_until,
)
from tests.factories import PASSWORD, complete_answers, make_user
from village_survey.extensions import db
from village_survey.surveys.models import Survey

pytestmark = pytest.mark.browser

# What surveyor-a's township lists (village and household head), which nobody else may get.
A_NAMES = ("甲村", "王甲")


def _surveys():
    db.session.expire_all()
    return db.session.scalars(select(Survey)).all()


def _holds_a_names(bodies):
    return [body for body in bodies if any(name in body for name in A_NAMES)]


def _open_app_through_the_worker(page, base):
    """Open the field app twice: the second time the worker answers the village list (and keeps it)."""
    open_app(page, base)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "document.querySelectorAll('#new-village option').length > 1")


def _accept_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_after_a_logout_the_next_user_offline_never_gets_the_previous_users_villages(live_server, phone, world):
    page, context = phone, phone.context
    _accept_dialogs(page)
    login(page, live_server)  # surveyor-a, 甲镇
    _open_app_through_the_worker(page, live_server)
    assert _holds_a_names(cached_bodies(page))  # kept on the phone while surveyor-a works
    page.locator("[data-logout]").click()
    page.wait_for_url("**/login")
    assert _holds_a_names(cached_bodies(page)) == []

    login(page, live_server, "surveyor-b")  # 丙镇, on the same phone
    _open_app_through_the_worker(page, live_server)
    go_offline(context)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    villages = page.locator("#new-village").inner_text()
    assert "丙村" in villages and "甲村" not in villages
    answer = page.evaluate("fetch('/api/v1/villages').then(r => r.text())"
                           ".then(t => JSON.stringify(JSON.parse(t)), e => `failed: ${e}`)")
    assert "王丙" in answer and not _holds_a_names([answer])
    assert _holds_a_names(cached_bodies(page)) == []


def test_the_worker_answers_the_village_list_only_from_the_current_users_own_cache(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    _open_app_through_the_worker(page, live_server)
    go_offline(context)
    fetch_villages = ("fetch('/api/v1/villages').then(r => r.text())"
                      ".then(t => JSON.stringify(JSON.parse(t)), e => `failed: ${e}`)")
    assert "王甲" in page.evaluate(fetch_villages)  # offline, surveyor-a gets their own copy

    remember = """async (session) => {
      const meta = await new Promise((resolve) => {
        const request = indexedDB.open("vs-meta", 1);
        request.onsuccess = () => resolve(request.result);
      });
      await new Promise((resolve) => {
        const tx = meta.transaction("kv", "readwrite");
        tx.objectStore("kv").put(session, "session");
        tx.oncomplete = resolve;
      });
      meta.close();
    }"""
    someone_else = {"user": {"id": world.surveyor_b.id, "username": "surveyor-b", "role": "surveyor"}}
    page.evaluate(remember, someone_else)
    assert page.evaluate(fetch_villages).startswith("failed")
    page.evaluate(remember, None)  # nobody logged in on the phone
    assert page.evaluate(fetch_villages).startswith("failed")


def test_logging_out_on_the_website_leaves_nothing_of_the_user_for_the_next_one(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    _open_app_through_the_worker(page, live_server)
    page.goto(f"{live_server}/")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    page.wait_for_selector("body[data-signed-out]")
    assert _holds_a_names(cached_bodies(page)) == []
    assert remembered_session(page)["session"] is None

    go_offline(context)  # the next person opens the field app with no signal
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("[data-status] a[href*='/login']")
    assert not _holds_a_names([page.locator("body").inner_text()])
    assert page.locator("[data-items] li[data-uuid]").count() == 0


def test_a_queue_left_open_in_a_tab_is_never_sent_under_the_next_surveyors_account(live_server, phone, world):
    colleague = make_user("surveyor-a2", "surveyor", township=world.township_a)  # same township
    db.session.commit()
    page, context = phone, phone.context
    _accept_dialogs(page)
    login(page, live_server)
    open_app(page, live_server)
    go_offline(context)
    for number, name in (("5组1号", "甲一"), ("5组2号", "甲二")):
        start_survey(page, "甲村")
        fill_survey(page, complete_answers(house_number=number, head_name=name))
    assert outbox_count(page) == 2

    context.clear_cookies()  # surveyor-a's login went away ...
    go_online(context)
    other = context.new_page()  # ... and a colleague logs in on the same phone, in another tab
    _accept_dialogs(other)
    login(other, live_server, "surveyor-a2")
    open_app(other, live_server)

    page.locator("[data-sync-now]").click()  # surveyor-a's tab tries to send
    page.wait_for_selector("[data-status][data-about=other_user]")
    status = page.locator("[data-status]").inner_text()
    assert "surveyor-a2" in status and "surveyor-a " in status  # signed in as whom; log in as whom
    assert outbox_count(page) == 2
    assert page.locator('[data-items] li[data-state="queued"]').count() == 2
    assert _surveys() == []
    db.session.expire_all()
    assert db.session.scalars(select(Survey).where(Survey.created_by_id == colleague.id)).all() == []

    # Once surveyor-a is back on the server, the queue goes under surveyor-a's name.
    other.locator("[data-logout]").click()
    other.wait_for_url("**/login")
    login(page, live_server)
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "document.querySelector('[data-outbox-count]').textContent === '0'", 20)
    surveys = _surveys()
    assert sorted(s.answers["head_name"] for s in surveys) == ["甲一", "甲二"]
    assert {s.created_by_id for s in surveys} == {world.surveyor_a.id}


def test_an_offline_logout_locks_the_phone_and_ends_the_session_first_thing_back_online(
        live_server, phone, world, browser, server_requests):
    page, context = phone, phone.context
    _accept_dialogs(page)  # the warning about an unsent survey
    login(page, live_server)
    _open_app_through_the_worker(page, live_server)
    go_offline(context)
    start_survey(page, "甲村")
    fill_survey(page, complete_answers(house_number="6组1号", head_name="甲离"))
    cookies_before = context.cookies()

    page.locator("[data-logout]").click()
    page.wait_for_selector("[data-status] a[href*='/login']")  # locked at once
    shown = page.locator("body").inner_text()
    assert not _holds_a_names([shown]) and "甲离" not in shown and "surveyor-a" not in shown
    assert page.locator("[data-items] li[data-uuid]").count() == 0
    assert _holds_a_names(cached_bodies(page)) == []
    assert remembered_session(page) == {"session": None, "logout_pending": True}
    page.reload()  # still locked when opened again
    page.wait_for_selector("[data-status] a[href*='/login']")
    assert not _holds_a_names([page.locator("body").inner_text()])

    del server_requests[:]
    go_online(context)
    page.wait_for_url("**/login")  # the logout is completed, then the login page shows
    wait_until(page, "document.body.dataset.signedOut === 'true'")
    assert remembered_session(page) == {"session": None, "logout_pending": False}
    changes = [(method, path) for method, path in server_requests if method != "GET"]
    assert changes[0] == ("POST", "/logout")
    assert not any(path.startswith("/api/v1/surveys") for _, path in changes)
    assert page.evaluate("fetch('/api/v1/session').then(r => r.status)") == 401
    replay = browser.new_context()  # the cookies from before the logout no longer log anyone in
    try:
        replay.add_cookies(cookies_before)
        assert replay.request.get(f"{live_server}/api/v1/session").status == 401
    finally:
        replay.close()
    assert _surveys() == []


def test_the_sites_logout_button_without_signal_locks_the_phone_until_the_server_hears_of_it(
        live_server, phone, world, server_requests):
    page, context = phone, phone.context
    login(page, live_server)
    _open_app_through_the_worker(page, live_server)
    page.goto(f"{live_server}/")
    go_offline(context)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_selector("[data-status][data-about=logged_out]")  # the field app, locked
    assert not _holds_a_names([page.locator("body").inner_text()])
    assert _holds_a_names(cached_bodies(page)) == []
    assert remembered_session(page) == {"session": None, "logout_pending": True}
    page.close()

    del server_requests[:]
    go_online(context)
    page = context.new_page()  # whoever opens the site next
    page.goto(f"{live_server}/")
    page.wait_for_url("**/login?*")
    assert server_requests[:2] == [("GET", "/api/v1/session"), ("POST", "/logout")]
    assert page.evaluate("fetch('/api/v1/session').then(r => r.status)") == 401
    assert remembered_session(page)["logout_pending"] is False


def test_a_viewer_sees_the_field_app_is_read_only_and_cannot_start_a_survey(live_server, phone, world):
    page = phone
    login(page, live_server, "viewer-city")
    page.goto(f"{live_server}/app/")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("[data-status][data-about=read_only]").is_visible()
    assert page.locator("[data-new-survey]").is_hidden()
    assert page.locator("#new-village option").count() <= 1  # no village list fetched for nothing

    # A survey that reached this viewer's phone some other way cannot be filled in either.
    survey_uuid = str(uuid.uuid4())
    page.evaluate("""async ([userId, survey]) => {
      const { openUserDb, put } = await import("/static/js/app/store.js");
      const userDb = await openUserDb(userId);
      await put(userDb, "surveys", survey);
      userDb.close();
    }""", [world.viewer_city.id, {"uuid": survey_uuid, "state": "draft", "status": "draft", "year": 2026,
                                   "village_id": world.village_a.id, "answers": {}}])
    page.goto(f"{live_server}/app/survey#{survey_uuid}")
    page.wait_for_selector("[data-status][data-about=read_only]")
    assert page.locator("[data-survey-form]").is_hidden()


def test_the_outbox_renews_an_expired_token_on_the_errors_code_whatever_its_text(live_server, phone, world):
    page, context = phone, phone.context
    login(page, live_server)
    open_app(page, live_server)
    batches = []

    def expire_the_first_token(route):
        batches.append(route.request.headers.get("x-csrftoken"))
        if len(batches) == 1:
            route.fulfill(status=400, content_type="application/json",
                          json={"error": "Jeton périmé", "status": 400, "code": "csrf_expired"})
        else:
            route.continue_()

    context.route("**/api/v1/surveys/batch", expire_the_first_token)
    result = page.evaluate("""async ([villageId, answers]) => {
      const { currentSession, openUserDb, put } = await import("/static/js/app/store.js");
      const { syncOutbox } = await import("/static/js/app/outbox.js");
      const session = await currentSession();
      const userDb = await openUserDb(session.user.id);
      await put(userDb, "surveys", {
        uuid: crypto.randomUUID(), state: "queued", status: "submitted", year: new Date().getFullYear(),
        form_version: session.form_version, village_id: villageId, household_id: null, answers,
        made_by: session.user.id, queued_at: Date.now() });
      const result = await syncOutbox(userDb, { force: true });
      userDb.close();
      return result;
    }""", [world.village_a.id, complete_answers(house_number="7组7号", head_name="令牌户")])
    assert result["sent"] == 1 and not result["offline"]
    assert len(batches) == 2
    assert [s.answers["head_name"] for s in _surveys()] == ["令牌户"]


def test_the_worker_keeps_no_list_that_the_server_made_for_another_user(live_server, phone, world):
    # The phone still names surveyor-a while the server's session is already surveyor-b's (B logged
    # in in another tab): B's list, asked from A's page, is answered but never kept as A's.
    page, context = phone, phone.context
    login(page, live_server)
    _open_app_through_the_worker(page, live_server)
    context.clear_cookies()  # A's cookies went away; B logs in by a request of the same browser
    html = context.request.get(f"{live_server}/login").text()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    context.request.post(f"{live_server}/login", form={"username": "surveyor-b", "password": PASSWORD,
                                                       "csrf_token": token})
    assert remembered_session(page)["session"]["user"]["username"] == "surveyor-a"
    answer = page.evaluate("fetch('/api/v1/villages').then(r => r.json()).then(d => JSON.stringify(d))")
    assert "丙村" in answer
    assert not [body for body in cached_bodies(page) if "丙村" in body]
    assert _holds_a_names(cached_bodies(page))  # A's own copy is still there for A
