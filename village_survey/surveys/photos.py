"""Survey photos: checked by decoding all of their content (not by their name), thumbnailed with
bounded memory, and written to disk under their names only once the row naming them is committed."""

import datetime as dt
import hashlib
import io
import logging
import os
import re
import secrets
import time

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageFile, UnidentifiedImageError
from sqlalchemy import event, exists, select

from village_survey import access
from village_survey.core.errors import DomainError
from village_survey.extensions import db
from village_survey.review.flagging import photo_added
from village_survey.surveys.models import PHOTO_KINDS, Photo

log = logging.getLogger(__name__)

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# Pixels a photo may have, by what decoding it costs (measured, see docs/benchmarks.md, uploads).
# Only a baseline JPEG can be decoded reduced (at 1/8 of its size, see `_decoded`): a 50-megapixel
# camera photo (8,160 × 6,120) then costs about 10 MB. The others decode whole: a progressive JPEG
# keeps the coefficients of the whole image (~3 bytes a pixel; 150 MB for 50 megapixels), PNG
# about 5 bytes a pixel, WebP 16 (Pillow's decoder keeps two canvases and a copy). Phones take
# baseline JPEGs; the field app sends JPEGs of at most 1,600 × 1,600 px.
MAX_PIXELS = {"JPEG": 52_000_000, "progressive JPEG": 8_000_000, "PNG": 8_000_000, "WEBP": 3_000_000}
# Pillow's own guard for every image opened in this process: a warning above, an error above twice.
Image.MAX_IMAGE_PIXELS = max(MAX_PIXELS.values())
THUMB_SIZE = (320, 320)
# What Pillow raises on files it cannot read (its fuzzing tests accept these as "not an image").
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                 TypeError, ZeroDivisionError)
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
STAGED = "village_survey.staged_photo_files"  # key in Session.info: files written, not yet named


class PhotoError(DomainError):
    def __init__(self, status, message):
        super().__init__(status, message)


def photo_folder():
    return current_app.config.get("PHOTO_FOLDER") or os.path.join(current_app.instance_path, "photos")


def _kind_of(image):
    """The MAX_PIXELS key of an opened image (an MPO is a JPEG with more pictures after the first)."""
    if image.format in ("JPEG", "MPO"):
        return "progressive JPEG" if image.info.get("progressive") or image.info.get("progression") else "JPEG"
    return image.format


def _decoded(data):
    """(format, width, height, thumbnail as JPEG bytes) of a whole JPEG, PNG or WebP image, or PhotoError.

    The image is decoded to its last byte, so a file cut off in transit is refused; a baseline
    JPEG is decoded at 1/2, 1/4 or 1/8 of its size (the smallest still above the thumbnail's),
    which reads the whole stream but never holds the full-size picture.
    """
    if not data:
        raise PhotoError(400, _("The photo is empty."))
    if len(data) > current_app.config["PHOTO_MAX_BYTES"]:
        raise PhotoError(413, _("The photo is too large (at most %(mb)d MB).",
                                mb=current_app.config["PHOTO_MAX_BYTES"] // 1_000_000))
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = "JPEG" if image.format == "MPO" else image.format
            if image_format not in FORMATS:
                raise PhotoError(415, _("Only JPEG, PNG or WebP photos are accepted."))
            width, height = image.size
            limit = MAX_PIXELS[_kind_of(image)]
            if width * height > limit:
                raise PhotoError(413, _("The photo has too many pixels: at most %(megapixels)d megapixels "
                                        "for this kind of file.", megapixels=limit // 1_000_000))
            if image_format == "JPEG":
                image.draft("RGB", THUMB_SIZE)
            # a process-wide switch that WeasyPrint turns on when it is imported (reports): a cut-off
            # upload would then be padded with grey and accepted
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                image.load()
            except DECODE_ERRORS:
                raise PhotoError(415, _("The photo is damaged or incomplete (perhaps the upload was cut "
                                        "off). Please send it again.")) from None
            thumbnail = _thumbnail(image)
    except PhotoError:
        raise
    except BOMB_ERRORS:  # beyond Pillow's own limit, checked as the file is opened
        raise PhotoError(413, _("The photo has too many pixels.")) from None
    except DECODE_ERRORS:
        raise PhotoError(415, _("This file is not a photo we can read.")) from None
    return image_format, width, height, thumbnail


EXIF_ORIENTATION = 0x0112
ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _thumbnail(image):
    """A JPEG thumbnail of a decoded image, made without a second full-size copy of it: the image
    is first box-reduced to about twice the thumbnail's size, colour band by colour band when
    converting it whole (RGBA or a palette to RGB) would copy it."""
    factor = max(1, min(image.width // (2 * THUMB_SIZE[0]), image.height // (2 * THUMB_SIZE[1])))
    if image.mode == "P":
        # Palette indexes cannot be averaged: their colours first (1 byte a pixel becomes 4).
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGB", "L"):
        small = image.reduce(factor)
    elif image.mode in ("RGBA", "RGBX"):  # the thumbnail has no transparency: the colours alone
        small = Image.merge("RGB", [image.getchannel(band).reduce(factor) for band in "RGB"])
    elif image.mode == "LA":
        small = image.getchannel("L").reduce(factor)
    else:  # CMYK (from a JPEG, already decoded small), 16-bit greys, black and white
        small = image.convert("RGB").reduce(factor)
    if small.mode != "RGB":
        small = small.convert("RGB")
    small.thumbnail(THUMB_SIZE)
    # A phone camera stores the picture as the sensor saw it and says how to turn it (EXIF);
    # browsers turn the full photo themselves, the thumbnail (which keeps no EXIF) is turned here.
    turn = ORIENTATIONS.get(image.getexif().get(EXIF_ORIENTATION))
    if turn is not None:
        small = small.transpose(turn)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


# --- files that exist only once their row is committed --------------------------------------------

def _staged(session):
    return session.info.setdefault(STAGED, [])


def _stage(path, data):
    """Write `data` under a temporary name beside `path`; it becomes `path` when the session
    commits and is removed if it rolls back or closes without committing."""
    session = db.session()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{secrets.token_hex(6)}.pending"
    try:
        with open(temporary, "xb") as f:
            f.write(data)
    except BaseException:  # a full disk: no half-written file is left behind
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    transaction = session.get_nested_transaction() or session.get_transaction()
    _staged(session).append([temporary, path, transaction])


def _remove(entries):
    for temporary, _path, _transaction in entries:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass


@event.listens_for(db.session, "after_commit")
def _name_staged_files(session):
    if session.in_nested_transaction():
        return  # a savepoint released: its files wait for the outer commit
    entries = session.info.pop(STAGED, [])
    for temporary, path, _transaction in entries:
        try:
            os.replace(temporary, path)
        except OSError:
            log.exception("A committed photo could not take its name: %s", path)


@event.listens_for(db.session, "after_rollback")
def _remove_staged_files(session):
    entries = session.info.get(STAGED)
    if not entries:
        return
    nested = session.get_nested_transaction()
    if nested is None:
        _remove(session.info.pop(STAGED))
    else:  # a savepoint rolled back: only what was written inside it
        _remove([e for e in entries if e[2] is nested])
        entries[:] = [e for e in entries if e[2] is not nested]


@event.listens_for(db.session, "after_transaction_end")
def _settle_staged_files(session, transaction):
    entries = session.info.get(STAGED)
    if not entries:
        return
    if transaction.nested:  # released into the enclosing transaction, whose fate they now share
        for entry in entries:
            if entry[2] is transaction:
                entry[2] = transaction.parent
    elif transaction.parent is None:  # the session closed without a commit
        _remove(session.info.pop(STAGED))


def save_photo(user, survey, photo_uuid, kind, data):
    """Add a photo to the session (the request commits it); the same photo again is accepted
    without a copy. Returns (photo, created). The files take their names at the commit."""
    if not access.may_survey(user):
        raise PhotoError(403, _("Your account is not allowed to do this."))
    if kind not in PHOTO_KINDS:
        raise PhotoError(422, _("The kind of photo must be house, roof, stove or other."))
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalars(select(Photo).where(Photo.uuid == photo_uuid)).first()
    if existing is not None:
        if existing.survey_id == survey.id and existing.sha256 == digest:
            _restore_lost_files(existing, data)
            return existing, False
        raise PhotoError(409, _("Another photo was already sent with this identifier."))
    if survey.status == "approved":
        raise PhotoError(409, _("The survey is approved; photos cannot be added any more."))
    image_format, width, height, thumbnail = _decoded(data)
    content_type, extension = FORMATS[image_format]
    relative = f"{survey.uuid}/{photo_uuid}.{extension}"
    photo = Photo(uuid=photo_uuid, survey=survey, kind=kind, content_type=content_type, width=width,
                  height=height, size=len(data), sha256=digest, path=relative, uploaded_by_id=user.id)
    db.session.add(photo)  # INSERTed at the request's commit, with the survey's flags
    photo_added(survey, kind)  # a photo of the house clears the review flag "no photo of the house"
    _stage(os.path.join(photo_folder(), relative), data)
    _stage(thumbnail_path(relative), thumbnail)
    return photo, True


def _restore_lost_files(photo, data):
    """The same photo sent again: its files written again if a crash between the commit and their
    naming lost them (the row is committed, so the phone was about to be told it is stored)."""
    path = os.path.join(photo_folder(), photo.path)
    thumbnail = thumbnail_path(photo.path)
    if os.path.exists(path) and os.path.exists(thumbnail):
        return
    log.warning("Photo %s had lost its files: written again from the phone's copy", photo.path)
    _format, _width, _height, small = _decoded(data)
    if not os.path.exists(path):
        _stage(path, data)
    if not os.path.exists(thumbnail):
        _stage(thumbnail, small)


_PENDING = re.compile(r"^(?P<final>.+)\.[0-9a-f]{12}\.pending$")


def settle_pending(folder=None, older_than=dt.timedelta(hours=1), now=None) -> dict[str, int]:
    """Files left under their temporary name by a process killed around a commit: a photo (or
    thumbnail) whose row is committed and whose file is missing takes its name (the photo only if
    its SHA-256 is the row's); the others, once older than `older_than` (no request still writes
    them), are removed. Returns {"named": n, "removed": n}."""
    folder = folder or photo_folder()
    now = now or time.time()
    named = removed = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            match = _PENDING.match(name)
            if match is None:
                continue
            pending = os.path.join(root, name)
            final = os.path.join(root, match["final"])
            relative = os.path.relpath(final, folder).replace(os.sep, "/")
            if not os.path.exists(final) and _committed(relative, pending):
                os.replace(pending, final)
                named += 1
            elif now - os.path.getmtime(pending) > older_than.total_seconds():
                os.remove(pending)
                removed += 1
    return {"named": named, "removed": removed}


def _committed(relative, pending) -> bool:
    """Whether a committed photo row names this file: the photo itself (with the same SHA-256)
    or its thumbnail."""
    if relative.endswith(".thumb.jpg"):
        stem = relative[:-len(".thumb.jpg")]
        return db.session.scalar(select(exists().where(Photo.path.in_([f"{stem}.{ext}" for _t, ext in
                                                                       FORMATS.values()])))) is True
    sha256 = db.session.scalar(select(Photo.sha256).where(Photo.path == relative))
    if sha256 is None:
        return False
    with open(pending, "rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest() == sha256


def thumbnail_path(relative):
    return os.path.join(photo_folder(), os.path.splitext(relative)[0] + ".thumb.jpg")


def photo_state(photo):
    return {"photo_uuid": photo.uuid, "kind": photo.kind, "content_type": photo.content_type,
            "width": photo.width, "height": photo.height, "size": photo.size, "sha256": photo.sha256}
