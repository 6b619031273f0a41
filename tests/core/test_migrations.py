"""The schema is built by the Alembic migrations, down and up again, on SQLite and PostgreSQL."""

import subprocess
import sys

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from village_survey.extensions import db


def _tables():
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_build_every_model_table(app):
    assert _tables() == set(db.metadata.tables)


def test_migrations_go_down_to_nothing_and_up_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _tables() == set(db.metadata.tables)


def test_models_and_migrations_agree(app):
    """No model change is waiting for a migration (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_a_web_worker_does_not_import_alembic_the_cli_and_the_functions_still_work(tmp_path):
    """Flask-Migrate (and Alembic under it) is set up when first used, not in every worker."""
    probe = f"""
import sys
from village_survey import create_app
app = create_app(SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/app.db")
assert "alembic" not in sys.modules and "flask_migrate" not in sys.modules, "imported by create_app"
runner = app.test_cli_runner()
result = runner.invoke(args=["db", "upgrade"])
assert result.exit_code == 0, result.output
import sqlite3
def version():
    return sqlite3.connect("{tmp_path}/app.db").execute("SELECT version_num FROM alembic_version").fetchall()
head = version()
assert head and sqlite3.connect("{tmp_path}/app.db").execute("SELECT count(*) FROM surveys").fetchone() == (0,)
assert runner.invoke(args=["db", "nonsense"]).exit_code == 2
with app.app_context():
    from flask_migrate import downgrade
    downgrade(revision="-1")
assert version() not in (head, [])
result = runner.invoke(args=["db", "-d", app.extensions["migrate"].directory, "upgrade"])
assert result.exit_code == 0 and version() == head, result.output
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("ok"), result.stdout + result.stderr
