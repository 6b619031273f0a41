"""`flask backup` and `flask restore`: one consistent archive of the database, the photos its rows
name and the final reports; restored only into an empty instance of the same kind, every hash
checked before and after writing."""

import hashlib
import json
import os
import tarfile
import threading
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from tests.backup.conftest import files_below, jpeg, phone, rewrite, send_survey
from village_survey.audit import AuditEvent
from village_survey.backup import database, services
from village_survey.backup.archive import BackupError
from village_survey.backup.cli import _settings
from village_survey.extensions import db
from village_survey.reports.models import ReportJob
from village_survey.surveys.models import Photo, Survey

WAIT = 120  # seconds a test waits for the other thread at most (a stuck writer, not a speed check)


def _head(app):
    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


def _report(folder, state, name, finalized=True):
    """A done report job and its PDF under final/ (or drafts/)."""
    data = f"%PDF-1.7 {name}".encode()
    relative = f"{'final' if finalized else 'drafts'}/{name}.pdf"
    path = folder / "reports" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    db.session.add(ReportJob(uuid=str(uuid.uuid4()), kind="city", level="city", year=2026, criteria="jiujiang",
                             criteria_version=1, locale="zh_CN", requested_by_name="admin", status=state,
                             file_path=relative, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                             finalized=finalized))
    db.session.commit()
    return relative


def _backup(app, path):
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(path)])
    assert result.exit_code == 0, result.output
    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def _restore(fresh_app, path):
    # the command runs in the app context it finds: the target's, not the test's source app
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(args=["restore", str(path)])
        db.session.remove()
    return result


def _refused_with(fresh_app, path, message):
    """The service refuses the restore with this msgid (whatever the language of the command)."""
    with fresh_app.app_context(), pytest.raises(BackupError) as refused:
        services.restore_backup(_settings(), str(path))
    assert refused.value.message == message, refused.value
    return refused.value


def _nothing_written(fresh_app):
    folder = os.path.dirname(fresh_app.config["PHOTO_FOLDER"])
    leftovers = [name for name in files_below(folder) if not name.endswith(("village_survey.db-wal",
                                                                               "village_survey.db-shm"))]
    url = fresh_app.config["SQLALCHEMY_DATABASE_URI"]
    rows = {name: n for name, n in database.rows(url).items() if n}
    return leftovers in ([], ["village_survey.db"]) and rows == {}


# --- the key test: a backup taken while the phones send surveys and photos ---------------------------

@pytest.mark.parametrize("upgraded", [False, True], ids=["new-database", "after-db-upgrade"])
def test_a_backup_taken_while_surveys_and_photos_arrive_restores_all_that_was_acknowledged(
        app, world, folders, fresh, tmp_path, upgraded):
    acknowledged, errors = [], []
    village_id = world.village_a.id
    stop = threading.Event()
    progressed = threading.Condition()

    def send():
        try:
            api = phone(app)
            n = 0
            while not stop.is_set():
                n += 1
                sent = send_survey(api, village_id, n)
                with progressed:
                    acknowledged.append(sent)
                    progressed.notify_all()
        except BaseException as error:  # reported by the test below
            errors.append(error)
            with progressed:
                progressed.notify_all()

    def wait_for(count):
        with progressed:
            assert progressed.wait_for(lambda: len(acknowledged) >= count or errors, WAIT), "the writer is stuck"
        assert not errors, errors

    seen = {}

    def progress(stage, done, total):
        if stage == "snapshot" and done == 0:
            with progressed:
                seen["before"] = list(acknowledged)  # acknowledged before the snapshot began
        if stage == "snapshot" and done == 1:
            # surveys and photos (and their .pending files) arrive between the snapshot and the copy
            wait_for(len(acknowledged) + 2)

    writer = threading.Thread(target=send)
    writer.start()
    try:
        wait_for(3)
        archive = tmp_path / "backup.tar"
        with app.app_context():
            manifest = services.make_backup(_settings(), str(archive), progress)
    finally:
        stop.set()
        writer.join(WAIT)
    assert not writer.is_alive() and not errors, errors
    assert manifest["missing"] == [] and manifest["mismatched"] == []
    before = seen["before"]
    assert len(before) >= 3

    target = fresh.make(upgraded=upgraded)
    result = _restore(target, archive)
    assert result.exit_code == 0, result.output
    with target.app_context():
        photos = {p.uuid: p for p in db.session.scalars(select(Photo))}
        surveys = set(db.session.scalars(select(Survey.uuid)))
        for survey_uuid, photo_uuid, digest in before:
            assert survey_uuid in surveys
            assert photos[photo_uuid].sha256 == digest
        folder = target.config["PHOTO_FOLDER"]
        for photo in photos.values():
            with open(os.path.join(folder, photo.path), "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == photo.sha256
        # exactly the files the restored rows name: no orphans (later photos, .pending files), none missing
        named = sorted([p.path for p in photos.values()] +
                       [os.path.splitext(p.path)[0] + ".thumb.jpg" for p in photos.values()])
        assert files_below(folder) == named
        assert len(photos) == manifest["database"]["tables"]["photos"]
        db.session.remove()
    # the writer went on after the snapshot: what came later is not in the backup
    assert len(photos) < len(acknowledged)


# --- the manifest --------------------------------------------------------------------------------------

def test_the_manifest_counts_every_table_and_hashes_every_file(app, world, folders, tmp_path):
    api = phone(app)
    sent = [send_survey(api, world.village_a, n) for n in range(3)]
    final = _report(folders, "done", "city-2026")
    _report(folders, "done", "draft-2026", finalized=False)  # drafts are not archived

    manifest = _backup(app, tmp_path / "backup.tar.gz")

    db.session.expire_all()
    expected = {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}
    expected["audit_events"] -= 1  # the backup's own event, written once its snapshot was taken
    assert manifest["database"]["tables"] == {**expected, "alembic_version": 1}
    assert manifest["database"]["tables"]["surveys"] == 3 and manifest["database"]["tables"]["photos"] == 3
    assert manifest["database"]["kind"] == db.engine.dialect.name
    assert manifest["schema_revision"] == _head(app)
    assert manifest["app_version"] and manifest["created_at"]
    photo_paths = {p.path for p in db.session.scalars(select(Photo))}
    on_disk = {f"photos/{name}" for name in files_below(folders / "photos")}
    assert on_disk == {f"photos/{p}" for p in photo_paths} | {f"photos/{os.path.splitext(p)[0]}.thumb.jpg"
                                                             for p in photo_paths}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == on_disk | {f"reports/{final}"}
    for name, entry in listed.items():
        path = folders / name
        assert entry["size"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {d for _s, _p, d in sent} <= {e["sha256"] for e in manifest["files"]}
    with tarfile.open(tmp_path / "backup.tar.gz") as tar:
        dump = tar.extractfile(manifest["database"]["path"]).read()
        assert sorted(tar.getnames()) == sorted([*listed, manifest["database"]["path"], "manifest.json"])
    assert hashlib.sha256(dump).hexdigest() == manifest["database"]["sha256"]
    assert len(dump) == manifest["database"]["size"]


def test_a_file_missing_from_disk_is_named_in_the_manifest(app, world, folders, tmp_path):
    _survey, _photo, _digest = send_survey(phone(app), world.village_a, 1)
    photo = db.session.scalars(select(Photo)).one()
    thumbnail = os.path.splitext(photo.path)[0] + ".thumb.jpg"
    os.remove(folders / "photos" / thumbnail)
    manifest = _backup(app, tmp_path / "backup.tar")
    assert manifest["missing"] == [{"path": f"photos/{thumbnail}", "table": "photos"}]
    assert [e["path"] for e in manifest["files"]] == [f"photos/{photo.path}"]


def test_a_photo_still_under_its_pending_name_is_taken_if_its_hash_is_the_rows(app, world, folders, fresh,
                                                                                tmp_path):
    """A process that stopped between the photo row's commit and the file's rename."""
    send_survey(phone(app), world.village_a, 1)
    send_survey(phone(app), world.village_a, 2)
    first, second = db.session.scalars(select(Photo).order_by(Photo.id)).all()
    photos = folders / "photos"
    os.rename(photos / first.path, photos / f"{first.path}.0a1b2c3d4e5f.pending")
    thumbnail = os.path.splitext(first.path)[0] + ".thumb.jpg"
    os.rename(photos / thumbnail, photos / f"{thumbnail}.0a1b2c3d4e5f.pending")
    (photos / second.path).rename(photos / f"{second.path}.0a1b2c3d4e5f.pending")
    (photos / f"{second.path}.0a1b2c3d4e5f.pending").write_bytes(jpeg(99))  # not the row's photo
    manifest = _backup(app, tmp_path / "backup.tar")
    assert sorted(e["path"] for e in manifest["recovered"]) == sorted([f"photos/{first.path}",
                                                                       f"photos/{thumbnail}"])
    assert manifest["missing"] == [{"path": f"photos/{second.path}", "table": "photos"}]
    target = fresh.make()
    assert _restore(target, tmp_path / "backup.tar").exit_code == 0
    restored = os.path.join(target.config["PHOTO_FOLDER"], first.path)
    with open(restored, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == first.sha256


def test_a_failed_backup_leaves_no_file(app, world, folders, tmp_path):
    send_survey(phone(app), world.village_a, 1)
    photo = db.session.scalars(select(Photo)).one()
    os.remove(folders / "photos" / photo.path)
    os.mkdir(folders / "photos" / photo.path)  # cannot be read as a file
    out = tmp_path / "out"
    out.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(out / "backup.tar")])
    assert result.exit_code != 0
    assert os.listdir(out) == []
    result = app.test_cli_runner().invoke(args=["backup", "-o", str(tmp_path / "nowhere" / "backup.tar")])
    assert result.exit_code != 0 and "nowhere" in result.output


# --- restore refusals ----------------------------------------------------------------------------------

def test_a_corrupted_archive_is_refused_with_nothing_written(app, world, folders, fresh, tmp_path):
    send_survey(phone(app), world.village_a, 1)
    good = tmp_path / "good.tar"
    manifest = _backup(app, good)
    photo = next(e["path"] for e in manifest["files"] if not e["path"].endswith(".thumb.jpg"))
    flipped = tmp_path / "photo-changed.tar"
    rewrite(good, flipped, photo, lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:])
    dump_changed = tmp_path / "dump-changed.tar"
    rewrite(good, dump_changed, manifest["database"]["path"], lambda data: data[:-10] + b"x" * 10)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])

    target = fresh.make()
    for archive, name in ((flipped, photo), (dump_changed, manifest["database"]["path"])):
        result = _restore(target, archive)
        assert result.exit_code != 0 and name in result.output, result.output
        error = _refused_with(target, archive, "%(name)s does not match its SHA-256 in the manifest: the archive "
                                               "is damaged or was changed. Nothing was restored.")
        assert error.params == {"name": name}
        assert _nothing_written(target)
    assert _restore(target, cut).exit_code != 0
    assert _nothing_written(target)
    assert _restore(target, tmp_path / "absent.tar").exit_code != 0
    # the good archive still restores into that instance
    assert _restore(target, good).exit_code == 0


def test_restore_into_an_instance_with_data_or_photos_is_refused(app, world, folders, fresh, tmp_path):
    send_survey(phone(app), world.village_a, 1)
    archive = tmp_path / "backup.tar"
    _backup(app, archive)
    # the source itself has rows
    result = _restore(app, archive)
    assert result.exit_code != 0 and "surveys" in result.output
    error = _refused_with(app, archive, "The target database is not empty (%(tables)s have rows): a backup is "
                                        "restored only into an empty instance. Set DATABASE_URL to a new, empty "
                                        "database.")
    assert "surveys" in error.params["tables"].split(", ")
    # an empty database, but a photo already in the photo folder
    target = fresh.make(upgraded=True)
    stray = os.path.join(target.config["PHOTO_FOLDER"], "x", "y.jpg")
    os.makedirs(os.path.dirname(stray))
    with open(stray, "wb") as f:
        f.write(jpeg(1))
    result = _restore(target, archive)
    assert result.exit_code != 0 and "y.jpg" in result.output
    with target.app_context():
        assert database.rows(target.config["SQLALCHEMY_DATABASE_URI"]) == {t: 0 for t in
                                                                           database.rows(target.config[
                                                                               "SQLALCHEMY_DATABASE_URI"])}
    assert files_below(target.config["PHOTO_FOLDER"]) == ["x/y.jpg"]


def test_a_backup_of_the_other_database_kind_or_an_unknown_revision_is_refused(app, world, folders, fresh,
                                                                               tmp_path):
    send_survey(phone(app), world.village_a, 1)
    good = tmp_path / "backup.tar"
    _backup(app, good)
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}[db.engine.dialect.name]
    wrong_kind = tmp_path / "other-kind.tar"
    rewrite(good, wrong_kind, manifest=lambda m: m["database"].update(kind=other))
    future = tmp_path / "future.tar"
    rewrite(good, future, manifest=lambda m: m.update(schema_revision="29991231_0000_from_the_future"))

    target = fresh.make()
    assert _restore(target, wrong_kind).exit_code != 0
    _refused_with(target, wrong_kind, "This is a backup of a %(source)s database, and the configured database is "
                                      "%(target)s: a backup is restored only into the same kind of database.")
    result = _restore(target, future)
    assert result.exit_code != 0 and "29991231_0000_from_the_future" in result.output
    assert _nothing_written(target)


def test_restore_reports_counts_and_the_revision(app, world, folders, fresh, tmp_path):
    send_survey(phone(app), world.village_a, 1)
    _report(folders, "done", "city-2026")
    archive = tmp_path / "backup.tar"
    manifest = _backup(app, archive)
    county_ids = [world.county_a.id, world.county_b.id]
    target = fresh.make()
    with target.app_context():
        restored = services.restore_backup(_settings(), str(archive))
        assert restored.revision == restored.head == _head(app) and not restored.upgrade_needed
        assert database.rows(target.config["SQLALCHEMY_DATABASE_URI"], exclude=()) == manifest["database"]["tables"]
        assert db.session.scalars(select(ReportJob.file_path)).one() == "final/city-2026.pdf"
        # the restored instance goes on: new rows take new ids (PostgreSQL's sequences came along)
        from tests.factories import make_county

        county = make_county("360499", "新区")
        db.session.commit()
        assert county.id > max(county_ids)
        db.session.remove()
    assert files_below(os.path.join(target.config["REPORTS_FOLDER"], "final")) == ["city-2026.pdf"]


def test_a_backup_of_an_older_schema_restores_and_flask_db_upgrade_brings_it_forward(app, fresh, tmp_path):
    from flask_migrate import upgrade

    from tests.factories import make_county

    script = ScriptDirectory(app.extensions["migrate"].directory)
    older = script.get_revision(script.get_current_head()).down_revision
    source = fresh.make(upgraded=True, revision=older)
    with source.app_context():
        make_county("360499", "旧区")
        db.session.commit()
        result = source.test_cli_runner().invoke(args=["backup", "-o", str(tmp_path / "older.tar")])
        assert result.exit_code == 0, result.output
        db.session.remove()
    target = fresh.make()
    with target.app_context():
        restored = services.restore_backup(_settings(), str(tmp_path / "older.tar"))
        assert (restored.revision, restored.head) == (older, _head(app)) and restored.upgrade_needed
        upgrade()
        assert database.rows(target.config["SQLALCHEMY_DATABASE_URI"])["counties"] == 1
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == _head(app)
        db.session.remove()


def test_making_and_restoring_a_backup_is_in_the_audit_log(app, world, folders, fresh, tmp_path):
    send_survey(phone(app), world.village_a, 1)
    archive = tmp_path / "nightly-2026-11-30.tar"
    manifest = _backup(app, archive)
    db.session.expire_all()
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "backup_made")).one()
    assert made.target == archive.name and made.username.startswith("cli:") and made.user_id is None
    assert made.detail["surveys"] == manifest["database"]["tables"]["surveys"] == 1
    assert made.detail["size"] == archive.stat().st_size and made.detail["made"] == manifest["created_at"]
    target = fresh.make()
    assert _restore(target, archive).exit_code == 0
    with target.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.detail)).all()
        db.session.remove()
    # the snapshot was taken before its own event was written: the restored log has the restore
    assert [(action, name) for action, name, _ in events if action.startswith("backup")] == [
        ("backup_restored", archive.name)]
    assert [detail["schema_revision"] for action, _, detail in events if action == "backup_restored"] == [
        manifest["schema_revision"]]
