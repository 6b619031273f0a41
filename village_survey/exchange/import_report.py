"""What an import would do or did, row by row: the outcomes and the problems, each problem with its
row and column, for the dry-run page, the command line and the audit log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

# What a row can do, in the order the report counts them.
OUTCOMES = ("new_village", "village_changed", "new_household", "household_changed", "new_survey",
            "survey_changed", "unchanged")
OUTCOME_LABELS = {
    "new_village": _l("New village"),
    "village_changed": _l("Village changed"),
    "new_household": _l("New household"),
    "household_changed": _l("Household changed"),
    "new_survey": _l("New survey"),
    "survey_changed": _l("Survey changed"),
    "unchanged": _l("Unchanged"),
    "error": _l("Error"),
}


def column_letter(index: int) -> str:
    """The spreadsheet's name of a 0-based column: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Problem:
    """Why a row (or, with row None, the file) cannot be imported; `column` is its letter, and
    `header` what the file calls that column."""

    row: int | None
    column: str | None
    message: str
    header: str | None = None

    @property
    def cell(self):
        if self.row is None:
            return self.column or ""
        return f"{self.column or ''}{self.row}"

    def as_text(self):
        where = []
        if self.row is not None:
            where.append(str(_l("row %(n)s", n=self.row)))
        if self.column:
            where.append(str(_l("column %(column)s", column=self.column))
                         + (f" ({self.header})" if self.header else ""))
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(frozen=True)
class Outcome:
    """One thing a row creates or changes: `kind` one of OUTCOMES; `subject` names it (a village
    code, a house number); `fields` the keys that change."""

    kind: str
    subject: str
    fields: tuple[str, ...] = ()


@dataclass
class RowReport:
    row: int
    subject: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def error(self, column, message, header=None):
        self.problems.append(Problem(self.row, column, str(message), header))


@dataclass
class Report:
    """The whole file's report: file-level problems (nothing can be imported), then one RowReport
    per data row."""

    kind: str  # "registry" or "surveys"
    filename: str = ""
    file_problems: list[Problem] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)
    applied: bool = False
    valid_only: bool = False

    @property
    def problems(self):
        return self.file_problems + [p for row in self.rows for p in row.problems]

    @property
    def error_rows(self):
        return [row for row in self.rows if not row.ok]

    @property
    def valid_rows(self):
        return [row for row in self.rows if row.ok] if not self.file_problems else []

    @property
    def has_errors(self):
        return bool(self.file_problems or self.error_rows)

    @property
    def row_count(self):
        return len(self.rows)

    @property
    def error_count(self):
        return len(self.error_rows)

    @property
    def valid_count(self):
        return len(self.valid_rows)

    def counts(self):
        """{outcome or "error": rows}; a row counts once per outcome kind it has."""
        counts = Counter()
        for row in self.rows:
            if not row.ok:
                counts["error"] += 1
                continue
            for kind in {o.kind for o in row.outcomes}:
                counts[kind] += 1
        return {kind: counts[kind] for kind in OUTCOMES + ("error",) if counts[kind]}

    def ordered_rows(self):
        """Rows with errors first, then the rest, each in file order."""
        return self.error_rows + [row for row in self.rows if row.ok]

    def summary(self):
        """Plain numbers for the audit log (no personal data)."""
        counts = {kind: n for kind, n in self.counts().items() if kind != "error"}
        return {"kind": self.kind, "rows": len(self.rows), "valid_only": self.valid_only,
                "errors": len(self.error_rows) + len(self.file_problems), **counts}

    def as_text(self):
        """The report as the command line prints it."""
        lines = [str(_l("%(n)s rows read.", n=len(self.rows)))]
        counts = self.counts()
        if counts:
            lines.append(", ".join(f"{OUTCOME_LABELS[kind]}: {n}" for kind, n in counts.items()))
        for problem in self.file_problems:
            lines.append(problem.as_text())
        for row in self.ordered_rows():
            if row.problems:
                lines.extend(problem.as_text() for problem in row.problems)
            else:
                for outcome in row.outcomes:
                    text = f"{_l('row %(n)s', n=row.row)}: {OUTCOME_LABELS[outcome.kind]} {outcome.subject}"
                    if outcome.fields:
                        text += " (" + ", ".join(outcome.fields) + ")"
                    lines.append(text)
        return "\n".join(lines)


@dataclass
class StoredReport:
    """A report as a background import job keeps it: every count, every file problem, and the
    rows a page shows (the first `errors_max` rows with errors, the first `rows_max` others).
    It answers what the import page asks of a Report."""

    kind: str
    filename: str
    applied: bool
    valid_only: bool
    file_problems: list[Problem]
    row_count: int
    error_count: int
    counts_by_kind: dict[str, int]
    errors_shown: list[RowReport]
    rows_shown: list[RowReport]

    @classmethod
    def of(cls, report: Report, errors_max: int, rows_max: int) -> "StoredReport":
        errors = report.error_rows
        return cls(report.kind, report.filename, report.applied, report.valid_only, list(report.file_problems),
                   len(report.rows), len(errors), report.counts(), errors[:errors_max],
                   [row for row in report.rows if row.ok][:rows_max])

    def counts(self):
        return dict(self.counts_by_kind)

    @property
    def has_errors(self):
        return bool(self.file_problems or self.error_count)

    @property
    def valid_count(self):
        return 0 if self.file_problems else self.row_count - self.error_count

    @property
    def hidden_rows(self):
        return self.row_count - len(self.errors_shown) - len(self.rows_shown)

    def as_dict(self) -> dict:
        def problem(p):
            return [p.row, p.column, p.message, p.header]

        def row(r):
            return {"row": r.row, "subject": r.subject, "problems": [problem(p) for p in r.problems],
                    "outcomes": [[o.kind, o.subject, list(o.fields)] for o in r.outcomes]}

        return {"kind": self.kind, "filename": self.filename, "applied": self.applied,
                "valid_only": self.valid_only, "file_problems": [problem(p) for p in self.file_problems],
                "row_count": self.row_count, "error_count": self.error_count, "counts": self.counts_by_kind,
                "errors_shown": [row(r) for r in self.errors_shown], "rows_shown": [row(r) for r in self.rows_shown]}

    @classmethod
    def from_dict(cls, data: dict) -> "StoredReport":
        def row(d):
            return RowReport(d["row"], d["subject"], [Outcome(k, s, tuple(f)) for k, s, f in d["outcomes"]],
                             [Problem(*p) for p in d["problems"]])

        return cls(data["kind"], data["filename"], data["applied"], data["valid_only"],
                   [Problem(*p) for p in data["file_problems"]], data["row_count"], data["error_count"],
                   dict(data["counts"]), [row(r) for r in data["errors_shown"]],
                   [row(r) for r in data["rows_shown"]])
