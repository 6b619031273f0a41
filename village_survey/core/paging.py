"""Paging and search for list pages."""

import math
from dataclasses import dataclass

from flask import current_app, request, url_for
from sqlalchemy import func, or_, select

from village_survey.extensions import db


def _page_number(raw):
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


def paginate(stmt, page):
    """One page of ``stmt``; a bad page number shows the first page, a too-high one an empty page.

    A select of one entity gives the entities; with added columns it gives rows (tuples).
    """
    number = _page_number(page)
    per_page = current_app.config["PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    result = db.session.execute(stmt.limit(per_page).offset((number - 1) * per_page))
    items = result.scalars().all() if len(stmt.column_descriptions) == 1 else result.all()
    return Page(items=items, page=number, per_page=per_page, total=total)


def search(stmt, q, *columns):
    """Keep the rows where any of ``columns`` contains ``q`` (case-insensitive)."""
    q = (q or "").strip()[:60]
    if not q:
        return stmt
    return stmt.where(or_(*(column.icontains(q, autoescape=True) for column in columns)))


def page_url(number):
    """The current list page's URL with another page number, keeping the search."""
    args = {**request.view_args, **request.args.to_dict(), "page": number}
    return url_for(request.endpoint, **args)
