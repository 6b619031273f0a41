"""The phone's pull (GET /api/v1/surveys?updated_since=): which surveys, in what order, page by
page, and what a time means; and what the phone sends with a survey (start time, base revision)."""

import datetime as dt
import json
import re

from sqlalchemy import select

from tests.factories import make_household, make_user
from tests.surveys.conftest import body, new_uuid
from village_survey.areas.models import utcnow
from village_survey.extensions import db
from village_survey.surveys.models import Survey
from village_survey.surveys.services import review_survey

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _survey(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()


def _made(api, village, status="submitted", **answers):
    uuid = new_uuid()
    response = api.put(uuid, body(village, status=status, **answers))
    assert response.status_code == 201, response.get_json()
    return uuid


def _review(world, uuid, action, comment="", reviewer=None):
    review_survey(reviewer or world.reviewer_a, _survey(uuid), action, comment)
    db.session.commit()


def _set_updated_at(uuid, when):
    survey = _survey(uuid)
    survey.updated_at = when
    db.session.commit()


def _pull(api, **params):
    response = api.client.get("/api/v1/surveys", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _pull_all(api, **params):
    """Every page of one pull: the surveys in order, and the server_time of each page."""
    surveys, times = [], []
    data = _pull(api, **params)
    while True:
        surveys += data["surveys"]
        times.append(data["server_time"])
        if data["next_cursor"] is None:
            return surveys, times
        data = _pull(api, **(params | {"cursor": data["next_cursor"]}))


def _uuids(surveys):
    return [s["uuid"] for s in surveys]


# --- scope ---------------------------------------------------------------------------------------


def test_a_surveyor_pulls_what_they_made_and_the_returned_surveys_of_their_area(api, world, client):
    colleague = make_user("surveyor-a-2", "surveyor", township=world.township_a)
    db.session.commit()
    api.login("surveyor-a")
    mine_draft = _made(api, world.village_a, status="draft", house_number="1组5号", head_name="甲五")
    mine_submitted = _made(api, world.village_a, house_number="1组6号", head_name="甲六")
    api.client.post("/logout", data={"csrf_token": api.token})
    api.login(colleague.username)
    colleague_draft = _made(api, world.village_a, status="draft", house_number="2组1号", head_name="乙一")
    colleague_submitted = _made(api, world.village_a, house_number="2组2号", head_name="乙二")
    colleague_returned = _made(api, world.village_a, house_number="2组3号", head_name="乙三")
    _review(world, colleague_returned, "return", "门牌号不对")
    api.client.post("/logout", data={"csrf_token": api.token})
    api.login("surveyor-b")
    other_township = _made(api, world.village_b, house_number="9组9号", head_name="丙九")
    _review(world, other_township, "return", "再看看", reviewer=world.admin)
    api.client.post("/logout", data={"csrf_token": api.token})

    api.login("surveyor-a")
    pulled = {s["uuid"]: s for s in _pull_all(api)[0]}
    assert set(pulled) == {mine_draft, mine_submitted, colleague_returned}
    assert colleague_draft not in pulled and colleague_submitted not in pulled and other_township not in pulled
    assert pulled[colleague_returned]["reviewer_comment"] == "门牌号不对"
    # Each as GET /api/v1/surveys/<uuid> answers it.
    assert pulled[mine_submitted] == api.get(mine_submitted).get_json()


def test_a_survey_someone_else_started_and_the_user_submitted_is_theirs(api, world):
    colleague = make_user("surveyor-a-2", "surveyor", township=world.township_a)
    db.session.commit()
    api.login(colleague.username)
    uuid = _made(api, world.village_a)
    _review(world, uuid, "return", "补充照片")
    api.client.post("/logout", data={"csrf_token": api.token})
    api.login("surveyor-a")
    fixed = body(world.village_a, residents=5)
    assert api.put(uuid, fixed | {"base_revision": _survey(uuid).revision}).status_code == 200
    assert _uuids(_pull_all(api)[0]) == [uuid]  # submitted by them now, no longer returned


def test_a_reviewer_or_viewer_pulls_nothing_they_did_not_make(api, world):
    api.login("surveyor-a")
    uuid = _made(api, world.village_a)
    _review(world, uuid, "return", "再看看")
    api.client.post("/logout", data={"csrf_token": api.token})
    for user in ("reviewer-a", "viewer-a"):
        api.login(user)
        assert _pull(api)["surveys"] == []
        api.client.post("/logout", data={"csrf_token": api.token})


def test_the_pull_needs_a_login(client, world):
    response = client.get("/api/v1/surveys")
    assert response.status_code == 401 and response.get_json()["code"] == "login_required"


# --- paging and order ----------------------------------------------------------------------------


def test_pages_follow_updated_at_then_id_and_give_each_survey_once(api, world):
    api.login("surveyor-a")
    uuids = [_made(api, world.village_a, house_number=f"5组{n}号", head_name=f"户{n}") for n in range(7)]
    base = dt.datetime(2026, 5, 1, 8, 0)
    # Three share one time: the id decides among them.
    times = [base, base + dt.timedelta(minutes=5), base + dt.timedelta(minutes=5), base + dt.timedelta(minutes=5),
             base - dt.timedelta(days=1), base + dt.timedelta(hours=1), base + dt.timedelta(seconds=1)]
    for uuid, when in zip(uuids, times):
        _set_updated_at(uuid, when)
    expected = [uuid for uuid, _when in sorted(zip(uuids, times), key=lambda p: (p[1], _survey(p[0]).id))]

    surveys, server_times = _pull_all(api, limit=3)
    assert _uuids(surveys) == expected
    assert len(server_times) == 3 and len(set(server_times)) == 1  # one server_time for the whole pull
    assert [s["updated_at"] for s in surveys] == sorted(s["updated_at"] for s in surveys)


def test_a_survey_changed_while_the_phone_pages_is_not_lost(api, world):
    api.login("surveyor-a")
    uuids = [_made(api, world.village_a, house_number=f"6组{n}号", head_name=f"户{n}") for n in range(4)]
    for number, uuid in enumerate(uuids):
        _set_updated_at(uuid, dt.datetime(2026, 5, 1, 8, number))
    first = _pull(api, limit=2)
    assert _uuids(first["surveys"]) == uuids[:2]
    _review(world, uuids[0], "return", "重拍照片")  # seen on page one, changed now
    rest, _times = _pull_all(api, limit=2, cursor=first["next_cursor"])
    assert _uuids(rest) == uuids[2:] + [uuids[0]]
    assert rest[-1]["status"] == "returned" and rest[-1]["reviewer_comment"] == "重拍照片"


def test_a_limit_outside_1_to_500_or_a_forged_cursor_is_a_400_with_its_code(api, world):
    api.login("surveyor-a")
    for params in ({"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"cursor": "not-a-cursor"},
                   {"cursor": "WyJ4IiwxLCJ5Il0"}):
        response = api.client.get("/api/v1/surveys", query_string=params)
        assert response.status_code == 400, params
        assert response.get_json()["code"] == "bad_request" and response.get_json()["error"]


# --- times ---------------------------------------------------------------------------------------


def test_updated_since_takes_z_and_offsets_as_the_same_instant(api, world):
    api.login("surveyor-a")
    early = _made(api, world.village_a, house_number="7组1号", head_name="早")
    late = _made(api, world.village_a, house_number="7组2号", head_name="晚")
    _set_updated_at(early, dt.datetime(2026, 5, 1, 7, 59, 59))
    _set_updated_at(late, dt.datetime(2026, 5, 1, 8, 0, 1))
    for since in ("2026-05-01T08:00:00Z", "2026-05-01T08:00:00+00:00", "2026-05-01T16:00:00+08:00",
                  "2026-05-01T03:00:00-05:00", "2026-05-01T08:00:00.000Z"):
        assert _uuids(_pull(api, updated_since=since)["surveys"]) == [late], since
    assert _uuids(_pull(api, updated_since="2026-05-01T15:59:59+08:00")["surveys"]) == [early, late]


def test_updated_since_without_a_time_zone_or_not_a_time_is_a_400(api, world):
    api.login("surveyor-a")
    for since in ("2026-05-01T08:00:00", "2026-05-01", "yesterday", "", "2026-13-01T00:00:00Z",
                  "0001-01-01T00:00:00+01:00"):
        response = api.client.get("/api/v1/surveys", query_string={"updated_since": since})
        assert response.status_code == 400, since
        assert response.get_json()["code"] == "bad_request"
        assert "ISO 8601" in response.get_json()["error"] or "时区" in response.get_json()["error"]


def test_server_time_as_the_next_updated_since_brings_what_changed_after_the_pull(api, world):
    api.login("surveyor-a")
    old = _made(api, world.village_a, house_number="8组1号", head_name="旧")
    _set_updated_at(old, utcnow() - dt.timedelta(hours=2))
    first = _pull(api)
    assert _uuids(first["surveys"]) == [old]
    server_time = first["server_time"]
    assert server_time.endswith("Z")
    parsed = dt.datetime.fromisoformat(server_time[:-1])
    assert utcnow() - dt.timedelta(minutes=5) < parsed <= utcnow()
    assert _pull(api, updated_since=server_time)["surveys"] == []
    _review(world, old, "return", "补门牌")
    again = _pull(api, updated_since=server_time)["surveys"]
    assert _uuids(again) == [old] and again[0]["status"] == "returned"


# --- what the phone sends ------------------------------------------------------------------------


def test_started_at_is_kept_when_the_survey_is_created_in_utc(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    response = api.put(uuid, body(world.village_a, status="draft") | {"started_at": "2026-03-15T09:30:00+08:00"})
    assert response.status_code == 201, response.get_json()
    assert _survey(uuid).started_at == dt.datetime(2026, 3, 15, 1, 30)
    # A later change does not move the start.
    again = body(world.village_a, status="draft", residents=5) | {"started_at": "2026-03-16T09:30:00Z"}
    assert api.put(uuid, again).status_code == 200
    assert _survey(uuid).started_at == dt.datetime(2026, 3, 15, 1, 30)


def test_started_at_that_is_not_a_time_is_refused_and_a_wrong_clock_is_ignored(api, world):
    api.login("surveyor-a")
    response = api.put(new_uuid(), body(world.village_a) | {"started_at": "morning"})
    assert response.status_code == 422 and "started_at" in response.get_json()["errors"]
    uuid = new_uuid()
    future = (utcnow() + dt.timedelta(days=30)).isoformat() + "Z"
    assert api.put(uuid, body(world.village_a) | {"started_at": future}).status_code == 201
    assert _survey(uuid).started_at is None


def test_a_change_made_before_a_return_is_refused_until_the_comment_was_read(api, world):
    api.login("surveyor-a")
    uuid = _made(api, world.village_a)
    sent_revision = _survey(uuid).revision
    _review(world, uuid, "return", "常住人口不对")
    stale = api.put(uuid, body(world.village_a, residents=5) | {"base_revision": sent_revision})
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"
    assert stale.get_json()["state"]["reviewer_comment"] == "常住人口不对"
    assert _survey(uuid).status == "returned" and _survey(uuid).answers["residents"] == 4
    seen = api.put(uuid, body(world.village_a, residents=5) | {"base_revision": stale.get_json()["state"]["revision"]})
    assert seen.status_code == 200 and seen.get_json()["status"] == "submitted"


def test_the_duplicate_household_refusal_names_the_survey_in_a_field_not_in_its_text(api, world):
    api.login("surveyor-a")
    first = _made(api, world.village_a, house_number="1组1号", head_name="王甲")
    response = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=2))
    assert response.status_code == 409
    data = response.get_json()
    text = json.dumps({"error": data["error"], "errors": data["errors"]}, ensure_ascii=False)
    assert not UUID_TEXT.search(text) and data["errors"]["household_id"]
    assert data["existing_survey"]["uuid"] == first
    assert data["existing_survey"]["status"] == "submitted" and data["existing_survey"]["editable"] is False


def test_villages_name_each_households_survey_of_this_year(api, world):
    make_household(world.village_a, "1组10号", "王十")
    make_household(world.village_a, "1组2号", "王二")
    db.session.commit()
    api.login("surveyor-a")
    year = dt.date.today().year
    uuid = new_uuid()
    assert api.put(uuid, body(world.village_a, status="draft", year=year, household=world.household_a,
                              survey_date=f"{year}-01-02")).status_code == 201
    data = api.client.get("/api/v1/villages").get_json()
    assert data["year"] == year
    households = data["villages"][0]["households"]
    assert [h["house_number"] for h in households] == ["1组1号", "1组2号", "1组10号"]  # natural order
    assert households[0]["survey"] == {"uuid": uuid, "status": "draft", "editable": True}
    assert households[1]["survey"] is None


def test_the_openapi_document_describes_the_pull(api, world):
    document = api.login("surveyor-a").client.get("/api/v1/openapi.json").get_json()
    get = document["paths"]["/surveys"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"updated_since", "cursor", "limit"}
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"surveys", "next_cursor", "server_time"} <= set(schema["properties"])
    assert "400" in get["responses"]
    assert "started_at" in document["components"]["schemas"]["SurveyPut"]["properties"]
    assert "base_revision" in document["components"]["schemas"]["SurveyPut"]["properties"]
    assert {"/todo", "/todo/previous"} <= set(document["paths"])


def test_the_duplicate_household_refusal_says_which_household_in_words(api, world):
    api.login("surveyor-a")
    _made(api, world.village_a, house_number="1组1号", head_name="王甲")
    data = api.put(new_uuid(), body(world.village_a, household=world.household_a, residents=2)).get_json()
    assert "1组1号" in data["error"] and "王甲" in data["error"] and "已提交" in data["error"]
    assert data["errors"]["household_id"] == [data["error"]]
