"""The survey pages without JavaScript: steps, summary and submit, history, review, photos."""

import io
import re

from PIL import Image
from sqlalchemy import select

from tests.factories import complete_answers
from tests.surveys.conftest import body, new_uuid
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Photo, Survey


def _step_data(answers, step):
    formdata = answers_to_formdata(answers)
    return {key: formdata[key] for key in sf.keys_in_step(step) if key in formdata}


def _jpeg(size=(800, 600), color=(200, 80, 40)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def test_surveyor_fills_every_step_and_submits(auth, world, client):
    auth.login("surveyor-a")
    answers = complete_answers(house_number="5组1号", head_name="孙五", survey_date="2026-04-01")
    page = client.get(f"/surveys/new?village={world.village_a.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'inputmode="numeric"' in html and 'type="date"' in html and 'type="tel"' in html
    new_uuid_value = re.search(r'name="survey_uuid" value="([^"]+)"', html).group(1)
    response = auth.post(f"/surveys/new?village={world.village_a.id}",
                         {"survey_uuid": new_uuid_value, **_step_data(answers, "household")},
                         token_from=f"/surveys/new?village={world.village_a.id}")
    assert response.status_code == 302
    survey = db.session.scalars(select(Survey).where(Survey.uuid == new_uuid_value)).one()
    assert survey.status == "draft" and survey.answers["head_name"] == "孙五"
    for step in sf.STEPS[1:]:
        path = f"/surveys/{survey.uuid}/edit?step={step}"
        response = auth.post(path, _step_data(answers, step), token_from=path)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:500])
    summary = f"/surveys/{survey.uuid}/edit?step=summary"
    assert "提交审核" in client.get(summary).get_data(as_text=True)
    response = auth.post(summary, {}, token_from=summary)
    assert response.status_code == 302
    db.session.expire_all()
    assert survey.status == "submitted" and survey.answers == answers
    listing = client.get(f"/surveys/?village={world.village_a.id}").get_data(as_text=True)
    assert "5组1号" in listing and "已提交" in listing


def test_a_step_with_bad_values_shows_messages_and_saves_nothing(auth, world, client, api):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, status="draft", household=world.household_a))
    path = f"/surveys/{uuid}/edit?step=building"
    response = auth.post(path, {"year_built": "1850", "storeys": "abc", "floor_area_m2": "120",
                                "structure": "brick_concrete"}, token_from=path)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "须在 1,900 至" in html and "aria-invalid" in html
    db.session.expire_all()
    assert db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one().revision == 1


def test_summary_lists_missing_answers_and_asks_to_confirm_warnings(auth, world, client, api):
    api.login("surveyor-a")
    uuid = new_uuid()
    draft = {"form_version": 1, "year": 2026, "status": "draft", "household_id": world.household_a.id,
             "answers": {"house_number": "1组1号", "head_name": "王甲", "residents": 3}}
    api.put(uuid, draft)
    summary = f"/surveys/{uuid}/edit?step=summary"
    html = client.get(summary).get_data(as_text=True)
    assert "提交前还有数据需要处理" in html and "主要炉灶" in html
    assert auth.post(summary, {}, token_from=summary).status_code == 400

    other = new_uuid()
    api.put(other, body(world.village_a, status="draft", house_number="7组7号", head_name="周七",
                        electricity_kwh=30000))
    summary = f"/surveys/{other}/edit?step=summary"
    assert "异常" in client.get(summary).get_data(as_text=True)
    assert auth.post(summary, {}, token_from=summary).status_code == 400
    assert auth.post(summary, {"confirm_warnings": "y"}, token_from=summary).status_code == 302
    assert db.session.scalars(select(Survey).where(Survey.uuid == other)).one().status == "submitted"


def test_history_shows_who_changed_what(auth, world, client, api):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, household=world.household_a))  # submitted: a revision of its own
    api.client.post(f"/api/v1/surveys/{uuid}/withdraw", headers={"X-CSRFToken": api.token})
    api.put(uuid, body(world.village_a, status="draft", household=world.household_a, residents=7))
    html = client.get(f"/surveys/{uuid}/history").get_data(as_text=True)
    assert "常住人口" in html and "surveyor-a" in html
    assert re.search(r"<td>4 人</td><td>7 人</td>", html)


def test_reviewer_approves_and_returns_with_a_comment(app, auth, world, api):
    api.login("surveyor-a")
    first, second = new_uuid(), new_uuid()
    api.put(first, body(world.village_a, household=world.household_a))
    api.put(second, body(world.village_a, house_number="8组1号", head_name="吴八"))
    reviewer = type(auth)(app.test_client())
    reviewer.login("reviewer-a")
    page = f"/surveys/{first}"
    assert reviewer.post(f"{page}/review", {"action": "approve"}, token_from=page).status_code == 302
    assert reviewer.post(f"/surveys/{second}/review", {"action": "return"}, token_from=page).status_code == 303
    assert reviewer.post(f"/surveys/{second}/review", {"action": "return", "comment": "请补充照片"},
                         token_from=page).status_code == 302
    db.session.expire_all()
    statuses = {s.uuid: (s.status, s.reviewer_comment) for s in db.session.scalars(select(Survey))}
    assert statuses == {first: ("approved", None), second: ("returned", "请补充照片")}
    # Surveyors cannot review; a second approval is refused.
    assert auth.post(f"/surveys/{first}/review", {"action": "approve"}, token_from=page).status_code == 403


def test_survey_pages_are_scoped(app, auth, world, api, client):
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, household=world.household_a))
    other = type(auth)(app.test_client())
    other.login("surveyor-b")
    for path in (f"/surveys/{uuid}", f"/surveys/{uuid}/history", f"/surveys/{uuid}/edit",
                 f"/surveys/?village={world.village_a.id}", f"/surveys/new?village={world.village_a.id}",
                 f"/surveys/households/{world.household_a.id}"):
        assert other.client.get(path).status_code == 404, path
    viewer = type(auth)(app.test_client())
    viewer.login("viewer-a")
    assert viewer.client.get(f"/surveys/{uuid}").status_code == 200
    assert viewer.client.get(f"/surveys/new?village={world.village_a.id}").status_code == 403


def test_previous_years_answers_are_offered_as_the_start(auth, world, client, api):
    api.login("surveyor-a")
    api.put(new_uuid(), body(world.village_a, household=world.household_a, year=2025, survey_date="2025-06-01",
                             floor_area_m2=222))
    page = client.get(f"/surveys/households/{world.household_a.id}").get_data(as_text=True)
    assert "2025" in page and "from_previous=1" in page
    start = f"/surveys/new?village={world.village_a.id}&household={world.household_a.id}&year=2026"
    assert "以 2025 年的答案为起点" in client.get(start).get_data(as_text=True)
    html = client.get(start + "&from_previous=1").get_data(as_text=True)
    assert 'value="1组1号"' in html
    uuid = re.search(r'name="survey_uuid" value="([^"]+)"', html).group(1)
    response = auth.post(start + "&from_previous=1", {"survey_uuid": uuid, "house_number": "1组1号",
                                                      "head_name": "王甲", "survey_date": "2026-05-02"},
                         token_from=start)
    assert response.status_code == 302
    survey = db.session.scalars(select(Survey).where(Survey.uuid == uuid)).one()
    assert survey.year == 2026 and survey.answers["floor_area_m2"] == 222  # carried over from 2025


def test_photos_are_checked_by_content_and_idempotent(api, world, tmp_path, app):
    app.config["PHOTO_FOLDER"] = str(tmp_path)
    api.login("surveyor-a")
    uuid = new_uuid()
    api.put(uuid, body(world.village_a, household=world.household_a))
    photo_uuid = new_uuid()
    url = f"/api/v1/surveys/{uuid}/photos/{photo_uuid}?kind=roof"
    headers = {"X-CSRFToken": api.token, "Content-Type": "image/jpeg"}
    image = _jpeg()
    first = api.client.put(url, data=image, headers=headers)
    assert first.status_code == 201 and first.get_json()["width"] == 800
    assert api.client.put(url, data=image, headers=headers).status_code == 200
    assert api.client.put(url, data=_jpeg(color=(1, 2, 3)), headers=headers).status_code == 409
    fake = api.client.put(f"/api/v1/surveys/{uuid}/photos/{new_uuid()}", data=b"MZ\x90\x00 not a photo",
                          headers=headers)
    assert fake.status_code == 415
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert api.client.put(f"/api/v1/surveys/{uuid}/photos/{new_uuid()}", data=gif.getvalue(),
                          headers=headers).status_code == 415
    assert api.client.put(f"/api/v1/surveys/{uuid}/photos/{new_uuid()}?kind=selfie", data=image,
                          headers=headers).status_code == 422
    photos = db.session.scalars(select(Photo)).all()
    assert len(photos) == 1
    thumb = api.client.get(f"/surveys/{uuid}/photos/{photo_uuid}/thumb")
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert (tmp_path / uuid / f"{photo_uuid}.jpg").read_bytes() == image
