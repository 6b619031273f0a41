"""The schema is built by the Alembic migrations, down and up again, on SQLite and PostgreSQL."""

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
