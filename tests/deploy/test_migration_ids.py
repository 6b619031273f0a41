"""Migrations: new revisions get date-based ids (20261130_1530_<slug>, migrations/env.py and
script.py.mako) so that two branches that each add one cannot clash; the graph has one head."""

import re
import shutil
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import migrate, revision, upgrade
from sqlalchemy import Column, Integer, Table

from village_survey import create_app
from village_survey.extensions import db

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations"
DATE_ID = re.compile(r"^\d{8}_\d{4}_[a-z0-9_]+$")
LEGACY_ID = re.compile(r"^\d{4}$")  # 0001, 0002, ...: the first ones keep their names


def scripts(directory):
    config = Config()
    config.set_main_option("script_location", str(directory))
    return ScriptDirectory.from_config(config)


def test_the_migration_graph_has_one_head_and_only_known_id_forms():
    directory = scripts(MIGRATIONS)
    assert len(directory.get_heads()) == 1, directory.get_heads()
    ids = [script.revision for script in directory.walk_revisions()]
    assert all(LEGACY_ID.match(rev) or DATE_ID.match(rev) for rev in ids), ids


@pytest.fixture
def migrations_copy(tmp_path):
    """The project's migrations in a temporary folder, with an app whose database is at head."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade(directory=str(folder))
        yield folder
        db.session.remove()


def _new_files(folder, before):
    return sorted(set((folder / "versions").glob("*.py")) - before)


def _ids(path):
    text = path.read_text(encoding="utf-8")
    rev = re.search(r"^revision = '([^']+)'$", text, re.M).group(1)
    down = re.search(r"^down_revision = '([^']+)'$", text, re.M).group(1)
    return rev, down


def test_flask_db_migrate_names_a_revision_and_its_file_by_date_and_message(migrations_copy):
    head = scripts(migrations_copy).get_current_head()
    before = set((migrations_copy / "versions").glob("*.py"))
    probe = Table("deploy_probe", db.metadata, Column("id", Integer, primary_key=True))
    try:
        migrate(directory=str(migrations_copy), message="Add a probe table (CSV/XLSX)!")
    finally:
        db.metadata.remove(probe)
    [new] = _new_files(migrations_copy, before)
    rev, down = _ids(new)
    assert DATE_ID.match(rev) and rev.endswith("_add_a_probe_table_csv_xlsx"), rev
    assert new.name == f"{rev}.py" and down == head
    assert "op.create_table('deploy_probe'" in new.read_text(encoding="utf-8")
    assert scripts(migrations_copy).get_heads() == [rev]


def test_flask_db_revision_gets_a_date_based_id_through_the_template(migrations_copy):
    """Without revision_environment, `flask db revision` does not run env.py: the template
    gives the id (the file keeps Alembic's name)."""
    head = scripts(migrations_copy).get_current_head()
    before = set((migrations_copy / "versions").glob("*.py"))
    revision(directory=str(migrations_copy), message="Backfill exchange jobs")
    [new] = _new_files(migrations_copy, before)
    rev, down = _ids(new)
    assert DATE_ID.match(rev) and rev.endswith("_backfill_exchange_jobs"), rev
    assert down == head and f"Revision ID: {rev}" in new.read_text(encoding="utf-8")
    assert scripts(migrations_copy).get_heads() == [rev]


def test_with_revision_environment_the_file_is_named_after_the_id_too(migrations_copy):
    """alembic.ini runs the environment for `flask db revision` too (revision_environment)."""
    assert "\nrevision_environment = true\n" in (migrations_copy / "alembic.ini").read_text(encoding="utf-8")
    before = set((migrations_copy / "versions").glob("*.py"))
    revision(directory=str(migrations_copy), message="Backfill exchange jobs")
    [new] = _new_files(migrations_copy, before)
    rev, _down = _ids(new)
    assert DATE_ID.match(rev) and new.name == f"{rev}.py"


def test_a_given_rev_id_is_kept(migrations_copy):
    before = set((migrations_copy / "versions").glob("*.py"))
    revision(directory=str(migrations_copy), message="Named by hand", rev_id="handmade_0001")
    [new] = _new_files(migrations_copy, before)
    assert _ids(new)[0] == "handmade_0001"
