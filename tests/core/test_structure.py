"""Conventions that keep the request boundary and the permissions in one place each."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "village_survey"
# The batch API commits each survey on its own; command-line tools and the demo seeding commit
# their own work; the race retry of a first save starts over; the boundary and the error handlers.
# The request boundary (and its error answers), the batch API (a savepoint per survey), the save's
# retry after a concurrent request created the same survey, and the transaction of work outside
# a request (commands, background tasks).
COMMIT_ALLOWED = {"core/boundary.py", "core/errors.py", "surveys/api.py", "surveys/services.py",
                  "jobs/transaction.py"}


def _python_files():
    return [(path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8"))
            for path in PACKAGE.rglob("*.py")]


def test_only_the_boundary_commits_or_rolls_back():
    offenders = [name for name, text in _python_files()
                 if re.search(r"db\.session\.(commit|rollback)\(", text) and name not in COMMIT_ALLOWED]
    assert offenders == []


def test_nothing_calls_abort():
    # Services raise DomainError; views raise NotFound/Forbidden or let the service's error through.
    offenders = [name for name, text in _python_files() if re.search(r"\babort\(", text)]
    assert offenders == []


def test_templates_decide_by_permission_not_by_role_name():
    pattern = re.compile(r"\brole\s*(==|!=|in|not in)\s|\('(surveyor|reviewer|viewer|admin)'")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "templates").rglob("*.html")
                 if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_role_names_are_decided_on_only_in_access_and_the_account_model():
    allowed = {"access.py", "accounts/models.py", "accounts/services.py", "demo.py", "i18n.py", "cli.py"}
    pattern = re.compile(r"(?<!User)\.role\s*(==|!=|in|not in)\s")
    offenders = [name for name, text in _python_files() if pattern.search(text) and name not in allowed]
    assert offenders == []
