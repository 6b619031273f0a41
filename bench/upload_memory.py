"""Benchmark: peak memory of the whole server (gunicorn master and workers) while 8 phones upload
the largest photo accepted of each kind at once (issue 9: goal at most 300 MB).

    .venv/bin/python bench/upload_memory.py [--quick] [--workers 2] [--clients 8] [--rounds 3]
                                            [--root DIR] [--json PATH]

It builds an SQLite database in a temporary folder (`flask db upgrade`, then the county, township
and surveyor accounts of bench/ingest.py), starts `gunicorn -w 2 'village_survey:create_app()'`
(sync workers, as the README's deployment) with PHOTO_FOLDER in that folder, and logs in one
client per phone (stdlib http.client in a thread each, the phone's session cookie and CSRF
header), each with a survey of its own. Then, for each kind of image, all clients start together
and each PUTs --rounds photos to /api/v1/surveys/<uuid>/photos/<photo uuid>, while this process
reads the resident memory (/proc/<pid>/statm) of the master and every worker every 5 ms. The
figure is the peak of their sum (shared pages counted once per process, so an upper bound), next
to the same sum when idle and each process's own peak (VmHWM).

The images sit at the limits of village_survey/surveys/photos.py: a baseline JPEG just under the
pixel limit and just under PHOTO_MAX_BYTES (noise, so it is as large a file as allowed), a
progressive JPEG, an RGBA PNG and a WebP at theirs, and the issue's decompression bomb (a 5 KB
PNG of 6,300 × 6,300 pixels), which must now be refused (413). Every other upload must answer 201.

--root DIR serves another checkout (for instance `git worktree add /tmp/before <commit>`) to
measure the code before a change; the database is still built by this checkout's migrations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid as uuid_module
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Client, Gunicorn, flask_db_upgrade, hwm, machine_info, rss, seed  # noqa: E402

GOAL_MB = 300
SAMPLE_SECONDS = 0.005


# ---------------------------------------------------------------------------------------------
# The images: each at the limit of its kind
# ---------------------------------------------------------------------------------------------

def _largest_size(pixels, aspect=4 / 3):
    width = int((pixels * aspect) ** 0.5) // 16 * 16
    height = pixels // width // 16 * 16
    return width, height


def images(quick=False):
    """(name, bytes, expected status, description) for each kind, at the limits of photos.py."""
    from PIL import Image

    from village_survey.config import Config
    from village_survey.surveys.photos import MAX_PIXELS

    max_bytes = Config.PHOTO_MAX_BYTES
    result = []

    size = _largest_size(MAX_PIXELS["JPEG"])
    gradient = Image.linear_gradient("L").resize(size)
    picture = Image.merge("RGB", [gradient, Image.effect_noise(size, 20), gradient.rotate(180)])
    del gradient
    for quality in range(95, 20, -5):  # as large a file as accepted: the body is held in memory too
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if len(out.getvalue()) <= max_bytes * 0.98:
            break
    del picture
    result.append(("baseline JPEG", out.getvalue(), 201, f"{size[0]}×{size[1]}, quality {quality}"))

    for name, key, fmt, mode, options in (("progressive JPEG", "progressive JPEG", "JPEG", "RGB", {"progressive": True, "quality": 90}),
                                          ("PNG (RGBA)", "PNG", "PNG", "RGBA", {}),
                                          ("WebP", "WEBP", "WEBP", "RGB", {"quality": 80})):
        size = _largest_size(MAX_PIXELS[key])
        gradient = Image.linear_gradient("L").resize(size)
        bands = [gradient, gradient.rotate(180), gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        image = Image.merge(mode, bands + ([gradient] if mode == "RGBA" else []))
        out = io.BytesIO()
        image.save(out, fmt, **options)
        result.append((name, out.getvalue(), 201, f"{size[0]}×{size[1]}"))

    out = io.BytesIO()
    Image.new("1", (6300, 6300), 1).save(out, "PNG", optimize=True)
    result.append(("bomb PNG 6300×6300", out.getvalue(), 413, "the issue's decompression bomb"))
    if quick:
        result = [r for r in result if r[0] in ("baseline JPEG", "PNG (RGBA)", "bomb PNG 6300×6300")]
    return result


# ---------------------------------------------------------------------------------------------
# The server and its memory
# ---------------------------------------------------------------------------------------------

class Server(Gunicorn):
    """gunicorn as bench/common.py starts it, with its own photo folder, once every worker is up."""

    def __init__(self, root, url, workers, photos, log_path):
        super().__init__(url, workers, log_path, extra_env={"PHOTO_FOLDER": str(photos)}, cwd=root,
                         wait_workers=True)


class Sampler(threading.Thread):
    """The peak of the server's summed resident memory, read every 5 ms until stopped."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.samples = server, 0, 0
        self.done = threading.Event()

    def run(self):
        pids = self.server.pids()
        while not self.done.is_set():
            self.peak = max(self.peak, sum(rss(pid) for pid in pids))
            self.samples += 1
            time.sleep(SAMPLE_SECONDS)


# ---------------------------------------------------------------------------------------------
# One measured kind of image
# ---------------------------------------------------------------------------------------------

def measure(server, phones, data, rounds):
    """All phones upload `rounds` copies (new photo ids) of `data` at once; statuses, seconds, peak."""
    barrier = threading.Barrier(len(phones) + 1)
    statuses, errors = [], []

    def upload(client, survey_uuid):
        barrier.wait()
        for _ in range(rounds):
            path = f"/api/v1/surveys/{survey_uuid}/photos/{uuid_module.uuid4()}?kind=house"
            try:
                status, body, _response = client.request("PUT", path, data, "application/octet-stream")
            except OSError as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            statuses.append(status)
            if status not in (201, 413):
                errors.append(f"HTTP {status}: {body[:200].decode(errors='replace')}")

    threads = [threading.Thread(target=upload, args=phone) for phone in phones]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the server idle again after the logins of the threads' start
    idle = server.memory()
    sampler = Sampler(server)
    sampler.start()
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    sampler.done.set()
    sampler.join()
    return {"statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))}, "errors": errors[:5],
            "seconds": round(seconds, 2), "idle_mb": round(idle / 2**20, 1),
            "peak_mb": round(sampler.peak / 2**20, 1), "samples": sampler.samples,
            "process_peaks_mb": [round(hwm(pid) / 2**20, 1) for pid in server.pids()]}


def login_phones(server, villages, clients):
    """A logged-in client per phone, each with a draft survey of its own: [(client, survey uuid)]."""
    phones = []
    for i in range(clients):
        client = Client("127.0.0.1", server.port)
        client.login(f"bench-surveyor-{i}")
        survey_uuid = str(uuid_module.uuid4())
        body = {"form_version": 1, "year": dt.date.today().year, "status": "draft", "village_id": villages[i],
                "answers": {"house_number": f"1组{i + 1}号", "head_name": "基准"}}
        status, data, _ = client.request("PUT", f"/api/v1/surveys/{survey_uuid}",
                                         json.dumps(body).encode(), "application/json")
        if status != 201:
            raise RuntimeError(f"survey of phone {i}: HTTP {status}: {data[:300]!r}")
        phones.append((client, survey_uuid))
    return phones


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, three kinds of image")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="phones uploading at once (default 8)")
    parser.add_argument("--rounds", type=int, help="photos each phone sends per kind (default 3, 1 with --quick)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default this one)")
    parser.add_argument("--json", type=Path, help="where to write the figures (default bench/out/)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    info = machine_info()
    print(f"upload memory benchmark: {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB, "
          f"Python {info['python']}, {info['date']}; serving {args.root}", flush=True)
    print(f"settings: gunicorn -w {args.workers} (sync), {args.clients} phones at once, {args.rounds} photo(s) "
          f"each per kind", flush=True)
    kinds = images(args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="vs-upload-bench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    report = {"machine": info, "settings": {"workers": args.workers, "clients": args.clients,
                                            "rounds": args.rounds, "root": str(args.root)},
              "goal_mb": GOAL_MB, "results": []}
    failures = []
    server = None
    try:
        flask_db_upgrade(url)
        villages = seed(url, args.clients)
        server = Server(args.root, url, args.workers, workdir / "photos", workdir / "gunicorn.log")
        phones = login_phones(server, villages, args.clients)
        print(f"\n| image | file | answers | server idle | server peak (sum of RSS) | each process's peak "
              f"(master, workers) | time |\n|---|---|---|---|---|---|---|", flush=True)
        for name, data, expected, description in kinds:
            row = measure(server, phones, data, args.rounds)
            row |= {"image": name, "description": description, "bytes": len(data), "expected": expected}
            report["results"].append(row)
            answers = ", ".join(f"{count}× {status}" for status, count in row["statuses"].items())
            print(f"| {name} ({description}) | {len(data) / 1e6:.2f} MB | {answers} | {row['idle_mb']:.0f} MB | "
                  f"**{row['peak_mb']:.0f} MB** | {', '.join(f'{p:.0f}' for p in row['process_peaks_mb'])} MB "
                  f"| {row['seconds']:.1f} s |", flush=True)
            if row["errors"] or set(row["statuses"]) != {str(expected)}:
                failures.append(f"{name}: expected every upload to answer {expected}, got {row['statuses']} "
                                f"{row['errors']}")
    finally:
        if server is not None:
            server.stop()
        if failures:
            print(f"(server log kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    peak = max((r["peak_mb"] for r in report["results"]), default=0)
    verdict = "meets" if peak <= GOAL_MB else "misses"
    print(f"\nhighest server peak {peak:.0f} MB with {args.clients} uploads at once: {verdict} the goal of "
          f"{GOAL_MB} MB")
    report["failures"] = failures
    out = args.json or BENCH / "out" / f"upload_memory-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"figures written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0 if peak <= GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
