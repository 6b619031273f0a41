"""Benchmark: a survey season in Locust: surveyors syncing outboxes, reviewers, viewers, at once.

    .venv/bin/python bench/season.py [--quick] [--backends sqlite,postgres] [--postgres URL]
                                     [--surveyors 200] [--reviewers 5] [--viewers 2] [--rounds 3]
                                     [--duration 240] [--workers 2] [--json PATH]
                                     [--kill | --restart-postgres | --fill-disk | --soak SECONDS]

For each backend it builds a fresh database (an SQLite file in a temporary folder; on PostgreSQL
the database `vs_bench_season` on the local server, created and dropped, or the database of
--postgres URL, whose public schema is dropped): `flask db upgrade`, `flask seed-demo` (13
counties, ~45 townships, ~230 villages, ~8,000 households, this year's and last year's demo
surveys), then the benchmark's own accounts with Core inserts: --surveyors surveyors spread over
the townships, --reviewers reviewers of the first counties, --viewers viewers of the city. It
serves the app with `gunicorn -w --workers` (sync workers) and runs Locust (as a library,
`Environment` + `LocalRunner`, headless, in a child process: Locust's gevent patches stay out of
this one), each simulated person logged in through /login with the CSRF token of the form:

- a surveyor pulls what the field app pulls on opening (/api/v1/session, /api/v1/villages,
  /api/v1/todo, /api/v1/surveys), then --rounds times: fills an outbox of 1 to 30 new surveys
  (new households in its villages, status "submitted"), sends it as the field app's outbox.js
  does (POST /api/v1/surveys/batch, 10 surveys a request), uploads a small JPEG for most surveys
  (PUT /api/v1/surveys/<uuid>/photos/<uuid>, a second for some), pulls the changes
  (/api/v1/surveys?updated_since=<the last answer's server_time>, every page) and waits --think
  seconds (10 to 30);
- a reviewer opens the review queue (/review/), one waiting survey's page (/surveys/<uuid>) and
  approves it (nine times in ten) or returns it with a comment (POST /surveys/<uuid>/review with
  the page's CSRF token), 1 to 3 s apart;
- a viewer opens the dashboard (/) and the evaluation lists of counties, townships and villages,
  3 to 6 s apart.

The run stops by itself when every surveyor has done its rounds, or after --duration seconds.
A request that fails at the connection or answers 5xx is tried again (up to 8 times, 0.5 s to
4 s apart) as the field app's outbox would; every attempt counts in the figures. Figures: requests
a second and p50/p95/p99 per endpoint (exact, from every request), failures and their answers.
Then the COUNT, from the database and the photo folder: every survey a client was told was
stored (its uuid answered 201 or 200) is there exactly once, with one household; every photo
likewise, its file on disk with the right size and SHA-256 and its thumbnail; every approval or
return answered is in the survey's status; no file in the photo folder that no photo row names.

--kill: the fault run. Midway (at the first surveyor's second round or at a third of --duration)
the gunicorn master and its workers get SIGKILL at once, and the server is started again 2 s
later on the same port; the clients retry as above. The count must hold the same way (what was
acknowledged is there once; what was not may or may not be), and the photo folder must hold no
orphan and no half-written file.

--restart-postgres: PostgreSQL stopped midway and started again. Never the machine's shared
cluster: the run starts a PostgreSQL server of its own (common.PrivatePostgres: initdb into a
temporary folder, as the postgres account when root, a free port, a Unix socket only), and at the
signal stops it with `pg_ctl stop -m --restart-mode` (fast: sessions ended mid-transaction;
immediate: no checkpoint, crash recovery at the start), keeps it down --outage seconds and starts
it again. --fill-disk (SQLite, as root): the SQLite file and the photos on a tmpfs of --disk-mb;
at the signal a file fills it to the last byte, and --full-seconds later it is removed. In these
two the clients are as patient as the field app's outbox, which keeps a survey until the server
takes it: a request that got no answer or a 5xx is sent again for up to --patience seconds
(0.5 s, 1 s, ... 8 s apart). Every failed attempt is counted by status and the answer's `code`
(the app answers 503 storage_full / database_unavailable with Retry-After when it cannot store),
and whether it came while the fault lasted; the app's log is searched for unhandled errors.

--soak SECONDS: moderate load for that long (by default 30 surveyors syncing round after round,
20–40 s apart, 2 reviewers, 2 viewers), the resident memory of the gunicorn master and of each
worker sampled every --sample-every seconds; the report gives each one's growth from the first
sample after --warmup seconds to the last, and the batch's latency in each quarter of the run.

Goal: no failed request (--kill: none but while the server is down; --restart-postgres and
--fill-disk: none but no answer or the app's 503, never a 500, and in the end every survey
acknowledged), the COUNT exact, p95 of a batch of surveys ≤ 1 s; --soak: a worker's memory grows
≤ 10 % after the warm-up. --quick: 40 surveyors, 2 reviewers, 1 viewer, 1 round, 90 s at most.
The markdown section printed at the end is also written to bench/out/season.md (season-<fault>.md,
season-soak.md), the figures to bench/out/season-<time>.json.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--locust-child" in sys.argv:
    # Locust's gevent must patch the standard library before anything imports it.
    from gevent import monkey

    monkey.patch_all()

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    CLK_TCK, OUT, PASSWORD, Gunicorn, PrivatePostgres, app_for, database_for, flask, latency_summary, load_average,
    machine_busy, machine_info, machine_line, postgres_version, rows, rss, small_jpeg, survey_answers, write_out,
)

PG_DB = "vs_bench_season"
OUTBOX_BATCH = 10  # BATCH in static/js/app/outbox.js
GOAL_BATCH_P95_MS = 1000.0
GOAL_RSS_GROWTH_PCT = 10.0
RETRIES = 8
BACKOFF_CAP = 8.0  # seconds between two attempts at most when a fault run's clients are patient
THINK = {"reviewer": (1.0, 3.0), "viewer": (3.0, 6.0)}  # seconds between two tasks (surveyors: --think)


# ---------------------------------------------------------------------------------------------
# The accounts (in this process, before the server starts)
# ---------------------------------------------------------------------------------------------

def add_accounts(url, surveyors, reviewers, viewers):
    """The benchmark's accounts with one password hash (hashing 200 passwords would take a minute):
    surveyors round-robin over the townships, reviewers of the first counties, city viewers."""
    from sqlalchemy import insert, select

    from village_survey.accounts.models import User
    from village_survey.areas.models import County, Township
    from village_survey.extensions import db

    app = app_for(url, "development")
    with app.app_context():
        probe = User(username="probe", role="surveyor")
        probe.set_password(PASSWORD)
        townships = db.session.scalars(select(Township.id).order_by(Township.id)).all()
        counties = db.session.scalars(select(County.id).order_by(County.id)).all()
        rows = [{"username": f"season-surveyor-{i}", "role": "surveyor", "township_id": townships[i % len(townships)],
                 "county_id": None} for i in range(surveyors)]
        rows += [{"username": f"season-reviewer-{i}", "role": "reviewer", "county_id": counties[i % len(counties)],
                  "township_id": None} for i in range(reviewers)]
        rows += [{"username": f"season-viewer-{i}", "role": "viewer", "county_id": None, "township_id": None}
                 for i in range(viewers)]
        for row in rows:
            row.update(password_hash=probe.password_hash, session_token=os.urandom(16).hex(), active=True)
        db.session.execute(insert(User.__table__), rows)
        db.session.commit()
        db.engine.dispose()
    return {"surveyors": [r["username"] for r in rows if r["role"] == "surveyor"],
            "reviewers": [r["username"] for r in rows if r["role"] == "reviewer"],
            "viewers": [r["username"] for r in rows if r["role"] == "viewer"],
            "townships": len(townships)}


# ---------------------------------------------------------------------------------------------
# The Locust side (in the child process only: `import locust` patches the standard library)
# ---------------------------------------------------------------------------------------------

def failure(name, status, attempt, user, response):
    """A failed attempt as recorded: the endpoint, the status (0: no answer), the answer's `code`
    and Retry-After (the app's 503), the start of its text."""
    text = (response.text or "") if status else str(getattr(response, "error", ""))
    code = None
    if status and text.startswith("{"):
        try:
            code = json.loads(text).get("code")
        except ValueError:
            pass
    return {"name": name, "status": status, "attempt": attempt, "user": user, "at": time.time(), "code": code,
            "retry_after": response.headers.get("Retry-After") if status else None, "body": text[:300]}


def locust_classes(spec, record):
    """The three kinds of user, bound to the run's spec and to `record` (acknowledgements)."""
    from urllib.parse import urlencode

    from locust import between, task
    from locust.contrib.fasthttp import FastHttpUser
    from locust.exception import StopUser

    import gevent

    names = {kind: list(spec[kind]) for kind in ("surveyors", "reviewers", "viewers")}
    patience = spec.get("patience")  # seconds a request is tried again (fault runs), else RETRIES times
    photos = [bytes.fromhex(h) for h in spec["photos"]]
    today = dt.date.today()
    answers = [survey_answers(random.Random(n), today.year, today) for n in range(100)]

    class Person(FastHttpUser):
        abstract = True
        network_timeout = 120.0
        connection_timeout = 30.0
        kind = None

        def on_start(self):
            self.username = names[self.kind + "s"].pop()
            self.rng = random.Random(self.username)
            self.csrf = None
            self.login()

        def call(self, method, path, name=None, expect=(200,), **kwargs):
            """A request tried again after a connection failure or a 5xx (the outbox's retries),
            with a new CSRF token after a 400 csrf_expired and a new login after a 401 (as the
            field app does): the last response, or None if every attempt failed at the connection."""
            response, first, attempt = None, time.monotonic(), 0
            while attempt <= RETRIES or (patience and time.monotonic() - first < patience and attempt < 200):
                attempt += 1
                if self.csrf and "X-CSRFToken" in kwargs.get("headers", {}):
                    kwargs["headers"]["X-CSRFToken"] = self.csrf
                with self.client.request(method, path, name=name or path, catch_response=True, **kwargs) as response:
                    status = response.status_code
                    if status in expect and not self._sent_to_login(response, expect):
                        response.success()
                        return response
                    response.failure(f"HTTP {status}: {(response.text or '')[:200]}")
                record["failures"].append(failure(name or path, status, attempt - 1, self.username, response))
                if status == 401 or self._sent_to_login(response, expect):
                    self.login()  # the session ended (the field app asks to log in again)
                    continue
                if status == 400 and "csrf" in (response.text or ""):
                    self.fresh_token()
                    continue
                if status and status < 500:
                    return response  # a refusal: trying again would not change it
                gevent.sleep(min(BACKOFF_CAP if patience else 4.0, 0.5 * 2 ** (attempt - 1)))
            return response

        @staticmethod
        def _sent_to_login(response, expect):
            """A redirect to the login page where a redirect was the expected answer."""
            return response.status_code in (302, 303) and "/login" in (response.headers.get("Location") or "") \
                and 302 in expect

        def fresh_token(self):
            session = self.client.request("GET", "/api/v1/session", name="/api/v1/session")
            if session.status_code == 200:
                self.csrf = session.json()["csrf_token"]

        def headers(self, content_type=None):
            headers = {"X-CSRFToken": self.csrf} if self.csrf else {}
            if content_type:
                headers["Content-Type"] = content_type
            return headers

        def login(self):
            """Log in through the form (tried again while the server is down), then the session's token."""
            first, attempt = time.monotonic(), 0
            while attempt <= RETRIES or (patience and time.monotonic() - first < patience and attempt < 200):
                attempt += 1
                page = self.client.request("GET", "/login", name="/login")
                token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text or "")
                failed = page
                if token is not None:
                    form = urlencode({"username": self.username, "password": PASSWORD, "remember": "y",
                                      "csrf_token": token.group(1)})
                    failed = self.client.request("POST", "/login", name="/login", data=form, allow_redirects=False,
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                    if failed.status_code == 302 and "/login" not in (failed.headers.get("Location") or "/login"):
                        self.csrf = None
                        self.fresh_token()
                        if self.csrf:
                            return
                record["failures"].append(failure("POST /login" if token is not None else "GET /login",
                                                  failed.status_code, attempt - 1, self.username, failed))
                gevent.sleep(min(BACKOFF_CAP if patience else 4.0, 0.5 * 2 ** (attempt - 1)))
            raise StopUser()

    class Surveyor(Person):
        fixed_count = len(spec["surveyors"])
        kind = "surveyor"
        wait_time = between(*spec["think"])

        def on_start(self):
            super().on_start()
            self.rounds, self.seq, self.since = 0, 0, None
            villages = self.call("GET", "/api/v1/villages")
            self.villages = [v["id"] for v in villages.json()["villages"]]
            self.call("GET", "/api/v1/todo")
            self.pull()

        def pull(self):
            """The changes since the last pull, every page (the field app's pull)."""
            query = f"?updated_since={self.since}" if self.since else ""
            cursor, server_time = None, None
            while True:
                path = "/api/v1/surveys" + query + (("&" if query else "?") + f"cursor={cursor}" if cursor else "")
                answer = self.call("GET", path, name="/api/v1/surveys?updated_since=")
                if answer is None or answer.status_code != 200:
                    return
                body = answer.json()
                server_time = server_time or body["server_time"]
                cursor = body["next_cursor"]
                if not cursor:
                    break
            self.since = server_time

        def new_survey(self):
            self.seq += 1
            body = dict(answers[self.rng.randrange(len(answers))])
            body["house_number"] = f"{1 + self.seq % 12}组{spec['tag']}{self.username.rsplit('-', 1)[1]}-{self.seq}号"
            return {"uuid": str(self.rng_uuid()), "form_version": 1, "year": today.year, "status": "submitted",
                    "village_id": self.villages[self.seq % len(self.villages)], "answers": body}

        def rng_uuid(self):
            import uuid

            return uuid.UUID(int=self.rng.getrandbits(128), version=4)

        def send_outbox(self, outbox):
            """The outbox in batches of OUTBOX_BATCH; the uuids answered 201 or 200."""
            stored = []
            for start in range(0, len(outbox), OUTBOX_BATCH):
                unit = outbox[start:start + OUTBOX_BATCH]
                record["sent"].extend(s["uuid"] for s in unit)
                answer = self.call("POST", "/api/v1/surveys/batch", json={"surveys": unit},
                                   headers=self.headers("application/json"))
                if answer is None or answer.status_code != 200:
                    continue
                for result in answer.json()["results"]:
                    if result["status"] in (200, 201):
                        stored.append(result["uuid"])
                        record["surveys"].append(result["uuid"])
                    else:
                        record["refused"].append({"uuid": result["uuid"], "status": result["status"],
                                                  "body": json.dumps(result["body"])[:300]})
            return stored

        def send_photos(self, stored):
            for survey_uuid in stored:
                for kind in ("house", "roof")[:self.rng.choice((0, 1, 1, 1, 2))]:
                    photo_uuid = str(self.rng_uuid())
                    data = photos[self.rng.randrange(len(photos))]
                    record["photos_sent"].append(photo_uuid)
                    answer = self.call("PUT", f"/api/v1/surveys/{survey_uuid}/photos/{photo_uuid}?kind={kind}",
                                       name="/api/v1/surveys/[uuid]/photos/[uuid]", data=data,
                                       expect=(200, 201, 409), headers=self.headers("image/jpeg"))
                    if answer is not None and answer.status_code == 409:
                        # the app's refusal: a reviewer approved the survey meanwhile (the phone keeps it)
                        record["photos_refused"].append({"uuid": photo_uuid, "survey": survey_uuid,
                                                         "body": (answer.text or "")[:200]})
                    elif answer is not None and answer.status_code in (200, 201):
                        record["photos"].append({"uuid": photo_uuid, "survey": survey_uuid,
                                                 "sha256": hashlib.sha256(data).hexdigest()})

        @task
        def sync_round(self):
            if self.rounds >= spec["rounds"]:
                record["done"].add(self.username)
                raise StopUser()
            self.rounds += 1
            outbox = [self.new_survey() for _ in range(self.rng.randint(1, 30))]
            stored = self.send_outbox(outbox)
            self.send_photos(stored)
            self.pull()
            record["rounds"] += 1

    class Reviewer(Person):
        fixed_count = len(spec["reviewers"])
        kind = "reviewer"
        wait_time = between(*THINK["reviewer"])

        @task
        def review_one(self):
            queue = self.call("GET", "/review/")
            rows = re.findall(r'data-row="([0-9a-f-]{36})"(.*?)</li>', queue.text or "", re.S) if queue else []
            if not rows:
                return
            survey_uuid, row = self.rng.choice(rows[:10])
            page = self.call("GET", f"/surveys/{survey_uuid}", name="/surveys/[uuid]")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text or "") if page is not None else None
            if token is None:
                return
            # a survey without its house photo (yet) goes back, as would one in ten of the others
            action = "return" if 'data-flag="no_house_photo"' in row or self.rng.random() < 0.1 else "approve"
            comment = "" if action == "approve" else "请补拍房屋照片。"
            form = urlencode({"csrf_token": token.group(1), "action": action, "comment": comment})
            answer = self.call("POST", f"/surveys/{survey_uuid}/review", name="/surveys/[uuid]/review", data=form,
                               expect=(302, 303), allow_redirects=False,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            if answer is not None and answer.status_code in (302, 303):
                record["reviews"].append({"uuid": survey_uuid, "status": "approved" if action == "approve"
                                          else "returned"})

    class Viewer(Person):
        fixed_count = len(spec["viewers"])
        kind = "viewer"
        wait_time = between(*THINK["viewer"])

        @task
        def look(self):
            year = today.year
            self.call("GET", "/", name="/ (dashboard)")
            level = self.rng.choice(("county", "township", "village"))
            self.call("GET", f"/evaluations/?level={level}&year={year}", name=f"/evaluations/?level={level}")

    return [Surveyor, Reviewer, Viewer]


def run_locust(spec_path, out_path):
    """The child process: Locust headless until the surveyors are done or the time is up."""
    import gevent
    from locust import events
    from locust.env import Environment

    spec = json.loads(Path(spec_path).read_text())
    record = {"surveys": [], "photos": [], "reviews": [], "refused": [], "failures": [], "sent": [],
              "photos_refused": [], "photos_sent": [], "done": set(), "rounds": 0}
    timings = {}

    @events.request.add_listener
    def on_request(request_type, name, response_time, exception=None, **_kwargs):
        timings.setdefault(f"{request_type} {name}", []).append(
            (response_time / 1000, exception is None, time.monotonic() - started))

    classes = locust_classes(spec, record)
    env = Environment(user_classes=classes, host=spec["host"], events=events)
    runner = env.create_local_runner()
    users = sum(len(spec[k]) for k in ("surveyors", "reviewers", "viewers"))
    started = time.monotonic()
    runner.start(users, spawn_rate=spec["spawn_rate"])
    deadline = started + spec["duration"]
    ready_at = None
    while time.monotonic() < deadline and len(record["done"]) < len(spec["surveyors"]):
        if ready_at is None and spec.get("signal_after_rounds") and record["rounds"] >= spec["signal_after_rounds"]:
            ready_at = time.monotonic()
            print("SIGNAL rounds", flush=True)  # the parent kills the server now (--kill)
        gevent.sleep(0.5)
    elapsed = time.monotonic() - started
    print("FINISHED", flush=True)  # the parent reads the CPU used so far
    gevent.sleep(0.3)
    runner.quit()
    out = {"elapsed": elapsed, "timed_out": len(record["done"]) < len(spec["surveyors"]),
           "surveyors_done": len(record["done"]), "rounds": record["rounds"],
           "timings": {name: [[round(s, 5), ok, round(t, 1)] for s, ok, t in values]
                       for name, values in timings.items()},
           **{k: record[k] for k in ("surveys", "photos", "reviews", "refused", "failures", "sent",
                                     "photos_refused", "photos_sent")}}
    Path(out_path).write_text(json.dumps(out))


# ---------------------------------------------------------------------------------------------
# The count: what the clients were told was stored, against the database and the photo folder
# ---------------------------------------------------------------------------------------------

def count(url, photo_folder, result, tag):
    """Every acknowledged survey, photo and review in the database (and photo on disk) exactly once."""
    acked = result["surveys"]
    surveys = {u: (household, status) for u, household, status in rows(
        url, "SELECT s.uuid, s.household_id, s.status FROM surveys s JOIN households h ON h.id = s.household_id "
             "WHERE h.house_number LIKE :tag", tag=f"%{tag}%")}
    households = rows(url, "SELECT village_id, house_number, count(*) FROM households WHERE house_number LIKE :tag "
                            "GROUP BY village_id, house_number", tag=f"%{tag}%")
    photos = {u: (survey, sha, path, size) for u, survey, sha, path, size in rows(
        url, "SELECT p.uuid, s.uuid, p.sha256, p.path, p.size FROM photos p JOIN surveys s ON s.id = p.survey_id")}
    statuses = dict(rows(url, "SELECT uuid, status FROM surveys"))
    outcome = {
        "acknowledged_surveys": len(acked), "distinct_acknowledged": len(set(acked)),
        "missing_surveys": sorted(set(acked) - set(surveys))[:10],
        "stored_not_acknowledged": len(set(surveys) - set(acked)),
        # sent but never acknowledged (the answer lost, or retries given up): still on the phone
        "never_acknowledged": len(set(result["sent"]) - set(acked) - {r["uuid"] for r in result["refused"]}),
        "never_acknowledged_photos": len(set(result.get("photos_sent", ())) - {p["uuid"] for p in result["photos"]}
                                         - {p["uuid"] for p in result["photos_refused"]}),
        "stored_never_sent": sorted(set(surveys) - set(result["sent"]))[:10],
        "duplicate_households": [list(h) for h in households if h[2] > 1][:10],
        "households": len(households), "households_with_two_surveys":
            len(surveys) - len({household for household, _s in surveys.values()}),
    }
    outcome.update(_count_photos(photos, photo_folder, result["photos"]))
    wrong_reviews = [r for r in result["reviews"] if statuses.get(r["uuid"]) != r["status"]]
    outcome.update(acknowledged_reviews=len(result["reviews"]), wrong_reviews=wrong_reviews[:10])
    outcome["ok"] = not (outcome["missing_surveys"] or outcome["stored_never_sent"] or outcome["duplicate_households"]
                         or outcome["households_with_two_surveys"] or outcome["missing_photos"]
                         or outcome["bad_files"] or outcome["orphan_files"] or wrong_reviews
                         or outcome["distinct_acknowledged"] != outcome["acknowledged_surveys"]
                         or outcome["distinct_acknowledged_photos"] != outcome["acknowledged_photos"])
    return outcome


def _count_photos(photos, photo_folder, acked):
    missing, bad = [], []
    for photo in acked:
        row = photos.get(photo["uuid"])
        if row is None or row[0] != photo["survey"] or row[1] != photo["sha256"]:
            missing.append(photo["uuid"])
    named, acked_uuids, acked_bad = set(), {p["uuid"] for p in acked}, []
    for uuid, (_survey, sha, path, size) in photos.items():
        file = photo_folder / path
        thumb = file.with_suffix(".thumb.jpg")
        named.update({file, thumb})
        problem = None
        if not file.is_file() or file.stat().st_size != size or hashlib.sha256(file.read_bytes()).hexdigest() != sha:
            problem = "missing" if not file.is_file() else "wrong size or content"
        elif not thumb.is_file() or thumb.stat().st_size == 0:
            problem = "no thumbnail"
        if problem:
            bad.append(f"{path}: {problem}" + (" (acknowledged to the phone)" if uuid in acked_uuids else ""))
            acked_bad += [uuid] if uuid in acked_uuids else []
    on_disk = {p for p in photo_folder.rglob("*") if p.is_file()} if photo_folder.exists() else set()
    orphans = sorted(str(p.relative_to(photo_folder)) for p in on_disk - named)
    return {"acknowledged_photos": len(acked), "distinct_acknowledged_photos": len({p["uuid"] for p in acked}),
            "photo_rows": len(photos), "missing_photos": missing[:10], "bad_files": bad[:10],
            "bad_files_count": len(bad), "acknowledged_without_file": len(acked_bad),
            "orphan_files": orphans[:20], "orphan_count": len(orphans), "files_on_disk": len(on_disk)}


# ---------------------------------------------------------------------------------------------
# One backend: database, accounts, server, Locust, the count
# ---------------------------------------------------------------------------------------------

def small_jpegs(count_=12):
    """JPEGs of 10–41 kB, as a phone's photos shrunk before upload."""
    rng = random.Random(5)
    return [small_jpeg(rng, 160 + 16 * n, 120 + 12 * n, quality=60) for n in range(count_)]


class CpuMeter:
    """CPU seconds of the server (its process group, across restarts), of PostgreSQL, of the Locust
    process and of the whole machine, from /proc; cores used by each over a run."""

    def __init__(self):
        self.before = self.snapshot()
        self.groups, self.locust = set(), None

    @staticmethod
    def _stats():
        stats = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2:].split()
            stats[int(entry)] = (comm, int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
        return stats

    def snapshot(self):
        return self._stats(), machine_busy(), time.monotonic()

    def parties(self, stats, before):
        """CPU seconds each party used since `before`, process by process (what a process that
        ended used is lost: the workers killed by --kill, PostgreSQL backends that closed)."""
        used = {"server": 0.0, "postgres": 0.0, "locust": 0.0}
        for pid, (comm, ppid, group, cpu) in stats.items():
            party = ("server" if group in self.groups else "postgres" if comm.startswith("postgres")
                     else "locust" if self.locust in (pid, ppid) else None)
            if party:
                earlier = before.get(pid)
                used[party] += cpu - (earlier[3] if earlier and earlier[0] == comm else 0.0)
        return used

    def watch(self, server):
        self.groups.add(server.proc.pid)

    def cores(self, last):
        """Cores used by each party since the start; `last` the snapshot taken just before the
        Locust process ended (its own CPU is gone from /proc after)."""
        stats, busy, at = last
        seconds = at - self.before[2]
        used = self.parties(stats, self.before[0])
        used["machine"] = busy - self.before[1]
        used["other"] = max(0.0, used["machine"] - used["server"] - used["postgres"] - used["locust"])
        return {k: round(v / seconds, 2) for k, v in used.items()}


class Fault(threading.Thread):
    """A fault injected on the child's signal (or at a third of the time): `action(events)` runs
    it and appends what happened to `events`; `window` is its wall-clock start and end."""

    def __init__(self, action, at_seconds):
        super().__init__(daemon=True)
        self.action, self.at_seconds = action, at_seconds
        self.go, self.events, self.cancelled, self.window = threading.Event(), [], False, None
        self.error = None

    def run(self):
        self.go.wait(self.at_seconds)
        if self.cancelled:
            return
        began = time.time()
        try:
            self.action(self.events)
        except Exception as error:  # noqa: BLE001 - reported with the run
            self.error = repr(error)
            self.events.append(f"the fault failed: {error!r}")
        self.window = (began, time.time())


def kill_server(server, meter, url):
    """--kill: SIGKILL the gunicorn master and workers at once, start it again 2 s later (after
    `flask settle-photos`, as the README's deployment runs it at each start)."""
    def action(events):
        killed_at = time.monotonic()
        pids = server.kill()
        events.append(f"SIGKILL to gunicorn master and workers (pids {pids}) at {time.strftime('%H:%M:%S')}")
        time.sleep(2)
        try:
            settled = flask(url, "settle-photos", "--older-than", "0", env=server.env)
            events.append("flask settle-photos: " + settled.strip()[-200:])
        except RuntimeError as error:
            events.append(f"flask settle-photos failed: {str(error)[:300]}")
        server.start()
        if meter is not None:
            meter.watch(server)
        events.append(f"restarted and answering /healthz {time.monotonic() - killed_at:.1f} s after the kill")
    return action


def restart_postgres(pg, mode, down_seconds):
    """--restart-postgres: stop the run's own PostgreSQL server (`pg_ctl stop -m mode`: its
    sessions end mid-transaction), start it again `down_seconds` later (0: `pg_ctl restart`)."""
    def action(events):
        at = time.strftime("%H:%M:%S")
        seconds = pg.restart(mode, down_seconds)
        events.append(f"PostgreSQL stopped (pg_ctl -m {mode}) at {at} and accepting connections again "
                      f"{seconds:.1f} s later" + (f" (held down {down_seconds:g} s)" if down_seconds else
                                                   " (pg_ctl restart)"))
    return action


def fill_disk(folder, hold_seconds):
    """--fill-disk: write a file into the run's size-limited folder until the disk is full, keep it
    `hold_seconds`, remove it."""
    def action(events):
        path = Path(folder) / "filler.bin"
        chunk, written = b"\0" * 2**20, 0
        at = time.strftime("%H:%M:%S")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (2**20, 4096):  # megabytes, then what is left in pages
                while True:
                    try:
                        written += os.write(fd, chunk[:size])
                    except OSError:
                        break
            free = shutil.disk_usage(folder).free
            events.append(f"disk filled at {at} ({written / 2**20:.0f} MB written, {free} bytes left)")
            time.sleep(hold_seconds)
        finally:
            os.close(fd)
            path.unlink()
        events.append(f"freed at {time.strftime('%H:%M:%S')}, {hold_seconds:g} s later "
                      f"({shutil.disk_usage(folder).free / 2**20:.0f} MB free)")
    return action


class RssSampler(threading.Thread):
    """--soak: the resident memory of each gunicorn worker (and the master) every `every` seconds."""

    def __init__(self, server, every):
        super().__init__(daemon=True)
        self.server, self.every = server, every
        self.samples, self.stopped = [], threading.Event()  # (seconds since start, pid, role, bytes)
        self.started = time.monotonic()

    def sample(self):
        at = round(time.monotonic() - self.started, 1)
        self.samples.append((at, self.server.proc.pid, "master", rss(self.server.proc.pid)))
        for pid in self.server.worker_pids():
            self.samples.append((at, pid, "worker", rss(pid)))

    def run(self):
        while True:
            self.sample()
            if self.stopped.wait(self.every):
                self.sample()
                return

    def growth(self, warmup):
        """Per process: the first sample at or after `warmup` seconds, the last, the growth."""
        by_pid = {}
        for at, pid, role, size in self.samples:
            if size:
                by_pid.setdefault((role, pid), []).append((at, size))
        out = []
        for (role, pid), values in sorted(by_pid.items()):
            after = [v for v in values if v[0] >= warmup]
            if len(after) < 2:
                continue
            (t0, first), (t1, last) = after[0], after[-1]
            out.append({"role": role, "pid": pid, "from_s": t0, "to_s": t1, "first_mb": round(first / 2**20, 1),
                        "last_mb": round(last / 2**20, 1), "peak_mb": round(max(v[1] for v in after) / 2**20, 1),
                        "growth_pct": round(100 * (last - first) / first, 1), "samples": len(after)})
        return out


def run_child(spec, workdir, fault=None, meter=None):
    spec_path = workdir / "spec.json"
    out_path = workdir / "locust.json"
    spec_path.write_text(json.dumps(spec))
    child = subprocess.Popen([sys.executable, __file__, "--locust-child", str(spec_path), str(out_path)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    log = open(workdir / "locust.log", "w")
    last = None
    if meter is not None:
        meter.locust = child.pid
    try:
        for line in child.stdout:
            log.write(line)
            if line.startswith("SIGNAL") and fault is not None:
                fault.go.set()
            if line.startswith("FINISHED") and meter is not None:
                last = meter.snapshot()
    finally:
        log.close()
        if child.poll() is None and sys.exc_info()[0] is not None:
            child.terminate()  # this process is stopping: so does Locust
    if child.wait() != 0 or not out_path.exists():
        raise RuntimeError(f"the Locust process failed; see {workdir / 'locust.log'}:\n"
                           + (workdir / "locust.log").read_text()[-3000:])
    result = json.loads(out_path.read_text())
    if meter is not None:
        result["cores"] = meter.cores(last or meter.snapshot())
    return result


def endpoint_figures(result):
    rows = {}
    elapsed = result["elapsed"]
    for name, values in sorted(result["timings"].items()):
        seconds = [v[0] for v in values]
        rows[name] = latency_summary(seconds) | {"failures": sum(1 for v in values if not v[1]),
                                                 "per_second": round(len(values) / elapsed, 2)}
    return rows


def small_disk(folder, size_mb):
    """--fill-disk: a tmpfs of `size_mb` at `folder` for the SQLite file and the photos.
    (url, unmount, None) or (None, None, why not)."""
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return None, None, f"mount -t tmpfs not permitted here: {result.stderr.strip()[:200]}"

    def unmount():
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
    return f"sqlite:///{folder / 'season.db'}", unmount, None


def fault_kind(args):
    return ("kill" if args.kill else "restart-postgres" if args.restart_postgres
            else "fill-disk" if args.fill_disk else None)


def run_backend(backend, url, args, workdir, tag, pg=None, photo_folder=None):
    print(f"\n== {backend} ==", flush=True)
    started = time.monotonic()
    flask(url, "db", "upgrade")
    flask(url, "seed-demo")
    accounts = add_accounts(url, args.surveyors, args.reviewers, args.viewers)
    print(f"   migrated, demo data and {args.surveyors + args.reviewers + args.viewers} accounts "
          f"({time.monotonic() - started:.0f} s)", flush=True)
    photo_folder = photo_folder or workdir / f"photos-{backend}"
    # 200 people log in from 127.0.0.1 at once: not an attack, no address limit
    env = {"PHOTO_FOLDER": str(photo_folder), "LOGIN_ADDRESS_RATE_LIMIT": "100000 per minute"}
    log_path = workdir / f"gunicorn-{backend}.log"
    server = Gunicorn(url, args.workers, log_path, extra_env=env, wait_workers=True)
    kind = fault_kind(args)
    spec = {"host": server.base, "tag": tag, "rounds": args.rounds, "duration": args.duration, "think": args.think,
            "spawn_rate": args.spawn_rate, "photos": [p.hex() for p in small_jpegs()],
            "signal_after_rounds": max(1, args.surveyors * args.rounds // 3) if kind else None,
            "patience": args.patience if kind in ("restart-postgres", "fill-disk") else None, **accounts}
    meter = CpuMeter()
    meter.watch(server)
    action = {"kill": lambda: kill_server(server, meter, url),
              "restart-postgres": lambda: restart_postgres(pg, args.restart_mode, args.outage),
              "fill-disk": lambda: fill_disk(photo_folder.parent, args.full_seconds)}.get(kind)
    fault = Fault(action(), args.duration / 3) if action else None
    sampler = RssSampler(server, args.sample_every) if args.soak else None
    load_before = load_average()
    try:
        if fault:
            fault.start()
        if sampler:
            sampler.start()
        result = run_child(spec, workdir, fault, meter)
        if fault:
            fault.cancelled = True  # the run ended before the fault began: none
            fault.go.set()
            fault.join(300)
        if sampler:
            sampler.stopped.set()
            sampler.join(60)
    finally:
        server.stop()
    load_after = load_average()
    figures = endpoint_figures(result)
    counted = count(url, photo_folder, result, tag)
    row = {"backend": backend, "elapsed": round(result["elapsed"], 1), "timed_out": result["timed_out"],
           "surveyors_done": result["surveyors_done"], "rounds": result["rounds"], "endpoints": figures,
           "requests": sum(f["count"] for f in figures.values()),
           "failures": len(result["failures"]), "failure_samples": result["failures"][:8],
           "failure_samples_all": result["failures"],
           "refused": result["refused"][:8], "refused_count": len(result["refused"]),
           "photos_refused": len(result["photos_refused"]),
           "count": counted, "load_before": load_before, "load_after": load_after, "cores": result["cores"],
           "fault": kind, "kill": fault.events if fault else None,
           "fault_window": fault.window if fault else None,
           "failure_kinds": failure_kinds(result["failures"], fault.window if fault else None),
           "server_errors": _server_errors(log_path),
           "server_log": _log_counts(log_path)}
    if pg is not None:
        row["postgres_log"] = {"FATAL": len(pg.log_lines(r"\bFATAL\b")), "ERROR": len(pg.log_lines(r"\bERROR\b")),
                               "samples": [line[-200:] for line in pg.log_lines(r"\b(FATAL|PANIC)\b")][:6]}
    if sampler:
        row["rss"] = {"every_s": args.sample_every, "warmup_s": args.warmup, "samples": sampler.samples,
                      "growth": sampler.growth(args.warmup)}
        row["windows"] = batch_windows(result, args.soak)
    print_backend(row)
    return row


def failure_kinds(failures, window, margin=5.0):
    """Failed attempts counted by status and the answer's code, and how many of each came while
    the fault lasted (from its start to `margin` seconds after its end)."""
    kinds = {}
    for f in failures:
        key = f"{f['status'] or 'no answer'}" + (f" {f['code']}" if f.get("code") else " (an HTML page)"
                                                  if f["status"] and not f["body"].startswith("{") else "")
        entry = kinds.setdefault(key, {"count": 0, "during_fault": 0, "retry_after": 0, "endpoints": {}})
        entry["count"] += 1
        entry["retry_after"] += 1 if f.get("retry_after") else 0
        entry["endpoints"][f["name"]] = entry["endpoints"].get(f["name"], 0) + 1
        if window and window[0] <= f["at"] <= window[1] + margin:
            entry["during_fault"] += 1
    return kinds


def batch_windows(result, seconds, parts=4):
    """--soak: the batch's p50/p95 in each quarter of the run (does it slow down with time?)."""
    values = result["timings"].get(BATCH, [])
    out = []
    for i in range(parts):
        lo, hi = seconds * i / parts, seconds * (i + 1) / parts
        part = sorted(v[0] for v in values if lo <= v[2] < hi)
        summary = latency_summary(part)
        out.append({"from_s": round(lo), "to_s": round(hi), "count": summary["count"],
                    "p50_ms": summary.get("p50_ms"), "p95_ms": summary.get("p95_ms")})
    return out


def _log_counts(log_path):
    """What the app logged: 503s for want of storage (by code), unhandled errors (500s)."""
    text = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
    cannot = re.findall(r"Cannot store on (\S+) \((\w+)\)", text)
    by_code = {}
    for _path, code in cannot:
        by_code[code] = by_code.get(code, 0) + 1
    # the app's own 500 ("Unhandled error on"), and gunicorn's when the app's error handler itself failed
    unhandled = re.findall(r"Unhandled error on \S+|Error handling request \S+ \S+", text)
    return {"cannot_store": by_code, "unhandled": len(unhandled), "unhandled_samples": unhandled[:5],
            "tracebacks": text.count("Traceback (most recent call last)")}


def _server_errors(log_path):
    """Tracebacks and worker timeouts in the server's log."""
    text = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
    found = [block.strip()[-1500:] for block in re.split(r"\n(?=\[)", text)
             if "Traceback" in block or "WORKER TIMEOUT" in block or "Error" in block]
    return found[:5]


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

BATCH = "POST /api/v1/surveys/batch"


def batch_p95(row):
    return row["endpoints"].get(BATCH, {}).get("p95_ms", float("nan"))


def allowed_failure(f, fault):
    """A failed attempt the fault explains: with --kill no answer or a 5xx (the server down); with
    --restart-postgres and --fill-disk no answer or the app's 503 (never a 500)."""
    status = f["status"] or 0
    if fault == "kill":
        return status == 0 or status >= 500
    if fault in ("restart-postgres", "fill-disk"):
        # the API's 503 says why in its code; a page's 503 (a reviewer's form) is the error page
        return status == 0 or (status == 503 and f.get("retry_after") is not None and (
            f.get("code") in ("database_unavailable", "storage_full") or f.get("code") is None))
    return False


def verdict(row, kill):
    """(goal met, the reasons it is not); `kill` is the run's fault (kill, restart-postgres,
    fill-disk) or None."""
    reasons = []
    fault = row.get("fault") or ("kill" if kill else None)
    failed = [f for f in row["failure_samples_all"] if not allowed_failure(f, fault)]
    if failed:
        statuses = sorted({str(f["status"] or "no answer") for f in failed})
        reasons.append(f"{len(failed)} failed requests ({', '.join(statuses)})"
                       + (" not explained by the fault" if fault else ""))
    if fault and row["count"].get("never_acknowledged"):
        reasons.append(f"{row['count']['never_acknowledged']} surveys never acknowledged (still on the phones)")
    unhandled = row.get("server_log", {}).get("unhandled")
    if unhandled:
        reasons.append(f"{unhandled} unhandled errors in the server's log")
    growth = [g for g in row.get("rss", {}).get("growth", ()) if g["role"] == "worker"]
    if growth and max(g["growth_pct"] for g in growth) > GOAL_RSS_GROWTH_PCT:
        reasons.append(f"a worker's memory grew {max(g['growth_pct'] for g in growth):.1f} % "
                       f"> {GOAL_RSS_GROWTH_PCT:.0f} %")
    if row["refused_count"]:
        reasons.append(f"{row['refused_count']} surveys refused in batches")
    if not row["count"]["ok"]:
        reasons.append("the count does not hold")
    if not fault and not batch_p95(row) <= GOAL_BATCH_P95_MS:
        reasons.append(f"p95 of a batch {batch_p95(row):.0f} ms > {GOAL_BATCH_P95_MS:.0f} ms")
    if row["timed_out"] and "rss" not in row:
        reasons.append(f"only {row['surveyors_done']} surveyors finished within the time")
    return not reasons, reasons


def print_backend(row):
    print(f"   {row['requests']} requests in {row['elapsed']:.0f} s ({row['requests'] / row['elapsed']:.1f}/s), "
          f"failed {row['failures']}, surveys refused {row['refused_count']}, photos refused (survey approved "
          f"meanwhile) {row['photos_refused']}; load {row['load_before']} → {row['load_after']}; cores used "
          f"{row['cores']}", flush=True)
    for name, f in row["endpoints"].items():
        print(f"   {name:48} {f['count']:6} {f['per_second']:7.2f}/s  p50 {f['p50_ms']:7.0f}  p95 {f['p95_ms']:7.0f}  "
              f"p99 {f['p99_ms']:7.0f} ms  failed {f['failures']}", flush=True)
    c = row["count"]
    print(f"   COUNT: {c['distinct_acknowledged']} surveys acknowledged, missing {len(c['missing_surveys'])}, "
          f"duplicate households {len(c['duplicate_households'])}, stored but not acknowledged "
          f"{c['stored_not_acknowledged']}; photos acknowledged {c['distinct_acknowledged_photos']}, missing "
          f"{len(c['missing_photos'])}, rows without their file {c['bad_files_count']} (acknowledged "
          f"{c['acknowledged_without_file']}), orphan files {c['orphan_count']}; "
          f"reviews {c['acknowledged_reviews']}, wrong {len(c['wrong_reviews'])}: {'OK' if c['ok'] else 'FAIL'}",
          flush=True)
    print(f"   never acknowledged (still on the phones): {c['never_acknowledged']} surveys, "
          f"{c['never_acknowledged_photos']} photos", flush=True)
    for event in row["kill"] or ():
        print(f"   fault: {event}", flush=True)
    for key, entry in row["failure_kinds"].items():
        print(f"   failed attempts {key}: {entry['count']} ({entry['during_fault']} during the fault, "
              f"Retry-After on {entry['retry_after']}): {entry['endpoints']}", flush=True)
    print(f"   server log: {row['server_log']}", flush=True)
    if row.get("postgres_log"):
        print(f"   PostgreSQL log: {row['postgres_log']}", flush=True)
    for g in row.get("rss", {}).get("growth", ()):
        print(f"   RSS {g['role']} {g['pid']}: {g['first_mb']} MB at {g['from_s']:.0f} s → {g['last_mb']} MB at "
              f"{g['to_s']:.0f} s ({g['growth_pct']:+.1f} %), peak {g['peak_mb']} MB", flush=True)
    for w in row.get("windows", ()):
        print(f"   batch {w['from_s']}–{w['to_s']} s: {w['count']} p50 {w['p50_ms']} p95 {w['p95_ms']} ms", flush=True)


def markdown(report):
    m, s = report["machine"], report["settings"]
    fault = s.get("fault")
    title = {"kill": " — kill the server", "restart-postgres": " — restart PostgreSQL",
             "fill-disk": " — SQLite's disk full"}.get(fault, " — soak" if s.get("soak") else "")
    lines = [f"### Survey season (Locust){title}", "",
             f"`bench/season.py {' '.join(s.get('argv') or [])}` on {m['date']}: "
             f"{machine_line(m)}, SQLite {m['sqlite']}" + (f", PostgreSQL {m['postgres']}" if m.get("postgres") else "")
             + f", Locust {m['locust']}, commit {m['commit']}. Load average {m['load_average'][0]:.1f} when it "
             "started: the 2 cores were shared with other work (the Locust process itself, gunicorn, PostgreSQL "
             "and other agents' jobs).", "",
             f"gunicorn with {s['workers']} sync workers; {s['surveyors']} surveyors (each "
             + ("sync rounds until the time is up" if s.get("soak") else f"{s['rounds']} sync round(s)")
             + f" of 1–30 surveys in batches of {OUTBOX_BATCH}, photos, pull; {s['think'][0]:g}–{s['think'][1]:g} s "
             f"apart), {s['reviewers']} "
             f"reviewers (queue, survey page, approve or return), {s['viewers']} viewers (dashboard, evaluation "
             f"lists); demo data plus the accounts; at most {s['duration']:.0f} s.", ""]
    for row in report["runs"]:
        lines += _backend_markdown(row, fault)
    for backend, reason in report["skipped"].items():
        lines.append(f"- {backend}: skipped ({reason}).")
    return "\n".join(lines) + "\n"


def _backend_markdown(row, fault):
    ok, reasons = verdict(row, fault)
    c = row["count"]
    goal = {"kill": "no failure but while the server was down, count exact",
            "restart-postgres": "no failure but no answer or 503 database_unavailable, no 500, every survey "
                                "acknowledged in the end, count exact",
            "fill-disk": "no failure but no answer or 503 storage_full, no 500, every survey acknowledged in the "
                         "end, count exact"}.get(fault) or (
        f"no error, count exact, worker memory growth ≤ {GOAL_RSS_GROWTH_PCT:.0f} % after warm-up" if "rss" in row
        else f"no error, count exact, p95 of a batch ≤ {GOAL_BATCH_P95_MS:.0f} ms")
    lines = [f"**{row['backend']}**: {row['requests']:,} requests in {row['elapsed']:.0f} s "
             f"({row['requests'] / row['elapsed']:.1f} requests/s), {c['distinct_acknowledged']:,} surveys and "
             f"{c['distinct_acknowledged_photos']:,} photos stored ({c['distinct_acknowledged'] / row['elapsed']:.1f} "
             f"surveys/s), {c['acknowledged_reviews']} reviews; failed requests {row['failures']}, surveys refused "
             f"{row['refused_count']}, photos refused because a reviewer had approved the survey meanwhile "
             f"{row['photos_refused']}; load average {row['load_before'][0]:.1f} before, {row['load_after'][0]:.1f} "
             f"after; cores used: gunicorn {row['cores']['server']:.2f}, PostgreSQL {row['cores']['postgres']:.2f}, "
             f"Locust {row['cores']['locust']:.2f}, other processes {row['cores']['other']:.2f} (of 2). Goal ({goal}): "
             + ("**met**" if ok else "**missed**: " + "; ".join(reasons)) + ".", "",
             "| endpoint | requests | per s | p50 ms | p95 ms | p99 ms | max ms | failed |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, f in row["endpoints"].items():
        lines.append(f"| `{name}` | {f['count']:,} | {f['per_second']:.2f} | {f['p50_ms']:.0f} | {f['p95_ms']:.0f} | "
                     f"{f['p99_ms']:.0f} | {f['max_ms']:.0f} | {f['failures']} |")
    lines += ["", f"COUNT ({'OK' if c['ok'] else '**FAIL**'}): {c['distinct_acknowledged']:,} surveys acknowledged "
              f"(201/200), all in the database: {'yes' if not c['missing_surveys'] else 'no, missing ' + str(c['missing_surveys'])}; "
              f"each once with one household: {'yes' if not (c['duplicate_households'] or c['households_with_two_surveys']) else 'no'}; "
              f"stored but never acknowledged (sent, answer lost): {c['stored_not_acknowledged']}; "
              f"{c['distinct_acknowledged_photos']:,} photos acknowledged, in the database: "
              f"{'yes' if not c['missing_photos'] else 'no, missing ' + str(c['missing_photos'])}; photo rows with "
              f"their file (size, SHA-256) and thumbnail: "
              + ("all; " if not c["bad_files"] else f"not {c['bad_files_count']}: {'; '.join(c['bad_files'][:3])} "
                 f"({c['acknowledged_without_file']} of them acknowledged to the phone); ")
              + f"files in the photo folder no row names: {c['orphan_count']}"
              + (f" ({', '.join(c['orphan_files'][:5])})" if c["orphan_files"] else "")
              + f"; approvals and returns answered: {c['acknowledged_reviews']}, in the survey's status: "
              f"{'all' if not c['wrong_reviews'] else 'not ' + str(c['wrong_reviews'])}.", ""]
    lines += [f"Sent but never acknowledged (still on the phones): {c['never_acknowledged']} surveys, "
              f"{c['never_acknowledged_photos']} photos.", ""]
    if row["kill"]:
        lines += ["Fault: " + "; ".join(row["kill"]) + ".", ""]
    if row.get("failure_kinds"):
        lines += ["| failed attempts (status, code) | count | during the fault (+5 s) | with Retry-After | endpoints |",
                  "|---|---:|---:|---:|---|"]
        for key, e in row["failure_kinds"].items():
            endpoints = ", ".join(f"`{n}` {k}" for n, k in sorted(e["endpoints"].items(), key=lambda x: -x[1]))
            lines.append(f"| {key} | {e['count']} | {e['during_fault']} | {e['retry_after']} | {endpoints} |")
        lines.append("")
    log = row.get("server_log") or {}
    if log:
        lines += [f"Server log: 503s logged as cannot store {log['cannot_store'] or 'none'}; unhandled errors "
                  f"(500) {log['unhandled']}" + (f" ({', '.join(log['unhandled_samples'])})" if log["unhandled"]
                                                 else "") + f"; tracebacks {log['tracebacks']}.", ""]
    if row.get("postgres_log"):
        pl = row["postgres_log"]
        lines += [f"PostgreSQL's log: {pl['FATAL']} FATAL, {pl['ERROR']} ERROR lines"
                  + (f" (first: {' / '.join(pl['samples'][:3])})" if pl["samples"] else "") + ".", ""]
    if row.get("rss"):
        r = row["rss"]
        lines += [f"Resident memory sampled every {r['every_s']:g} s; growth from the first sample after "
                  f"{r['warmup_s']:g} s of warm-up to the last:", "",
                  "| process | pid | first MB (at s) | last MB (at s) | peak MB | growth |", "|---|---:|---:|---:|---:|---:|"]
        for g in r["growth"]:
            lines.append(f"| {g['role']} | {g['pid']} | {g['first_mb']} ({g['from_s']:.0f}) | {g['last_mb']} "
                         f"({g['to_s']:.0f}) | {g['peak_mb']} | {g['growth_pct']:+.1f} % |")
        lines.append("")
    if row.get("windows"):
        lines += ["Batch latency by quarter of the run: " + "; ".join(
            f"{w['from_s']}–{w['to_s']} s: {w['count']} batches, p50 {w['p50_ms']} / p95 {w['p95_ms']} ms"
            for w in row["windows"]) + ".", ""]
    if row["failure_samples"]:
        lines += ["Failed requests (first): " + "; ".join(
            f"{f['name']} {f['status'] or 'connection'}: {f['body'][:120]}" for f in row["failure_samples"][:4]), ""]
    if row["server_errors"]:
        lines += ["Server log: " + " / ".join(e.splitlines()[-1][:200] for e in row["server_errors"][:3]), ""]
    return lines


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="40 surveyors, 2 reviewers, 1 viewer, 1 round, 90 s")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL database (its schema is wiped)")
    parser.add_argument("--surveyors", type=int, help="simulated surveyors (default 200)")
    parser.add_argument("--reviewers", type=int, help="simulated reviewers (default 5)")
    parser.add_argument("--viewers", type=int, help="simulated viewers (default 2)")
    parser.add_argument("--rounds", type=int, help="sync rounds of each surveyor (default 3)")
    parser.add_argument("--duration", type=float, help="seconds at most of each backend's run (default 600)")
    parser.add_argument("--think", metavar="MIN,MAX",
                        help="seconds a surveyor waits between two sync rounds (default 10,30)")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started a second (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the server midway and restart it")
    parser.add_argument("--restart-postgres", action="store_true",
                        help="PostgreSQL only, on a private server of the run's own: stop it midway and start it again")
    parser.add_argument("--restart-mode", choices=("fast", "immediate"), default="fast",
                        help="pg_ctl's shutdown mode for --restart-postgres (default fast)")
    parser.add_argument("--outage", type=float, default=5.0,
                        help="seconds PostgreSQL stays down (--restart-postgres; 0: pg_ctl restart; default 5)")
    parser.add_argument("--fill-disk", action="store_true",
                        help="SQLite only: the database and photos on a size-limited tmpfs (root), filled midway "
                             "and freed --full-seconds later")
    parser.add_argument("--disk-mb", type=int, default=200, help="the tmpfs's size for --fill-disk (default 200)")
    parser.add_argument("--full-seconds", type=float, default=20.0, help="how long the disk stays full (default 20)")
    parser.add_argument("--patience", type=float, default=180.0,
                        help="with --restart-postgres/--fill-disk: seconds a client keeps sending a request that "
                             "got no answer or a 5xx, as the outbox keeps its surveys (default 180)")
    parser.add_argument("--soak", type=float, metavar="SECONDS",
                        help="moderate load for SECONDS (30 surveyors syncing again and again, 20–40 s apart, "
                             "2 reviewers, 2 viewers, unless given), each worker's RSS sampled")
    parser.add_argument("--sample-every", type=float, default=30.0, help="--soak: seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=120.0,
                        help="--soak: seconds before the first sample the growth is measured from (default 120)")
    parser.add_argument("--json", type=Path, help="where to write the figures (default bench/out/season-*.json)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    parser.add_argument("--locust-child", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    quick, soak = args.quick, args.soak
    if sum(map(bool, (args.kill, args.restart_postgres, args.fill_disk))) > 1:
        parser.error("one fault at a time: --kill, --restart-postgres or --fill-disk")
    if args.restart_postgres:
        args.backends = "postgres"
    if args.fill_disk:
        args.backends = "sqlite"
        if os.geteuid() != 0:
            parser.error("--fill-disk mounts a tmpfs: run it as root")
    args.surveyors = args.surveyors or (40 if quick else 30 if soak else 200)
    args.reviewers = args.reviewers or (2 if quick or soak else 5)
    args.viewers = args.viewers or (1 if quick else 2)
    args.rounds = args.rounds or (1 if quick else 10**6 if soak else 3)
    args.duration = soak or args.duration or (90.0 if quick else 600.0)
    args.think = [float(x) for x in (args.think or ("20,40" if soak else "10,30")).split(",")]
    if len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1]:
        parser.error("--think MIN,MAX: two numbers of seconds, MIN ≤ MAX")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"sqlite", "postgres"}:
        parser.error("--backends: sqlite, postgres")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.locust_child:
        run_locust(*args.locust_child)
        return 0
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    from importlib.metadata import version

    from bench.common import git_commit

    info = machine_info(locust=version("locust"), commit=git_commit())
    print(f"season benchmark: {machine_line(info)}, load average {info['load_average']}; {args.surveyors} surveyors, "
          f"{args.reviewers} reviewers, {args.viewers} viewers, {args.rounds} round(s), {args.workers} workers"
          + (", kill midway" if args.kill else ""), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="vs-season-"))
    report = {"machine": info, "settings": {k: getattr(args, k) for k in (
        "quick", "surveyors", "reviewers", "viewers", "rounds", "duration", "workers", "kill", "think", "soak",
        "restart_mode", "outage", "full_seconds", "disk_mb", "patience", "argv")} | {"fault": fault_kind(args)},
        "runs": [], "skipped": {}}
    tag = f"S{int(time.time()) % 100000}"
    failed = True
    try:
        for backend in args.backends:
            pg = photo_folder = None
            if backend == "postgres" and args.restart_postgres:
                pg = PrivatePostgres()  # never the shared cluster: other work uses it
                url, reason = pg.create_database(PG_DB), None
                drop = lambda pg=pg: pg.close(keep_log_to=workdir / "postgres.log")  # noqa: E731
            elif backend == "sqlite" and args.fill_disk:
                disk = workdir / "disk"
                url, drop, reason = small_disk(disk, args.disk_mb)
                photo_folder = disk / "photos"
            else:
                url, drop, reason = database_for(backend, workdir / "season.db", args.postgres, PG_DB)
            if url is None:
                report["skipped"][backend] = reason
                continue
            try:
                if backend == "postgres":
                    info["postgres"] = postgres_version(url)
                report["runs"].append(run_backend(backend, url, args, workdir, tag, pg, photo_folder))
            finally:
                if drop:
                    drop()
        failed = False
    finally:
        if failed or args.keep:
            print(f"(databases and logs kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    section = markdown(report)
    kind = fault_kind(args) or ("soak" if args.soak else None)
    write_out(f"season-{kind}.md" if kind else "season.md", section)
    out = args.json or OUT / f"season-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print()
    print(section)
    results = [verdict(row, fault_kind(args)) for row in report["runs"]]
    for row, (ok, reasons) in zip(report["runs"], results):
        print(f"{row['backend']}: batch p95 {batch_p95(row):.0f} ms, {row['failures']} failed, count "
              f"{'OK' if row['count']['ok'] else 'FAIL'}; goal {'met' if ok else 'MISSED: ' + '; '.join(reasons)}")
    return 0 if results and all(ok for ok, _r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
