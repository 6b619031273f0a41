"""The dashboard: progress counted from the surveys, indicators equal to a fresh scoring, each user
sees their own scope's children only, a year selector, a notice before the figures are built,
and every chart inline with its data table."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import Auth
from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from village_survey.areas.models import Household, Village
from village_survey.dashboards import drawing, services as dashboards, texts
from village_survey.evaluations import precomputed, services
from village_survey.extensions import db
from village_survey.surveys.models import Survey

CHART_KEYS = {"stars", "targets", "cooking", "heating", "hot_water", "lighting", "pv", "co2e", "ranking",
              "change"}


@pytest.fixture
def surveyed(world):
    """Two years of surveys in county A (both townships) and county B, in every status; built."""
    add_surveys(world.village_a, 32, seed=1)
    add_surveys(world.village_a, 3, seed=2, status="submitted")
    add_surveys(world.village_a, 2, seed=3, status="returned")
    add_surveys(world.village_a, 1, seed=4, status="draft")
    add_surveys(world.village_a2, 12, seed=5)
    add_surveys(world.village_a2, 4, seed=6, status="submitted")
    add_surveys(world.village_b, 15, seed=7)
    add_surveys(world.village_b, 5, seed=8, status="returned")
    add_surveys(world.village_a, 20, seed=9, year=YEAR - 1)
    add_surveys(world.village_a2, 10, seed=10, year=YEAR - 1)
    add_surveys(world.village_b, 6, seed=11, year=YEAR - 2, status="submitted")
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    return world


def _page(app, username, query=f"?year={YEAR}"):
    """The dashboard as `username` sees it (a client of their own)."""
    client = app.test_client()
    Auth(client).login(username)
    response = client.get("/" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _counts(page, area):
    """{column: number} of one progress row (data-area="township:3" or the total)."""
    marker = 'data-total' if area is None else f'data-area="{area}"'
    row = page[page.index(marker):]
    row = row[:row.index("</tr>")]
    return {name: int(value.replace(",", "")) for name, value in
            re.findall(r'data-count="(\w+)">(?:<a [^>]*>)?([\d,]+)', row) if name != "coverage"}


def _direct_counts(village_ids, year):
    rows = db.session.execute(select(Survey.status, func.count()).join(Household)
                              .where(Household.village_id.in_(village_ids), Survey.year == year)
                              .group_by(Survey.status)).all()
    return dict(rows)


def test_progress_of_a_county_equals_a_count_of_its_surveys(app, surveyed):
    w = surveyed
    page = _page(app, "reviewer-a")
    for township in (w.township_a, w.township_a2):
        villages = list(db.session.scalars(select(Village.id).where(Village.township_id == township.id)))
        direct = _direct_counts(villages, YEAR)
        registered = db.session.scalar(select(func.sum(Village.registered_households))
                                       .where(Village.township_id == township.id))
        shown = _counts(page, f"township:{township.id}")
        assert shown == {"registered": registered, "surveyed": sum(direct.values()),
                         "submitted": direct.get("submitted", 0), "approved": direct.get("approved", 0),
                         "returned": direct.get("returned", 0)}
    assert _counts(page, None) == {"registered": 200, "surveyed": 54, "submitted": 7, "approved": 44,
                                   "returned": 2}


def test_progress_of_the_city_is_by_county_and_of_a_township_by_village(app, surveyed):
    w = surveyed
    city = _page(app, "viewer-city")
    assert _counts(city, f"county:{w.county_b.id}") == {"registered": 100, "surveyed": 20, "submitted": 0,
                                                         "approved": 15, "returned": 5}
    assert _counts(city, None)["surveyed"] == 74
    township = _page(app, "surveyor-a")
    assert _counts(township, f"village:{w.village_a.id}") == {"registered": 100, "surveyed": 38, "submitted": 3,
                                                               "approved": 32, "returned": 2}


def test_headline_indicators_equal_a_fresh_scoring(app, surveyed):
    w = surveyed
    criteria = services.criteria_named(None)
    area = services.Area("county", w.county_a.id)
    fresh = services.evaluate_scored(services.score_area(YEAR, criteria, area)).of("county", w.county_a.id)
    before = services.evaluate_scored(services.score_area(YEAR - 1, criteria, area)).of("county", w.county_a.id)
    with app.test_request_context(), force_locale("zh_CN"):
        board = dashboards.dashboard(w.reviewer_a, YEAR)
        assert board.built and board.has_figures
        assert board.score == fresh["score"]
        expected = [(i["id"], texts.indicator_value(i, i["value"]), texts.indicator_value(i, i["target"]),
                     texts.indicator_value(i, b["value"]))
                    for i, b in zip(fresh["indicators"], before["indicators"])]
        assert [(h.id, h.value, h.target, h.previous) for h in board.headlines] == expected


def test_the_children_of_a_county_are_the_charts_rows_and_the_tables_rows(app, surveyed):
    w = surveyed
    page = _page(app, "reviewer-a")
    assert set(re.findall(r'data-area="(\w+:\d+)"', page)) == {f"township:{w.township_a.id}",
                                                                f"township:{w.township_a2.id}"}
    # nothing of county B: neither its township nor its village, in a table or a chart
    assert "丙镇" not in page and "丙村" not in page and "浔阳区" not in page


def test_a_surveyor_sees_their_own_villages_after_their_todo(app, surveyed):
    w = surveyed
    page = _page(app, "surveyor-a")
    assert set(re.findall(r'data-area="(\w+:\d+)"', page)) == {f"village:{w.village_a.id}"}
    assert "乙村" not in page and "丙村" not in page
    assert page.index("data-todo") < page.index("data-progress") < page.index("data-charts")


def test_the_year_selector_chooses_the_year_and_falls_back_to_this_year(app, surveyed):
    w = surveyed
    page = _page(app, "reviewer-a", f"?year={YEAR - 1}")
    assert re.search(rf'<option value="{YEAR - 1}" selected>', page)
    assert {str(YEAR), str(YEAR - 1), str(YEAR - 2)} <= set(re.findall(r'<option value="(\d{4})"', page))
    assert _counts(page, f"township:{w.township_a.id}")["approved"] == 20
    # the year before has no figures in county A: no change chart, no last year's values
    assert 'data-chart="change"' not in page
    assert dashboards.year_from("1999") == dashboards.year_from("abc") == dashboards.year_from(None)


def test_before_the_figures_are_built_the_dashboard_shows_progress_and_a_notice(app, world):
    add_surveys(world.village_a, 12, seed=1)
    db.session.commit()
    page = _page(app, "reviewer-a")
    assert "data-not-built" in page and "flask evaluate --rebuild" in page
    assert "data-charts" not in page and "<svg" not in page and "data-headlines" not in page
    assert _counts(page, f"township:{world.township_a.id}")["approved"] == 12


def test_every_chart_is_inline_with_its_alt_text_and_data_table(app, surveyed):
    page = _page(app, "reviewer-a")
    figures = re.findall(r'<figure class="chart card" data-chart="(\w+)".*?</figure>', page, re.S)
    assert set(figures) == CHART_KEYS
    for key in CHART_KEYS:
        figure = re.search(rf'data-chart="{key}".*?</figure>', page, re.S).group(0)
        svg = re.search(r"<svg\b[^>]*>", figure).group(0)
        assert 'role="img"' in svg and 'aria-label="' in svg
        alt = html.unescape(re.search(r'aria-label="([^"]*)"', svg).group(1))
        assert html.unescape(re.search(r"<figcaption>(.*?)<", figure, re.S).group(1)).strip() == alt
        assert "<details data-chart-table>" in figure and "<table" in figure.split("<details")[1]
        # a page whose CSP allows no inline style: colours as attributes
        assert 'style="' not in figure and "<style" not in figure and 'fill="' in figure
    assert page.count("<svg") == len(CHART_KEYS)


def test_indicators_and_counts_link_to_the_lists_behind_them(app, surveyed):
    w = surveyed
    page = html.unescape(_page(app, "reviewer-a"))
    links = [urlsplit(h) for h in re.findall(r'href="([^"]+)"', page)]
    evaluation_lists = [parse_qs(u.query) for u in links if u.path == "/evaluations/"]
    assert {"level": ["township"], "year": [str(YEAR)], "sort": ["pv_household_rate"], "dir": ["desc"]} in evaluation_lists
    assert {"level": ["township"], "year": [str(YEAR)], "sort": ["score"], "dir": ["desc"]} in evaluation_lists
    queues = [parse_qs(u.query) for u in links if u.path == "/review/"]
    assert {"status": ["returned"], "township": [str(w.township_a.id)]} in queues
    # a viewer, who does not review, is sent to the area pages
    viewer = _page(app, "viewer-a")
    assert "/review/" not in viewer and f'href="/areas/townships/{w.township_a.id}"' in viewer


def test_a_warm_dashboard_draws_no_chart_again(app, surveyed):
    drawing.clear_cache()
    client = app.test_client()
    Auth(client).login("reviewer-a")
    def page():  # the forms' CSRF tokens carry the second they were signed: not the charts' business
        return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"',
                      client.get(f"/?year={YEAR}").get_data(as_text=True))

    first = page()
    misses = drawing.cache_info().misses
    assert misses == len(CHART_KEYS)
    assert page() == first
    assert drawing.cache_info().misses == misses
    # in English, the same data is drawn anew, with English words
    with app.test_request_context(), force_locale("en"):
        english = dashboards.dashboard(surveyed.reviewer_a, YEAR)
    assert drawing.cache_info().misses == 2 * misses
    assert "approved farmhouses" in english.charts[0].chart.alt


def test_an_approval_changes_the_figures_drawn(app, surveyed):
    before = _page(app, "reviewer-a")
    add_survey(surveyed.village_a2, status="approved")
    db.session.commit()
    precomputed.rebuild()
    db.session.commit()
    after = _page(app, "reviewer-a")
    stars = lambda page: re.search(r'data-chart="stars".*?</figure>', page, re.S).group(0)  # noqa: E731
    assert stars(before) != stars(after)
