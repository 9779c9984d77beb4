"""Who may read a referral, and through which view: the one place that says it.

- ``full``: children's social care, the hub for children, sees every referral whole;
- ``referrer``: the agency that made the referral sees it as sent, its status, RAG rating and outcome;
- ``asked_agency``: an agency asked for information sees the children's identifying details and the
  requests made of it.

Everything that shows a referral asks here: a single read (``visible``), the list (``listed``: a
partner lists the referrals it made; the requests it was asked are its contributions inbox), the
timeline, the feed's record parts (``made_by``, ``asked_of``) and threshold decisions (the hub's
reasoning: ``full`` only). Row-level security says the same again underneath, on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import filters
from app.core.auth import Principal
from app.core.codes import CaseSource
from app.core.errors import NotFound
from app.core.readable import Viewed, one, view_case
from app.core.scopes import AgencyCode
from app.models.referral import Contribution, Referral

Record = TypeVar("Record")


class View(StrEnum):
    FULL = "full"
    REFERRER = "referrer"
    ASKED_AGENCY = "asked_agency"


def is_hub(principal: Principal) -> bool:
    """Children's social care: sees every referral whole, and what hangs off it."""
    return principal.is_childrens_hub


def made_by(agency: str) -> sa.ColumnElement[bool]:
    """Referrals the agency made."""
    return Referral.referring_agency == agency


def asked_of(agency: str) -> sa.ColumnElement[bool]:
    """Referrals the agency was asked about."""
    return sa.exists().where(Contribution.referral_id == Referral.id, Contribution.agency == agency)


def partner_view(agency: str) -> sa.ColumnElement[str | None]:
    """The view through which an agency other than the hub sees each referral; NULL where it may not."""
    return view_case(None, (made_by(agency), View.REFERRER), (asked_of(agency), View.ASKED_AGENCY))


def listed(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller's referral list holds: the hub every referral, a partner those it made."""
    return sa.true() if is_hub(principal) else made_by(str(principal.agency))


def from_sources(sources: Collection[CaseSource]) -> sa.ColumnElement[bool]:
    """Referrals that came from any of ``sources``: the hub's are made by children's social care."""
    return filters.from_sources(
        sources, made_by(AgencyCode.CHILDRENS_SOCIAL_CARE), Referral.from_public.expression
    )


class Sourced(Protocol):
    """What says where a referral came from: on its ORM record or a row read for the list."""

    @property
    def referring_agency(self) -> str: ...
    @property
    def from_public(self) -> bool: ...


def source(referral: Sourced) -> CaseSource:
    """Where one referral came from, as ``from_sources`` filters it."""
    return filters.source_of(
        made_by_hub=referral.referring_agency == AgencyCode.CHILDRENS_SOCIAL_CARE,
        from_public=referral.from_public,
    )


# One referral for a caller (``visible``: with its view, 404 when it has none; ``shown``: the same as a
# plain row, to show it), or for the hub to change (``for_hub``: locked; 404 to anyone else).
_REFERRAL = Viewed(Referral, View, "referral", partner_view, is_hub)
visible = _REFERRAL.visible
shown = _REFERRAL.shown
for_hub = _REFERRAL.for_hub


def reads_decisions(principal: Principal) -> bool:
    """Threshold decisions carry the hub's reasoning, drawn from every agency's answers: the hub only.
    The referring agency sees the outcome on its referral."""
    return is_hub(principal)


def reads_hub_work(principal: Principal) -> bool:
    """What the hub does after its decision (assessments, strategy discussions, section 47 enquiries
    and conferences) is its own casework about the family: the hub only. The referring agency sees the
    outcome on its referral; no partner sees the work that follows."""
    return is_hub(principal)


def hub_work(principal: Principal) -> sa.ColumnElement[bool]:
    """The readable statement's condition for the hub's work after a decision: every row, or none."""
    return sa.true() if reads_hub_work(principal) else sa.false()


async def hub_work_record(
    session: AsyncSession,
    principal: Principal,
    model: type[Record],
    record_id: uuid.UUID,
    *,
    resource: str,
    for_update: bool = False,
) -> Record:
    """One record of the hub's work after a decision (locked when ``for_update``); 404 to anyone else."""
    key: Any = model.id  # type: ignore[attr-defined]
    found = await one(
        session, sa.select(model).where(key == record_id, hub_work(principal)), for_update=for_update
    )
    if found is None:
        raise NotFound(resource, record_id)
    return found
