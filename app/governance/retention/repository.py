"""The retention queries: which records' periods have ended, their holds and anonymisations.

Retention is governance over both sides' records, like the subject access export, so it reads their
tables here; what it changes in them is in ``anonymise``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import local_date
from app.core.retention import (
    RetainedRecordType,
    RetentionBasis,
    RetentionRule,
    instant_years_before,
    years_after,
    years_before,
)
from app.models.adult import AdultConcern
from app.models.referral import Referral, ReferralChild
from app.models.retention import Anonymisation, LegalHold

MODELS: dict[RetainedRecordType, Any] = {
    RetainedRecordType.REFERRAL: Referral,
    RetainedRecordType.ADULT_CONCERN: AdultConcern,
}


def _born(child: Any = ReferralChild) -> Any:
    # An unborn child's expected date stands in for the date of birth.
    return sa.func.coalesce(child.date_of_birth, child.expected_date_of_birth)


def held(record_type: RetainedRecordType, key: Any) -> sa.Exists:
    return sa.exists().where(
        LegalHold.record_type == record_type.value,
        LegalHold.record_id == key,
        LegalHold.released_at.is_(None),
    )


def anonymised(record_type: RetainedRecordType, key: Any) -> sa.Exists:
    return sa.exists().where(Anonymisation.record_type == record_type.value, Anonymisation.record_id == key)


def _last_activity(model: Any) -> Any:
    return sa.func.coalesce(model.updated_at, model.received_at)


def ended(
    record_type: RetainedRecordType, rule: RetentionRule, today: date, now: datetime
) -> sa.ColumnElement[bool]:
    """The records of ``record_type`` whose retention period under ``rule`` has ended by today."""
    model = MODELS[record_type]
    if rule.basis == RetentionBasis.UNTIL_AGE:
        # Every person it is about has reached the age: no child on it born after the cutoff.
        cutoff = years_before(today, rule.years)
        if record_type == RetainedRecordType.REFERRAL:
            # A child with no date at all (never so recorded) keeps the referral: nothing says it ended.
            later = sa.or_(_born() > cutoff, _born().is_(None))
            return ~sa.exists().where(ReferralChild.referral_id == model.id, later)
        return sa.and_(AdultConcern.date_of_birth.is_not(None), AdultConcern.date_of_birth <= cutoff)
    recent: sa.ColumnElement[bool] = _last_activity(model) <= instant_years_before(now, rule.years)
    return recent


def review_statement(
    record_type: RetainedRecordType, rule: RetentionRule, today: date, now: datetime
) -> sa.Select[Any]:
    """Past retention, not held, not anonymised yet."""
    model = MODELS[record_type]
    return sa.select(model).where(
        ended(record_type, rule, today, now), ~held(record_type, model.id), ~anonymised(record_type, model.id)
    )


async def retention_ended_on(
    session: AsyncSession, record_type: RetainedRecordType, rule: RetentionRule, records: list[Any]
) -> dict[uuid.UUID, date]:
    """The day each record's retention period ended (or ends)."""
    if rule.basis == RetentionBasis.AFTER_LAST_ACTIVITY:
        return {r.id: years_after(local_date(r.updated_at or r.received_at), rule.years) for r in records}
    if record_type == RetainedRecordType.ADULT_CONCERN:
        return {r.id: years_after(r.date_of_birth, rule.years) for r in records if r.date_of_birth}
    ids = [r.id for r in records]
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(ReferralChild.referral_id, sa.func.max(_born()))
        .where(ReferralChild.referral_id.in_(ids))
        .group_by(ReferralChild.referral_id)
    )
    return {referral_id: years_after(born, rule.years) for referral_id, born in rows if born is not None}


async def record(
    session: AsyncSession, record_type: RetainedRecordType, record_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    """The referral or concern, locked until the transaction ends when asked (PostgreSQL): a hold and
    an anonymisation of the same record queue behind each other."""
    model = MODELS[record_type]
    stmt = sa.select(model).where(model.id == record_id)
    if for_update:
        stmt = stmt.with_for_update(of=model)
    return await session.scalar(stmt)


async def is_held(session: AsyncSession, record_type: RetainedRecordType, record_id: uuid.UUID) -> bool:
    return bool(await session.scalar(sa.select(held(record_type, record_id))))


async def is_anonymised(session: AsyncSession, record_type: RetainedRecordType, record_id: uuid.UUID) -> bool:
    return bool(await session.scalar(sa.select(anonymised(record_type, record_id))))


async def has_ended(
    session: AsyncSession,
    record_type: RetainedRecordType,
    record_id: uuid.UUID,
    rule: RetentionRule,
    today: date,
    now: datetime,
) -> bool:
    model = MODELS[record_type]
    stmt = sa.select(model.id).where(model.id == record_id, ended(record_type, rule, today, now))
    return await session.scalar(stmt) is not None


def holds_statement(
    record_type: RetainedRecordType | None, record_id: uuid.UUID | None, active: bool | None
) -> sa.Select[Any]:
    stmt = sa.select(LegalHold)
    if record_type is not None:
        stmt = stmt.where(LegalHold.record_type == record_type.value)
    if record_id is not None:
        stmt = stmt.where(LegalHold.record_id == record_id)
    if active is not None:
        stmt = stmt.where(LegalHold.released_at.is_(None) if active else LegalHold.released_at.is_not(None))
    return stmt
