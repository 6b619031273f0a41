"""The evaluation list as a table: every village indicator of the criteria set beside score,
grade, stars and coverage, each with its change from last year, sortable by any column; read
from the precomputed figures once they are built, scored per request (without changes) before."""

import re

import pytest
from sqlalchemy import event

from tests.evaluations.conftest import YEAR, add_survey, add_surveys
from tests.evaluations.test_pages import in_english
from tests.factories import make_village
from village_survey.evaluations import finalizing, precomputed, services
from village_survey.extensions import db
from village_survey.scoring import load_criteria

LAST_YEAR = YEAR - 1
COLUMNS = ("green_farmhouse_rate", "star_farmhouse_rate", "clean_cooking_rate", "efficient_lighting_rate",
           "pv_household_rate", "modern_renewable_share", "envelope_rate", "net_co2e_per_person")


@pytest.fixture(params=["precomputed", "live"])
def mode(request):
    return request.param


def prepare(mode):
    """Build the precomputed figures (as `flask evaluate --rebuild` does), or leave them unbuilt."""
    db.session.commit()
    if mode == "precomputed":
        precomputed.rebuild()
        db.session.commit()
    assert precomputed.built(load_criteria()) == (mode == "precomputed")


def county_villages(world):
    """Four villages of county A: two graded with surveys in both years (the first burnt coal
    and cooked on electricity last year), one with surveys this year only, one with none."""
    world.village_a.registered_households = 14
    second = make_village(world.township_a, "201", "二村", registered=12)
    third = make_village(world.township_a2, "201", "三村", registered=11)
    for n in range(10):
        add_survey(world.village_a, year=LAST_YEAR, coal_kg=3000, heating="coal_brazier")
    add_surveys(world.village_a, 12, seed=71)  # a few cook on wood this year
    add_surveys(second, 10, seed=72, year=LAST_YEAR)
    add_surveys(second, 11, seed=73)
    add_surveys(third, 10, seed=74)
    return {"a": world.village_a, "second": second, "third": third, "empty": world.village_a2}


def rows(html):
    """{area id: row html} of the list's table, and the ids in the order shown."""
    found = re.findall(r'<tr data-area="village:(\d+)">(.*?)</tr>', html, re.S)
    return {int(ident): row for ident, row in found}, [int(ident) for ident, _row in found]


def cells(row):
    """{column: (value or None, change or None, better)} of a row's indicators, score and coverage."""
    found = {}
    for ident, value, body in re.findall(
            r'<td class="num" data-indicator="(\w+)"(?: data-value="([^"]*)")?>(.*?)</td>', row, re.S):
        found[ident] = (float(value) if value else None, *_change(body))
    score = re.search(r'<b data-score>([^<]*)</b>(.*?)</td>', row, re.S)
    found["score"] = (score.group(1), *_change(score.group(2)))
    coverage = re.search(r'<td class="num" data-coverage>(.*?)</td>', row, re.S)
    found["coverage"] = (None, *_change(coverage.group(1)))
    return found


def _change(body):
    change = re.search(r'data-change="([^"]+)" data-better="(\w+)"', body)
    return (float(change.group(1)), change.group(2)) if change else (None, None)


def results_of(village, year=YEAR):
    """What the area's own evaluation page shows (its frozen version if finalized, else a preview)."""
    return services.evaluation_for(services.Area("village", village.id), year, load_criteria()).results


def indicator_values(results):
    return {i["id"]: i["value"] for i in results["indicators"]}


def page(client, query=""):
    return client.get(f"/evaluations/?year={YEAR}&level=village{query}").get_data(as_text=True)


def test_a_column_for_each_indicator_of_the_set_with_the_areas_own_figures(auth, world, client, mode):
    villages = county_villages(world)
    prepare(mode)
    in_english(auth, "reviewer-a")
    html = page(client)
    criteria = load_criteria()
    indicators = [i.id for i in criteria.village.indicators if i.kind != "coverage"]
    assert tuple(indicators) == COLUMNS  # the set's order; survey coverage is the coverage column
    headers = re.findall(r'<th scope="col"[^>]*data-column="(\w+)"', html)
    assert headers == ["name", "score", "stars", *indicators, "coverage"]
    shown, _order = rows(html)
    assert set(shown) == {v.id for v in villages.values()}
    for village in villages.values():
        expected = results_of(village)
        row = cells(shown[village.id])
        for ident, value in indicator_values(expected).items():
            if ident in COLUMNS:
                assert row[ident][0] == value, (village.name, ident)
        assert row["score"][0] == (f"{expected['score']:g}" if expected["score"] is not None else "—")
        stars = re.search(r'data-stars="([\d,]*)"', shown[village.id]).group(1)
        assert stars == ",".join(str(n) for n in expected["star_counts"])
    empty = cells(shown[villages["empty"].id])
    assert all(empty[ident][0] is None for ident in COLUMNS)  # no surveys: no values, shown as —
    assert ">—<" in shown[villages["empty"].id]
    # the figures as a reader reads them: rates as percentages, CO2e per person with its unit
    assert re.search(r'data-indicator="clean_cooking_rate" data-value="[\d.]+">[\d.]+%', html)
    assert re.search(r'data-column="net_co2e_per_person".*?<span class="unit" data-unit>t CO2e/person</span>',
                     html, re.S)


def test_the_change_is_this_years_figure_minus_last_years(auth, world, client):
    villages = county_villages(world)
    prepare("precomputed")
    in_english(auth, "reviewer-a")
    html = page(client)
    assert f'data-changes="{LAST_YEAR}"' in html and "data-no-changes" not in html
    shown, _order = rows(html)
    for key in ("a", "second"):
        village = villages[key]
        now, then = results_of(village), results_of(village, LAST_YEAR)
        row = cells(shown[village.id])
        now_values, then_values = indicator_values(now), indicator_values(then)
        for ident in COLUMNS:
            assert row[ident][1] == pytest.approx(now_values[ident] - then_values[ident], abs=1e-9), ident
        assert row["score"][1] == pytest.approx(now["score"] - then["score"], abs=1e-9)
        assert row["coverage"][1] == pytest.approx(now["coverage"] - then["coverage"], abs=1e-9)
    # areas without last year's figures show no change, but coverage (0 without surveys) has one
    for key in ("third", "empty"):
        row = cells(shown[villages[key].id])
        assert all(row[ident][1] is None for ident in (*COLUMNS, "score"))
        assert row["coverage"][1] == pytest.approx(results_of(villages[key])["coverage"], abs=1e-9)

    first = cells(shown[villages["a"].id])
    co2e_change, co2e_better = first["net_co2e_per_person"][1:]
    assert co2e_change < 0 and co2e_better == "yes"  # less CO2e per person: better
    cooking_change, cooking_better = first["clean_cooking_rate"][1:]
    assert cooking_change < 0 and cooking_better == "no"  # fewer clean stoves: worse
    co2e_cell = re.search(r'data-indicator="net_co2e_per_person".*?</td>', shown[villages["a"].id], re.S).group(0)
    assert "▼" in co2e_cell and "better than last year" in co2e_cell  # the words screen readers hear
    cooking_cell = re.search(r'data-indicator="clean_cooking_rate".*?</td>', shown[villages["a"].id], re.S).group(0)
    assert "▽" in cooking_cell and "worse than last year" in cooking_cell
    assert re.search(r"−[\d.]+ pp", cooking_cell)  # a rate's change in percentage points


def test_without_precomputed_figures_the_page_says_why_it_shows_no_change(auth, world, client):
    county_villages(world)
    prepare("live")
    in_english(auth, "reviewer-a")
    html = page(client)
    assert 'data-no-changes="not_built"' in html and "flask evaluate --rebuild" in html
    assert "data-change=" not in html


def test_a_year_without_figures_last_year_shows_no_change_and_says_so(auth, world, client):
    add_surveys(world.village_a, 10, seed=75)
    prepare("precomputed")
    in_english(auth, "reviewer-a")
    html = page(client)
    assert 'data-no-changes="no_figures"' in html and f"nothing was evaluated in {LAST_YEAR}" in html
    assert "data-change=" not in html


def expected_order(villages, sort, descending):
    """Areas with a figure by it (ties by code), then those without one, whichever the direction."""
    def figure(village):
        results = results_of(village)
        if sort == "stars":
            counts = results["star_counts"]
            return sum(n * c for n, c in enumerate(counts)) / sum(counts) if sum(counts) else None
        if sort in ("score", "coverage"):
            return results[sort]
        return indicator_values(results)[sort]

    figures = {v.id: (figure(v), v.code) for v in villages}
    with_figure = sorted((i for i in figures if figures[i][0] is not None),
                         key=lambda i: (-figures[i][0] if descending else figures[i][0], figures[i][1]))
    return with_figure + sorted((i for i in figures if figures[i][0] is None), key=lambda i: figures[i][1])


def test_sorting_by_each_indicator_both_ways_lists_areas_without_a_value_last(auth, world, client, mode):
    villages = county_villages(world)
    prepare(mode)
    auth.login("reviewer-a")
    criteria = load_criteria()
    sorts = [i.id for i in criteria.village.indicators] + ["stars", "coverage"]
    for sort in sorts:
        for direction in ("asc", "desc"):
            _shown, order = rows(page(client, f"&sort={sort}&dir={direction}"))
            assert order == expected_order(villages.values(), sort, direction == "desc"), (sort, direction)
            if sort in COLUMNS:
                assert order[-1] == villages["empty"].id  # no value: last either way


def test_sorting_by_score_lists_ungraded_areas_after_graded_ones(auth, world, client, mode):
    villages = county_villages(world)
    prepare(mode)
    auth.login("reviewer-a")
    for direction in ("asc", "desc"):
        _shown, order = rows(page(client, f"&sort=score&dir={direction}"))
        graded = expected_order([villages["a"], villages["second"], villages["third"]], "score", direction == "desc")
        assert order == graded + [villages["empty"].id]


@pytest.mark.parametrize("sort", ["bogus", "__class__", "insufficient_data", "name%20", "NET_CO2E_PER_PERSON", "", "reasons"])
def test_an_unknown_sort_falls_back_to_score(auth, world, client, sort):
    county_villages(world)
    prepare("precomputed")
    auth.login("reviewer-a")
    response = client.get(f"/evaluations/?year={YEAR}&level=village&sort={sort}&dir=sideways")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert rows(html)[1] == rows(page(client, "&sort=score&dir=desc"))[1]
    assert re.search(r'data-column="score" aria-sort="descending"', html)


def test_header_links_toggle_the_direction_and_mark_the_current_sort(auth, world, client):
    county_villages(world)
    prepare("precomputed")
    in_english(auth, "reviewer-a")
    html = page(client, "&sort=clean_cooking_rate&dir=desc&page=1")
    marked = re.findall(r'data-column="(\w+)" aria-sort="(\w+)"', html)
    assert marked == [("clean_cooking_rate", "descending")]

    def link(column):
        header = re.search(rf'data-column="{column}"[^>]*>\s*<a href="([^"]+)"', html).group(1)
        return header.replace("&amp;", "&")

    assert "sort=clean_cooking_rate" in link("clean_cooking_rate") and "dir=asc" in link("clean_cooking_rate")
    # another column lists the best first: highest, or lowest for CO2e per person, A to Z by name
    assert "dir=desc" in link("pv_household_rate") and "dir=desc" in link("score")
    assert "dir=asc" in link("net_co2e_per_person") and "dir=asc" in link("name")
    assert all("page=" not in link(c) for c in ("score", "name"))  # a new order starts at page 1
    assert f"year={YEAR}" in link("score") and "level=village" in link("score")
    ascending = page(client, "&sort=clean_cooking_rate&dir=asc")
    assert re.findall(r'data-column="(\w+)" aria-sort="(\w+)"', ascending) == [("clean_cooking_rate", "ascending")]
    stars = re.search(r'data-column="stars"[^>]*>\s*<a [^>]*title="([^"]+)"', html).group(1)
    assert "mean" in stars.lower()  # the header says what sorting by stars means


def test_a_finalized_area_shows_its_frozen_figures(auth, world, client, mode):
    villages = county_villages(world)
    db.session.commit()
    finalizing.finalize(world.admin, services.Area("village", villages["second"].id), YEAR, load_criteria())
    db.session.commit()
    frozen = results_of(villages["second"])
    add_surveys(villages["second"], 5, seed=76)  # approved after finalizing: not in the frozen figures
    prepare(mode)
    auth.login("reviewer-a")
    html = page(client)
    shown, _order = rows(html)
    row = cells(shown[villages["second"].id])
    for ident, value in indicator_values(frozen).items():
        if ident in COLUMNS:
            assert row[ident][0] == value
    assert 'data-finalized="yes"' in shown[villages["second"].id]
    assert 'data-finalized="no"' in shown[villages["a"].id]
    live = services.preview(services.Area("village", villages["second"].id), YEAR, load_criteria()).results
    assert live["approved_surveys"] == frozen["approved_surveys"] + 5  # the frozen ones differ from now


def test_headers_are_the_indicators_labels_in_the_pages_language(auth, world, client):
    county_villages(world)
    prepare("precomputed")
    auth.login("reviewer-a")
    chinese = page(client)
    for indicator in load_criteria().village.indicators:
        if indicator.kind != "coverage":
            assert f">{indicator.label_zh}" in chinese and indicator.label_en not in chinese
    auth.post("/logout")
    in_english(auth, "reviewer-a")
    english = page(client)
    for indicator in load_criteria().village.indicators:
        if indicator.kind != "coverage":
            assert f">{indicator.label_en}" in english and indicator.label_zh not in english


def test_chinese_pages_give_co2e_per_person_in_chinese_units(auth, world, client):
    """Needs the catalog entries of /tmp/i18n/lists.tsv merged."""
    county_villages(world)
    prepare("precomputed")
    auth.login("reviewer-a")
    html = page(client)
    assert '<span class="unit" data-unit>吨二氧化碳当量/人</span>' in html
    assert re.search(r"[+−][\d.]+个百分点", html) and " pp" not in html


def test_the_list_scores_nothing_per_request_once_built(auth, world, client, monkeypatch):
    """With precomputed figures, a request reads them (last year's in one query, whatever the
    number of areas), never scores a farmhouse or an area."""
    villages = county_villages(world)
    prepare("precomputed")
    auth.login("reviewer-a")

    def refuse(*args, **kwargs):
        raise AssertionError("scored during a request")

    def requested():
        """The statements of one request for the list, which must score nothing."""
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with monkeypatch.context() as patched:
            patched.setattr(services, "score_area", refuse)
            patched.setattr(services, "score_farmhouse_record", refuse)
            patched.setattr(precomputed, "score_farmhouse_record", refuse)
            event.listen(db.engine, "before_cursor_execute", record)
            try:
                html = page(client, "&sort=net_co2e_per_person")
            finally:
                event.remove(db.engine, "before_cursor_execute", record)
        return html, statements

    _html, few = requested()
    for n in range(6):  # more villages with figures in both years
        village = make_village(world.township_a2, f"30{n}", f"新{n}村", registered=10)
        add_surveys(village, 3, seed=80 + n, year=LAST_YEAR)
        add_surveys(village, 3, seed=90 + n)
    prepare("precomputed")
    html, many = requested()
    assert len(rows(html)[1]) == len(villages) + 6
    assert len(many) == len(few)  # no query per area
    aggregates = [s for s in many if "FROM area_aggregates" in s]
    assert len(aggregates) == 2  # this year's figures and last year's, one query each
