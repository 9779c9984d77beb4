"""Referrals: receiving them, triage, consent, updates, communications and the timeline.

Every change happens under a row lock on the referral (its status moves only through ``status.py``) and
is recorded twice: as a case event (the timeline and the change feed) and in the audit trail. Reads of
case data are audited too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import (
    FINAL_REFERRAL_STATUSES,
    CommunicationAudience,
    ReferralStatus,
)
from app.children.contributions import status as contribution_status
from app.children.referrals import access, repository, status
from app.children.referrals.access import View, for_hub, shown, visible
from app.children.referrals.repository import AGGREGATE, ReferralFilters
from app.children.referrals.schemas import (
    ChildIn,
    CommunicationIn,
    ConsentOverrideIn,
    RagRatingIn,
    ReferralCreate,
    ReferralInformationIn,
    ReferralUpdate,
)
from app.children.referrals.status import Action
from app.core import allocation, audit, events, senders
from app.core.allocation import AllocationIn
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock, earlier_of
from app.core.concurrency import check_if_match
from app.core.errors import AppError, InvalidTransition, NotFound
from app.core.events import EventType
from app.core.inserts import insert_new, new_record
from app.core.pagination import PageParams, Sort
from app.core.scopes import Scope
from app.core.senders import WithdrawalIn
from app.governance.feed import service as feed
from app.models.base import utcnow
from app.models.referral import (
    Communication,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ReferralInformation,
)
from app.people import repository as people_repository
from app.people import service as people_service
from app.people.codes import MatchStatus
from app.people.disclosures import service as disclosures
from app.people.matching import identity_in

RECORD_TYPE = "referral"
PARENT_AUDIENCES = frozenset({CommunicationAudience.PARENT, CommunicationAudience.CARER})
# How each child was matched when the referral came in, as the timeline tells it.
CHILD_MATCH_EVENTS = {
    MatchStatus.MATCHED: EventType.CHILD_MATCHED,
    MatchStatus.PENDING: EventType.CHILD_PENDING,
    MatchStatus.NEW_PERSON: EventType.CHILD_NEW_PERSON,
}


emit = events.emitter(AGGREGATE)


def audit_referral(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    record_id: uuid.UUID,
    person_ids: Iterable[uuid.UUID | None],
    record_type: str = RECORD_TYPE,
    **details: Any,
) -> None:
    """Audit an action on a record of a referral, naming every child it concerns."""
    people = sorted({str(p) for p in person_ids if p is not None})
    audit.record(
        session,
        actor,
        action,
        record_type,
        record_id,
        person_id=uuid.UUID(people[0]) if len(people) == 1 else None,
        details={**details, "person_ids": people},
    )


async def audit_on_referral(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    on_referral: uuid.UUID,
    *,
    record_id: uuid.UUID | None = None,
    record_type: str = RECORD_TYPE,
    **details: Any,
) -> None:
    """Audit an action on a referral or one of its records, naming the children it concerns."""
    person_ids = await child_person_ids(session, on_referral)
    audit_referral(session, actor, action, record_id or on_referral, person_ids, record_type, **details)


async def _audit_communications(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    on_referral: uuid.UUID,
    communication_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    """Audit an action on a referral's communications: one (``communication_id``), or the list."""
    await audit_on_referral(
        session,
        actor,
        action,
        on_referral,
        record_id=communication_id,
        record_type="communication",
        **details,
    )


# ---------------------------------------------------------------------------------------------------
# Loading, with visibility


async def child_person_ids(session: AsyncSession, referral_id: uuid.UUID) -> list[uuid.UUID | None]:
    children = await repository.named_children.of(session, referral_id)
    return [c.person_id for c in children]


# ---------------------------------------------------------------------------------------------------
# Receiving a referral


# What a child on a referral tells of the person (as ``_person_fields`` reads it from the referral made).
CHILD_PERSON_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "expected_date_of_birth",
    "nhs_number",
    "postcode",
    "address_lines",
    "gender",
    "ethnicity",
)


def _person_fields(child: ChildIn) -> dict[str, Any]:
    return {
        "given_name": child.given_name,
        "family_name": child.family_name,
        "date_of_birth": child.date_of_birth,
        "expected_date_of_birth": child.expected_date_of_birth,
        "nhs_number": child.nhs_number,
        "postcode": child.address.postcode if child.address else None,
        "address_lines": child.address.lines if child.address else None,
        "gender": child.gender,
        "ethnicity": child.ethnicity,
    }


@dataclass(frozen=True, slots=True)
class NewReferral:
    """A referral just made, with the rows its response shows (no need to read them back)."""

    referral: Referral
    children: list[ReferralChild]
    household: list[ReferralHouseholdMember]


async def create(
    session: AsyncSession,
    actor: Principal,
    data: ReferralCreate,
    clock: WorkingClock,
    *,
    from_public: dict[str, Any] | None = None,
) -> NewReferral:
    """Make a referral (a contact) as ``actor``'s agency; ``from_public``: made by a member of the public
    (``app.public``), whose details these are (``data.referrer`` is not read)."""
    now = utcnow()
    due = clock.referral_decision_due(now)
    acknowledgement_due = clock.referral_acknowledgement_due(now)
    consent = data.parental_consent
    referral = new_record(
        Referral,
        id=uuid.uuid4(),
        status=status.INITIAL,
        referring_agency=actor.agency,
        referred_by=actor.sub,
        received_at=now,
        referrer=data.referrer.model_dump(exclude_none=True) if from_public is None else from_public,
        referral_source=data.referral_source,
        concern_categories=[str(c) for c in data.concern_categories],
        concern_summary=data.concern_summary,
        parents_informed=consent.informed,
        parents_consented=consent.consented,
        consent_reason=consent.reason_not_informed,
        do_not_inform_parents=data.do_not_inform_parents,
        do_not_inform_reason=data.do_not_inform_reason,
        external_reference=data.external_reference,
        statutory_decision_due_at=due,
        decision_due_at=due,
        acknowledgement_due_at=acknowledgement_due,
        from_public=from_public is not None,
    )
    # Written by one Core INSERT, not the unit of work (app.core.inserts): nothing changes it again here.
    await insert_new(session, [referral])
    emit(
        session,
        actor,
        referral.id,
        EventType.REFERRAL_RECEIVED,
        referral_source=str(data.referral_source),
        children=len(data.children),
    )

    linked: list[uuid.UUID] = []
    children: list[ReferralChild] = []
    for position, child in enumerate(data.children):
        fields = _person_fields(child)
        found = await people_service.resolve(session, actor, identity_in(fields), fields, exclude=linked)
        person_id = found.person_id
        if person_id is not None:
            linked.append(person_id)
        row = new_record(
            ReferralChild,
            id=uuid.uuid4(),
            referral_id=referral.id,
            position=position,
            person_id=person_id,
            **fields,
            match_status=found.status,
            match_candidates=found.candidates,
        )
        children.append(row)
        emit(
            session,
            actor,
            referral.id,
            CHILD_MATCH_EVENTS[found.status],
            child_id=str(row.id),
            person_id=None if person_id is None else str(person_id),
            candidates=len(found.candidates),
        )
    household = [
        new_record(
            ReferralHouseholdMember,
            id=uuid.uuid4(),
            referral_id=referral.id,
            position=position,
            **member.model_dump(),
        )
        for position, member in enumerate(data.household)
    ]
    # Each kind in one statement, after the referral and the people they name (app.core.inserts).
    await insert_new(session, children)
    await insert_new(session, household)
    await people_repository.link_siblings(session, linked, referral.id)
    audit_referral(session, actor, AuditAction.CREATE, referral.id, linked)
    return NewReferral(referral, children, household)


# ---------------------------------------------------------------------------------------------------
# Triage, consent, updates


async def rate(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: RagRatingIn, clock: WorkingClock
) -> Referral:
    referral = await for_hub(session, actor, referral_id)
    status.move(referral, Action.RATE)
    now = utcnow()
    referral.rag_rating = body.rating
    referral.rag_rationale = body.rationale
    referral.rag_rated_by = actor.sub
    referral.rag_rated_at = now
    # The rating sets the RAG target, counted from receipt (rating again recounts it); the decision is due
    # by the earlier of that target and the statutory deadline stored at receipt, never later. Blue (no
    # MASH response) has no target: the statutory deadline applies.
    referral.rag_due_at = clock.rag_due(referral.received_at, body.rating)
    referral.decision_due_at = earlier_of(referral.rag_due_at, referral.statutory_decision_due_at)
    referral.updated_at = now
    await session.flush()
    emit(
        session,
        actor,
        referral.id,
        EventType.REFERRAL_RATED,
        rating=str(body.rating),
        decision_due_at=referral.decision_due_at.isoformat(),
        rag_due_at=None if referral.rag_due_at is None else referral.rag_due_at.isoformat(),
    )
    await audit_on_referral(
        session,
        actor,
        AuditAction.UPDATE,
        referral.id,
        fields=["rag"],
    )
    return referral


async def for_action(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, action: Action
) -> Referral:
    """The referral, locked for the hub to take ``action`` on it: 404 to anyone else, a 409
    ``invalid_transition`` when its status refuses the action."""
    referral = await for_hub(session, actor, referral_id)
    status.check(referral, action)
    return referral


async def override_consent(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: ConsentOverrideIn
) -> Referral:
    referral = await for_action(session, actor, referral_id, Action.OVERRIDE_CONSENT)
    if referral.parents_consented:
        raise InvalidTransition("The parents consented to this referral: there is nothing to override.")
    if referral.consent_override_at is not None:
        raise InvalidTransition("Consent has already been overridden on this referral.")
    now = utcnow()
    referral.consent_override_reason = body.reason
    referral.consent_override_basis = body.lawful_basis
    referral.consent_override_by = actor.sub
    referral.consent_override_at = now
    referral.consent_override_special_category = body.special_category_condition
    referral.updated_at = now
    await session.flush()
    emit(
        session,
        actor,
        referral.id,
        EventType.REFERRAL_CONSENT_OVERRIDDEN,
        lawful_basis=str(body.lawful_basis),
        special_category_condition=None
        if body.special_category_condition is None
        else str(body.special_category_condition),
    )
    await audit_on_referral(
        session,
        actor,
        AuditAction.UPDATE,
        referral.id,
        fields=["consent_override"],
    )
    return referral


async def update(
    session: AsyncSession,
    actor: Principal,
    referral_id: uuid.UUID,
    body: ReferralUpdate,
    if_match: str | None,
) -> Referral:
    referral = await for_hub(session, actor, referral_id)
    check_if_match(if_match, referral.version)
    status.check(referral, Action.EDIT)
    now = utcnow()
    changes = body.model_dump(exclude_unset=True)
    fields = sorted(set(changes) - {"status", "withdrawal_reason"})
    if "concern_categories" in changes and body.concern_categories is not None:
        referral.concern_categories = [str(c) for c in body.concern_categories]
    if body.concern_summary is not None:
        referral.concern_summary = body.concern_summary
    if body.referrer is not None:
        referral.referrer = body.referrer.model_dump(exclude_none=True)
    if body.do_not_inform_parents is not None:
        referral.do_not_inform_parents = body.do_not_inform_parents
        referral.do_not_inform_reason = body.do_not_inform_reason if body.do_not_inform_parents else None
    referral.updated_at = now
    if fields:
        emit(session, actor, referral.id, EventType.REFERRAL_UPDATED, fields=fields)
    if body.status == ReferralStatus.WITHDRAWN and body.withdrawal_reason is not None:
        await _withdraw(session, actor, referral, Action.WITHDRAW, body.withdrawal_reason)
    await session.flush()
    await audit_on_referral(
        session,
        actor,
        AuditAction.UPDATE,
        referral.id,
        fields=fields + (["status"] if body.status else []),
    )
    return referral


async def _withdraw(
    session: AsyncSession, actor: Principal, referral: Referral, action: Action, reason: str
) -> None:
    status.move(referral, action)
    referral.withdrawn_at = referral.updated_at = utcnow()
    referral.withdrawn_by = actor.sub
    referral.withdrawal_reason = reason
    # Agencies are no longer asked: their open requests are cancelled, answers already given stay.
    await contribution_status.cancel_requested(session, referral.id)
    emit(session, actor, referral.id, EventType.REFERRAL_WITHDRAWN)


# ---------------------------------------------------------------------------------------------------
# What the referring agency may still do: add information, withdraw (``app.core.senders``)


async def _as_party(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID
) -> tuple[Referral, senders.Party]:
    """The referral, locked, and whether the caller acts on it as the hub or as the referring agency."""
    referral, view = await visible(session, actor, referral_id, for_update=True)
    party = senders.party(
        actor,
        hub=view is View.FULL,
        sender=view is View.REFERRER,
        hub_scope=Scope.REFERRALS_WRITE,
        sender_scope=Scope.REFERRALS_CREATE,
        resource="referral",
        record_id=referral_id,
    )
    return referral, party


async def add_information(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: ReferralInformationIn
) -> ReferralInformation:
    """Append what the referring agency (or the hub) learnt since: the referral as made is unchanged."""
    referral, _ = await _as_party(session, actor, referral_id)
    status.check(referral, Action.ADD_INFORMATION)
    categories = [str(c) for c in body.concern_categories or []]
    added = senders.new_information(
        ReferralInformation, actor, body.information, referral_id=referral.id, concern_categories=categories
    )
    event = EventType.REFERRAL_INFORMATION_ADDED
    await senders.append(session, actor, added, emit, referral.id, event, concern_categories=categories)
    # The audit entry names the children; the event names the referral and the information added.
    await audit_on_referral(
        session,
        actor,
        AuditAction.CREATE,
        referral.id,
        record_id=added.id,
        record_type="referral_information",
    )
    return added


async def withdraw(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: WithdrawalIn
) -> tuple[Referral, View]:
    """The referring agency withdraws its referral before a decision is proposed; the hub any time
    before the decision."""
    referral, party = await _as_party(session, actor, referral_id)
    hub = party is senders.Party.HUB
    await _withdraw(
        session, actor, referral, Action.WITHDRAW if hub else Action.WITHDRAW_AS_REFERRER, body.reason
    )
    await session.flush()
    await audit_on_referral(session, actor, AuditAction.UPDATE, referral.id, fields=["status"])
    return referral, View.FULL if hub else View.REFERRER


async def record_communication(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: CommunicationIn
) -> Communication:
    referral = await for_hub(session, actor, referral_id)
    if body.audience in PARENT_AUDIENCES and referral.do_not_inform_parents:
        raise AppError(
            "The referral is marked do-not-inform-parents: remove the marker before recording contact "
            "with parents or carers.",
            code="do_not_inform_parents",
        )
    now = utcnow()
    communication = Communication(
        id=uuid.uuid4(),
        referral_id=referral.id,
        **body.model_dump(exclude={"occurred_at"}),
        occurred_at=body.occurred_at or now,
        recorded_by=actor.sub,
        recorded_at=now,
    )
    session.add(communication)
    # The first communication with the referrer acknowledges their contact when it happened (a call
    # that came before the referral itself acknowledges it on receipt).
    acknowledged_at: datetime | None = None
    if body.audience == CommunicationAudience.REFERRER and referral.acknowledged_at is None:
        acknowledged_at = max(communication.occurred_at, referral.received_at)
        referral.acknowledged_at = acknowledged_at
        referral.updated_at = now
    await session.flush()
    emit(
        session,
        actor,
        referral.id,
        EventType.COMMUNICATION_RECORDED,
        communication_id=str(communication.id),
        audience=body.audience,
        method=body.method,
    )
    if acknowledged_at is not None:
        due = referral.acknowledgement_due_at
        emit(
            session,
            actor,
            referral.id,
            EventType.REFERRAL_ACKNOWLEDGED,
            acknowledged_at=acknowledged_at.isoformat(),
            acknowledgement_due_at=None if due is None else due.isoformat(),
            method=body.method,
        )
    await _audit_communications(
        session, actor, AuditAction.CREATE, referral.id, communication.id, referral_id=str(referral.id)
    )
    return communication


async def confirm_match(
    session: AsyncSession,
    actor: Principal,
    referral_id: uuid.UUID,
    child_id: uuid.UUID,
    person_id: uuid.UUID | None,
) -> ReferralChild:
    """A practitioner settles a pending match: one of the candidates, or a new person record."""
    referral = await for_hub(session, actor, referral_id)
    child = await session.scalar(
        sa.select(ReferralChild).where(ReferralChild.id == child_id, ReferralChild.referral_id == referral.id)
    )
    if child is None:
        raise NotFound("child on this referral", child_id, record_type="referral_child")
    if child.match_status != MatchStatus.PENDING:
        raise AppError(code="match_already_resolved")
    fields = {name: getattr(child, name) for name in CHILD_PERSON_FIELDS}
    person, child.match_status = await people_service.settle_match(session, actor, person_id, fields)
    child.person_id = person.id
    others = [c for c in await child_person_ids(session, referral.id) if c is not None and c != person.id]
    await people_repository.link_siblings(session, [person.id, *others], referral.id)
    await session.flush()
    emit(
        session,
        actor,
        referral.id,
        EventType.CHILD_MATCH_CONFIRMED,
        child_id=str(child.id),
        person_id=str(person.id),
    )
    audit_referral(
        session, actor, AuditAction.UPDATE, referral.id, [person.id], fields=["children.person_id"]
    )
    return child


# ---------------------------------------------------------------------------------------------------
# Reading


async def communication(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, communication_id: uuid.UUID
) -> Communication:
    referral, view = await shown(session, actor, referral_id, repository.ReferralRow)
    found = await session.get(Communication, communication_id)
    if view is not View.FULL or found is None or found.referral_id != referral.id:
        raise NotFound("communication", communication_id)
    await _audit_communications(session, actor, AuditAction.READ, referral.id, found.id)
    return found


async def communications(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, params: PageParams
) -> tuple[list[Communication], str | None]:
    referral, view = await shown(session, actor, referral_id, repository.ReferralRow)
    if view is not View.FULL:
        raise NotFound("referral", referral_id)
    found = await repository.communications(session, referral.id, params)
    await _audit_communications(session, actor, AuditAction.LIST, referral.id)
    return found


@dataclass(frozen=True, slots=True)
class ReadReferral:
    """A referral read for the caller, with the rows the read loaded to audit it: its view shows them
    too, without reading them again."""

    referral: repository.ReferralRow
    children: list[repository.NamedChild]
    # Each child's known siblings: the hub's view only.
    siblings: dict[uuid.UUID, list[people_repository.Sibling]] | None

    @property
    def version(self) -> int:
        return self.referral.version


async def read(session: AsyncSession, actor: Principal, referral_id: uuid.UUID) -> tuple[ReadReferral, View]:
    referral, view = await shown(session, actor, referral_id, repository.ReferralRow)
    children = await repository.named_children.of(session, referral.id)
    person_ids: list[uuid.UUID | None] = [c.person_id for c in children]
    siblings = None
    if view is View.FULL:
        # The hub's view also shows each child's known siblings: their records are read too.
        siblings = await people_repository.siblings(session, [p for p in person_ids if p is not None])
        person_ids += [s.id for found in siblings.values() for s in found]
    audit_referral(
        session,
        actor,
        AuditAction.READ,
        referral.id,
        person_ids,
        view=str(view),
    )
    if view is not View.FULL:
        await disclosures.referral_seen_by_partner(
            session, actor, referral, children, asked=view is View.ASKED_AGENCY
        )
    return ReadReferral(referral, children, siblings), view


@dataclass(frozen=True, slots=True)
class ReferralPage:
    """A page of the referral list, with what its items show, read in a fixed number of statements
    however long the page: the hub's extras (``checks``, ``earlier``) are empty for a partner."""

    referrals: list[repository.ListedReferral]
    children: dict[uuid.UUID, list[repository.ListedChild]]
    checks: dict[uuid.UUID, list[repository.OutstandingCheck]]
    earlier: dict[uuid.UUID, int]
    next_cursor: str | None


async def list_(
    session: AsyncSession, actor: Principal, filters: ReferralFilters, sort: Sort, params: PageParams
) -> ReferralPage:
    referrals, next_cursor = await repository.list_visible(session, actor, filters, sort, params, utcnow())
    ids = [r.id for r in referrals]
    children = await repository.listed_children(session, ids)
    checks: dict[uuid.UUID, list[repository.OutstandingCheck]] = {}
    earlier: dict[uuid.UUID, int] = {}
    if access.is_hub(actor):
        checks = await repository.outstanding_checks(session, ids)
        earlier = await repository.earlier_referral_counts(session, ids)
    audit.record_list(
        session,
        actor,
        RECORD_TYPE,
        "referral_ids",
        ids,
        (c.person_id for cs in children.values() for c in cs),
    )
    return ReferralPage(referrals, children, checks, earlier, next_cursor)


async def counts(
    session: AsyncSession, actor: Principal, filters: ReferralFilters
) -> list[repository.CountRow]:
    """The list's totals: numbers only, no record or person named (nothing to audit of one)."""
    return await repository.counts(session, actor, filters, utcnow())


async def allocate(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, body: AllocationIn
) -> Referral:
    """Allocate an open referral to a worker and a team (the hub only; 404 to anyone else)."""
    referral = await for_hub(session, actor, referral_id)
    status.check(referral, Action.EDIT)
    now = utcnow()
    data = allocation.allocate(referral, actor, body, now)
    referral.updated_at = now
    await session.flush()
    emit(session, actor, referral.id, EventType.REFERRAL_ALLOCATED, **data)
    await audit_on_referral(session, actor, AuditAction.UPDATE, referral.id, fields=["allocation"])
    return referral


async def timeline(
    session: AsyncSession, actor: Principal, referral_id: uuid.UUID, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """The referral's events as the change feed shows them to the caller (``app.governance.feed.rules``):
    the hub every event, the referring agency its status changes, rating and outcome without hub names.
    An agency only asked for information has no timeline: it sees its request, not the referral's story."""
    referral, view = await shown(session, actor, referral_id, repository.ReferralRow)
    if view is View.ASKED_AGENCY:
        raise NotFound("referral", referral_id)
    entries = await feed.on_record(session, actor, AGGREGATE, referral.id, params)
    await audit_on_referral(
        session,
        actor,
        AuditAction.READ,
        referral.id,
        record_type="referral_timeline",
    )
    if view is View.REFERRER:
        children = await repository.named_children.of(session, referral.id)
        await disclosures.referral_seen_by_partner(
            session, actor, referral, children, asked=False, record_type="referral_timeline"
        )
    return entries


def is_overdue(referral: repository.ShownReferral | repository.ListedReferral, now: datetime) -> bool:
    return referral.status not in FINAL_REFERRAL_STATUSES and referral.decision_due_at < now
