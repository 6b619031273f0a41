"""Import of the village list from CSV: bad rows are reported by line, good rows are kept."""

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from village_survey.areas.models import County, Township, Village
from village_survey.evaluations import precomputed
from village_survey.extensions import db

COLUMNS = ("county_code", "township_code", "township_name", "village_code", "village_name",
           "registered_households")
MAX_ROWS = 20_000


class ImportFileError(ValueError):
    """The file as a whole cannot be read; nothing was imported."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    townships_created: int = 0
    errors: list = field(default_factory=list)  # (line number, message)


def decode(raw: bytes) -> str:
    # Excel in China saves CSV as GB18030 (GBK); everything else sends UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is neither UTF-8 nor GBK text."))


def _check_row(row, county_by_code):
    """Return (values, None) for a good row or (None, message) for a bad one."""
    values = {key: (row.get(key) or "").strip() for key in COLUMNS}
    county = county_by_code.get(values["county_code"])
    if county is None:
        return None, _("unknown county code %(code)s", code=values["county_code"])
    if not re.fullmatch(r"\d{9}", values["township_code"]) or not values["township_code"].startswith(county.code):
        return None, _("the township code must be 9 digits starting with the county code")
    if not re.fullmatch(r"\d{12}", values["village_code"]) or not values["village_code"].startswith(values["township_code"]):
        return None, _("the village code must be 12 digits starting with the township code")
    for key in ("township_name", "village_name"):
        if not values[key] or len(values[key]) > 60:
            return None, _("%(column)s must have 1 to 60 characters", column=key)
    try:
        households = int(values["registered_households"])
    except ValueError:
        return None, _("registered_households must be a whole number")
    if not 0 <= households <= 100_000:
        return None, _("registered_households must be between 0 and 100000")
    values["registered_households"] = households
    values["county"] = county
    return values, None


def import_villages(text: str) -> ImportResult:
    """Create or update townships and villages from CSV text (not committed)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(_("The first line must name the columns: %(columns)s. Missing: %(missing)s.",
                                columns=", ".join(COLUMNS), missing=", ".join(missing)))
    counties = {c.code: c for c in db.session.scalars(select(County))}
    townships = {t.code: t for t in db.session.scalars(select(Township))}
    villages = {v.code: v for v in db.session.scalars(select(Village))}
    result = ImportResult()
    seen = set()
    touched = []
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ImportFileError(_("The file is not valid CSV: %(reason)s", reason=str(error))) from error
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("At most %(n)d rows can be imported at once.", n=MAX_ROWS))
    for offset, row in enumerate(rows):
        line = offset + 2  # the header is line 1
        values, problem = _check_row(row, counties)
        if problem is None and values["village_code"] in seen:
            problem = _("village code %(code)s appears twice in the file", code=values["village_code"])
        township = townships.get(values["township_code"]) if values else None
        # Compared by object: a township created earlier in this file has no county_id until flushed.
        if problem is None and township is not None and township.county is not values["county"]:
            problem = _("township %(code)s belongs to another county", code=values["township_code"])
        if problem:
            result.errors.append((line, problem))
            continue
        seen.add(values["village_code"])
        if township is None:
            township = Township(code=values["township_code"], name=values["township_name"],
                                county=values["county"])
            db.session.add(township)
            townships[township.code] = township
            result.townships_created += 1
        village = villages.get(values["village_code"])
        if village is None:
            village = Village(code=values["village_code"])
            db.session.add(village)
            villages[village.code] = village
            result.created += 1
        else:
            result.updated += 1
        village.name = values["village_name"]
        village.township = township
        village.registered_households = values["registered_households"]
        touched.append(village)
    if touched:
        db.session.flush()
        precomputed.villages_changed([v.id for v in touched], moved=True)
    return result
