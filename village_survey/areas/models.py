"""Models of the hierarchy: county → township → administrative village → household (farmhouse)."""

from datetime import datetime, timezone

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from village_survey.extensions import db


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class County(db.Model):
    """A county-level unit (区, 县 or 县级市) with its GB/T 2260 division code."""

    __tablename__ = "counties"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    townships: Mapped[list["Township"]] = relationship(back_populates="county", order_by="Township.code")


class Township(db.Model):
    __tablename__ = "townships"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    county: Mapped[County] = relationship(back_populates="townships")
    villages: Mapped[list["Village"]] = relationship(back_populates="township", order_by="Village.code")


class Village(db.Model):
    """An administrative village (行政村) with its number of registered households."""

    __tablename__ = "villages"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    registered_households: Mapped[int] = mapped_column(default=0)
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)
    township: Mapped[Township] = relationship(back_populates="villages")
    households: Mapped[list["Household"]] = relationship(back_populates="village")


class Household(db.Model):
    """A farmhouse (农房): one household's home, surveyed once a year.

    ``head_name`` and ``phone`` are personal data: shown within scope, masked in exports.
    """

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("village_id", "house_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    house_number: Mapped[str] = mapped_column(String(40))
    head_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    village: Mapped[Village] = relationship(back_populates="households")
