"""Benchmark: precomputed evaluations (issue 11): the rebuild, the evaluation lists and the
dashboards that read the stored figures, and the refresh of the aggregates on one approval.

    .venv/bin/python bench/precomputed.py [--quick] [--backends sqlite,postgres] [--postgres URL]
                                          [--repeat 20] [--approvals 30] [--datasets county,city]

For each backend it builds two databases through the migrations (an SQLite file in a temporary
folder; a PostgreSQL database `village_survey_precomputed_bench` on the local server, created
and dropped, or the database given by --postgres URL, whose public schema is dropped) and fills
them with Core bulk inserts, answers drawn by the demo generator (a few sets per village, reused):

- "county": a county of 50,000 surveys this year (15 townships, 180 villages; 80 % approved,
  8 % submitted, 4 % returned, 8 % drafts) and a second county of 2,000 outside the reviewer's area;
- "city": 600,000 surveys this year over Jiujiang's 13 county-level units (15 townships of 12
  villages each), the same mix of statuses.

A quarter of the households also have last year's approved survey (the year before's figures for
the charts and the change columns). The generation is timed apart. Then
`precomputed.rebuild(workers=os.cpu_count())` (and a commit): its seconds and surveys a second.

Pages, in-process through Flask's test client (login session, request boundary, template),
warmed up 3 times then timed --repeat times, median and 95th percentile: on "county", as the
county's reviewer, the evaluation list of its villages and of its townships and the dashboard
`/`; on "city", as a city viewer, the dashboard `/` and the evaluation list of the counties.
Each page is then profiled (5 requests under cProfile, and the SQL time of each request from
SQLAlchemy's cursor events): SQL, JSON decoding, charts, template, the rest.

Approvals: --approvals submitted surveys of different villages approved one at a time through
`surveys.services.review_survey` (in a request context, as the reviewer) and committed: the
median of `precomputed.survey_changed` (the aggregates' update: the survey's results, its village,
township, county and the city) and of the whole approval + commit. Last, the stored figures of the
city and every county (and township and village) are compared with a fresh
`services.evaluate_scored(services.score_area(...))`: exact equality, OK/FAIL.

Goals: county list and dashboard ≤ 300 ms, city dashboard ≤ 1 s (median, warm), aggregates'
update ≤ 50 ms. The markdown section printed at the end is also written to bench/out/precomputed.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PASSWORD, app_for, core_insert, database_for, machine_line, percentile, write_out,
)

YEAR = 2026
INSERT_BATCH = 5000
PG_DB = "village_survey_precomputed_bench"
GOAL_COUNTY_MS = 300.0
GOAL_CITY_MS = 1000.0
GOAL_APPROVAL_MS = 50.0
TOWNSHIPS_PER_COUNTY = 15
VILLAGES_PER_TOWNSHIP = 12
ANSWER_SETS_PER_VILLAGE = 6
LAST_YEAR_SHARE = 0.25
STATUS_SHARES = (("approved", 0.80), ("submitted", 0.08), ("returned", 0.04), ("draft", 0.08))
PROFILED_REQUESTS = 5

REVIEWER, VIEWER, ADMIN = 1, 2, 3  # user ids


def _app(url):
    # No CSRF form tokens to scrape: the benchmark posts its login directly.
    return app_for(url, WTF_CSRF_ENABLED=False)


# ---------------------------------------------------------------- building the databases


def _plan(dataset, scale, rng):
    """[(county code, surveys this year)]: the county under review (and one outside), or the city."""
    from village_survey.surveys.demo import COUNTY_PLACES

    codes = sorted(COUNTY_PLACES)
    if dataset == "county":
        return [(codes[0], round(50_000 * scale)), (codes[1], round(2_000 * scale))]
    total = round(600_000 * scale)
    weights = [rng.uniform(0.6, 1.4) for _ in codes]
    sizes = [int(total * w / sum(weights)) for w in weights]
    sizes[0] += total - sum(sizes)
    return list(zip(codes, sizes))


def _statuses(rng, count):
    statuses = []
    for status, share in STATUS_SHARES[1:]:
        statuses += [status] * int(count * share)
    statuses += ["approved"] * (count - len(statuses))
    rng.shuffle(statuses)
    return statuses


def _areas(plan):
    """Rows of the counties, townships and villages of a plan (villages with their county_id)."""
    counties, townships, villages = [], [], []
    for cn, (code, _size) in enumerate(plan, 1):
        counties.append({"id": cn, "code": code, "name": f"县{code}"})
        for t in range(TOWNSHIPS_PER_COUNTY):
            tid = len(townships) + 1
            townships.append({"id": tid, "code": f"{code}{100 + t:03d}", "name": f"{code}镇{t + 1}",
                              "county_id": cn})
            for v in range(VILLAGES_PER_TOWNSHIP):
                villages.append({"id": len(villages) + 1, "code": f"{code}{100 + t:03d}{200 + v:03d}",
                                 "name": f"{code}-{t + 1}村{v + 1}", "township_id": tid,
                                 "county_id": cn, "registered_households": 0})
    return counties, townships, villages


def _village_sizes(plan, villages, rng):
    """Surveys per village id (villages of different sizes); sets the villages' registered
    households a little above the surveyed ones."""
    by_county = defaultdict(list)
    for village in villages:
        by_county[village["county_id"]].append(village)
    sizes = {}
    for cn, (_code, size) in enumerate(plan, 1):
        members = by_county[cn]
        picks = rng.choices(range(len(members)), weights=[rng.uniform(0.4, 1.6) for _ in members], k=size)
        for index in picks:
            sizes[members[index]["id"]] = sizes.get(members[index]["id"], 0) + 1
    for village in villages:
        village["registered_households"] = int(sizes.get(village["id"], 0) / rng.uniform(0.8, 1.0)) + 1
    return sizes


def _users(townships):
    """Rows of the reviewer, the city viewer, the admin and a surveyor per county; {county: surveyor id}."""
    from village_survey.accounts.models import User

    probe = User(username="probe", role="reviewer")
    probe.set_password(PASSWORD)
    users = [{"id": REVIEWER, "username": "bench-reviewer", "role": "reviewer", "county_id": 1},
             {"id": VIEWER, "username": "bench-city-viewer", "role": "viewer"},
             {"id": ADMIN, "username": "bench-admin", "role": "admin"}]
    first_township = {}
    for township in townships:
        first_township.setdefault(township["county_id"], township["id"])
    surveyor_of = {cn: 3 + cn for cn in first_township}  # one surveyor per county submits its surveys
    users += [{"id": surveyor_of[cn], "username": f"bench-surveyor-{cn}", "role": "surveyor",
               "township_id": tid} for cn, tid in first_township.items()]
    for row in users:
        row.update(password_hash=probe.password_hash, session_token=f"{row['id']:032d}", active=True,
                   county_id=row.get("county_id"), township_id=row.get("township_id"))
    return users, surveyor_of


NOW = dt.datetime(YEAR, 11, 30, 2, 0)


def _survey_row(rng, household_id, status, answers, surveyor):
    started_at = NOW - dt.timedelta(minutes=rng.randint(60, 120 * 24 * 60))
    sent = status != "draft"
    submitted_at = started_at + dt.timedelta(minutes=rng.randint(10, 3 * 24 * 60)) if sent else None
    decided = status in ("approved", "returned")
    return {
        "uuid": f"00000000-0000-4000-8000-{household_id:012d}", "household_id": household_id,
        "year": YEAR, "form_version": 1, "status": status,
        "answers": answers, "content_hash": "0" * 64,
        "revision": 3 if decided else 2 if sent else 1, "created_by_id": surveyor,
        "created_at": started_at, "started_at": started_at,
        "updated_at": submitted_at or started_at, "submitted_at": submitted_at,
        "submitted_by_id": surveyor if sent else None, "flags": [],
        "reviewed_by_id": REVIEWER if decided else None,
        "reviewed_at": submitted_at + dt.timedelta(days=1) if decided else None}


def _last_year_row(household_id, answers, surveyor):
    return {
        "uuid": f"00000000-0000-4000-9000-{household_id:012d}", "household_id": household_id,
        "year": YEAR - 1, "form_version": 1, "status": "approved",
        "answers": answers, "content_hash": "0" * 64,
        "revision": 3, "created_by_id": surveyor, "created_at": NOW - dt.timedelta(days=365),
        "updated_at": NOW - dt.timedelta(days=300), "submitted_at": NOW - dt.timedelta(days=360),
        "submitted_by_id": surveyor, "flags": []}


def _village_surveys(rng, village, size, first_household, surveyor):
    """(household, this year's survey, last year's survey or None) rows of one village."""
    from village_survey.surveys.demo import DemoHousehold, demo_answers

    answer_sets = [demo_answers(rng, DemoHousehold(n, village["code"], f"{n}号", "户主"), YEAR)
                   for n in range(ANSWER_SETS_PER_VILLAGE)]
    for n, status in enumerate(_statuses(rng, size)):
        household_id = first_household + n
        household = {"id": household_id, "village_id": village["id"],
                     "house_number": f"{n // 20 + 1}组{n % 20 + 1}号", "head_name": "户主"}
        survey = _survey_row(rng, household_id, status, answer_sets[n % ANSWER_SETS_PER_VILLAGE], surveyor)
        last = None
        if rng.random() < LAST_YEAR_SHARE:
            last = _last_year_row(household_id, answer_sets[(n + 1) % ANSWER_SETS_PER_VILLAGE], surveyor)
        yield household, survey, last


def _insert_surveys(db, villages, sizes, surveyor_of, rng):
    """Every village's households and surveys, a batch at a time: (this year, last year)."""
    from sqlalchemy import insert

    from village_survey.areas.models import Household
    from village_survey.surveys.models import Survey

    household_id = this_year = last_year = 0
    household_rows, survey_rows, last_rows = [], [], []
    for village in villages:
        size = sizes.get(village["id"], 0)
        if not size:
            continue
        for household, survey, last in _village_surveys(rng, village, size, household_id + 1,
                                                        surveyor_of[village["county_id"]]):
            household_id += 1
            this_year += 1
            household_rows.append(household)
            survey_rows.append(survey)
            if last is not None:
                last_year += 1
                last_rows.append(last)
            if len(survey_rows) >= INSERT_BATCH:
                core_insert(db, Household, Survey, household_rows, survey_rows)
                if len(last_rows) >= INSERT_BATCH:
                    db.session.execute(insert(Survey.__table__), last_rows)
                    last_rows.clear()
    core_insert(db, Household, Survey, household_rows, survey_rows)
    if last_rows:
        db.session.execute(insert(Survey.__table__), last_rows)
    return this_year, last_year


def build(url, dataset, scale, seed):
    """A database at the head migration with the dataset's counties; (seconds, surveys this
    year, surveys last year)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from village_survey.accounts.models import User
    from village_survey.areas.models import County, Township, Village
    from village_survey.extensions import db

    app = _app(url)
    rng = random.Random(seed)
    started = time.perf_counter()
    plan = _plan(dataset, scale, rng)
    with app.app_context():
        upgrade()
        counties, townships, villages = _areas(plan)
        sizes = _village_sizes(plan, villages, rng)
        db.session.execute(insert(County.__table__), counties)
        db.session.execute(insert(Township.__table__), townships)
        db.session.execute(insert(Village.__table__),
                           [{k: v for k, v in row.items() if k != "county_id"} for row in villages])
        users, surveyor_of = _users(townships)
        db.session.execute(insert(User.__table__), users)
        this_year, last_year = _insert_surveys(db, villages, sizes, surveyor_of, rng)
        db.session.commit()
        _analyze(db, url)
    return time.perf_counter() - started, this_year, last_year


def _analyze(db, url):
    from sqlalchemy import text

    if url.startswith("postgresql"):
        # statistics for the planner, as autovacuum would gather them soon after
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def rebuild(url):
    """`precomputed.rebuild(workers=os.cpu_count())` and its commit: its figures."""
    from village_survey.evaluations import precomputed
    from village_survey.extensions import db

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        outcome = precomputed.rebuild(workers=os.cpu_count())
        db.session.commit()
        seconds = time.perf_counter() - started
        analyze_started = time.perf_counter()
        if url.startswith("postgresql"):
            # what autovacuum does soon after such a load: statistics, and the visibility map that
            # lets counts read an index alone
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        return {"seconds": seconds, "surveys": outcome["surveys"], "per_second": outcome["surveys"] / seconds,
                "workers": os.cpu_count(), "vacuum_seconds": time.perf_counter() - analyze_started}


# ---------------------------------------------------------------- pages


def _login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not log in ({response.status_code})"
    return client


def _clear_chart_cache():
    """The dashboard's charts are drawn once per distinct input and kept in the process: after an
    approval (or in another worker) they are drawn again. None if there is no such cache."""
    try:
        from village_survey.dashboards import drawing
    except ImportError:
        return None
    return getattr(drawing, "clear_cache", None)


def _timed(client, path, repeat, warmup=3, before=None):
    """Median and p95 (ms) of a page, or {"error": status} if it does not answer 200."""
    before = before or (lambda: None)
    for _ in range(warmup):
        before()
        response = client.get(path)
        if response.status_code != 200:
            return {"error": response.status_code}
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return {"error": response.status_code}
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95), "runs": repeat,
            "bytes": len(response.get_data())}


class SqlTimer:
    """Time spent in the database driver (execute and fetch of each cursor), per request."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.seconds, self.queries, self._start = engine, 0.0, 0, {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._start[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - self._start.pop(id(cursor), time.perf_counter())
        self.queries += 1

    def close(self):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def _cumulative(stats, match):
    """Cumulative seconds of the outermost calls of functions matching `match` (file, name)."""
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, ct, callers) in stats.stats.items():
        if match(filename, name) and not any(match(f, n) for (f, _l, n) in callers):
            total += ct
    return total


def _is_fetch(filename, name):
    return (name.startswith("fetch") and "psycopg" in filename) or (
        filename == "~" and name.startswith("<method 'fetch") and "Cursor" in name)


def profile_page(app, client, path, before=None):
    """Where a page's time goes: SQL (driver), JSON decoding, charts, template, per request (ms)."""
    from village_survey.extensions import db

    with app.app_context():
        engine = db.engine
    timer = SqlTimer(engine)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        profiler.enable()
        for _ in range(PROFILED_REQUESTS):
            if before is not None:
                profiler.disable()
                before()
                profiler.enable()
            client.get(path).get_data()
        profiler.disable()
    finally:
        timer.close()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    per = 1000 / PROFILED_REQUESTS
    parts = {
        "profiled_ms": wall * per,
        # the driver's execute (events) and its fetches (sqlite3 reads rows as they are fetched;
        # psycopg decodes JSON while fetching, so on PostgreSQL the JSON column overlaps this one)
        "sql_ms": (timer.seconds + _cumulative(stats, _is_fetch)) * per,
        "queries": timer.queries / PROFILED_REQUESTS,
        "json_ms": _cumulative(stats, lambda f, n: n in ("loads", "raw_decode") and "json" in f) * per,
        "charts_ms": _cumulative(stats, lambda f, n: "village_survey/charts/" in f) * per,
        "template_ms": _cumulative(stats, lambda f, n: n == "render_template" and "flask" in f) * per,
    }
    # the app's own functions taking the most time (cumulative), for the report
    rows = []
    for (filename, line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
        if "village_survey" in filename and ct * per >= 1:
            rows.append((ct * per, nc / PROFILED_REQUESTS,
                         f"{filename.split('village_survey/', 1)[-1]}:{line} {name}"))
    rows.sort(reverse=True)
    parts["top"] = rows[:12]
    return parts


def measure_pages(url, dataset):
    """The pages of the dataset, timed and profiled: a list of dicts."""
    app = _app(url)
    if dataset == "county":
        client = _login(app, "bench-reviewer")
        pages = [
            ("county evaluation list, villages (county reviewer)", f"/evaluations/?level=village&year={YEAR}",
             GOAL_COUNTY_MS),
            ("county evaluation list, townships (county reviewer)", f"/evaluations/?level=township&year={YEAR}",
             GOAL_COUNTY_MS),
            ("county dashboard `/` (county reviewer)", "/", GOAL_COUNTY_MS),
            ("county dashboard `/`, charts drawn anew (as after an approval; no goal)", "/", None, "cold"),
        ]
    else:
        client = _login(app, "bench-city-viewer")
        pages = [
            ("city dashboard `/` (city viewer)", "/", GOAL_CITY_MS),
            ("city dashboard `/`, charts drawn anew (as after an approval; no goal)", "/", None, "cold"),
            ("city evaluation list, counties (city viewer)", f"/evaluations/?level=county&year={YEAR}",
             GOAL_CITY_MS),
            ("city evaluation list, villages (city viewer; no goal)", f"/evaluations/?level=village&year={YEAR}",
             None),
        ]
    results = []
    clear = _clear_chart_cache()
    for label, path, goal, *cold in pages:
        before = clear if cold else None
        if cold and clear is None:
            continue  # no chart cache in this version of the dashboard: the same as warm
        # drawing anew takes seconds: half the timed requests (at least 5) for these
        timing = _timed(client, path, max(5, ARGS.repeat // 2) if cold else ARGS.repeat, before=before)
        if "error" in timing:
            print(f"  {label}: answered {timing['error']}", file=sys.stderr)
            results.append({"page": label, "path": path, "goal_ms": goal, "median_ms": math.inf,
                            "p95_ms": math.inf, **timing, "profile": None})
            continue
        results.append({"page": label, "path": path, "goal_ms": goal, **timing,
                        "profile": profile_page(app, client, path, before)})
        print(f"  {label}: median {timing['median_ms']:.0f} ms, p95 {timing['p95_ms']:.0f} ms", file=sys.stderr)
    return results


# ---------------------------------------------------------------- approvals


class PartTimer:
    """Wraps functions of a module to add up their time (inclusive) per call of the whole."""

    def __init__(self, module, names):
        self.module, self.originals, self.seconds = module, {}, defaultdict(float)
        for name in names:
            original = getattr(module, name)
            self.originals[name] = original
            setattr(module, name, self._wrap(name, original))

    def _wrap(self, name, original):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
        return timed

    def take(self):
        taken = dict(self.seconds)
        self.seconds.clear()
        return taken

    def close(self):
        for name, original in self.originals.items():
            setattr(self.module, name, original)


def measure_approvals(url, count):
    """Approve `count` submitted surveys of different villages one at a time: timings (ms)."""
    from sqlalchemy import select

    from village_survey.accounts.models import User
    from village_survey.areas.models import Household
    from village_survey.evaluations import precomputed
    from village_survey.extensions import db
    from village_survey.surveys import services as survey_services
    from village_survey.surveys.models import Survey

    app = _app(url)
    with app.app_context():
        rows = db.session.execute(select(Survey.id, Household.village_id).join(Household)
                                  .where(Survey.status == "submitted", Survey.year == YEAR)
                                  .order_by(Survey.id)).all()
    picked, seen = [], set()
    rng = random.Random(7)
    rng.shuffle(rows)
    for survey_id, village_id in rows:
        if village_id not in seen:
            seen.add(village_id)
            picked.append(survey_id)
        if len(picked) == count:
            break
    # the aggregates' update, and its parts (inclusive times; _upsert is inside the refreshes)
    parts = PartTimer(precomputed, ["_lock_year", "_village_figures", "_refresh_townships", "_refresh_counties",
                                    "_refresh_city", "_upsert", "current_sets"])
    changed = PartTimer(precomputed, ["survey_changed"])
    figures = []
    try:
        for survey_id in picked:
            with app.test_request_context("/review/"):
                reviewer = db.session.get(User, REVIEWER)
                survey = db.session.get(Survey, survey_id)
                started = time.perf_counter()
                survey_services.review_survey(reviewer, survey, "approve", "")
                reviewed = time.perf_counter()
                db.session.commit()
                done = time.perf_counter()
                figures.append({"survey_changed_ms": changed.take().get("survey_changed", 0) * 1000,
                                "review_ms": (reviewed - started) * 1000, "total_ms": (done - started) * 1000,
                                "commit_ms": (done - reviewed) * 1000,
                                "parts": {k: v * 1000 for k, v in parts.take().items()}})
                db.session.remove()
    finally:
        changed.close()
        parts.close()

    def median(key):
        return statistics.median(f[key] for f in figures)

    def p95(key):
        return percentile(sorted(f[key] for f in figures), 0.95)

    part_names = sorted({name for f in figures for name in f["parts"]})
    return {"approvals": len(figures), "villages": len(set(picked)),
            "survey_changed_ms": median("survey_changed_ms"), "survey_changed_p95_ms": p95("survey_changed_ms"),
            "total_ms": median("total_ms"), "total_p95_ms": p95("total_ms"), "commit_ms": median("commit_ms"),
            "parts": {name: statistics.median(f["parts"].get(name, 0.0) for f in figures) for name in part_names}}


# ---------------------------------------------------------------- stored figures against a fresh scoring


def _without_names(results):
    return {k: v for k, v in results.items() if k not in ("name", "code", "areas")}


def check_figures(url):
    """Every stored area's figures (city, counties, townships, villages of this year) against a
    fresh scoring of the city: {level: (compared, differing)}, and the first difference."""
    from village_survey.evaluations import precomputed, services
    from village_survey.extensions import db

    app = _app(url)
    with app.app_context():
        criteria = services.criteria_named(None)
        started = time.perf_counter()
        fresh = services.evaluate_scored(services.score_area(YEAR, criteria, services.CITY,
                                                             workers=os.cpu_count() or 1))
        seconds = time.perf_counter() - started
        outcome, first = {}, None
        for level in ("city", "county", "township", "village"):
            stored = precomputed.stored_results(criteria, YEAR, level)
            expected = {precomputed.CITY_ID: fresh.city} if level == "city" else {
                "county": fresh.counties, "township": fresh.townships, "village": fresh.villages}[level]
            differing = 0
            for ident, results in expected.items():
                row = stored.get(ident)
                got = _without_names(row.results) if row is not None else None
                if got != _without_names(results):
                    differing += 1
                    if first is None:
                        keys = sorted(k for k in set(got or {}) | set(results)
                                      if (got or {}).get(k) != results.get(k))
                        first = f"{level} {ident}: keys {', '.join(keys[:6])}"
            outcome[level] = (len(expected), differing)
        db.session.rollback()
    return {"levels": outcome, "first_difference": first, "fresh_seconds": seconds,
            "ok": all(differing == 0 for _n, differing in outcome.values())}


# ---------------------------------------------------------------- report


def _verdict(value, goal):
    return "PASS" if value <= goal else "FAIL"


def _per_run(runs, dataset, cell):
    """A cell per run: cell(the run's figures of the dataset), or "–" where the run lacks it."""
    return [cell(r["datasets"][dataset]) if dataset in r["datasets"] else "–" for r in runs]


def _page_cell(p):
    if "error" in p:
        return f"answered {p['error']} **FAIL**"
    verdict = f" **{_verdict(p['median_ms'], p['goal_ms'])}**" if p["goal_ms"] else ""
    return f"{p['median_ms']:.0f} ms (p95 {p['p95_ms']:.0f}){verdict}"


def _update_cell(d):
    x = d["approvals"]
    return (f"{x['survey_changed_ms']:.1f} ms (p95 {x['survey_changed_p95_ms']:.1f}) "
            f"**{_verdict(x['survey_changed_ms'], GOAL_APPROVAL_MS)}**")


def _dataset_rows(runs, dataset, row):
    """The table's rows of one dataset: generation, rebuild, pages, approvals, check."""
    present = [r for r in runs if dataset in r["datasets"]]
    if not present:
        return
    first = present[0]["datasets"][dataset]
    row(f"{dataset}: generation ({first['surveys']:,} + {first['last_year']:,} last year)", "–",
        _per_run(runs, dataset, lambda d: f"{d['build_seconds']:.0f} s"))
    row(f"{dataset}: `precomputed.rebuild` ({first['rebuild']['surveys']:,} approved, "
        f"{first['rebuild']['workers']} workers)", "–",
        _per_run(runs, dataset, lambda d: f"{d['rebuild']['seconds']:.1f} s "
                                          f"({d['rebuild']['per_second']:,.0f} surveys/s)"))
    for n, page in enumerate(first["pages"]):
        goal = f"≤ {page['goal_ms']:g} ms" if page["goal_ms"] else "–"
        row(f"{dataset}: {page['page']}", goal, _per_run(runs, dataset, lambda d, n=n: _page_cell(d["pages"][n])))
    a = first["approvals"]
    row(f"{dataset}: approval, aggregates' update (`survey_changed`), median of {a['approvals']}",
        f"≤ {GOAL_APPROVAL_MS:g} ms", _per_run(runs, dataset, _update_cell))
    row(f"{dataset}: approval + commit, whole", "–",
        _per_run(runs, dataset, lambda d: f"{d['approvals']['total_ms']:.1f} ms "
                                          f"(p95 {d['approvals']['total_p95_ms']:.1f})"))
    row(f"{dataset}: stored figures = fresh scoring (every area of {YEAR})", "equal",
        _per_run(runs, dataset, lambda d: "OK" if d["check"]["ok"] else "**FAIL**"))


def _profile_table(runs):
    lines = []
    lines.append("")
    lines.append("Where the pages' time goes (5 requests under cProfile, per request; SQL is the driver's "
                 "execute and fetch; cProfile slows Python down, so the parts add up to more than the median):")
    lines.append("")
    lines.append("| backend | page | profiled | SQL (queries) | JSON decoding | charts | template |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in runs:
        for dataset, d in r["datasets"].items():
            for p in d["pages"]:
                f = p["profile"]
                if f is None:
                    continue
                lines.append(f"| {r['backend']} | {dataset}: {p['page']} | {f['profiled_ms']:.0f} ms | "
                             f"{f['sql_ms']:.0f} ms ({f['queries']:.0f}) | {f['json_ms']:.0f} ms | "
                             f"{f['charts_ms']:.0f} ms | {f['template_ms']:.0f} ms |")
    return lines


def _approval_notes(runs, skipped):
    lines = []
    lines.append("")
    for r in runs:
        for dataset, d in r["datasets"].items():
            a = d["approvals"]
            parts = ", ".join(f"{name.lstrip('_')} {ms:.1f}" for name, ms in sorted(a["parts"].items(),
                                                                                     key=lambda kv: -kv[1]))
            check = d["check"]
            levels = ", ".join(f"{level} {n - bad}/{n}" for level, (n, bad) in check["levels"].items())
            lines.append(f"- {r['backend']}, {dataset}: approval parts (median ms, inclusive: upsert is inside "
                         f"the refreshes): {parts}; commit {a['commit_ms']:.1f} ms. Stored = fresh: {levels}"
                         + (f" (first difference: {check['first_difference']})" if check["first_difference"] else "")
                         + f"; the fresh scoring took {check['fresh_seconds']:.1f} s.")
    for backend, reason in skipped.items():
        lines.append(f"- {backend}: skipped ({reason}).")
    return lines


def _slow_pages(runs):
    """The pages over their goal, and the dashboards drawn anew: where their time goes."""
    lines = []
    # the pages over their goal, and the dashboards drawn anew: where their time goes
    slow = [(r["backend"], dataset, p) for r in runs for dataset, d in r["datasets"].items() for p in d["pages"]
            if (p["goal_ms"] and p["median_ms"] > p["goal_ms"]) or "drawn anew" in p["page"]]
    for backend, dataset, p in slow:
        if p["profile"] is None:
            continue
        lines.append("")
        over = "Slow" if p["goal_ms"] else "Profile"
        lines.append(f"{over}: {backend}, {dataset}: {p['page']} ({p['median_ms']:.0f} ms); the app's functions "
                     "by cumulative time per request (under cProfile):")
        lines.append("")
        for ms, calls, name in p["profile"]["top"]:
            lines.append(f"    {ms:7.1f} ms  {calls:8.1f}×  {name}")
    return lines


def report(runs, skipped, scale):
    today = dt.date.today().isoformat()
    lines = [
        "## Precomputed evaluations and dashboards (`bench/precomputed.py`, issue 11)",
        "",
        f"{today}. Machine: {machine_line()}; load average {os.getloadavg()[0]:.1f} at the end (other agents' "
        "processes shared the cores). "
        + ("**Quick run: a tenth of the sizes.** " if scale != 1 else "")
        + f"Goals: the county evaluation list and the county dashboard ≤ {GOAL_COUNTY_MS:g} ms for "
        f"{round(50_000 * scale):,} surveys, the city dashboard ≤ {GOAL_CITY_MS:g} ms for {round(600_000 * scale):,} "
        f"(median, warm), and approving one survey updates its village, township, county and city aggregates "
        f"in ≤ {GOAL_APPROVAL_MS:g} ms.",
        "",
        "Data: one survey per household this year (80 % approved, 8 % submitted, 4 % returned, 8 % drafts), "
        f"{LAST_YEAR_SHARE:.0%} of the households also with last year's approved survey; "
        f"{TOWNSHIPS_PER_COUNTY} townships of {VILLAGES_PER_TOWNSHIP} villages per county; the county database "
        "holds a second county of 2,000 surveys outside the reviewer's area, the city one Jiujiang's 13 "
        "county-level units. Built with Core bulk inserts (answers from the demo generator, a few sets per "
        "village), then `precomputed.rebuild(workers=os.cpu_count())` (on PostgreSQL followed by `VACUUM ANALYZE`, as "
        "autovacuum would do soon after). Pages through Flask's test client "
        f"(session, request boundary, template; no network), 3 warm-up requests then {ARGS.repeat} timed "
        f"({max(5, ARGS.repeat // 2)} for the dashboards drawn anew: their chart cache, "
        "`dashboards.drawing.clear_cache()`, emptied before each request, as after an approval or in "
        "another worker process).",
        "",
        "| figure | target | " + " | ".join(r["backend"] for r in runs) + " |",
        "|---|---|" + "---|" * len(runs),
    ]

    def row(label, goal, cells):
        lines.append(f"| {label} | {goal} | " + " | ".join(cells) + " |")

    for dataset in ("county", "city"):
        _dataset_rows(runs, dataset, row)
    lines += _profile_table(runs) + _approval_notes(runs, skipped) + _slow_pages(runs)
    return "\n".join(lines) + "\n"


def _short(page):
    if page["path"] == "/":
        return "dashboard"
    level = page["path"].split("level=")[1].split("&")[0]
    return {"village": "villages", "township": "townships", "county": "counties"}.get(level, level)


def summary_lines(runs):
    """One short line per backend, for `make bench`'s summary (which cuts lines at 160 characters)."""
    lines = []
    for r in runs:
        parts, updates, checks = [], [], []
        for dataset, d in r["datasets"].items():
            pages = ", ".join(f"{_short(p)} " + (f"{p['median_ms']:.0f}" if "error" not in p else f"HTTP {p['error']}")
                              for p in d["pages"] if p["goal_ms"])
            parts.append(f"{dataset} {pages}")
            updates.append(f"{d['approvals']['survey_changed_ms']:.0f}")
            checks.append(d["check"]["ok"])
        lines.append(f"{r['backend']} (ms): " + "; ".join(parts) + f"; update {'/'.join(updates)}; stored = fresh "
                     f"{'OK' if all(checks) else 'FAIL'}; goal {'met' if passed([r]) else 'MISSED'}")
    return lines


def passed(runs):
    for r in runs:
        for d in r["datasets"].values():
            if any(p["goal_ms"] and p["median_ms"] > p["goal_ms"] for p in d["pages"]):
                return False
            if d["approvals"]["survey_changed_ms"] > GOAL_APPROVAL_MS or not d["check"]["ok"]:
                return False
    return bool(runs)


# ---------------------------------------------------------------- main


ARGS = None


def run_dataset(url, dataset, scale, seed):
    print(f"  building {dataset} ...", file=sys.stderr)
    build_seconds, surveys, last_year = build(url, dataset, scale, seed)
    print(f"  built in {build_seconds:.0f} s ({surveys:,} + {last_year:,} surveys); rebuilding ...", file=sys.stderr)
    rebuilt = rebuild(url)
    print(f"  rebuild {rebuilt['seconds']:.1f} s ({rebuilt['per_second']:,.0f} surveys/s); pages ...", file=sys.stderr)
    pages = measure_pages(url, dataset)
    print("  approvals ...", file=sys.stderr)
    approvals = measure_approvals(url, ARGS.approvals)
    print(f"  survey_changed median {approvals['survey_changed_ms']:.1f} ms; checking the stored figures ...",
          file=sys.stderr)
    check = check_figures(url)
    print(f"  stored = fresh: {'OK' if check['ok'] else 'FAIL'} {check['levels']}", file=sys.stderr)
    return {"build_seconds": build_seconds, "surveys": surveys, "last_year": last_year, "rebuild": rebuilt,
            "pages": pages, "approvals": approvals, "check": check}


def run_backend(backend, datasets, folder, scale, skipped):
    """Each dataset on one backend, in a database of its own: the run's figures."""
    run = {"backend": "sqlite" if backend == "sqlite" else "postgresql", "datasets": {}}
    for dataset in datasets:
        print(f"{backend}, {dataset}:", file=sys.stderr)
        url, drop, reason = database_for(backend, folder / (dataset + ".db"), ARGS.postgres, PG_DB)
        if url is None:
            skipped["postgresql"] = reason
            break
        try:
            run["datasets"][dataset] = run_dataset(url, dataset, scale, ARGS.seed)
        finally:
            if drop is not None:
                drop()
            for path in folder.glob(f"{dataset}.db*"):
                path.unlink()
    return run


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--datasets", default="county,city")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database of its own (its schema is dropped)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests of each page")
    parser.add_argument("--approvals", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, 15 timed requests")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 15)
    return args


def main():
    global ARGS
    ARGS = args = parse_args()
    scale = 0.1 if args.quick else 1.0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip() in ("county", "city")]

    folder = Path(tempfile.mkdtemp(prefix="precomputed-"))
    runs, skipped = [], {}
    try:
        for backend in backends:
            run = run_backend(backend, datasets, folder, scale, skipped)
            if run["datasets"]:
                runs.append(run)
    finally:
        for path in folder.glob("*"):
            path.unlink()
        folder.rmdir()
    section = report(runs, skipped, scale)
    write_out("precomputed.md", section)
    print(section)
    for line in summary_lines(runs):
        print(line)
    ok = passed(runs)
    print(f"goal: {'met' if ok else 'MISSED'} (lists, dashboards, approvals, stored = fresh)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
