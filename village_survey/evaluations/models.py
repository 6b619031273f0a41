"""The finalized evaluation of an area for a year and a criteria set, frozen once stored."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from village_survey.accounts.models import User
from village_survey.areas.models import utcnow
from village_survey.extensions import db

LEVELS = ("village", "township", "county", "city")


class Evaluation(db.Model):
    """A finalized evaluation: its results and the inputs they came from, never recomputed.

    `area_id` is a village, township or county id by `level` (no foreign key: the table depends
    on the level), and NULL for the city. `results` is what the pages show; `inputs` holds the
    survey (uuid, revision) pairs and the compact scored figures, so that the result can be
    reproduced and checked later whatever happened to the surveys or the criteria file since.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("level", "area_id", "year", "criteria"),
        CheckConstraint("level IN ('village','township','county','city')", name="level"),
        CheckConstraint("(level = 'city') = (area_id IS NULL)", name="area"),
        # NULL area ids never collide in a unique constraint: the city needs its own index
        Index("uq_evaluations_city", "year", "criteria", unique=True,
              sqlite_where=text("level = 'city'"), postgresql_where=text("level = 'city'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int | None]
    year: Mapped[int]
    criteria: Mapped[str] = mapped_column(String(40))
    criteria_version: Mapped[int]
    results: Mapped[dict] = mapped_column(JSON)
    inputs: Mapped[dict] = mapped_column(JSON)
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # kept apart from the user row, which may be renamed or deleted later
    finalized_by_name: Mapped[str] = mapped_column(String(40))
    finalized_at: Mapped[datetime] = mapped_column(default=utcnow)

    finalized_by: Mapped[User | None] = relationship()
