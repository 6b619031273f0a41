"""The Huey instance of an app: SQLite storage in the instance folder by default (no server
needed), Redis storage when REDIS_URL is set (web servers and consumers on several machines),
immediate mode (tasks run at once, in the same process) in the testing configuration.

Tasks are registered by name on each process's own instance (tasks.py), so the web servers that
enqueue and the consumers that run agree on the names without sharing an import-time global.
"""

from __future__ import annotations

import logging
import os

from flask import current_app
from huey import RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

from village_survey.extensions import db

log = logging.getLogger(__name__)
_PENDING = "jobs_after_commit"


def make_huey(config: dict, instance_path: str):
    """A Huey instance configured from the app's settings."""
    name = config.get("HUEY_NAME") or "village_survey"
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], immediate=immediate)
    path = config.get("HUEY_SQLITE_PATH") or os.path.join(instance_path, "huey.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return SqliteHuey(name, filename=path, immediate=immediate)


def init_app(app):
    """Make the app's Huey instance and register every task on it, run in this app's context."""
    from village_survey.jobs.tasks import register_tasks

    huey = make_huey(app.config, app.instance_path)
    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = register_tasks(huey, app)
    return huey


def huey_of(app=None):
    return (app or current_app).extensions["huey"]


def enqueue_after_commit(task_name: str, *args) -> None:
    """Enqueue a task once the current transaction has committed (so that a consumer never picks
    up a job whose row it cannot see yet), and never if it is rolled back."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still forgets the task
    session.info.setdefault(_PENDING, []).append((current_app._get_current_object(), task_name, args))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session):
    pending = session.info.pop(_PENDING, None)
    for app, task_name, args in pending or ():
        try:
            app.extensions["huey_tasks"][task_name](*args)
        except Exception:  # the row is committed; the job page offers to queue it again
            log.exception("Could not enqueue %s%r", task_name, args)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, previous_transaction):
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
