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
from app.models.referral import ReferralChild


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


def lateness(clock: WorkingClock, started_on: date, done_on: date, due_on: date) -> tuple[int, bool]:
    """Working days from ``started_on`` to ``done_on`` (the day done counted, the first not), and whether
    that was past ``due_on``."""
    return clock.working_days_between(started_on, done_on), done_on > due_on


def lateness_out(working_days: int | None, late: bool | None) -> Lateness | None:
    if working_days is None or late is None:
        return None
    return Lateness(working_days=working_days, late=late)
