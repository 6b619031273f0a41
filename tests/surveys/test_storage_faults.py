"""A server that cannot store (a full disk, a database connection lost at the commit) answers a
clear 503 with a stable code and Retry-After; nothing is half-stored, and the phone's retry once
the server recovers stores each survey and photo exactly once."""

import errno
import io
import os

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from tests.surveys.conftest import body, new_uuid
from village_survey.extensions import db
from village_survey.surveys import photos
from village_survey.surveys.models import Photo, Survey


@pytest.fixture(autouse=True)
def as_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # errors answered, not raised


def _count(model, **where):
    db.session.expire_all()
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


class _Full:
    """The database refuses to grow: SQLite's own SQLITE_FULL (max_page_count held at the file's
    size), or on PostgreSQL the connection terminated by the server at the commit."""

    def __init__(self, engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    def _hold(self, dbapi_connection, _record, _proxy):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA max_page_count = 1")  # never below the current size: held there
        cursor.close()

    def _release(self, dbapi_connection, _record, _proxy):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA max_page_count = 1073741823")
        cursor.close()

    @staticmethod
    def _terminate(session):
        session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")

    def __enter__(self):
        if self.sqlite:
            # no free pages left from earlier tests: the file must grow for the next survey
            db.session.remove()
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
                assert conn.exec_driver_sql("PRAGMA freelist_count").scalar() == 0
            event.listen(self.engine, "checkout", self._hold)
        else:
            event.listen(db.session, "before_commit", self._terminate)
        return self

    def __exit__(self, *exc):
        if self.sqlite:
            event.remove(self.engine, "checkout", self._hold)
            event.listen(self.engine, "checkout", self._release)
        else:
            event.remove(db.session, "before_commit", self._terminate)


def test_a_database_that_cannot_store_answers_503_and_the_retry_stores_once(app, api, world):
    api.login("surveyor-a")
    stored = new_uuid()
    assert api.put(stored, body(world.village_a, house_number="9组0号", notes="x" * 400)).status_code == 201
    engine = db.engine
    full = _Full(engine)
    refused = []
    with full:
        for number in range(1, 300):  # until the file's free pages are used up
            uuid, house = new_uuid(), f"9组{number}号"
            response = api.put(uuid, body(world.village_a, house_number=house, notes="y" * 400))
            if response.status_code != 201:
                refused.append((uuid, response))
                break
            stored = uuid
    try:
        assert refused, "the database never refused to grow"
        uuid, response = refused[0]
        data = response.get_json()
        assert response.status_code == 503, data
        assert data["code"] == ("storage_full" if full.sqlite else "database_unavailable")
        assert response.headers["Retry-After"].isdigit()
        assert "Traceback" not in response.get_data(as_text=True)
        assert _count(Survey, uuid=uuid) == 0  # nothing of the refused survey
        # the server recovers; the phone sends again: stored once, the acknowledged ones untouched
        again = api.put(uuid, body(world.village_a, house_number=house, notes="y" * 400))
        assert again.status_code == 201, again.get_json()
        assert api.put(uuid, body(world.village_a, house_number=house, notes="y" * 400)).status_code == 200
        assert _count(Survey, uuid=uuid) == 1 and _count(Survey, uuid=stored) == 1
    finally:
        if full.sqlite:
            event.remove(engine, "checkout", full._release)


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def _files(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _dirs, names in os.walk(folder) for name in names)


def test_a_full_disk_refuses_a_photo_with_503_and_leaves_no_half_written_file(app, api, world, tmp_path,
                                                                             monkeypatch):
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_FOLDER", str(folder))
    api.login("surveyor-a")
    survey_uuid = new_uuid()
    assert api.put(survey_uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    real_open = open

    class _HalfWritten:
        """A file on a disk that fills up half-way through the photo."""

        def __init__(self, path, mode):
            self.file = real_open(path, mode)

        def write(self, data):
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(photos, "open", _HalfWritten, raising=False)
    photo_uuid = new_uuid()
    url = f"/api/v1/surveys/{survey_uuid}/photos/{photo_uuid}?kind=house"
    headers = {"X-CSRFToken": api.token, "Content-Type": "application/octet-stream"}
    response = api.client.put(url, data=_jpeg(), headers=headers)
    assert response.status_code == 503 and response.get_json()["code"] == "storage_full"
    assert _count(Photo) == 0 and _files(folder) == []
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "PHOTO_FOLDER", str(folder))
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert api.client.put(url, data=_jpeg(), headers=headers).status_code == 201
    assert api.client.put(url, data=_jpeg(), headers=headers).status_code == 200
    assert _count(Photo) == 1 and not any(name.endswith(".pending") for name in _files(folder))


# ---------------------------------------------------------------- killed between commit and naming


def _crash_before_naming(monkeypatch):
    """The process dies after the commit, before the files take their names: os.replace never runs."""
    def killed(source, target):
        raise KeyboardInterrupt  # stands for SIGKILL: nothing after it runs

    monkeypatch.setattr(photos.os, "replace", killed)


def test_a_photo_lost_by_a_crash_after_its_commit_is_written_again_by_the_phones_retry(app, api, world,
                                                                                      tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_FOLDER", str(folder))
    api.login("surveyor-a")
    survey_uuid = new_uuid()
    assert api.put(survey_uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    url = f"/api/v1/surveys/{survey_uuid}/photos/{new_uuid()}?kind=house"
    headers = {"X-CSRFToken": api.token, "Content-Type": "application/octet-stream"}
    data = _jpeg()
    real_replace = os.replace
    _crash_before_naming(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        api.client.put(url, data=data, headers=headers)
    monkeypatch.setattr(photos.os, "replace", real_replace)
    photo = db.session.scalars(select(Photo)).one()  # committed: the phone never heard so, and retries
    path = folder / photo.path
    assert not path.exists() and any(name.endswith(".pending") for name in _files(folder))
    assert api.client.put(url, data=data, headers=headers).status_code == 200
    assert path.read_bytes() == data and (folder / photos.os.path.relpath(
        photos.thumbnail_path(photo.path), folder)).exists()


def test_settle_photos_names_committed_files_and_removes_abandoned_ones(app, api, world, tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_FOLDER", str(folder))
    api.login("surveyor-a")
    survey_uuid = new_uuid()
    assert api.put(survey_uuid, body(world.village_a, status="draft", household=world.household_a)).status_code == 201
    headers = {"X-CSRFToken": api.token, "Content-Type": "application/octet-stream"}
    real_replace = os.replace
    _crash_before_naming(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        api.client.put(f"/api/v1/surveys/{survey_uuid}/photos/{new_uuid()}?kind=house", data=_jpeg(),
                       headers=headers)
    monkeypatch.setattr(photos.os, "replace", real_replace)
    photo = db.session.scalars(select(Photo)).one()
    # an upload that never committed (its request killed before the commit), old and recent
    abandoned_old = folder / survey_uuid / f"{new_uuid()}.jpg.0123456789ab.pending"
    abandoned_new = folder / survey_uuid / f"{new_uuid()}.jpg.ba9876543210.pending"
    abandoned_old.write_bytes(b"half")
    abandoned_new.write_bytes(b"half")
    os.utime(abandoned_old, (1, 1))
    result = app.test_cli_runner().invoke(args=["settle-photos"])
    assert result.exit_code == 0, result.output
    assert (folder / photo.path).exists() and os.path.exists(photos.thumbnail_path(photo.path))
    assert not abandoned_old.exists() and abandoned_new.exists()  # a recent one may still be written
    assert sorted(name for name in _files(folder) if name.endswith(".pending")) == [
        os.path.relpath(abandoned_new, folder)]
    # at start-up, before the server runs, nothing is being written: every leftover goes
    assert app.test_cli_runner().invoke(args=["settle-photos", "--older-than", "0"]).exit_code == 0
    assert not abandoned_new.exists()


# ---------------------------------------------------------------- the database down for every request


class _DatabaseDown:
    """Every statement fails as on a PostgreSQL server shutting down (or a lost SQLite file)."""

    def __init__(self, engine):
        self.engine = engine

    @staticmethod
    def _refuse(conn, cursor, statement, parameters, context, executemany):
        from sqlalchemy.exc import OperationalError

        raise OperationalError(statement, parameters, Exception("the database system is shutting down"))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._refuse)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._refuse)


def test_a_database_down_before_the_user_is_loaded_still_answers_503(app, api, auth, client, world):
    """The user of a request is loaded first: with the database down, that fails, and the answer
    (its language, the page's menu) must be made without the database: a 503 with its code and
    Retry-After on the API, the app's page on the web, never the server's bare 500."""
    api.login("surveyor-a")
    survey = body(world.village_a)
    with _DatabaseDown(db.engine):
        response = api.put(new_uuid(), survey)
        page = client.get("/surveys/")
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.get_json()["code"] == "database_unavailable" and response.headers["Retry-After"]
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "服务器暂时无法保存数据" in page.get_data(as_text=True)
    # the server answers again as soon as the database does
    assert api.put(new_uuid(), body(world.village_a)).status_code == 201
