"""Paging and search for list pages."""

from flask import current_app
from sqlalchemy import or_

from village_survey.extensions import db


def _page_number(raw):
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


def paginate(stmt, page):
    """One page of ``stmt``; a bad or too-high page number shows the first or an empty page."""
    return db.paginate(stmt, page=_page_number(page), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False, count=True)


def search(stmt, q, *columns):
    """Keep the rows where any of ``columns`` contains ``q`` (case-insensitive)."""
    q = (q or "").strip()[:60]
    if not q:
        return stmt
    return stmt.where(or_(*(column.icontains(q, autoescape=True) for column in columns)))
