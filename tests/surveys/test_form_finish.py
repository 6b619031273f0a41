"""The website form's last touches: photos added on the "照片与备注" step itself, a step opened from
the summary goes back to it, and bottled LPG typed in bottles or kilograms (stored in kg)."""

import datetime as dt
import io
import os
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.factories import complete_answers
from village_survey import survey_fields as sf
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata
from village_survey.surveys.models import Photo, Survey
from village_survey.surveys.services import save_survey


def _jpeg(size=(800, 600)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def _gif():
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, "GIF")
    return out.getvalue()


def _draft(world, **answers):
    survey_uuid = str(uuid.uuid4())
    today = dt.date.today()
    save_survey(world.surveyor_a, survey_uuid, form_version=1, year=today.year, status="draft",
                formdata=answers_to_formdata(complete_answers(survey_date=today.isoformat(), **answers)),
                village_id=world.village_a.id)
    db.session.commit()
    return survey_uuid


def _survey(survey_uuid):
    db.session.expire_all()
    return db.session.scalars(select(Survey).where(Survey.uuid == survey_uuid)).one()


def _photo_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Photo.id)))


def _files(folder):
    return sorted(name for _root, _dirs, names in os.walk(folder) for name in names)


@pytest.fixture
def folder(app, tmp_path):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    yield tmp_path / "photos"
    app.config["PHOTO_FOLDER"] = None


def _notes_path(survey_uuid):
    return f"/surveys/{survey_uuid}/edit?step=notes"


def _post_notes(auth, survey_uuid, notes="", **photos):
    """Save the notes step as a browser sends it: every file input, empty when nothing is chosen."""
    path = _notes_path(survey_uuid)
    data = {"notes": notes}
    for kind in ("house", "roof", "stove", "other"):
        content, name = photos.get(kind, (b"", ""))
        data[f"photo_{kind}"] = (io.BytesIO(content), name)
    return auth.post(path, data, token_from=path, content_type="multipart/form-data")


# --- photos on the "照片与备注" step -----------------------------------------------------------

def test_the_photos_step_is_a_multipart_form_with_a_file_input_per_kind(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    html = client.get(_notes_path(survey_uuid)).get_data(as_text=True)
    form = re.search(r'<form method="post"[^>]*class="card survey-form"[^>]*>', html).group(0)
    assert 'enctype="multipart/form-data"' in form
    for kind, label in (("house", "房屋"), ("roof", "屋顶"), ("stove", "炉灶"), ("other", "其他")):
        assert 'type="file"' in re.search(rf'<input[^>]*name="photo_{kind}"[^>]*>', html).group(0), kind
        assert re.search(rf'<label for="photo-{kind}">[^<]*{label}', html), kind
    assert 'name="csrf_token"' in form + html
    assert "每张最大 10 MB，合计最大 16 MB" in html  # what one save may carry


def test_other_steps_are_plain_forms_without_file_inputs(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    html = client.get(f"/surveys/{survey_uuid}/edit?step=pv").get_data(as_text=True)
    assert "multipart/form-data" not in html and 'type="file"' not in html


def test_saving_the_photos_step_stores_the_notes_and_the_chosen_photo(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    image = _jpeg()
    response = _post_notes(auth, survey_uuid, "院子里有太阳能热水器", house=(image, "house.jpg"))
    assert response.status_code == 302 and "step=summary" in response.headers["Location"]
    survey = _survey(survey_uuid)
    assert survey.answers["notes"] == "院子里有太阳能热水器"
    [photo] = survey.photos
    assert photo.kind == "house"
    assert (folder / survey_uuid / f"{photo.uuid}.jpg").read_bytes() == image
    # The empty file inputs (nothing chosen) add nothing.
    assert _photo_count() == 1


def test_the_photos_step_shows_the_photos_already_uploaded(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    _post_notes(auth, survey_uuid, house=(_jpeg(), "house.jpg"), stove=(_jpeg((400, 300)), "stove.jpg"))
    html = client.get(_notes_path(survey_uuid)).get_data(as_text=True)
    thumbs = re.findall(r'<img src="(/surveys/[^"]+/thumb)" alt="([^"]+)"', html)
    assert [alt for _src, alt in thumbs] == ["房屋正面", "炉灶"]
    for src, _alt in thumbs:
        response = client.get(src)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"


def test_a_refused_photo_saves_nothing_and_shows_its_message_with_the_answers_as_typed(
        client, auth, world, folder):
    survey_uuid = _draft(world, notes="旧备注")
    auth.login("surveyor-a")
    response = _post_notes(auth, survey_uuid, "新备注", house=(_jpeg(), "house.jpg"), roof=(_gif(), "roof.gif"))
    assert response.status_code == 415
    html = response.get_data(as_text=True)
    roof = re.search(r'<div class="field has-error" data-photo-kind="roof".*?</div>', html, re.S).group(0)
    assert "只接受 JPEG、PNG 或 WebP 格式的照片。" in roof
    # The good photo of the same request is not kept either: the surveyor is told to choose it again.
    house = re.search(r'<div class="field[^"]*" data-photo-kind="house".*?</div>', html, re.S).group(0)
    assert "未保存" in house
    assert "/thumb" not in html  # no thumbnail of a photo the request does not keep
    assert re.search(r'name="notes"[^>]*>\s*新备注</textarea>', html)
    assert _survey(survey_uuid).answers["notes"] == "旧备注"
    assert _photo_count() == 0 and _files(folder) == []


def test_a_photo_too_large_is_refused_on_the_step(app, client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    app.config["PHOTO_MAX_BYTES"], before = 1_000_000, app.config["PHOTO_MAX_BYTES"]
    try:
        response = _post_notes(auth, survey_uuid, "备注", other=(b"\xff\xd8" + b"0" * 1_000_001, "big.jpg"))
    finally:
        app.config["PHOTO_MAX_BYTES"] = before
    assert response.status_code == 413
    assert "照片太大（最大 1 MB）。" in response.get_data(as_text=True)
    assert "notes" not in _survey(survey_uuid).answers and _photo_count() == 0


def test_a_refused_answer_and_a_refused_photo_are_both_shown(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    response = _post_notes(auth, survey_uuid, "坏\x01字", roof=(_gif(), "roof.gif"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "含有无法保存的不可见控制字符" in html and "只接受 JPEG、PNG 或 WebP 格式的照片。" in html
    assert _photo_count() == 0


def test_a_good_photo_is_not_kept_when_the_answers_are_refused(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    response = _post_notes(auth, survey_uuid, "坏\x01字", house=(_jpeg(), "house.jpg"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    house = re.search(r'<div class="field[^"]*" data-photo-kind="house".*?</div>', html, re.S).group(0)
    assert "未保存" in house
    assert "/thumb" not in html  # no thumbnail of a photo the request does not keep
    assert _photo_count() == 0 and _files(folder) == []


def test_the_same_photos_step_sent_twice_stores_its_photo_once(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = _notes_path(survey_uuid)
    page = client.get(path).get_data(as_text=True)
    photo_uuid = re.search(r'name="photo_uuid_house" value="([^"]+)"', page).group(1)
    image = _jpeg()
    for _ in range(2):  # a double tap, or the page sent again after a lost reply
        data = {"notes": "", "photo_uuid_house": photo_uuid, "photo_house": (io.BytesIO(image), "house.jpg")}
        assert auth.post(path, data, token_from=path, content_type="multipart/form-data").status_code == 302
    assert _photo_count() == 1


def test_the_photos_step_without_its_csrf_token_stores_nothing(client, auth, world, folder):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    response = client.post(_notes_path(survey_uuid), data={"notes": "x", "photo_house": (io.BytesIO(_jpeg()), "h.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert _photo_count() == 0 and "notes" not in _survey(survey_uuid).answers


# --- back to the summary ------------------------------------------------------------------------

def test_a_missing_answer_links_from_the_summary_to_its_step_and_back(client, auth, world):
    survey_uuid = _draft(world, primary_stove=None, secondary_stove=None)
    auth.login("surveyor-a")
    summary = client.get(f"/surveys/{survey_uuid}/edit?step=summary").get_data(as_text=True)
    links = re.findall(r'<li><a href="([^"]+)">主要炉灶</a>', summary)
    assert links and "step=cooking" in links[0] and "return=summary" in links[0]
    step_path = links[0].replace("&amp;", "&").split("#")[0]
    step = client.get(step_path).get_data(as_text=True)
    assert re.search(r'<button type="submit" name="go" value="summary" class="primary">保存并返回汇总</button>', step)
    data = {"primary_stove": "electric", "secondary_stove": "none", "go": "summary"}
    response = auth.post(step_path, data, token_from=step_path)
    assert response.status_code == 302 and response.headers["Location"].endswith("step=summary")
    assert _survey(survey_uuid).answers["primary_stove"] == "electric"


def test_a_change_link_of_the_summary_returns_to_the_summary_too(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    summary = client.get(f"/surveys/{survey_uuid}/edit?step=summary").get_data(as_text=True)
    change = re.search(r'href="([^"]*step=building[^"]*)">修改</a>', summary).group(1)
    assert "return=summary" in change


def test_a_step_opened_from_the_summary_keeps_its_way_back_when_refused(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=building&return=summary"
    response = auth.post(path, {"year_built": "1850", "go": "summary"}, token_from=path)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'action="[^"]*return=summary', html) and 'value="summary" class="primary"' in html


def test_a_step_opened_in_the_form_continues_to_the_next_step(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=building"
    html = client.get(path).get_data(as_text=True)
    assert "保存并返回汇总" not in html
    response = auth.post(path, {"year_built": "2008"}, token_from=path)
    assert response.headers["Location"].endswith("step=energy")


def test_enter_in_a_field_saves_and_goes_on_rather_than_back(client, auth, world):
    """A form's Enter key presses its first submit button: it must not be "Back" (go=household)."""
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    for path, go in ((f"/surveys/{survey_uuid}/edit?step=building", None),
                     (f"/surveys/{survey_uuid}/edit?step=building&return=summary", "summary")):
        html = client.get(path).get_data(as_text=True)
        form = html[html.index('class="card survey-form"'):]
        first = re.search(r'<button type="submit"[^>]*>', form).group(0)
        found = re.search(r'name="go" value="(\w+)"', first)
        assert (found.group(1) if found else None) == go, first


# --- bottled LPG in bottles or kilograms ---------------------------------------------------------

def _energy(**changes):
    formdata = answers_to_formdata(complete_answers())
    data = {key: formdata[key] for key in sf.keys_in_step("energy") if key in formdata}
    return data | changes


def test_the_lpg_bottle_is_15_kg_in_the_data_dictionary_sent_to_the_phone():
    assert dict(sf.FIELDS["lpg_kg"].alt_units) == {"bottle": 15}
    [lpg] = [f for f in sf.as_data()["fields"] if f["key"] == "lpg_kg"]
    assert lpg["alt_units"] == {"bottle": 15}
    assert all("alt_units" not in f for f in sf.as_data()["fields"] if f["key"] != "lpg_kg")


def test_the_energy_step_offers_kilograms_or_bottles_for_lpg(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    html = client.get(f"/surveys/{survey_uuid}/edit?step=energy").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="lpg_kg_unit".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', select) == [
        ("kg", "千克"), ("bottle", "瓶（每瓶 15 千克）")]
    assert 'selected' in re.search(r'<option value="kg"[^>]*>', select).group(0)
    assert re.search(r'<input[^>]*name="lpg_kg"[^>]*value="90"', html)  # the stored kilograms


def test_three_bottles_of_lpg_are_stored_as_45_kg(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=energy"
    response = auth.post(path, _energy(lpg_kg="3", lpg_kg_unit="bottle"), token_from=path)
    assert response.status_code == 302
    assert _survey(survey_uuid).answers["lpg_kg"] == 45
    summary = client.get(f"/surveys/{survey_uuid}/edit?step=summary").get_data(as_text=True)
    assert re.search(r"<dt>瓶装液化气[^<]*</dt><dd>45 千克/12 个月", summary)
    assert "45 千克/12 个月" in client.get(f"/surveys/{survey_uuid}").get_data(as_text=True)


@pytest.mark.parametrize(("typed", "unit", "stored"), [
    ("45", "kg", 45), ("2.5", "bottle", 37.5), (" 4 ", "bottle", 60), ("12.5", "", 12.5), ("", "bottle", None),
])
def test_the_lpg_amount_is_stored_in_kilograms(client, auth, world, typed, unit, stored):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=energy"
    assert auth.post(path, _energy(lpg_kg=typed, lpg_kg_unit=unit), token_from=path).status_code == 302
    assert _survey(survey_uuid).answers.get("lpg_kg") == stored


def test_too_many_bottles_are_refused_with_the_typed_bottles_and_their_kilograms(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=energy"
    response = auth.post(path, _energy(lpg_kg="200", lpg_kg_unit="bottle"), token_from=path)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r'<div class="field has-error" data-key="lpg_kg".*?data-key=', html, re.S).group(0)
    assert re.search(r'name="lpg_kg"[^>]*value="200"', field)
    assert re.search(r'<option value="bottle" selected>', field)
    assert "即 3,000 千克。" in field and "须在 0 至 2,000 之间。" in field
    assert _survey(survey_uuid).answers["lpg_kg"] == 90


def test_bottles_that_are_no_number_are_refused_as_typed(client, auth, world):
    survey_uuid = _draft(world)
    auth.login("surveyor-a")
    path = f"/surveys/{survey_uuid}/edit?step=energy"
    response = auth.post(path, _energy(lpg_kg="三", lpg_kg_unit="bottle"), token_from=path)
    assert response.status_code == 422
    assert re.search(r'name="lpg_kg"[^>]*value="三"', response.get_data(as_text=True))


def test_the_api_takes_lpg_in_kilograms_only(api, world):
    from tests.surveys.conftest import body, new_uuid

    api.login("surveyor-a")
    survey_uuid = new_uuid()
    assert api.put(survey_uuid, body(world.village_a, status="draft", household=world.household_a,
                                     lpg_kg=3)).status_code == 201
    assert api.get(survey_uuid).get_json()["answers"]["lpg_kg"] == 3
