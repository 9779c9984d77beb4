"""/v1/referrals: the children's front door."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.children.referrals import access, repository, service, views
from app.children.referrals.repository import ReferralQuery
from app.children.referrals.schemas import (
    ChildIdentity,
    CommunicationIn,
    CommunicationOut,
    ConsentOverrideIn,
    RagRatingIn,
    ReferralCounts,
    ReferralCreate,
    ReferralFull,
    ReferralInformationIn,
    ReferralInformationOut,
    ReferralOut,
    ReferralSort,
    ReferralSummary,
    ReferralUpdate,
    TimelineEntry,
)
from app.core import senders
from app.core.auth import Principal, requires_any
from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.dependencies import Clock
from app.core.idempotency import idempotent
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.pagination import Page, Paging, Sort
from app.core.principals import (
    ConsentOverride,
    ReferralsCreateOnce,
    ReferralsRead,
    ReferralsWrite,
    ReferralsWriteOnce,
)
from app.core.routing import Router, added_by_service, allocated_by_service, viewed_by_service
from app.core.scopes import Scope
from app.core.senders import WithdrawalIn
from app.models.base import utcnow
from app.people.schemas import MatchConfirmation

router = Router(prefix="/v1/referrals", tags=["Referrals"])

# The referring agency (referrals:create) on its own referral, or the hub (referrals:write): app.core.senders.
SenderOnce = Annotated[Principal, idempotent(requires_any(Scope.REFERRALS_CREATE, Scope.REFERRALS_WRITE))]
ADD_INFORMATION = senders.operation(
    "Add information to a referral after it was made",
    "The referring agency (`referrals:create`) on its own referral, or the hub (`referrals:write`), adds what "
    "it has learnt since: appended with who and when, never editing the referral as made. It shows in the "
    "referral's `additional_information` (the referring agency sees its own), and as the event "
    "`referral.information_added` on the timeline and the change feed. A decided or withdrawn referral "
    "takes no more (409). Location is the referral.",
    Scope.REFERRALS_CREATE,
    Scope.REFERRALS_WRITE,
)
WITHDRAWAL = senders.operation(
    "Withdraw a referral",
    "The referring agency (`referrals:create`) withdraws its own referral, made in error or no longer needed, "
    "until a decision on it is proposed; the hub (`referrals:write`) at any time before it is decided. "
    "Otherwise 409 `invalid_transition`. Open requests to agencies are cancelled; nothing is deleted. "
    "Answers the referral as the caller sees it.",
    Scope.REFERRALS_CREATE,
    Scope.REFERRALS_WRITE,
)


@router.post(
    "",
    summary="Make a referral",
    description=(
        "The referring agency is the caller's. Each child is matched against the people the hub knows: "
        "linked when the match is certain, otherwise the candidates are kept for a practitioner to "
        "confirm, or a new person record is made when nobody is alike. A referral made without parental "
        "consent must say why (`parental_consent.reason_not_informed`). `decision_due_at` is one working "
        "day from receipt until the referral is rated; the referrer's acknowledgement is due "
        "(`acknowledgement_due_at`) one working day from receipt by default, and the first communication "
        "with the referrer records it."
    ),
)
async def create_referral(
    created: Created,
    answer: Versioned,
    principal: ReferralsCreateOnce,
    session: DbSession,
    clock: Clock,
    body: ReferralCreate,
) -> ReferralOut:
    new = await service.create(session, principal, body, clock)
    # A partner sees its own referral as sent (never the hub's matches, siblings or history).
    view = views.full if access.is_hub(principal) else views.for_referrer
    out = await view(session, new.referral, children=new.children, household=new.household, added=[])
    return created.at(f"/v1/referrals/{new.referral.id}", answer.tagged(new.referral.version, out))


@router.get(
    "",
    summary="List referrals",
    description=(
        "Children's social care sees every referral, each item with what its work queues show (children "
        "and their ages, concern categories, deadlines, allocation, the checks still outstanding, a "
        "pending match, earlier referrals of the same children); a partner agency sees the referrals it "
        "made, as sent (the requests it was asked to answer are in GET /v1/contributions). Newest first "
        "unless `sort` says otherwise; a cursor keeps the sort it was made under."
    ),
)
async def list_referrals(
    principal: ReferralsRead,
    session: DbSession,
    paging: Paging,
    filters: ReferralQuery,
    sort: Annotated[
        ReferralSort, Query(description="`received_at` or `decision_due_at`; `-` first for descending.")
    ] = ReferralSort.RECEIVED_AT_DESCENDING,
) -> Page[ReferralSummary]:
    order = Sort.of(sort, repository.SORTS)
    page = await service.list_(session, principal, filters, order, paging.params)
    items = views.summaries(page, utcnow(), hub=access.is_hub(principal))
    return paging.page(items, page.next_cursor)


@router.get(
    "/counts",
    summary="Count the referrals a list would show",
    description=(
        "The list's filters (and the same visibility): how many referrals match, by status and by RAG "
        "rating, how many are overdue and (children's social care) how many have no worker allocated."
    ),
)
async def count_referrals(
    principal: ReferralsRead, session: DbSession, filters: ReferralQuery
) -> ReferralCounts:
    rows = await service.counts(session, principal, filters)
    return views.counts(rows, hub=access.is_hub(principal))


router.get(
    "/{referral_id}",
    summary="Get a referral, as the caller's agency may see it",
    description=(
        "`view` says which: `full` for children's social care; `referrer` for the agency that made it "
        "(status, RAG rating and outcome, nothing other agencies contributed); `asked_agency` for an "
        "agency asked for information (the children's identifying details and its own requests)."
    ),
)(
    viewed_by_service(
        service.read,
        views.render_read,
        "get_referral",
        parameter="referral_id",
        principal=ReferralsRead,
        returns=ReferralOut,
    )
)


@router.patch(
    "/{referral_id}",
    summary="Update or withdraw a referral",
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def update_referral(
    referral_id: uuid.UUID,
    change: Conditional,
    principal: ReferralsWrite,
    session: DbSession,
    body: ReferralUpdate,
) -> ReferralFull:
    """Change what the referral says, or withdraw it (`status: withdrawn` with a `withdrawal_reason`). Send the ETag of your last GET in `If-Match`: missing is 428, stale is 412."""
    referral = await service.update(session, principal, referral_id, body, change.if_match)
    return change.tagged(referral.version, await views.full(session, referral))


@router.post("/{referral_id}/withdrawal", **WITHDRAWAL)
async def withdraw_referral(
    referral_id: uuid.UUID, answer: Versioned, principal: SenderOnce, session: DbSession, body: WithdrawalIn
) -> ReferralOut:
    referral, view = await service.withdraw(session, principal, referral_id, body)
    return answer.tagged(referral.version, await views.render(session, referral, view, principal.agency))


@router.post(
    "/{referral_id}/rag-rating",
    summary="Rate the referral's urgency",
    description=(
        "Moves a received referral to `triaged` and sets its RAG target (`rag_due_at`) from the rating, "
        "counted from receipt: red in clock hours (default 4), amber and green in working hours (default "
        "24 and 72). `decision_due_at` becomes the earlier of that target and the statutory deadline "
        "(`statutory_decision_due_at`, one working day from receipt): a RAG target never extends it. Blue "
        "(no MASH response needed) sets no target, so the statutory deadline applies. A referral may be "
        "re-rated until a decision is proposed; each rating counts again from receipt."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def rate_referral(
    referral_id: uuid.UUID,
    answer: Versioned,
    principal: ReferralsWrite,
    session: DbSession,
    clock: Clock,
    body: RagRatingIn,
) -> ReferralFull:
    referral = await service.rate(session, principal, referral_id, body, clock)
    return answer.tagged(referral.version, await views.full(session, referral))


router.post(
    "/{referral_id}/allocation",
    summary="Allocate the referral to a worker and a team",
    description=(
        "Children's social care allocates an open referral to a worker (a `sub`), a team, both, or "
        "neither (null and null: back to the unallocated queue). Partners never see allocations."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)(
    allocated_by_service(
        service.allocate, "allocate_referral", parameter="referral_id", principal=ReferralsWrite
    )
)


@router.post(
    "/{referral_id}/consent-override",
    summary="Authorise proceeding without parental consent",
    description=(
        "A hub manager records why the referral proceeds without the parents' consent and on what lawful "
        "basis. Until then, no agency can be asked for information about it."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def override_consent(
    referral_id: uuid.UUID,
    answer: Versioned,
    principal: ConsentOverride,
    session: DbSession,
    body: ConsentOverrideIn,
) -> ReferralFull:
    referral = await service.override_consent(session, principal, referral_id, body)
    return answer.tagged(referral.version, await views.full(session, referral))


@router.post(
    "/{referral_id}/communications",
    summary="Record a contact with the family or the referrer",
    description=(
        "The first contact with the referrer (`audience: referrer`) acknowledges their referral: it sets "
        "the referral's `acknowledged_at` to when the contact happened and emits `referral.acknowledged`, "
        "which the referring agency sees in its feed and timeline."
    ),
    responses=problem_responses(409, codes={409: ["do_not_inform_parents"]}),
)
async def record_communication(
    referral_id: uuid.UUID,
    created: Created,
    principal: ReferralsWriteOnce,
    session: DbSession,
    body: CommunicationIn,
) -> CommunicationOut:
    """Log a contact about the referral with a parent, carer, child or the referrer: who, how, when and what was said. It joins the referral's timeline."""
    communication = await service.record_communication(session, principal, referral_id, body)
    return created.at(
        f"/v1/referrals/{referral_id}/communications/{communication.id}",
        CommunicationOut.model_validate(communication),
    )


@router.get(
    "/{referral_id}/communications",
    summary="The contacts recorded with the family and the referrer (children's social care)",
)
async def list_communications(
    referral_id: uuid.UUID, principal: ReferralsRead, session: DbSession, paging: Paging
) -> Page[CommunicationOut]:
    """Every contact recorded on the referral, in the order they happened. Seen by children's social care only; another agency gets 404."""
    communications, next_cursor = await service.communications(session, principal, referral_id, paging.params)
    return paging.page([CommunicationOut.model_validate(c) for c in communications], next_cursor)


@router.get(
    "/{referral_id}/communications/{communication_id}",
    summary="One recorded contact (children's social care)",
)
async def get_communication(
    referral_id: uuid.UUID, communication_id: uuid.UUID, principal: ReferralsRead, session: DbSession
) -> CommunicationOut:
    """One contact recorded on the referral. Seen by children's social care only; another agency gets 404."""
    communication = await service.communication(session, principal, referral_id, communication_id)
    return CommunicationOut.model_validate(communication)


@router.post(
    "/{referral_id}/children/{child_id}/match-confirmation",
    summary="Settle a child's pending match",
    description="A practitioner confirms which known person the child is, or that the child is new.",
    responses=problem_responses(409, codes={409: ["match_already_resolved"]}),
)
async def confirm_child_match(
    referral_id: uuid.UUID,
    child_id: uuid.UUID,
    principal: ReferralsWrite,
    session: DbSession,
    body: MatchConfirmation,
) -> ChildIdentity:
    child = await service.confirm_match(session, principal, referral_id, child_id, body.person_id)
    return views.child_identity(child)


@router.get(
    "/{referral_id}/timeline",
    summary="Everything that happened to the referral, in order, and who did it",
    description=(
        "Children's social care sees every event. The referring agency sees what its change feed shows of "
        "the referral (`GET /v1/events`): receipt, status changes, rating, outcome and withdrawal, and not "
        "who at the hub did them. An agency only asked for information gets 404. Oldest first, paged by "
        "`seq`."
    ),
)
async def get_referral_timeline(
    referral_id: uuid.UUID, principal: ReferralsRead, session: DbSession, paging: Paging
) -> Page[TimelineEntry]:
    entries, next_cursor = await service.timeline(session, principal, referral_id, paging.params)
    return paging.page([TimelineEntry.model_validate(e) for e in entries], next_cursor)


router.post("/{referral_id}/additional-information", **ADD_INFORMATION)(
    added_by_service(
        service.add_information,
        "add_referral_information",
        parameter="referral_id",
        principal=SenderOnce,
        body=ReferralInformationIn,
        out=ReferralInformationOut,
        records="/v1/referrals",
    )
)
