"""What a token may read of a survey: answers without personal data (plain Python).

A token never gets personal data: the household head's name keeps its family name only (as
reports show it), a phone number only says that there is one, the GPS position is rounded to
0.01° (about 1 km: the village, not the house), and free text (notes) is left out, since people
write names and numbers in it.
"""

from village_survey import survey_fields as sf

GPS_DECIMALS = 2
GPS_KEYS = ("latitude", "longitude")
LEFT_OUT = ("notes",)
MASKED_PHONE = "***"


def mask_name(name):
    """The family name and two stars whatever the length ("王小明" → "王**")."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else None


def round_coordinate(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value), GPS_DECIMALS)


def masked_answers(answers):
    """A copy of a survey's answers fit for another platform."""
    masked = {}
    for key, value in (answers or {}).items():
        if key in LEFT_OUT:
            continue
        if key == "head_name":
            value = mask_name(value)
        elif key == "phone":
            value = MASKED_PHONE if value else None
        elif key in sf.PERSONAL_KEYS:
            value = None  # a personal field added later: left empty until someone decides
        elif key in GPS_KEYS:
            value = round_coordinate(value) if value is not None else None
        masked[key] = value
    return masked
