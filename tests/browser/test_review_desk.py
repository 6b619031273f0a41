"""On a phone-sized screen in Chromium: a county reviewer works through the review queue with
approve, return with a comment and next, landing each time on the next survey of the same queue."""

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from tests.browser.helpers import login
from tests.conftest import Auth
from tests.factories import make_household
from tests.surveys.conftest import Api, body, new_uuid
from village_survey.extensions import db
from village_survey.surveys.models import Survey

pytestmark = pytest.mark.browser


def _submitted_surveys(app, world, count):
    """`count` surveys of village A submitted by surveyor-a, one a day; their UUIDs newest first."""
    households = [world.household_a] + [make_household(world.village_a, f"5组{n}号", f"孙{n}")
                                        for n in range(1, count)]
    db.session.commit()
    client = app.test_client()
    phone = Api(client, Auth(client)).login("surveyor-a")
    uuids = []
    for n, household in enumerate(households):
        uuid = new_uuid()
        answers = {"house_number": household.house_number, "head_name": household.head_name}
        assert phone.put(uuid, body(world.village_a, household=household, **answers)).status_code == 201
        db.session.execute(update(Survey).where(Survey.uuid == uuid)
                           .values(submitted_at=dt.datetime(2026, 11, 1, 3) + dt.timedelta(days=n)))
        db.session.commit()
        uuids.append(uuid)
    return list(reversed(uuids))


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def _on_survey(page, base, uuid):
    page.wait_for_url(re.compile(rf"{re.escape(base)}/surveys/{uuid}\?queue="))
    assert page.locator("[data-decision-bar]").is_visible()


def test_a_reviewer_works_through_the_queue_on_a_phone(app, live_server, phone, world, tmp_path):
    first, second, third, fourth = _submitted_surveys(app, world, 4)
    page = phone
    login(page, live_server, "reviewer-a")
    page.locator('nav a[href="/review/"]').click()
    page.wait_for_url(f"{live_server}/review/")
    rows = page.locator("[data-queue] [data-row]")
    assert rows.count() == 4
    assert [rows.nth(n).get_attribute("data-row") for n in range(4)] == [first, second, third, fourth]
    assert page.locator('[data-count-status="submitted"] b').inner_text() == "4"
    assert rows.first.locator('[data-flag="no_house_photo"]').is_visible()
    assert _fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    # Approve the newest: on to the next one.
    rows.first.get_by_role("link").click()
    _on_survey(page, live_server, first)
    assert page.locator("[data-flags]").is_visible() and page.locator("[data-submitted]").is_visible()
    assert _fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "survey.png"), full_page=True)
    page.get_by_role("button", name="通过").click()
    _on_survey(page, live_server, second)

    # Return the second with a comment: on to the third.
    page.get_by_label("意见").fill("请补拍房屋正面照片")
    page.get_by_role("button", name="退回调查员").click()
    _on_survey(page, live_server, third)

    # Skip the third: on to the fourth; approve it: back to the third, the only one left waiting.
    page.locator("[data-next]").click()
    _on_survey(page, live_server, fourth)
    page.get_by_role("button", name="通过").click()
    _on_survey(page, live_server, third)

    db.session.expire_all()
    statuses = dict(db.session.execute(select(Survey.uuid, Survey.status)).all())
    assert statuses == {first: "approved", second: "returned", third: "submitted", fourth: "approved"}
    assert db.session.scalars(select(Survey.reviewer_comment).where(Survey.uuid == second)).one() \
        == "请补拍房屋正面照片"
    page.goto(f"{live_server}/review/")
    assert page.locator('[data-count-status="submitted"] b').inner_text() == "1"
    assert page.locator('[data-count-status="approved"] b').inner_text() == "2"
