"""Run every benchmark in bench/ and print a summary (what `make bench` runs).

    .venv/bin/python bench/run.py [--quick]

Each benchmark runs as its own process with this Python, its output shown as it comes:
bench/ingest.py (the sync API under concurrent clients, on SQLite and PostgreSQL), then
bench/bench_scoring.py and any other bench/bench_*.py present, bench/offline_app.py,
bench/evaluate_db.py, bench/upload_memory.py (the server's memory under 8 photo uploads at
once), bench/review_queue.py (the review desk of a county of 50,000 surveys) and
bench/precomputed.py (the precomputed evaluations: rebuild, lists and dashboards of a county of
50,000 and a city of 600,000 surveys, the aggregates' update on approval), bench/exports.py and
bench/season.py (a survey season in Locust: 200 surveyors syncing, reviewers and viewers at once,
on SQLite and PostgreSQL, and the count of what was stored). --quick asks
each for a short run where it has one. The exit status is non-zero if any
benchmark failed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _supports(script: Path, option: str) -> bool:
    """Whether a script's --help mentions an option (the scoring benchmark has its own author)."""
    result = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True)
    return result.returncode == 0 and option in result.stdout


def _plan(quick: bool, ingest_json: Path):
    """(name, command, how to summarize) for each benchmark script that exists."""
    plan = []
    ingest = BENCH / "ingest.py"
    if ingest.exists():
        cmd = [sys.executable, str(ingest), "--json", str(ingest_json)] + (["--quick"] if quick else [])
        plan.append(("ingest", cmd, lambda output: _ingest_summary(ingest_json, output)))
    others = sorted(p for p in BENCH.glob("bench_*.py"))
    for script in others:
        cmd = [sys.executable, str(script)]
        if quick and script.name == "bench_scoring.py":
            if _supports(script, "--farmhouses"):
                cmd += ["--farmhouses", "20000"]
            if _supports(script, "--no-trace"):
                cmd += ["--no-trace"]
        plan.append((script.stem, cmd, _tail_summary))
    # The offline page (Chromium, throttled), the evaluation from the database, photo uploads.
    for name in ("offline_app.py", "evaluate_db.py", "upload_memory.py", "review_queue.py", "precomputed.py", "exports.py",
                 "season.py"):
        script = BENCH / name
        if script.exists():
            cmd = [sys.executable, str(script)]
            if quick and _supports(script, "--quick"):
                cmd.append("--quick")
            elif quick and name == "evaluate_db.py":
                cmd += ["--surveys", "20000"]
            plan.append((script.stem, cmd, _tail_summary))
    return plan


def _ingest_summary(path: Path, output: str) -> list[str]:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return _tail_summary(output)
    lines = []
    by_backend = {}
    for row in report["results"]:
        by_backend.setdefault((row["backend"], row.get("batch", 1)), []).append(row)
    for (backend, batch), rows in by_backend.items():
        best = max(rows, key=lambda r: r["ingest"]["per_second"])
        ingest, replay = best["ingest"], best.get("replay", {})
        errors = sum(r["ingest"]["errors"] + r.get("replay", {}).get("errors", 0) for r in rows)
        lines.append(f"{backend}, {batch} per request: best {ingest['per_second']:.0f} submissions/s (workers "
                     f"{best['workers']}, clients {best['clients']}, p95 {ingest['p95_ms']:.0f} ms), replays "
                     f"{replay.get('per_second', 0):.0f}/s; errors in all settings: {errors}")
    for row in report.get("season", []):
        lines.append(f"{row['backend']}, {row.get('batch', 1)} per request: season of {row['season']} surveys "
                     f"took {row['ingest']['seconds']:.0f} s")
    for backend, reason in report.get("skipped", {}).items():
        lines.append(f"{backend}: skipped ({reason})")
    lines += [f"FAILED: {failure}" for failure in report.get("failures", [])]
    return lines


def _tail_summary(output: str) -> list[str]:
    """The lines that state a verdict or a headline figure, shortened; else the last lines."""
    wanted = []
    for line in output.splitlines():
        if re.search(r"\bgoal\b|\bbudget\b:|score \+ aggregate|peak process RSS", line, re.IGNORECASE) \
                and not line.lower().startswith(("machine:", "settings:")):
            text = line.strip().lstrip("- ").replace("**", "")
            wanted.append(text if len(text) <= 160 else text[:157] + "...")
    return wanted[-4:] or [line.strip() for line in output.strip().splitlines()[-3:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run of each benchmark")
    args = parser.parse_args()
    summaries = []
    ingest_json = BENCH / "out" / f"ingest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for name, cmd, summarize in _plan(args.quick, ingest_json):
        shown = " ".join([str(Path(cmd[1]).relative_to(ROOT))] + cmd[2:])
        print(f"\n######## {name}: {shown}", flush=True)
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1)
        output = []
        for line in proc.stdout:
            print(line, end="", flush=True)
            output.append(line)
        status = proc.wait()
        elapsed = time.monotonic() - started
        summaries.append((name, status, elapsed, summarize("".join(output))))
    print("\n######## summary")
    for name, status, elapsed, lines in summaries:
        print(f"{name}: {'ok' if status == 0 else f'FAILED (exit {status})'} in {elapsed:.0f} s")
        for line in lines:
            print(f"    {line}")
    if not summaries:
        print("no benchmark scripts found in bench/")
    return 0 if summaries and all(status == 0 for _n, status, _e, _l in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
