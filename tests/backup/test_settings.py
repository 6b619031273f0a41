"""The database's connection for pg_dump/pg_restore, taken from SQLALCHEMY_DATABASE_URI; which
database kinds and SQLite paths a backup accepts (no database needed)."""

import pytest

from village_survey.backup import database
from village_survey.backup.archive import BackupError, safe_name


def test_libpq_settings_come_from_the_url_and_the_password_only_through_the_environment():
    conninfo, env = database.libpq("postgresql+psycopg:///village_survey?host=/var/run/postgresql")
    assert conninfo == "host='/var/run/postgresql' dbname='village_survey'"
    conninfo, env = database.libpq("postgresql+psycopg://village:s3cr'et@db.example:5433/vs?sslmode=require")
    assert conninfo == "sslmode='require' host='db.example' port='5433' user='village' dbname='vs'"
    assert "s3cr" not in conninfo and env["PGPASSWORD"] == "s3cr'et"
    conninfo, _env = database.libpq("postgresql:///it's")
    assert conninfo == "dbname='it\\'s'"


def test_only_sqlite_files_and_postgresql_are_backed_up():
    assert database.kind("sqlite:////tmp/x.db") == "sqlite"
    assert database.kind("postgresql+psycopg:///vs") == "postgresql"
    with pytest.raises(BackupError):
        database.kind("mysql://localhost/vs")
    with pytest.raises(BackupError):
        database.sqlite_file("sqlite://")


@pytest.mark.parametrize("name", ["a/b.jpg", "x.pdf", "d/e/f.thumb.jpg"])
def test_safe_names(name):
    assert safe_name(name)


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "a/."])
def test_unsafe_names(name):
    assert not safe_name(name)
