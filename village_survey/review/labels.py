"""Translated names of the review flags, short (badges, the filter) and in full (the survey page)."""

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from village_survey.surveys.labels import FIELD_LABELS

FLAG_LABELS = {
    "unusual_value": _l("Unusual answer"),
    "outside_area": _l("GPS outside the area"),
    "far_from_village": _l("GPS far from the village"),
    "gps_inaccurate": _l("GPS inaccurate"),
    "no_house_photo": _l("No photo of the house"),
    "changed_from_last_year": _l("Changed since last year"),
    "too_quick": _l("Done very quickly"),
}


def flag_badge(flag):
    """A flag in a few words: its name, and the answer it is about."""
    label = str(FLAG_LABELS.get(flag.get("code"), flag.get("code")))
    key = flag.get("key")
    if key and flag.get("code") in ("unusual_value", "changed_from_last_year"):
        return f"{label}: {FIELD_LABELS.get(key, key)}"
    return label


def flag_text(flag, display_value=None):
    """A flag in a sentence, with its figures (`display_value(key, value)` shows an answer)."""
    code, key = flag.get("code"), flag.get("key")
    field_name = str(FIELD_LABELS.get(key, key)) if key else ""
    show = display_value or (lambda _key, value: format_decimal(value))
    if code == "unusual_value":
        return _("Unusual answer, confirmed by the surveyor: %(field)s.", field=field_name)
    if code == "outside_area":
        return _("The GPS position lies outside %(area)s.", area=flag.get("area") or _("the area"))
    if code == "far_from_village":
        return _("The GPS position is %(km)s km from the other farmhouses of the village.",
                 km=format_decimal(flag.get("km", 0)))
    if code == "gps_inaccurate":
        return _("The GPS position is inaccurate: %(value)s m.", value=format_decimal(flag.get("value", 0)))
    if code == "no_house_photo":
        return _("There is no photo of the house.")
    if code == "changed_from_last_year":
        return _("%(field)s changed by %(share)s since last year: %(before)s → %(after)s.", field=field_name,
                 share=format_percent(flag.get("share", 0)), before=show(key, flag.get("before")),
                 after=show(key, flag.get("after")))
    if code == "too_quick":
        return _("Started and submitted within %(minutes)s minutes.", minutes=format_decimal(flag.get("minutes", 0)))
    return str(FLAG_LABELS.get(code, code))
