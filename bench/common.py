"""What the benchmarks in bench/ share: the machine's description, survey answers and a phone's
HTTP session, the app's server (gunicorn) and databases, timing and memory helpers.

Each benchmark script keeps only its own measure; everything here is plain helpers with no
figures of their own. Import it as `from bench import common` (scripts put the checkout on
sys.path first) or, from a script's own folder, `import common`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import math
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
import urllib.parse
import uuid as uuid_module
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"
PG_SOCKET_DIR = "/var/run/postgresql"
USER_AGENT = "village-survey-bench/1"
PHONE_ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium on a phone offers
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ram_gib() -> float | None:
    try:
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    except (OSError, StopIteration, ValueError):
        return None
    return round(kib / 2**20, 1)


def git_commit() -> str:
    """The checkout's short commit, "(with uncommitted changes)" if its tracked files differ."""
    def git(*args):
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return commit + (" (with uncommitted changes)" if dirty else "")


def load_average() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())


def machine_info(**extra) -> dict:
    """Cores, CPU, RAM, Python, SQLite, kernel, the date (UTC) and the load average, plus `extra`."""
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "ram_gib": ram_gib(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "kernel": platform.release(), "load_average": load_average(), **extra}


def machine_line(info: dict | None = None) -> str:
    """One line for a report: "<CPU>, N cores, R GiB RAM, Python x.y"."""
    info = info or machine_info()
    ram = f"{info['ram_gib']:.1f} GiB RAM" if info.get("ram_gib") else "RAM unknown"
    return f"{info['cpu']}, {info['nproc']} cores, {ram}, Python {info['python']}"


# ---------------------------------------------------------------------------------------------
# Time and memory
# ---------------------------------------------------------------------------------------------

def percentile(ordered, q, method="nearest"):
    """The q-quantile of sorted values (nan if none). The methods are those the scripts used
    before they shared this one, kept so that their figures stay comparable with earlier runs:
    "nearest" (nearest rank: ceil(n q)), "round" (index round(q (n - 1))), "floor" (rank int(n q))."""
    if not ordered:
        return float("nan")
    n = len(ordered)
    if method == "nearest":
        index = math.ceil(n * q) - 1
    elif method == "round":
        index = int(round(q * (n - 1)))
    elif method == "floor":
        index = int(n * q) - 1
    else:
        raise ValueError(f"unknown percentile method {method!r}")
    return ordered[min(n - 1, max(0, index))]


def latency_summary(seconds, method="nearest") -> dict:
    """count, mean, p50, p95, p99 and max (ms) of a list of durations in seconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0}
    return {"count": len(ordered), "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
            **{f"p{int(q * 100)}_ms": round(percentile(ordered, q, method) * 1000, 1) for q in (0.5, 0.95, 0.99)},
            "max_ms": round(ordered[-1] * 1000, 1)}


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def children_max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_out(name: str, text: str) -> Path:
    """Write a report into bench/out/ (not in git); its path."""
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Processes, from /proc: the server's workers, their memory and CPU, the machine's load
# ---------------------------------------------------------------------------------------------

def proc_stat(pid):
    """(command, parent pid, CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[1] is ppid; utime and stime are fields 14 and 15 of the whole line (11, 12 here).
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def all_procs():
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat:
                procs[int(entry)] = stat
    return procs


def children(pid):
    """The pids of a process's children."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def rss(pid):
    """Resident bytes of a process (0 if it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


def hwm(pid):
    """A process's peak resident bytes (VmHWM)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine_busy():
    """CPU seconds the whole machine spent busy so far (all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK


def background_load(seconds=1.0):
    """Cores busy while this benchmark does nothing: other work skews the figures."""
    before = machine_busy()
    time.sleep(seconds)
    return (machine_busy() - before) / seconds


def wait_until_quiet(max_wait, threshold=0.15):
    """Wait (at most max_wait seconds) until other processes leave the cores idle; the load seen last."""
    deadline = time.monotonic() + max_wait
    load = background_load(0.5)
    while load > threshold and time.monotonic() < deadline:
        load = background_load(0.5)
    return round(load, 2)


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
FUELS = (("lpg_kg", 0.5, 300), ("piped_gas_m3", 0.1, 600), ("coal_kg", 0.05, 1500),
         ("firewood_kg", 0.35, 4000), ("straw_kg", 0.1, 2000))


def pick(rng, weighted):
    codes, weights = zip(*weighted)
    return rng.choices(codes, weights)[0]


def _survey_day(rng, year, today):
    last_day = min(today, dt.date(year, 12, 31))
    return dt.date(year, 3, 1) + dt.timedelta(days=rng.randint(0, max(0, (last_day - dt.date(year, 3, 1)).days)))


def _energy_answers(rng, answers, today):
    """The consumption and the photovoltaics of one household, added to `answers`."""
    if rng.random() < 0.8:
        answers["electricity_kwh"] = rng.randint(400, 7500)
    else:
        answers["electricity_bill_yuan_month"] = rng.randint(30, 400)
    for key, chance, high in FUELS:
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


def survey_answers(rng: random.Random, year: int, today: dt.date) -> dict:
    """One household's answers: complete and valid for status "submitted", as a phone sends them."""
    survey_day = _survey_day(rng, year, today)
    primary = pick(rng, STOVES)
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
        "floor_area_m2": round(rng.uniform(50, 420), 1), "structure": pick(rng, STRUCTURES),
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
        "heating": pick(rng, HEATING), "hot_water": pick(rng, HOT_WATER),
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
    _energy_answers(rng, answers, today)
    return {k: v for k, v in answers.items() if v is not None}


class SurveyMaker:
    """New surveys of new households for one client: a UUID and a JSON body each."""

    def __init__(self, seed: int, tag: str, village_ids: list[int], year: int, today: dt.date):
        self.rng = random.Random(seed)
        self.tag, self.villages, self.year = tag, village_ids, year
        # Answers are drawn up front so that the timed loop only fills in the household.
        self.templates = [survey_answers(self.rng, year, today) for _ in range(200)]
        self.seq = 0

    def body(self) -> dict:
        self.seq += 1
        answers = dict(self.templates[self.seq % len(self.templates)])
        answers["house_number"] = f"{1 + self.seq % 12}组{self.tag}{self.seq:05d}号"
        return {"form_version": 1, "year": self.year, "status": "submitted",
                "village_id": self.villages[self.seq * 7919 % len(self.villages)], "answers": answers}

    def next(self) -> tuple[str, bytes]:
        body = self.body()
        return str(uuid_module.uuid4()), json.dumps(body, ensure_ascii=False).encode()


def small_jpeg(rng: random.Random, width=64, height=48, quality=70) -> bytes:
    """A small JPEG of noise (a phone's photo in miniature: a few kB)."""
    import io

    from PIL import Image

    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# A phone's session over http.client (cookies, CSRF)
# ---------------------------------------------------------------------------------------------

def decompress(data: bytes, encoding: str | None) -> bytes:
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


CSRF_INPUT = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Client:
    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def _headers(self, method, content_type, extra_headers):
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/html", **(extra_headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        if self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf
        return headers

    def _keep_cookies(self, response):
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                extra_headers: dict | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = self._headers(method, content_type, extra_headers)
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
        self._keep_cookies(response)
        if response.will_close:
            self.conn.close()
        return response.status, data, response

    def login(self, username: str, password: str = PASSWORD) -> None:
        status, page, _ = self.request("GET", "/login")
        match = CSRF_INPUT.search(page)
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
        status, data, response = self.request("POST", "/api/v1/surveys/batch", batch_body(unit), "application/json",
                                              {"Accept-Encoding": PHONE_ACCEPT_ENCODING})
        data = decompress(data, response.getheader("Content-Encoding"))
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


def batch_body(unit: list[tuple[str, bytes]]) -> bytes:
    """The body of POST /api/v1/surveys/batch from (uuid, a PUT's JSON body) pairs."""
    return b'{"surveys":[' + b",".join(b'{"uuid":"%s",' % u.encode() + b[1:] for u, b in unit) + b"]}"


# ---------------------------------------------------------------------------------------------
# The app: its environment, its commands, seeded data, in-process apps
# ---------------------------------------------------------------------------------------------

def app_env(url, **extra):
    env = dict(os.environ)
    env.update(DATABASE_URL=url, SECRET_KEY=secrets.token_hex(32), VILLAGE_SURVEY_CONFIG="development",
               LOGIN_RATE_LIMIT="1000 per minute", FLASK_APP="village_survey", **extra)
    env.pop("RATELIMIT_STORAGE_URI", None)
    return env


def flask(url, *command, env=None):
    """Run `flask <command>` against a database; its output, or RuntimeError if it fails."""
    result = subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env or app_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(command)} failed ({result.returncode}):\n{result.stdout[-2000:]}")
    return result.stdout


def flask_db_upgrade(url):
    flask(url, "db", "upgrade")


def app_for(url, config="testing", **settings):
    """The app in this process on a database (the scripts that use Flask's test client)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from village_survey import create_app

    return create_app(config, SQLALCHEMY_DATABASE_URI=url, **settings)


def seed(url, surveyors):
    """One county, a township with 300 villages (the surveyors' scope), and three more townships;
    `surveyors` accounts bench-surveyor-<n> (password PASSWORD). The ids of the 300 villages."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import factories
    from village_survey.extensions import db

    app = app_for(url, "development")
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


def core_insert(db, household_model, survey_model, household_rows, survey_rows):
    """Insert a batch of households and their surveys with Core, and empty the lists."""
    from sqlalchemy import insert

    if household_rows:
        db.session.execute(insert(household_model.__table__), household_rows)
        db.session.execute(insert(survey_model.__table__), survey_rows)
    household_rows.clear()
    survey_rows.clear()


def rows(url, sql, **params):
    """The rows of a query on a database (a short-lived engine)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def scalar(url, sql, **params):
    """One value from a database."""
    return rows(url, sql, **params)[0][0]


def count_surveys(url):
    return scalar(url, "SELECT count(*) FROM surveys")


def postgres_version(url):
    return scalar(url, "SHOW server_version")


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the local server, a fresh database of the benchmark's own
# ---------------------------------------------------------------------------------------------

def _run_quiet(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _start_local_cluster():
    """Start a stopped local cluster (as root); None, or why it could not."""
    if os.geteuid() != 0 or not shutil.which("pg_lsclusters"):
        return "no local PostgreSQL server answers (and not root to start one)"
    clusters = _run_quiet(["pg_lsclusters", "-h"]).stdout.split()
    if len(clusters) < 2:
        return "no local PostgreSQL cluster exists"
    _run_quiet(["pg_ctlcluster", clusters[0], clusters[1], "start"])
    for _ in range(30):
        if _run_quiet(["pg_isready", "-q", "-h", PG_SOCKET_DIR]).returncode == 0:
            return None
        time.sleep(1)
    return "the local PostgreSQL cluster did not start"


def local_postgres():
    """(URL of the local server's postgres database, None) or (None, why not); as root, a stopped
    cluster is started and a role for the current user created, as .ci/run does."""
    if not shutil.which("pg_isready"):
        return None, "no PostgreSQL client tools (pg_isready) on this machine"
    if _run_quiet(["pg_isready", "-q", "-h", PG_SOCKET_DIR]).returncode != 0:
        reason = _start_local_cluster()
        if reason:
            return None, reason
    me = _run_quiet(["id", "-un"]).stdout.strip()
    if os.geteuid() == 0:
        has_role = _run_quiet(["su", "postgres", "-c", f"psql -tAc \"select 1 from pg_roles where rolname='{me}'\""])
        if "1" not in has_role.stdout:
            _run_quiet(["su", "postgres", "-c", f"createuser -s {me}"])
    return f"postgresql+psycopg:///postgres?host={PG_SOCKET_DIR}", None


def fresh_postgres(explicit_url, name):
    """A fresh, empty PostgreSQL database: the explicit URL's with its public schema dropped and
    recreated, else `name` created on the local server. (url, drop callback or None, skip reason or None)."""
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


class PrivatePostgres:
    """A PostgreSQL server of the benchmark's own (not the machine's shared cluster, which other
    work uses): `initdb` into a temporary folder, started with `pg_ctl` on a free port, listening
    only on a Unix socket in that folder, trust authentication for the superuser `postgres`.
    As root the folder belongs to the `postgres` account and the tools run as it (initdb refuses
    root). restart() and stop()/start() are the faults a benchmark can inject; close() stops the
    server and removes the folder.

        with PrivatePostgres() as pg:
            url = pg.create_database("vs_bench")
            pg.restart("fast")
    """

    def __init__(self, bin_dir=None, port=None, settings=()):
        self.bin = Path(bin_dir or _postgres_bin_dir())
        self.root = Path(tempfile.mkdtemp(prefix="vs-pg-"))
        self.data, self.socket_dir, self.logfile = self.root / "data", self.root / "socket", self.root / "server.log"
        self.socket_dir.mkdir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self.port = port or free_port()
        self.settings = ["-c", "listen_addresses=", *settings]
        self.events = []
        result = self._tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                            "--locale=C.UTF-8", "--no-instructions")
        if result.returncode != 0:
            shutil.rmtree(self.root, ignore_errors=True)
            raise RuntimeError(f"initdb failed:\n{result.stdout[-2000:]}")
        self.start()

    def _tool(self, name, *args):
        cmd = [str(self.bin / name), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return _run_quiet(cmd, cwd=self.root)

    def _options(self):
        return " ".join(["-p", str(self.port), "-k", str(self.socket_dir), *(
            f"'{a}'" if a.endswith("=") else a for a in self.settings)])

    def start(self):
        result = self._tool("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                            "-o", self._options(), "start")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{result.stdout[-2000:]}\n{self.log_tail()}")

    def stop(self, mode="fast"):
        """Stop the server: "smart", "fast" (sessions ended, a checkpoint) or "immediate" (no
        checkpoint: crash recovery at the next start)."""
        self._tool("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode="fast", down_seconds=0.0):
        """Stop the server (`mode`) and start it again `down_seconds` later; the seconds it was
        not accepting connections (from the stop's start until it answers again)."""
        started = time.monotonic()
        if down_seconds:
            self.stop(mode)
            time.sleep(down_seconds)
            self.start()
        else:
            result = self._tool("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-m", mode, "-w",
                                "-t", "60", "-o", self._options(), "restart")
            if result.returncode != 0:
                raise RuntimeError(f"pg_ctl restart failed:\n{result.stdout[-2000:]}\n{self.log_tail()}")
        return time.monotonic() - started

    def ready(self):
        return _run_quiet([str(self.bin / "pg_isready"), "-q", "-U", "postgres", "-h", str(self.socket_dir),
                           "-p", str(self.port)]).returncode == 0

    def url(self, database="postgres"):
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name):
        """A new empty database on this server; its URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name}"))
        finally:
            admin.dispose()
        return self.url(name)

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self, pattern):
        """The server's log lines matching a regular expression (FATAL, ERROR, ...)."""
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if re.search(pattern, line)]

    def close(self, keep_log_to=None):
        if self.data.exists():
            self.stop("fast")
        if keep_log_to is not None and self.logfile.exists():
            shutil.copy(self.logfile, keep_log_to)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


def _postgres_bin_dir():
    """The newest /usr/lib/postgresql/<version>/bin with initdb, or the folder of pg_ctl on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    if not found:
        raise RuntimeError("no PostgreSQL server binaries (initdb) on this machine")
    return Path(found).parent


def database_for(backend, sqlite_path, postgres_url, name):
    """A fresh database for a backend ("sqlite" or "postgres"/"postgresql"): an SQLite file at
    `sqlite_path`, or fresh_postgres(postgres_url, name). (url, drop or None, skip reason or None)."""
    if backend == "sqlite":
        return f"sqlite:///{sqlite_path}", None, None
    return fresh_postgres(postgres_url, name)


# ---------------------------------------------------------------------------------------------
# gunicorn: a free port, start, readiness, stop (or kill)
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_health(port, timeout=5):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except OSError:
        return False


class Gunicorn:
    """`gunicorn -w N 'village_survey:create_app()'` on 127.0.0.1 and a free port (or `port`),
    started at once and ready when /healthz answers 200 (and, with wait_workers, when every
    worker is up). It runs in a session of its own: stop() ends it with SIGTERM, kill() with
    SIGKILL to the master and every worker at once; start() starts it again on the same port."""

    def __init__(self, url, workers, log_path, app_spec="village_survey:create_app()", extra_env=None, cwd=ROOT,
                 extra_args=(), port=None, wait_workers=False):
        from sqlalchemy.engine import make_url

        self.url, self.workers, self.log_path = url, workers, Path(log_path)
        self.app_spec, self.extra_env, self.cwd, self.extra_args = app_spec, extra_env or {}, cwd, list(extra_args)
        self.wait_workers = wait_workers
        # One environment (SECRET_KEY above all) for every start: a restarted server keeps its sessions.
        self.env = app_env(url) | self.extra_env
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database = make_url(url).database if url.startswith("postgresql") else None
        self.proc = self.log = None
        self.start()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", *self.extra_args,
             self.app_spec],
            cwd=self.cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            self._wait_ready(60)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            if answers_health(self.port) and (not self.wait_workers or len(self.worker_pids()) >= self.workers):
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not get ready within {seconds} s; see {self.log_path}")

    def worker_pids(self):
        return children(self.proc.pid)

    def pids(self):
        return [self.proc.pid] + self.worker_pids()

    def memory(self):
        """Summed resident bytes of the master and the workers."""
        return sum(rss(pid) for pid in self.pids())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not None:
            self.log.close()

    def kill(self):
        """SIGKILL to the master and its workers at once (a power cut of the server); the pids killed."""
        pids = self.pids()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for pid in pids[1:]:  # the workers: gone with the process group; wait until they are
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)
        self.log.close()
        return pids
