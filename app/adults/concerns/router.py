"""/v1/adult-concerns and /v1/enquiries: adults at risk."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.adults.codes import AdultConcernStatus, EnquiryStatus
from app.adults.concerns import access, allegations, repository, service, views
from app.adults.concerns.repository import ConcernFilters, EnquiryFilters
from app.adults.concerns.schemas import (
    AdultConcernCreate,
    AdultConcernFull,
    AdultConcernOut,
    AdultConcernSummary,
    AdultConcernUpdate,
    AdvocacyIn,
    AdvocacyOut,
    AllegationCorrection,
    AllegationFound,
    AllegationOut,
    ConcernInformationOut,
    ConcernSort,
    EnquiryConclusion,
    EnquiryOpen,
    EnquiryOut,
    EnquirySort,
    EnquirySummary,
    Section42DecisionIn,
    Section42DecisionOut,
)
from app.core import senders
from app.core.allocation import AllocationIn, AllocationOut, AllocationQuery, allocation_of
from app.core.auth import Principal, requires_any
from app.core.codes import CaseSource
from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.dependencies import Clock
from app.core.filters import AnyOf
from app.core.idempotency import idempotent
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.pagination import Page, Paging, Sort
from app.core.principals import (
    AdvocatesWriteOnce,
    ConcernsCreateOnce,
    ConcernsDecide,
    ConcernsDecideOnce,
    ConcernsRead,
    ConcernsWrite,
    ConcernsWriteOnce,
)
from app.core.routing import Router, added_by_service, allocated_by_service
from app.core.schemas import ExternalReference
from app.core.scopes import AgencyCode, Scope
from app.core.senders import InformationIn, WithdrawalIn
from app.models.base import utcnow
from app.people.schemas import MatchConfirmation

router = Router(tags=["Adult concerns"])

# The raising agency (adult_concerns:create) on its own concern, or adult social care
# (adult_concerns:write): app.core.senders.
SenderOnce = Annotated[
    Principal, idempotent(requires_any(Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE))
]
ADD_INFORMATION = senders.operation(
    "Add information to an adult concern after it was raised",
    "The raising agency (`adult_concerns:create`) on its own concern, or adult social care "
    "(`adult_concerns:write`), adds what it has learnt since: appended with who and when, never editing the "
    "concern as raised. It shows in the concern's `additional_information` (the raising agency sees its "
    "own) and as the event `adult_concern.information_added`. A closed or withdrawn concern takes no more "
    "(409). Location is the concern.",
    Scope.ADULT_CONCERNS_CREATE,
    Scope.ADULT_CONCERNS_WRITE,
)
WITHDRAWAL = senders.operation(
    "Withdraw an adult concern",
    "The raising agency (`adult_concerns:create`) on its own concern, or adult social care "
    "(`adult_concerns:write`), withdraws it before the section 42 decision (409 `invalid_transition` after). "
    "Nothing is deleted. Answers the concern as the caller sees it.",
    Scope.ADULT_CONCERNS_CREATE,
    Scope.ADULT_CONCERNS_WRITE,
)


@router.post(
    "/v1/adult-concerns",
    summary="Raise a safeguarding concern about an adult",
    description=(
        "The raising agency is the caller's. The adult (18 or over) is matched to a person record as "
        "children are. Each allegation carries the SAC type, location and source of risk. "
        "`decision_due_at` is two working days from receipt by default."
    ),
)
async def create_adult_concern(
    created: Created,
    answer: Versioned,
    principal: ConcernsCreateOnce,
    session: DbSession,
    clock: Clock,
    body: AdultConcernCreate,
) -> AdultConcernOut:
    concern = await service.create(session, principal, body, clock)
    _, view = await access.visible(session, principal, concern.id)
    out = answer.tagged(concern.version, await views.render(session, concern, view))
    return created.at(f"/v1/adult-concerns/{concern.id}", out)


@router.get(
    "/v1/adult-concerns",
    summary="List adult concerns",
    description=(
        "Adult social care sees every concern, each with its enquiry and allocation; another agency sees "
        "the concerns it raised. Newest first unless `sort` says otherwise; a cursor keeps its sort."
    ),
)
async def list_adult_concerns(
    principal: ConcernsRead,
    session: DbSession,
    paging: Paging,
    allocation: AllocationQuery,
    status_: Annotated[
        AnyOf[AdultConcernStatus] | None,
        Query(alias="status", description="Any of these statuses (`a,b` or repeated)."),
    ] = None,
    overdue: Annotated[
        bool | None, Query(description="Only undecided concerns past their decision deadline.")
    ] = None,
    person_id: uuid.UUID | None = None,
    source: Annotated[
        AnyOf[CaseSource] | None,
        Query(
            description="Came from any of: `partner`, `hub` (raised by adult social care), `public` (raised through `POST /public/v1/adult-concerns`)."
        ),
    ] = None,
    external_reference: Annotated[
        ExternalReference | None, Query(description="Only concerns with this `external_reference` (exact).")
    ] = None,
    sort: Annotated[
        ConcernSort, Query(description="`received_at` or `decision_due_at`; `-` first for descending.")
    ] = ConcernSort.RECEIVED_AT_DESCENDING,
) -> Page[AdultConcernSummary]:
    filters = ConcernFilters(
        status=status_,
        overdue=overdue,
        person_id=person_id,
        source=source,
        allocation=allocation,
        external_reference=external_reference,
    )
    order = Sort.of(sort, repository.CONCERN_SORTS)
    concerns, enquiries, next_cursor = await service.list_(session, principal, filters, order, paging.params)
    items = await views.summaries(session, concerns, hub=access.is_hub(principal), enquiries=enquiries)
    return paging.page(items, next_cursor)


@router.get(
    "/v1/adult-concerns/{concern_id}",
    summary="Get an adult concern, as the caller's agency may see it",
    description=(
        "`view` says which: `full` for adult social care; `raiser` for the agency that raised it (status and "
        "feedback, the outcome withheld while feedback is limited)."
    ),
)
async def get_adult_concern(
    concern_id: uuid.UUID, answer: Versioned, principal: ConcernsRead, session: DbSession
) -> AdultConcernOut:
    concern, view = await service.read(session, principal, concern_id)
    return answer.tagged(concern.version, await views.render(session, concern, view))


@router.patch(
    "/v1/adult-concerns/{concern_id}",
    summary="Update or close an adult concern",
    description=(
        "Record the adult's views and outcomes as they become known, or close the concern: after its "
        "enquiry concludes, or after a decision of no further action."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def update_adult_concern(
    concern_id: uuid.UUID,
    change: Conditional,
    principal: ConcernsWrite,
    session: DbSession,
    body: AdultConcernUpdate,
) -> AdultConcernFull:
    concern = await service.update(session, principal, concern_id, body, change.if_match)
    return change.tagged(concern.version, await views.full(session, concern))


@router.post(
    "/v1/adult-concerns/{concern_id}/match-confirmation",
    summary="Settle the adult's pending match",
    description="A practitioner confirms which known person the adult is, or that the adult is new to the hub.",
    responses=problem_responses(409, codes={409: ["match_already_resolved"]}),
)
async def confirm_adult_match(
    concern_id: uuid.UUID, principal: ConcernsWrite, session: DbSession, body: MatchConfirmation
) -> AdultConcernFull:
    concern = await service.confirm_match(session, principal, concern_id, body.person_id)
    return await views.full(session, concern)


@router.post(
    "/v1/adult-concerns/{concern_id}/section-42-decision",
    summary="Decide whether a section 42 enquiry is needed",
    description=(
        "Each of the three criteria of the Care Act 2014 s42(1) is recorded with its reason. "
        "`section_42_enquiry` needs all three met (422 `section_42_criteria_not_met`); when all three are "
        "met the council must enquire (422 `section_42_duty_applies` for another decision). No further action "
        "names the alternative route. `feedback_limited_reason` limits what the raising agency sees."
    ),
    responses=problem_responses(
        409,
        422,
        codes={
            409: ["invalid_transition"],
            422: ["section_42_criteria_not_met", "section_42_duty_applies"],
        },
    ),
)
async def record_section_42_decision(
    concern_id: uuid.UUID,
    created: Created,
    principal: ConcernsDecideOnce,
    session: DbSession,
    body: Section42DecisionIn,
) -> Section42DecisionOut:
    decision = views.decision_out(await service.decide(session, principal, concern_id, body))
    return created.at(f"/v1/adult-concerns/{concern_id}", decision)


@router.post(
    "/v1/adult-concerns/{concern_id}/enquiries",
    summary="Open the enquiry",
    description=(
        "After a decision of section 42 or other enquiry. It may be caused to another agency "
        "(`caused_to_agency`), which then sees the enquiry; the council stays accountable."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def open_enquiry(
    concern_id: uuid.UUID,
    created: Created,
    principal: ConcernsWriteOnce,
    session: DbSession,
    body: EnquiryOpen,
) -> EnquiryOut:
    enquiry = await service.open_enquiry(session, principal, concern_id, body)
    return created.at(
        f"/v1/enquiries/{enquiry.id}", views.enquiry_out(enquiry, [], hub=access.is_hub(principal))
    )


router.post(
    "/v1/adult-concerns/{concern_id}/allocation",
    summary="Allocate the concern to a worker and a team",
    description=(
        "Adult social care allocates a concern not yet closed to a worker (a `sub`), a team, both, or "
        "neither (null and null). The raising agency never sees allocations."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)(allocated_by_service(service.allocate, "allocate_concern", parameter="concern_id", principal=ConcernsWrite))


@router.get(
    "/v1/enquiries",
    summary="List enquiries",
    description=(
        "Adult social care sees every enquiry, with whom each is allocated to; an agency sees the "
        "enquiries it leads or was caused (without the hub's allocation). Each item carries the adult, "
        'the objectives and where advocacy stands. "My open enquiries": `allocated_to=me&status=open`. '
        "Newest first unless `sort` says otherwise."
    ),
)
async def list_enquiries(
    principal: ConcernsRead,
    session: DbSession,
    paging: Paging,
    allocation: AllocationQuery,
    status_: Annotated[
        AnyOf[EnquiryStatus] | None, Query(alias="status", description="`open`, `concluded`, or both.")
    ] = None,
    lead_agency: Annotated[
        AnyOf[AgencyCode] | None, Query(description="Led by any of these agencies (`a,b` or repeated).")
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(description="Only open enquiries past (true) or within (false) the hub's 28-day target."),
    ] = None,
    sort: Annotated[EnquirySort, Query(description="`opened_at`; `-opened_at` for newest first.")] = (
        EnquirySort.OPENED_AT_DESCENDING
    ),
) -> Page[EnquirySummary]:
    filters = EnquiryFilters(status=status_, lead_agency=lead_agency, overdue=overdue, allocation=allocation)
    order = Sort.of(sort, repository.ENQUIRY_SORTS)
    page = await service.list_enquiries(session, principal, filters, order, paging.params)
    return paging.page(
        views.enquiry_summaries(page, utcnow(), hub=access.is_hub(principal)), page.next_cursor
    )


@router.get(
    "/v1/enquiries/{enquiry_id}",
    summary="Get an enquiry",
    description="Adult social care, and the agency that leads it or to which it was caused.",
)
async def get_enquiry(enquiry_id: uuid.UUID, principal: ConcernsRead, session: DbSession) -> EnquiryOut:
    enquiry, allegations = await service.read_enquiry(session, principal, enquiry_id)
    return await views.enquiry_view(session, enquiry, allegations, hub=access.is_hub(principal))


@router.post(
    "/v1/enquiries/{enquiry_id}/allocation",
    summary="Allocate the enquiry to a worker and a team",
    description=(
        "Adult social care allocates an open enquiry to a worker (a `sub`), a team, both, or neither "
        "(null and null); the agency leading or caused it does not see allocations."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def allocate_enquiry(
    enquiry_id: uuid.UUID, principal: ConcernsWrite, session: DbSession, body: AllocationIn
) -> AllocationOut:
    enquiry = await service.allocate_enquiry(session, principal, enquiry_id, body)
    return allocation_of(enquiry)


@router.post(
    "/v1/enquiries/{enquiry_id}/conclusion",
    summary="Conclude the enquiry",
    description=(
        "A result for every allegation of the concern, those the enquiry added included (SAC SG2c; 422 "
        "`allegation_results_missing` otherwise), with a risk outcome (SG2e) exactly where risk was "
        "identified, and the Making Safeguarding Personal and capacity answers. When an advocate is required it must have been appointed, or the adult's refusal recorded "
        "(409 `advocate_required`)."
    ),
    responses=problem_responses(
        409,
        422,
        codes={409: ["invalid_transition", "advocate_required"], 422: ["allegation_results_missing"]},
    ),
)
async def conclude_enquiry(
    enquiry_id: uuid.UUID, principal: ConcernsDecide, session: DbSession, body: EnquiryConclusion
) -> EnquiryOut:
    enquiry, allegations = await service.conclude(session, principal, enquiry_id, body)
    return await views.enquiry_view(session, enquiry, allegations, hub=access.is_hub(principal))


@router.post(
    "/v1/enquiries/{enquiry_id}/allegations",
    summary="Add an allegation the enquiry found",
    description=(
        "Adult social care adds a risk the open enquiry found that the concern did not raise (409 "
        "`invalid_transition` once it concluded). The conclusion then needs a result for it too, and SAC SG2 "
        "counts it. The raising agency is not shown it, nor told of it on its feed. Location is the allegation."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def add_allegation(
    enquiry_id: uuid.UUID,
    created: Created,
    answer: Versioned,
    principal: ConcernsWriteOnce,
    session: DbSession,
    body: AllegationFound,
) -> AllegationOut:
    allegation = await allegations.add(session, principal, enquiry_id, body)
    out = answer.tagged(allegation.version, views.allegation_out(allegation))
    return created.at(f"/v1/allegations/{allegation.id}", out)


@router.get(
    "/v1/allegations/{allegation_id}",
    summary="Get an allegation, with how the enquiry corrected it",
    description="Adult social care, and the agency leading the concern's enquiry or caused it.",
)
async def get_allegation(
    allegation_id: uuid.UUID, answer: Versioned, principal: ConcernsRead, session: DbSession
) -> AllegationOut:
    allegation, changes = await allegations.read(session, principal, allegation_id)
    out = views.allegation_out(allegation, changes)
    return answer.tagged(
        allegation.version, out if access.is_hub(principal) else views.enquiry_out_allegation(out)
    )


@router.patch(
    "/v1/allegations/{allegation_id}",
    summary="Correct an allegation as the enquiry found it",
    description=(
        "Adult social care corrects the type, location or source of risk while the enquiry is open (409 "
        "`invalid_transition` after), with the reason. Each correction keeps what the allegation was, who "
        "changed it, when and why (`corrections`). Needs `If-Match` (428, 412)."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def correct_allegation(
    allegation_id: uuid.UUID,
    change: Conditional,
    principal: ConcernsWrite,
    session: DbSession,
    body: AllegationCorrection,
) -> AllegationOut:
    allegation, changes = await allegations.correct(session, principal, allegation_id, body, change.if_match)
    return change.tagged(allegation.version, views.allegation_out(allegation, changes))


router.post(
    "/v1/adult-concerns/{concern_id}/advocacy",
    summary="Record the advocacy eligibility assessment and offer",
    description=(
        "`required` is computed: substantial difficulty and no appropriate person. Then an advocate must be "
        "offered; an accepted offer names the advocate. Each assessment is kept; the latest governs."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)(
    added_by_service(
        service.record_advocacy,
        "record_advocacy",
        parameter="concern_id",
        principal=AdvocatesWriteOnce,
        body=AdvocacyIn,
        out=AdvocacyOut,
        records="/v1/adult-concerns",
    )
)


router.post("/v1/adult-concerns/{concern_id}/additional-information", **ADD_INFORMATION)(
    added_by_service(
        service.add_information,
        "add_concern_information",
        parameter="concern_id",
        principal=SenderOnce,
        body=InformationIn,
        out=ConcernInformationOut,
        records="/v1/adult-concerns",
    )
)


@router.post("/v1/adult-concerns/{concern_id}/withdrawal", **WITHDRAWAL)
async def withdraw_concern(
    concern_id: uuid.UUID, answer: Versioned, principal: SenderOnce, session: DbSession, body: WithdrawalIn
) -> AdultConcernOut:
    concern, view = await service.withdraw(session, principal, concern_id, body)
    return answer.tagged(concern.version, await views.render(session, concern, view))
