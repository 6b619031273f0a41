"""Exchange jobs: an export or an import too long for one request, made by the background worker.

An export job writes its file under the exports folder (EXPORTS_FOLDER, by default
instance/exports) and keeps it EXPORT_JOB_KEEP_HOURS for the user who asked; an import job
checks (dry run) or imports an uploaded file kept by import_store and stores its report.
Only the user who asked sees a job (it may hold their area's personal data).
"""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from village_survey.areas.models import utcnow
from village_survey.extensions import db

# what an export job writes (its file's kind and suffix), and what an import job reads
EXPORT_FILES = ("surveys.xlsx", "surveys.csv", "farmhouses.geojson")
IMPORT_KINDS = ("registry", "surveys")
IMPORT_MODES = ("dry_run", "all", "valid")
STATUSES = ("queued", "running", "done", "failed")
STAGES = ("reading", "checking", "writing")


class ExchangeJob(db.Model):
    __tablename__ = "exchange_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('export','import')", name="kind"),
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    # an export's file ("surveys.xlsx", …) or what an import holds ("registry", "surveys")
    what: Mapped[str] = mapped_column(String(30))
    # an import's mode: dry_run, all (the whole file) or valid (only the valid rows)
    mode: Mapped[str | None] = mapped_column(String(10))
    # an export's filter (area, year, status, labels, full, timezone) or an import's upload
    # (token, filename); never personal data
    params: Mapped[dict] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(10))

    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    done_rows: Mapped[int | None]
    total_rows: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(default=1)

    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_by_name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    # an export's result: the file relative to the exports folder, its size and SHA-256
    file_path: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    # an import's result: its report as stored (import_report.StoredReport.as_dict)
    report: Mapped[dict | None] = mapped_column(JSON)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def percent(self) -> int | None:
        if not self.total_rows or self.done_rows is None:
            return None
        return max(0, min(100, round(100 * self.done_rows / self.total_rows)))
