"""The health check behind /healthz: does this process reach its database and its job queue?

A proxy or load balancer asks it every few seconds and takes a process out of rotation while it
answers 503. The answer names the part that failed and a stable `code`, never the error's text
(which may name hosts, users or files): the reason goes to the server's log.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from village_survey.extensions import db

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "error"


def database_ok() -> bool:
    """A trivial SELECT on the app's database (a new connection if the pool has none)."""
    try:
        db.session.execute(select(1))
        return True
    except Exception as error:  # any driver's error: the check answers, never raises
        # The answer is a 503, on which the request boundary rolls the session back.
        log.warning("Health check: the database does not answer (%s)", _reason(error))
        return False


def queue_ok(huey) -> bool:
    """One cheap call to the queue's storage: Redis (a ping and a list length) or the SQLite file
    (a count). Immediate mode (tests) has no storage to reach: always fine."""
    if huey.immediate:
        return True
    try:
        conn = getattr(huey.storage, "conn", None)
        if conn is not None and hasattr(conn, "ping"):
            conn.ping()
        huey.pending_count()
        return True
    except Exception as error:
        log.warning("Health check: the job queue does not answer (%s)", _reason(error))
        return False


def _reason(error) -> str:
    """The class and first line of an error, for the log (the driver's own error if wrapped)."""
    inner = getattr(error, "orig", None) or error
    first_line = (str(inner).strip().splitlines() or [""])[0]
    return f"{type(inner).__name__}: {first_line[:200]}"


def check(huey) -> tuple[dict, int]:
    """The JSON answer and its status: 200 when both parts answer, 503 otherwise, with `code`
    `database_unavailable` (whatever the queue's state) or `queue_unavailable`."""
    parts = {"database": OK if database_ok() else FAILED, "queue": OK if queue_ok(huey) else FAILED}
    if all(state == OK for state in parts.values()):
        return {"status": OK, **parts}, 200
    code = "database_unavailable" if parts["database"] != OK else "queue_unavailable"
    return {"status": FAILED, **parts, "code": code}, 503
