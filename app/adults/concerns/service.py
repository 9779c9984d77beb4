"""Adult safeguarding: concerns, the section 42 decision, enquiries, their conclusion, and advocacy.

The law decides the rules here. A section 42 enquiry is owed when, and only when, all three criteria
of s42(1) are met. An enquiry concludes only when every allegation has a result (SAC SG2c), with a
risk outcome (SG2e) exactly where risk was identified, and only once an advocate required by the
Care Act has been appointed or the adult's refusal recorded. Every change is a case event and every
read and write is audited, each naming the adult.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import (
    AdultConcernStatus,
    AdvocacyOffer,
    EnquiryStatus,
    LackedCapacity,
    Section42Decision,
)
from app.adults.concerns import access, enquiry_status, repository, status
from app.adults.concerns.access import View, visible
from app.adults.concerns.enquiry_status import Action as EnquiryAction
from app.adults.concerns.repository import AGGREGATE, ConcernFilters, EnquiryFilters
from app.adults.concerns.schemas import (
    AdultConcernCreate,
    AdultConcernUpdate,
    AdvocacyIn,
    EnquiryConclusion,
    EnquiryOpen,
    Section42DecisionIn,
)
from app.adults.concerns.status import Action
from app.core import allocation, audit, events, senders
from app.core.allocation import AllocationIn
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock
from app.core.concurrency import check_if_match
from app.core.errors import AppError, InvalidTransition, NotFound, ValidationFailed
from app.core.events import EventType
from app.core.pagination import PageParams, Sort
from app.core.scopes import Scope
from app.core.senders import InformationIn, WithdrawalIn
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Advocate,
    Allegation,
    ConcernInformation,
    Enquiry,
    Section42DecisionRecord,
)
from app.models.base import utcnow
from app.models.person import Person
from app.people import service as people_service
from app.people.codes import MatchStatus
from app.people.disclosures import service as disclosures
from app.people.matching import identity_in

RECORD_TYPE = "adult_concern"
# How the adult was matched when the concern came in, as the case events tell it.
ADULT_MATCH_EVENTS = {
    MatchStatus.MATCHED: EventType.ADULT_MATCHED,
    MatchStatus.PENDING: EventType.ADULT_PENDING,
    MatchStatus.NEW_PERSON: EventType.ADULT_NEW_PERSON,
}
ADULT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "address_lines",
    "postcode",
    "gender",
    "ethnicity",
)


emit = events.emitter(AGGREGATE)


def audit_concern(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    concern: AdultConcern,
    *,
    record_id: uuid.UUID | None = None,
    record_type: str = RECORD_TYPE,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor,
        action,
        record_type,
        record_id or concern.id,
        person_id=concern.person_id,
        details={**details, "concern_id": str(concern.id)} if record_id else details,
    )


async def for_action(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, action: Action
) -> AdultConcern:
    """The concern, locked for adult social care to take ``action`` on it: 404 to anyone else, a 409
    ``invalid_transition`` when its status refuses the action."""
    concern = await access.for_hub(session, actor, concern_id)
    status.check(concern, action)
    return concern


# The records a step on a concern makes, as the audit trail names them.
RECORD_TYPES: dict[type[Any], str] = {
    Section42DecisionRecord: "section_42_decision",
    Enquiry: "enquiry",
    Advocacy: "advocacy",
}


def _step(
    session: AsyncSession,
    concern: AdultConcern,
    action: Action,
    now: datetime,
    made: Section42DecisionRecord | Enquiry | None = None,
) -> None:
    """Move the concern by ``action``, adding the record the step ``made``."""
    if made is not None:
        session.add(made)
    status.move(concern, action)
    concern.updated_at = now


async def _tell(
    session: AsyncSession,
    actor: Principal,
    concern: AdultConcern,
    record: Section42DecisionRecord | Enquiry | Advocacy,
    event: EventType,
    data: dict[str, Any],
    *,
    action: AuditAction = AuditAction.CREATE,
) -> None:
    """Write a step on the concern and tell of it: the event on the concern's timeline and feed, and
    the audit entry for ``record``."""
    await session.flush()
    emit(session, actor, concern.id, event, **data)
    audit_concern(
        session, actor, action, concern, record_id=record.id, record_type=RECORD_TYPES[type(record)]
    )


async def person_and_concern(
    session: AsyncSession, person_id: uuid.UUID, concern_id: uuid.UUID | None
) -> AdultConcern | None:
    """For a record about a person made in a concern (an assessment, a plan): the person must exist, and
    the concern, when one is named, must be about them (422 otherwise). The concern named, if any."""
    if await session.get(Person, person_id) is None:
        raise ValidationFailed(["body", "person_id"], "No person with this id.")
    if concern_id is None:
        return None
    concern = await session.get(AdultConcern, concern_id)
    if concern is None or concern.person_id != person_id:
        raise ValidationFailed(["body", "concern_id"], "No concern about this person with this id.")
    return concern


# ---------------------------------------------------------------------------------------------------
# Raising a concern


async def create(
    session: AsyncSession,
    actor: Principal,
    data: AdultConcernCreate,
    clock: WorkingClock,
    *,
    from_public: dict[str, Any] | None = None,
) -> AdultConcern:
    """Raise a concern as ``actor``'s agency; ``from_public``: received from a member of the public
    (``app.public``), whose details these are (``data.raised_by`` is not read)."""
    now = utcnow()
    adult = data.adult
    fields = {name: getattr(adult, name) for name in ADULT_FIELDS}
    # The same matching as for children: linked when certain, candidates kept otherwise.
    found = await people_service.resolve(session, actor, identity_in(fields), fields)
    concern = AdultConcern(
        id=uuid.uuid4(),
        status=status.INITIAL,
        raising_agency=actor.agency,
        raised_by_sub=actor.sub,
        raised_by=data.raised_by.model_dump(exclude_none=True) if from_public is None else from_public,
        external_reference=data.external_reference,
        received_at=now,
        decision_due_at=clock.adult_concern_decision_due(now),
        person_id=found.person_id,
        primary_support_reason=adult.primary_support_reason,
        match_status=found.status,
        match_candidates=found.candidates,
        adult_views=data.adult_views,
        desired_outcomes=data.desired_outcomes,
        consent_to_share=data.consent_to_share,
        concerns_about_capacity=data.concerns_about_capacity,
        from_public=from_public is not None,
        **fields,
    )
    session.add(concern)
    await session.flush()
    for position, allegation in enumerate(data.allegations):
        body = allegation.model_dump()
        alleged = body.pop("alleged_person")
        session.add(
            Allegation(
                id=uuid.uuid4(), concern_id=concern.id, position=position, alleged_person=alleged, **body
            )
        )
    await session.flush()
    emit(
        session,
        actor,
        concern.id,
        EventType.ADULT_CONCERN_RECEIVED,
        allegations=len(data.allegations),
        types_of_risk=sorted({str(a.type_of_risk) for a in data.allegations}),
    )
    emit(
        session,
        actor,
        concern.id,
        ADULT_MATCH_EVENTS[found.status],
        person_id=str(concern.person_id) if concern.person_id else None,
    )
    audit_concern(session, actor, AuditAction.CREATE, concern)
    return concern


async def confirm_match(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, person_id: uuid.UUID | None
) -> AdultConcern:
    """A practitioner settles a pending match: one of the candidates, or a new person record."""
    concern = await access.for_hub(session, actor, concern_id)
    if concern.match_status != MatchStatus.PENDING:
        raise AppError(code="match_already_resolved")
    fields = {name: getattr(concern, name) for name in ADULT_FIELDS}
    person, concern.match_status = await people_service.settle_match(session, actor, person_id, fields)
    concern.person_id = person.id
    concern.updated_at = utcnow()
    await session.flush()
    emit(session, actor, concern.id, EventType.ADULT_MATCH_CONFIRMED, person_id=str(person.id))
    audit_concern(session, actor, AuditAction.UPDATE, concern, fields=["person_id"])
    return concern


# ---------------------------------------------------------------------------------------------------
# The section 42 decision


async def decide(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: Section42DecisionIn
) -> Section42DecisionRecord:
    concern = await for_action(session, actor, concern_id, Action.DECIDE)
    criteria = {
        "care_and_support_needs": body.care_and_support_needs,
        "experiencing_or_at_risk": body.experiencing_or_at_risk,
        "unable_to_protect_self": body.unable_to_protect_self,
    }
    unmet = [name for name, criterion in criteria.items() if not criterion.met]
    if body.decision == Section42Decision.SECTION_42_ENQUIRY and unmet:
        raise AppError(
            f"A section 42 enquiry needs all three criteria met; not met: {', '.join(unmet)}.",
            code="section_42_criteria_not_met",
            errors=[{"loc": ["body", name, "met"], "msg": "not met"} for name in unmet],
        )
    if body.decision != Section42Decision.SECTION_42_ENQUIRY and not unmet:
        raise AppError(
            "All three criteria are met, so the council must make a section 42 enquiry.",
            code="section_42_duty_applies",
            errors=[{"loc": ["body", "decision"], "msg": "must be section_42_enquiry"}],
        )
    now = utcnow()
    record = Section42DecisionRecord(
        id=uuid.uuid4(), concern_id=concern.id, **body.model_dump(), decided_by=actor.sub, decided_at=now
    )
    _step(session, concern, Action.DECIDE, now, record)
    await _tell(
        session,
        actor,
        concern,
        record,
        EventType.ADULT_CONCERN_DECIDED,
        {"decision": str(body.decision), "feedback_limited": body.feedback_limited_reason is not None},
    )
    return record


# ---------------------------------------------------------------------------------------------------
# Enquiries


async def open_enquiry(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: EnquiryOpen
) -> Enquiry:
    concern = await for_action(session, actor, concern_id, Action.OPEN_ENQUIRY)
    decision = await repository.decision(session, concern.id)
    if decision is None or decision.decision == Section42Decision.NO_FURTHER_ACTION:
        raise InvalidTransition("The section 42 decision was no further action: there is no enquiry to open.")
    if body.caused_to_agency is not None and body.caused_to_agency == body.lead_agency:
        raise ValidationFailed(
            ["body", "caused_to_agency"], "An enquiry is caused to an agency other than the lead."
        )
    now = utcnow()
    enquiry = Enquiry(
        id=uuid.uuid4(),
        concern_id=concern.id,
        kind=decision.decision,
        lead_agency=body.lead_agency,
        caused_to_agency=body.caused_to_agency,
        objectives=[str(o) for o in body.objectives],
        status=enquiry_status.INITIAL,
        opened_by=actor.sub,
        opened_at=now,
    )
    _step(session, concern, Action.OPEN_ENQUIRY, now, enquiry)
    await _tell(
        session,
        actor,
        concern,
        enquiry,
        EventType.ENQUIRY_OPENED,
        {
            "enquiry_id": str(enquiry.id),
            "lead_agency": str(body.lead_agency),
            "caused_to_agency": None if body.caused_to_agency is None else str(body.caused_to_agency),
        },
    )
    return enquiry


async def visible_enquiry(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Enquiry, AdultConcern]:
    enquiry = await repository.enquiry(session, enquiry_id, for_update=for_update)
    if enquiry is None or not access.reads_enquiry(actor, enquiry):
        raise NotFound("enquiry", enquiry_id)
    concern = await repository.get(session, enquiry.concern_id, for_update=for_update)
    assert concern is not None  # a foreign key
    return enquiry, concern


async def read_enquiry(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID
) -> tuple[Enquiry, Sequence[Allegation]]:
    enquiry, concern = await visible_enquiry(session, actor, enquiry_id)
    audit_concern(
        session, actor, AuditAction.READ, concern, record_id=enquiry.id, record_type=RECORD_TYPES[Enquiry]
    )
    await disclosures.enquiry_seen_by_partner(session, actor, enquiry, concern)
    return enquiry, await repository.allegations(session, concern.id)


def advocate_outstanding(advocacy: Advocacy | repository.AdvocacyNeed | None) -> bool:
    """An advocate is required and neither appointed nor refused by the adult."""
    if advocacy is None or not advocacy.required:
        return False
    appointed = advocacy.offer == AdvocacyOffer.ACCEPTED and advocacy.advocate_id is not None
    return not (appointed or advocacy.offer == AdvocacyOffer.DECLINED)


async def conclude(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, body: EnquiryConclusion
) -> tuple[Enquiry, Sequence[Allegation]]:
    enquiry, concern = await visible_enquiry(session, actor, enquiry_id, for_update=True)
    status.check(concern, Action.CONCLUDE_ENQUIRY)
    enquiry_status.check(enquiry, EnquiryAction.CONCLUDE)
    advocacy = await repository.latest_advocacy(session, concern.id)
    if advocacy is None and enquiry.kind == Section42Decision.SECTION_42_ENQUIRY:
        raise AppError(code="advocacy_not_assessed")
    if advocate_outstanding(advocacy):
        raise AppError(code="advocate_required")
    if body.lacked_capacity == LackedCapacity.NO and await repository.found_lacking_capacity(
        session, concern.id
    ):
        raise ValidationFailed(
            ["body", "lacked_capacity"],
            "A capacity assessment on this concern found that the adult lacked capacity.",
        )
    allegations = {a.id: a for a in await repository.allegations(session, concern.id)}
    given = {result.allegation_id: result for result in body.allegations}
    unknown = [n for n, result in enumerate(body.allegations) if result.allegation_id not in allegations]
    if unknown:
        # Pointed at by position: an error does not echo the ids sent.
        raise ValidationFailed(
            ["body", "allegations", unknown[0], "allegation_id"], "Not an allegation of this concern."
        )
    missing = [a for a in allegations.values() if a.id not in given]
    if missing:
        raise AppError(
            "Every allegation needs a result before the enquiry concludes.",
            code="allegation_results_missing",
            errors=[
                {"loc": ["body", "allegations"], "msg": f"no result for allegation {a.id}"}
                for a in sorted(missing, key=lambda a: a.position)
            ],
        )
    now = utcnow()
    for allegation_id, result in given.items():
        allegations[allegation_id].result = result.result
        allegations[allegation_id].risk_outcome = result.risk_outcome
    enquiry_status.move(enquiry, EnquiryAction.CONCLUDE)
    enquiry.msp_asked = body.msp_asked
    enquiry.msp_outcomes_achieved = body.msp_outcomes_achieved
    enquiry.lacked_capacity = body.lacked_capacity
    enquiry.advocate_support = body.advocate_support
    enquiry.conclusion_summary = body.summary
    enquiry.concluded_by = actor.sub
    enquiry.concluded_at = now
    _step(session, concern, Action.CONCLUDE_ENQUIRY, now)
    await _tell(
        session,
        actor,
        concern,
        enquiry,
        EventType.ENQUIRY_CONCLUDED,
        {"enquiry_id": str(enquiry.id), "results": {str(a.id): a.result for a in allegations.values()}},
        action=AuditAction.UPDATE,
    )
    return enquiry, sorted(allegations.values(), key=lambda a: a.position)


# ---------------------------------------------------------------------------------------------------
# Advocacy


async def check_advocacy(
    session: AsyncSession, body: AdvocacyIn, person_id: uuid.UUID | None, *, at: tuple[str, ...] = ("body",)
) -> None:
    """The advocate named exists, and a best interests decision named for the appropriate person is about
    this adult (422 otherwise)."""
    if body.advocate_id is not None and await session.get(Advocate, body.advocate_id) is None:
        raise ValidationFailed([*at, "advocate_id"], "No advocate with this id.")
    if body.best_interests_decision_id is not None:
        found = await repository.best_interests_person(session, body.best_interests_decision_id)
        if found is None or found != person_id:
            raise ValidationFailed(
                [*at, "best_interests_decision_id"],
                "No best interests decision about this adult with this id.",
            )


async def record_advocacy(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: AdvocacyIn
) -> Advocacy:
    concern = await for_action(session, actor, concern_id, Action.RECORD_ADVOCACY)
    await check_advocacy(session, body, concern.person_id)
    advocacy = Advocacy(
        id=uuid.uuid4(),
        concern_id=concern.id,
        **body.model_dump(),
        required=body.required,
        recorded_by=actor.sub,
        recorded_at=utcnow(),
    )
    session.add(advocacy)
    await _tell(
        session,
        actor,
        concern,
        advocacy,
        EventType.ADVOCACY_RECORDED,
        {"advocacy_id": str(advocacy.id), "required": advocacy.required, "offer": str(body.offer)},
    )
    return advocacy


# ---------------------------------------------------------------------------------------------------
# Updating and closing, reading


async def update(
    session: AsyncSession,
    actor: Principal,
    concern_id: uuid.UUID,
    body: AdultConcernUpdate,
    if_match: str | None,
) -> AdultConcern:
    concern = await access.for_hub(session, actor, concern_id)
    check_if_match(if_match, concern.version)
    status.check(concern, Action.EDIT)
    changes = body.model_dump(exclude_unset=True, exclude={"status", "closure_reason"})
    for field, value in changes.items():
        setattr(concern, field, value)
    now = utcnow()
    concern.updated_at = now
    if changes:
        emit(session, actor, concern.id, EventType.ADULT_CONCERN_UPDATED, fields=sorted(changes))
    if body.status == AdultConcernStatus.CLOSED:
        decision = await repository.decision(session, concern.id)
        no_further_action = decision is not None and decision.decision == Section42Decision.NO_FURTHER_ACTION
        close = Action.CLOSE_AFTER_NO_FURTHER_ACTION if no_further_action else Action.CLOSE
        status.check(concern, close)
        if await repository.has_active_plan(session, concern.id):
            raise InvalidTransition("The concern's safeguarding plan is still active: close the plan first.")
        status.move(concern, close)
        concern.closed_at = now
        concern.closed_by = actor.sub
        concern.closure_reason = body.closure_reason
        emit(session, actor, concern.id, EventType.ADULT_CONCERN_CLOSED)
    await session.flush()
    audit_concern(
        session,
        actor,
        AuditAction.UPDATE,
        concern,
        fields=sorted(changes) + (["status"] if body.status else []),
    )
    return concern


# ---------------------------------------------------------------------------------------------------
# What the raising agency may still do: add information, withdraw (``app.core.senders``)


async def _as_party(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, action: Action
) -> tuple[AdultConcern, View]:
    """The concern, locked, for the raising agency or adult social care to take ``action`` on it."""
    concern, view = await visible(session, actor, concern_id, for_update=True)
    senders.party(
        actor,
        hub=view is View.FULL,
        sender=view is View.RAISER,
        hub_scope=Scope.ADULT_CONCERNS_WRITE,
        sender_scope=Scope.ADULT_CONCERNS_CREATE,
        resource="adult concern",
        record_id=concern_id,
    )
    status.check(concern, action)
    return concern, view


async def add_information(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: InformationIn
) -> ConcernInformation:
    """Append what the raising agency (or adult social care) learnt since; the concern is unchanged."""
    concern, _ = await _as_party(session, actor, concern_id, Action.ADD_INFORMATION)
    added = senders.new_information(ConcernInformation, actor, body.information, concern_id=concern.id)
    await senders.append(session, actor, added, emit, concern.id, EventType.ADULT_CONCERN_INFORMATION_ADDED)
    audit_concern(
        session,
        actor,
        AuditAction.CREATE,
        concern,
        record_id=added.id,
        record_type="adult_concern_information",
    )
    return added


async def withdraw(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: WithdrawalIn
) -> tuple[AdultConcern, View]:
    """The raising agency or adult social care withdraws the concern, before the section 42 decision."""
    concern, view = await _as_party(session, actor, concern_id, Action.WITHDRAW)
    now = utcnow()
    _step(session, concern, Action.WITHDRAW, now)
    concern.withdrawn_at = now
    concern.withdrawn_by = actor.sub
    concern.withdrawal_reason = body.reason
    await session.flush()
    emit(session, actor, concern.id, EventType.ADULT_CONCERN_WITHDRAWN)
    audit_concern(session, actor, AuditAction.UPDATE, concern, fields=["status"])
    return concern, view


async def read(session: AsyncSession, actor: Principal, concern_id: uuid.UUID) -> tuple[AdultConcern, View]:
    concern, view = await visible(session, actor, concern_id)
    audit_concern(session, actor, AuditAction.READ, concern, view=str(view))
    if view is View.RAISER:
        await disclosures.concern_seen_by_raiser(session, actor, concern)
    return concern, view


async def list_(
    session: AsyncSession, actor: Principal, filters: ConcernFilters, sort: Sort, params: PageParams
) -> tuple[list[AdultConcern], dict[uuid.UUID, uuid.UUID], str | None]:
    """A page of concerns, and (adult social care) the enquiry of each that has one."""
    concerns, next_cursor = await repository.list_visible(session, actor, filters, sort, params, utcnow())
    ids = [c.id for c in concerns]
    enquiries = await repository.enquiry_ids(session, ids) if access.is_hub(actor) else {}
    audit.record_list(session, actor, RECORD_TYPE, "concern_ids", ids, (c.person_id for c in concerns))
    return concerns, enquiries, next_cursor


@dataclass(frozen=True, slots=True)
class EnquiryPage:
    """A page of enquiries with their concerns and latest advocacy, in a fixed number of statements."""

    enquiries: list[repository.ListedEnquiry]
    adults: dict[uuid.UUID, repository.ListedAdult]  # by concern
    advocacy: dict[uuid.UUID, repository.AdvocacyNeed]  # by concern
    next_cursor: str | None


async def list_enquiries(
    session: AsyncSession, actor: Principal, filters: EnquiryFilters, sort: Sort, params: PageParams
) -> EnquiryPage:
    enquiries, next_cursor = await repository.enquiries_visible(
        session, actor, filters, sort, params, utcnow()
    )
    concern_ids = [e.concern_id for e in enquiries]
    adults = await repository.adults(session, concern_ids)
    advocacy = await repository.latest_advocacies(session, concern_ids)
    audit.record_list(
        session,
        actor,
        RECORD_TYPES[Enquiry],
        "enquiry_ids",
        (e.id for e in enquiries),
        (adult.person_id for adult in adults.values()),
    )
    return EnquiryPage(enquiries, adults, advocacy, next_cursor)


# ---------------------------------------------------------------------------------------------------
# Allocation (app.core.allocation): adult social care's, of an open concern or enquiry


async def allocate(
    session: AsyncSession, actor: Principal, concern_id: uuid.UUID, body: AllocationIn
) -> AdultConcern:
    concern = await for_action(session, actor, concern_id, Action.EDIT)
    now = utcnow()
    data = allocation.allocate(concern, actor, body, now)
    concern.updated_at = now
    await session.flush()
    emit(session, actor, concern.id, EventType.ADULT_CONCERN_ALLOCATED, **data)
    audit_concern(session, actor, AuditAction.UPDATE, concern, fields=["allocation"])
    return concern


async def allocate_enquiry(
    session: AsyncSession, actor: Principal, enquiry_id: uuid.UUID, body: AllocationIn
) -> Enquiry:
    if not access.is_hub(actor):
        raise NotFound("enquiry", enquiry_id)
    enquiry, concern = await visible_enquiry(session, actor, enquiry_id, for_update=True)
    enquiry_status.check(enquiry, EnquiryAction.ALLOCATE)
    data = allocation.allocate(enquiry, actor, body, utcnow())
    await session.flush()
    # On the concern's stream, as every step of its enquiry.
    emit(session, actor, concern.id, EventType.ENQUIRY_ALLOCATED, enquiry_id=str(enquiry.id), **data)
    audit_concern(
        session, actor, AuditAction.UPDATE, concern, record_id=enquiry.id, record_type=RECORD_TYPES[Enquiry]
    )
    return enquiry


def is_overdue(concern: AdultConcern, now: datetime) -> bool:
    return concern.status in repository.OPEN_STATUSES and concern.decision_due_at < now


def enquiry_overdue(enquiry: Enquiry | repository.ListedEnquiry, now: datetime) -> bool:
    """Open longer than the hub's target (``repository.enquiry_overdue_clause`` says it in SQL)."""
    return enquiry.status == EnquiryStatus.OPEN and enquiry.opened_at < now - repository.ENQUIRY_TARGET
