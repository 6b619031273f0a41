"""Finalized evaluations of an area for a year and a criteria set: frozen versions, never changed.

Each finalizing stores a new version; reopening marks the current version as reopened (who,
when, why) and leaves its figures as they were, so that the next finalizing stores version + 1.
"""

from datetime import datetime

from sqlalchemy import (
    JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event, inspect, select, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from village_survey.accounts.models import User
from village_survey.areas.models import utcnow
from village_survey.extensions import db

LEVELS = ("village", "township", "county", "city")
# The only columns a stored version may still change, once: when it is reopened.
REOPEN_COLUMNS = frozenset({"reopened_at", "reopened_by_id", "reopened_by_name", "reopen_reason"})


class FrozenEvaluationError(RuntimeError):
    """A programming error: a finalized evaluation's figures were about to change or be deleted."""


class Evaluation(db.Model):
    """A finalized evaluation: its results and the inputs they came from, never recomputed.

    `area_id` is a village, township or county id by `level` (no foreign key: the table depends
    on the level), and NULL for the city. `results` is what the pages show; `inputs` holds the
    survey (uuid, revision) pairs and the compact scored figures, so that the result can be
    reproduced and checked later whatever happened to the surveys or the criteria file since.

    An area, year and criteria set has versions 1, 2, …; the current one is the version that is
    not reopened, and the database allows at most one (two reviewers finalizing at once: the
    second insert fails, and is told that the evaluation is already finalized).
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("level", "area_id", "year", "criteria", "version"),
        CheckConstraint("level IN ('village','township','county','city')", name="level"),
        CheckConstraint("(level = 'city') = (area_id IS NULL)", name="area"),
        CheckConstraint("reopened_at IS NULL OR (reopened_by_name IS NOT NULL AND reopen_reason IS NOT NULL)",
                        name="reopened"),
        # NULL area ids never collide in a unique constraint: the city needs its own indexes
        Index("uq_evaluations_city", "year", "criteria", "version", unique=True,
              sqlite_where=text("level = 'city'"), postgresql_where=text("level = 'city'")),
        Index("uq_evaluations_current", "level", "area_id", "year", "criteria", unique=True,
              sqlite_where=text("reopened_at IS NULL"), postgresql_where=text("reopened_at IS NULL")),
        Index("uq_evaluations_city_current", "year", "criteria", unique=True,
              sqlite_where=text("level = 'city' AND reopened_at IS NULL"),
              postgresql_where=text("level = 'city' AND reopened_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int | None]
    year: Mapped[int]
    criteria: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    criteria_version: Mapped[int]
    results: Mapped[dict] = mapped_column(JSON)
    inputs: Mapped[dict] = mapped_column(JSON)
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # kept apart from the user row, which may be renamed or deleted later
    finalized_by_name: Mapped[str] = mapped_column(String(40))
    finalized_at: Mapped[datetime] = mapped_column(default=utcnow)
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reopened_by_name: Mapped[str | None] = mapped_column(String(40))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    finalized_by: Mapped[User | None] = relationship(foreign_keys=[finalized_by_id])
    reopened_by: Mapped[User | None] = relationship(foreign_keys=[reopened_by_id])

    @property
    def current(self) -> bool:
        return self.reopened_at is None


@event.listens_for(Evaluation, "before_update")
def _only_reopening_changes_a_stored_version(_mapper, connection, evaluation):
    changed = {attr.key for attr in inspect(evaluation).attrs if attr.history.has_changes()}
    if not changed:
        return
    table = Evaluation.__table__
    # as stored, whatever the session holds (the attribute may be expired or changed)
    was_reopened = connection.scalar(
        select(table.c.reopened_at).where(table.c.id == evaluation.id)) is not None
    if changed - REOPEN_COLUMNS or was_reopened:
        raise FrozenEvaluationError(f"evaluation {evaluation.id} is frozen: {sorted(changed)} may not change")


@event.listens_for(Evaluation, "before_delete")
def _a_stored_version_is_never_deleted(_mapper, _connection, evaluation):
    raise FrozenEvaluationError(f"evaluation {evaluation.id} is frozen: it may not be deleted")


# ---------------------------------------------------------------- precomputed, kept up to date


class StoredResult(db.Model):
    """An approved survey's farmhouse result under one criteria set, as of one survey revision.

    Written when the survey is approved (deleted when it leaves that status) and again by
    `flask evaluate --rebuild` after the criteria change: `criteria_version` and `revision` say
    what it was computed from. A survey that cannot be scored keeps a row with `error` set and
    no figures, so that pages can list it. The answers that maps and mixes read (GPS, stove,
    heating, hot water, lighting, PV) are copied here once, so that no page decodes answers.
    """

    __tablename__ = "farmhouse_results"
    __table_args__ = (
        # what a village's refresh, a list and a map read: the results of a set, year and village
        Index("ix_farmhouse_results_area", "criteria", "year", "village_id"),
    )
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    criteria: Mapped[str] = mapped_column(String(40), primary_key=True)
    criteria_version: Mapped[int]
    revision: Mapped[int]
    year: Mapped[int]
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    total: Mapped[float | None]
    stars: Mapped[int | None]
    base_level: Mapped[bool | None]
    zero_carbon: Mapped[bool | None]
    # none_as_null: None is stored as SQL NULL (not JSON null), so that "error IS NULL" means scored
    sums: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # FarmhouseRecord.sums
    error: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # {"code", "key", "why"} when unscorable
    # the household profile (scoring.profile.household_profile), for mixes and maps
    cooking: Mapped[str | None] = mapped_column(String(20))
    heating: Mapped[str | None] = mapped_column(String(20))
    hot_water: Mapped[str | None] = mapped_column(String(20))
    lighting: Mapped[str | None] = mapped_column(String(20))
    pv: Mapped[bool | None]
    pv_kwp: Mapped[float | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    gps_accuracy_m: Mapped[float | None]


class AreaAggregate(db.Model):
    """The pooled figures of one area, year and criteria set, kept up to date from its results.

    `area_id` is a village, township or county id by `level`, and 0 for the city. `tally` is
    what the parent pools (scoring.aggregate.Tally as plain values), `results` what pages show
    (as an Evaluation's results), `mix` the household profile counts (scoring.profile).
    """

    __tablename__ = "area_aggregates"
    __table_args__ = (
        UniqueConstraint("criteria", "year", "level", "area_id"),
        CheckConstraint("level IN ('village','township','county','city')", name="level"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    criteria: Mapped[str] = mapped_column(String(40))
    criteria_version: Mapped[int]
    year: Mapped[int]
    level: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int]
    tally: Mapped[dict] = mapped_column(JSON)
    results: Mapped[dict] = mapped_column(JSON)
    mix: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationBuild(db.Model):
    """A complete rebuild of a criteria set's results and aggregates (`flask evaluate --rebuild`).

    Until a set's current version has one, pages score areas when asked (correct, but slow for a
    county) and say so; afterwards they read the aggregates, which approvals keep up to date.
    """

    __tablename__ = "evaluation_builds"
    criteria: Mapped[str] = mapped_column(String(40), primary_key=True)
    criteria_version: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    surveys: Mapped[int]
    seconds: Mapped[float]
