"""Benchmark: the PDF reports (issue 12): a village evaluation report, the annual report of a county
of 300 villages and the city's annual report over 600,000 generated households.

    .venv/bin/python bench/reports.py [--quick] [--datasets county,city] [--keep]

Data as bench/precomputed.py builds it (its `build`, with 20 villages per township instead of 12,
so that a county has 15 × 20 = 300 villages): an SQLite database through the migrations, Core
bulk inserts of demo answers, 80 % of the surveys approved, a quarter of the households with last
year's survey; then `precomputed.rebuild` (the figures every report reads). "county": 50,000
surveys in the county reported on; "city": 600,000 over the 13 county-level units.

Each report is rendered in its own process (`render.render_report`, inside an app context, zh_CN,
names masked), twice: cold (the first report of a fresh worker: imports of WeasyPrint and
matplotlib, font loading, charts drawn) and warm (the charts' and maps' caches cleared, so the
charts are drawn again, but the libraries loaded); the process's peak resident memory (VmHWM)
is read after each. Reported: seconds, pages and bytes. Goals: village ≤ 1.5 s, county of
300 villages ≤ 15 s, city ≤ 60 s, peak memory ≤ 600 MB. --quick builds a tenth of the data.
The markdown section printed at the end is also written to bench/out/reports.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import app_for, cpu_model, write_out  # noqa: E402

GOALS = {"village": 1.5, "county": 15.0, "city": 60.0}
GOAL_MB = 600
YEAR = 2026


def build(url: str, dataset: str, scale: float, seed: int) -> dict:
    from bench import precomputed as data

    data.VILLAGES_PER_TOWNSHIP = 20  # 15 townships × 20 = 300 villages a county
    seconds, this_year, last_year = data.build(url, dataset, scale, seed)
    rebuilt = data.rebuild(url)
    return {"build_s": seconds, "surveys": this_year, "last_year": last_year, "rebuild_s": rebuilt["seconds"]}


def _pick_village(app) -> int:
    """A village of the county reported on with about the median number of approved surveys."""
    from sqlalchemy import func, select

    from village_survey.areas.models import Household, Township, Village
    from village_survey.extensions import db
    from village_survey.surveys.models import Survey

    with app.app_context():
        rows = db.session.execute(
            select(Village.id, func.count()).join(Household, Household.village_id == Village.id)
            .join(Survey, Survey.household_id == Household.id).join(Township, Village.township_id == Township.id)
            .where(Township.county_id == 1, Survey.year == YEAR, Survey.status == "approved")
            .group_by(Village.id).order_by(func.count(), Village.id)).all()
        return rows[len(rows) // 2][0], rows[len(rows) // 2][1]


def peak_mb() -> float:
    """This process's peak resident memory: VmHWM where Linux gives it, which starts anew at exec
    (getrusage's ru_maxrss does not: a child started right after the build of the city's data
    inherited the builder's 629 MB as its own peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_in_this_process(url: str, kind: str, ident: int | None, out: str) -> dict:
    """Render one report twice (cold, then warm with the drawing caches cleared)."""
    started = time.perf_counter()
    from village_survey.dashboards import drawing
    from village_survey.evaluations.precomputed import CITY, Area
    from village_survey.evaluations.services import criteria_named
    from village_survey.maps import services as maps
    from village_survey.reports.render import render_report

    app = app_for(url)
    imports = time.perf_counter() - started
    runs = []
    with app.app_context():
        criteria = criteria_named(None)
        area = CITY if kind == "city" else Area(kind, ident)
        for attempt in ("cold", "warm"):
            drawing.clear_cache()
            maps.cache.clear()
            pages_seen = []
            load = os.getloadavg()[0]
            started, cpu_started = time.perf_counter(), time.process_time()
            peaks = {}  # the process's peak memory as each stage began (where a peak comes from)

            def heard(stage, page, pages_seen=pages_seen, peaks=peaks):
                pages_seen.append((stage, page, time.perf_counter()))
                peaks.setdefault(stage, round(peak_mb()))

            report = render_report(kind, area, YEAR, criteria, "zh_CN", False, heard)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            first_page = next((t for s, p, t in pages_seen if s == "rendering" and p == 1), None)
            charts = next((t for s, p, t in pages_seen if s == "charts"), None)
            runs.append({"attempt": attempt, "seconds": seconds, "cpu_s": cpu, "load": load,
                         "peak_mb": peak_mb(), "peak_at_stage": peaks,
                         "pages": report.pages, "bytes": len(report.pdf),
                         "data_s": (charts - started) if charts else None,
                         "charts_html_s": (first_page - charts) if first_page and charts else None,
                         "layout_pdf_s": (started + seconds - first_page) if first_page else None})
            Path(out).write_bytes(report.pdf)
    return {"kind": kind, "imports_s": imports, "runs": runs, "peak_mb": peak_mb()}


def render_elsewhere(url: str, kind: str, ident: int | None, out: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--render", url, kind, str(ident or 0), out],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        raise SystemExit(f"rendering {kind} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cpu() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores"


def markdown(results: list[dict], datasets: dict, quick: bool) -> str:
    lines = [
        "## PDF reports",
        "",
        f"`bench/reports.py{' --quick' if quick else ''}` on {platform.platform()}, {_cpu()}, Python "
        f"{platform.python_version()}, SQLite. Data as bench/precomputed.py builds it (20 villages a township): "
        + ", ".join(f"{name}: {d['surveys']:,} surveys this year ({d['last_year']:,} last year), built in "
                    f"{d['build_s']:.0f} s, figures rebuilt in {d['rebuild_s']:.0f} s" for name, d in datasets.items())
        + ". Each report rendered in its own process, zh_CN, names masked: cold (the worker's first report) "
          "and warm (libraries loaded; chart and map caches cleared, so every chart is drawn again). "
          "CPU time: the process's own (what the report costs whatever else runs); load average: the "
          "machine's (1 minute) as the warm report began.",
        "",
        "| report | pages | PDF size | cold | warm | warm, CPU time | load average | of which: data | charts + HTML "
        "| layout + PDF | peak memory (first report; both) | goal |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cold, warm = r["runs"]
        goal = GOALS[r["kind"]]
        ok = warm["seconds"] <= goal and r["peak_mb"] <= GOAL_MB
        lines.append(
            f"| {r['label']} | {warm['pages']} | {warm['bytes'] / 1024:,.0f} KB | {cold['seconds']:.2f} s | "
            f"{warm['seconds']:.2f} s | {warm['cpu_s']:.2f} s | {warm['load']:.1f} | {warm['data_s']:.2f} s | {warm['charts_html_s']:.2f} s | "
            f"{warm['layout_pdf_s']:.2f} s | {cold['peak_mb']:.0f} MB; {r['peak_mb']:.0f} MB | ≤ {goal:g} s, ≤ {GOAL_MB} MB: "
            f"{'OK' if ok else 'MISSED'} |")
    lines += ["", "Cold adds the worker's imports (WeasyPrint, matplotlib, fonts) once: "
              + ", ".join(f"{r['label']} {r['imports_s']:.1f} s" for r in results) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--render":
        _flag, url, kind, ident, out = sys.argv[1:6]
        print(json.dumps(render_in_this_process(url, kind, int(ident) or None, out)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--datasets", default="county,city")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the databases and PDFs (printed)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    folder = Path(tempfile.mkdtemp(prefix="reports-bench-"))
    results, datasets = [], {}
    try:
        for dataset in args.datasets.split(","):
            url = f"sqlite:///{folder / (dataset + '.db')}"
            print(f"building {dataset} …", file=sys.stderr)
            datasets[dataset] = build(url, dataset, scale, args.seed)
            if dataset == "county":
                village, approved = _pick_village(app_for(url))
                result = render_elsewhere(url, "village", village, str(folder / "village.pdf"))
                result["label"] = f"village ({approved} approved surveys)"
                results.append(result)
                result = render_elsewhere(url, "county", 1, str(folder / "county.pdf"))
                result["label"] = "county (300 villages)"
                results.append(result)
            else:
                result = render_elsewhere(url, "city", None, str(folder / "city.pdf"))
                result["label"] = f"city ({datasets[dataset]['surveys']:,} surveys)"
                results.append(result)
            print(json.dumps(results[-1]), file=sys.stderr)
        text = markdown(results, datasets, args.quick)
        print(text)
        write_out("reports.md", text)
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
