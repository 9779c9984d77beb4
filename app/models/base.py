"""Declarative base, naming convention and the column types shared by every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from app.core import clock
from app.core.schemas import EXTERNAL_REFERENCE_LENGTH, MAX_SUB_LENGTH

# A team's name as the hub calls it ("MASH A", "Front door east").
ALLOCATION_TEAM_LENGTH = 100

# Stable constraint names, so migrations can name what they drop on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return clock.now()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    PostgreSQL keeps the offset; SQLite stores text without one, so values are normalised to UTC on
    the way in and marked UTC on the way out. Naive datetimes are refused: they are always a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {
        datetime: UTCDateTime(),
        uuid.UUID: sa.Uuid(),
        dict[str, Any]: sa.JSON(),
    }


def table_of(model: type[Base]) -> sa.Table:
    """``model``'s table, for a Core statement (an insert of rows, a join, an alias): declarative
    types ``__table__`` as a ``FromClause``, which has no ``insert()`` and no ``alias`` of a table."""
    return cast(sa.Table, model.__table__)


def table_columns(model: type[Base]) -> ReadOnlyColumnCollection[str, sa.Column[Any]]:
    """The columns of ``model``'s table, for a statement that reads columns only (a check, a list
    that is only shown). Selected as these rather than as the mapped attributes, the ORM has no part
    in running it: ~150 us of CPU a statement here, against 190-250 us through the session, and
    row-level security, being in the database, applies the same."""
    return table_of(model).c


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow, nullable=False)


def sub_column(*, nullable: bool = False) -> Mapped[Any]:
    """Who did something: a token's ``sub``, as wide as the longest one accepted."""
    return mapped_column(sa.String(MAX_SUB_LENGTH), nullable=nullable)


class Timestamped:
    """When the record was created, and when it was last changed (null until it is)."""

    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Allocated:
    """Who works the record: a worker (a token's ``sub``) and a team, who allocated it, when, and why.
    The one column group a work queue filters on (``app.core.allocation``)."""

    allocated_worker: Mapped[str | None] = sub_column(nullable=True)
    allocated_team: Mapped[str | None] = mapped_column(sa.String(ALLOCATION_TEAM_LENGTH), nullable=True)
    allocated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    allocated_by: Mapped[str | None] = sub_column(nullable=True)
    allocation_note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Versioned:
    """Optimistic locking: ``version`` is bumped on every update, and a stale write fails."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def external_reference_column() -> Mapped[Any]:
    return mapped_column(sa.String(EXTERNAL_REFERENCE_LENGTH), nullable=True, index=True)


def from_public_column() -> Mapped[Any]:
    """Came through the public's front door (``/public/v1/...``): the queues' ``source=public``."""
    return mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())


def public_index(table: str) -> sa.Index:
    """The public queue of ``table``, newest first: a partial index of the few public records."""
    where = sa.text("from_public")
    return sa.Index(
        f"ix_{table}_public_received_at", "received_at", "id", postgresql_where=where, sqlite_where=where
    )


class Closable:
    """Who closed the record, when and why (an adult concern, a safeguarding plan)."""

    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_by: Mapped[str | None] = sub_column(nullable=True)
    closure_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Recorded:
    """Who recorded something that happened (a contact, a meeting, a decision, a review), and when."""

    recorded_by: Mapped[str] = sub_column()
    recorded_at: Mapped[datetime] = created_at_column()


class AddedInformation:
    """Information added to a record after it was sent: appended with who and when, never editing what
    was sent (a referral's or an adult concern's additional information)."""

    id: Mapped[uuid.UUID] = uuid_pk()
    information: Mapped[str] = mapped_column(sa.Text, nullable=False)
    added_by: Mapped[str] = sub_column()
    added_by_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    added_at: Mapped[datetime] = created_at_column()


class Withdrawable:
    """Who withdrew the record, when and why (nothing is deleted)."""

    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_by: Mapped[str | None] = sub_column(nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Actor:
    """Who did something, as their token said: the ``sub``, its agency and its role (an audit entry's
    actor, a case event's)."""

    actor_sub: Mapped[str] = sub_column()
    actor_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    actor_role: Mapped[str] = mapped_column(sa.String(40), nullable=False)


class FrontDoorRecord(Allocated, Withdrawable, Timestamped, Versioned):
    """What the front door receives (a referral about children, a concern about an adult): where it has
    got to (``status``, moved only by its status module), the sender's own reference, when it was
    received, the deadline for the decision on it (which the queues work to), whether the public sent
    it, who works it and whether it was withdrawn."""

    id: Mapped[uuid.UUID] = uuid_pk()
    status: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    external_reference: Mapped[str | None] = external_reference_column()
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    decision_due_at: Mapped[datetime] = mapped_column(nullable=False)
    # Sent online by a member of the public (``/public/v1/...``): ``source=public``.
    from_public: Mapped[bool] = from_public_column()
