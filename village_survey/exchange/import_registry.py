"""Import of the registry: villages (with their township and registered households) and their
households (house number, head's name, phone), one household a row, in the export's columns.

A row with a village but no house number is the village alone. Admins create and change
villages and townships anywhere; reviewers add and correct households of their county's
villages (a village they would change is refused, with the row named). Nothing is deleted: a
household missing from the file stays. `plan` only reads; `apply` writes the planned rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from village_survey import access
from village_survey.access import villages_query
from village_survey.areas.models import County, Household, Township, Village
from village_survey.areas.natural import natural_key
from village_survey.evaluations import precomputed
from village_survey.exchange import columns as exchange_columns
from village_survey.exchange.import_report import Outcome, Report
from village_survey.exchange.import_table import chunks, read_table, translators
from village_survey.extensions import db
from village_survey.surveys.forms import answers_to_formdata, check_formdata

REGISTERED = exchange_columns.Column("registered_households", exchange_columns.N_("Registered households"), "int",
                                     "area")
AREA_KEYS = ("county_code", "township_code", "township_name", "village_code", "village_name")
HOUSEHOLD_KEYS = ("house_number", "head_name", "phone")
# The survey year is read only to choose among the rows of one household in an export of several
# years (the latest year's head and phone); the export's other columns are read past.
COLUMNS = ([exchange_columns.column(k) for k in AREA_KEYS] + [REGISTERED]
           + [exchange_columns.column(k) for k in HOUSEHOLD_KEYS + ("year",)])
IGNORED = [c for c in exchange_columns.SURVEY_COLUMNS if c not in COLUMNS]
REQUIRED = ("village_code",)
VILLAGE_FIELDS = ("village_name", "registered_households", "township_code")
MAX_REGISTERED = 100_000
HOUSEHOLD_OUTCOMES = ("new_household", "household_changed")
NAME_LENGTH = 60


@dataclass
class PlannedVillage:
    row: int
    code: str
    village: Village | None  # None: new
    values: dict  # the village's columns as the file gives them (only those given)
    changes: tuple = ()
    county: County | None = None


@dataclass
class PlannedHousehold:
    row: int
    village_code: str
    house_number: str
    household: Household | None
    head_name: str | None
    phone: str | None
    phone_given: bool
    changes: tuple = ()
    year: int | None = None


@dataclass
class RegistryPlan:
    report: Report
    villages: dict = field(default_factory=dict)  # code → PlannedVillage (first row naming it)
    households: dict = field(default_factory=dict)  # row → PlannedHousehold


def _text(value):
    return str(value).strip() if value is not None else None


def plan(user, sheet, filename="", progress=None) -> RegistryPlan:
    report = Report("registry", filename=filename)
    result = RegistryPlan(report)
    table = read_table(sheet, COLUMNS, IGNORED, REQUIRED)
    report.file_problems.extend(table.problems)
    if table.problems:
        return result
    columns = {c.key: c for c in COLUMNS}
    langs = translators()
    parsed = [(row, {k: v for k, v in values.items() if v is not None})
              for row, values in table.typed_rows(report, langs, columns, progress)]

    codes = {_text(v.get("village_code")) for _r, v in parsed if v.get("village_code")}
    counties = {c.code: c for c in db.session.scalars(select(County))}
    townships = {t.code: t for t in db.session.scalars(select(Township))}
    everywhere, in_scope = {}, {}
    for chunk in chunks(codes):
        for village in db.session.scalars(select(Village).where(Village.code.in_(chunk))):
            everywhere[village.code] = village
        for village in db.session.scalars(villages_query(user).where(Village.code.in_(chunk))):
            in_scope[village.code] = village
    exact, natural = {}, {}
    for chunk in chunks([v.id for v in in_scope.values()]):
        for household in db.session.scalars(select(Household).where(Household.village_id.in_(chunk))):
            exact.setdefault(household.village_id, {})[household.house_number] = household
            natural.setdefault(household.village_id, {}).setdefault(household.sort_key, []).append(household)
    context = _Context(user, table, counties, townships, everywhere, in_scope, exact, natural, result)
    for row, values in parsed:
        if row.ok:
            context.row(row, values)
    _refuse_duplicates(result, table)
    for row in report.rows:
        if row.ok and not row.outcomes:
            row.outcomes.append(Outcome("unchanged", row.subject))
    return result


@dataclass
class _Context:
    user: object
    table: object
    counties: dict
    townships: dict
    everywhere: dict
    in_scope: dict
    exact: dict
    natural: dict
    result: RegistryPlan

    def error(self, row, key, message):
        row.error(self.table.letter(key), message, self.table.header(key))

    def row(self, row, values):
        code = _text(values.get("village_code"))
        row.subject = " ".join(p for p in (code, _text(values.get("house_number"))) if p)
        if not code:
            self.error(row, "village_code", _("The village code is missing."))
            return
        planned = self.result.villages.get(code)
        if planned is None:
            planned = self._village(row, code, values)
            if planned is None:
                return
            self.result.villages[code] = planned
            if planned.village is None:
                row.outcomes.append(Outcome("new_village", f"{code} {planned.values['village_name']}"))
            elif planned.changes:
                row.outcomes.append(Outcome("village_changed", f"{code} {planned.village.name}", planned.changes))
        else:
            for key in VILLAGE_FIELDS:
                if key in values and planned.values.get(key) is not None and _same(values[key]) != _same(
                        planned.values[key]):
                    self.error(row, key, _("Row %(row)s gives this village another value here.", row=planned.row))
            if not row.ok:
                return
        if values.get("house_number") is not None:
            self._household(row, planned, values)
        elif any(values.get(k) is not None for k in ("head_name", "phone")):
            self.error(row, "house_number", _("The house number is missing."))

    def _village(self, row, code, values):
        """The village of the first row naming it: checked, with what the row would change."""
        may_change = access.may_manage_areas(self.user)
        given = {k: values[k] for k in ("county_code", "township_code", "township_name", "village_name",
                                         "registered_households") if k in values}
        for key in ("county_code", "township_code"):
            if key in given:
                given[key] = _text(given[key])
        registered = given.get("registered_households")
        if registered is not None and not 0 <= registered <= MAX_REGISTERED:
            self.error(row, "registered_households", _("Must be between %(min)s and %(max)s.", min=0,
                                                       max=MAX_REGISTERED))
        for key in ("township_name", "village_name"):
            if key in given and len(str(given[key])) > NAME_LENGTH:
                self.error(row, key, _("At most %(n)d characters.", n=NAME_LENGTH))
        if not row.ok:
            return None
        village = self.in_scope.get(code)
        if village is None and (code in self.everywhere or not may_change):
            self.error(row, "village_code", _("There is no village with the code %(code)s in your area.", code=code)
                       + ("" if may_change else " " + _("Only administrators add villages.")))
            return None
        if village is None:
            return self._new_village(row, code, given)
        township = village.township
        current = {"village_name": village.name, "registered_households": village.registered_households,
                   "township_code": township.code, "township_name": township.name,
                   "county_code": township.county.code}
        changes = tuple(k for k in ("village_name", "registered_households", "township_code")
                        if k in given and given[k] != current[k])
        if "county_code" in given and given["county_code"] != current["county_code"] and "township_code" not in changes:
            self.error(row, "county_code", _("The village %(code)s lies in the county %(county)s.", code=code,
                                             county=current["county_code"]))
            return None
        if changes and not may_change:
            self.error(row, changes[0], _("Only administrators change villages: this row changes the village "
                                          "%(code)s.", code=code))
            return None
        county = None
        if "township_code" in changes:
            county = self._township_county(row, code, given)
            if county is None:
                return None
        return PlannedVillage(row.row, code, village, given, changes, county)

    def _township_county(self, row, code, given):
        """The county of the (existing or new) township a village goes to; None after an error."""
        township_code = given.get("township_code")
        if not township_code:
            self.error(row, "township_code", _("The township code is missing."))
            return None
        if not re.fullmatch(r"\d{9}", township_code) or not code.startswith(township_code):
            self.error(row, "township_code", _("The township code must be 9 digits, the start of the village code."))
            return None
        township = self.townships.get(township_code)
        if township is not None:
            if "county_code" in given and given["county_code"] != township.county.code:
                self.error(row, "county_code", _("The township %(code)s belongs to another county.", code=township_code))
                return None
            return township.county
        county = self.counties.get(given.get("county_code") or "")
        if county is None:
            self.error(row, "county_code", _("There is no county with the code %(code)s.",
                                             code=given.get("county_code") or "—"))
            return None
        if not township_code.startswith(county.code):
            self.error(row, "township_code", _("The township code must start with the county code."))
            return None
        if not given.get("township_name"):
            self.error(row, "township_name", _("A new township needs its name."))
            return None
        return county

    def _new_village(self, row, code, given):
        if not re.fullmatch(r"\d{12}", code):
            self.error(row, "village_code", _("A village code has 12 digits."))
            return None
        if not given.get("village_name"):
            self.error(row, "village_name", _("A new village needs its name."))
            return None
        county = self._township_county(row, code, given)
        if county is None:
            return None
        given.setdefault("registered_households", 0)
        return PlannedVillage(row.row, code, None, given, (), county)

    def _household(self, row, planned, values):
        answers = {k: values[k] for k in HOUSEHOLD_KEYS if values.get(k) is not None}
        checked = check_formdata(answers_to_formdata(answers), "draft", None, None)
        for key, messages in checked.errors.items():
            for message in messages:
                self.error(row, key, message)
        if not row.ok:
            return
        number = checked.answers["house_number"]
        village = planned.village
        household = self.exact.get(village.id, {}).get(number) if village is not None else None
        phone_given = self.table.has("phone")
        head, phone = checked.answers.get("head_name"), checked.answers.get("phone")
        year = values.get("year")
        if household is None:
            twins = self.natural.get(village.id, {}).get(natural_key(number), []) if village is not None else []
            if twins:
                self.error(row, "house_number", _(
                    "The village already has the household %(existing)s: the same house number written "
                    "differently. Write it as in the registry.", existing=twins[0].house_number))
                return
            if not head:
                self.error(row, "head_name", _("A new household needs the name of its head."))
                return
            row.outcomes.append(Outcome("new_household", number))
            self.result.households[row.row] = PlannedHousehold(row.row, planned.code, number, None, head, phone,
                                                               phone_given, year=year)
            return
        changes = []
        if head and head != household.head_name:
            changes.append("head_name")
        if phone_given and phone != household.phone:
            changes.append("phone")
        if changes:
            row.outcomes.append(Outcome("household_changed", number, tuple(changes)))
        self.result.households[row.row] = PlannedHousehold(row.row, planned.code, number, household, head, phone,
                                                           phone_given, tuple(changes), year)


def _same(value):
    return str(value).strip() if value is not None else None


def _kept_row(group):
    """Of several rows of one household, the one to import: any of them if they agree (the first),
    else the one of the latest survey year if the file has years and only one row has it; None
    when they disagree with nothing to choose by."""
    if len({(p.house_number, p.head_name, p.phone) for p in group}) == 1:
        return group[0]
    years = [p.year for p in group]
    if None in years:
        return None
    latest = max(years)
    newest = [p for p in group if p.year == latest]
    return newest[0] if len(newest) == 1 else None


def _refuse_duplicates(result, table):
    """A household on several rows: one row is imported (the rows agree, or the latest year's wins
    in a survey export of several years) and the others are unchanged; rows that disagree with
    nothing to choose by are refused, each naming the others."""
    groups = {}
    for planned in result.households.values():
        groups.setdefault((planned.village_code, natural_key(planned.house_number)), []).append(planned)
    rows = {row.row: row for row in result.report.rows}
    for group in groups.values():
        if len(group) < 2:
            continue
        kept = _kept_row(group)
        if kept is not None:
            for planned in group:
                if planned is not kept:
                    # its household is another row's: unchanged, unless the row also names a new village
                    outcomes = rows[planned.row].outcomes
                    outcomes[:] = [o for o in outcomes if o.kind not in HOUSEHOLD_OUTCOMES]
                    result.households.pop(planned.row)
            continue
        numbers = ", ".join(str(p.row) for p in group)
        for planned in group:
            row = rows[planned.row]
            row.error(table.letter("house_number"), _(
                "The household %(number)s appears more than once in this file (rows %(rows)s) with different "
                "heads or phones.", number=planned.house_number, rows=numbers), table.header("house_number"))
            row.outcomes.clear()
            result.households.pop(planned.row)


def apply(user, registry_plan: RegistryPlan, valid_only=False):
    """Write the planned rows of the rows without errors."""
    from village_survey import audit

    report = registry_plan.report
    valid = {row.row for row in report.rows if row.ok}
    # A village is written when a valid row needs it (its first row may be refused for its household).
    needed = {registry_plan.villages[p.village_code].row for p in registry_plan.households.values()
              if p.row in valid}
    townships = {t.code: t for t in db.session.scalars(select(Township))}
    villages = {}
    refreshed, moved = [], False
    for code, planned in registry_plan.villages.items():
        if planned.row not in valid and planned.row not in needed:
            continue
        village = planned.village
        if village is None or "township_code" in planned.changes:
            township = townships.get(planned.values["township_code"])
            if township is None:
                township = Township(code=planned.values["township_code"], name=planned.values["township_name"],
                                    county=planned.county)
                db.session.add(township)
                townships[township.code] = township
        if village is None:
            village = Village(code=code, name=planned.values["village_name"], township=township,
                              registered_households=planned.values.get("registered_households") or 0)
            db.session.add(village)
            moved = True
            audit.record("village_imported", user, target=f"village:{code}")
        elif planned.changes:
            if "village_name" in planned.changes:
                village.name = planned.values["village_name"]
            if "registered_households" in planned.changes:
                village.registered_households = planned.values["registered_households"]
            if "township_code" in planned.changes:
                village.township = township
                moved = True
            audit.record("village_imported", user, target=f"village:{code}", changed=list(planned.changes))
        else:
            villages[code] = village
            continue
        villages[code] = village
        refreshed.append(village)
    for planned in registry_plan.households.values():
        if planned.row not in valid:
            continue
        village = villages.get(planned.village_code) or registry_plan.villages[planned.village_code].village
        if planned.household is None:
            db.session.add(Household(village=village, house_number=planned.house_number, head_name=planned.head_name,
                                     phone=planned.phone))
        else:
            if "head_name" in planned.changes:
                planned.household.head_name = planned.head_name
            if "phone" in planned.changes:
                planned.household.phone = planned.phone
    db.session.flush()
    if refreshed:
        precomputed.villages_changed([v.id for v in refreshed], moved=moved)
    report.applied = True
    report.valid_only = valid_only
