"""The dashboard's words in the page's language: the charts' texts (each chart function lists the
keys it reads), the lighting classes, units, and how indicator values are written."""

from __future__ import annotations

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from village_survey.evaluations.labels import STAR_LABELS, chinese
from village_survey.surveys.labels import CODE_LABELS, FIELD_LABELS, STEP_LABELS

# The lighting of a household as one class (scoring.profile.lighting_class), not an answer.
LIGHTING_LABELS = {
    "efficient": _l("Efficient lamps only"),
    "mostly_efficient": _l("Mostly efficient lamps"),
    "mostly_incandescent": _l("Mostly incandescent lamps"),
    "no_lamps": _l("No lamps"),
}
# The answer each mix counts (its codes' labels are the survey's).
MIX_ANSWERS = {"cooking": "primary_stove", "heating": "heating", "hot_water": "hot_water"}
MIX_TITLES = {
    "cooking": _l("Cooking: primary stove"),
    "heating": _l("Space heating"),
    "hot_water": _l("Hot water"),
    "lighting": _l("Lighting"),
}


def locale_name() -> str:
    return str(get_locale() or "zh_CN")


def unit(indicator) -> str:
    """The unit a chart writes beside an indicator's value: % for shares, tonnes a person else
    (the indicator's name says CO2e; the chart has little room)."""
    return "%" if indicator["direction"] == "higher_better" else _("t/person")


def indicator_name(indicator) -> str:
    return indicator.get("label_zh" if chinese() else "label_en") or indicator["id"]


def indicator_value(indicator, value) -> str:
    """A value of an indicator as the headline shows it (a share as a percentage)."""
    if value is None:
        return "—"
    if indicator["direction"] == "higher_better":
        return format_percent(value, "#,##0.#%")
    return _("%(value)s t CO2e/person", value=format_decimal(round(value, 2)))


def grade_name(results) -> str:
    return results.get("grade_zh" if chinese() else "grade_en") or results.get("grade") or ""


def mix_label(which: str):
    if which == "lighting":
        return lambda code: str(LIGHTING_LABELS.get(code, code))
    labels = CODE_LABELS[MIX_ANSWERS[which]]
    return lambda code: str(labels.get(code, code))


def empty() -> str:
    return _("No approved surveys in this year: nothing to draw.")


def stars_texts(area: str) -> dict:
    return {"levels": "|".join(str(STAR_LABELS[n]) for n in sorted(STAR_LABELS)),
            "area": area, "axis": _("Share of approved farmhouses"), "total": _("Total"),
            "alt": _("{share} of the {total} approved farmhouses reach {level} ({count})."),
            "empty": empty()}


def targets_texts() -> dict:
    return {"indicator": _("Indicator"), "value": _("Value"), "target": _("Target"), "met": _("Met"),
            "not_met": _("Not met"), "axis": _("Share of the target reached"),
            "alt": _("{met} of {total} indicators meet their target."), "empty": empty()}


_MIX_ALTS = {
    "cooking": _l("{share} of {total} approved farmhouses cook with electricity, gas, biogas or the sun."),
    "heating": _l("{share} of {total} approved farmhouses heat without burning coal or biomass at home "
                  "(or need no heating)."),
    "hot_water": _l("{share} of {total} approved farmhouses heat water with the sun, a heat pump, "
                    "electricity or gas (or need none)."),
    "lighting": _l("{share} of {total} approved farmhouses light with efficient lamps only."),
}


def mix_texts(which: str) -> dict:
    option = {"cooking": FIELD_LABELS["primary_stove"], "heating": FIELD_LABELS["heating"],
              "hot_water": FIELD_LABELS["hot_water"], "lighting": STEP_LABELS["lighting"]}[which]
    alt = str(_MIX_ALTS[which])
    return {"option": str(option), "count": _("Households"), "share": _("Share"), "clean": _("Clean"),
            "other": _("Other"), "axis": _("Share of approved farmhouses"), "alt": alt,
            "alt_previous": alt + " " + _("Last year: {previous}."), "empty": empty()}


def pv_texts(area: str) -> dict:
    return {"area": area, "households": _("PV households"), "kwp": _("Capacity (kWp)"),
            "alt": _("{households} approved farmhouses have PV, {kwp} kWp in all; the most in {top_area}."),
            "empty": empty()}


def co2e_texts(area: str, reference_name: str) -> dict:
    return {"area": area, "value": _("Net CO2e per person"), "unit": _("t/person"),
            "reference": reference_name, "axis": _("Net CO2e per person"),
            "alt": _("{above} of {total} areas emit more per person than %(area)s as a whole ({reference}).",
                     area=reference_name),
            "empty": empty()}


def ranking_texts(area: str) -> dict:
    return {"rank": _("Rank"), "area": area, "score": _("Score"), "grade": _("Grade"),
            "axis": _("Score"),
            "alt": _("{best} ranks first with {score} points; {reached} of {total} areas reach {grade}."),
            "empty": _("No area has enough approved surveys for a grade yet.")}


def change_texts(year: int) -> dict:
    return {"indicator": _("Indicator"), "previous": str(year - 1), "current": str(year),
            "change": _("Change on the previous year"), "improved": _("Improved"), "worsened": _("Worsened"),
            "axis": _("Change from the previous year"),
            "alt": _("{improved} of {total} indicators improved on the previous year."), "empty": empty()}
