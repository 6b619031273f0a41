"""What saving a survey records for the review: flags computed on the server, and one revision per
run of draft saves (not one per step)."""

import datetime as dt
import io
import re
import uuid as uuid_module

from PIL import Image
from sqlalchemy import select, update

from tests.conftest import Auth
from tests.factories import complete_answers
from tests.surveys.conftest import body
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.review.flags import flag_codes
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Survey


def survey_of(uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


# --- flags ---------------------------------------------------------------------------------------

def test_flags_are_computed_when_a_survey_is_saved(phones, households):
    uuid = phones.put("surveyor-a", households["a"][0], status="draft", residents=12, gps_accuracy_m=120,
                      latitude=31.23, longitude=121.47)  # Shanghai, far outside Jiujiang
    flags = survey_of(uuid).flags
    assert flag_codes(flags) == ["unusual_value", "outside_area", "gps_inaccurate", "no_house_photo"]
    assert {"code": "unusual_value", "key": "residents"} in flags
    phones.put("surveyor-a", households["a"][0], uuid=uuid)  # corrected, and submitted
    assert flag_codes(survey_of(uuid).flags) == ["no_house_photo"]


def test_a_farmhouse_far_from_the_rest_of_its_village_is_flagged(phones, households):
    for n, household in enumerate(households["a"][:4]):
        phones.put("surveyor-a", household, latitude=29.700 + n * 0.001, longitude=116.0)
    stray = phones.put("surveyor-a", households["a"][4], latitude=29.78, longitude=116.0)
    (flag,) = [f for f in survey_of(stray).flags if f["code"] == "far_from_village"]
    assert 8 < flag["km"] < 9


def test_a_change_from_last_year_is_flagged_and_shown_beside_the_answer(phones, households, reviewer):
    household = households["a"][0]
    phones.put("surveyor-a", household, year=2025, survey_date="2025-06-01", electricity_kwh=2400)
    uuid = phones.put("surveyor-a", household, electricity_kwh=6000, residents=4)
    assert {"code": "changed_from_last_year", "key": "electricity_kwh", "before": 2400, "after": 6000,
            "share": 1.5} in survey_of(uuid).flags
    html = reviewer.client.get(f"/surveys/{uuid}").get_data(as_text=True)
    assert re.search(r'data-last-year="electricity_kwh">2025[^<0-9]*2,400', html)
    assert 'data-last-year="residents"' not in html  # unchanged: nothing beside it
    assert 'data-flags' in html and 'data-flag="changed_from_last_year"' in html


def test_a_quick_submission_from_the_website_is_flagged(app, world, households):
    surveyor = Auth(app.test_client())
    surveyor.login("surveyor-a")
    answers = complete_answers(house_number="9组9号", head_name="周九")
    formdata = answers_to_formdata(answers)
    new = f"/surveys/new?village={world.village_a.id}"
    uuid = str(uuid_module.uuid4())
    step = {key: formdata[key] for key in sf.keys_in_step("household") if key in formdata}
    surveyor.post(new, {"survey_uuid": uuid, **step}, token_from=new)
    for name in sf.STEPS[1:]:
        path = f"/surveys/{uuid}/edit?step={name}"
        surveyor.post(path, {key: formdata[key] for key in sf.keys_in_step(name) if key in formdata},
                      token_from=path)
    summary = f"/surveys/{uuid}/edit?step=summary"
    surveyor.post(summary, {"confirm_warnings": "y"}, token_from=summary)
    survey = survey_of(uuid)
    assert survey.status == "submitted" and survey.started_at is not None
    assert "too_quick" in flag_codes(survey.flags)


def test_a_survey_that_took_its_time_is_not_flagged_as_quick(phones, households):
    uuid = phones.put("surveyor-a", households["a"][0], status="draft")
    db.session.execute(update(Survey).where(Survey.uuid == uuid)
                       .values(started_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
                               - dt.timedelta(minutes=25)))
    db.session.commit()
    phones.put("surveyor-a", households["a"][0], uuid=uuid)
    assert "too_quick" not in flag_codes(survey_of(uuid).flags)


def test_a_photo_of_the_house_clears_its_flag(phones, households):
    uuid = phones.put("surveyor-a", households["a"][0])
    api = phones.api("surveyor-a")
    assert "no_house_photo" in flag_codes(survey_of(uuid).flags)

    def put_photo(kind):
        return api.client.put(f"/api/v1/surveys/{uuid}/photos/{uuid_module.uuid4()}?kind={kind}", data=jpeg(),
                              headers={"X-CSRFToken": api.token, "Content-Type": "image/jpeg"})

    assert put_photo("stove").status_code == 201
    assert "no_house_photo" in flag_codes(survey_of(uuid).flags)
    assert put_photo("house").status_code == 201
    assert survey_of(uuid).flags == []


# --- revisions -----------------------------------------------------------------------------------

def test_draft_saves_by_one_user_are_one_revision_with_all_their_changes(phones, households):
    household = households["a"][0]
    uuid = phones.put("surveyor-a", household, status="draft", residents=4)
    for residents in (5, 6, 7):
        phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=residents, storeys=3)
    survey = survey_of(uuid)
    assert survey.revision == 1 and len(survey.revisions) == 1
    assert survey.revisions[0].changes["residents"] == [None, 7]
    assert survey.revisions[0].changes["storeys"] == [None, 3]


def test_submission_review_and_return_keep_their_own_revisions(phones, households, reviewer):
    household = households["a"][0]
    uuid = phones.put("surveyor-a", household, status="draft", residents=4)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=5)
    phones.put("surveyor-a", household, uuid=uuid, residents=5)  # submitted
    page = f"/surveys/{uuid}"
    reviewer.post(f"{page}/review", {"action": "return", "comment": "常住人口再核实"}, token_from=page)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=3)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=3, storeys=3)
    phones.put("surveyor-a", household, uuid=uuid, residents=3, storeys=3)
    survey = survey_of(uuid)
    assert [(r.number, r.status) for r in survey.revisions] == [
        (1, "draft"), (2, "submitted"), (3, "returned"), (4, "draft"), (5, "submitted")]
    assert survey.revisions[3].changes == {"residents": [5, 3], "storeys": [2, 3]}
    assert survey.revision == 5


def test_a_draft_save_by_someone_else_is_a_revision_of_its_own(phones, households):
    household = households["a"][0]
    uuid = phones.put("surveyor-a", household, status="draft", residents=4)
    phones.put("admin", household, uuid=uuid, status="draft", residents=6)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=6, storeys=3)
    survey = survey_of(uuid)
    assert [(r.number, r.user.username) for r in survey.revisions] == [
        (1, "surveyor-a"), (2, "admin"), (3, "surveyor-a")]
    assert survey.revisions[1].changes == {"residents": [4, 6]}


def test_a_change_undone_within_the_drafts_leaves_no_trace(phones, households):
    household = households["a"][0]
    uuid = phones.put("surveyor-a", household, status="draft")
    phones.put("surveyor-a", household, uuid=uuid, status="submitted")
    phones.put("surveyor-a", household, uuid=uuid, status="submitted")  # the same again: nothing new
    api = phones.api("surveyor-a")
    api.client.post(f"/api/v1/surveys/{uuid}/withdraw", headers={"X-CSRFToken": api.token})
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=9)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=4)
    survey = survey_of(uuid)
    assert [r.status for r in survey.revisions] == ["draft", "submitted", "draft"]
    assert survey.revisions[-1].changes == {}


def test_the_website_form_walked_step_by_step_shows_as_one_draft_revision(app, world, households):
    surveyor = Auth(app.test_client())
    surveyor.login("surveyor-a")
    answers = complete_answers(house_number="8组8号", head_name="吴八")
    formdata = answers_to_formdata(answers)
    new = f"/surveys/new?village={world.village_a.id}"
    uuid = str(uuid_module.uuid4())
    surveyor.post(new, {"survey_uuid": uuid, **{k: formdata[k] for k in sf.keys_in_step("household")
                                                if k in formdata}}, token_from=new)
    for name in sf.STEPS[1:]:
        path = f"/surveys/{uuid}/edit?step={name}"
        surveyor.post(path, {k: formdata[k] for k in sf.keys_in_step(name) if k in formdata}, token_from=path)
    summary = f"/surveys/{uuid}/edit?step=summary"
    surveyor.post(summary, {"confirm_warnings": "y"}, token_from=summary)
    survey = survey_of(uuid)
    assert survey.status == "submitted" and survey.revision == 2
    assert "第 2 版" in surveyor.client.get(f"/surveys/{uuid}").get_data(as_text=True)


def test_body_helper_is_a_complete_survey(world):
    # The fixtures above rely on it: a complete survey of 2026 in village A.
    assert body(world.village_a)["answers"]["survey_date"].startswith("2026")


def test_history_tells_who_did_what_between_submitted_versions(phones, households, reviewer):
    household = households["a"][0]
    uuid = phones.put("surveyor-a", household, status="draft", residents=4)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=5)
    phones.put("surveyor-a", household, uuid=uuid, residents=5)
    page = f"/surveys/{uuid}"
    reviewer.post(f"{page}/review", {"action": "approve"}, token_from=page)
    reviewer.post(f"{page}/reopen", {"reason": "房屋照片不对"}, token_from=page)
    phones.put("surveyor-a", household, uuid=uuid, status="draft", residents=6)
    html = reviewer.client.get(f"{page}/history").get_data(as_text=True)
    revisions = re.findall(r'data-revision="(\d+)" data-status="(\w+)">\s*<p><b>[^<]*</b> · <span data-event>'
                           r'([^<]*)</span>[^<]*·\s+(\S+)</p>', html)
    assert [(n, status, user) for n, status, _event, user in revisions] == [
        ("5", "draft", "surveyor-a"), ("4", "returned", "reviewer-a"), ("3", "approved", "reviewer-a"),
        ("2", "submitted", "surveyor-a"), ("1", "draft", "surveyor-a")]
    assert "房屋照片不对" in html
    assert re.search(r"<td>常住人口</td><td>5 人</td><td>6 人</td>", html)  # the change after the reopening


def test_a_county_with_bounds_of_its_own_is_checked_against_them(app, phones, households, tmp_path,
                                                                 monkeypatch):
    bounds = tmp_path / "bounds.toml"
    bounds.write_text('[city]\nname = "九江市"\nlat = [28.7, 30.1]\nlon = [113.9, 116.9]\n'
                      '[counties."360402"]\nname = "濂溪区"\nlat = [29.5, 29.68]\nlon = [115.85, 116.15]\n',
                      encoding="utf-8")
    monkeypatch.setitem(app.config, "REVIEW_BOUNDS_FILE", str(bounds))
    inside_city = phones.put("surveyor-a", households["a"][0], latitude=29.7, longitude=116.0)
    assert {"code": "outside_area", "key": "latitude", "area": "濂溪区"} in survey_of(inside_city).flags
    elsewhere = phones.put("surveyor-b", households["b"][0], latitude=29.7, longitude=116.0)  # county B: the city
    assert "outside_area" not in flag_codes(survey_of(elsewhere).flags)


def test_the_thresholds_are_settings(app, phones, households, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_FLAG_RULES", {"max_gps_accuracy_m": 5})
    uuid = phones.put("surveyor-a", households["a"][0], gps_accuracy_m=8)
    assert {"code": "gps_inaccurate", "key": "gps_accuracy_m", "value": 8.0} in survey_of(uuid).flags


def test_a_photo_of_the_house_keeps_the_other_flags(phones, households):
    uuid = phones.put("surveyor-a", households["a"][0], latitude=31.2304, longitude=121.4737)  # Shanghai
    api = phones.api("surveyor-a")
    assert flag_codes(survey_of(uuid).flags) == ["outside_area", "no_house_photo"]
    answer = api.client.put(f"/api/v1/surveys/{uuid}/photos/{uuid_module.uuid4()}?kind=house", data=jpeg(),
                            headers={"X-CSRFToken": api.token, "Content-Type": "image/jpeg"})
    assert answer.status_code == 201
    assert flag_codes(survey_of(uuid).flags) == ["outside_area"]
