"""Where users find the reports: the main menu and the evaluation pages of villages, counties
and the city (not of townships, which have no report), only for roles that may ask for one."""

import re

import pytest


def _page(auth, username, path):
    auth.login(username)
    return auth.client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("username, shown", [("reviewer-a", True), ("viewer-a", True), ("admin", True),
                                             ("surveyor-a", False)])
def test_the_menu_links_the_reports_for_roles_that_have_them(world, auth, username, shown):
    html = _page(auth, username, "/")
    assert ('href="/reports/"' in html) is shown


def test_the_village_county_and_city_evaluation_pages_offer_a_pdf_report(world, auth):
    auth.login("admin")
    for path, level in ((f"/evaluations/village/{world.village_a.id}", "village"),
                        (f"/evaluations/county/{world.county_a.id}", "county"),
                        ("/evaluations/city", "city")):
        html = auth.client.get(path).get_data(as_text=True)
        link = re.search(r'data-report-link><a class="button" href="([^"]+)"', html)
        assert link, path
        url = link.group(1).replace("&amp;", "&")
        assert url.startswith("/reports/new?") and f"level={level}" in url
        assert auth.client.get(url).status_code == 200
    township = auth.client.get(f"/evaluations/township/{world.township_a.id}").get_data(as_text=True)
    assert "data-report-link" not in township


def test_a_surveyor_gets_no_report_button(world, auth):
    html = _page(auth, "surveyor-a", f"/evaluations/village/{world.village_a.id}")
    assert "data-report-link" not in html


def test_admins_find_the_api_tokens_and_the_import_page(world, auth):
    html = _page(auth, "admin", "/admin/areas/")
    assert 'href="/admin/api-tokens/"' in html
    assert 'data-import-link' in html and 'href="/imports/"' in html


def test_others_do_not_see_the_api_tokens(world, auth):
    assert "/admin/api-tokens/" not in _page(auth, "reviewer-a", "/")


def test_the_review_desk_and_the_evaluation_list_offer_downloads(world, auth):
    desk = _page(auth, "reviewer-a", "/review/")
    assert "/exports/surveys.xlsx" in desk and "/exports/surveys.csv" in desk
    listing = auth.client.get("/evaluations/").get_data(as_text=True)
    assert "/exports/evaluations.xlsx" in listing
