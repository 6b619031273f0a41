"""Benchmark: sync-API ingest, in submissions a second, from concurrent clients against gunicorn.

    .venv/bin/python bench/ingest.py [--quick] [--backends sqlite,postgres] [--postgres URL]
                                     [--workers 2,4] [--clients 4,8,16] [--batch 1,10] [--duration 8]
                                     [--season N] [--retries 2] [--quiet-wait 30] [--json PATH]

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
import gzip
import http.client
import json
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import uuid as uuid_module
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL_PER_SECOND = 300  # 50,000 surveys in under 3 minutes
SEASON = 50_000
PASSWORD = "bench-password-1"
PG_BENCH_DB = "village_survey_bench"
PG_SOCKET_DIR = "/var/run/postgresql"
USER_AGENT = "village-survey-bench/1"
PHONE_ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium on a phone offers

# ---------------------------------------------------------------------------------------------
# Survey answers: distinct, valid, realistically varied (form version 1)
# ---------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "国华建明文军平志伟东海强红秀英兰芳玉桂珍丽春金凤云霞德福贵生荣根发水林"
STOVES = (("traditional_wood", 12), ("improved_wood", 10), ("coal", 3), ("lpg", 30),
          ("piped_gas", 5), ("biogas", 3), ("electric", 35), ("solar", 2))
HEATING = (("none", 30), ("heat_pump_ac", 35), ("air_source_heat_pump", 5),
           ("electric_heater", 15), ("biomass", 10), ("coal_brazier", 5))
HOT_WATER = (("none", 10), ("solar_thermal", 35), ("heat_pump", 8), ("electric", 30),
             ("gas", 10), ("firewood", 7))
STRUCTURES = (("brick_concrete", 70), ("frame", 10), ("prefab_steel", 3), ("light_steel", 2),
              ("timber", 3), ("earth", 6), ("stone", 3), ("other", 3))
NOTES = ("", "", "", "", "户主外出务工，由家属代答。", "屋顶光伏为村集体统一安装。",
         "老人独居，用电量小。", "去年更换了节能窗。", "灶台已改为带烟囱的节柴灶。")


def _pick(rng, weighted):
    codes, weights = zip(*weighted)
    return rng.choices(codes, weights)[0]


def survey_answers(rng: random.Random, year: int, today: dt.date) -> dict:
    """One household's answers: complete and valid for status "submitted", as a phone sends them."""
    last_day = min(today, dt.date(year, 12, 31))
    survey_day = dt.date(year, 3, 1) + dt.timedelta(days=rng.randint(0, max(0, (last_day - dt.date(year, 3, 1)).days)))
    primary = _pick(rng, STOVES)
    secondary = rng.choice(["none", "lpg", "electric", "traditional_wood", "improved_wood"])
    if secondary == primary:
        secondary = "none"
    supply = rng.choice([24, 24, 24, 23.5, 20, 16])
    lamps = [rng.randint(0, 15), rng.randint(0, 6), rng.randint(0, 3)]
    if sum(lamps) == 0:
        lamps[0] = 1
    digester = rng.choice(["none", "none", "none", "working", "broken"])
    answers = {
        "head_name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
        "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.8 else None,
        "residents": rng.randint(1, 8),
        "latitude": round(rng.uniform(28.8, 29.9), 6), "longitude": round(rng.uniform(114.9, 116.8), 6),
        "gps_accuracy_m": round(rng.uniform(3, 30), 1), "survey_date": survey_day.isoformat(),
        "year_built": rng.randint(1965, today.year), "storeys": rng.choice((1, 2, 2, 2, 3, 3, 4)),
        "floor_area_m2": round(rng.uniform(50, 420), 1), "structure": _pick(rng, STRUCTURES),
        "safety_appraisal": rng.choice(["A", "B", "B", "C", "D", "none", "none"]),
        "visible_danger": rng.random() < 0.06,
        "roof_insulation": rng.random() < 0.4, "wall_insulation": rng.random() < 0.3,
        "efficient_windows": rng.random() < 0.45, "shading": rng.random() < 0.5,
        "energy_design": rng.choice(["yes", "no", "no", "unknown"]),
        "green_materials": rng.random() < 0.4,
        "retrofit_year": rng.randint(2005, today.year) if rng.random() < 0.2 else None,
        "biogas_digester": digester,
        "biogas_m3": round(rng.uniform(50, 300)) if digester == "working" and rng.random() < 0.8 else None,
        "primary_stove": primary, "secondary_stove": secondary,
        "stove_chimney": (rng.random() < 0.6) if primary in ("traditional_wood", "improved_wood", "coal") else None,
        "heating": _pick(rng, HEATING), "hot_water": _pick(rng, HOT_WATER),
        "ac_label_grade": rng.choice(["1", "2", "3", "3", "4", "5", "no_ac", "unknown"]),
        "lamps_led": lamps[0], "lamps_cfl": lamps[1], "lamps_incandescent": lamps[2],
        "grid_connected": True, "supply_hours": supply, "evening_hours": min(6, supply),
        "outages_per_week": rng.choice([0, 0, 0, 1, 2, 5]),
        "outage_hours_per_week": rng.choice([0, 0, 0.5, 1, 3]),
        "voltage_damage": rng.random() < 0.05, "electric_vehicle": rng.random() < 0.1,
        "electric_bike": rng.random() < 0.6, "electric_farm_machinery": rng.random() < 0.15,
        "smart_meter": rng.random() < 0.7 if rng.random() < 0.9 else None,
        "pv_installed": rng.random() < 0.25,
        "notes": rng.choice(NOTES) or None,
    }
    if rng.random() < 0.8:
        answers["electricity_kwh"] = rng.randint(400, 7500)
    else:
        answers["electricity_bill_yuan_month"] = rng.randint(30, 400)
    for key, chance, high in (("lpg_kg", 0.5, 300), ("piped_gas_m3", 0.1, 600), ("coal_kg", 0.05, 1500),
                              ("firewood_kg", 0.35, 4000), ("straw_kg", 0.1, 2000)):
        if rng.random() < chance:
            answers[key] = round(rng.uniform(10, high), 1)
    if answers["pv_installed"]:
        kwp = round(rng.uniform(2, 25), 1)
        answers.update(pv_kwp=kwp, pv_year=rng.randint(2012, today.year),
                       pv_location=rng.choice(["roof", "roof", "roof", "courtyard", "farm_building"]),
                       pv_mode=rng.choice(["self_use_surplus", "self_use_surplus", "all_to_grid", "off_grid"]),
                       battery_kwh=rng.choice([None, None, 0, 5, 10]))
        if rng.random() < 0.5:
            answers["pv_generation_kwh"] = round(kwp * rng.uniform(800, 1200))
    return {k: v for k, v in answers.items() if v is not None}


class SurveyMaker:
    """New surveys of new households for one client: a UUID and a JSON body each."""

    def __init__(self, seed: int, tag: str, village_ids: list[int], year: int, today: dt.date):
        self.rng = random.Random(seed)
        self.tag, self.villages, self.year = tag, village_ids, year
        # Answers are drawn up front so that the timed loop only fills in the household.
        self.templates = [survey_answers(self.rng, year, today) for _ in range(200)]
        self.seq = 0

    def next(self) -> tuple[str, bytes]:
        self.seq += 1
        answers = dict(self.templates[self.seq % len(self.templates)])
        answers["house_number"] = f"{1 + self.seq % 12}组{self.tag}{self.seq:05d}号"
        body = {"form_version": 1, "year": self.year, "status": "submitted",
                "village_id": self.villages[self.seq * 7919 % len(self.villages)], "answers": answers}
        return str(uuid_module.uuid4()), json.dumps(body, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------------------------
# The client: a phone's session over http.client (cookies, CSRF), run in its own process
# ---------------------------------------------------------------------------------------------

def _decompress(data: bytes, encoding: str | None) -> bytes:
    """An answer compressed by Flask-Compress, with the libraries it uses itself."""
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    if encoding == "zstd":
        try:
            from compression import zstd  # Python 3.14
        except ImportError:
            from backports import zstd
        return zstd.decompress(data)
    return data


class Client:
    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                extra_headers: dict | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/html", **(extra_headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        if self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed a kept-alive connection between two requests: open a new one.
                self.conn.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if response.will_close:
            self.conn.close()
        return response.status, data, response

    def login(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"login page: HTTP {status}, CSRF token found: {bool(match)}")
        form = urllib.parse.urlencode({"username": username, "password": password, "remember": "y",
                                       "csrf_token": match.group(1).decode()}).encode()
        status, _, response = self.request("POST", "/login", form, "application/x-www-form-urlencoded")
        if status != 302 or "/login" in (response.getheader("Location") or "/login"):
            raise RuntimeError(f"login of {username} refused: HTTP {status}")
        status, data, _ = self.request("GET", "/api/v1/session")
        if status != 200:
            raise RuntimeError(f"/api/v1/session: HTTP {status}")
        self.csrf = json.loads(data)["csrf_token"]

    def send(self, unit: list[tuple[str, bytes]]) -> tuple[int | str, list, bytes]:
        """Send surveys: one by PUT, several in one POST to the batch API. Returns the HTTP status,
        the status of each survey (the batch answers one per survey) and the answer's text."""
        if len(unit) == 1:
            status, data = self.put_survey(*unit[0])
            return status, [status], data
        body = b'{"surveys":[' + b",".join(b'{"uuid":"%s",' % u.encode() + b[1:] for u, b in unit) + b"]}"
        status, data, response = self.request("POST", "/api/v1/surveys/batch", body, "application/json",
                                              {"Accept-Encoding": PHONE_ACCEPT_ENCODING})
        data = _decompress(data, response.getheader("Content-Encoding"))
        if status != 200:
            return status, [status] * len(unit), data
        return status, [r["status"] for r in json.loads(data)["results"]], data

    def put_survey(self, survey_uuid: str, body: bytes) -> tuple[int, bytes]:
        """PUT one survey as the phone's browser does, offering compressed answers (Flask-Compress)."""
        status, data, response = self.request("PUT", f"/api/v1/surveys/{survey_uuid}", body, "application/json",
                                              {"Accept-Encoding": PHONE_ACCEPT_ENCODING})
        encoding = response.getheader("Content-Encoding")
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding:
            data = f"({len(data)} bytes, {encoding}-compressed)".encode()
        return status, data


PROGRESS_EVERY = 100  # requests between two progress reports of a counted (--season) run


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
        cpu = _cpu_self()
        latencies, statuses, accepted, samples, surveys = _timed_loop(
            client, lambda _n: [maker.next() for _ in range(spec["batch"])], start_time.value + spec["duration"],
            spec["count"], keep=spec["replay_duration"] > 0,
            progress=(lambda n: results.put(("progress", index, n))) if spec["count"] else None)
        results.put(("ingest", index, {
            "latencies": latencies, "statuses": dict(statuses), "end": time.monotonic(), "surveys": surveys,
            "created": statuses.get(201, 0) + spec["warmup"] * spec["batch"], "cpu": _cpu_self() - cpu,
            "samples": samples}))

        if not go_replay.wait(600):
            return
        time.sleep(max(0.0, start_time.value - time.monotonic()))
        cpu = _cpu_self()
        latencies, statuses, _accepted, samples, surveys = _timed_loop(
            client, lambda n: accepted[n % len(accepted)], start_time.value + spec["replay_duration"], None)
        results.put(("replay", index, {
            "latencies": latencies, "statuses": dict(statuses), "end": time.monotonic(), "surveys": surveys,
            "created": 0, "cpu": _cpu_self() - cpu, "samples": samples}))
    except BaseException:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put(("error", index, traceback.format_exc()))


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc (server workers, PostgreSQL, the whole machine)
# ---------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid):
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[1] is ppid; utime and stime are fields 14 and 15 of the whole line (11, 12 here).
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _all_procs():
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat:
                procs[int(entry)] = stat
    return procs


PG_BACKEND = re.compile(r"^postgres: \S+: \S+ (\S+) (?:\[local\]|\S+\(\d+\))")


def _postgres_of(pid, database):
    """Whether a postgres process works for `database`: its own backends and the server's shared ones."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return False
    backend = PG_BACKEND.match(cmdline)
    return backend is None or backend.group(1) == database


def _machine_busy():
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK  # all but idle and iowait


def cpu_snapshot(server_pid, database=None):
    """CPU seconds so far of the gunicorn master and workers, of PostgreSQL, and of the machine."""
    procs = _all_procs()
    server = sum(cpu for pid, (_c, ppid, cpu) in procs.items() if pid == server_pid or ppid == server_pid)
    postgres = sum(cpu for pid, (comm, _p, cpu) in procs.items()
                   if comm.startswith("postgres") and database and _postgres_of(pid, database))
    return {"server": server, "postgres": postgres, "machine": _machine_busy()}


def background_load(seconds=1.0):
    """Cores busy while this benchmark does nothing: other work skews the figures."""
    before = _machine_busy()
    time.sleep(seconds)
    return (_machine_busy() - before) / seconds


def wait_until_quiet(max_wait, threshold=0.15):
    """Wait (at most max_wait seconds) until other processes leave the cores idle; the load seen last."""
    deadline = time.monotonic() + max_wait
    load = background_load(0.5)
    while load > threshold and time.monotonic() < deadline:
        load = background_load(0.5)
    return round(load, 2)


# ---------------------------------------------------------------------------------------------
# Databases, the app's own commands, gunicorn
# ---------------------------------------------------------------------------------------------

def app_env(url):
    env = dict(os.environ)
    env.update(DATABASE_URL=url, SECRET_KEY=secrets.token_hex(32), VILLAGE_SURVEY_CONFIG="development",
               LOGIN_RATE_LIMIT="1000 per minute", FLASK_APP="village_survey")
    env.pop("RATELIMIT_STORAGE_URI", None)
    return env


def flask_db_upgrade(url):
    result = subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=app_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed ({result.returncode}):\n{result.stdout[-2000:]}")


def seed(url, surveyors):
    """One county, a township with 300 villages (the surveyors' scope), and three more townships."""
    sys.path.insert(0, str(ROOT))
    from village_survey import create_app
    from village_survey.extensions import db
    from tests import factories

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        county = factories.make_county("360428", "都昌县")
        township = factories.make_township(county, "100", "基准镇")
        villages = [factories.make_village(township, f"{200 + i:03d}", f"基准{i + 1}村",
                                           registered=random.Random(i).randint(80, 400))
                    for i in range(300)]
        for t in range(3):
            other = factories.make_township(county, f"{101 + t}", f"邻{t + 1}镇")
            for v in range(5):
                factories.make_village(other, f"{200 + v}", f"邻{t + 1}镇{v + 1}村")
        for i in range(surveyors):
            factories.make_user(f"bench-surveyor-{i}", "surveyor", township=township, password=PASSWORD)
        db.session.commit()
        ids = [v.id for v in villages]
        db.session.remove()
        db.engine.dispose()
    return ids


def count_surveys(url):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM surveys")).scalar_one()
    finally:
        engine.dispose()


def _run_quiet(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def local_postgres():
    """(URL of the local server's postgres database, None) or (None, why not); as root, a stopped
    cluster is started and a role for the current user created, as .ci/run does."""
    if not shutil.which("pg_isready"):
        return None, "no PostgreSQL client tools (pg_isready) on this machine"
    if _run_quiet(["pg_isready", "-q", "-h", PG_SOCKET_DIR]).returncode != 0:
        if os.geteuid() != 0 or not shutil.which("pg_lsclusters"):
            return None, "no local PostgreSQL server answers (and not root to start one)"
        clusters = _run_quiet(["pg_lsclusters", "-h"]).stdout.split()
        if len(clusters) < 2:
            return None, "no local PostgreSQL cluster exists"
        _run_quiet(["pg_ctlcluster", clusters[0], clusters[1], "start"])
        for _ in range(30):
            if _run_quiet(["pg_isready", "-q", "-h", PG_SOCKET_DIR]).returncode == 0:
                break
            time.sleep(1)
        else:
            return None, "the local PostgreSQL cluster did not start"
    me = _run_quiet(["id", "-un"]).stdout.strip()
    if os.geteuid() == 0:
        has_role = _run_quiet(["su", "postgres", "-c", f"psql -tAc \"select 1 from pg_roles where rolname='{me}'\""])
        if "1" not in has_role.stdout:
            _run_quiet(["su", "postgres", "-c", f"createuser -s {me}"])
    return f"postgresql+psycopg:///postgres?host={PG_SOCKET_DIR}", None


def fresh_postgres(explicit_url, name=None):
    """A fresh, empty PostgreSQL database (named `name`, by default this benchmark's): (url, drop
    callback or None, skip reason or None)."""
    name = name or PG_BENCH_DB
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if explicit_url:
        engine = create_engine(explicit_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return explicit_url, None, None
    admin_url, reason = local_postgres()
    if admin_url is None:
        return None, None, reason
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as error:  # noqa: BLE001 - reported as the reason to skip PostgreSQL
        admin.dispose()
        return None, None, f"cannot create the database {name}: {error}"

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop, None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, url, workers, log_path, app_spec="village_survey:create_app()", extra_env=None, cwd=ROOT):
        self.port = free_port()
        from sqlalchemy.engine import make_url

        self.database = make_url(url).database if url.startswith("postgresql") else None
        env = app_env(url) | (extra_env or {})
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", app_spec],
            cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.log_path = log_path
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {log_path}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------------
# One measured setting: K client processes against a running server
# ---------------------------------------------------------------------------------------------

def _percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))]


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
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "statuses": {str(s): c for s, c in statuses.items()}, "errors": sum(bad.values()), "error_samples": samples,
    }
    used = {"app": cpu_after["server"] - cpu_before["server"],
            "postgres": cpu_after["postgres"] - cpu_before["postgres"],
            "clients": sum(p["cpu"] for p in parts), "machine": cpu_after["machine"] - cpu_before["machine"]}
    used["other"] = max(0.0, used["machine"] - used["app"] - used["postgres"] - used["clients"])
    summary["cpu_cores"] = {k: round(v / elapsed, 2) for k, v in used.items()}
    # CPU time per survey is what the throughput on an idle machine follows from.
    summary["cpu_ms_per_request"] = {k: round(used[k] / max(1, n) * 1000, 2)
                                     for k in ("app", "postgres", "clients")}
    # The rate the machine's cores would allow if nothing but this work ran and nothing waited.
    spent = used["app"] + used["postgres"] + used["clients"]
    summary["cpu_bound_ceiling_per_second"] = round(n * (os.cpu_count() or 1) / spent, 1) if spent else None
    return summary


def measure(server, clients, villages, usernames, year, tag, duration, replay_duration, count=None, warmup=2,
            quiet_wait=0.0, batch=1):
    ctx = mp.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go_ingest, go_replay = ctx.Event(), ctx.Event()
    start_time = ctx.Value("d", 0.0)
    today = dt.date.today().isoformat()
    procs = []
    for i in range(clients):
        per_client = None if count is None else count // clients + (1 if i < count % clients else 0)
        spec = {"host": "127.0.0.1", "port": server.port, "username": usernames[i % len(usernames)],
                "villages": villages, "year": year, "today": today, "tag": f"{tag}{i:02d}",
                "seed": zlib.crc32(f"{tag}-{i}".encode()), "warmup": warmup,
                "duration": duration if count is None else 24 * 3600, "count": per_client,
                "replay_duration": replay_duration, "batch": batch}
        proc = ctx.Process(target=client_process, args=(i, spec, ready, start_time, go_ingest, go_replay, results),
                           daemon=True)
        proc.start()
        procs.append(proc)
    try:
        for _ in range(clients):
            try:
                ready.get(timeout=120)
            except Exception:  # noqa: BLE001 - queue.Empty: a client failed to log in or warm up
                _raise_client_errors(results)
                raise RuntimeError("a client did not get ready within 120 s") from None
        outcome = {"warmup_created": clients * warmup * batch}
        for phase, event, expect in (("ingest", go_ingest, 201), ("replay", go_replay, 200)):
            if phase == "replay" and not replay_duration:
                break
            background = wait_until_quiet(quiet_wait) if quiet_wait else None
            start_time.value = time.monotonic() + 0.3
            before = cpu_snapshot(server.proc.pid, server.database)
            event.set()
            parts, progress, last_report = [], {}, (time.monotonic(), 0)
            while len(parts) < clients:
                kind, index, payload = results.get(timeout=duration + 300)
                if kind == "error":
                    raise RuntimeError(f"client {index} failed:\n{payload}")
                if kind == "progress":
                    progress[index] = payload
                    now, done = time.monotonic(), sum(progress.values())
                    if now - last_report[0] >= 30:
                        print(f"   ... {done} of {count} after {now - start_time.value:.0f} s, "
                              f"{(done - last_report[1]) / (now - last_report[0]):.0f}/s lately", flush=True)
                        last_report = (now, done)
                    continue
                parts.append(payload)
            after = cpu_snapshot(server.proc.pid, server.database)  # `before` was taken 0.3 s early: idle, negligible
            outcome[phase] = _phase_summary(parts, start_time.value, before, after, expect)
            outcome[phase]["background_cores_before"] = background
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

def machine_info():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "kernel": platform.release()}


def postgres_version(url):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()


DISTURBED_CORES = 0.15  # other processes using more than this during a phase skew its figures


def _disturbance(outcome):
    return max(outcome[phase]["cpu_cores"]["other"] for phase in ("ingest", "replay") if phase in outcome)


def run_backend(backend, url, args, workdir, report):
    print(f"\n== {backend}: {url.split('?')[0]} ==", flush=True)
    started = time.monotonic()
    flask_db_upgrade(url)
    surveyors = max(args.clients)
    villages = seed(url, surveyors)
    usernames = [f"bench-surveyor-{i}" for i in range(surveyors)]
    print(f"   migrated and seeded: 1 county, 300 villages in the surveyors' township, {surveyors} surveyors "
          f"({time.monotonic() - started:.1f} s)", flush=True)
    year = dt.date.today().year
    expected = 0
    failures = []
    setting = 0
    print(HEADER, flush=True)
    for workers in args.workers:
        server = Gunicorn(url, workers, workdir / f"gunicorn-{backend}-{workers}.log")
        try:
            for clients, batch in ((c, b) for c in args.clients for b in args.batch):
                outcome, tries = None, 0
                while tries <= args.retries:
                    tries += 1
                    setting += 1
                    measured = measure(server, clients, villages, usernames, year, f"{backend[0]}{setting}",
                                       args.duration, args.replay_duration, quiet_wait=args.quiet_wait,
                                       batch=batch)
                    expected += measured["created"]
                    if outcome is None or _disturbance(measured) < _disturbance(outcome):
                        outcome = measured
                    if _disturbance(outcome) <= DISTURBED_CORES:
                        break
                row = {"backend": backend, "workers": workers, "clients": clients, "batch": batch,
                       "tries": tries} | outcome
                report["results"].append(row)
                print_row(row)
                for phase in ("ingest", "replay"):
                    if phase in row and row[phase]["errors"]:
                        failures.append(f"{backend} w{workers} c{clients} b{batch} {phase}: {row[phase]['statuses']} "
                                        f"{row[phase]['error_samples']}")
        finally:
            server.stop()
    for batch in args.batch if args.season else ():
        workers, clients = args.workers[0], args.clients[0]
        server = Gunicorn(url, workers, workdir / f"gunicorn-{backend}-season-{batch}.log")
        try:
            print(f"   season: {args.season} new surveys, {workers} workers, {clients} clients, "
                  f"{batch} per request ...", flush=True)
            outcome = measure(server, clients, villages, usernames, year, f"{backend[0]}S{batch}", 0, 0,
                              count=args.season, warmup=0, quiet_wait=args.quiet_wait, batch=batch)
        finally:
            server.stop()
        expected += outcome["created"]
        row = {"backend": backend, "workers": workers, "clients": clients, "batch": batch,
               "season": args.season} | outcome
        report["season"].append(row)
        ingest = row["ingest"]
        print(f"   season: {ingest['surveys']} surveys in {ingest['seconds']:.1f} s = {ingest['per_second']:.0f}/s "
              f"(goal: {SEASON} in 180 s), p50 {ingest['p50_ms']:.0f} ms, p95 {ingest['p95_ms']:.0f} ms per "
              f"request, errors {ingest['errors']}; CPU ms/submission {ingest['cpu_ms_per_request']}, "
              f"cores used by others {ingest['cpu_cores']['other']}", flush=True)
        if ingest["errors"]:
            failures.append(f"{backend} season b{batch}: {ingest['statuses']} {ingest['error_samples']}")
    stored = count_surveys(url)
    report["stored"][backend] = {"expected": expected, "stored": stored}
    print(f"   surveys in the database: {stored} (answered 201: {expected})", flush=True)
    if stored != expected:
        failures.append(f"{backend}: {stored} surveys stored but {expected} were answered 201")
    return failures


HEADER = (f"   {'workers':>7} {'clients':>7} {'batch':>5} | {'ingest/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'err':>4} | "
          f"{'replay/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'err':>4} | CPU ms/submission: app   pg client"
          f" | cores used by others")


def print_row(row):
    ingest, replay = row["ingest"], row.get("replay")
    cells = f"{row['workers']:>10} {row['clients']:>7} {row.get('batch', 1):>5} | {ingest['per_second']:>8.1f} {ingest['p50_ms']:>7.1f} " \
            f"{ingest['p95_ms']:>7.1f} {ingest['errors']:>4} | "
    if replay:
        cells += f"{replay['per_second']:>8.1f} {replay['p50_ms']:>7.1f} {replay['p95_ms']:>7.1f} {replay['errors']:>4} | "
    ms = ingest["cpu_ms_per_request"]
    cells += f"{'':>18}{ms['app']:>5.1f} {ms['postgres']:>4.1f} {ms['clients']:>6.1f} | {_disturbance(row):.2f}"
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
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="before each phase, wait up to S seconds for other processes to leave the cores "
                             "idle (default 30, with --quick 5; 0: do not wait)")
    parser.add_argument("--retries", type=int, metavar="N",
                        help=f"measure a setting again (up to N times) if other processes used more than "
                             f"{DISTURBED_CORES} cores meanwhile, and keep the least disturbed figures "
                             f"(default 2, with --quick 0)")
    parser.add_argument("--json", type=Path, help="write the figures here too (default bench/out/ingest-*.json)")
    args = parser.parse_args(argv)
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
    return args


def _stop(signum, _frame):
    raise SystemExit(128 + signum)  # runs the clean-up: clients, gunicorn, the PostgreSQL database


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
                url, drop, reason = fresh_postgres(args.postgres)
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
    best = {}
    for row in report["results"]:
        key = (row["backend"], row["batch"])
        best[key] = max(best.get(key, 0), row["ingest"]["per_second"])
    for (backend, batch), rate in best.items():
        verdict = "meets" if rate >= GOAL_PER_SECOND else "misses"
        print(f"best {backend}, {batch} per request: {rate:.0f} submissions/s, {verdict} the goal of "
              f"{GOAL_PER_SECOND}/s ({SEASON} surveys in {SEASON / rate / 60:.1f} min)")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
