"""Models of the hierarchy: county → township → administrative village → household (farmhouse)."""

from datetime import datetime, timezone

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from village_survey.areas.natural import natural_key
from village_survey.extensions import db


SORT_KEY_TYPE = String(120).with_variant(String(120, collation="C"), "postgresql")


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
    # In the natural order of their house numbers (selectinload keeps it too).
    households: Mapped[list["Household"]] = relationship(
        back_populates="village", order_by=lambda: (Household.sort_key, Household.house_number))


class Household(db.Model):
    """A farmhouse (农房): one household's home, surveyed once a year.

    ``head_name`` and ``phone`` are personal data: shown within scope, masked in exports.
    ``sort_key`` is ``natural_key(house_number)``: order by it (then by house_number) and house
    numbers sort naturally (1组2号 before 1组10号). It follows the house number however a household
    is written: the ORM sets it when house_number is set, and a Core insert (``insert(Household)``
    with row dicts, one or many) computes it from the row's house_number.
    """

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("village_id", "house_number"),
                      Index("ix_households_village_sort", "village_id", "sort_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    house_number: Mapped[str] = mapped_column(String(40))
    # PostgreSQL compares text by the database's collation, which may ignore the padding zeros'
    # meaning (or punctuation); "C" compares code points as SQLite's default BINARY does.
    sort_key: Mapped[str] = mapped_column(
        SORT_KEY_TYPE, default=lambda context: natural_key(context.get_current_parameters()["house_number"]))
    head_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    village: Mapped[Village] = relationship(back_populates="households")

    @validates("house_number")
    def _keep_sort_key(self, _key, house_number):
        self.sort_key = natural_key(house_number)
        return house_number


class AreaScope:
    """What a row bound to a township, a county or (neither) the whole city reads as its scope:
    users and API tokens (``township_id``/``county_id`` and their relationships)."""

    @property
    def scope_level(self):
        if self.township_id is not None:
            return "township"
        if self.county_id is not None:
            return "county"
        return "city"

    @property
    def scope_area(self):
        """The township or county, or None for the city."""
        return self.township or self.county

    @property
    def scope_spec(self):
        """The scope as written on the command line: city, county:<code> or township:<code>."""
        area = self.scope_area
        return "city" if area is None else f"{self.scope_level}:{area.code}"
