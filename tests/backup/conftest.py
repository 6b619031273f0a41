"""Backups: the source instance is the suite's app (its database from TEST_DATABASE_URL, or SQLite),
with photo and report folders of its own; a restore goes into a fresh instance: a new SQLite file,
or a second PostgreSQL database created for the test and dropped after it."""

import hashlib
import io
import os
import tarfile
import uuid
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL, Auth
from tests.surveys.conftest import Api, body
from village_survey import create_app
from village_survey.extensions import db


@pytest.fixture
def folders(app, tmp_path):
    """The source instance's photo and report folders."""
    app.config["PHOTO_FOLDER"] = str(tmp_path / "source" / "photos")
    app.config["REPORTS_FOLDER"] = str(tmp_path / "source" / "reports")
    yield tmp_path / "source"
    app.config["PHOTO_FOLDER"] = None
    app.config["REPORTS_FOLDER"] = None


class Fresh:
    """An empty instance to restore into; `make(upgraded=True)` first builds its schema (as
    `flask db upgrade` would on a new machine)."""

    def __init__(self, app, tmp_path):
        self.source, self.tmp_path = app, tmp_path
        self.apps, self.databases = [], []

    def make(self, upgraded=False, revision="head"):
        n = len(self.apps)
        if TEST_DATABASE_URL:
            source = make_url(TEST_DATABASE_URL)
            name = f"{source.database}_restore{n}"
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
            self.databases.append(name)
            url = source.set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{self.tmp_path / f'restored{n}' / 'village_survey.db'}"
        folder = self.tmp_path / f"restored{n}"
        folder.mkdir(exist_ok=True)
        fresh = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PHOTO_FOLDER=str(folder / "photos"),
                           REPORTS_FOLDER=str(folder / "reports"))
        self.apps.append(fresh)
        if upgraded:
            with fresh.app_context():
                upgrade(revision=revision)
                db.session.remove()
                db.engine.dispose()
        return fresh

    def _admin(self, *statements):
        with self.source.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for statement in statements:
                    conn.execute(text(statement))

    def close(self):
        for fresh in self.apps:
            with fresh.app_context():
                db.session.remove()
                db.engine.dispose()
        for name in self.databases:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh(app, tmp_path):
    instances = Fresh(app, tmp_path)
    yield instances
    instances.close()


def jpeg(seed, size=(64, 48)):
    """A small JPEG of its own colour (so each seed has its own SHA-256)."""
    out = io.BytesIO()
    Image.new("RGB", size, (seed % 251, (seed * 7) % 253, (seed * 13) % 255)).save(out, "JPEG")
    return out.getvalue()


def phone(app, username="surveyor-a"):
    """A logged-in phone on the sync API (a client of its own, usable from another thread)."""
    client = app.test_client()
    return Api(client, Auth(client)).login(username)


def send_survey(api, village, n):
    """A survey of a new household and its house photo through the sync API, as the field app sends
    them: (survey uuid, photo uuid, photo SHA-256) once both were acknowledged. `village` is a
    village or its id (from another thread, which cannot load the test's rows)."""
    survey_uuid, photo_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    village = SimpleNamespace(id=village) if isinstance(village, int) else village
    response = api.put(survey_uuid, body(village, house_number=f"9组{n}号", head_name="赵新"))
    assert response.status_code == 201, response.get_json()
    data = jpeg(n)
    response = api.client.put(f"/api/v1/surveys/{survey_uuid}/photos/{photo_uuid}?kind=house", data=data,
                              headers={"X-CSRFToken": api.token, "Content-Type": "application/octet-stream"})
    assert response.status_code == 201, response.get_json()
    return survey_uuid, photo_uuid, hashlib.sha256(data).hexdigest()


def files_below(folder):
    folder = str(folder)
    return sorted(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
                  for root, _dirs, names in os.walk(folder) for name in names)


def rewrite(source, target, member=None, change=None, manifest=None):
    """A copy of an archive with one member's bytes changed by `change`, or its manifest by `manifest`."""
    import json

    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for info in old:
            data = old.extractfile(info).read()
            if info.name == member:
                data = change(data)
            if info.name == "manifest.json" and manifest is not None:
                content = json.loads(data)
                manifest(content)
                data = json.dumps(content).encode()
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
