from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, created_at_column, sub_column, uuid_pk


class PersonalDetails:
    """Who someone is, as a person record holds them or a referral or concern named them."""

    given_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    family_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    nhs_number: Mapped[str | None] = mapped_column(sa.String(10), nullable=True)
    address_lines: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)
    postcode: Mapped[str | None] = mapped_column(sa.String(8), nullable=True)
    gender: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    ethnicity: Mapped[str | None] = mapped_column(sa.String(4), nullable=True)


class MatchedSubject(PersonalDetails):
    """The person a referral or concern is about, as it named them, and the person record they were
    matched to (``app.people.matching``)."""

    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("people.id"), nullable=True, index=True)
    match_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    match_candidates: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)


class Person(PersonalDetails, Timestamped, Versioned, Base):
    """Someone the hub holds information about: a child, a parent or carer, an adult at risk."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = uuid_pk()
    expected_date_of_birth: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    # One record per NHS number.
    nhs_number: Mapped[str | None] = mapped_column(sa.String(10), nullable=True, unique=True)
    # The council's own child id (the census ``LAchildID``) where it has one for this person, e.g. from
    # the case management system its records came from; else the census uses a short id made from the
    # person id (``app.governance.reports.queries.la_child_id``). Rules 1570 and 1580 check it.
    la_child_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, unique=True)
    created_by: Mapped[str] = sub_column()

    __table_args__ = (sa.Index("ix_people_created_at_id", "created_at", "id"),)


class PersonMatchKey(Base):
    """The blocking keys of a person (``app.people.matching.blocking_keys``), indexed so that a
    match query looks up a handful of candidates instead of scanning every person."""

    __tablename__ = "person_match_keys"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PersonLink(Base):
    """A family relationship between two people, stored in both directions (e.g. siblings)."""

    __tablename__ = "person_links"

    person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), primary_key=True)
    related_person_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("people.id"), primary_key=True)
    relationship: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    source_referral_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created_at_column()
