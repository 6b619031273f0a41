"""A pooled connection to the database server is tested before use only when it has been idle
(core/stale_connections.py): no round trip on a busy server, a fresh connection after a quiet one
was cut."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from tests.conftest import TEST_DATABASE_URL
from village_survey.core import stale_connections


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'pool.db'}", poolclass=QueuePool,
                           pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(stale_connections.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def pings(engine, monkeypatch):
    seen = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: seen.append(1) or real(connection))
    return seen


def _use(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar()


def test_a_connection_used_a_moment_ago_is_not_pinged_one_idle_longer_is(engine, clock, pings):
    stale_connections.ping_when_idle(engine, 10)
    assert _use(engine) == 1 and pings == []  # a new connection
    clock[0] += 9.9
    assert _use(engine) == 1 and pings == []  # idle 9.9 s
    clock[0] += 10.1
    assert _use(engine) == 1 and pings == [1]  # idle 10.1 s: tested first
    assert _use(engine) == 1 and pings == [1]


def test_the_apps_engine_pings_idle_server_connections_only(app):
    from village_survey.extensions import db

    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert app.config["DATABASE_PING_AFTER_IDLE"] == 10
    ours = [fn for fn in db.engine.pool.dispatch.checkout
            if fn.__module__ == stale_connections.__name__ and fn.__name__ == "_handed_out"]
    assert len(ours) == (0 if db.engine.dialect.name == "sqlite" else 1)


@pytest.mark.skipif(not (TEST_DATABASE_URL or "").startswith("postgresql"),
                    reason="a server connection to cut: runs on PostgreSQL (CI's second run)")
def test_an_idle_connection_cut_by_the_server_is_replaced_before_a_request_sees_it(engine, clock):
    def cut_the_pooled_connection():
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = create_engine(TEST_DATABASE_URL)
        with killer.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        killer.dispose()
        return pid

    # Without the test, the request that takes the cut connection fails (what it guards against).
    cut_the_pooled_connection()
    with pytest.raises(OperationalError):
        _use(engine)
    engine.dispose()

    stale_connections.ping_when_idle(engine, 10)
    pid = cut_the_pooled_connection()
    clock[0] += 11
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
