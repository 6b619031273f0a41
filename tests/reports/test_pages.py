"""Report pages by role and area: reviewers their county and its villages, viewers and admins
their area, township staff none; 404 outside the scope, and never a 500 on bad input."""

import re

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tests.reports.conftest import YEAR
from tests.reports.test_jobs import ask, job_of
from village_survey.extensions import db
from village_survey.reports import services
from village_survey.reports.models import ReportJob
from village_survey.scoring import load_criteria


def make_job(world, area, full_names=False, by=None):
    """A finished job of `area` (a village or county model, or None for the city)."""
    level = "city" if area is None else "village" if hasattr(area, "township_id") else "county"
    chosen = services.ReportArea(level, getattr(area, "id", None), getattr(area, "code", None),
                                 getattr(area, "name", None))
    job = services.new_job(chosen, YEAR, load_criteria("jiujiang-2025"), "zh_CN", full_names, by or world.admin)
    db.session.commit()
    assert services.run_job(job.id, 1) == "done"
    return job


@pytest.fixture
def jobs(world, renderer, reports_folder):
    make_user("reviewer-b", "reviewer", county=world.county_b)
    db.session.commit()
    return {"village_a": make_job(world, world.village_a), "village_b": make_job(world, world.village_b),
            "county_a": make_job(world, world.county_a), "city": make_job(world, None),
            "names_a": make_job(world, world.village_a, full_names=True)}


# who sees which report (others: 404)
SEES = {
    "reviewer-a": {"village_a", "county_a", "names_a"},
    "reviewer-b": {"village_b"},
    "viewer-a": {"village_a", "county_a"},  # not the one with full names
    "viewer-city": {"village_a", "village_b", "county_a", "city"},
    "admin": {"village_a", "village_b", "county_a", "city", "names_a"},
    "surveyor-a": set(),
}


@pytest.mark.parametrize("username", sorted(SEES))
def test_each_role_sees_the_reports_of_its_area_and_nothing_else(auth, jobs, username):
    auth.login(username)
    listed = auth.client.get("/reports/")
    for name, job in jobs.items():
        visible = name in SEES[username]
        for path in (f"/reports/{job.uuid}", f"/reports/{job.uuid}.pdf", f"/reports/{job.uuid}/status.json"):
            assert auth.client.get(path).status_code == (200 if visible else 404), (name, path)
        if listed.status_code == 200:
            assert (job.uuid in listed.get_data(as_text=True)) == visible, name
    assert listed.status_code == (403 if username == "surveyor-a" else 200)


@pytest.mark.parametrize("username, query, status", [
    ("reviewer-a", "level=village&area_id={village_a}", 200),
    ("reviewer-a", "level=county&area_id={county_a}", 200),
    ("reviewer-a", "", 200),
    ("reviewer-a", "level=village&area_id={village_b}", 404),
    ("reviewer-a", "level=county&area_id={county_b}", 404),
    ("reviewer-a", "level=city", 404),
    ("viewer-a", "level=village&area_id={village_a}", 200),
    ("viewer-city", "level=city", 200),
    ("viewer-city", "level=village&area_id={village_b}", 200),
    ("admin", "level=county&area_id={county_b}", 200),
    ("surveyor-a", "level=village&area_id={village_a}", 403),
    ("reviewer-a", "level=township&area_id={village_a}", 404),
    ("reviewer-a", "level=village&area_id=abc", 404),
    ("reviewer-a", "level=village&area_id=99999999999999", 404),
    ("reviewer-a", "level=village", 404),
    ("reviewer-a", "level=village&area_id={village_a}&criteria=nonsense", 422),
    ("reviewer-a", "level=village&area_id={village_a}&year=abc", 200),
])
def test_the_request_page_by_role_and_area(world, auth, username, query, status):
    auth.login(username)
    ids = {"village_a": world.village_a.id, "village_b": world.village_b.id, "county_a": world.county_a.id,
           "county_b": world.county_b.id}
    response = auth.client.get(f"/reports/new?{query.format(**ids)}")
    assert response.status_code == status


def test_the_request_page_offers_full_names_only_to_those_who_may_see_them(world, auth):
    auth.login("reviewer-a")
    html = auth.client.get(f"/reports/new?level=village&area_id={world.village_a.id}").get_data(as_text=True)
    assert 'name="full_names"' in html and f'selected value="village:{world.village_a.id}"' in html
    auth.post("/logout")
    auth.login("viewer-a")
    html = auth.client.get(f"/reports/new?level=village&area_id={world.village_a.id}").get_data(as_text=True)
    assert 'name="full_names"' not in html


def test_full_names_are_printed_only_when_asked_for_by_someone_who_may(world, auth, renderer, reports_folder):
    auth.login("viewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}", full_names="y"))
    assert job.full_names is False  # a viewer's form has no such field: the value is ignored
    auth.post("/logout")
    auth.login("reviewer-a")
    job = job_of(ask(auth, f"village:{world.village_a.id}", full_names="y"))
    assert job.full_names is True and renderer.calls[-1][-1] is True
    county = job_of(ask(auth, f"county:{world.county_a.id}", full_names="y"))
    assert county.full_names is False  # annual reports list no household


def test_a_request_outside_the_scope_is_404_and_makes_nothing(world, auth, renderer, reports_folder):
    auth.login("reviewer-a")
    for area in (f"village:{world.village_b.id}", f"county:{world.county_b.id}", "city:", "township:1",
                 "village:x", "village:", "", "nonsense", "village:99999999999999"):
        assert ask(auth, area).status_code == 404, area
    assert db.session.scalars(select(ReportJob)).all() == [] and renderer.calls == []


def test_bad_form_values_are_refused_with_the_reason_not_a_500(world, auth, renderer, reports_folder):
    auth.login("reviewer-a")
    area = f"village:{world.village_a.id}"
    for form in ({"year": "1999"}, {"year": "abc"}, {"year": str(YEAR + 5)}, {"locale": "fr"}, {"locale": ""}):
        response = auth.post("/reports/new", {"area": area, "year": str(YEAR), "locale": "zh_CN", **form},
                             token_from="/reports/new")
        assert response.status_code == 422, form
        assert 'class="error"' in response.get_data(as_text=True)
    no_token = auth.client.post("/reports/new", data={"area": area, "year": str(YEAR), "locale": "zh_CN"})
    assert no_token.status_code == 400
    assert db.session.scalars(select(ReportJob)).all() == []


def test_bad_report_addresses_are_404(world, auth, jobs):
    auth.login("admin")
    uuid = jobs["village_a"].uuid
    for path in ("/reports/not-a-uuid", "/reports/not-a-uuid.pdf", "/reports/12345678-1234-1234-1234-123456789012",
                 f"/reports/{uuid[:-1]}x", f"/reports/{uuid}/status", "/reports/%00.pdf",
                 "/reports/12345678-1234-1234-1234-123456789012/status.json"):
        assert auth.client.get(path).status_code == 404, path
    assert auth.client.get(f"/reports/{uuid.upper()}").status_code == 200
    missing = auth.client.get("/reports/12345678-1234-1234-1234-123456789012/status.json",
                              headers={"Accept": "application/json"})
    assert missing.get_json()["code"] == "not_found"
    assert auth.client.get("/reports/?page=abc&show=nonsense").status_code == 200


def test_retrying_is_for_failed_reports_and_needs_the_form_token(world, auth, jobs):
    auth.login("admin")
    uuid = jobs["village_a"].uuid
    assert auth.client.post(f"/reports/{uuid}/retry").status_code == 400
    assert auth.post(f"/reports/{uuid}/retry", token_from=f"/reports/{uuid}").status_code in (303, 409)
    db.session.expire_all()
    assert jobs["village_a"].attempt == 1 and jobs["village_a"].status == "done"
    auth.post("/logout")
    auth.login("reviewer-b")
    assert auth.post(f"/reports/{uuid}/retry", token_from="/reports/").status_code == 404
