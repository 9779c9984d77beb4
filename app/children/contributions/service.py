"""Information requests to agencies ("MASH checks") and their answers.

An agency sees only the requests addressed to it: the children's identifying details and the
question, never the referral's story or other agencies' answers. It answers once; a correction adds
a version and keeps the earlier one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ContributionStatus
from app.children.contributions import access, repository, status
from app.children.contributions.repository import InboxFilters
from app.children.contributions.schemas import (
    ContributionOut,
    ContributionRequestIn,
    ContributionResponseIn,
    ResponseVersion,
)
from app.children.contributions.status import Action
from app.children.referrals import access as referral_access
from app.children.referrals import repository as referral_repository
from app.children.referrals import service as referrals
from app.children.referrals import status as referral_status
from app.children.referrals.repository import NamedChild
from app.children.referrals.status import Action as ReferralAction
from app.children.referrals.views import child_identity
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock, earlier_of
from app.core.codes import RagRating
from app.core.errors import AppError, InvalidTransition, NotFound, ValidationFailed
from app.core.events import EventType
from app.core.inserts import insert_new, new_record
from app.core.pagination import PageParams
from app.core.rendering import from_record
from app.models.base import utcnow
from app.models.referral import Contribution, ContributionResponse
from app.people.disclosures import service as disclosures

RECORD_TYPE = "contribution"


def check_due(target: datetime, decision_due_at: datetime, now: datetime) -> datetime:
    """When a check is due: the RAG target counted from the request, but no later than the decision it
    informs (an answer after the decision is due is no use to it). Once the decision is already overdue,
    the RAG target from the request stands: a check due in the past would tell the agency nothing."""
    return earlier_of(target, decision_due_at) if decision_due_at > now else target


async def request(
    session: AsyncSession,
    actor: Principal,
    referral_id: uuid.UUID,
    body: ContributionRequestIn,
    clock: WorkingClock,
) -> list[Contribution]:
    referral = await referrals.for_action(session, actor, referral_id, ReferralAction.ASK_AGENCIES)
    if referral.rag_rating == RagRating.BLUE:
        raise InvalidTransition("A blue referral needs no MASH response: agencies are not asked.")
    if not referral.parents_consented and referral.consent_override_at is None:
        raise AppError(code="consent_override_required")
    now = utcnow()
    target = clock.rag_due(now, referral.rag_rating or RagRating.GREEN)
    assert target is not None  # blue was refused above
    due = check_due(target, referral.decision_due_at, now)
    created = []
    for agency in body.agencies:
        contribution = Contribution(
            id=uuid.uuid4(),
            referral_id=referral.id,
            agency=agency,
            question=body.question,
            requested_by=actor.sub,
            requested_at=now,
            due_at=due,
            status=status.INITIAL,
        )
        session.add(contribution)
        created.append(contribution)
    referral_status.move(referral, ReferralAction.ASK_AGENCIES)
    referral.updated_at = now
    await session.flush()
    children = await referral_repository.named_children.of(session, referral.id)
    person_ids = [c.person_id for c in children]
    await disclosures.children_named_to_agencies(session, actor, referral, children, created)
    for contribution in created:
        referrals.emit(
            session,
            actor,
            referral.id,
            EventType.CONTRIBUTION_REQUESTED,
            contribution_id=str(contribution.id),
            agency=contribution.agency,
            due_at=due.isoformat(),
        )
        # Naming the children to another agency is a disclosure: audited per agency.
        referrals.audit_referral(
            session,
            actor,
            AuditAction.CREATE,
            contribution.id,
            person_ids,
            record_type=RECORD_TYPE,
            referral_id=str(referral.id),
            agency=contribution.agency,
        )
    return created


async def respond(
    session: AsyncSession, actor: Principal, contribution_id: uuid.UUID, body: ContributionResponseIn
) -> tuple[access.RequestRow, list[NamedChild]]:
    """Answer (or correct the answer to) a request; returns it as it now is, with the referral's
    children, read once: the audit entry names them and the answer shows them (``render``).

    Every statement is a plain one by asyncpg (``app.core.direct``), none the unit of work's: the
    request is read as a row, locked; its answer's version is written once and never changed (an
    INSERT); the request's change is one UPDATE."""
    contribution = await access.locked(session, actor, contribution_id)
    if not access.answers(actor, contribution):
        raise NotFound("contribution", contribution_id)  # only the agency asked may answer
    correcting = contribution.status == ContributionStatus.SUBMITTED
    action = Action.CORRECT if correcting else Action.ANSWER
    status.check(contribution, action)
    if correcting and body.correction_reason is None:
        raise AppError(code="already_responded")
    if not correcting and body.correction_reason is not None:
        raise ValidationFailed(["body", "correction_reason"], "There is no answer to correct yet.")
    now = utcnow()
    version = contribution.current_version + 1
    await insert_new(
        session,
        [
            new_record(
                ContributionResponse,
                id=uuid.uuid4(),
                contribution_id=contribution.id,
                version_number=version,
                **body.model_dump(),
                submitted_by=actor.sub,
                submitted_at=now,
            )
        ],
    )
    contribution = await status.answer(
        session, contribution, action, version=version, restricted=body.restricted, at=now
    )
    referrals.emit(
        session,
        actor,
        contribution.referral_id,
        EventType.CONTRIBUTION_CORRECTED if correcting else EventType.CONTRIBUTION_SUBMITTED,
        contribution_id=str(contribution.id),
        agency=contribution.agency,
        version=version,
        restricted=body.restricted,
    )
    children = await referral_repository.named_children.of(session, contribution.referral_id)
    referrals.audit_referral(
        session,
        actor,
        AuditAction.UPDATE if correcting else AuditAction.CREATE,
        contribution.id,
        [c.person_id for c in children],
        record_type=RECORD_TYPE,
        version=version,
        restricted=body.restricted,
    )
    return contribution, children


async def render(
    session: AsyncSession,
    contributions: Sequence[access.ShownRequest],
    viewer: Principal,
    children: Mapping[uuid.UUID, Sequence[NamedChild]] | None = None,
) -> list[ContributionOut]:
    """The contributions as ``viewer`` sees them; ``children`` (by referral), when the caller has read them."""
    hub = referral_access.is_hub(viewer)
    ids = [c.id for c in contributions]
    versions = await repository.versions(session, ids)
    if children is None:
        children = await referral_repository.named_children(session, {c.referral_id for c in contributions})
    now = utcnow()
    out = []
    for c in contributions:
        history = [ResponseVersion.model_validate(v) for v in versions[c.id]]
        out.append(
            from_record(
                ContributionOut,
                c,
                requested_by=c.requested_by if hub else None,
                overdue=c.status == ContributionStatus.REQUESTED and c.due_at < now,
                children=[child_identity(child, hub=hub) for child in children[c.referral_id]],
                response=history[0] if history else None,
                versions=history[1:],
            )
        )
    return out


async def read(session: AsyncSession, actor: Principal, contribution_id: uuid.UUID) -> Contribution:
    contribution = await access.visible(session, actor, contribution_id)
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.READ,
        contribution.referral_id,
        record_id=contribution.id,
        record_type=RECORD_TYPE,
    )
    if not referral_access.is_hub(actor):
        # The asked agency reads the children's details and the hub's question: a disclosure. It may
        # see the referral (it was asked about it): read as a plain row, as a read only shows it.
        referral, _ = await referral_access.shown(
            session, actor, contribution.referral_id, referral_repository.ReferralRow
        )
        children = await referral_repository.named_children.of(session, referral.id)
        await disclosures.referral_seen_by_partner(
            session, actor, referral, children, asked=True, record_type=RECORD_TYPE, record_id=contribution.id
        )
    return contribution


async def for_referral(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, params: PageParams
) -> tuple[list[Contribution], str | None]:
    referral, _ = await referral_access.visible(session, actor, referral_id)
    found, next_cursor = await repository.for_referral(session, referral.id, actor, params)
    await referrals.audit_on_referral(
        session,
        actor,
        AuditAction.LIST,
        referral.id,
        record_type=RECORD_TYPE,
        contribution_ids=[str(c.id) for c in found],
    )
    return found, next_cursor


async def inbox(
    session: AsyncSession, actor: Principal, filters: InboxFilters, params: PageParams
) -> tuple[list[Contribution], str | None]:
    found, next_cursor = await repository.inbox(session, actor, filters, params, utcnow())
    children = await referral_repository.named_children(session, {c.referral_id for c in found})
    audit.record_list(
        session,
        actor,
        RECORD_TYPE,
        "contribution_ids",
        (c.id for c in found),
        (ch.person_id for cs in children.values() for ch in cs),
    )
    return found, next_cursor
