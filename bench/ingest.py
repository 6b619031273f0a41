"""Benchmark: sync-API ingest, in submissions a second, from concurrent clients against gunicorn.

    .venv/bin/python bench/ingest.py [--quick] [--backends sqlite,postgres] [--postgres URL]
                                     [--workers 2,4] [--clients 4,8,16] [--batch 1,10] [--duration 8]
                                     [--season N] [--prefill N] [--retries 2] [--quiet-wait 30] [--json PATH]

For each backend it builds a fresh database (an SQLite file in a temporary folder; a PostgreSQL
database, see below), runs `flask db upgrade`, and seeds one county with a township of 300
villages and one surveyor account per client, all scoped to that township. Then, for each number
of gunicorn workers, it starts `gunicorn -w N 'village_survey:create_app()'` on 127.0.0.1 and, for
each number of clients, starts that many client processes (stdlib http.client, each with its
own session cookie, logged in through /login like a phone). Each client sends distinct new
surveys (a new household, status "submitted", varied valid answers) for --duration seconds: with
--batch 1 a PUT to /api/v1/surveys/<uuid> each, with --batch 10 ten in one POST to
/api/v1/surveys/batch as the field app's outbox sends them. Then it replays what it sent
(identical bodies, answered 200) for half as long. Every non-2xx answer is an error; the run fails if there is any, or if the database
does not hold exactly the surveys that were answered 201.

PostgreSQL: with --postgres URL (an SQLAlchemy URL such as
postgresql+psycopg://user@host/dbname) that database is used and its public schema is dropped
and recreated: give it a database of its own. Without it, a local server is used if one answers
on the Unix socket (as root, a stopped local cluster is started and a role for the current user
created, as .ci/run does); the database village_survey_bench is created there and dropped at the
end. --backends sqlite skips PostgreSQL.

--prefill N first sends N surveys (10 a request, not measured) and, on PostgreSQL, runs ANALYZE:
the settings then measure a table as in mid-season rather than the first minute of an empty one.

--season N also ingests N new surveys with the first workers/clients setting, once per batch
size, and reports the wall time (the issue's goal: a county's season, 50,000 surveys, in under 3 minutes).

The load generator runs on the same machine as the server and the database: the CPU time per
submission of each (app workers, PostgreSQL, clients) is reported beside the figures. So are the
cores that other processes used during the phase; before each phase the script waits (up to
--quiet-wait seconds) for them to go idle, and a setting they disturbed (more than 0.15 cores) is
measured again, up to --retries times, keeping the least disturbed figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PASSWORD, Client, Gunicorn, SurveyMaker, all_procs, background_load, count_surveys, cpu_self, flask_db_upgrade,
    fresh_postgres, machine_busy, machine_info, percentile, postgres_version, seed, wait_until_quiet,
)

GOAL_PER_SECOND = 300  # 50,000 surveys in under 3 minutes
SEASON = 50_000
PG_BENCH_DB = "village_survey_bench"

# ---------------------------------------------------------------------------------------------
# The client processes: a phone each, logged in, sending surveys until told to stop
# ---------------------------------------------------------------------------------------------

PROGRESS_EVERY = 100  # requests between two progress reports of a counted (--season) run


def _timed_loop(client, next_unit, deadline, limit, keep=True, progress=None):
    """Send until the deadline (or `limit` surveys); request latencies, survey statuses, the
    surveys sent (if `keep`) and their count."""
    latencies, statuses, accepted, samples, surveys, reported = [], Counter(), [], {}, 0, 0
    while time.monotonic() < deadline and (limit is None or surveys < limit):
        if progress and surveys - reported >= PROGRESS_EVERY:
            progress(surveys)
            reported = surveys
        unit = next_unit(len(latencies))
        if limit is not None:
            unit = unit[:limit - surveys]
        started = time.perf_counter()
        try:
            status, item_statuses, data = client.send(unit)
        except OSError as error:
            status, data = f"{type(error).__name__}", str(error).encode()
            item_statuses = [status] * len(unit)
        latencies.append(time.perf_counter() - started)
        surveys += len(unit)
        statuses.update(item_statuses)
        if keep:
            accepted.append(unit)
        if any(s not in (200, 201) for s in item_statuses) and len(samples) < 3:
            samples[str(status)] = data[:300].decode(errors="replace")
    return latencies, statuses, accepted, samples, surveys


def client_process(index, spec, ready, start_time, go_ingest, go_replay, results):
    """One phone: log in, warm up, then the timed ingest and replay phases on the parent's signal."""
    try:
        client = Client(spec["host"], spec["port"])
        client.login(spec["username"], PASSWORD)
        maker = SurveyMaker(spec["seed"], spec["tag"], spec["villages"], spec["year"],
                            dt.date.fromisoformat(spec["today"]))
        for _ in range(spec["warmup"]):
            status, item_statuses, data = client.send([maker.next() for _ in range(spec["batch"])])
            if set(item_statuses) != {201}:
                raise RuntimeError(f"warm-up: HTTP {status}, {item_statuses}: {data[:300]!r}")
        ready.put(index)

        if not go_ingest.wait(120):
            return
        time.sleep(max(0.0, start_time.value - time.monotonic()))
        cpu = cpu_self()
        latencies, statuses, accepted, samples, surveys = _timed_loop(
            client, lambda _n: [maker.next() for _ in range(spec["batch"])], start_time.value + spec["duration"],
            spec["count"], keep=spec["replay_duration"] > 0,
            progress=(lambda n: results.put(("progress", index, n))) if spec["count"] else None)
        results.put(("ingest", index, {
            "latencies": latencies, "statuses": dict(statuses), "end": time.monotonic(), "surveys": surveys,
            "created": statuses.get(201, 0) + spec["warmup"] * spec["batch"], "cpu": cpu_self() - cpu,
            "samples": samples}))

        if not go_replay.wait(600):
            return
        time.sleep(max(0.0, start_time.value - time.monotonic()))
        cpu = cpu_self()
        latencies, statuses, _accepted, samples, surveys = _timed_loop(
            client, lambda n: accepted[n % len(accepted)], start_time.value + spec["replay_duration"], None)
        results.put(("replay", index, {
            "latencies": latencies, "statuses": dict(statuses), "end": time.monotonic(), "surveys": surveys,
            "created": 0, "cpu": cpu_self() - cpu, "samples": samples}))
    except BaseException:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put(("error", index, traceback.format_exc()))


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc (server workers, PostgreSQL, the whole machine)
# ---------------------------------------------------------------------------------------------

PG_BACKEND = re.compile(r"^postgres: \S+: \S+ (\S+) (?:\[local\]|\S+\(\d+\))")


def _postgres_of(pid, database):
    """Whether a postgres process works for `database`: its own backends and the server's shared ones."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return False
    backend = PG_BACKEND.match(cmdline)
    return backend is None or backend.group(1) == database


def cpu_snapshot(server_pid, database=None):
    """CPU seconds so far of the gunicorn master and workers, of PostgreSQL, and of the machine."""
    procs = all_procs()
    server = sum(cpu for pid, (_c, ppid, cpu) in procs.items() if pid == server_pid or ppid == server_pid)
    postgres = sum(cpu for pid, (comm, _p, cpu) in procs.items()
                   if comm.startswith("postgres") and database and _postgres_of(pid, database))
    return {"server": server, "postgres": postgres, "machine": machine_busy()}


# ---------------------------------------------------------------------------------------------
# One measured setting: K client processes against a running server
# ---------------------------------------------------------------------------------------------

def _cpu_figures(parts, cpu_before, cpu_after, elapsed, n):
    """Cores used by each party during a phase, CPU ms per survey, and the CPU-bound ceiling."""
    used = {"app": cpu_after["server"] - cpu_before["server"],
            "postgres": cpu_after["postgres"] - cpu_before["postgres"],
            "clients": sum(p["cpu"] for p in parts), "machine": cpu_after["machine"] - cpu_before["machine"]}
    used["other"] = max(0.0, used["machine"] - used["app"] - used["postgres"] - used["clients"])
    figures = {"cpu_cores": {k: round(v / elapsed, 2) for k, v in used.items()}}
    # CPU time per survey is what the throughput on an idle machine follows from.
    figures["cpu_ms_per_request"] = {k: round(used[k] / max(1, n) * 1000, 2) for k in ("app", "postgres", "clients")}
    # The rate the machine's cores would allow if nothing but this work ran and nothing waited.
    spent = used["app"] + used["postgres"] + used["clients"]
    figures["cpu_bound_ceiling_per_second"] = round(n * (os.cpu_count() or 1) / spent, 1) if spent else None
    return figures


def _phase_summary(parts, started, cpu_before, cpu_after, expect):
    latencies = sorted(x for p in parts for x in p["latencies"])
    statuses = Counter()
    for p in parts:
        statuses.update(p["statuses"])
    elapsed = max(p["end"] for p in parts) - started
    n = sum(p["surveys"] for p in parts)  # rates and CPU are per survey, latencies per request
    bad = {str(s): c for s, c in statuses.items() if s != expect}
    samples = {}
    for p in parts:
        samples.update(p["samples"])
    summary = {
        "requests": len(latencies), "surveys": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 0.50, "round") * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95, "round") * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99, "round") * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "statuses": {str(s): c for s, c in statuses.items()}, "errors": sum(bad.values()), "error_samples": samples,
    }
    summary.update(_cpu_figures(parts, cpu_before, cpu_after, elapsed, n))
    return summary


def _client_specs(server, clients, villages, usernames, year, tag, duration, replay_duration, count, warmup, batch):
    today = dt.date.today().isoformat()
    specs = []
    for i in range(clients):
        per_client = None if count is None else count // clients + (1 if i < count % clients else 0)
        specs.append({"host": "127.0.0.1", "port": server.port, "username": usernames[i % len(usernames)],
                      "villages": villages, "year": year, "today": today, "tag": f"{tag}{i:02d}",
                      "seed": zlib.crc32(f"{tag}-{i}".encode()), "warmup": warmup,
                      "duration": duration if count is None else 24 * 3600, "count": per_client,
                      "replay_duration": replay_duration, "batch": batch})
    return specs


def _wait_ready(ready, results, clients):
    for _ in range(clients):
        try:
            ready.get(timeout=120)
        except Exception:  # noqa: BLE001 - queue.Empty: a client failed to log in or warm up
            _raise_client_errors(results)
            raise RuntimeError("a client did not get ready within 120 s") from None


def _collect(results, clients, timeout, count, started):
    """The clients' figures of one phase (progress of a counted run reported every 30 s)."""
    parts, progress, last_report = [], {}, (time.monotonic(), 0)
    while len(parts) < clients:
        kind, index, payload = results.get(timeout=timeout)
        if kind == "error":
            raise RuntimeError(f"client {index} failed:\n{payload}")
        if kind == "progress":
            progress[index] = payload
            now, done = time.monotonic(), sum(progress.values())
            if now - last_report[0] >= 30:
                print(f"   ... {done} of {count} after {now - started:.0f} s, "
                      f"{(done - last_report[1]) / (now - last_report[0]):.0f}/s lately", flush=True)
                last_report = (now, done)
            continue
        parts.append(payload)
    return parts


def measure(server, clients, villages, usernames, year, tag, duration, replay_duration, count=None, warmup=2,
            quiet_wait=0.0, batch=1):
    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go_ingest, go_replay = ctx.Event(), ctx.Event()
    start_time = ctx.Value("d", 0.0)
    procs = []
    for i, spec in enumerate(_client_specs(server, clients, villages, usernames, year, tag, duration,
                                           replay_duration, count, warmup, batch)):
        proc = ctx.Process(target=client_process, args=(i, spec, ready, start_time, go_ingest, go_replay, results),
                           daemon=True)
        proc.start()
        procs.append(proc)
    try:
        _wait_ready(ready, results, clients)
        outcome = {"warmup_created": clients * warmup * batch}
        phases = (("ingest", go_ingest, 201), ("replay", go_replay, 200)) if replay_duration else \
            (("ingest", go_ingest, 201),)
        for phase, event, expect in phases:
            background = wait_until_quiet(quiet_wait) if quiet_wait else None
            start_time.value = time.monotonic() + 0.3
            before = cpu_snapshot(server.proc.pid, server.database)
            event.set()
            parts = _collect(results, clients, duration + 300, count, start_time.value)
            after = cpu_snapshot(server.proc.pid, server.database)  # `before` was taken 0.3 s early: idle, negligible
            outcome[phase] = _phase_summary(parts, start_time.value, before, after, expect)
            outcome[phase]["background_cores_before"] = background
            # The machine's 1-minute load average at the phase's end: the CPU figures per survey are
            # what counts when other work shares the cores, but a high load inflates them too.
            outcome[phase]["load_average"] = round(os.getloadavg()[0], 2)
            if phase == "ingest":
                outcome["created"] = sum(p["created"] for p in parts)
        return outcome
    except BaseException:
        for proc in procs:  # stopped or failed: the clients' phases are not wanted any more
            proc.terminate()
        raise
    finally:
        go_ingest.set()
        go_replay.set()
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()


def _raise_client_errors(results):
    try:
        while True:
            kind, index, payload = results.get(timeout=1)
            if kind == "error":
                raise RuntimeError(f"client {index} failed:\n{payload}")
    except RuntimeError:
        raise
    except Exception:  # noqa: BLE001 - queue.Empty: nothing more to report
        return


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

DISTURBED_CORES = 0.15  # other processes using more than this during a phase skew its figures


def _disturbance(outcome):
    return max(outcome[phase]["cpu_cores"]["other"] for phase in ("ingest", "replay") if phase in outcome)


class Backend:
    """One backend's run: its seeded database, the surveys answered 201 so far, its failures."""

    def __init__(self, backend, url, args, workdir, report):
        self.name, self.url, self.args, self.workdir, self.report = backend, url, args, workdir, report
        self.expected, self.failures, self.setting = 0, [], 0
        self.year = dt.date.today().year
        started = time.monotonic()
        flask_db_upgrade(url)
        surveyors = max(args.clients)
        self.villages = seed(url, surveyors)
        self.usernames = [f"bench-surveyor-{i}" for i in range(surveyors)]
        print(f"   migrated and seeded: 1 county, 300 villages in the surveyors' township, {surveyors} surveyors "
              f"({time.monotonic() - started:.1f} s)", flush=True)

    def _measure(self, server, clients, tag, duration, replay_duration, **kwargs):
        measured = measure(server, clients, self.villages, self.usernames, self.year, tag, duration,
                           replay_duration, quiet_wait=self.args.quiet_wait, **kwargs)
        self.expected += measured["created"]
        return measured

    def setting_row(self, server, workers, clients, batch):
        """A setting measured, again (up to --retries times) while other processes disturbed it."""
        outcome, tries = None, 0
        while tries <= self.args.retries:
            tries += 1
            self.setting += 1
            measured = self._measure(server, clients, f"{self.name[0]}{self.setting}", self.args.duration,
                                     self.args.replay_duration, batch=batch)
            if outcome is None or _disturbance(measured) < _disturbance(outcome):
                outcome = measured
            if _disturbance(outcome) <= DISTURBED_CORES:
                break
        row = {"backend": self.name, "workers": workers, "clients": clients, "batch": batch, "tries": tries} | outcome
        for phase in ("ingest", "replay"):
            if phase in row and row[phase]["errors"]:
                self.failures.append(f"{self.name} w{workers} c{clients} b{batch} {phase}: "
                                     f"{row[phase]['statuses']} {row[phase]['error_samples']}")
        return row

    def prefill(self, server):
        """--prefill N: N surveys sent through the server (10 a request, not measured) before the
        first setting, then, on PostgreSQL, ANALYZE: the settings then measure a table as it is in
        mid-season, with the planner's statistics, instead of the first minute of an empty one
        (whose plans, made for empty tables, cost the database several ms per survey until
        autovacuum's first ANALYZE)."""
        from sqlalchemy import create_engine, text

        started = time.monotonic()
        self._measure(server, min(4, len(self.usernames)), f"{self.name[0]}F", 0, 0, count=self.args.prefill,
                      warmup=0, batch=10)
        if self.name == "postgres":
            engine = create_engine(self.url)
            try:
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            finally:
                engine.dispose()
        print(f"   prefilled: {self.args.prefill} surveys ({time.monotonic() - started:.1f} s)", flush=True)

    def settings(self):
        print(HEADER, flush=True)
        for workers in self.args.workers:
            server = Gunicorn(self.url, workers, self.workdir / f"gunicorn-{self.name}-{workers}.log")
            try:
                if self.args.prefill and workers == self.args.workers[0]:
                    self.prefill(server)
                for clients, batch in ((c, b) for c in self.args.clients for b in self.args.batch):
                    row = self.setting_row(server, workers, clients, batch)
                    self.report["results"].append(row)
                    print_row(row)
            finally:
                server.stop()

    def season(self, batch):
        workers, clients, season = self.args.workers[0], self.args.clients[0], self.args.season
        server = Gunicorn(self.url, workers, self.workdir / f"gunicorn-{self.name}-season-{batch}.log")
        try:
            print(f"   season: {season} new surveys, {workers} workers, {clients} clients, "
                  f"{batch} per request ...", flush=True)
            outcome = self._measure(server, clients, f"{self.name[0]}S{batch}", 0, 0, count=season, warmup=0,
                                    batch=batch)
        finally:
            server.stop()
        row = {"backend": self.name, "workers": workers, "clients": clients, "batch": batch, "season": season} | outcome
        self.report["season"].append(row)
        ingest = row["ingest"]
        print(f"   season: {ingest['surveys']} surveys in {ingest['seconds']:.1f} s = {ingest['per_second']:.0f}/s "
              f"(goal: {SEASON} in 180 s), p50 {ingest['p50_ms']:.0f} ms, p95 {ingest['p95_ms']:.0f} ms per "
              f"request, errors {ingest['errors']}; CPU ms/submission {ingest['cpu_ms_per_request']}, "
              f"cores used by others {ingest['cpu_cores']['other']}", flush=True)
        if ingest["errors"]:
            self.failures.append(f"{self.name} season b{batch}: {ingest['statuses']} {ingest['error_samples']}")

    def check_stored(self):
        stored = count_surveys(self.url)
        self.report["stored"][self.name] = {"expected": self.expected, "stored": stored}
        print(f"   surveys in the database: {stored} (answered 201: {self.expected})", flush=True)
        if stored != self.expected:
            self.failures.append(f"{self.name}: {stored} surveys stored but {self.expected} were answered 201")


def run_backend(backend, url, args, workdir, report):
    print(f"\n== {backend}: {url.split('?')[0]} ==", flush=True)
    run = Backend(backend, url, args, workdir, report)
    run.settings()
    for batch in args.batch if args.season else ():
        run.season(batch)
    run.check_stored()
    return run.failures


HEADER = (f"   {'workers':>7} {'clients':>7} {'batch':>5} | {'ingest/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'err':>4} | "
          f"{'replay/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'err':>4} | CPU ms/submission: app   pg client"
          f" | cores used by others, load average")


def print_row(row):
    ingest, replay = row["ingest"], row.get("replay")
    cells = f"{row['workers']:>10} {row['clients']:>7} {row.get('batch', 1):>5} | {ingest['per_second']:>8.1f} {ingest['p50_ms']:>7.1f} " \
            f"{ingest['p95_ms']:>7.1f} {ingest['errors']:>4} | "
    if replay:
        cells += f"{replay['per_second']:>8.1f} {replay['p50_ms']:>7.1f} {replay['p95_ms']:>7.1f} {replay['errors']:>4} | "
    ms = ingest["cpu_ms_per_request"]
    cells += f"{'':>18}{ms['app']:>5.1f} {ms['postgres']:>4.1f} {ms['clients']:>6.1f} | {_disturbance(row):.2f}"
    if "load_average" in ingest:
        cells += f", load {ingest['load_average']:.1f}"
    if row.get("tries", 1) > 1:
        cells += f" (best of {row['tries']} tries)"
    print(cells, flush=True)


def _int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="one setting per backend (2 workers, 8 clients, 3 s): a smoke run of ~30 s")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL database (its schema is wiped)")
    parser.add_argument("--workers", type=_int_list, help="gunicorn worker counts (default 2,4)")
    parser.add_argument("--clients", type=_int_list, help="concurrent client counts (default 4,8,16)")
    parser.add_argument("--duration", type=float, help="seconds of new submissions per setting (default 8)")
    parser.add_argument("--batch", type=_int_list,
                        help="surveys per request: 1 is a PUT each, more go in one POST to /api/v1/surveys/batch "
                             "as the field app's outbox sends them (default 1,10; with --quick 1)")
    parser.add_argument("--season", type=int, default=0, metavar="N",
                        help=f"also ingest N new surveys (e.g. {SEASON}) with the first workers and clients, "
                             "once per --batch size, and time it")
    parser.add_argument("--prefill", type=int, default=0, metavar="N",
                        help="send N surveys (not measured) before the first setting, then ANALYZE on PostgreSQL")
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="before each phase, wait up to S seconds for other processes to leave the cores "
                             "idle (default 30, with --quick 5; 0: do not wait)")
    parser.add_argument("--retries", type=int, metavar="N",
                        help=f"measure a setting again (up to N times) if other processes used more than "
                             f"{DISTURBED_CORES} cores meanwhile, and keep the least disturbed figures "
                             f"(default 2, with --quick 0)")
    parser.add_argument("--json", type=Path, help="write the figures here too (default bench/out/ingest-*.json)")
    args = parser.parse_args(argv)
    _defaults(parser, args)
    return args


def _defaults(parser, args):
    """The settings not given, by --quick or not; checks of the ones given."""
    quick = args.quick
    args.workers = args.workers or ([2] if quick else [2, 4])
    args.clients = args.clients or ([8] if quick else [4, 8, 16])
    args.batch = args.batch or ([1] if quick else [1, 10])
    if min(args.batch) < 1 or max(args.batch) > 20:
        parser.error("--batch: 1 to 20 surveys per request")
    args.duration = args.duration or (3.0 if quick else 8.0)
    args.replay_duration = args.duration / 2
    if args.quiet_wait is None:
        args.quiet_wait = 5.0 if quick else 30.0
    if args.retries is None:
        args.retries = 0 if quick else 2
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")


def _stop(signum, _frame):
    raise SystemExit(128 + signum)  # runs the clean-up: clients, gunicorn, the PostgreSQL database


def _finish(args, report, workdir, failures, crashed):
    """Keep the server logs of a failed run, else remove them; write the figures."""
    logs = sorted(workdir.glob("gunicorn-*.log"))
    if failures or crashed:
        print(f"(server logs kept in {workdir})")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        logs = []
    out = args.json or ROOT / "bench" / "out" / f"ingest-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report["failures"] = failures + (["the run stopped with an exception (see above)"] if crashed else [])
    report["server_logs"] = [str(p) for p in logs]
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"\nfigures written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def _print_best(report):
    best = {}
    for row in report["results"]:
        key = (row["backend"], row["batch"])
        best[key] = max(best.get(key, 0), row["ingest"]["per_second"])
    for (backend, batch), rate in best.items():
        verdict = "meets" if rate >= GOAL_PER_SECOND else "misses"
        print(f"best {backend}, {batch} per request: {rate:.0f} submissions/s, {verdict} the goal of "
              f"{GOAL_PER_SECOND}/s ({SEASON} surveys in {SEASON / rate / 60:.1f} min)")


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)  # also when started in the background, where SIGINT is ignored
    info = machine_info()
    print(f"ingest benchmark: {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB, "
          f"Python {info['python']}, SQLite {info['sqlite']}, {info['date']}", flush=True)
    print(f"settings: workers {args.workers}, clients {args.clients}, surveys per request {args.batch}, "
          f"{args.duration:g} s of new surveys "
          f"+ {args.replay_duration:g} s of replays each; goal {GOAL_PER_SECOND}/s", flush=True)
    idle_load = background_load()
    info["background_load_cores"] = round(idle_load, 2)
    if idle_load > 0.2:
        print(f"WARNING: other processes keep {idle_load:.2f} of {info['nproc']} cores busy: "
              "the figures will be low; run on an idle machine", flush=True)
    report = {"machine": info, "settings": {"workers": args.workers, "clients": args.clients, "batch": args.batch,
                                            "duration_s": args.duration, "replay_duration_s": args.replay_duration},
              "results": [], "season": [], "stored": {}, "skipped": {}}
    failures = []
    workdir = Path(tempfile.mkdtemp(prefix="village-survey-bench-"))
    crashed = True
    try:
        for backend in args.backends:
            drop = None
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'bench.db'}"
            else:
                url, drop, reason = fresh_postgres(args.postgres, PG_BENCH_DB)
                if url is None:
                    print(f"\n== postgres: skipped: {reason} ==", flush=True)
                    report["skipped"]["postgres"] = reason
                    continue
                info["postgres"] = postgres_version(url)
            try:
                failures += run_backend(backend, url, args, workdir, report)
            finally:
                if drop:
                    drop()
        crashed = False
    finally:
        _finish(args, report, workdir, failures, crashed)
    _print_best(report)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
