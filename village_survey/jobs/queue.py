"""The Huey instance of an app: SQLite storage in the instance folder by default (no server
needed), Redis storage when REDIS_URL is set (web servers and consumers on several machines),
immediate mode (tasks run at once, in the same process) in the testing configuration.

Tasks are registered by name on each process's own instance (tasks.py), so the web servers that
enqueue and the consumers that run agree on the names without sharing an import-time global.

The instance is made when a process first needs it (a job enqueued, `/healthz`, the consumer):
importing Huey imports redis and psycopg whenever they are installed (~23 MB a process), which a
web worker that never queues a job does not need.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from village_survey.extensions import db

log = logging.getLogger(__name__)
_PENDING = "jobs_after_commit"


def make_huey(config: dict, instance_path: str):
    """A Huey instance configured from the app's settings."""
    from huey import RedisHuey, SqliteHuey

    name = config.get("HUEY_NAME") or "village_survey"
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], immediate=immediate)
    path = config.get("HUEY_SQLITE_PATH") or os.path.join(instance_path, "huey.db")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return SqliteHuey(name, filename=path, immediate=immediate)


class _Queue:
    """An app's Huey instance and its tasks, made on first use (once, whichever thread asks)."""

    def __init__(self, app):
        self.app, self._lock, self._made = app, threading.Lock(), None

    def get(self):
        made = self._made
        if made is None:
            with self._lock:
                if self._made is None:
                    from village_survey.jobs.tasks import register_tasks

                    huey = make_huey(self.app.config, self.app.instance_path)
                    self._made = (huey, register_tasks(huey, self.app))
                made = self._made
        return made


def init_app(app):
    """Give the app its queue: its Huey instance and every task on it, run in this app's context,
    made when first asked for (`huey_of`, `tasks_of`)."""
    app.extensions["huey_queue"] = _Queue(app)


def huey_of(app=None):
    return (app or current_app).extensions["huey_queue"].get()[0]


def tasks_of(app=None) -> dict:
    """{task name: Huey task} of the app's queue."""
    return (app or current_app).extensions["huey_queue"].get()[1]


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
            tasks_of(app)[task_name](*args)
        except Exception:  # the row is committed; the job page offers to queue it again
            log.exception("Could not enqueue %s%r", task_name, args)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, previous_transaction):
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
