"""The user account: a role and an area (township, county or the whole city)."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from village_survey.areas.models import AreaScope, County, Township, utcnow
from village_survey.extensions import db

ROLES = ("surveyor", "reviewer", "viewer", "admin")
# Which scope levels each role may have (README.md, "Roles and areas").
ROLE_LEVELS = {
    "surveyor": ("township",),
    "reviewer": ("county",),
    "viewer": ("county", "city"),
    "admin": ("city",),
}
DEMO_USERNAMES = ("demo-surveyor", "demo-reviewer", "demo-viewer", "demo-admin")


class User(AreaScope, UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('surveyor','reviewer','viewer','admin')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id in the session and "remember me" cookies: changing it (end_sessions) makes
    # every cookie issued before useless, on every device.
    session_token: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    county: Mapped[County | None] = relationship()
    township: Mapped[Township | None] = relationship()

    def set_password(self, password):
        """Set the password (policy checked by the caller) and log out every device."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self):
        """End every session of the user: cookies from before are refused by the user loader."""
        self.session_token = secrets.token_hex(16)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return self.active
