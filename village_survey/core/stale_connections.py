"""Stale connections to a database server, tested only when they may be stale.

SQLAlchemy's `pool_pre_ping` tests every connection the pool hands out with a round trip: one
more per request (about 7 % of the CPU of a survey's save on PostgreSQL). Here a connection is
tested only if it has lain in the pool for more than DATABASE_PING_AFTER_IDLE seconds: after a
quiet night, a firewall's idle timeout or a database restart while nobody worked, the request
gets a fresh connection and never sees the broken one.

A connection that breaks while in steady use (the server restarted under load) fails the
request that holds it, answered 503 `database_unavailable` with Retry-After (core/errors.py,
the phone keeps the survey and sends it again); the pool then drops every connection opened
before the failure, so the next requests connect afresh.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

_IDLE_SINCE = "village_survey_idle_since"


def ping_when_idle(engine, idle_seconds: float) -> None:
    """Test a pooled connection of `engine` before use when it was idle over `idle_seconds`."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection, record, _proxy):
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # just opened, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error  # the pool opens another, up to three times
            raise
