"""In Chromium: a county reviewer's dashboard on a 390 × 844 phone and a 1280 × 800 desktop. The
page never scrolls sideways (wide tables scroll in their own box), the charts are drawn (their
colours reach the page despite a CSP without inline styles) and take the width they are given."""

import pytest

from tests.browser.helpers import login
from tests.evaluations.conftest import YEAR, add_surveys
from village_survey.evaluations import precomputed
from village_survey.extensions import db

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def county_a_surveyed(world):
    add_surveys(world.village_a, 32, seed=1)
    add_surveys(world.village_a, 3, seed=2, status="submitted")
    add_surveys(world.village_a2, 12, seed=3)
    add_surveys(world.village_a, 20, seed=4, year=YEAR - 1)
    add_surveys(world.village_a2, 10, seed=5, year=YEAR - 1)
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    return world


def _look(browser, base, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1,
                                  is_mobile=viewport["width"] < 500, has_touch=viewport["width"] < 500)
    page = context.new_page()
    login(page, base, "reviewer-a")
    page.goto(f"{base}/?year={YEAR}")
    return context, page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_county_dashboard_fits_the_screen_and_draws_its_charts(live_server, browser, county_a_surveyed,
                                                                    tmp_path, viewport):
    context, page = _look(browser, live_server, viewport)
    try:
        width = viewport["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("[data-progress] table").is_visible()
        charts = page.locator("[data-chart]")
        assert charts.count() == 10
        for n in range(charts.count()):
            svg = charts.nth(n).locator("svg")
            svg.scroll_into_view_if_needed()
            assert svg.is_visible()
            box = svg.bounding_box()
            assert box["width"] > 0.6 * (width if width < 500 else width / 2 - 60) and box["height"] > 80
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        # a drawn bar has its colour (a style attribute would have been refused: black)
        first_bar = page.locator('[data-chart="stars"] svg g[id$="-bar-0-0"] path').first
        assert page.evaluate("e => getComputedStyle(e).fill", first_bar.element_handle()) != "rgb(0, 0, 0)"
        # each chart's data opens as a table, which scrolls in its own box if it is wider
        page.locator('[data-chart="targets"] summary').click()
        assert page.locator('[data-chart="targets"] details table').is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # on a desktop two charts stand side by side; on a phone, one above the other
        first, second = (charts.nth(n).bounding_box() for n in (0, 1))
        assert (first["y"] == second["y"]) == (width >= 960)
        page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
    finally:
        context.close()
