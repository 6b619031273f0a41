"""Making a backup archive and restoring it into an empty instance. Plain Python: no Flask (the
command line gathers the settings and translates the messages).

    make_backup(settings, output, progress)     -> the manifest written
    restore_backup(settings, archive, progress) -> Restored (the manifest, the revision, the head)

`progress(stage, done, total)` is told how far each stage is: "snapshot", "files" (backup);
"verify", "extract", "database", "check" (restore). `total` is None while unknown.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass

from village_survey.backup import archive, database
from village_survey.backup.archive import MANIFEST, N_, PHOTOS_DIR, REPORTS_DIR, BackupError

THUMB_SUFFIX = ".thumb.jpg"  # a photo's thumbnail beside it (surveys/photos.py, thumbnail_path)


@dataclass
class Settings:
    database_url: str
    photo_folder: str
    reports_folder: str
    migrations_folder: str
    app_version: str


@dataclass
class Restored:
    manifest: dict
    revision: str
    head: str

    @property
    def upgrade_needed(self):
        return self.revision != self.head


def _quiet(_stage, _done, _total):
    pass


def _utcnow_text():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _local(folder, relative):
    return os.path.join(folder, *relative.split("/"))


def _referenced(settings, snapshot):
    """[(archive name, file on disk or None if the row's path is unsafe, the row's SHA-256 or None,
    table)] for every file the snapshot's rows name, each once."""
    found = {}
    for relative, sha256 in snapshot.photo_paths:
        thumbnail = os.path.splitext(relative)[0] + THUMB_SUFFIX
        for name, digest in ((relative, sha256), (thumbnail, None)):
            ok = archive.safe_name(name)
            found.setdefault(PHOTOS_DIR + name, (_local(settings.photo_folder, name) if ok else None, digest, "photos"))
    for relative, sha256 in snapshot.report_paths:
        name = relative[len("final/"):]
        ok = archive.safe_name(name)
        found.setdefault(REPORTS_DIR + name, (_local(settings.reports_folder, relative) if ok else None, sha256,
                                              "report_jobs"))
    return [(name, *rest) for name, rest in found.items()]


def _committed_file(path, sha256):
    """The file to copy for a row naming `path` that was not there at first, or None. A photo is
    written as `<path>.<random>.pending` before its row commits and takes its name just after the
    commit (surveys/photos.py): a snapshot may name it a moment before it has its name, or a
    process may have stopped between the commit and the rename. It is taken under its temporary
    name if its SHA-256 is the row's (a thumbnail, which has none, if it is the only one)."""
    if os.path.exists(path):
        return path
    folder, base = os.path.split(path)
    try:
        candidates = sorted(os.path.join(folder, n) for n in os.listdir(folder)
                            if n.startswith(base + ".") and n.endswith(".pending"))
    except FileNotFoundError:
        return None
    if sha256:
        candidates = [c for c in candidates if archive.hash_file(c)[1] == sha256]
    return candidates[0] if len(candidates) == 1 or (sha256 and candidates) else None


def make_backup(settings: Settings, output, progress=None) -> dict:
    """Snapshot the database, then copy the files its rows name, into one archive at `output`
    (written under a temporary name and renamed once complete)."""
    progress = progress or _quiet
    kind = database.kind(settings.database_url)
    output = os.path.abspath(output)
    if kind == "sqlite" and os.path.abspath(database.sqlite_file(settings.database_url)) == output:
        raise BackupError(N_("The backup cannot be written over the database itself."))
    folder = os.path.dirname(output)
    if not os.path.isdir(folder):
        raise BackupError(N_("The folder %(folder)s does not exist."), folder=folder)
    work = tempfile.mkdtemp(prefix=".backup-", dir=folder)
    try:
        progress("snapshot", 0, None)
        snapshot = database.snapshot(settings.database_url, os.path.join(work, "database"))
        if snapshot.revision is None:
            raise BackupError(N_("The database has no schema revision (table alembic_version): is "
                                 "SQLALCHEMY_DATABASE_URI the application's database? Run flask db upgrade first."))
        progress("snapshot", 1, 1)
        referenced = _referenced(settings, snapshot)
        writer = archive.Writer(output)
        try:
            database_entry = writer.add_file(snapshot.path, database.MEMBER[kind])
            files, missing, mismatched, recovered = [], [], [], []

            def add(name, source, sha256, table, found):
                entry = writer.add_file(found, name)
                files.append(entry)
                if found != source:
                    recovered.append({"path": name, "table": table, "from": os.path.basename(found)})
                if sha256 and entry["sha256"] != sha256:
                    mismatched.append({"path": name, "table": table})

            later = []
            for done, (name, source, sha256, table) in enumerate(referenced, 1):
                try:
                    if source is None:
                        raise FileNotFoundError(name)
                    add(name, source, sha256, table, source)
                except FileNotFoundError:
                    later.append((name, source, sha256, table))
                progress("files", done, len(referenced))
            if later:  # a photo committed a moment before the snapshot may be taking its name now
                time.sleep(1)
            for name, source, sha256, table in later:
                found = _committed_file(source, sha256) if source is not None else None
                if found is None:
                    missing.append({"path": name, "table": table})
                else:
                    add(name, source, sha256, table, found)
            manifest = {
                "format": archive.FORMAT,
                "format_version": archive.FORMAT_VERSION,
                "created_at": _utcnow_text(),
                "app_version": settings.app_version,
                "schema_revision": snapshot.revision,
                "database": {**database_entry, "kind": kind, "tables": snapshot.tables},
                "files": files,
                # rows whose file was not there at the backup (a restore brings the row without it)
                "missing": missing,
                # files whose content is not what their row's SHA-256 says
                "mismatched": mismatched,
                # files found only under their temporary .pending name (see _committed_file)
                "recovered": recovered,
                "totals": {"files": len(files), "bytes": sum(f["size"] for f in files) + database_entry["size"]},
            }
            writer.add_bytes(MANIFEST, archive.manifest_bytes(manifest))
            writer.publish()
        except BaseException:
            writer.discard()
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


# --- restore -----------------------------------------------------------------------------------------

def _files_in(folder, limit=3):
    found = []
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            found.append(os.path.join(root, name))
            if len(found) >= limit:
                return found
    return found


def _target(settings, name):
    if name.startswith(PHOTOS_DIR):
        return _local(settings.photo_folder, name[len(PHOTOS_DIR):])
    return _local(os.path.join(settings.reports_folder, "final"), name[len(REPORTS_DIR):])


def _check_revision(settings, manifest):
    """(the backup's revision, this code's head), or BackupError if this code does not know it."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory(settings.migrations_folder)
    revision = manifest.get("schema_revision")
    try:
        known = isinstance(revision, str) and script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(N_("The backup's schema revision %(revision)s is unknown to this version of the "
                             "application (%(version)s made the backup): restore it with that version or a "
                             "later one."), revision=revision, version=manifest.get("app_version"))
    return revision, script.get_current_head()


def check_empty(settings):
    """BackupError unless the instance is empty: no rows in the database (the schema revision
    aside), no photos, no final reports."""
    full = {name: n for name, n in database.rows(settings.database_url).items() if n}
    if full:
        raise BackupError(N_("The target database is not empty (%(tables)s have rows): a backup is restored "
                             "only into an empty instance. Set DATABASE_URL to a new, empty database."),
                          tables=", ".join(sorted(full)))
    for folder, setting in ((settings.photo_folder, "PHOTO_FOLDER"),
                            (os.path.join(settings.reports_folder, "final"), "REPORTS_FOLDER")):
        present = _files_in(folder)
        if present:
            raise BackupError(N_("%(folder)s already holds files (e.g. %(file)s): a backup is restored only "
                                 "into an empty instance. Set %(setting)s to an empty folder."),
                              folder=folder, file=present[0], setting=setting)


def restore_backup(settings: Settings, path, progress=None) -> Restored:
    """Restore an archive into the configured, empty instance: every hash checked before anything
    is written, the files and the database written, then every file and row count checked again."""
    progress = progress or _quiet
    kind = database.kind(settings.database_url)
    manifest = archive.read_manifest(path)
    source_kind = manifest["database"]["kind"]
    if source_kind != kind:
        raise BackupError(N_("This is a backup of a %(source)s database, and the configured database is "
                             "%(target)s: a backup is restored only into the same kind of database."),
                          source=database.KIND_NAMES[source_kind], target=database.KIND_NAMES[kind])
    revision, head = _check_revision(settings, manifest)
    check_empty(settings)
    archive.verify(path, manifest, progress)  # before writing anything

    work_folder = os.path.dirname(database.sqlite_file(settings.database_url)) if kind == "sqlite" \
        else os.path.dirname(os.path.abspath(settings.photo_folder))
    os.makedirs(work_folder, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".restore-", dir=work_folder)
    dump = os.path.join(work, "database")
    staged = []  # (temporary name, final name) of each file, renamed once the database is in

    def extract(entry, stream):
        if entry["path"] == manifest["database"]["path"]:
            destination = dump
        else:
            final = _target(settings, entry["path"])
            os.makedirs(os.path.dirname(final), exist_ok=True)
            destination = f"{final}.{secrets.token_hex(4)}.restoring"
            staged.append((destination, final))
        with open(destination, "xb") as out:
            size, digest = archive.hash_stream(stream, out)
        archive.check(entry, size, digest)

    try:
        archive.each_member(path, manifest, extract, progress, "extract")
        os.sync()  # every file on disk before the database names them (once: an fsync each is slow)
        progress("database", 0, 1)
        database.restore(settings.database_url, dump)
        progress("database", 1, 1)
        for temporary, final in staged:
            os.replace(temporary, final)
    except BaseException:
        for temporary, _final in staged:
            try:
                os.remove(temporary)
            except FileNotFoundError:
                pass
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)

    _check_written(settings, manifest, progress)
    return Restored(manifest, revision, head)


def _check_written(settings, manifest, progress):
    """After writing: every file's hash read back from the disk, every table's row count."""
    files = manifest["files"]
    for done, entry in enumerate(files, 1):
        try:
            size, digest = archive.hash_file(_target(settings, entry["path"]))
        except FileNotFoundError:
            size, digest = None, None
        if size != entry["size"] or digest != entry["sha256"]:
            raise BackupError(N_("After the restore, %(name)s does not match its SHA-256: check the disk, "
                                 "empty the instance and restore again."), name=entry["path"])
        progress("check", done, len(files))
    counts = database.rows(settings.database_url, exclude=())
    differ = sorted(name for name, n in manifest["database"]["tables"].items() if counts.get(name) != n)
    if differ:
        raise BackupError(N_("After the restore, the rows of %(tables)s differ from the backup's counts."),
                          tables=", ".join(differ))
