"""Natural order of house numbers: 1组1号, 1组2号, 1组10号, 2组1号, 10组1号.

``natural_key(text)`` is a plain string whose ordinary text order (Python's, or SQL's under a
binary collation: SQLite's default, PostgreSQL's "C") is the natural order of the texts: each run
of digits becomes its number zero-padded to ``WIDTH`` digits, full-width digits (０-９) count as
ASCII ones, and ASCII letters are compared without case. It is stored beside the house number
(``Household.sort_key``) so that the database sorts naturally, and the same function sorts lists
in Python (``sorted(households, key=lambda h: natural_key(h.house_number))``).
"""

import re

WIDTH = 10
MAX_LENGTH = 120  # the length of Household.sort_key

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_DIGITS = re.compile(r"[0-9]+")


def _pad(match):
    number = match.group().lstrip("0") or "0"
    # Runs longer than WIDTH (never seen in house numbers) keep their digits: still a stable order.
    return number.rjust(WIDTH, "0")


def natural_key(text):
    """The sort key of a house number (or any short text), at most MAX_LENGTH characters."""
    text = (text or "").strip().translate(_FULL_WIDTH_DIGITS)
    text = re.sub(r"[A-Z]+", lambda m: m.group().lower(), text)
    return _DIGITS.sub(_pad, text)[:MAX_LENGTH]
