"""Photo uploads that cannot exhaust memory or leave files behind: pixel limits by format, reduced
JPEG decoding, damaged files refused, and files named only once their row is committed."""

import io
import os

import pytest
from PIL import Image, JpegImagePlugin
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from tests.surveys.conftest import body, new_uuid
from village_survey.extensions import db
from village_survey.surveys import photos
from village_survey.surveys.models import Photo, Survey


def _image(fmt, size, mode="RGB", **options):
    out = io.BytesIO()
    color = {"RGB": (200, 80, 40), "RGBA": (200, 80, 40, 128), "L": 90, "P": 3}[mode]
    Image.new(mode, size, color).save(out, fmt, **options)
    return out.getvalue()


def _files(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _dirs, names in os.walk(folder) for name in names)


def _photo_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count(Photo.id)))


@pytest.fixture
def folder(app, tmp_path):
    app.config["PHOTO_FOLDER"] = str(tmp_path / "photos")
    yield tmp_path / "photos"
    app.config["PHOTO_FOLDER"] = None


@pytest.fixture
def survey_uuid(api, world):
    api.login("surveyor-a")
    uuid = new_uuid()
    assert api.put(uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    return uuid


def _put_photo(api, survey_uuid, data, photo_uuid=None, kind="house"):
    return api.client.put(f"/api/v1/surveys/{survey_uuid}/photos/{photo_uuid or new_uuid()}?kind={kind}",
                          data=data, headers={"X-CSRFToken": api.token, "Content-Type": "application/octet-stream"})


def _post_photo(api, survey_uuid, data, filename="photo.jpg"):
    return api.auth.post(f"/surveys/{survey_uuid}/photos",
                         {"photo": (io.BytesIO(data), filename), "kind": "house", "photo_uuid": new_uuid()},
                         token_from=f"/surveys/{survey_uuid}", content_type="multipart/form-data")


def _message(app, text):
    """A message as the app says it in the default language (once the catalogs are merged)."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(text)


DAMAGED = "The photo is damaged or incomplete (perhaps the upload was cut off). Please send it again."


# --- decompression bombs -----------------------------------------------------------------------

def test_a_tiny_png_of_40_megapixels_is_refused_before_it_is_decoded(api, folder, survey_uuid, monkeypatch):
    bomb = _image("PNG", (6300, 6300), "L")
    assert len(bomb) < 100_000
    loads = []
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(self.size))
    response = _put_photo(api, survey_uuid, bomb)
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_large"
    assert loads == [] and _photo_count() == 0 and _files(folder) == []


def test_png_and_webp_are_held_to_fewer_pixels_than_a_camera_jpeg(api, folder, survey_uuid):
    size = (4000, 3000)  # 12 megapixels: a phone camera's JPEG, but a PNG or WebP costs its full size
    assert _put_photo(api, survey_uuid, _image("JPEG", size)).status_code == 201
    assert _put_photo(api, survey_uuid, _image("PNG", size, "L")).status_code == 413
    assert _put_photo(api, survey_uuid, _image("WEBP", (2000, 2000))).status_code == 413
    # A progressive JPEG keeps every coefficient of the whole image while it is decoded.
    assert _put_photo(api, survey_uuid, _image("JPEG", size, progressive=True)).status_code == 413
    assert _put_photo(api, survey_uuid, _image("PNG", (1600, 1200), "RGBA")).status_code == 201
    assert _put_photo(api, survey_uuid, _image("WEBP", (1600, 1200))).status_code == 201
    assert _photo_count() == 3


def test_a_large_jpeg_is_decoded_at_an_eighth_of_its_size_for_its_thumbnail(api, folder, survey_uuid,
                                                                           monkeypatch):
    decoded = []
    original = JpegImagePlugin.JpegImageFile.load

    def load(self):
        decoded.append(self.size)  # the size the decoder produces (draft() sets it)
        return original(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    photo_uuid = new_uuid()
    response = _put_photo(api, survey_uuid, _image("JPEG", (4000, 3000)), photo_uuid)
    assert response.status_code == 201
    assert (response.get_json()["width"], response.get_json()["height"]) == (4000, 3000)
    assert decoded and max(w * h for w, h in decoded) <= 4000 * 3000 // 64
    thumb = api.client.get(f"/surveys/{survey_uuid}/photos/{photo_uuid}/thumb")
    assert Image.open(io.BytesIO(thumb.data)).size == (320, 240)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L"])
def test_pngs_of_every_colour_mode_get_a_jpeg_thumbnail(api, folder, survey_uuid, mode):
    photo_uuid = new_uuid()
    assert _put_photo(api, survey_uuid, _image("PNG", (1200, 1600), mode), photo_uuid).status_code == 201
    thumb = Image.open(io.BytesIO(api.client.get(f"/surveys/{survey_uuid}/photos/{photo_uuid}/thumb").data))
    assert thumb.format == "JPEG" and thumb.mode == "RGB" and thumb.size == (240, 320)


def test_a_jpeg_with_a_second_picture_inside_is_a_jpeg(api, folder, survey_uuid):
    # Cameras store a preview or an HDR gain map after the photo (MPO); Pillow calls it "MPO".
    out = io.BytesIO()
    first, second = Image.new("RGB", (800, 600), (10, 20, 30)), Image.new("RGB", (200, 150))
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    response = _put_photo(api, survey_uuid, out.getvalue())
    assert response.status_code == 201 and response.get_json()["content_type"] == "image/jpeg"


# --- damaged files and files on disk -----------------------------------------------------------

def test_a_truncated_jpeg_is_refused_through_the_api_and_leaves_no_file(app, api, folder, survey_uuid):
    cut = _image("JPEG", (1600, 1200))[:-3000]
    response = _put_photo(api, survey_uuid, cut)
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media"
    assert response.get_json()["error"] == _message(app, DAMAGED)
    assert _photo_count() == 0 and _files(folder) == []


def test_a_truncated_jpeg_is_refused_on_the_page_and_leaves_no_file(app, api, folder, survey_uuid):
    cut = _image("JPEG", (1600, 1200))[:-3000]
    response = _post_photo(api, survey_uuid, cut)
    assert response.status_code == 415
    assert _message(app, DAMAGED) in response.get_data(as_text=True)
    assert _photo_count() == 0 and _files(folder) == []


def test_a_truncated_jpeg_is_refused_even_after_the_report_renderer_was_loaded(app, api, folder, survey_uuid,
                                                                              monkeypatch):
    """WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported (a report
    made in the same process): uploads must still be decoded to their last byte."""
    from PIL import ImageFile

    import village_survey.reports.render  # noqa: F401  (imports WeasyPrint)

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    cut = _image("JPEG", (1600, 1200))[:-3000]
    assert _put_photo(api, survey_uuid, cut).status_code == 415
    assert _photo_count() == 0 and _files(folder) == []


def test_a_file_that_is_no_image_is_refused_and_leaves_no_file(api, folder, survey_uuid):
    assert _put_photo(api, survey_uuid, b"\xff\xd8\xff\xe0 not really a JPEG").status_code == 415
    assert _files(folder) == []


def test_a_failed_commit_leaves_no_file(app, api, folder, survey_uuid, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answered as in production

    def fail(session):
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    event.listen(db.session, "before_commit", fail)
    try:
        response = _put_photo(api, survey_uuid, _image("JPEG", (800, 600)))
    finally:
        event.remove(db.session, "before_commit", fail)
    assert response.status_code == 503 and response.get_json()["code"] == "storage_full"
    assert _photo_count() == 0 and _files(folder) == []


def test_a_photo_takes_its_name_only_when_its_row_is_committed(app, world, folder, survey_uuid):
    survey = db.session.scalars(select(Survey).where(Survey.uuid == survey_uuid)).one()
    photo_uuid = new_uuid()
    with app.test_request_context():
        photo, created = photos.save_photo(world.surveyor_a, survey, photo_uuid, "roof", _image("JPEG", (800, 600)))
        assert created
        final = sorted([photo.path, os.path.relpath(photos.thumbnail_path(photo.path), folder)])
        staged = _files(folder)
        assert len(staged) == 2 and all(name.endswith(".pending") for name in staged)
        db.session.commit()
    assert _files(folder) == final


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_a_photo_whose_row_is_not_committed_leaves_no_file(app, world, folder, survey_uuid, end):
    survey = db.session.scalars(select(Survey).where(Survey.uuid == survey_uuid)).one()
    with app.test_request_context():
        photos.save_photo(world.surveyor_a, survey, new_uuid(), "roof", _image("JPEG", (800, 600)))
        assert len(_files(folder)) == 2
        db.session.rollback() if end == "rollback" else db.session.close()
    assert _files(folder) == []
    assert _photo_count() == 0


def test_a_photo_saved_in_a_savepoint_follows_the_savepoint(app, world, folder, survey_uuid):
    survey = db.session.scalars(select(Survey).where(Survey.uuid == survey_uuid)).one()
    with app.test_request_context():
        savepoint = db.session.begin_nested()
        photos.save_photo(world.surveyor_a, survey, new_uuid(), "roof", _image("JPEG", (800, 600)))
        savepoint.rollback()
        assert _files(folder) == []
        savepoint = db.session.begin_nested()
        kept, _ = photos.save_photo(world.surveyor_a, survey, new_uuid(), "house", _image("JPEG", (600, 800)))
        savepoint.commit()
        assert all(name.endswith(".pending") for name in _files(folder))
        db.session.commit()
    assert _files(folder) == sorted([kept.path, os.path.relpath(photos.thumbnail_path(kept.path), folder)])


def test_a_thumbnail_is_turned_as_the_camera_said(api, folder, survey_uuid):
    # A phone held upright stores a landscape picture and EXIF orientation 6 (turn 90° clockwise).
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (120, 160, 90)).save(out, "JPEG", exif=exif)
    photo_uuid = new_uuid()
    assert _put_photo(api, survey_uuid, out.getvalue(), photo_uuid).status_code == 201
    thumb = Image.open(io.BytesIO(api.client.get(f"/surveys/{survey_uuid}/photos/{photo_uuid}/thumb").data))
    assert thumb.size == (240, 320)
