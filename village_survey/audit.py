"""The audit log: who did what, when (logins, failed logins, account and area changes, ...).

Never put personal data (household head names, phone numbers) or passwords in ``detail``.
"""

import getpass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from village_survey.areas.models import utcnow
from village_survey.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


def command_username() -> str:
    """The name a command's events carry (it has no app account): cli:<the shell's user>."""
    return f"cli:{getpass.getuser()}"[:40]


def record(action, user=None, target=None, username=None, **detail):
    """Add an audit event to the current transaction (committed with the request's work)."""
    event = AuditEvent(
        action=action,
        user_id=getattr(user, "id", None),
        username=username or getattr(user, "username", None),
        target=target,
        detail=detail or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
