"""Explanations that results carry: a machine code and parameters for translation, and English.

Every "why" in a result is an Explanation: the UI translates by `code` with `params`; `why` is
the English sentence for logs, tests and the text report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# English sentences of the explanation codes that are not per criteria item.
TEMPLATES: Mapping[str, str] = {
    "electricity_from_bill": (
        "Electricity bought estimated from the monthly bill: 12 × {bill_yuan_month} yuan ÷ "
        "{tariff} yuan/kWh = {kwh} kWh."),
    "electricity_missing": (
        "Neither electricity kWh nor the monthly bill was answered: electricity bought taken "
        "as 0 kWh."),
    "pv_generation_estimated": (
        "PV generation not answered: estimated as {kwp} kWp × {pv_yield} kWh/kWp = {kwh} kWh."),
    "pv_capacity_missing": (
        "PV installed, but neither its generation nor its capacity was answered: generation "
        "taken as 0 kWh."),
    "pv_mode_assumed": (
        "PV mode not answered: taken as {mode} (self-use share {share})."),
    "fuel_missing_as_zero": "Fuel quantities not answered, taken as 0: {keys}.",
    "residents_missing": "Residents not answered: per-person figures use 1 person.",
    "residents_zero": "No permanent residents: per-person figures use 1 person.",
    "answers_missing": "Required answers missing, counted as not met: {keys}.",
    "too_few_surveys": (
        "{approved} approved surveys, fewer than the {minimum} a grade needs."),
    "coverage_too_low": (
        "Survey coverage {coverage} is below the {minimum} a grade needs."),
    "registered_households_unknown": (
        "The number of registered households is unknown, so survey coverage cannot be checked."),
    "no_surveys": "No approved surveys.",
}


def fmt(value: Any) -> str:
    """A value as a short English string: yes/no, numbers without float noise, lists joined."""
    if value is None:
        return "not answered"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share * 100:.1f}%".replace(".0%", "%")


@dataclass(frozen=True)
class Explanation:
    """A fixed explanation code with its parameters; `why` is written when read."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    display: Mapping[str, str] | None = None  # how a parameter reads in English, if not fmt()

    @property
    def why(self) -> str:
        shown = {k: fmt(v) for k, v in self.params.items()}
        shown.update(self.display or {})
        return TEMPLATES[self.code].format(**shown)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "why": self.why}


def explain(code: str, display: Mapping[str, str] | None = None, **params: Any) -> Explanation:
    """An explanation of a code of TEMPLATES (KeyError for an unknown code).

    `display` overrides how a parameter reads in English (a share as a percentage, say) while
    `params` keeps the number for translation.
    """
    if code not in TEMPLATES:
        raise KeyError(f"no English template for explanation code {code!r}")
    return Explanation(code, params, display)
