"""The method documents in docs/method/ say what the code does, and the code cites them.

- survey-fields.md: its generated tables are what docs/method/generate.py writes now;
- criteria.md: every factor of the criteria set with its value, unit, mark and year, every
  prerequisite, item, bonus item and village indicator with its points, weight and target, the
  grades, and the worked example's figures as the scoring computes them;
- village_survey/ cites documents of the repository only, and the sections it names exist.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from village_survey.scoring import load_criteria, score_farmhouse

ROOT = Path(__file__).resolve().parents[2]
METHOD = ROOT / "docs" / "method"
CRITERIA_DOC = METHOD / "criteria.md"
FIELDS_DOC = METHOD / "survey-fields.md"
PACKAGE = ROOT / "village_survey"


def _generator():
    spec = importlib.util.spec_from_file_location("docs_method_generate", METHOD / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row of `text` (header and separator rows included)."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.lstrip().startswith("|")]


def _rows_of(first_cell: str, text: str) -> list[list[str]]:
    return [row for row in _rows(text) if row[0] == first_cell]


def _number(cell: str) -> float:
    found = re.search(r"-?\d+(?:\.\d+)?", cell.replace(" ", ""))
    assert found, f"no number in {cell!r}"
    return float(found.group())


@pytest.fixture(scope="module")
def criteria_doc() -> str:
    return CRITERIA_DOC.read_text(encoding="utf-8")


# ---------------------------------------------------------------- survey-fields.md

def test_the_generated_survey_fields_section_is_up_to_date():
    generate = _generator()
    text = FIELDS_DOC.read_text(encoding="utf-8")
    assert generate.updated(text) == text, (
        "docs/method/survey-fields.md is out of date: run .venv/bin/python docs/method/generate.py")


def test_the_survey_fields_document_lists_every_key_and_code():
    from village_survey import survey_fields
    text = FIELDS_DOC.read_text(encoding="utf-8")
    for key, field in survey_fields.FIELDS.items():
        assert len(_rows_of(f"`{key}`", text)) == 1, key
        for code in field.codes:
            assert f"| `{code}` |" in text, (key, code)
    for check in survey_fields.CROSS_CHECKS:
        assert len(_rows_of(f"`{check.code}`", text)) == 1, check.code


def test_regenerating_rewrites_only_the_marked_section():
    generate = _generator()
    text = FIELDS_DOC.read_text(encoding="utf-8")
    stale = text.replace(generate.END, "| `stale` | row |\n" + generate.END)
    fresh = generate.updated(stale)
    assert fresh == text
    assert fresh.split(generate.BEGIN)[0] == text.split(generate.BEGIN)[0]


# ---------------------------------------------------------------- criteria.md

@pytest.mark.parametrize("version", [1, 2])
def test_every_factor_is_documented_with_its_value_unit_mark_and_year(criteria_doc, version):
    criteria = load_criteria("jiujiang-2025", version=version)
    assert criteria.factors
    for fid, factor in criteria.factors.items():
        rows = _rows_of(f"`{fid}`", criteria_doc)
        assert len(rows) == 1, f"factor {fid} must have one row in criteria.md, has {len(rows)}"
        _, value, unit, mark, year, source = rows[0][:6]
        assert float(value) == factor.value, (fid, value, factor.value)
        assert (unit, mark, year) == (factor.unit, factor.confidence, str(factor.year)), fid
        assert source, fid


def test_every_factor_row_of_the_document_is_a_factor_of_the_set(criteria_doc):
    factors = load_criteria().factors
    header = ["id", "value", "unit", "mark", "year"]
    documented = set()
    lines = criteria_doc.splitlines()
    in_factor_table = False
    for line in lines:
        if not line.lstrip().startswith("|"):
            in_factor_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:5] == header:
            in_factor_table = True
        elif in_factor_table and not set(cells[0]) <= set("-"):
            documented.add(cells[0].strip("`"))
    assert documented == set(factors)


def test_every_prerequisite_item_and_bonus_item_is_documented_with_its_points(criteria_doc):
    criteria = load_criteria()
    for p in criteria.prerequisites:
        rows = _rows_of(p.id, criteria_doc)
        assert len(rows) == 1 and p.label_zh in rows[0][1], p.id
    items = [i for c in criteria.categories for i in c.items] + list(criteria.bonus.items)
    for item in items:
        rows = _rows_of(item.id, criteria_doc)
        assert len(rows) == 1, item.id
        assert _number(rows[0][-1]) == item.max, (item.id, rows[0][-1], item.max)
        assert item.label_zh in rows[0][1], item.id
    for category in criteria.categories:
        assert f"**{category.id} {category.label_en} ({category.label_zh})**, {category.max:g} points" \
            in criteria_doc, category.id
    assert f"At most {criteria.bonus.cap:g} points" in criteria_doc


def test_every_village_indicator_is_documented_with_its_weight_and_target(criteria_doc):
    criteria = load_criteria()
    for indicator in criteria.village.indicators:
        rows = _rows_of(f"`{indicator.id}`", criteria_doc)
        assert len(rows) == 1, indicator.id
        _, name, _, weight, target = rows[0][:5]
        assert indicator.label_zh in name, indicator.id
        assert _number(weight) == indicator.weight, indicator.id
        documented = _number(target) / (100 if "%" in target else 1)
        assert documented == pytest.approx(indicator.target), (indicator.id, target)
    previous = None
    for grade in criteria.village.grades:  # best first
        rows = _rows_of(grade.zh, criteria_doc)
        assert len(rows) == 1 and rows[0][1] == f"`{grade.code}`", grade.code
        # the lowest grade (from 0) reads "below the one above it"
        bound = f"≥ {grade.min_score:g}" if grade.min_score > 0 else f"< {previous:g}"
        assert rows[0][2] == bound, (grade.code, rows[0][2])
        previous = grade.min_score
    village = criteria.village
    assert f"fewer than {village.min_approved_surveys} approved" in criteria_doc
    assert f"below {village.min_coverage * 100:g} %" in criteria_doc


def test_the_totals_and_stars_are_the_sets(criteria_doc):
    criteria = load_criteria()
    q0 = f"Q0 = {criteria.prerequisite_points:g} when all four prerequisites hold"
    assert q0 in criteria_doc and f"÷ {criteria.divisor:g},  at most {criteria.cap:g}" in criteria_doc
    thresholds = ", ".join(f"{t:g}" for t in criteria.star_thresholds[:-1])
    assert f"Q ≥ {thresholds} and {criteria.star_thresholds[-1]:g}" in criteria_doc
    assert f"at {criteria.category_floor_percent:g} % of its maximum" in criteria_doc
    shares = criteria.carbon.pv_self_use_share
    for mode, share in shares.items():
        assert re.search(rf"`{mode}` {share:g}\b|`{mode}` {share:.2f}\b", criteria_doc), mode


def test_the_worked_example_is_what_the_scoring_computes(criteria_doc):
    answers = {"electricity_kwh": 2400, "lpg_kg": 90, "firewood_kg": 500, "coal_kg": 0,
               "straw_kg": 0, "piped_gas_m3": 0, "biogas_m3": 0, "pv_installed": True,
               "pv_kwp": 3, "pv_mode": "self_use_surplus", "residents": 4}
    result = score_farmhouse(answers, load_criteria())
    energy, carbon = result.energy, result.carbon
    figures = {
        "G = 3 × 1095 = {:g} kWh": energy.pv_generation_kwh,
        "S = 0.30 × 3285 = {:g} kWh": energy.pv_self_consumed_kwh,
        "X = {:g} kWh": energy.pv_exported_kwh,
        "U = 2400 + 985.5 = {:g} kWh": energy.use_kwh,
        "Gross = 1400.64 + 279.117 + 78.991 = {:.3f} kg CO2e": carbon.gross_kgco2e,
        "1341.9882 kg; net = {:.4f} kg CO2e": carbon.net_kgco2e,
        "{:.2f} kg per person": carbon.net_kgco2e_per_person,
        "0.00835 × 112000 = {:.1f} kg": carbon.biogenic_co2_kg,
        "= {:.2f} kgce; modern renewable": energy.final_kgce,
        "{:.2f} kgce, a share of": energy.modern_renewable_kgce,
        "a share of {:.1f} %": energy.modern_renewable_share * 100,
    }
    for template, value in figures.items():
        assert " ".join(template.format(value).split()) in " ".join(criteria_doc.split()), template
    assert round(carbon.avoided_kgco2e, 4) == 1341.9882
    assert not result.zero_carbon and "Not zero-carbon" in criteria_doc


# ---------------------------------------------------------------- citations in village_survey/

# Names of the design documents kept outside the repository (the lead's working notes).
OUTSIDE = re.compile(r"(?<![\w/.-])(?:CRITERIA|SURVEY-FIELDS|DESIGN|STYLE|TOOLCHAIN)\.md\b"
                     r"|/work/shared|shared/design|shared/reference")
TEXT_SUFFIXES = {".py", ".toml", ".html", ".js", ".css", ".txt", ".md", ".json", ".cfg", ".ini"}

# Citations left in place on purpose, each with its reason; a new one fails the test.
TOLERATED = {
    # frozen: version 1 of the set is kept byte for byte (tests/scoring/test_criteria_loading.py
    # pins its body) so that evaluations finalized with it are reproduced unchanged
    "village_survey/scoring/criteria/jiujiang-2025.v1.toml": None,
}


def _package_text_files():
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
            yield path, path.relative_to(ROOT).as_posix()


def test_no_file_of_the_package_cites_a_document_outside_the_repository():
    found = []
    for path, name in _package_text_files():
        tolerated = TOLERATED.get(name, set())
        if tolerated is None:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line) and line.strip() not in tolerated:
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "cite docs/method/… (in the repository) instead:\n" + "\n".join(found)


CITATION = re.compile(r"(docs/[\w./-]+\.md)(?:,\s*(?:section\s*)?\"([^\"]+)\")?")


def test_the_documents_and_sections_the_package_cites_exist():
    cited = 0
    for path, name in _package_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for doc, section in CITATION.findall(line):
                cited += 1
                target = ROOT / doc
                assert target.is_file(), f"{name}:{number} cites {doc}, which does not exist"
                if section:
                    headings = {h.lstrip("#").strip() for h in
                                target.read_text(encoding="utf-8").splitlines()
                                if h.startswith("#")}
                    assert any(h == section or h.startswith(section + " ") or
                               h.startswith(section + ":") for h in headings), (
                        f"{name}:{number} cites section {section!r} of {doc}, which has none")
    assert cited >= 5  # carbon, farmhouse, aggregate, the set's file, survey_fields
