"""Survey photos: checked by their content (not their name), stored on disk, with thumbnails."""

import hashlib
import io
import os

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from village_survey.extensions import db
from village_survey.surveys.models import PHOTO_KINDS, Photo
from village_survey.surveys.services import SURVEY_WRITERS

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 40_000_000  # refuses decompression bombs long before they fill the memory
THUMB_SIZE = (320, 320)


class PhotoError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def photo_folder():
    return current_app.config.get("PHOTO_FOLDER") or os.path.join(current_app.instance_path, "photos")


def _inspect(data):
    """(format, width, height) of a real JPEG, PNG or WebP image, or PhotoError."""
    if not data:
        raise PhotoError(400, _("The photo is empty."))
    if len(data) > current_app.config["PHOTO_MAX_BYTES"]:
        raise PhotoError(413, _("The photo is too large (at most %(mb)d MB).",
                                mb=current_app.config["PHOTO_MAX_BYTES"] // 1_000_000))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise PhotoError(415, _("Only JPEG, PNG or WebP photos are accepted."))
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(413, _("The photo has too many pixels."))
            image.verify()
            return image.format, image.width, image.height
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoError(415, _("This file is not a photo we can read.")) from None


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.part"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, path)


def _thumbnail(data, path):
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    _write(path, out.getvalue())


def save_photo(user, survey, photo_uuid, kind, data):
    """Store a photo once; the same photo again is accepted without a copy. Returns (photo, created)."""
    if user.role not in SURVEY_WRITERS:
        raise PhotoError(403, _("Your account is not allowed to do this."))
    if kind not in PHOTO_KINDS:
        raise PhotoError(422, _("The kind of photo must be house, roof, stove or other."))
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalars(select(Photo).where(Photo.uuid == photo_uuid)).first()
    if existing is not None:
        if existing.survey_id == survey.id and existing.sha256 == digest:
            return existing, False
        raise PhotoError(409, _("Another photo was already sent with this identifier."))
    if survey.status == "approved":
        raise PhotoError(409, _("The survey is approved; photos cannot be added any more."))
    image_format, width, height = _inspect(data)
    content_type, extension = FORMATS[image_format]
    relative = f"{survey.uuid}/{photo_uuid}.{extension}"
    _write(os.path.join(photo_folder(), relative), data)
    _thumbnail(data, thumbnail_path(relative))
    photo = Photo(uuid=photo_uuid, survey=survey, kind=kind, content_type=content_type, width=width,
                  height=height, size=len(data), sha256=digest, path=relative, uploaded_by_id=user.id)
    db.session.add(photo)
    db.session.flush()
    return photo, True


def thumbnail_path(relative):
    return os.path.join(photo_folder(), os.path.splitext(relative)[0] + ".thumb.jpg")


def photo_state(photo):
    return {"photo_uuid": photo.uuid, "kind": photo.kind, "content_type": photo.content_type,
            "width": photo.width, "height": photo.height, "size": photo.size, "sha256": photo.sha256}
