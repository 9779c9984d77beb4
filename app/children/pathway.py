"""What the work after a threshold decision shares (assessments, strategy discussions, section 47
enquiries and conferences): the children a record is about, its audit entry naming them, and the
lateness of a statutory timescale counted in working days."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.pathway_schemas import Lateness
from app.children.referrals import service as referrals
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock
from app.core.events import EventType
from app.models.protection import Assessment, Section47Enquiry
from app.models.referral import ReferralChild

# The records about one child of a referral.
ChildWork = Assessment | Section47Enquiry


async def children(session: AsyncSession, child_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ReferralChild]:
    """The referrals' children ``child_ids`` names, by id."""
    if not child_ids:
        return {}
    rows = await session.scalars(sa.select(ReferralChild).where(ReferralChild.id.in_(list(child_ids))))
    return {child.id: child for child in rows}


def audit(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    record_type: str,
    record_id: uuid.UUID,
    about: Iterable[ReferralChild],
    **details: Any,
) -> None:
    """Audit an action on a record of the hub's work, naming the children (people) it is about."""
    referrals.audit_referral(
        session, actor, action, record_id, [child.person_id for child in about], record_type, **details
    )


async def child_of(session: AsyncSession, record: ChildWork) -> ReferralChild:
    return (await children(session, [record.child_id]))[record.child_id]


def announce(
    session: AsyncSession,
    actor: Principal,
    record: ChildWork,
    record_type: str,
    event: EventType,
    action: AuditAction,
    child: ReferralChild,
    **data: Any,
) -> None:
    """What happened to a record about one child: an event on its referral's stream (the timeline and
    the hub's feed) naming the record and the child, and the audit entry naming the child."""
    ids = {f"{record_type}_id": str(record.id), "child_id": str(record.child_id)}
    referrals.emit(session, actor, record.referral_id, event, **ids, **data)
    audit(session, actor, action, record_type, record.id, [child], status=record.status)


async def changed(
    session: AsyncSession,
    actor: Principal,
    record: ChildWork,
    record_type: str,
    event: EventType,
    **data: Any,
) -> ReferralChild:
    """Store a change to a record about one child and announce it; the child."""
    await session.flush()
    child = await child_of(session, record)
    announce(session, actor, record, record_type, event, AuditAction.UPDATE, child, **data)
    return child


async def read(session: AsyncSession, actor: Principal, record: ChildWork, record_type: str) -> ReferralChild:
    """Audit the caller's read of a record about one child; the child."""
    child = await child_of(session, record)
    audit(session, actor, AuditAction.READ, record_type, record.id, [child])
    return child


def lateness(clock: WorkingClock, started_on: date, done_on: date, due_on: date) -> tuple[int, bool]:
    """Working days from ``started_on`` to ``done_on`` (the day done counted, the first not), and whether
    that was past ``due_on``."""
    return clock.working_days_between(started_on, done_on), done_on > due_on


def lateness_out(working_days: int | None, late: bool | None) -> Lateness | None:
    if working_days is None or late is None:
        return None
    return Lateness(working_days=working_days, late=late)
