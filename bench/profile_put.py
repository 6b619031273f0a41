"""Where a survey PUT spends its CPU: the sync API in one process, no server, no network.

    .venv/bin/python bench/profile_put.py [--count 1000] [--database URL] [--profile] [--sql]

Builds a fresh SQLite database in a temporary folder (or uses --database, whose schema must be
empty), seeds it as bench/ingest.py does, logs a surveyor in through /login with Flask's test
client, then PUTs --count new surveys and replays each once. Prints the CPU time per request
(time.process_time) of each phase; --profile adds the 30 heaviest functions of the new surveys
(cProfile, cumulative), --sql the statements of one new survey and one replay.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PASSWORD, SurveyMaker, seed  # noqa: E402


def login(client, username):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client.get("/api/v1/session").get_json()["csrf_token"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database", help="an SQLAlchemy URL of an empty database (default: a new SQLite file)")
    parser.add_argument("--profile", action="store_true", help="cProfile the new surveys")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one new survey and one replay")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade
    from sqlalchemy import event

    from village_survey import create_app
    from village_survey.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/profile.db"
        app = create_app("development", SQLALCHEMY_DATABASE_URI=url, LOGIN_RATE_LIMIT="1000 per minute")
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            db.engine.dispose()
        villages = seed(url, 1)
        client = app.test_client()
        headers = {"X-CSRFToken": login(client, "bench-surveyor-0"), "Accept-Encoding": "gzip"}
        today = dt.date.today()
        maker = SurveyMaker(7, "P", villages, today.year, today)
        bodies = [maker.next() for _ in range(args.count + 20)]
        headers["Content-Type"] = "application/json"

        def put(uuid, body, expect):
            answer = client.put(f"/api/v1/surveys/{uuid}", data=body, headers=headers)
            assert answer.status_code == expect, (answer.status_code, answer.get_data(as_text=True)[:500])

        for uuid, body in bodies[:20]:  # warm-up: imports, caches, first connections
            put(uuid, body, 201)
        work = bodies[20:]

        statements = []
        if args.sql:
            with app.app_context():
                event.listen(db.engine, "before_cursor_execute",
                             lambda conn, cursor, statement, *rest: statements.append(statement))

        profiler = cProfile.Profile() if args.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for i, (uuid, body) in enumerate(work):
            put(uuid, body, 201)
            if args.sql and i == 0:
                print("-- one new survey:", *statements, sep="\n  ")
            statements.clear()
        if profiler:
            profiler.disable()
        new_ms = (time.process_time() - started) * 1000 / len(work)

        started = time.process_time()
        for i, (uuid, body) in enumerate(work):
            put(uuid, body, 200)
            if args.sql and i == 0:
                print("-- one replay:", *statements, sep="\n  ")
            statements.clear()
        replay_ms = (time.process_time() - started) * 1000 / len(work)

        print(f"{url.split(':')[0]}: {len(work)} new surveys {new_ms:.2f} ms CPU each, "
              f"replays {replay_ms:.2f} ms each" + (" (profiled)" if profiler else ""))
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
