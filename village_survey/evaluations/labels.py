"""Translated words of the evaluation pages, and the helpers templates use to show results.

Criteria items carry their own Chinese and English labels (the set's data); what scoring
explains by a code (a default it used, why data is insufficient) is translated here by code,
with the English sentence of the result as the fallback for a code this table does not know.
"""

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from village_survey.i18n import LEVEL_LABELS
from village_survey.scoring import DEFAULT_CRITERIA, CriteriaError, load_criteria
from village_survey.survey_fields import FIELDS
from village_survey.surveys.labels import CODE_LABELS, FIELD_LABELS

LEVEL_PLURALS = {
    "village": _l("Villages"),
    "township": _l("Townships"),
    "county": _l("Counties"),
}
STAR_LABELS = {0: _l("no star"), 1: _l("one star"), 2: _l("two stars"), 3: _l("three stars")}
SORT_LABELS = {"score": _l("Score"), "name": _l("Name"), "coverage": _l("Coverage")}
CARRIER_LABELS = {
    "grid_electricity": _l("Grid electricity"),
    "pv_self_use": _l("Solar PV, self-used"),
    "lpg": _l("Bottled LPG"),
    "natural_gas": _l("Piped gas"),
    "coal": _l("Coal"),
    "firewood": _l("Firewood"),
    "straw": _l("Straw"),
    "biogas": _l("Biogas"),
}
# Derived measures that criteria items read besides the answers (scoring/measures.py).
MEASURE_LABELS = {
    "efficient_lamp_share": _l("Share of LED and fluorescent lamps"),
    "led_share": _l("Share of LED lamps"),
    "fuel_burnt_kgce": _l("Fuel burnt (kgce a year)"),
    "mtf_tier": _l("Electricity supply tier (MTF)"),
    "pv_capacity_kwp": _l("PV capacity (kWp)"),
    "pv_self_sufficiency": _l("PV generation ÷ electricity use"),
    "zero_carbon": _l("Zero-carbon farmhouse"),
}
_MEASURE_SHARES = ("efficient_lamp_share", "led_share", "pv_self_sufficiency")
# Units of the energy figures scoring gives (carriers' quantities, kWh and kg of standard coal).
UNIT_LABELS = {
    "kWh": _l("kWh"),
    "kg": _l("kg"),
    "m³": _l("m³"),
    "kgce": _l("kgce"),
}
# How Chinese area names end, by level: such a name says its level already ("泉兴村", "甲镇").
LEVEL_SUFFIXES = {
    "village": ("村", "社区", "居委会"),
    "township": ("镇", "乡", "街道", "街道办事处", "场"),
    "county": ("县", "区", "市"),
    "city": ("市",),
}
OUTCOME_LABELS = {
    "full": _l("full points"),
    "partial": _l("part of the points"),
    "none": _l("no points"),
    "not_answered": _l("not answered"),
    "met": _l("met"),
    "not_met": _l("not met"),
}
EXPLANATIONS = {
    "electricity_from_bill": _l("Electricity bought estimated from the monthly bill: 12 × "
                                "%(bill_yuan_month)s yuan ÷ %(tariff)s yuan/kWh = %(kwh)s kWh."),
    "electricity_missing": _l("Neither electricity kWh nor the monthly bill was answered: "
                              "electricity bought taken as 0 kWh."),
    "pv_generation_estimated": _l("PV generation not answered: estimated as %(kwp)s kWp × "
                                  "%(pv_yield)s kWh/kWp = %(kwh)s kWh."),
    "pv_capacity_missing": _l("PV installed, but neither its generation nor its capacity was "
                              "answered: generation taken as 0 kWh."),
    "pv_mode_assumed": _l("PV mode not answered: taken as %(mode)s (self-use share %(share)s)."),
    "fuel_missing_as_zero": _l("Fuel quantities not answered, taken as 0: %(keys)s."),
    "residents_missing": _l("Residents not answered: per-person figures use 1 person."),
    "residents_zero": _l("No permanent residents: per-person figures use 1 person."),
    "answers_missing": _l("Required answers missing, counted as not met: %(keys)s."),
    "too_few_surveys": _l("%(approved)s approved surveys, fewer than the %(minimum)s a grade "
                          "needs."),
    "coverage_too_low": _l("Survey coverage %(coverage)s is below the %(minimum)s a grade needs."),
    "registered_households_unknown": _l("The number of registered households is unknown, so "
                                        "survey coverage cannot be checked."),
    "no_surveys": _l("No approved surveys."),
}
# parameters that are shares, by explanation code ("minimum" is a count elsewhere)
_SHARES = {"coverage_too_low": ("coverage", "minimum"), "pv_mode_assumed": ("share",)}


def chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def label(entry) -> str:
    """The criteria set's own label of an item, category or indicator, in the page's language."""
    return entry.get("label_zh" if chinese() else "label_en") or entry.get("label_en") or entry["id"]


def grade_label(results) -> str:
    """The grade's word in the page's language: from the results, or for results stored without
    the words (the area rows of evaluations finalized before they carried them), from the
    criteria set's grades by code."""
    if results["insufficient_data"]:
        return _("insufficient data")
    word = results.get("grade_zh" if chinese() else "grade_en")
    if word:
        return word
    try:
        # the version the results were computed with (stored results carry it)
        criteria = load_criteria(results.get("criteria") or DEFAULT_CRITERIA,
                                 version=results.get("criteria_version"))
    except CriteriaError:
        return results["grade"]
    for grade in criteria.village.grades:
        if grade.code == results["grade"]:
            return grade.zh if chinese() else grade.en
    return results["grade"]


def level_after_name(name, level) -> str:
    """The level's word to show after an area's name, or "" where the name says it already
    (in Chinese, "泉兴村" needs no "村" after it)."""
    if chinese() and name and name.endswith(LEVEL_SUFFIXES.get(level, ())):
        return ""
    return str(LEVEL_LABELS[level])


def unit_label(unit) -> str:
    return str(UNIT_LABELS.get(unit, unit))


def _param(code, name, value):
    if name == "keys":
        return ", ".join(str(FIELD_LABELS.get(k, k)) for k in value)
    if name == "mode":
        return str(CODE_LABELS["pv_mode"].get(value, value))
    if name in _SHARES.get(code, ()) and isinstance(value, (int, float)):
        return format_percent(value, "#,##0.#%")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value)
    return str(value)


def explanation(entry) -> str:
    """An explanation of a result ({code, params, why}) in the page's language."""
    template = EXPLANATIONS.get(entry["code"])
    if template is None:
        return entry["why"]
    code = entry["code"]
    return str(template) % {k: _param(code, k, v) for k, v in entry.get("params", {}).items()}


def outcome(entry) -> str:
    """How an item or prerequisite came out, from the suffix of its code ("A1.full")."""
    word = entry["code"].rpartition(".")[2]
    return str(OUTCOME_LABELS.get(word, word))


def why(entry) -> str:
    """Why an item or prerequisite scored as it did: the result's English sentence, or in
    another language the answers and measures it read, labelled and shown as the survey shows
    them."""
    if not chinese():
        return entry["why"]
    shown = []
    for key, value in entry.get("params", {}).items():
        if isinstance(value, str):
            text = str(CODE_LABELS.get(key, {}).get(value, value))
        elif key in _MEASURE_SHARES and isinstance(value, (int, float)):
            text = format_percent(value, "#,##0.#%")
        elif key in FIELDS and FIELDS[key].type == "year" and isinstance(value, (int, float)):
            text = str(int(value))  # 2012, never "2,012"
        else:
            text = show_value(value)
        shown.append(f"{FIELD_LABELS.get(key) or MEASURE_LABELS.get(key, key)} = {text}")
    return "；".join(shown)


def show_value(value) -> str:
    """A criteria item's value as a person reads it."""
    if value is None:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, (int, float)):
        return format_decimal(value)
    if isinstance(value, list):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def breakdown_label(indicator, code) -> str:
    """The label of one code of the answer an indicator is broken down by ("courtyard": 院落)."""
    return str(CODE_LABELS.get(indicator.get("breakdown_key"), {}).get(code, code))


def _is_share(indicator) -> bool:
    # indicators that rise towards a target are rates and shares; the one that should fall is
    # an amount (net CO2e per person), shown as a number
    return indicator["direction"] == "higher_better"


def indicator_value(indicator) -> str:
    """An indicator's value: a share as a percentage, an amount as a number."""
    value = indicator["value"]
    if value is None:
        return "—"
    return format_percent(value, "#,##0.#%") if _is_share(indicator) else format_decimal(round(value, 2) + 0.0)


def indicator_target(indicator) -> str:
    target = indicator["target"]
    return format_percent(target, "#,##0.#%") if _is_share(indicator) else format_decimal(target)


TEMPLATE_HELPERS = {
    "LEVEL_PLURALS": LEVEL_PLURALS, "SORT_LABELS": SORT_LABELS,
    "STAR_LABELS": STAR_LABELS,
    "CARRIER_LABELS": CARRIER_LABELS, "label": label, "grade_label": grade_label,
    "level_after_name": level_after_name, "unit_label": unit_label,
    "explanation": explanation, "outcome": outcome, "show_value": show_value, "why": why,
    "indicator_value": indicator_value, "indicator_target": indicator_target,
    "breakdown_label": breakdown_label,
}
