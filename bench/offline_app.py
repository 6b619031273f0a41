"""Benchmark: the offline field app on a phone (issue 4): bytes, time to interactive, sync time.

    .venv/bin/python bench/offline_app.py [--quick] [--workers 2] [--sync-count 100]

It builds a fresh SQLite database in a temporary folder (`flask db upgrade`, then
`flask seed-demo`), serves the app with gunicorn from this venv and drives Debian's Chromium
(/usr/bin/chromium, never a downloaded browser) through Playwright as a 390x844 phone, logged in
as demo-surveyor:

1. First-load transfer of /app/survey and of /app/ with an empty cache (a fresh browser context,
   logged in through the login API so no page was loaded before): the encoded (on-the-wire,
   compressed) body bytes of the document and of every subresource the page requests, from the
   page's DevTools Network events (Network.loadingFinished encodedDataLength minus the response
   header bytes), with the Content-Encoding of each. The service worker's own downloads (its
   script and imports, and the precache of the whole shell) are counted apart.
2. Time to interactive: from navigation start (performance.timeOrigin) to the moment the page sets
   `document.body.dataset.ready = "true"` (seen by a MutationObserver installed before any page
   script), under Chrome DevTools' "Slow 3G" preset, applied with Network.emulateNetworkConditions
   to the page and to the service worker (a target of its own, which a page-level setting would not
   slow down), with and without Emulation.setCPUThrottlingRate 4. Cold: empty cache, no service
   worker. Warm: a new tab once the service worker controls the site (shell served from its cache).
   Also: warm with the network cut (airplane mode), and the time until the app works offline on
   the first visit (the service worker has precached the shell and taken control).
3. Sync time: 100 complete queued surveys written straight into the user's IndexedDB (as
   survey.js `submit` leaves them), then a click on "Sync now" and the time until the outbox count
   reads 0, checked against the server's database (exactly those surveys arrived). Without
   throttling and at "Fast 3G"; at "Slow 3G" a sample of 10 is timed and scaled (100 would take
   over 3 minutes).

It prints a markdown section and writes it to bench/out/offline.md (the raw figures to
bench/out/offline.json). --quick skips the slow parts (the offline-ready wait, repeated warm loads,
the Slow 3G sync sample; the Fast 3G sync times a sample of 25): about 2.5 minutes instead of 4.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid as uuid_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import OUT, Gunicorn, flask, git_commit  # noqa: E402
from bench.common import machine_info as common_machine_info  # noqa: E402

OUTBOX_BATCH = 10  # BATCH in static/js/app/outbox.js

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
USERNAME, PASSWORD = "demo-surveyor", "demo12345"  # made by `flask seed-demo`
BUDGET_BYTES = 60_000  # the "~60 KB" for the HTML, CSS and JS of the survey page

# Chrome DevTools' presets (front_end/core/sdk/NetworkManager.ts, also Puppeteer's
# PredefinedNetworkConditions): throughput in bytes/s, latency in ms added to every request.
NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
SLOW_3G = {"offline": False, "latency": 400 * 5,
           "downloadThroughput": 500 * 1000 / 8 * 0.8, "uploadThroughput": 500 * 1000 / 8 * 0.8}
FAST_3G = {"offline": False, "latency": 150 * 3.75,
           "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9, "uploadThroughput": 750 * 1000 / 8 * 0.9}
PROFILES = {"none": NO_THROTTLE, "Slow 3G": SLOW_3G, "Fast 3G": FAST_3G}

# Before any page script: note when the app says it is usable, and when a service worker takes
# control (added through DevTools, so the site's CSP does not apply to it).
INIT_SCRIPT = """(() => {
  const mark = () => {
    if (!window.__vsReadyAt && document.body && document.body.dataset.ready === "true") {
      window.__vsReadyAt = performance.now();
    }
  };
  new MutationObserver(mark).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });
  if (navigator.serviceWorker) {
    window.__vsControlledAtStart = navigator.serviceWorker.controller !== null;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      window.__vsControlledAt = window.__vsControlledAt || performance.now();
    });
  }
})();"""

# The user's IndexedDB as static/js/app/store.js opens it (created here only when the app has not
# opened it yet, with the same stores), and the items written in one transaction.
PUT_SURVEYS_JS = """async ({ userId, items }) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(`vs-user-${userId}`, 1);
    request.onupgradeneeded = () => {
      const d = request.result;
      if (!d.objectStoreNames.contains("surveys")) d.createObjectStore("surveys", { keyPath: "uuid" });
      if (!d.objectStoreNames.contains("photos")) {
        d.createObjectStore("photos", { keyPath: "photo_uuid" }).createIndex("survey", "survey_uuid");
      }
      if (!d.objectStoreNames.contains("kv")) d.createObjectStore("kv");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction("surveys", "readwrite");
    for (const item of items) tx.objectStore("surveys").put(item);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return items.length;
}"""

STATES_JS = """async (userId) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(`vs-user-${userId}`);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const items = await new Promise((resolve, reject) => {
    const request = db.transaction("surveys").objectStore("surveys").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  const states = {};
  for (const item of items) states[item.state] = (states[item.state] || 0) + 1;
  return states;
}"""

# Click "Sync now" and note (page clock) when the outbox count next reads 0.
CLICK_SYNC_JS = """() => {
  const count = document.querySelector("[data-outbox-count]");
  window.__vsSyncDoneAt = null;
  new MutationObserver((_, observer) => {
    if (count.textContent === "0") { window.__vsSyncDoneAt = performance.now(); observer.disconnect(); }
  }).observe(count, { childList: true, characterData: true, subtree: true });
  window.__vsSyncStartAt = performance.now();
  document.querySelector("[data-sync-now]").click();
  return count.textContent;
}"""

TIMINGS_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    ready: window.__vsReadyAt || null,
    controlled_at: window.__vsControlledAt || null,
    controlled_at_start: window.__vsControlledAtStart || false,
    fcp: fcp ? fcp.startTime : null,
    dcl: nav ? nav.domContentLoadedEventEnd : null,
    load: nav ? nav.loadEventEnd : null,
  };
}"""


# ---------------------------------------------------------------------------------------------
# The server: a fresh SQLite database, the demo data, gunicorn
# ---------------------------------------------------------------------------------------------

def prepare_database(url):
    flask(url, "db", "upgrade")
    flask(url, "seed-demo")


class Server(Gunicorn):
    """gunicorn whose access log is the server's own count of the requests a phone made (see
    requests_between)."""

    def __init__(self, url, workers, log_path):
        self.access_log = log_path.with_name("access.log")
        super().__init__(url, workers, log_path, extra_args=[
            "--access-logfile", str(self.access_log), "--access-logformat", '%(s)s "%(r)s"'])

    def mark(self, label):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", f"/healthz?mark={label}")
            conn.getresponse().read()
        finally:
            conn.close()

    def requests_between(self, start, end):
        """(status, "METHOD path") of the requests logged between two marks."""
        rows, inside = [], False
        for line in self.access_log.read_text().splitlines():
            if f"mark={start} " in line:
                inside = True
            elif f"mark={end} " in line:
                break
            elif inside and "/healthz" not in line:
                status, _, request = line.partition(" ")
                rows.append((status, " ".join(request.strip('"').split()[:2])))
        return rows


def encoded_size(port, path):
    """(body bytes, Content-Encoding) of a public URL as sent to a browser offering what Chromium offers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        response = conn.getresponse()
        return len(response.read()), response.getheader("Content-Encoding")
    finally:
        conn.close()


def db_surveys(path, uuids):
    """(rows with these UUIDs, of them with status submitted, all rows) in the server's database."""
    conn = sqlite3.connect(path)
    try:
        total = conn.execute("SELECT count(*) FROM surveys").fetchone()[0]
        found = submitted = 0
        for start in range(0, len(uuids), 500):
            chunk = uuids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found += conn.execute(f"SELECT count(*) FROM surveys WHERE uuid IN ({marks})", chunk).fetchone()[0]
            submitted += conn.execute(f"SELECT count(*) FROM surveys WHERE status = 'submitted' AND uuid IN ({marks})",
                                      chunk).fetchone()[0]
        return found, submitted, total
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The browser: throttling of the service worker, the page's network log, logged-in contexts
# ---------------------------------------------------------------------------------------------

class WorkerThrottle:
    """Network conditions for service-worker targets, which the page's own setting does not reach.

    A browser-level DevTools session discovers the workers; each is attached (non-flattened, beside
    Playwright's own session) and given the conditions wanted for its browser context. Call pump()
    often: new workers are attached there, not in the event handler.
    """

    def __init__(self, browser):
        self.cdp = browser.new_browser_cdp_session()
        self.targets = {}
        self.wanted = {}
        self.wanted_at = {}
        self.replies = {}
        self.lags_ms = []  # how long a worker ran without the conditions wanted for it
        self.next_id = 0
        self.cdp.on("Target.targetCreated", self._seen)
        self.cdp.on("Target.targetInfoChanged", self._seen)
        self.cdp.on("Target.targetDestroyed", lambda e: self.targets.pop(e["targetId"], None))
        self.cdp.on("Target.receivedMessageFromTarget", self._reply)
        self.cdp.send("Target.setDiscoverTargets", {"discover": True})

    def _seen(self, event):
        info = event["targetInfo"]
        if info["type"] == "service_worker":
            entry = self.targets.setdefault(info["targetId"], {"session": None, "applied": None,
                                                                 "seen": time.monotonic()})
            entry["context"] = info.get("browserContextId")

    def _reply(self, event):
        message = json.loads(event["message"])
        if "id" in message:
            self.replies[message["id"]] = message

    def _send(self, session, method, params):
        self.next_id += 1
        self.cdp.send("Target.sendMessageToTarget", {
            "sessionId": session, "message": json.dumps({"id": self.next_id, "method": method, "params": params})})
        return self.next_id

    def set(self, context_id, conditions):
        self.wanted[context_id] = conditions
        self.wanted_at[context_id] = time.monotonic()
        self.pump()

    def pump(self):
        for target_id, entry in list(self.targets.items()):
            wanted = self.wanted.get(entry.get("context"))
            if wanted is None or entry["applied"] == wanted:
                continue
            try:
                if entry["session"] is None:
                    entry["session"] = self.cdp.send("Target.attachToTarget",
                                                      {"targetId": target_id, "flatten": False})["sessionId"]
                    self._send(entry["session"], "Network.enable", {})
                self._send(entry["session"], "Network.emulateNetworkConditions", wanted)
                entry["applied"] = wanted
                if wanted != NO_THROTTLE:  # from "should be throttled" to "is throttled"
                    since = max(entry["seen"], self.wanted_at[entry["context"]])
                    self.lags_ms.append(round((time.monotonic() - since) * 1000))
            except Exception:  # noqa: BLE001 - the worker stopped meanwhile; a new target will come
                self.targets.pop(target_id, None)

    def errors(self):
        return [m["error"] for m in self.replies.values() if "error" in m]


class NetLog:
    """The page's requests from its DevTools Network events, by request id."""

    def __init__(self, cdp):
        self.items = {}
        self.order = []
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.responseReceivedExtraInfo", self._extra)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _item(self, request_id):
        if request_id not in self.items:
            self.items[request_id] = {"decoded": 0, "header_bytes": None}
            self.order.append(request_id)
        return self.items[request_id]

    def _sent(self, e):
        item = self._item(e["requestId"])
        if "url" in item and e.get("redirectResponse"):
            return
        item.update(url=e["request"]["url"], method=e["request"]["method"], type=e.get("type", "Other"),
                    start=e["timestamp"])

    def _response(self, e):
        response = e["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        item = self._item(e["requestId"])
        item.update(status=response["status"], mime=response.get("mimeType"), encoding=headers.get("content-encoding"),
                    from_sw=bool(response.get("fromServiceWorker")),
                    from_cache=bool(response.get("fromDiskCache") or response.get("fromPrefetchCache")),
                    cache_control=headers.get("cache-control"), response_at=e["timestamp"],
                    header_bytes_at_response=response.get("encodedDataLength") or 0)
        if e.get("type"):
            item["type"] = e["type"]

    def _extra(self, e):
        text = e.get("headersText")
        if text:
            self._item(e["requestId"])["header_bytes"] = len(text.encode("latin-1", "replace"))

    def _data(self, e):
        self._item(e["requestId"])["decoded"] += e.get("dataLength", 0)

    def _finished(self, e):
        item = self._item(e["requestId"])
        item.update(end=e["timestamp"], wire=e.get("encodedDataLength", 0))

    def _failed(self, e):
        item = self._item(e["requestId"])
        item.update(end=e["timestamp"], failed=e.get("errorText", "failed"), wire=0)

    def requests(self):
        rows = []
        for request_id in self.order:
            item = dict(self.items[request_id])
            if "url" not in item or item["url"].startswith(("data:", "blob:")):
                continue
            headers = item["header_bytes"] if item["header_bytes"] is not None else item.get("header_bytes_at_response", 0)
            wire = item.get("wire", 0)
            if item.get("from_sw") or wire == 0:
                headers = 0
            item["headers"] = headers
            item["body"] = max(0, wire - headers)
            rows.append(item)
        return rows


def category(url, kind):
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].split("#")[0]
    if kind == "Document":
        return "HTML"
    if path.endswith(".css"):
        return "CSS"
    if path.endswith(".js"):
        return "JS"
    if path.endswith(".webmanifest"):
        return "manifest"
    if path.endswith((".png", ".svg", ".ico")):
        return "icons"
    if path.startswith("api/"):
        return "API data (JSON)"
    return "other"


def short(url):
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("#")[0]


class Phone:
    """Logged-in browser contexts and timed loads of the field app."""

    def __init__(self, browser, base, throttle):
        self.browser, self.base, self.throttle = browser, base, throttle
        self.user_id = None
        self.form_version = None
        self.villages = None

    def context(self):
        ctx = self.browser.new_context(**PHONE)
        ctx.add_init_script(script=INIT_SCRIPT)
        # Logged in through the login form's POST, outside the browser: its HTTP cache stays empty.
        login_page = ctx.request.get(f"{self.base}/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.text())
        response = ctx.request.post(f"{self.base}/login", form={
            "csrf_token": token.group(1), "username": USERNAME, "password": PASSWORD, "remember": "y"})
        if not response.ok or response.url.rstrip("/").endswith("/login"):
            raise RuntimeError(f"login failed: {response.status} {response.url}")
        if self.user_id is None:
            session = ctx.request.get(f"{self.base}/api/v1/session").json()
            self.user_id, self.form_version = session["user"]["id"], session["form_version"]
            self.villages = ctx.request.get(f"{self.base}/api/v1/villages").json()["villages"]
        ctx.vs_sw_requests = []

        def note_worker_request(request):
            if _is_worker_request(request):
                ctx.vs_sw_requests.append((time.monotonic(), request))

        ctx.on("requestfinished", note_worker_request)
        return ctx

    def context_id(self, page):
        cdp = page.context.new_cdp_session(page)
        try:
            return cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
        finally:
            cdp.detach()

    def put_surveys(self, page, items):
        return page.evaluate(PUT_SURVEYS_JS, {"userId": self.user_id, "items": items})

    def draft(self, ctx):
        """A draft on the phone, as home.js `newSurvey` makes it; returns the survey page's URL."""
        page = ctx.new_page()
        page.goto(f"{self.base}/healthz")
        now = int(time.time() * 1000)
        item = {"uuid": str(uuid_module.uuid4()), "state": "draft", "status": "draft", "year": dt.date.today().year,
                "form_version": self.form_version, "village_id": self.villages[0]["id"], "household_id": None,
                "created_at": now, "updated_at": now,
                "answers": {"house_number": "9组901号", "head_name": "基准户", "survey_date": dt.date.today().isoformat()}}
        self.put_surveys(page, [item])
        page.close()
        return f"{self.base}/app/survey#{item['uuid']}"

    def wait(self, page, expression, timeout, step=0.05):
        deadline = time.monotonic() + timeout
        while True:
            self.throttle.pump()
            value = page.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                return None
            time.sleep(step)

    def timed_load(self, ctx, url, network, cpu, wait_offline_ready=0.0):
        """Open url in a new tab under these conditions; the page is returned open."""
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        log = NetLog(cdp)
        cdp.send("Network.enable")
        if network is not None:  # None: leave the network as the context has it (offline)
            cdp.send("Network.emulateNetworkConditions", network)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
        context_id = self.context_id(page)
        if network is not None:
            self.throttle.set(context_id, network)
        started = time.monotonic()
        page.goto(url, wait_until="commit", timeout=120_000)
        ready = self.wait(page, "window.__vsReadyAt || null", 120)
        if ready is None:
            raise RuntimeError(f"{url} was not ready within 120 s")
        result = {"url": short(url), "cpu": cpu, "ready_ms": ready}
        if wait_offline_ready:
            result["offline_ready_ms"] = self.wait(page, "window.__vsControlledAt || null", wait_offline_ready, 0.2)
        self.wait(page, "false", 1.0)  # let the requests the page started after it was ready finish
        result.update(page.evaluate(TIMINGS_JS))
        result["requests"] = log.requests()
        result["wall_s"] = time.monotonic() - started
        page.vs_cdp, page.vs_context_id, page.vs_log = cdp, context_id, log
        return page, result

    def unthrottle(self, page):
        page.vs_cdp.send("Network.emulateNetworkConditions", NO_THROTTLE)
        page.vs_cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        self.throttle.set(page.vs_context_id, NO_THROTTLE)

    def wait_controlled(self, page, timeout=60):
        if not self.wait(page, "navigator.serviceWorker.controller !== null", timeout):
            raise RuntimeError("the service worker did not take control of the page")


def _is_worker_request(request):
    try:
        return request.service_worker is not None
    except Exception:  # noqa: BLE001 - a request of a closed page
        return False


def worker_downloads(ctx, since, until=None):
    """Requests made by the service worker in a time window: (url, body bytes, header bytes, encoding)."""
    rows = []
    for at, request in ctx.vs_sw_requests:
        if at < since or (until is not None and at > until):
            continue
        sizes = request.sizes()
        response = request.response()
        timing = request.timing
        end = timing["startTime"] + timing["responseEnd"] if timing["responseEnd"] >= 0 else None
        rows.append({"url": short(request.url), "body": max(0, sizes["responseBodySize"]),
                     "headers": max(0, sizes["responseHeadersSize"]),
                     "encoding": response.headers.get("content-encoding") if response else None,
                     "status": response.status if response else None,
                     "start": timing["startTime"], "end": end})
    return rows


def split_worker(rows):
    """(the worker's script and its imports, the precache): the precache starts with /app/."""
    for index, row in enumerate(rows):
        if row["url"] == "/app/":
            return rows[:index], rows[index:]
    return rows, []


# ---------------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------------

def summarize_transfer(requests):
    by_cat = {}
    for r in requests:
        if r.get("from_sw"):
            continue
        cat = category(r["url"], r["type"])
        entry = by_cat.setdefault(cat, {"count": 0, "body": 0, "decoded": 0, "headers": 0, "encodings": set()})
        entry["count"] += 1
        entry["body"] += r["body"]
        entry["decoded"] += r["decoded"]
        entry["headers"] += r["headers"]
        entry["encodings"].add(r.get("encoding") or "none")
    for entry in by_cat.values():
        entry["encodings"] = sorted(entry["encodings"])
    return by_cat


def measure_first_load(phone, server, which):
    """Empty cache, logged in, no throttling: the page's downloads and the service worker's; then
    what one warm load of the same page asks of the server (its access log, between two marks)."""
    ctx = phone.context()
    url = phone.draft(ctx) if which == "survey" else f"{phone.base}/app/"
    since = time.monotonic()
    server.mark(f"{which}-cold")
    page, result = phone.timed_load(ctx, url, NO_THROTTLE, 1)
    phone.wait_controlled(page)
    phone.wait(page, "false", 1.5)
    result["requests"] = page.vs_log.requests()
    result["worker"] = worker_downloads(ctx, since)
    result["by_category"] = summarize_transfer(result["requests"])
    page.close()
    server.mark(f"{which}-warm")
    page, _ = phone.timed_load(ctx, url, NO_THROTTLE, 1)
    phone.wait(page, "false", 4.0)  # the browser checks for a new worker a moment after the load
    page.close()
    server.mark(f"{which}-end")
    result["server_cold"] = server.requests_between(f"{which}-cold", f"{which}-warm")
    result["server_warm"] = server.requests_between(f"{which}-warm", f"{which}-end")
    ctx.close()
    return result


def measure_tti(phone, which, cpu, warm_repeats, offline_ready_timeout):
    """Cold (empty cache) and warm (service worker) loads under Slow 3G, and warm with no network."""
    ctx = phone.context()
    url = phone.draft(ctx) if which == "survey" else f"{phone.base}/app/"
    since = time.monotonic()
    page, cold = phone.timed_load(ctx, url, SLOW_3G, cpu, wait_offline_ready=offline_ready_timeout)
    cold["worker"] = worker_downloads(ctx, since)
    phone.unthrottle(page)  # let the precache finish quickly when it was not the thing measured
    phone.wait_controlled(page)
    page.close()
    warm = []
    for _ in range(warm_repeats):
        since = time.monotonic()
        page, result = phone.timed_load(ctx, url, SLOW_3G, cpu)
        result["worker"] = worker_downloads(ctx, since)
        warm.append(result)
        phone.unthrottle(page)
        page.close()
    # Airplane mode: Playwright cuts the network of the page and of the service worker.
    ctx.set_offline(True)
    page, offline = phone.timed_load(ctx, url, None, cpu)
    page.close()
    ctx.close()
    return {"page": which, "cpu": cpu, "cold": cold, "warm": warm, "offline": offline}


def queued_survey(phone, tag, index, now_ms):
    from tests.factories import complete_answers

    today = dt.date.today()
    answers = complete_answers(house_number=f"基准{tag}{index:03d}号", head_name=f"同步{index:03d}",
                               survey_date=today.isoformat())
    village = phone.villages[index % len(phone.villages)]
    return {"uuid": str(uuid_module.uuid4()), "state": "queued", "status": "submitted", "year": today.year,
            "form_version": phone.form_version, "village_id": village["id"], "household_id": None,
            "created_at": now_ms, "updated_at": now_ms + index, "answers": answers,
            "queued_at": now_ms + index, "attempts": 0, "next_attempt_at": None, "last_error": None}


def measure_sync(phone, db_path, runs):
    """For each (profile, count): queue `count` surveys on the phone, click Sync now, time it."""
    ctx = phone.context()
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    context_id = phone.context_id(page)
    page.goto(f"{phone.base}/app/")
    phone.wait(page, "window.__vsReadyAt || null", 30)
    phone.wait_controlled(page)
    # The sync the page starts by itself on an online load has nothing to send; wait for it.
    phone.wait(page, "document.querySelector('[data-sync-progress]').textContent !== ''", 30)
    results = []
    for tag, (profile, count) in enumerate(runs):
        now_ms = int(time.time() * 1000)
        items = [queued_survey(phone, f"{tag}-", i, now_ms) for i in range(count)]
        uuids = [item["uuid"] for item in items]
        before = db_surveys(db_path, uuids)
        phone.put_surveys(page, items)
        # Reload with the session API unreachable: the page shows the queue but does not send it.
        ctx.route("**/api/v1/session", lambda route: route.abort("internetdisconnected"))
        page.reload(wait_until="commit")
        phone.wait(page, "window.__vsReadyAt || null", 30)
        phone.wait(page, f"document.querySelector('[data-outbox-count]').textContent === '{count}'", 10)
        ctx.unroute("**/api/v1/session")
        shown = page.locator("[data-outbox-count]").inner_text()
        cdp.send("Network.emulateNetworkConditions", PROFILES[profile])
        phone.throttle.set(context_id, PROFILES[profile])
        started = time.monotonic()
        page.evaluate(CLICK_SYNC_JS)
        limit = 60 + count * 3.0
        done = phone.wait(page, "window.__vsSyncDoneAt || null", limit, 0.2)
        wall = time.monotonic() - started
        cdp.send("Network.emulateNetworkConditions", NO_THROTTLE)
        phone.throttle.set(context_id, NO_THROTTLE)
        page_ms = (done - page.evaluate("window.__vsSyncStartAt")) if done else None
        after = db_surveys(db_path, uuids)
        states = page.evaluate(STATES_JS, phone.user_id)
        results.append({"profile": profile, "count": count, "shown_before": shown, "seconds": page_ms / 1000 if page_ms else None,
                        "wall_s": wall, "arrived": after[0], "submitted": after[1],
                        "rows_added": after[2] - before[2], "phone_states": states, "finished": done is not None})
        print(f"  sync {count} at {profile}: {results[-1]['seconds'] or float('nan'):.1f} s, "
              f"{after[0]} on the server", flush=True)
    ctx.close()
    return results


def compression_options(phone, urls):
    """Body sizes of the survey page's HTML, CSS and JS under other encoders (what-if)."""
    import brotli
    from flask_compress.compat import compression

    ctx = phone.context()
    rows = []
    for url in urls:
        response = ctx.request.get(phone.base + url, headers={"Accept-Encoding": "identity"})
        data = response.body()
        rows.append({"url": url, "raw": len(data),
                     "zstd-3": len(compression.zstd.compress(data, 3)),
                     "gzip-6": len(gzip.compress(data, 6)),
                     "br-4": len(brotli.compress(data, quality=4, lgwin=22)),
                     "br-11": len(brotli.compress(data, quality=11)),
                     "zstd-19": len(compression.zstd.compress(data, 19))})
    ctx.close()
    return rows


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

def machine_info(browser_version):
    from importlib.metadata import version

    return common_machine_info(chromium=browser_version, playwright=version("playwright"), commit=git_commit())


def kb(n):
    return f"{n / 1000:.1f} KB"


def fmt_bytes(n):
    return f"{n:,}"


def secs(ms):
    return "—" if ms is None else f"{ms / 1000:.2f} s"


def budget_figures(first):
    cats = first["by_category"]
    hcj = sum(cats.get(c, {}).get("body", 0) for c in ("HTML", "CSS", "JS"))
    raw = sum(cats.get(c, {}).get("decoded", 0) for c in ("HTML", "CSS", "JS"))
    return hcj, raw


def phases(result):
    """The critical path of a load from its requests: when each wave of downloads finished."""
    reqs = [r for r in result["requests"] if "end" in r]
    if not reqs:
        return {}
    t0 = min(r["start"] for r in reqs)

    def done(pred):
        ends = [r["end"] for r in reqs if pred(r)]
        return (max(ends) - t0) * 1000 if ends else None

    def began(pred):
        starts = [r["start"] for r in reqs if pred(r)]
        return (min(starts) - t0) * 1000 if starts else None

    def first_done(pred):
        matching = sorted((r for r in reqs if pred(r)), key=lambda r: r["start"])
        return (matching[0]["end"] - t0) * 1000 if matching else None

    entry = "/static/js/app/survey.js" if result["url"].startswith("/app/survey") else "/static/js/app/home.js"
    return {
        "document": done(lambda r: r["type"] == "Document"),
        "entry_script": done(lambda r: short(r["url"]) == entry),
        "imports": done(lambda r: short(r["url"]).endswith(".js") and short(r["url"]) != entry),
        "session_start": began(lambda r: short(r["url"]) == "/api/v1/session"),
        "session": first_done(lambda r: short(r["url"]) == "/api/v1/session"),
        "villages": first_done(lambda r: short(r["url"]) == "/api/v1/villages"),
    }


def _render_intro(report):
    """The heading, the machine and the throttling."""
    m = report["machine"]
    lines = ["## Offline field app: first-load bytes, time to interactive, sync (issue 4)", ""]
    lines += [f"Measured by `bench/offline_app.py{' --quick' if report['quick'] else ''}` on {m['date']}: "
              f"{m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Chromium {m['chromium']} (Debian) "
              f"through Playwright {m['playwright']}, Python {m['python']}, commit {m['commit']}. "
              f"The app ran under gunicorn ({report['workers']} sync workers) on 127.0.0.1 with a fresh SQLite "
              "database holding the demo data; the phone is a 390x844 viewport (DPR 2, touch, zh-CN) logged in "
              f"as {USERNAME} (a township of {len(report['villages'])} villages, "
              f"{sum(len(v['households']) for v in report['villages'])} households).", ""]
    lines += ["Throttling is Chrome DevTools' presets, sent with `Network.emulateNetworkConditions` to the page "
              "and to the service worker's own target: **Slow 3G** = latency 2,000 ms (400 ms × 5) added to "
              "every request, 50,000 B/s down and up (500 kbit/s × 0.8); **Fast 3G** = 562.5 ms (150 × 3.75), "
              "180,000 B/s down (1.6 Mbit/s × 0.9), 84,375 B/s up (750 kbit/s × 0.9). CPU: "
              "`Emulation.setCPUThrottlingRate` 4 (a cheap phone) on the page's main thread (the worker's thread is "
              "not slowed). The worker got its conditions at most "
              f"{max(report['worker_throttle_lag_ms'], default=0)} ms after it started or the conditions changed "
              "(it is a target of its own, attached beside Playwright's session). Chromium throttles each "
              "target separately (page and worker do not share one link), and the emulation adds no TCP/TLS "
              "handshakes, so real phones may do worse.", ""]
    return lines


def _render_first_load(report):
    """The first load's transfer by kind of resource, and the budget."""
    first = report["first_load"]
    lines = []
    lines += ["### First-load transfer (empty cache, logged in, no throttling)", "",
              "Encoded (on-the-wire) body bytes from the page's DevTools Network events; response headers "
              "are counted apart. The service worker's downloads are not in the page total.", "",
              "| resource | /app/survey | encoding | /app/ | encoding |", "|---|---:|---|---:|---|"]
    cats = ["HTML", "CSS", "JS", "icons", "manifest", "API data (JSON)", "other"]
    s_cat, h_cat = first["survey"]["by_category"], first["home"]["by_category"]

    def cell(cats_of, cat):
        entry = cats_of.get(cat)
        if not entry:
            return "—", "—"
        label = f"{fmt_bytes(entry['body'])} B" + (f" ({entry['count']} files)" if entry["count"] > 1 else "")
        return label, ", ".join(entry["encodings"])

    for cat in cats:
        if cat not in s_cat and cat not in h_cat:
            if cat == "manifest":
                lines.append("| manifest | not requested¹ | | not requested¹ | |")
            continue
        s, se = cell(s_cat, cat)
        h, he = cell(h_cat, cat)
        lines.append(f"| {cat} | {s} | {se} | {h} | {he} |")
    for label, key in (("**page total (bodies)**", "body"), ("response headers", "headers"),
                       ("uncompressed (decoded) bodies", "decoded")):
        s = sum(e[key] for e in s_cat.values())
        h = sum(e[key] for e in h_cat.values())
        lines.append(f"| {label} | {fmt_bytes(s)} B | | {fmt_bytes(h)} B | |")
    s_hcj, s_raw = budget_figures(first["survey"])
    h_hcj, h_raw = budget_figures(first["home"])
    lines.append(f"| **HTML + CSS + JS** | **{fmt_bytes(s_hcj)} B** | | **{fmt_bytes(h_hcj)} B** | |")
    for key, label in (("survey", "/app/survey"), ("home", "/app/")):
        script, precache = split_worker(first[key]["worker"])
        first[key]["precache_body"] = sum(w["body"] for w in precache)
        first[key]["precache_headers"] = sum(w["headers"] for w in precache)
        first[key]["precache_count"] = len(precache)
        first[key]["worker_script_count"] = len(script)
    lines.append(f"| service worker: precache download | {fmt_bytes(first['survey']['precache_body'])} B "
                 f"({first['survey']['precache_count']} requests) | | {fmt_bytes(first['home']['precache_body'])} B "
                 f"({first['home']['precache_count']} requests) | |")
    lines += ["", f"¹ Headless Chromium does not fetch the manifest (a phone's Chrome does, for the install prompt: "
              f"{fmt_bytes(report['manifest'][0])} B, {report['manifest'][1]}); it is in the precache."]
    lines += ["", f"**Budget:** the survey page's HTML, CSS and JS on first load are **{fmt_bytes(s_hcj)} B** "
              f"compressed ({fmt_bytes(s_raw)} B uncompressed), {100 * s_hcj / BUDGET_BYTES:.0f} % of the "
              f"~60 KB budget ({fmt_bytes(BUDGET_BYTES)} B): "
              + ("**within budget**" if s_hcj <= BUDGET_BYTES else "**over budget**")
              + f" (the field app's home page: {fmt_bytes(h_hcj)} B). With everything else the survey page "
              f"loads (icons, API JSON) the page total is {fmt_bytes(sum(e['body'] for e in s_cat.values()))} B, "
              f"plus {fmt_bytes(sum(e['headers'] for e in s_cat.values()))} B of response headers.", ""]
    return lines


def _render_files(report):
    """The survey page's files and the service worker's downloads on a first visit."""
    first = report["first_load"]
    lines = []
    lines += ["Per file, /app/survey (first load):", "", "| file | encoding | body on the wire | uncompressed | headers |",
              "|---|---|---:|---:|---:|"]
    for r in first["survey"]["requests"]:
        lines.append(f"| `{short(r['url'])}` | {r.get('encoding') or 'none'} | {fmt_bytes(r['body'])} | "
                     f"{fmt_bytes(r['decoded'])} | {fmt_bytes(r['headers'])} |")
    lines.append("")
    script, precache = split_worker(first["home"]["worker"])
    checks = [st for st, r in first["home"]["server_warm"] if r == "GET /sw.js"]
    check_text = (f"the update check of a warm open got {', '.join(checks)}" if checks
                  else "no update check seen on a warm open")
    lines += ["Service worker downloads on the first visit (/app/): its script "
              f"({fmt_bytes(report['sw_script'][0])} B {report['sw_script'][1]} by a direct request; {check_text}) "
              f"and its {len(script) - 1} module imports, then the "
              "precache, which fetches every shell file one after another with `cache: \"no-cache\"`: files the "
              "page had just loaded come back as 304 revalidations (0 body bytes; the server's access log shows "
              f"{sum(1 for st, _ in first['home']['server_cold'] if st == '304')} 304s on this load).", "",
              "| request | part | status | encoding | body | headers |", "|---|---|---:|---|---:|---:|"]
    for part, rows in (("script", script), ("precache", precache)):
        for w in rows:
            body = fmt_bytes(w["body"])
            if w["url"] == "/sw.js" and not w["body"]:
                body = f"{fmt_bytes(report['sw_script'][0])}²"
            lines.append(f"| `{w['url']}` | {part} | {w['status']} | {w['encoding'] or 'none'} | "
                         f"{body} | {fmt_bytes(w['headers'])} |")
    lines += ["", "² Playwright reports no body size for the worker's script; this is the size of a direct request "
              "with Chromium's Accept-Encoding.", ""]
    warm = first["home"]["server_warm"]
    lines += [f"A warm open of /app/ (service worker in control, no throttling) still makes {len(warm)} requests "
              "to the server (its access log): " + ", ".join(f"`{r}` {st}" for st, r in warm) + ".", ""]
    return lines


def _render_tti(report):
    """Time to interactive, cold, warm and offline."""
    first = report["first_load"]
    lines = []
    lines += ["### Time to interactive (navigation start → `body[data-ready]`)", "",
              "Cold: empty cache, no service worker (one load each). Warm: a new tab once the service worker controls the site"
              + (f" (median of {len(report['tti'][0]['warm'])} loads)" if len(report["tti"][0]["warm"]) > 1 else "")
              + ". Offline: warm, network cut. FCP = first contentful paint.", "",
              "| page | CPU | no throttling, cold | Slow 3G cold (FCP) | Slow 3G warm (FCP) | warm, offline |",
              "|---|---|---:|---:|---:|---:|"]
    baseline = {"survey": first["survey"]["ready_ms"], "home": first["home"]["ready_ms"]}
    for row in report["tti"]:
        warm_ready = statistics.median(w["ready_ms"] for w in row["warm"])
        warm_fcp = statistics.median(w["fcp"] for w in row["warm"] if w["fcp"] is not None) if any(
            w["fcp"] is not None for w in row["warm"]) else None
        name = "/app/survey" if row["page"] == "survey" else "/app/"
        base = secs(baseline[row["page"]]) if row["cpu"] == 1 else "—"
        lines.append(f"| {name} | {row['cpu']}x | {base} | **{secs(row['cold']['ready_ms'])}** ({secs(row['cold']['fcp'])}) | "
                     f"**{secs(warm_ready)}** ({secs(warm_fcp)}) | {secs(row['offline']['ready_ms'])} |")
    ready_rows = [r for r in report["tti"] if "offline_ready_ms" in r["cold"]]
    for row in ready_rows:
        value = row["cold"]["offline_ready_ms"]
        name = "/app/survey" if row["page"] == "survey" else "/app/"
        lines += ["", f"Works offline after the first visit (service worker installed, shell precached, page "
                  f"controlled), Slow 3G, {name} at {row['cpu']}x: "
                  + (f"**{secs(value)}** after navigation start." if value else "not within the wait.")]
    lines.append("")
    return lines


def _render_sync(report):
    """Sync of queued surveys."""
    lines = []
    lines += ["### Sync of queued surveys (click \"Sync now\" → outbox count 0)", "",
              "| network | surveys | time | per survey | arrived on the server |", "|---|---:|---:|---:|---|"]
    for s in report["sync"]:
        if s["seconds"] is None:
            lines.append(f"| {s['profile']} | {s['count']} | did not finish | | {s['arrived']} |")
            continue
        per = s["seconds"] / s["count"]
        check = (f"{s['arrived']} of {s['count']} ({s['rows_added']} rows added, all submitted)"
                 if s["submitted"] == s["arrived"] else f"{s['arrived']} of {s['count']}, {s['submitted']} submitted")
        if s["shown_before"] != str(s["count"]):
            check += f"; the outbox showed {s['shown_before']} before the click, not {s['count']}"
        lines.append(f"| {s['profile']} | {s['count']} | {s['seconds']:.1f} s | {per * 1000:.0f} ms | {check} |")
        if s["count"] < report["sync_count"]:
            lines.append(f"| {s['profile']}, scaled to {report['sync_count']} | ({report['sync_count']}) | "
                         f"≈ {per * report['sync_count']:.0f} s | | (estimate from the sample above) |")
    lines.append("")
    return lines


def _render_findings(report):
    """The findings and the what-if of compressions."""
    lines = []
    lines += ["### Findings", ""] + [f"- {f}" for f in report["findings"]] + [""]
    lines += ["What-if for the survey page's HTML, CSS and JS (bytes of the body; zstd level 3 is what Flask-Compress "
              "sends today, as Chromium offers zstd first among equals):", "",
              "| file | raw | zstd-3 (now) | gzip-6 | br-4 | br-11 | zstd-19 |", "|---|---:|---:|---:|---:|---:|---:|"]
    totals = {k: 0 for k in ("raw", "zstd-3", "gzip-6", "br-4", "br-11", "zstd-19")}
    for row in report["compression"]:
        lines.append(f"| `{row['url']}` | " + " | ".join(fmt_bytes(row[k]) for k in totals) + " |")
        for k in totals:
            totals[k] += row[k]
    lines.append("| **total** | " + " | ".join(f"**{fmt_bytes(v)}**" for v in totals.values()) + " |")
    lines.append("")
    return lines


def render(report):
    lines = []
    for section in (_render_intro, _render_first_load, _render_files, _render_tti, _render_sync,
                    _render_findings):
        lines += section(report)
    return "\n".join(lines)


def _findings_uncompressed(report):
    """Text resources sent without compression."""
    out = []
    first = report["first_load"]
    # Text resources sent without compression.
    plain = [r for key in ("survey", "home") for r in first[key]["requests"]
             if not r.get("encoding") and r["body"] >= 500 and category(r["url"], r["type"]) != "icons"]
    for r in {short(r["url"]): r for r in plain}.values():
        out.append(f"`{short(r['url'])}` is sent uncompressed ({fmt_bytes(r['body'])} B, {r.get('mime')}).")
    small = [r for r in first["survey"]["requests"] if not r.get("encoding") and 0 < r["body"] < 500]
    if small:
        out.append("Below Flask-Compress's 500-byte minimum and so sent as is (harmless): "
                   + ", ".join(f"`{short(r['url'])}` ({r['body']} B)" for r in small) + ".")
    return out


def _findings_fetched_twice(report):
    """The same URL fetched more than once by one page load."""
    out = []
    first = report["first_load"]
    # The same URL fetched more than once by one page load.
    for key, name in (("home", "/app/"), ("survey", "/app/survey")):
        seen = {}
        for r in first[key]["requests"]:
            seen[short(r["url"])] = seen.get(short(r["url"]), 0) + 1
        twice = {u: n for u, n in seen.items() if n > 1}
        for url, n in twice.items():
            out.append(f"{name} requests `{url}` {n} times on one load"
                       + (" (home.js `loadSession()`, then `freshToken()` in the sync it starts right after "
                          "being ready; the token loadSession already got could be passed on: one request and "
                          f"one round trip less per online load, {SLOW_3G['latency'] / 1000:.0f} s on Slow 3G, "
                          "though after the page is ready)" if url == "/api/v1/session" else "") + ".")
    return out


def _findings_header_overhead(report):
    """The response headers against the bodies."""
    out = []
    first = report["first_load"]
    # Header overhead.
    s_body = sum(r["body"] for r in first["survey"]["requests"])
    s_head = sum(r["headers"] for r in first["survey"]["requests"])
    out.append(f"Response headers are {fmt_bytes(s_head)} B against {fmt_bytes(s_body)} B of bodies on the survey "
               f"page's first load ({len(first['survey']['requests'])} requests, ~{s_head // max(1, len(first['survey']['requests']))} B "
               "each: the CSP and security headers, ETag and Vary on every static file), "
               f"{100 * s_head / max(1, s_head + s_body):.0f} % of the bytes received. Behind HTTP/2 (nginx) HPACK "
               "sends the repeated ones once; over HTTP/1.1 each response carries them.")
    return out


def _module_waterfall(name, p):
    if p.get("entry_script") and p.get("imports") and p["imports"] - p["entry_script"] > SLOW_3G["latency"] / 2:
        gain = p["imports"] - p["entry_script"]
        return [f"Cold, Slow 3G, {name}: the document was in at {secs(p['document'])}, the entry module at "
                f"{secs(p['entry_script'])}, its imports only at {secs(p['imports'])}: they are found when "
                f"the entry module is parsed, a second round trip. `<link rel=\"modulepreload\">` for the "
                f"imports in the template would fetch them with the entry module: about {secs(gain)} "
                "less to interactive on a cold load (no gain once the service worker serves the shell)."]
    return []


def _first_paint(name, cold):
    css_done = max((r["end"] for r in cold["requests"] if short(r["url"]).endswith(".css") and "end" in r),
                   default=None)
    if css_done is None or not cold["fcp"]:
        return []
    t0 = min(r["start"] for r in cold["requests"])
    return [f"Cold, Slow 3G, {name}: first paint at {secs(cold['fcp'])}, right after the "
            f"render-blocking `app.css` ({secs((css_done - t0) * 1000)}): one round trip after the "
            "document. It loads beside the entry module, so it does not delay interactivity; inlining "
            "it would need a CSP hash (`style-src 'self'`)."]


def _api_waits(name, p):
    if p.get("session") is None:
        return []
    waits = [f"`/api/v1/session` {secs(p['session_start'])} → {secs(p['session'])}"]
    if p.get("villages"):
        waits.append(f"then `/api/v1/villages` → {secs(p['villages'])}")
    text = f"Cold, Slow 3G, {name}: before it is ready the page waits for " + ", ".join(waits) + "."
    if p.get("villages") and p["villages"] > p["session"]:
        text += (" The village list needs only the login cookie, yet home.js asks for it after the session "
                 "answer: fetched side by side they would save one round trip, about "
                 f"{secs(p['villages'] - p['session'])} here and as much on a warm load.")
    return [text]


def _warm_waits(name, row):
    warm_ready = statistics.median(w["ready_ms"] for w in row["warm"])
    off = row["offline"]["ready_ms"]
    wp = phases(row["warm"][0])
    calls = ["`/api/v1/session`"] + (["`/api/v1/villages` (network-first in the worker)"] if wp.get("villages") else [])
    return [f"Warm, Slow 3G, {name}: ready in {secs(warm_ready)} although the whole shell comes from the "
            f"service worker's cache; with no network at all it is ready in {secs(off)}. The difference is "
            f"the page awaiting {' then '.join(calls)} before it sets ready "
            + ("(`start()` in home.js awaits `loadSession()` and then `loadVillages(online)`)" if row["page"] == "home"
               else "(`start()` in survey.js awaits `loadSession()`)")
            + f". Rendering from IndexedDB first and refreshing when the answers come would make a warm "
            f"load on a poor signal as fast as offline: about {secs(warm_ready - off)} less at 1x."]


def _findings_critical_path(report):
    """The module waterfall and the network waits on the path to interactive."""
    out = []
    for row in report["tti"]:
        if row["cpu"] != 1:
            continue
        name = "/app/survey" if row["page"] == "survey" else "/app/"
        p = phases(row["cold"])
        out += _module_waterfall(name, p) + _first_paint(name, row["cold"]) + _api_waits(name, p)
        out += _warm_waits(name, row)
    return out


def _offline_ready(row, precache):
    name = "/app/survey" if row["page"] == "survey" else "/app/"
    t = row["cold"]["offline_ready_ms"]
    _, slow = split_worker(row["cold"]["worker"])
    timed = [w for w in slow if w["end"] is not None]
    span = (max(w["end"] for w in timed) - min(w["start"] for w in timed)) if timed else None
    n = len(slow) or len(precache)
    latency = SLOW_3G["latency"]
    gain = (n - -(-n // 6)) * latency
    return (f"The first visit ({name}, Slow 3G) leaves the phone able to work offline only "
            + (f"after {secs(t)}" if t else "after more than the wait") + f" (ready at "
            f"{secs(row['cold']['ready_ms'])}): `precache()` in sw.js awaits each of its {n} fetches in turn"
            + (f", {secs(span)} from the first to the last" if span else "")
            + f", each at least {latency / 1000:.0f} s of latency. Fetched in parallel (`Promise.all` with the "
            "same redirect check), 6 at a time per host as Chromium does, they need "
            f"{-(-n // 6)} round trips instead of {n}: about {gain / 1000:.0f} s less. Until then a surveyor "
            "who closes the app has no offline shell.")


def _findings_precache(report):
    """How long until a first visit works offline, and the revalidations of the precache."""
    first = report["first_load"]
    _, precache = split_worker(first["home"]["worker"])
    out = [_offline_ready(row, precache) for row in report["tti"] if "offline_ready_ms" in row["cold"]]
    revalidated = [w for w in precache if w["body"] == 0]
    if revalidated:
        out.append(f"The precache re-requests {len(revalidated)} files the page had just downloaded "
                   f"({', '.join('`' + w['url'].rsplit('/', 1)[-1] + '`' for w in revalidated)}); they come back as "
                   "304s (no body) because static files are `Cache-Control: no-cache` with an ETag, but each still "
                   "costs a round trip. The static URLs carry no version, so they cannot be cached for long: every "
                   "visit to the full site revalidates every file.")
    return out + _sw_update_check(report)


def _sw_update_check(report):
    warm = report["first_load"]["home"]["server_warm"]
    sw_full = [st for st, r in warm if r == "GET /sw.js" and st == "200"]
    sessions = [st for st, r in warm if r == "GET /api/v1/session"]
    if not sw_full:
        return []
    return [f"Every warm open of /app/ makes {len(warm)} requests although the shell is cached: the browser's "
            f"update check downloads `/sw.js` in full ({fmt_bytes(report['sw_script'][0])} B: `Cache-Control: "
            "no-cache` and no ETag, so never a 304) and revalidates its imports, and the page asks "
            f"`/api/v1/session` {len(sessions)} times. An ETag on /sw.js (e.g. the asset version it already "
            "embeds) would turn the download into a 304. Off the path to interactive."]


def _findings_compression(report):
    """zstd-3 against gzip and brotli for the small files."""
    out = []
    # Compression choice.
    comp = report["compression"]
    now = sum(r["zstd-3"] for r in comp)
    br11 = sum(r["br-11"] for r in comp)
    gz = sum(r["gzip-6"] for r in comp)
    out.append(f"Compression: Flask-Compress prefers zstd (level 3) whenever the browser offers it, as Chromium "
               f"does; for these small files zstd-3 is larger than gzip-6 ({fmt_bytes(now)} B against "
               f"{fmt_bytes(gz)} B for the survey page's HTML, CSS and JS) and brotli at quality 11 gives "
               f"{fmt_bytes(br11)} B ({100 * (now - br11) / now:.0f} % less). Setting `COMPRESS_ALGORITHM` to prefer "
               "br with `COMPRESS_BR_LEVEL = 11` for the static files (or precompressing them at build time) saves "
               f"about {fmt_bytes(now - br11)} B per cold survey-page load; the page is within budget either way.")
    return out


def _findings_sync_latency(report):
    """What the sync time is made of on a throttled line."""
    out = []
    # Sync.
    for s in report["sync"]:
        if s["profile"] == "none" or not s["seconds"]:
            continue
        per = s["seconds"] / s["count"]
        latency = PROFILES[s["profile"]]["latency"] / 1000
        trips = -(-s["count"] // OUTBOX_BATCH) + 1  # the batches, and the CSRF token asked first
        out.append(f"Sync at {s['profile']}: {per * 1000:.0f} ms per survey with {latency * 1000:.0f} ms of emulated "
                   f"latency per round trip: `run()` in outbox.js sends up to {OUTBOX_BATCH} surveys per request "
                   f"(POST /api/v1/surveys/batch), so {s['count']} surveys cost about {trips} round trips "
                   f"({trips * latency:.1f} s of latency) and the rest is the upload of the bodies at the "
                   "profile's bandwidth.")
    return out


def findings(report):
    out = []
    for part in (_findings_uncompressed, _findings_fetched_twice, _findings_header_overhead,
                 _findings_critical_path, _findings_precache, _findings_compression, _findings_sync_latency):
        out += part(report)
    return out


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

def measure_all(browser, server, db_path, args, report, started):
    """Every measurement with one browser, into `report`."""
    report["machine"] = machine_info(browser.version)
    phone = Phone(browser, server.base, WorkerThrottle(browser))
    print("first load, empty cache ...", flush=True)
    report["first_load"] = {"survey": measure_first_load(phone, server, "survey"),
                            "home": measure_first_load(phone, server, "home")}
    report["villages"] = phone.villages
    warm_repeats = 1 if args.quick else 3
    report["tti"] = []
    for which in ("home", "survey"):
        for cpu in (1, 4):
            wait_ready = 0.0 if args.quick or which != "home" or cpu != 1 else 150.0
            print(f"time to interactive, {which}, CPU {cpu}x ... ({time.monotonic() - started:.0f} s)", flush=True)
            report["tti"].append(measure_tti(phone, which, cpu, warm_repeats, wait_ready))
    n = args.sync_count
    runs = [("none", n), ("Fast 3G", 25 if args.quick else n)]
    if not args.quick:
        runs.append(("Slow 3G", 10))
    print(f"sync ... ({time.monotonic() - started:.0f} s)", flush=True)
    report["sync"] = measure_sync(phone, db_path, runs)
    hcj = [short(r["url"]) for r in report["first_load"]["survey"]["requests"]
           if category(r["url"], r["type"]) in ("HTML", "CSS", "JS")]
    report["compression"] = compression_options(phone, hcj)
    report["sw_script"] = encoded_size(server.port, "/sw.js")
    report["manifest"] = encoded_size(server.port, "/static/manifest.webmanifest")
    report["worker_throttle_errors"] = phone.throttle.errors()
    report["worker_throttle_lag_ms"] = phone.throttle.lags_ms


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 2.5 minutes)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--sync-count", type=int, default=100, help="queued surveys to sync (default 100)")
    parser.add_argument("--out", type=Path, default=OUT / "offline.md", help="where to write the markdown")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and server logs")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"Debian's Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="vs-offline-bench-"))
    db_path = workdir / "bench.db"
    url = f"sqlite:///{db_path}"
    print(f"database and logs in {workdir}", flush=True)
    prepare_database(url)
    server = Server(url, args.workers, workdir / "gunicorn.log")
    report = {"quick": args.quick, "workers": args.workers, "sync_count": args.sync_count}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                measure_all(browser, server, db_path, args, report, started)
            finally:
                browser.close()
    finally:
        server.stop()
    report["findings"] = findings(report)
    report["seconds"] = round(time.monotonic() - started, 1)
    markdown = render(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown + "\n", encoding="utf-8")
    raw = args.out.with_suffix(".json")
    raw.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print()
    print(markdown)
    print(f"(whole run {report['seconds']:.0f} s; written to {args.out} and {raw})")
    failures = [s for s in report["sync"] if s["arrived"] != s["count"] or s["rows_added"] != s["count"]
                or s["shown_before"] != str(s["count"]) or not s["finished"]]
    if failures or report["worker_throttle_errors"]:
        print(f"FAILED: {failures or report['worker_throttle_errors']}; database and logs kept in {workdir}",
              file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
