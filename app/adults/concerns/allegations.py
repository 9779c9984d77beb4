"""Allegations as the enquiry finds them: added when it finds another risk, corrected when it finds the type,
location or source of a risk to be other than the concern said.

Only adult social care changes them, and only while the enquiry is open (``enquiry_status``); SAC SG2
counts what the concluded enquiry found. Each correction keeps what the allegation was, who changed it,
when and why (``allegation_changes``). What the enquiry found is the hub's: the raising agency keeps
seeing the allegations as it raised them (``views.as_raised``), and the events are not on its feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.concerns import access, enquiry_status, repository, status
from app.adults.concerns.enquiry_status import Action as EnquiryAction
from app.adults.concerns.schemas import CORRECTABLE, AllegationCorrection, AllegationFound
from app.adults.concerns.service import audit_concern, emit, visible_enquiry
from app.adults.concerns.status import Action
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.concurrency import check_if_match
from app.core.errors import NotFound
from app.core.events import EventType
from app.models.adult import AdultConcern, Allegation, AllegationChange, Enquiry
from app.models.base import utcnow

RECORD_TYPE = "allegation"


async def _for_hub(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID
) -> tuple[Enquiry, AdultConcern]:
    """The open enquiry and its concern, locked, for adult social care to amend the allegations (404 to
    anyone else; 409 once the enquiry concluded)."""
    if not access.is_hub(actor):
        raise NotFound("enquiry", enquiry_id)
    enquiry, concern = await visible_enquiry(session, actor, enquiry_id, for_update=True)
    status.check(concern, Action.EDIT)
    enquiry_status.check(enquiry, EnquiryAction.AMEND_ALLEGATIONS)
    return enquiry, concern


async def add(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, body: AllegationFound
) -> Allegation:
    enquiry, concern = await _for_hub(session, actor, enquiry_id)
    existing = await repository.allegations(session, concern.id)
    fields = body.model_dump()
    allegation = Allegation(
        id=uuid.uuid4(),
        concern_id=concern.id,
        position=max((a.position for a in existing), default=-1) + 1,
        enquiry_id=enquiry.id,
        added_by=actor.sub,
        added_at=utcnow(),
        **fields,
    )
    session.add(allegation)
    await session.flush()
    kind = allegation.type_of_risk
    _tell(session, actor, enquiry, allegation, EventType.ALLEGATION_ADDED, type_of_risk=kind)
    audit_concern(
        session, actor, AuditAction.CREATE, concern, record_id=allegation.id, record_type=RECORD_TYPE
    )
    return allegation


def _tell(
    session: AsyncSession,
    actor: Principal,
    enquiry: Enquiry,
    allegation: Allegation,
    event: EventType,
    **data: Any,
) -> None:
    """The event on the concern's stream (adult social care's: ``app.governance.feed.rules``)."""
    ids = {"enquiry_id": str(enquiry.id), "allegation_id": str(allegation.id)}
    emit(session, actor, allegation.concern_id, event, **ids, **data)


async def _visible(
    session: AsyncSession, actor: Principal, allegation_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Allegation, Enquiry | None, AdultConcern]:
    """The allegation, for adult social care or the agency leading (or caused) the concern's enquiry."""
    allegation = await repository.allegation(session, allegation_id, for_update=for_update)
    if allegation is None:
        raise NotFound(RECORD_TYPE, allegation_id)
    enquiry = await repository.enquiry_of(session, allegation.concern_id)
    if not access.is_hub(actor) and (enquiry is None or not access.reads_enquiry(actor, enquiry)):
        raise NotFound(RECORD_TYPE, allegation_id)
    concern = await repository.get(session, allegation.concern_id, for_update=for_update)
    assert concern is not None  # a foreign key
    return allegation, enquiry, concern


async def read(
    session: AsyncSession, actor: Principal, allegation_id: uuid.UUID
) -> tuple[Allegation, Sequence[AllegationChange]]:
    allegation, _, concern = await _visible(session, actor, allegation_id)
    audit_concern(session, actor, AuditAction.READ, concern, record_id=allegation.id, record_type=RECORD_TYPE)
    return allegation, await repository.allegation_changes(session, [allegation.id])


async def correct(
    session: AsyncSession,
    actor: Principal,
    allegation_id: uuid.UUID,
    body: AllegationCorrection,
    if_match: str | None,
) -> tuple[Allegation, Sequence[AllegationChange]]:
    if not access.is_hub(actor):
        raise NotFound(RECORD_TYPE, allegation_id)
    allegation, enquiry, concern = await _visible(session, actor, allegation_id, for_update=True)
    check_if_match(if_match, allegation.version)
    if enquiry is None:
        raise NotFound("enquiry of the allegation's concern", allegation.concern_id)
    await _for_hub(session, actor, enquiry.id)
    sent = body.model_dump(include=set(CORRECTABLE), exclude_unset=True)
    changes = {
        name: {"before": getattr(allegation, name), "after": str(value)}
        for name, value in sent.items()
        if str(value) != getattr(allegation, name)
    }
    now = utcnow()
    if changes:
        for name, change in changes.items():
            setattr(allegation, name, change["after"])
        allegation.updated_at = now
        session.add(
            AllegationChange(
                id=uuid.uuid4(),
                allegation_id=allegation.id,
                changes=changes,
                reason=body.reason,
                changed_by=actor.sub,
                changed_at=now,
            )
        )
        await session.flush()
        _tell(session, actor, enquiry, allegation, EventType.ALLEGATION_CORRECTED, fields=sorted(changes))
    audit_concern(
        session,
        actor,
        AuditAction.UPDATE,
        concern,
        record_id=allegation.id,
        record_type=RECORD_TYPE,
        fields=sorted(changes),
    )
    return allegation, await repository.allegation_changes(session, [allegation.id])
