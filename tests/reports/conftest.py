"""Helpers of the report job tests: the reports folder in a temporary directory, and a small
stand-in for the renderer (reports/render.py) that reports its progress as the real one does."""

from dataclasses import dataclass

import pytest

from village_survey.evaluations.services import current_evaluations
from village_survey.reports import services

YEAR = 2026


@dataclass
class FakeRendered:
    pdf: bytes
    figures: dict
    pages: int
    finalized: bool
    version: int | None


class FakeRenderer:
    """render_report's signature; made from the area's current finalized evaluation if there is
    one (as the real renderer decides), in a fixed number of pages. `fail` makes it raise."""

    def __init__(self, pages=2):
        self.pages = pages
        self.fail = None
        self.calls = []
        self.during = None  # called after each progress step, with (stage, page)

    def __call__(self, kind, area, year, criteria, locale, full_names, progress):
        self.calls.append((kind, area, year, criteria.name, locale, full_names))
        progress("evaluating", None)
        self._during("evaluating", None)
        current = current_evaluations(area.level, [area.id], year, criteria.name).get(area.id)
        progress("charts", None)
        self._during("charts", None)
        if self.fail is not None:
            raise self.fail
        for page in range(1, self.pages + 1):
            progress("rendering", page)
            self._during("rendering", page)
        body = f"{kind} {area.level} {area.id} {year} {locale} {full_names} v{current and current.version}"
        return FakeRendered(pdf=b"%PDF-1.7\n% fake report\n" + body.encode() + b"\n%%EOF\n",
                            figures={"kind": kind, "year": year, "score": 71.5},
                            pages=self.pages, finalized=current is not None,
                            version=current.version if current is not None else None)

    def _during(self, stage, page):
        if self.during is not None:
            self.during(stage, page)


@pytest.fixture
def renderer(monkeypatch):
    fake = FakeRenderer()
    monkeypatch.setattr(services, "render_report", fake)
    return fake


@pytest.fixture
def reports_folder(app, tmp_path, monkeypatch):
    folder = tmp_path / "reports"
    monkeypatch.setitem(app.config, "REPORTS_FOLDER", str(folder))
    return folder
