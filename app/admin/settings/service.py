"""Reading and replacing the hub's timescales (admin only). Every change is audited with the values
before and after; the timescales hold no personal data."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.settings.schemas import RagHoursOut, TimescalesIn, TimescalesOut, WorkingHoursOut
from app.core import audit, timescales
from app.core.audit import Actor, AuditAction
from app.core.clock import WEEKDAYS, WorkingTimeConfig
from app.core.concurrency import check_if_match, etag
from app.core.errors import AppError, PreconditionFailed
from app.core.timescales import TIMESCALES_KEY, Timescales, config_document
from app.models.base import utcnow
from app.models.settings import HubSetting

RECORD_TYPE = "hub_settings"


def timescales_out(current: Timescales) -> TimescalesOut:
    config = current.config
    return TimescalesOut(
        timezone=config.timezone,
        working_hours=WorkingHoursOut.model_validate(
            {day.value: (w.model_dump() if (w := config.hours_on(day)) else None) for day in WEEKDAYS}
        ),
        rag_hours=RagHoursOut(**config.rag_hours),
        red_in_clock_hours=config.red_in_clock_hours,
        referral_decision_working_days=config.referral_decision_working_days,
        referral_acknowledgement_working_days=config.referral_acknowledgement_working_days,
        adult_concern_decision_working_days=config.adult_concern_decision_working_days,
        extra_closure_dates=sorted(config.extra_closure_dates),
        source="stored" if current.stored else "configuration",
        version=current.version,
        updated_at=current.updated_at,
        updated_by=current.updated_by,
    )


def _to_config(body: TimescalesIn) -> WorkingTimeConfig:
    try:
        return WorkingTimeConfig.model_validate(body.model_dump())
    except ValidationError as exc:  # the schema checks the same rules first; this is a safety net
        errors = [{"loc": ["body", *err["loc"]], "msg": err["msg"]} for err in exc.errors()]
        raise AppError(code="validation_failed", errors=errors) from exc


async def get(session: AsyncSession, default: WorkingTimeConfig) -> Timescales:
    return await timescales.load(session, default)


async def replace(
    session: AsyncSession, actor: Actor, body: TimescalesIn, if_match: str | None, default: WorkingTimeConfig
) -> Timescales:
    """Store new timescales. Deadlines already stored on records keep their values; new ones use these."""
    config = _to_config(body)
    # Locked until commit (PostgreSQL): a concurrent PUT waits, then finds a newer version: 412.
    row = await timescales.stored_row(session, for_update=True)
    current = timescales.from_row(row, default)
    check_if_match(if_match, current.version)
    before, after = config_document(current.config), config_document(config)
    now = utcnow()
    if row is None:
        row = HubSetting(key=TIMESCALES_KEY, value=after, updated_at=now, updated_by=actor.sub)
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as exc:
            # Two first PUTs raced (PostgreSQL; SQLite runs one writer at a time): the other stored
            # version 1 first, so this request's If-Match is stale.
            raise PreconditionFailed() from exc
    else:
        row.value, row.updated_at, row.updated_by = after, now, actor.sub
        await session.flush()
    audit.record(
        session,
        actor,
        AuditAction.UPDATE,
        RECORD_TYPE,
        TIMESCALES_KEY,
        details={
            "version": row.version,
            "changed": sorted(k for k in after if before.get(k) != after[k]),
            "before": before,
            "after": after,
        },
    )
    return timescales.from_row(row, default)


# The seed borough's working hours (its MASH pages): Monday to Thursday 09:00-17:15, Friday 09:00-17:00.
_LONG_DAY = {"start": "09:00", "end": "17:15"}
SEED_BOROUGH_HOURS: dict[str, dict[str, str] | None] = {
    "monday": _LONG_DAY,
    "tuesday": _LONG_DAY,
    "wednesday": _LONG_DAY,
    "thursday": _LONG_DAY,
    "friday": {"start": "09:00", "end": "17:00"},
    "saturday": None,
    "sunday": None,
}


async def store_seed_borough_hours(session: AsyncSession, actor: Actor, default: WorkingTimeConfig) -> bool:
    """Demo data: store the configured timescales with the seed borough's working hours, unless an admin
    has stored timescales already (then nothing changes). Whether it stored them."""
    if await timescales.stored_row(session) is not None:
        return False
    body = TimescalesIn.model_validate({**config_document(default), "working_hours": SEED_BOROUGH_HOURS})
    await replace(session, actor, body, etag(0), default)
    return True
