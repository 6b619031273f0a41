"""Surveys (one per household and year), their revisions and their photos."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from village_survey.accounts.models import User
from village_survey.areas.models import Household, utcnow
from village_survey.extensions import db

STATUSES = ("draft", "submitted", "approved", "returned")
PHOTO_KINDS = ("house", "roof", "stove", "other")


class Survey(db.Model):
    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("household_id", "year"),
        CheckConstraint("status IN ('draft','submitted','approved','returned')", name="status"),
        # The review queue: what waits, newest first.
        Index("ix_surveys_status_submitted_at", "status", "submitted_at"),
        # The queue's counts and filters by area: the surveys of a status, joined to their households.
        Index("ix_surveys_status_household_id", "status", "household_id"),
        # The dashboard's progress: a year's surveys counted by status and household (village).
        Index("ix_surveys_year_status_household_id", "year", "status", "household_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Given by the phone when the survey is created: the key of the idempotent sync API.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    year: Mapped[int]
    form_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), index=True)
    answers: Mapped[dict] = mapped_column(JSON)
    # sha256 of the canonical content last accepted: the same content again changes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(default=1)
    reviewer_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the phone (or the website) started the survey, as it says: how long it took.
    started_at: Mapped[datetime | None]
    # Every change, the review's too: what the phone pulls (GET /api/v1/surveys?updated_since=).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    submitted_at: Mapped[datetime | None]
    # Who made the latest submission (the four-eyes rule, the queue's surveyor filter).
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What a reviewer should look at, computed when the survey is saved: [{"code": …, …}, …].
    flags: Mapped[list] = mapped_column(JSON, default=lambda: [])
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    household: Mapped[Household] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    revisions: Mapped[list["SurveyRevision"]] = relationship(
        back_populates="survey", order_by="SurveyRevision.number", cascade="all, delete-orphan")
    photos: Mapped[list["Photo"]] = relationship(back_populates="survey", order_by="Photo.created_at",
                                                 cascade="all, delete-orphan")


class SurveyRevision(db.Model):
    """One accepted change of a survey: who, when, the status, and field by field what changed."""

    __tablename__ = "survey_revisions"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12))
    # {key: [old, new]} for every answer that changed; status changes are in `status`.
    changes: Mapped[dict] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)

    survey: Mapped[Survey] = relationship(back_populates="revisions")
    user: Mapped[User | None] = relationship()


class Photo(db.Model):
    __tablename__ = "photos"
    __table_args__ = (CheckConstraint("kind IN ('house','roof','stove','other')", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Path below the photo folder (PHOTO_FOLDER); the thumbnail sits beside it.
    path: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="photos")
