"""The review queue: scope, filters, counts, paging, and "next" after a decision."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from village_survey.extensions import db
from village_survey.surveys.models import Survey


def rows(html):
    """The UUIDs of the queue's rows, in order."""
    return re.findall(r'data-row="([0-9a-f-]{36})"', html)


def queue(reviewer, query=""):
    response = reviewer.client.get(f"/review/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def set_submitted_at(uuid, when):
    db.session.execute(update(Survey).where(Survey.uuid == uuid).values(submitted_at=when))
    db.session.commit()


@pytest.fixture
def waiting(phones, households):
    """Surveys waiting in county A (5 in township A, 2 in A2), one in county B, one draft in A."""
    made = {"a": [phones.put("surveyor-a", h) for h in households["a"][:5]],
            "a2": [phones.put("surveyor-a2", h) for h in households["a2"][:2]],
            "b": [phones.put("surveyor-b", households["b"][0])],
            "draft": phones.put("surveyor-a", households["a"][5], status="draft")}
    # Submitted one a day, oldest first: the queue shows the newest first.
    for n, uuid in enumerate(made["a"] + made["a2"] + made["b"]):
        set_submitted_at(uuid, dt.datetime(2026, 11, 1, 4, 0) + dt.timedelta(days=n))
    return made


def test_a_reviewer_sees_the_surveys_waiting_in_their_county_newest_first(reviewer, waiting):
    html = queue(reviewer)
    assert rows(html) == list(reversed(waiting["a"] + waiting["a2"]))
    assert waiting["b"][0] not in html and waiting["draft"] not in html
    assert "甲村" in html and "surveyor-a2" in html


def test_a_reviewer_of_county_a_never_sees_county_b(reviewer, waiting, world):
    for query in ("?status=submitted", "?status=draft", "?status=approved", f"?village={world.village_b.id}",
                  f"?township={world.township_b.id}", "?flag=no_house_photo"):
        assert waiting["b"][0] not in queue(reviewer, query)
    last = waiting["a"][0]  # the oldest of county A: "next" wraps, never to county B
    response = reviewer.client.get(f"/review/next?queue=&after={last}")
    assert waiting["b"][0] not in response.headers["Location"]


def test_an_admin_sees_the_whole_city(app, waiting):
    from tests.conftest import Auth

    admin = Auth(app.test_client())
    admin.login("admin")
    html = queue(admin)
    assert waiting["b"][0] in html and waiting["a"][0] in html


def test_viewers_and_surveyors_may_not_open_the_desk(app, world):
    from tests.conftest import Auth

    for username in ("viewer-a", "viewer-city", "surveyor-a"):
        auth = Auth(app.test_client())
        auth.login(username)
        assert auth.client.get("/review/").status_code == 403
        assert auth.post("/review/", {"action": "approve", "all": "1"}).status_code == 403
        assert "/review/" not in auth.client.get("/").get_data(as_text=True)
    auth = Auth(app.test_client())
    auth.login("reviewer-a")
    assert 'href="/review/"' in auth.client.get("/").get_data(as_text=True)  # the nav link


def test_counts_per_status_and_per_township(reviewer, waiting, world):
    html = queue(reviewer)
    assert re.search(r'data-count-status="submitted">\s*<a [^>]*><b>7</b>', html)
    assert re.search(r'data-count-status="draft">\s*<a [^>]*><b>1</b>', html)
    assert re.search(r'data-count-status="approved">\s*<a [^>]*><b>0</b>', html)
    assert re.search(rf'data-count-township="{world.township_a.id}"[^>]*>甲镇 5<', html)
    assert re.search(rf'data-count-township="{world.township_a2.id}"[^>]*>乙镇 2<', html)
    assert "丙镇" not in html


def test_filter_by_township_village_and_surveyor(reviewer, waiting, world):
    assert set(rows(queue(reviewer, f"?township={world.township_a2.id}"))) == set(waiting["a2"])
    assert set(rows(queue(reviewer, f"?village={world.village_a.id}"))) == set(waiting["a"])
    surveyor = db.session.scalars(select(Survey.submitted_by_id).where(Survey.uuid == waiting["a2"][0])).one()
    assert set(rows(queue(reviewer, f"?surveyor={surveyor}"))) == set(waiting["a2"])
    assert rows(queue(reviewer, "?status=draft")) == [waiting["draft"]]


def test_filter_by_flag(reviewer, waiting):
    flagged = waiting["a"][1]
    survey = db.session.scalars(select(Survey).where(Survey.uuid == flagged)).one()
    survey.flags = [{"code": "too_quick", "key": None, "minutes": 1.0}]
    # The code's word elsewhere in a survey's flags is not that flag.
    other = db.session.scalars(select(Survey).where(Survey.uuid == waiting["a"][2])).one()
    other.flags = [{"code": "outside_area", "key": "latitude", "area": "too_quick"}]
    db.session.commit()
    html = queue(reviewer, "?flag=too_quick")
    assert rows(html) == [flagged]
    assert 'data-flag="too_quick"' in html
    assert len(rows(queue(reviewer, "?flag=no_house_photo"))) == 5  # the others have no photo


def test_filter_by_dates_in_local_time(reviewer, waiting):
    # Submitted at 04:00 UTC = 12:00 in Beijing on 1, 2, 3 ... November; the 7th of county A is on the 7th.
    assert set(rows(queue(reviewer, "?from=2026-11-02&to=2026-11-03"))) == set(waiting["a"][1:3])
    set_submitted_at(waiting["a"][0], dt.datetime(2026, 11, 1, 17, 0))  # 2 November, 01:00 in Beijing
    assert waiting["a"][0] in rows(queue(reviewer, "?from=2026-11-02&to=2026-11-02"))


@pytest.mark.parametrize("query", ["?status=nonsense", "?township=abc", "?village=-1", "?surveyor=99999999999",
                                   "?flag=whatever", "?from=2026-13-45&to=yesterday", "?from=1&to=0",
                                   "?page=-3", "?page=abc", "?township=9999999999999999999999"])
def test_bad_filter_values_are_ignored(reviewer, waiting, query):
    assert len(rows(queue(reviewer, query))) == 7


def test_the_queue_is_paged(app, reviewer, waiting, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    first, third = queue(reviewer), queue(reviewer, "?page=3")
    newest = list(reversed(waiting["a"] + waiting["a2"]))
    assert rows(first) == newest[:3] and rows(third) == newest[6:]
    assert "第 1 页，共 3 页" in first
    assert re.search(r"data-approve-all>[^<]*\b7\b", first)  # the count is shown before approving all


def test_rows_show_flags_and_a_score_preview(reviewer, waiting):
    html = queue(reviewer)
    row = html[html.index(f'data-row="{waiting["a"][0]}"'):]
    row = row[:row.index("</li>")]
    assert 'data-flag="no_house_photo"' in row
    assert re.search(r"data-score>[\d.]+\D", row)


def test_after_a_decision_the_reviewer_lands_on_the_next_survey_of_the_same_queue(reviewer, waiting, world):
    query = f"township={world.township_a.id}"
    newest_first = list(reversed(waiting["a"]))
    html = queue(reviewer, f"?{query}")
    link = re.search(rf'href="(/surveys/{newest_first[0]}\?queue=[^"]+)"', html).group(1)
    page = link.replace("&amp;", "&")
    assert parse_qs(urlsplit(page).query)["queue"] == [query]
    survey_html = reviewer.client.get(page).get_data(as_text=True)
    assert "data-decision-bar" in survey_html and 'name="queue"' in survey_html
    response = reviewer.post(f"/surveys/{newest_first[0]}/review", {"action": "approve", "queue": query},
                             token_from=page)
    assert response.status_code == 302
    landed = reviewer.client.get(response.headers["Location"])
    assert landed.status_code == 302
    assert landed.headers["Location"].startswith(f"/surveys/{newest_first[1]}?queue=")
    # Return with a comment, then skip one with "next".
    page = landed.headers["Location"]
    response = reviewer.post(f"/surveys/{newest_first[1]}/review",
                             {"action": "return", "comment": "请补充房屋照片", "queue": query}, token_from=page)
    landed = reviewer.client.get(response.headers["Location"])
    assert landed.headers["Location"].startswith(f"/surveys/{newest_first[2]}?queue=")
    skipped = reviewer.client.get(f"/review/next?queue={query}&after={newest_first[2]}")
    assert skipped.headers["Location"].startswith(f"/surveys/{newest_first[3]}?queue=")
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Survey.uuid, Survey.status)
                                       .where(Survey.uuid.in_(newest_first[:3]))).all())
    assert statuses == {newest_first[0]: "approved", newest_first[1]: "returned", newest_first[2]: "submitted"}


def test_next_wraps_to_the_first_and_leaves_for_the_queue_when_nothing_waits(reviewer, waiting, world):
    query = f"village={world.village_a2.id}"
    older, newer = waiting["a2"]
    assert reviewer.client.get(f"/review/next?queue={query}&after={older}").headers["Location"] \
        .startswith(f"/surveys/{newer}")
    for uuid in (older, newer):
        reviewer.post(f"/surveys/{uuid}/review", {"action": "approve", "queue": query}, token_from=f"/surveys/{uuid}")
    response = reviewer.client.get(f"/review/next?queue={query}&after={newer}")
    assert response.headers["Location"] == f"/review/?village={world.village_a2.id}"
    assert rows(queue(reviewer, f"?{query}")) == []


def test_a_decision_outside_the_queue_stays_on_the_survey(reviewer, waiting):
    uuid = waiting["a"][0]
    response = reviewer.post(f"/surveys/{uuid}/review", {"action": "approve"}, token_from=f"/surveys/{uuid}")
    assert response.headers["Location"] == f"/surveys/{uuid}"


def test_a_mangled_queue_parameter_counts_as_the_default_queue(reviewer, waiting):
    from urllib.parse import quote

    newest = list(reversed(waiting["a"] + waiting["a2"]))
    for queue in ("&".join(f"f{n}=1" for n in range(40)), "status=%ZZ&page=x", "township=-5&flag=;drop"):
        response = reviewer.client.get(f"/review/next?queue={quote(queue)}&after={newest[0]}")
        assert response.status_code == 302 and response.headers["Location"].startswith(f"/surveys/{newest[1]}")
        page = reviewer.client.get(f"/surveys/{newest[0]}?queue={quote(queue)}")
        assert page.status_code == 200 and 'name="queue" value=""' in page.get_data(as_text=True)
