"""The backup archive: a tar file (gzip-compressed when its name ends in .gz or .tgz) of

    database/village_survey.sqlite3   or   database/village_survey.pgdump  (pg_dump's custom format)
    photos/<survey uuid>/<photo uuid>.<ext> and .thumb.jpg  (below PHOTO_FOLDER)
    reports/final/<job uuid>.pdf                             (below REPORTS_FOLDER)
    manifest.json                                            (last: written once every hash is known)

The manifest names every member with its size and SHA-256; the archive is written under a
temporary name beside its own and renamed only once complete, so a failed backup leaves no
half-written file. Plain Python: no Flask.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import secrets
import tarfile
import time
import zlib

MANIFEST = "manifest.json"
FORMAT = "village_survey-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 20
# The folders of the archive and the kinds of file each may hold.
DATABASE_DIR, PHOTOS_DIR, REPORTS_DIR = "database/", "photos/", "reports/final/"


def N_(message):
    """Marks a message for translation (extracted by pybabel); the command line translates it."""
    return message


class BackupError(Exception):
    """A backup or restore that cannot be done: an English msgid and its parameters."""

    def __init__(self, message, **params):
        self.message, self.params = message, params
        super().__init__(message % params if params else message)


def compressed(path) -> bool:
    return str(path).lower().endswith((".gz", ".tgz"))


def safe_name(name) -> bool:
    """A relative POSIX path without '..', '.' or empty parts (nothing written outside its folder)."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts) and posixpath.normpath(name) == name


class _HashingReader:
    """Reads a file for tarfile, hashing and counting what was read."""

    def __init__(self, stream):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.stream.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def hash_stream(stream, out=None):
    """(size, SHA-256 hex) of a stream read to its end, copied to `out` when given."""
    digest, size = hashlib.sha256(), 0
    while True:
        data = stream.read(CHUNK)
        if not data:
            return size, digest.hexdigest()
        digest.update(data)
        size += len(data)
        if out is not None:
            out.write(data)


def hash_file(path):
    with open(path, "rb") as f:
        return hash_stream(f)


class Writer:
    """Writes the archive under a temporary name in its own folder; `commit` renames it."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            raise BackupError(N_("The folder %(folder)s does not exist."), folder=folder)
        self.temporary = os.path.join(folder, f".{os.path.basename(self.path)}.{secrets.token_hex(4)}.partial")
        self._file = open(self.temporary, "xb")
        if compressed(path):  # level 6: gzip's own default, much faster than tarfile's 9 for a few % more
            self._tar = tarfile.open(fileobj=self._file, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT)
        else:
            self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)

    def add_file(self, source, name):
        """Add a file under `name`: its {path, size, sha256} as written into the archive."""
        with open(source, "rb") as f:
            stat = os.fstat(f.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
            reader = _HashingReader(f)
            self._tar.addfile(info, reader)  # raises if the file shrank meanwhile
        return {"path": name, "size": reader.size, "sha256": reader.digest.hexdigest()}

    def add_bytes(self, name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        self._tar.addfile(info, io.BytesIO(data))

    def publish(self):
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.temporary, self.path)
        _sync_folder(os.path.dirname(self.path))

    def discard(self):
        try:
            self._tar.close()
        except Exception:  # the archive is thrown away: its tail does not matter
            pass
        self._file.close()
        try:
            os.remove(self.temporary)
        except FileNotFoundError:
            pass


def _sync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def manifest_bytes(manifest):
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


# --- reading -----------------------------------------------------------------------------------------

def open_archive(path):
    if not os.path.isfile(path):
        raise BackupError(N_("There is no file %(file)s."), file=path)
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(N_("%(file)s is not a backup archive (not a tar file)."), file=path) from None


def read_manifest(path):
    """The archive's manifest, checked for its form (names, sizes and hashes), or BackupError."""
    with open_archive(path) as tar:
        try:
            member = tar.getmember(MANIFEST)
            data = tar.extractfile(member).read()
            manifest = json.loads(data.decode("utf-8"))
        except (KeyError, AttributeError):
            raise BackupError(N_("%(file)s has no manifest.json: it is not a backup of this application."),
                              file=path) from None
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error):
            raise BackupError(N_("The manifest of %(file)s cannot be read: the archive is damaged."),
                              file=path) from None
    _check_form(manifest, path)
    return manifest


def _entry_ok(entry, folder):
    return (isinstance(entry, dict) and safe_name(entry.get("path")) and entry["path"].startswith(folder)
            and isinstance(entry.get("size"), int) and entry["size"] >= 0
            and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64)


def _check_form(manifest, path):
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(N_("%(file)s is not a backup of this application."), file=path)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(N_("%(file)s was written in backup format %(version)s, which this version cannot read."),
                          file=path, version=manifest.get("format_version"))
    database = manifest.get("database")
    files = manifest.get("files")
    if (not isinstance(database, dict) or not _entry_ok(database, DATABASE_DIR)
            or database.get("kind") not in ("sqlite", "postgresql") or not isinstance(database.get("tables"), dict)
            or not isinstance(files, list)
            or not all(_entry_ok(f, PHOTOS_DIR) or _entry_ok(f, REPORTS_DIR) for f in files)
            or len({f["path"] for f in files} | {database["path"]}) != len(files) + 1):
        raise BackupError(N_("The manifest of %(file)s is damaged."), file=path)


def expected(manifest):
    """Every member the manifest names: {name: entry}."""
    entries = {f["path"]: f for f in manifest["files"]}
    entries[manifest["database"]["path"]] = manifest["database"]
    return entries


def each_member(path, manifest, handle, progress=None, stage="verify"):
    """Call handle(entry, stream) for every member the manifest names, in the archive's order,
    checking that the archive holds exactly those members (and the manifest) as regular files.
    `handle` reads the stream to its end and compares its hash with the entry's (see `check`)."""
    entries = expected(manifest)
    seen = set()
    total = len(entries)
    with open_archive(path) as tar:
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                entry = entries.get(member.name)
                if entry is None or not member.isfile() or member.name in seen:
                    raise BackupError(N_("The archive holds %(name)s, which its manifest does not name "
                                         "(or holds it twice): it is damaged or was changed."), name=member.name)
                seen.add(member.name)
                handle(entry, tar.extractfile(member))
                if progress is not None:
                    progress(stage, len(seen), total)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise _damaged(error) from None
        except OSError as error:
            if error.errno is not None:  # the disk, not the archive
                raise
            raise _damaged(error) from None  # gzip's "not a gzipped file", a CRC error
    lost = sorted(set(entries) - seen)
    if lost:
        raise BackupError(N_("The archive lacks %(count)s files its manifest names, e.g. %(name)s: it is "
                             "damaged or incomplete."), count=len(lost), name=lost[0])


def _damaged(error):
    return BackupError(N_("The archive is damaged (cut off or not a tar file): %(error)s"), error=str(error))


def verify(path, manifest, progress=None):
    """Check every member's size and SHA-256 against the manifest, writing nothing."""

    def handle(entry, stream):
        check(entry, *hash_stream(stream))

    each_member(path, manifest, handle, progress, "verify")


def check(entry, size, digest):
    if size != entry["size"] or digest != entry["sha256"]:
        raise BackupError(N_("%(name)s does not match its SHA-256 in the manifest: the archive is damaged "
                             "or was changed. Nothing was restored."), name=entry["path"])
