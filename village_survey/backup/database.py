"""The database's snapshot, and its restore into an empty database. Plain Python: no Flask.

SQLite: Python's sqlite3 online backup API in one step (one read transaction, so one consistent
state; in WAL mode the app's writers go on meanwhile), never a copy of the file.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot; `pg_dump --snapshot` dumps exactly
that state in the custom format, and the same transaction reads the rows that name files, the row
counts and the schema revision. Restore: `pg_restore --single-transaction` into the configured
database, which must have no rows (its empty tables, e.g. from a `flask db upgrade`, are dropped
first). The connection comes from SQLALCHEMY_DATABASE_URI (the password, if any, through
PGPASSWORD, never on the command line).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from village_survey.backup.archive import N_, BackupError

MEMBER = {"sqlite": "database/village_survey.sqlite3", "postgresql": "database/village_survey.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
REVISION_TABLE = "alembic_version"
# libpq settings that may come in the URL's query (e.g. ?host=/var/run/postgresql)
LIBPQ_KEYS = {"host", "hostaddr", "port", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout",
              "application_name", "options", "target_session_attrs", "service", "passfile", "gssencmode",
              "channel_binding", "keepalives", "keepalives_idle"}


@dataclass
class Snapshot:
    path: str
    tables: dict = field(default_factory=dict)  # table name: rows
    revision: str | None = None
    # (path, sha256) of each row naming a file: photos.path below the photo folder,
    # report_jobs.file_path under final/ below the reports folder
    photo_paths: list = field(default_factory=list)
    report_paths: list = field(default_factory=list)


def kind(url) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except Exception:
        raise BackupError(N_("The database URL cannot be read.")) from None
    if backend not in MEMBER:
        raise BackupError(N_("Backups support SQLite and PostgreSQL databases, not %(kind)s."), kind=backend)
    return backend


# --- reading a snapshot (any DB-API connection) -------------------------------------------------------

def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


def _read(cursor, table_names, snapshot, files=True):
    for name in table_names:
        cursor.execute(f"SELECT count(*) FROM {_quoted(name)}")
        snapshot.tables[name] = cursor.fetchone()[0]
    if REVISION_TABLE in snapshot.tables:
        cursor.execute(f"SELECT version_num FROM {REVISION_TABLE}")
        rows = cursor.fetchall()
        snapshot.revision = rows[0][0] if len(rows) == 1 else None
    if files and "photos" in snapshot.tables:
        cursor.execute("SELECT path, sha256 FROM photos ORDER BY id")
        snapshot.photo_paths = [(row[0], row[1]) for row in cursor.fetchall() if row[0]]
    if files and "report_jobs" in snapshot.tables:
        cursor.execute("SELECT file_path, sha256 FROM report_jobs WHERE file_path LIKE 'final/%' ORDER BY id")
        snapshot.report_paths = [(row[0], row[1]) for row in cursor.fetchall()]
    return snapshot


SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
PG_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"


# --- SQLite ------------------------------------------------------------------------------------------

def sqlite_file(url) -> str:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(N_("The SQLite database must be a file, not %(name)s."), name=database or ":memory:")
    return os.path.abspath(database)


def _sqlite_tables(connection):
    return [row[0] for row in connection.execute(SQLITE_TABLES)]


def snapshot_sqlite(url, dest) -> Snapshot:
    source_path = sqlite_file(url)
    if not os.path.isfile(source_path):
        raise BackupError(N_("The database file %(file)s does not exist."), file=source_path)
    try:
        source = sqlite3.connect(source_path, timeout=60)
        try:
            target = sqlite3.connect(dest)
            try:
                # pages=-1: the whole database in one step, i.e. in one read transaction
                source.backup(target, pages=-1)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                return _read(target.cursor(), _sqlite_tables(target), Snapshot(dest))
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(N_("The SQLite snapshot failed: %(error)s"), error=str(error)) from None


def _sqlite_rows(url, exclude=(REVISION_TABLE,)):
    path = sqlite_file(url)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return {}
    try:
        connection = sqlite3.connect(path, timeout=60)
        try:
            snapshot = _read(connection.cursor(), [t for t in _sqlite_tables(connection) if t not in exclude],
                             Snapshot(path), files=False)
            return snapshot.tables
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(N_("The SQLite database %(file)s cannot be read: %(error)s"), file=path,
                          error=str(error)) from None


def restore_sqlite(url, dump):
    target_path = sqlite_file(url)
    os.makedirs(os.path.dirname(target_path), exist_ok=True)
    try:
        source = sqlite3.connect(dump)
        try:
            target = sqlite3.connect(target_path, timeout=60)
            try:
                source.backup(target, pages=-1)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(N_("The SQLite restore failed: %(error)s"), error=str(error)) from None


# --- PostgreSQL --------------------------------------------------------------------------------------

def libpq(url):
    """(conninfo string, environment) for pg_dump/pg_restore from an SQLAlchemy URL."""
    u = make_url(url)
    params = {}
    for key, value in u.query.items():
        if key in LIBPQ_KEYS:
            params[key] = value if isinstance(value, str) else value[-1]
    if u.host:
        params["host"] = u.host
    if u.port:
        params["port"] = str(u.port)
    if u.username:
        params["user"] = u.username
    if u.database:
        params["dbname"] = u.database
    conninfo = " ".join(f"{key}='{value.replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
                        for key, value in params.items())
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return conninfo, env


def _tool(name):
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if path is None:
        raise BackupError(N_("%(tool)s was not found: install the PostgreSQL client programs "
                             "(Debian: apt-get install postgresql-client) of the server's version."), tool=name)
    return path


def _run(name, arguments, url):
    conninfo, env = libpq(url)
    command = [_tool(name), *arguments, f"--dbname={conninfo}"]
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except OSError as error:
        raise BackupError(N_("%(tool)s could not be started: %(error)s"), tool=name, error=str(error)) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-2000:] or f"exit status {done.returncode}"
        raise BackupError(N_("%(tool)s failed: %(error)s"), tool=name, error=message)


def _engine(url):
    return create_engine(url, poolclass=NullPool)


def _pg_tables(connection):
    return [row[0] for row in connection.exec_driver_sql(PG_TABLES)]


def snapshot_postgresql(url, dest) -> Snapshot:
    engine = _engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot_id = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            # the dump and the reads below see the same state: the exported snapshot
            _run("pg_dump", ["--format=custom", f"--snapshot={snapshot_id}", f"--file={dest}"], url)
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                return _read(cursor, _pg_tables(conn), Snapshot(dest))
            finally:
                cursor.close()
                conn.rollback()
    except SQLAlchemyError as error:
        raise BackupError(N_("The PostgreSQL snapshot failed: %(error)s"), error=str(error.orig or error)) from None
    finally:
        engine.dispose()


def _pg_rows(url, exclude=(REVISION_TABLE,)):
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                tables = [t for t in _pg_tables(conn) if t not in exclude]
                return _read(cursor, tables, Snapshot(""), files=False).tables
            finally:
                cursor.close()
    except SQLAlchemyError as error:
        raise BackupError(N_("The PostgreSQL database cannot be read: %(error)s"),
                          error=str(error.orig or error)) from None
    finally:
        engine.dispose()


def restore_postgresql(url, dump):
    """pg_restore into the configured database, after dropping its tables if they are all empty
    (a schema made by `flask db upgrade`: the backup brings its own)."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            tables = _pg_tables(conn)
            for name in tables:
                conn.exec_driver_sql(f"LOCK TABLE {_quoted(name)} IN ACCESS EXCLUSIVE MODE")
            full = [name for name in tables if name != REVISION_TABLE
                    and conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {_quoted(name)})").scalar()]
            if full:
                raise BackupError(N_("The database is not empty (%(tables)s have rows): a backup is only "
                                     "restored into an empty database."), tables=", ".join(full))
            for name in tables:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_quoted(name)} CASCADE")
    except SQLAlchemyError as error:
        raise BackupError(N_("The PostgreSQL database cannot be prepared: %(error)s"),
                          error=str(error.orig or error)) from None
    finally:
        engine.dispose()
    _run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", dump], url)


# --- by kind -----------------------------------------------------------------------------------------

def snapshot(url, dest) -> Snapshot:
    return snapshot_sqlite(url, dest) if kind(url) == "sqlite" else snapshot_postgresql(url, dest)


def rows(url, exclude=(REVISION_TABLE,)) -> dict:
    """Rows per table in the configured database (the revision table left out unless asked)."""
    return _sqlite_rows(url, exclude) if kind(url) == "sqlite" else _pg_rows(url, exclude)


def restore(url, dump):
    return restore_sqlite(url, dump) if kind(url) == "sqlite" else restore_postgresql(url, dump)
