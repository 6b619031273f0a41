"""A background job's row (a report job, an exchange job): the steps every such job takes, for any
model with id, attempt, status, started_at, finished_at and error columns.

    claim(Model, job_id, attempt)            queued → running, once per attempt (in the task's transaction)
    note(Model, job_id, attempt, **values)   progress, written at once over a connection of its own
    finish(Model, job_id, attempt, **values) running → done, if still this attempt's run
    fail(Model, job_id, attempt, message)    → failed with the reason

A run that was queued again (a new attempt) while an older one still ran never overwrites the
newer attempt's row: every step is conditional on the attempt.
"""

from __future__ import annotations

from sqlalchemy import update

from village_survey.areas.models import utcnow
from village_survey.core.errors import DomainError
from village_survey.extensions import db

ERROR_MAX_LENGTH = 1000


def claim(model, job_id: int, attempt: int) -> bool:
    """Mark the job running if it is still queued as this attempt; whether it was."""
    claimed = db.session.execute(
        update(model).where(model.id == job_id, model.attempt == attempt, model.status == "queued")
        .values(status="running", started_at=utcnow(), stage=None))
    return claimed.rowcount == 1


def note(model, job_id: int, attempt: int, **values) -> None:
    """Progress on a running job, committed at once whatever the job's own session holds."""
    table = model.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == job_id, table.c.attempt == attempt,
                                         table.c.status == "running").values(**values))


def finish(model, job_id: int, attempt: int, **values) -> bool:
    """Mark the job done with its result if it is still this attempt's run; whether it was."""
    done = db.session.execute(
        update(model).where(model.id == job_id, model.attempt == attempt, model.status == "running")
        .values(status="done", stage=None, finished_at=utcnow(), **values))
    return done.rowcount == 1


def failure_message(error: BaseException) -> str:
    """What a job page says of a failure: a domain error's own message, else the exception."""
    if isinstance(error, DomainError):
        return str(error.message)[:ERROR_MAX_LENGTH]
    text = str(error).strip()
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:ERROR_MAX_LENGTH]


def fail(model, job_id: int, attempt: int, message: str, **values) -> bool:
    """Mark this attempt failed with its reason; whether it was still this attempt's."""
    failed = db.session.execute(
        update(model).where(model.id == job_id, model.attempt == attempt)
        .values(status="failed", finished_at=utcnow(), error=message[:ERROR_MAX_LENGTH], **values))
    return failed.rowcount == 1
