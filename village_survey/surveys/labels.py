"""Translated labels of the survey's steps, answer keys, units and codes (the keys stay as data)."""

from flask_babel import lazy_gettext as _l

from village_survey import field_labels

STEP_LABELS = {
    "household": _l("Household"),
    "building": _l("Building"),
    "energy": _l("Energy use, last 12 months"),
    "cooking": _l("Cooking"),
    "heating": _l("Heating and hot water"),
    "lighting": _l("Lighting"),
    "supply": _l("Electricity supply"),
    "pv": _l("Solar PV"),
    "notes": _l("Photos and notes"),
}

# The answers', codes' and statuses' msgids are kept once, in village_survey/field_labels.py.
FIELD_LABELS = {key: _l(msgid) for key, msgid in field_labels.FIELD_LABELS.items()}

UNIT_LABELS = {
    "persons": _l("persons"),
    "degrees": _l("degrees"),
    "m": _l("m"),
    "storeys": _l("storeys"),
    "m²": _l("m²"),
    "kWh / 12 months": _l("kWh / 12 months"),
    "yuan / month": _l("yuan / month"),
    "kg / 12 months": _l("kg / 12 months"),
    "m³ / 12 months": _l("m³ / 12 months"),
    "lamps": _l("lamps"),
    "hours / day": _l("hours / day"),
    "hours (18:00–24:00)": _l("hours (18:00–24:00)"),
    "outages / week": _l("outages / week"),
    "hours / week": _l("hours / week"),
    "kWp": _l("kWp"),
    "kWh": _l("kWh"),
}

CODE_LABELS = {key: {code: _l(msgid) for code, msgid in codes.items()}
               for key, codes in field_labels.CODE_LABELS.items()}

STATUS_LABELS = {status: _l(msgid) for status, msgid in field_labels.STATUS_LABELS.items()}

PHOTO_KIND_LABELS = {
    "house": _l("House front"),
    "roof": _l("Roof or PV"),
    "stove": _l("Stove"),
    "other": _l("Other"),
}

CHECK_MESSAGES = {
    "secondary_stove_differs": _l("The secondary stove must differ from the primary stove."),
    "evening_within_supply_hours": _l("Evening hours cannot be more than the hours a day."),
    "at_least_one_lamp": _l("Count at least one lamp."),
    "pv_capacity_positive": _l("The PV capacity must be more than 0 when PV is installed."),
    "biogas_needs_working_digester": _l("Biogas is used but the digester is not working: please check."),
}
