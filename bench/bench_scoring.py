"""Benchmark: score 100,000 synthetic farmhouses and aggregate them to villages, townships,
counties and the city; prints seconds and peak memory.

    python bench/bench_scoring.py [--farmhouses 100000] [--seed 2025]

The synthetic answers are generated first (not timed) as compact rows; the timed part turns each
row into an answers dict (as a database layer would), scores it to its FarmhouseRecord, holds all
records, then aggregates all levels. A later, traced pass measures peak Python memory with
tracemalloc (tracing slows Python down, so it is not the timed pass); ru_maxrss is the whole
process's peak, generated answers included.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEATING, HOT_WATER, STOVES, STRUCTURES, cpu_model, max_rss_mb, pick  # noqa: E402
from village_survey.scoring import (  # noqa: E402
    evaluate_areas, farmhouse_record, load_criteria, score_farmhouse, score_farmhouse_record,
)
from village_survey.survey_fields import FIELD_KEYS  # noqa: E402

COUNTIES = 13
TOWNSHIPS_PER_COUNTY = 8
VILLAGES_PER_TOWNSHIP = 6


def synthetic_answers(rng: random.Random) -> dict:
    """One farmhouse's plausible answers (form version 1), varied like a real survey season."""
    primary = pick(rng, STOVES)
    secondary = rng.choice(["none", "lpg", "electric", "traditional_wood", "improved_wood"])
    if secondary == primary:
        secondary = "none"
    pv = rng.random() < 0.25
    lamps = [rng.randint(0, 15), rng.randint(0, 6), rng.randint(0, 4)]
    if sum(lamps) == 0:
        lamps[0] = 1
    supply = rng.choice([24, 24, 24, 23.5, 20, 16, 12])
    answers = {
        "house_number": str(rng.randint(1, 999)), "head_name": "户主",
        "residents": rng.randint(0, 8), "survey_date": "2025-06-01",
        "year_built": rng.randint(1970, 2025), "storeys": rng.randint(1, 4),
        "floor_area_m2": round(rng.uniform(40, 400), 1),
        "structure": pick(rng, STRUCTURES),
        "safety_appraisal": rng.choice(["A", "B", "B", "C", "D", "none", "none"]),
        "visible_danger": rng.random() < 0.08,
        "roof_insulation": rng.random() < 0.4, "wall_insulation": rng.random() < 0.3,
        "efficient_windows": rng.random() < 0.45, "shading": rng.random() < 0.5,
        "energy_design": rng.choice(["yes", "no", "unknown"]),
        "green_materials": rng.random() < 0.4,
        "retrofit_year": rng.choice([None, None, None, rng.randint(2000, 2025)]),
        "biogas_digester": rng.choice(["none", "none", "none", "working", "broken"]),
        "primary_stove": primary, "secondary_stove": secondary,
        "stove_chimney": rng.random() < 0.6 if primary in ("traditional_wood", "improved_wood",
                                                           "coal") else None,
        "heating": pick(rng, HEATING), "hot_water": pick(rng, HOT_WATER),
        "ac_label_grade": rng.choice(["1", "2", "3", "4", "5", "no_ac", "unknown"]),
        "lamps_led": lamps[0], "lamps_cfl": lamps[1], "lamps_incandescent": lamps[2],
        "grid_connected": rng.random() < 0.99, "supply_hours": supply,
        "evening_hours": min(6, supply), "outages_per_week": rng.choice([0, 0, 1, 2, 5, 20]),
        "outage_hours_per_week": rng.choice([0, 0.5, 1, 3, 10]),
        "voltage_damage": rng.random() < 0.05,
        "electric_vehicle": rng.random() < 0.1, "electric_bike": rng.random() < 0.6,
        "electric_farm_machinery": rng.random() < 0.15, "smart_meter": rng.random() < 0.7,
        "pv_installed": pv,
    }
    if rng.random() < 0.8:
        answers["electricity_kwh"] = round(rng.uniform(300, 8000))
    else:
        answers["electricity_bill_yuan_month"] = str(rng.randint(20, 400))  # as a form sends it
    for key, chance, high in (("lpg_kg", 0.5, 300), ("piped_gas_m3", 0.1, 600),
                              ("coal_kg", 0.05, 1500), ("firewood_kg", 0.35, 4000),
                              ("straw_kg", 0.1, 2000), ("biogas_m3", 0.08, 400)):
        if rng.random() < chance:
            answers[key] = round(rng.uniform(0, high), 1)
    if pv:
        answers.update(pv_kwp=round(rng.uniform(1, 30), 1), pv_year=rng.randint(2015, 2025),
                       pv_location=rng.choice(["roof", "roof", "courtyard", "farm_building"]),
                       pv_mode=rng.choice(["self_use_surplus", "all_to_grid", "off_grid"]),
                       battery_kwh=rng.choice([0, 0, 5, 10]))
        if rng.random() < 0.5:
            answers["pv_generation_kwh"] = round(answers["pv_kwp"] * rng.uniform(800, 1300))
    return answers


def synthetic_city(farmhouses: int, seed: int):
    """Villages as (key, registered households, rows) and the village -> (township, county) map;
    rows are tuples in FIELD_KEYS order, far smaller than 100,000 dicts."""
    rng = random.Random(seed)
    village_keys = [(c, t, v) for c in range(COUNTIES) for t in range(TOWNSHIPS_PER_COUNTY)
                    for v in range(VILLAGES_PER_TOWNSHIP)]
    hierarchy = {f"v{c}-{t}-{v}": (f"t{c}-{t}", f"c{c}") for c, t, v in village_keys}
    rows_by_village: dict[str, list[tuple]] = {k: [] for k in hierarchy}
    keys = list(hierarchy)
    for _ in range(farmhouses):
        answers = synthetic_answers(rng)
        rows_by_village[rng.choice(keys)].append(tuple(answers.get(k) for k in FIELD_KEYS))
    villages = [(k, int(len(rows) / rng.uniform(0.25, 1.0)) + 1, rows)
                for k, rows in rows_by_village.items()]
    return villages, hierarchy


def score_all(villages, criteria, full: bool = False):
    """Every farmhouse scored to its record, all held in memory (a city's worst case).

    full=True builds each explainable FarmhouseResult first, as the farmhouse page does.
    """
    if full:
        def record(answers):
            return farmhouse_record(score_farmhouse(answers, criteria))
    else:
        def record(answers):
            return score_farmhouse_record(answers, criteria)
    return [(k, registered, [record(dict(zip(FIELD_KEYS, row))) for row in rows])
            for k, registered, rows in villages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--farmhouses", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the (slow) tracemalloc pass")
    args = parser.parse_args()

    criteria = load_criteria()
    started = time.perf_counter()
    villages, hierarchy = synthetic_city(args.farmhouses, args.seed)
    generated = time.perf_counter() - started
    rss_after_generation = max_rss_mb()

    started, cpu_started = time.perf_counter(), time.process_time()
    scored = score_all(villages, criteria)
    scoring = time.perf_counter() - started
    started = time.perf_counter()
    evaluations = evaluate_areas(scored, hierarchy, criteria)
    aggregation = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    del scored

    started = time.perf_counter()
    full_scored = score_all(villages, criteria, full=True)
    full_scoring = time.perf_counter() - started
    del full_scored

    n = evaluations.city.approved_surveys
    city = evaluations.city
    print(f"python {platform.python_version()}, nproc {os.cpu_count()}, {cpu_model()}")
    print(f"farmhouses {n}, villages {len(evaluations.villages)}, "
          f"townships {len(evaluations.townships)}, counties {len(evaluations.counties)}")
    print(f"city score {city.score:.2f}, grade {city.grade}, stars 0-3 {city.star_counts}")
    print(f"generate answers (not timed): {generated:.2f} s")
    print(f"score to records: {scoring:.2f} s ({scoring / max(1, n) * 1e6:.1f} µs per farmhouse)")
    print(f"aggregate all levels: {aggregation:.2f} s")
    # CPU time as well: on a shared machine other processes stretch the wall clock
    print(f"score + aggregate: {scoring + aggregation:.2f} s ({cpu:.2f} s CPU)")
    print(f"(full explainable results instead of records: {full_scoring:.2f} s)")
    print(f"peak process RSS: {max_rss_mb():.1f} MB "
          f"(after generating the answers: {rss_after_generation:.1f} MB)")

    if not args.no_trace:
        tracemalloc.start()
        evaluate_areas(score_all(villages, criteria), hierarchy, criteria)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak traced memory of score + aggregate (all records held): "
              f"{peak / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
