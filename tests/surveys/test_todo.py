"""A surveyor's to-do: returned surveys first, then drafts, then the households not surveyed this
year per village (with last year's answers to start from); on the dashboard and for the app."""

import datetime as dt

from sqlalchemy import select

from tests.factories import make_household, make_user
from tests.surveys.conftest import body, new_uuid
from village_survey.extensions import db
from village_survey.surveys.models import Survey
from village_survey.surveys.services import review_survey
from village_survey.surveys.todo import todo_of

YEAR = dt.date.today().year


def _this_year(village, household=None, status="submitted", **answers):
    return body(village, status=status, year=YEAR, household=household, survey_date=f"{YEAR}-01-02", **answers)


def _last_year(village, household=None, **answers):
    return body(village, year=YEAR - 1, household=household, survey_date=f"{YEAR - 1}-05-01", **answers)


def _put(api, survey_body):
    uuid = new_uuid()
    response = api.put(uuid, survey_body)
    assert response.status_code == 201, response.get_json()
    return uuid


def _return(world, uuid, comment):
    db.session.expire_all()
    review_survey(world.reviewer_a, db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one(),
                  "return", comment)
    db.session.commit()


def _township_a_with_work(api, world):
    """Surveyor A's township: households 1组1号 (surveyed last year), 1组2号, 1组10号 to survey;
    a returned survey, a draft of A's and a colleague's draft."""
    h2 = make_household(world.village_a, "1组2号", "王二")
    h10 = make_household(world.village_a, "1组10号", "王十")
    returned_household = make_household(world.village_a, "2组1号", "李退")
    draft_household = make_household(world.village_a, "2组2号", "李草")
    colleague_household = make_household(world.village_a, "2组3号", "李同")
    colleague = make_user("surveyor-a-2", "surveyor", township=world.township_a)
    db.session.commit()
    api.login("surveyor-a")
    last_year = _put(api, _last_year(world.village_a, world.household_a, residents=6))
    returned = _put(api, _this_year(world.village_a, returned_household, house_number="2组1号", head_name="李退"))
    draft = _put(api, _this_year(world.village_a, draft_household, status="draft", house_number="2组2号",
                                 head_name="李草"))
    api.client.post("/logout", data={"csrf_token": api.token})
    api.login(colleague.username)
    colleague_draft = _put(api, _this_year(world.village_a, colleague_household, status="draft",
                                           house_number="2组3号", head_name="李同"))
    api.client.post("/logout", data={"csrf_token": api.token})
    _return(world, returned, "常住人口写错了")
    return {"last_year": last_year, "returned": returned, "draft": draft, "colleague_draft": colleague_draft,
            "h2": h2, "h10": h10}


def test_the_todo_lists_returned_then_own_drafts_then_households_not_surveyed(api, world):
    work = _township_a_with_work(api, world)
    todo = todo_of(world.surveyor_a, YEAR)
    assert [s.uuid for s in todo.returned] == [work["returned"]]
    assert todo.returned[0].reviewer_comment == "常住人口写错了"
    assert [s.uuid for s in todo.drafts] == [work["draft"]]  # not the colleague's
    [village] = todo.villages  # only the surveyor's township
    assert (village.name, village.households, village.surveyed, village.not_surveyed) == ("甲村", 6, 3, 3)
    # In the natural order of house numbers, each with its latest earlier survey.
    assert [(h.house_number, h.previous.uuid if h.previous else None) for h in village.to_survey] == [
        ("1组1号", work["last_year"]), ("1组2号", None), ("1组10号", None)]


def test_a_household_surveyed_this_year_leaves_the_todo(api, world):
    work = _township_a_with_work(api, world)
    api.login("surveyor-a")
    _put(api, _this_year(world.village_a, work["h2"], house_number="1组2号", head_name="王二"))
    [village] = todo_of(world.surveyor_a, YEAR).villages
    assert [h.house_number for h in village.to_survey] == ["1组1号", "1组10号"]
    assert (village.surveyed, village.not_surveyed) == (4, 2)


def test_users_who_do_not_survey_get_no_households_to_visit(api, world):
    _township_a_with_work(api, world)
    for user in (world.reviewer_a, world.viewer_a):
        todo = todo_of(user, YEAR)
        assert todo.villages == [] and todo.returned == [] and todo.drafts == []


def test_households_to_visit_are_listed_for_a_township_not_for_a_whole_county_or_city(api, world):
    _township_a_with_work(api, world)
    assert todo_of(world.surveyor_a, YEAR).villages
    assert todo_of(world.admin, YEAR).villages == []  # an admin may survey, but not the whole city's list


def test_the_dashboard_shows_the_todo_in_order_with_last_years_answers_offered(api, world, client):
    work = _township_a_with_work(api, world)
    api.login("surveyor-a")
    page = client.get("/").get_data(as_text=True)
    returned, drafts, villages = (page.index("data-todo-returned"), page.index("data-todo-drafts"),
                                  page.index("data-todo-villages"))
    assert returned < drafts < villages
    assert "常住人口写错了" in page and "李草" in page and "李同" not in page
    household = world.household_a
    assert (f"/surveys/new?village={world.village_a.id}&amp;household={household.id}&amp;from_previous=1"
            in page)
    assert f"/surveys/new?village={world.village_a.id}&amp;household={work['h10'].id}\"" in page
    assert page.index("1组2号 王二") < page.index("1组10号 王十")


def test_the_dashboard_of_a_reviewer_has_no_todo(api, world, client):
    _township_a_with_work(api, world)
    api.login("reviewer-a")
    assert "data-todo" not in client.get("/").get_data(as_text=True)


def test_the_todo_api_names_last_years_surveys_and_gives_their_answers_by_village(api, world):
    work = _township_a_with_work(api, world)
    api.login("surveyor-a")
    data = api.client.get("/api/v1/todo").get_json()
    assert data["year"] == YEAR and data["user_id"] == world.surveyor_a.id
    assert [s["uuid"] for s in data["returned"]] == [work["returned"]]
    assert data["returned"][0]["reviewer_comment"] == "常住人口写错了"
    assert data["returned"][0]["house_number"] == "2组1号"
    assert [s["uuid"] for s in data["drafts"]] == [work["draft"]]
    [village] = data["villages"]
    assert (village["surveyed"], village["not_surveyed"]) == (3, 3)
    first = village["to_survey"][0]
    assert first["house_number"] == "1组1号" and first["previous"] == {"uuid": work["last_year"], "year": YEAR - 1}
    assert village["to_survey"][1]["previous"] is None
    # Their answers come a village at a time.
    previous = api.client.get(f"/api/v1/todo/previous?village={world.village_a.id}").get_json()
    assert previous["user_id"] == world.surveyor_a.id
    assert list(previous["previous"]) == [str(world.household_a.id)]
    assert previous["previous"][str(world.household_a.id)]["answers"]["residents"] == 6


def test_previous_answers_of_a_village_outside_the_area_are_404(api, world):
    api.login("surveyor-a")
    assert api.client.get(f"/api/v1/todo/previous?village={world.village_b.id}").status_code == 404
    response = api.client.get("/api/v1/todo/previous")
    assert response.status_code == 400 and response.get_json()["code"] == "bad_request"


def test_the_todo_api_needs_a_login(client, world):
    assert client.get("/api/v1/todo").status_code == 401
