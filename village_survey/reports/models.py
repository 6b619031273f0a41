"""Report jobs: a PDF report asked for (what, by whom), its progress in the background, and the
archived result (the file, its SHA-256, the figures it was made from).

A report made from a current finalized evaluation is archived as final (`finalized`, with the
evaluation's `evaluation_version`; file under reports/final/). Any other report is a draft: the
renderer marks every page "DRAFT / 草稿", and its file is kept under reports/drafts/ as the job's
download only (listed apart from the archive, and named as a draft).
"""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from village_survey.areas.models import utcnow
from village_survey.extensions import db

KINDS = ("village", "county", "city")  # the village evaluation report, the annual reports
STATUSES = ("queued", "running", "done", "failed")
STAGES = ("evaluating", "charts", "rendering")
# the area level of each kind of report
LEVEL_OF_KIND = {"village": "village", "county": "county", "city": "city"}


class ReportJob(db.Model):
    __tablename__ = "report_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('village','county','city')", name="kind"),
        CheckConstraint("level IN ('village','county','city')", name="level"),
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("(level = 'city') = (area_id IS NULL)", name="area"),
        Index("ix_report_jobs_area", "level", "area_id", "year"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int | None]  # a village or county id by level, NULL for the city
    # the area's code and name when asked for (lists and file names without a join)
    area_code: Mapped[str | None] = mapped_column(String(12))
    area_name: Mapped[str | None] = mapped_column(String(60))
    year: Mapped[int]
    criteria: Mapped[str] = mapped_column(String(40))
    criteria_version: Mapped[int]
    locale: Mapped[str] = mapped_column(String(10))
    full_names: Mapped[bool] = mapped_column(default=False)

    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    page: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    # each run (the first, and each retry) has its number: a stale run never overwrites a newer one
    attempt: Mapped[int] = mapped_column(default=1)

    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # kept apart from the user row, which may be renamed or deleted later
    requested_by_name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    # the result: the file relative to the reports folder, and what it was made from
    file_path: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    pages: Mapped[int | None]
    figures: Mapped[dict | None] = mapped_column(JSON)
    finalized: Mapped[bool | None]
    evaluation_version: Mapped[int | None]

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def draft(self) -> bool:
        """A finished report that was not made from a current finalized evaluation."""
        return self.status == "done" and not self.finalized
