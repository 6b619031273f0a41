"""Review flags: what a reviewer should look at in a survey, worked out from plain values.

Pure Python (no Flask, no database): `survey_flags(facts, rules)` takes the survey's answers and
what is known around it (the warnings the surveyor confirmed, where the village's other
farmhouses lie, the county's boundary or the area's bounds, the photos, last year's answers, the
time taken) and returns the flags as JSON-ready dicts `{"code": ..., "key": <answer key or None>,
...}`. The thresholds are `FlagRules`. Where a farmhouse may lie: the county's polygon shipped in
`village_survey.geo` (with a tolerance; given as `SurveyFacts.boundary`), else a rectangle of the
data file `bounds.toml` (read by `load_bounds`): the county's own if the file has one (it wins
over the polygon), else the city's."""

from __future__ import annotations

import datetime as dt
import math
import statistics
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Sequence

BOUNDS_FILE = Path(__file__).with_name("bounds.toml")

# In the order a reviewer reads them (and the queue's flag filter offers them).
FLAG_CODES = (
    "unusual_value",  # an answer outside its usual range, confirmed by the surveyor
    "outside_area",  # GPS outside the county's boundary (or the bounds file's rectangle)
    "far_from_village",  # GPS far from the other farmhouses of the village
    "gps_inaccurate",  # GPS accuracy worse than the rule allows
    "no_house_photo",  # no photo of the kind "house"
    "changed_from_last_year",  # a number changed by more than the rule's share since last year
    "too_quick",  # started and submitted within fewer minutes than the rule's minimum
)
# Warnings already told by a flag of their own (the form warns about GPS accuracy above 50 m too).
_OWN_FLAG_KEYS = frozenset({"gps_accuracy_m", "latitude", "longitude"})


@dataclass(frozen=True)
class Box:
    """A latitude/longitude rectangle (WGS-84 degrees), bounds included."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    name: str = ""

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


class Boundary(Protocol):
    """A county's polygon (`village_survey.geo.Boundary`)."""

    name: str

    def outside(self, lat: float, lon: float, accuracy_m: float | None, tolerance_m: float) -> bool: ...


@dataclass(frozen=True)
class FlagRules:
    """The thresholds of the flags; the app's REVIEW_FLAG_RULES setting overrides any of them."""

    max_gps_accuracy_m: float = 50.0
    # Metres beyond a county's polygon still taken as in it, besides the position's stated accuracy:
    # a phone may give GCJ-02 (about 600 m off here), and the polygons are simplified (about 200 m).
    boundary_tolerance_m: float = 1000.0  # as geo.DEFAULT_TOLERANCE_M
    max_village_distance_km: float = 3.0
    # The village's centre is the median of its other farmhouses: too few make no centre.
    min_village_farmhouses: int = 3
    max_change_share: float = 0.5
    compared_keys: tuple[str, ...] = (
        "residents", "storeys", "floor_area_m2", "electricity_kwh", "electricity_bill_yuan_month",
        "lpg_kg", "piped_gas_m3", "coal_kg", "firewood_kg", "straw_kg", "biogas_m3", "pv_kwp",
    )
    min_minutes: float = 3.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> "FlagRules":
        """The default rules with `settings` ({field name: value}) put in; unknown names are an error."""
        settings = dict(settings or {})
        unknown = set(settings) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown review flag rules: {', '.join(sorted(unknown))}")
        if "compared_keys" in settings:
            settings["compared_keys"] = tuple(settings["compared_keys"])
        return cls(**settings)


@dataclass(frozen=True)
class SurveyFacts:
    """What the flags of one survey are computed from, all plain values."""

    answers: Mapping[str, Any]
    warning_keys: Iterable[str] = ()  # keys with a warning of the form's checks
    village_points: Sequence[tuple[float, float]] = ()  # (lat, lon) of the village's other farmhouses
    area: Box | None = None  # where the farmhouse must lie, when there is no boundary
    boundary: Boundary | None = None  # the county's polygon: where the farmhouse must lie
    has_house_photo: bool = False
    last_year: Mapping[str, Any] | None = None  # the household's previous survey's answers
    started_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None


RULES = FlagRules()


def load_bounds(path: str | Path = BOUNDS_FILE) -> dict[str, Box]:
    """The areas' bounds by key ("city", or a county's division code) from a TOML file.

    Each table has `lat = [min, max]` and `lon = [min, max]`; a mistake names the file and table.
    """
    path = Path(path)
    with path.open("rb") as f:
        data = tomllib.load(f)
    tables = {}
    if "city" in data:
        tables["city"] = data["city"]
    for code, table in data.get("counties", {}).items():
        tables[str(code)] = table
    bounds = {}
    for key, table in tables.items():
        try:
            (lat_min, lat_max), (lon_min, lon_max) = table["lat"], table["lon"]
            box = Box(float(lat_min), float(lat_max), float(lon_min), float(lon_max), str(table.get("name", "")))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path.name}: [{key}] needs lat = [min, max] and lon = [min, max]") from None
        if not (box.lat_min < box.lat_max and box.lon_min < box.lon_max):
            raise ValueError(f"{path.name}: [{key}] has a minimum above its maximum")
        bounds[key] = box
    return bounds


def area_of(bounds: Mapping[str, Box], county_code: str | None) -> Box | None:
    """The county's own bounds if the file has them, else the city's (None if neither)."""
    return bounds.get(county_code or "") or bounds.get("city")


def _outside(facts: SurveyFacts, rules: FlagRules, lat: float, lon: float) -> str | None:
    """The name of the area the position lies outside of, or None."""
    if facts.boundary is not None:
        accuracy = _number(facts.answers.get("gps_accuracy_m"))
        if facts.boundary.outside(lat, lon, accuracy, rules.boundary_tolerance_m):
            return facts.boundary.name
        return None
    if facts.area is not None and not facts.area.contains(lat, lon):
        return facts.area.name
    return None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _location_flags(facts: SurveyFacts, rules: FlagRules) -> list[dict]:
    lat, lon = _number(facts.answers.get("latitude")), _number(facts.answers.get("longitude"))
    flags = []
    if lat is not None and lon is not None:
        area = _outside(facts, rules, lat, lon)
        if area is not None:
            flags.append({"code": "outside_area", "key": "latitude", "area": area})
        points = [(p_lat, p_lon) for p_lat, p_lon in facts.village_points
                  if _number(p_lat) is not None and _number(p_lon) is not None]
        if len(points) >= rules.min_village_farmhouses:
            centre = (statistics.median(p[0] for p in points), statistics.median(p[1] for p in points))
            km = distance_km((lat, lon), centre)
            if km > rules.max_village_distance_km:
                flags.append({"code": "far_from_village", "key": "latitude", "km": round(km, 1)})
    accuracy = _number(facts.answers.get("gps_accuracy_m"))
    if accuracy is not None and accuracy > rules.max_gps_accuracy_m:
        flags.append({"code": "gps_inaccurate", "key": "gps_accuracy_m", "value": accuracy})
    return flags


def _changes_from_last_year(facts: SurveyFacts, rules: FlagRules) -> list[dict]:
    """Numbers that changed by more than the rule's share of last year's value (a change from 0
    has no share and is not flagged: a household that starts using bottled gas is no anomaly)."""
    if not facts.last_year:
        return []
    flags = []
    for key in rules.compared_keys:
        before, after = _number(facts.last_year.get(key)), _number(facts.answers.get(key))
        if before is None or after is None or before == 0:
            continue
        share = abs(after - before) / abs(before)
        if share > rules.max_change_share:
            flags.append({"code": "changed_from_last_year", "key": key, "before": facts.last_year[key],
                          "after": facts.answers[key], "share": round(share, 2)})
    return flags


def _too_quick(facts: SurveyFacts, rules: FlagRules) -> list[dict]:
    if facts.started_at is None or facts.submitted_at is None:
        return []
    minutes = (facts.submitted_at - facts.started_at).total_seconds() / 60
    if 0 <= minutes < rules.min_minutes:
        return [{"code": "too_quick", "key": None, "minutes": round(minutes, 1)}]
    return []


def survey_flags(facts: SurveyFacts, rules: FlagRules = RULES) -> list[dict]:
    """The flags of a survey, in the order of FLAG_CODES (then by the form's order of keys)."""
    flags = [{"code": "unusual_value", "key": key} for key in dict.fromkeys(facts.warning_keys)
             if key not in _OWN_FLAG_KEYS]
    flags += _location_flags(facts, rules)
    if not facts.has_house_photo:
        flags.append({"code": "no_house_photo", "key": None})
    flags += _changes_from_last_year(facts, rules)
    flags += _too_quick(facts, rules)
    return flags


def after_photo(flags: Iterable[Mapping[str, Any]], kind: str) -> list[dict] | None:
    """A survey's flags once a photo of `kind` is added, or None when they do not change: a photo
    of the house clears "no photo of the house", and nothing else depends on photos."""
    flags = list(flags or ())
    if kind != "house" or not any(flag.get("code") == "no_house_photo" for flag in flags):
        return None
    return [dict(flag) for flag in flags if flag.get("code") != "no_house_photo"]


def flag_codes(flags: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct codes of a survey's flags, in FLAG_CODES order."""
    present = {flag.get("code") for flag in flags}
    return [code for code in FLAG_CODES if code in present]
