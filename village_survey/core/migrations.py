"""Flask-Migrate, set up when first used: `flask db …`, `flask restore` or a test's
`flask_migrate.upgrade()`. Importing it imports Alembic (about 11 MB a process), which a web
worker, the only process most of the app's memory is in, never needs.

Until then the app holds a stand-in under `app.extensions["migrate"]` and a `db` command group
that makes the real ones on first touch; after that Flask-Migrate's own objects are in place.
"""

from __future__ import annotations

import threading

import click
from flask.cli import ScriptInfo

_lock = threading.Lock()


def init_app(app, db, **options):
    app.extensions["migrate"] = _OnDemand(app, db, options)
    app.cli.add_command(_DbCommands(name="db", help="Perform database migrations."))


def migrate_of(app):
    """Flask-Migrate's record of the app (made now if it was not yet)."""
    with _lock:
        record = app.extensions["migrate"]
        if isinstance(record, _OnDemand):
            from flask_migrate import Migrate

            Migrate(app, record.db, **record.options)  # replaces the stand-in and the `db` group
            record = app.extensions["migrate"]
    return record


class _OnDemand:
    """app.extensions["migrate"] until first read: any attribute makes the real record."""

    def __init__(self, app, db, options):
        self.app, self.db, self.options = app, db, options

    def __getattr__(self, name):  # only for what the stand-in lacks (directory, migrate, …)
        return getattr(migrate_of(self.app), name)


class _DbCommands(click.Group):
    """`flask db`: hands its arguments to Flask-Migrate's own group, imported at that moment."""

    def make_context(self, info_name, args, parent=None, **extra):
        migrate_of(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db

        return db.make_context(info_name, args, parent=parent, **extra)
