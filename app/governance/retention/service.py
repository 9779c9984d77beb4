"""Retention: the review list of records past their rule, legal holds that keep them, and their
anonymisation. Every step is audited by ids (``app.core.audit``); reasons are free text and stay in
the hold's row, out of the audit trail.

The rules (``app.core.retention``) are configured per record type. A record appears on the review
list when its period has ended, no legal hold stands and it has not been anonymised; information
governance reviews it and either places a hold or anonymises it. Anonymising checks the same three
conditions again, under a lock on the record, so a hold placed meanwhile wins.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock
from app.core.audit import Actor, AuditAction
from app.core.errors import AppError, NotFound
from app.core.pagination import PageParams, paginate
from app.core.retention import RetainedRecordType, RetentionBasis, RetentionConfig
from app.governance.retention import anonymise as anonymiser
from app.governance.retention import repository
from app.governance.retention.schemas import (
    AnonymisationIn,
    AnonymisationOut,
    LegalHoldIn,
    LegalHoldOut,
    RetentionReviewItem,
    RetentionRuleOut,
)
from app.models.base import utcnow
from app.models.person import Person
from app.models.retention import Anonymisation, LegalHold

HOLD_RECORD_TYPE = "legal_hold"
ANONYMISATION_RECORD_TYPE = "anonymisation"
REVIEW_RECORD_TYPE = "retention_review"


def rules_out(rules: RetentionConfig) -> list[RetentionRuleOut]:
    return [
        RetentionRuleOut(record_type=t, basis=r.basis, years=r.years, source=r.source)
        for t in RetainedRecordType
        for r in [rules.rule_for(t)]
    ]


async def review(
    session: AsyncSession,
    actor: Actor,
    rules: RetentionConfig,
    record_type: RetainedRecordType,
    params: PageParams,
) -> tuple[list[RetentionReviewItem], str | None]:
    """The records of ``record_type`` past retention, not held and not anonymised, longest past first
    (oldest received first)."""
    rule = rules.rule_for(record_type)
    model = repository.MODELS[record_type]
    stmt = repository.review_statement(record_type, rule, clock.today(), clock.now())
    found, next_cursor = await paginate(
        session, stmt, [model.received_at, model.id], params, descending=False
    )
    ended = await repository.retention_ended_on(session, record_type, rule, found)
    audit.record(
        session,
        actor,
        AuditAction.LIST,
        REVIEW_RECORD_TYPE,
        details={"record_type": record_type.value, "record_ids": [str(r.id) for r in found]},
    )
    items = [
        RetentionReviewItem(
            record_type=record_type,
            record_id=r.id,
            received_at=r.received_at,
            basis=rule.basis,
            years=rule.years,
            retention_ended_on=ended[r.id],
        )
        for r in found
    ]
    return items, next_cursor


def hold_out(hold: LegalHold) -> LegalHoldOut:
    return LegalHoldOut.model_validate(
        {
            **{c: getattr(hold, c) for c in LegalHoldOut.model_fields if c != "active"},
            "active": hold.released_at is None,
        }
    )


async def _existing(
    session: AsyncSession, record_type: RetainedRecordType, record_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    found = await repository.record(session, record_type, record_id, for_update=for_update)
    if found is None:
        raise NotFound(record_type.value.replace("_", " "), record_id, record_type=record_type.value)
    return found


async def place_hold(session: AsyncSession, actor: Actor, body: LegalHoldIn) -> LegalHold:
    """Hold a record: while the hold stands it is not listed for review and cannot be anonymised."""
    record_type = RetainedRecordType(body.record_type)
    await _existing(session, record_type, body.record_id, for_update=True)
    if await repository.is_anonymised(session, record_type, body.record_id):
        raise AppError(code="already_anonymised")
    hold = LegalHold(
        id=uuid.uuid4(),
        record_type=record_type.value,
        record_id=body.record_id,
        reason=body.reason,
        placed_by=actor.sub,
        placed_by_agency=actor.agency,
    )
    session.add(hold)
    await session.flush()
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        HOLD_RECORD_TYPE,
        hold.id,
        details={"record_type": record_type.value, "record_id": str(body.record_id)},
    )
    return hold


async def _hold(session: AsyncSession, hold_id: uuid.UUID, *, for_update: bool = False) -> LegalHold:
    stmt = repository.holds_statement(None, None, None).where(LegalHold.id == hold_id)
    hold: LegalHold | None = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if hold is None:
        raise NotFound("legal hold", hold_id)
    return hold


async def get_hold(session: AsyncSession, actor: Actor, hold_id: uuid.UUID) -> LegalHold:
    hold = await _hold(session, hold_id)
    audit.record(session, actor, AuditAction.READ, HOLD_RECORD_TYPE, hold.id)
    return hold


async def list_holds(
    session: AsyncSession,
    actor: Actor,
    params: PageParams,
    *,
    record_type: RetainedRecordType | None,
    record_id: uuid.UUID | None,
    active: bool | None,
) -> tuple[list[LegalHold], str | None]:
    stmt = repository.holds_statement(record_type, record_id, active)
    found, next_cursor = await paginate(session, stmt, [LegalHold.placed_at, LegalHold.id], params)
    audit.record(
        session, actor, AuditAction.LIST, HOLD_RECORD_TYPE, details={"hold_ids": [str(h.id) for h in found]}
    )
    return found, next_cursor


async def release_hold(session: AsyncSession, actor: Actor, hold_id: uuid.UUID, reason: str) -> LegalHold:
    """Release a hold (once): the record returns to the review list if its period has ended and no
    other hold stands."""
    hold = await _hold(session, hold_id, for_update=True)
    if hold.released_at is not None:
        raise AppError(code="legal_hold_released")
    hold.released_at, hold.released_by, hold.release_reason = utcnow(), actor.sub, reason
    await session.flush()
    audit.record(
        session,
        actor,
        AuditAction.UPDATE,
        HOLD_RECORD_TYPE,
        hold.id,
        details={"released": True, "record_type": hold.record_type, "record_id": str(hold.record_id)},
    )
    return hold


async def anonymise(
    session: AsyncSession, actor: Actor, rules: RetentionConfig, body: AnonymisationIn
) -> AnonymisationOut:
    """Replace the personal data of a record past retention and not held, and of the people it names
    whom no other record still needs (``anonymise``). The ids, codes and dates stay; so does the audit
    trail, untouched, which refers to them."""
    record_type = RetainedRecordType(body.record_type)
    rule = rules.rule_for(record_type)
    found = await _existing(session, record_type, body.record_id, for_update=True)
    if await repository.is_anonymised(session, record_type, found.id):
        raise AppError(code="already_anonymised")
    if await repository.is_held(session, record_type, found.id):
        raise AppError(code="legal_hold_active")
    if not await repository.has_ended(session, record_type, found.id, rule, clock.today(), clock.now()):
        raise AppError(code="retention_not_ended")
    ended_on = (await repository.retention_ended_on(session, record_type, rule, [found]))[found.id]
    if record_type == RetainedRecordType.REFERRAL:
        named = await anonymiser.anonymise_referral(session, found)
    else:
        named = await anonymiser.anonymise_concern(session, found)
    await anonymiser.forget_stored_answers(session, found.id)
    row = Anonymisation(
        id=uuid.uuid4(),
        record_type=record_type.value,
        record_id=found.id,
        rule_basis=rule.basis.value,
        rule_years=rule.years,
        retention_ended_on=ended_on,
        anonymised_by=actor.sub,
        people={"anonymised": [], "kept": []},
    )
    session.add(row)
    await session.flush()  # recorded before the people are looked at: this record no longer needs them
    done: list[uuid.UUID] = []
    kept: list[uuid.UUID] = []
    for person_id in named:
        person = await session.get(Person, person_id, with_for_update=True)
        if person is None or await anonymiser.still_needed(session, person_id):
            kept.append(person_id)
            continue
        await anonymiser.anonymise_person(session, person)
        await anonymiser.forget_stored_answers(session, person_id)
        done.append(person_id)
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            "person",
            person_id,
            person_id=person_id,
            details={"anonymised": True, "anonymisation_id": str(row.id)},
        )
    row.people = {"anonymised": [str(p) for p in done], "kept": [str(p) for p in kept]}
    await session.flush()
    audit.record(
        session,
        actor,
        AuditAction.UPDATE,
        record_type.value,
        found.id,
        person_id=named[0] if len(named) == 1 else None,
        details={"anonymised": True, "anonymisation_id": str(row.id), "person_ids": [str(p) for p in named]},
    )
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        ANONYMISATION_RECORD_TYPE,
        row.id,
        details={"record_type": record_type.value, "record_id": str(found.id)},
    )
    return anonymisation_out(row)


async def get_anonymisation(
    session: AsyncSession, actor: Actor, anonymisation_id: uuid.UUID
) -> AnonymisationOut:
    row = await session.get(Anonymisation, anonymisation_id)
    if row is None:
        raise NotFound("anonymisation", anonymisation_id)
    audit.record(session, actor, AuditAction.READ, ANONYMISATION_RECORD_TYPE, row.id)
    return anonymisation_out(row)


def anonymisation_out(row: Anonymisation) -> AnonymisationOut:
    return AnonymisationOut(
        id=row.id,
        record_type=RetainedRecordType(row.record_type),
        record_id=row.record_id,
        basis=RetentionBasis(row.rule_basis),
        years=row.rule_years,
        retention_ended_on=row.retention_ended_on,
        anonymised_at=row.anonymised_at,
        anonymised_by=row.anonymised_by,
        people_anonymised=[uuid.UUID(p) for p in row.people["anonymised"]],
        people_kept=[uuid.UUID(p) for p in row.people["kept"]],
    )
