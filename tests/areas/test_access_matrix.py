"""Role × area matrix: everyone sees exactly their own area; outside it the answer is 404."""

import pytest
from werkzeug.routing import IntegerConverter

from village_survey.access import households_query, villages_query
from village_survey.extensions import db


def _pages(w):
    return {
        "county_a": f"/areas/counties/{w.county_a.id}",
        "county_b": f"/areas/counties/{w.county_b.id}",
        "township_a": f"/areas/townships/{w.township_a.id}",
        "township_a2": f"/areas/townships/{w.township_a2.id}",
        "township_b": f"/areas/townships/{w.township_b.id}",
        "village_a": f"/areas/villages/{w.village_a.id}",
        "village_a2": f"/areas/villages/{w.village_a2.id}",
        "village_b": f"/areas/villages/{w.village_b.id}",
    }


# user → the pages among _pages() they may read; all others must be 404
VISIBLE = {
    "surveyor-a": {"township_a", "village_a"},
    "surveyor-b": {"township_b", "village_b"},
    "reviewer-a": {"county_a", "township_a", "township_a2", "village_a", "village_a2"},
    "viewer-a": {"county_a", "township_a", "township_a2", "village_a", "village_a2"},
    "viewer-city": {"county_a", "county_b", "township_a", "township_a2", "township_b", "village_a",
                    "village_a2", "village_b"},
    "admin": {"county_a", "county_b", "township_a", "township_a2", "township_b", "village_a",
              "village_a2", "village_b"},
}


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_area_pages_follow_the_users_scope(auth, world, client, username):
    auth.login(username)
    for name, path in _pages(world).items():
        expected = 200 if name in VISIBLE[username] else 404
        assert client.get(path).status_code == expected, (username, name)


def test_a_surveyor_sees_only_households_of_their_township(auth, world, client):
    auth.login("surveyor-a")
    html = client.get(f"/areas/villages/{world.village_a.id}").get_data(as_text=True)
    assert "王甲" in html
    assert client.get(f"/areas/villages/{world.village_b.id}").status_code == 404


def test_scoped_queries_agree_with_the_pages(world):
    names = lambda stmt: sorted(v.name for v in db.session.scalars(stmt))  # noqa: E731
    assert names(villages_query(world.surveyor_a)) == ["甲村"]
    assert names(villages_query(world.reviewer_a)) == ["乙村", "甲村"]
    assert len(names(villages_query(world.viewer_city))) == 3
    assert [h.head_name for h in db.session.scalars(households_query(world.surveyor_b))] == ["王丙"]


def test_index_starts_at_the_users_own_area(auth, world, client):
    auth.login("surveyor-a")
    assert client.get("/areas/").headers["Location"] == f"/areas/townships/{world.township_a.id}"
    client.post("/logout", data={})  # refused without CSRF: still logged in
    assert client.get("/").status_code == 200


def test_county_list_is_limited_to_the_users_county(auth, world, client):
    auth.login("reviewer-a")
    html = client.get("/areas/counties/").get_data(as_text=True)
    assert "濂溪区" in html and "浔阳区" not in html


@pytest.mark.parametrize("username", ["surveyor-a", "reviewer-a", "viewer-a", "viewer-city"])
def test_only_admins_reach_admin_pages(auth, world, client, username):
    auth.login(username)
    for path in ("/admin/users/", "/admin/users/new", "/admin/areas/", "/admin/areas/import",
                 "/admin/areas/village/new"):
        assert client.get(path).status_code == 403, path
    response = auth.post("/admin/areas/county/new", {"code": "360499", "name": "假县"})
    assert response.status_code == 403


def test_search_and_paging_on_lists(app, auth, world, client):
    from tests.factories import make_household

    for n in range(30):
        make_household(world.village_a, f"2组{n}号", f"李{n}")
    db.session.commit()
    auth.login("surveyor-a")
    path = f"/areas/villages/{world.village_a.id}"
    first = client.get(path).get_data(as_text=True)
    assert "第 1 页，共 2 页" in first
    assert "李" in client.get(path + "?page=2").get_data(as_text=True)
    found = client.get(path + "?q=李7").get_data(as_text=True)
    assert "李7" in found and "王甲" not in found
    for bad in ("?page=abc", "?page=-5", "?page=99999999999", "?q=%25%5F'%22"):
        assert client.get(path + bad).status_code == 200


def test_unknown_and_malformed_ids_are_404(auth, world, client):
    auth.login("admin")
    for path in ("/areas/villages/999999", "/areas/villages/abc", "/areas/townships/-1",
                 "/admin/areas/nope/new", "/admin/users/999999"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("ident", [0, 2**31, 2**63, 10**20])
def test_ids_beyond_the_databases_range_are_404_on_every_page(auth, world, client, app, ident):
    """An id no INTEGER column can hold names nothing: 404, never a database error."""
    auth.login("admin")
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not any(isinstance(conv, IntegerConverter)
                                                for conv in rule._converters.values()):
            continue
        marker = 987654321  # built in range, then replaced: the URL map refuses to build beyond it
        values = {name: marker if isinstance(conv, IntegerConverter) else "x"
                  for name, conv in rule._converters.items()}
        path = app.url_map.bind("localhost").build(rule.endpoint, values).replace(str(marker), str(ident))
        assert client.get(path).status_code == 404, path
        checked += 1
    assert checked >= 5
