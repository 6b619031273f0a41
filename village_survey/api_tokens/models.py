"""API tokens: how another platform (the city's building energy monitoring platform, the CIM
platform) reads this app's data, for one area and read-only.

The token itself (`vs_<key>_<secret>`) is shown once, when it is made; only its `key` (to find
the row and to name the token in lists) and the SHA-256 of the whole token are stored. A slow
password hash is not needed: the secret is 256 random bits, not something a person chose.
"""

from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from village_survey.areas.models import AreaScope, County, Township, utcnow
from village_survey.extensions import db


class ApiToken(AreaScope, db.Model):
    __tablename__ = "api_tokens"
    __table_args__ = (
        # Always read-only for now: a write scope would need its own review of every write path.
        CheckConstraint("read_only", name="read_only"),
        # A county, a township, or neither (the city); never both.
        CheckConstraint("county_id IS NULL OR township_id IS NULL", name="one_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The system that uses it, e.g. "市建筑能耗监测平台".
    name: Mapped[str] = mapped_column(String(80))
    # The public part of the token after "vs_": finds the row, names the token in lists and logs.
    key: Mapped[str] = mapped_column(String(16), unique=True)
    # sha256 (hex) of the whole token as given to the system.
    token_hash: Mapped[str] = mapped_column(String(64))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), index=True)
    read_only: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # kept apart from the user row, which may be renamed or deleted later
    created_by_name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_by_name: Mapped[str | None] = mapped_column(String(40))
    # Recorded at most once a minute per token (services.USE_RECORD_INTERVAL), or when the address changes.
    last_used_at: Mapped[datetime | None]
    last_used_address: Mapped[str | None] = mapped_column(String(45))

    county: Mapped[County | None] = relationship()
    township: Mapped[Township | None] = relationship()

    @property
    def valid_until(self):
        """The last moment the token works (shown as its last day), or None."""
        return None if self.expires_at is None else self.expires_at - timedelta(microseconds=1)

    def state(self, now):
        """"active", "revoked" or "expired" at `now` (naive UTC)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"
