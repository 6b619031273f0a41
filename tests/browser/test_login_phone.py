"""On a phone-sized screen in Chromium: log in, reach the dashboard, switch language."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_surveyor_logs_in_on_a_phone_and_reaches_the_dashboard(live_server, phone, world, tmp_path):
    page = phone
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    page.get_by_label("用户名").fill("surveyor-a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    stats = page.locator("[data-dashboard]")
    assert stats.is_visible()
    assert "1" in stats.inner_text()  # one village in the surveyor's township
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="区域", exact=True).click()
    assert page.get_by_role("heading", name="甲镇").is_visible()
    assert page.get_by_role("link", name="甲村").is_visible()


def test_wrong_password_shows_a_message_and_language_switch_works(live_server, phone, world):
    page = phone
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("surveyor-a")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    assert page.get_by_role("heading", name="Log in").is_visible()
