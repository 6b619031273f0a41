"""Benchmark: the exports (issue 13) of a county of 50,000 surveys: XLSX, CSV, GeoJSON, evaluations.

    .venv/bin/python bench/exports.py [--quick] [--backends sqlite,postgres] [--postgres URL] [--repeat 2]

For each backend it builds the "county" dataset of bench/precomputed.py (a county of 50,000
surveys this year, 15 townships of 12 villages, 80 % approved, a quarter of the households with
last year's survey too, a second county of 2,000 outside the reviewer's area) and rebuilds the
precomputed results. Then each export is requested --repeat times, each time in a fresh process
(so that its peak memory is its own), through Flask's test client as the county's reviewer:

- `/exports/surveys.xlsx?year=2026` (codes, personal data masked) and with `labels=1&full=1`;
- `/exports/surveys.csv?year=2026` and with `labels=1`: seconds to the first bytes and to the last;
- `/exports/farmhouses.geojson?year=2026`, `/exports/evaluations.xlsx?year=2026`.

Each reports the seconds from the request to the last byte, the seconds to the first bytes, the
size, the rows, and the process's peak RSS (ru_maxrss: the app, the test client and the export)
with the RSS before the request. Goals: XLSX ≤ 20 s and ≤ 300 MB, CSV ≤ 5 s with its first bytes
within 1 s. The markdown section printed at the end is also written to bench/out/exports.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PASSWORD, app_for, database_for, machine_line, max_rss_mb, write_out  # noqa: E402
from bench.precomputed import build, rebuild  # noqa: E402

PG_DB = "village_survey_exports_bench"
YEAR = 2026
GOAL_XLSX_S, GOAL_XLSX_MB, GOAL_CSV_S, GOAL_FIRST_S = 20.0, 300.0, 5.0, 1.0
EXPORTS = (
    ("XLSX, codes, masked", f"/exports/surveys.xlsx?year={YEAR}", "xlsx"),
    ("XLSX, labels, full", f"/exports/surveys.xlsx?year={YEAR}&labels=1&full=1", "xlsx"),
    ("CSV, codes, masked", f"/exports/surveys.csv?year={YEAR}", "csv"),
    ("CSV, labels, full", f"/exports/surveys.csv?year={YEAR}&labels=1&full=1", "csv"),
    ("GeoJSON farmhouses", f"/exports/farmhouses.geojson?year={YEAR}", "geojson"),
    ("Evaluations XLSX", f"/exports/evaluations.xlsx?year={YEAR}", "evaluations"),
)


def _rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_one(url, path):
    """In this process: log in as the county's reviewer, request `path`, read the body chunk by
    chunk; print the figures as JSON."""
    app = app_for(url, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    response = client.post("/login", data={"username": "bench-reviewer", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    before = _rss_mb()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    first = None
    size = 0
    lines = 0
    for chunk in response.iter_encoded():
        if first is None and chunk:
            first = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    peak = max_rss_mb()
    print(json.dumps({"status": response.status_code, "seconds": seconds, "first_s": first, "bytes": size,
                      "lines": lines, "rss_before_mb": before, "peak_mb": peak}))


def measure(url, path, repeat):
    """The best of `repeat` runs, each in a fresh process (the peak memory is the worst)."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, __file__, "--measure", url, path], cwd=ROOT, capture_output=True,
                              text=True)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r["peak_mb"] for r in runs), "runs": len(runs),
            "all_seconds": [round(r["seconds"], 2) for r in runs]}


def _rows_of(url):
    from sqlalchemy import func, select

    from village_survey.extensions import db
    from village_survey.surveys.models import Survey

    app = app_for(url)
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Survey).where(Survey.year == YEAR))


def run_backend(url, scale, seed, repeat):
    print("  building the county ...", file=sys.stderr)
    build_seconds, surveys, last_year = build(url, "county", scale, seed)
    rebuilt = rebuild(url)
    print(f"  built {surveys:,} + {last_year:,} surveys in {build_seconds:.0f} s, rebuilt in "
          f"{rebuilt['seconds']:.0f} s; exporting ...", file=sys.stderr)
    results = {}
    for label, path, kind in EXPORTS:
        results[label] = {"path": path, "kind": kind, **measure(url, path, repeat)}
        r = results[label]
        if "error" in r:
            print(f"  {label}: ERROR {r['error']}", file=sys.stderr)
        else:
            print(f"  {label}: {r['seconds']:.2f} s (first bytes {r['first_s']:.2f} s), {_size(r['bytes'])}, "
                  f"peak RSS {r['peak_mb']:.0f} MB", file=sys.stderr)
    return {"surveys": surveys, "county_surveys": _county_surveys(scale), "results": results}


def _county_surveys(scale):
    return round(50_000 * scale)


def _size(size):
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _verdict(ok):
    return "yes" if ok else "**no**"


def goals_met(result):
    kind = result.get("kind")
    if "error" in result:
        return False
    if kind == "xlsx":
        return result["seconds"] <= GOAL_XLSX_S and result["peak_mb"] <= GOAL_XLSX_MB
    if kind == "csv":
        return result["seconds"] <= GOAL_CSV_S and result["first_s"] <= GOAL_FIRST_S
    return True


def report(runs, skipped, scale):
    lines = ["## Exports (`bench/exports.py`, issue 13)", "",
             f"Machine: {machine_line()}.",
             f"Settings: the county dataset of bench/precomputed.py at scale {scale:g} "
             f"({round(50_000 * scale):,} surveys in the reviewer's county, of {round(52_000 * scale):,} this year), "
             "each export in a fresh process through the test client as the county's reviewer; the best time of "
             "the runs, the highest peak RSS (the whole process: app, client and export).", "",
             "| backend | export | seconds | first bytes | size | rows | peak RSS (before) | goal | met? |",
             "|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        for label, r in run["results"].items():
            if "error" in r:
                lines.append(f"| {run['backend']} | {label} | error: {r['error']} | | | | | | **no** |")
                continue
            goal = {"xlsx": f"≤ {GOAL_XLSX_S:g} s, ≤ {GOAL_XLSX_MB:g} MB",
                    "csv": f"≤ {GOAL_CSV_S:g} s, first bytes ≤ {GOAL_FIRST_S:g} s"}.get(r["kind"], "")
            rows = max(r["lines"] - 2, 0) if r["kind"] == "csv" else ""
            lines.append(f"| {run['backend']} | {label} | {r['seconds']:.1f} | {r['first_s']:.2f} s | "
                         f"{_size(r['bytes'])} | {rows} | {r['peak_mb']:.0f} MB ({r['rss_before_mb']:.0f} MB) | "
                         f"{goal} | {_verdict(goals_met(r)) if goal else ''} |")
    for backend, reason in skipped.items():
        lines.append(f"\n{backend}: skipped ({reason}).")
    return "\n".join(lines) + "\n"


def summary_lines(runs):
    out = []
    for run in runs:
        r = run["results"]
        x, c = r.get("XLSX, codes, masked", {}), r.get("CSV, codes, masked", {})
        if "seconds" in x and "seconds" in c:
            ok = all(goals_met(v) for v in r.values())
            out.append(f"{run['backend']}: surveys XLSX {x['seconds']:.1f} s, peak {x['peak_mb']:.0f} MB; "
                       f"CSV {c['seconds']:.1f} s, first bytes {c['first_s']:.2f} s; goal "
                       f"{'met' if ok else 'NOT met'}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database of its own (its schema is dropped)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each export (each a fresh process)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, one run each")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_one(*args.measure)
        return 0
    scale = 0.1 if args.quick else 1.0
    repeat = 1 if args.quick else args.repeat
    folder = Path(tempfile.mkdtemp(prefix="exports-"))
    runs, skipped = [], {}
    try:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            print(f"{backend}:", file=sys.stderr)
            url, drop, reason = database_for(backend, folder / "county.db", args.postgres, PG_DB)
            if url is None:
                skipped["postgresql"] = reason
                continue
            try:
                runs.append({"backend": "sqlite" if backend == "sqlite" else "postgresql",
                             **run_backend(url, scale, args.seed, repeat)})
            finally:
                if drop is not None:
                    drop()
    finally:
        for path in folder.glob("*"):
            path.unlink()
        folder.rmdir()
    section = report(runs, skipped, scale)
    write_out("exports.md", section)
    print(section)
    for line in summary_lines(runs):
        print(line)
    return 0 if runs and all(goals_met(r) for run in runs for r in run["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
