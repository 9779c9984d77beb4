"""/v1/strategy-discussions and /v1/section-47-enquiries: child protection after an accepted referral."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.children.protection import service
from app.children.protection.schemas import (
    ConferenceIn,
    Section47Out,
    Section47OutcomeIn,
    StrategyDiscussionIn,
    StrategyDiscussionOut,
)
from app.children.protection.views import discussion_out, enquiry_out
from app.core.concurrency import Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.dependencies import Clock
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import DecisionsApprove, ReferralsRead, ReferralsWrite, ReferralsWriteOnce
from app.core.routing import Router

router = Router(tags=["Assessments and child protection"])


@router.post(
    "/v1/strategy-discussions",
    summary="Record a strategy discussion",
    description=(
        "About one or more children of a referral, each accepted by children's social care (409 "
        "`invalid_transition` otherwise). Police, health and children's social care must attend (422 naming "
        "who is missing). A `section_47_enquiry` decision starts one section 47 enquiry per child, listed in "
        "`section_47_enquiries`, each with `icpc_due_on` 15 working days after the discussion (its London "
        "date). Children's social care only (404 for a referral the caller may not see). Events `strategy_discussion.held` and `section_47.started`."
    ),
    responses=problem_responses(404, 409, codes={404: ["not_found"], **INVALID_TRANSITION}),
)
async def record_strategy_discussion(
    created: Created,
    answer: Versioned,
    principal: ReferralsWriteOnce,
    session: DbSession,
    clock: Clock,
    body: StrategyDiscussionIn,
) -> StrategyDiscussionOut:
    discussion, enquiries = await service.hold_discussion(session, principal, body, clock)
    location = f"/v1/strategy-discussions/{discussion.id}"
    return created.at(location, answer.tagged(discussion.version, discussion_out(discussion, enquiries)))


@router.get(
    "/v1/strategy-discussions",
    summary="List strategy discussions (children's social care)",
    description=(
        "Latest held first, each with the section 47 enquiries it started; `referral_id` keeps one referral's. "
        "Other agencies' lists are empty. The list is audited with the ids and children it gives."
    ),
)
async def list_strategy_discussions(
    principal: ReferralsRead,
    session: DbSession,
    paging: Paging,
    referral_id: Annotated[uuid.UUID | None, Query(description="Only this referral's discussions.")] = None,
) -> Page[StrategyDiscussionOut]:
    page, next_cursor = await service.list_discussions(session, principal, referral_id, paging.params)
    return paging.page([discussion_out(d, enquiries) for d, enquiries in page], next_cursor)


@router.get(
    "/v1/strategy-discussions/{discussion_id}", summary="Get a strategy discussion (children's social care)"
)
async def get_strategy_discussion(
    discussion_id: uuid.UUID, answer: Versioned, principal: ReferralsRead, session: DbSession
) -> StrategyDiscussionOut:
    """Who attended, the decision and why, and the section 47 enquiries it started."""
    discussion, enquiries = await service.read_discussion(session, principal, discussion_id)
    return answer.tagged(discussion.version, discussion_out(discussion, enquiries))


@router.post(
    "/v1/section-47-enquiries/{enquiry_id}/outcome",
    summary="Record a section 47 enquiry's outcome",
    description=(
        "A manager concludes the enquiry: `no_further_action` or `child_in_need_plan` close it; "
        "`initial_child_protection_conference` (optionally with the `category_of_abuse` it is called for) "
        "calls a conference. Recorded once (409 after). Event `section_47.concluded`."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def record_section_47_outcome(
    enquiry_id: uuid.UUID,
    answer: Versioned,
    principal: DecisionsApprove,
    session: DbSession,
    body: Section47OutcomeIn,
) -> Section47Out:
    enquiry, child = await service.record_outcome(session, principal, enquiry_id, body)
    return answer.tagged(enquiry.version, enquiry_out(enquiry, child))


@router.post(
    "/v1/section-47-enquiries/{enquiry_id}/conference",
    summary="Record the initial child protection conference",
    description=(
        "Only after the outcome `initial_child_protection_conference` (409 `invalid_transition` before it, "
        "after another outcome, or when already recorded). A `child_protection_plan` needs a "
        "`category_of_abuse` (neglect, physical, emotional, sexual, multiple); `no_plan` takes none. The "
        "working days after the strategy discussion, and whether it was held after `icpc_due_on`, are kept. "
        "Event `conference.held`."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def record_conference(
    enquiry_id: uuid.UUID,
    answer: Versioned,
    principal: ReferralsWrite,
    session: DbSession,
    clock: Clock,
    body: ConferenceIn,
) -> Section47Out:
    enquiry, child = await service.hold_conference(session, principal, enquiry_id, body, clock)
    return answer.tagged(enquiry.version, enquiry_out(enquiry, child))


@router.get(
    "/v1/section-47-enquiries/{enquiry_id}",
    summary="Get a section 47 enquiry (children's social care)",
    description=(
        "The enquiry about one child: its conference due date (`icpc_due_on`, 15 working days after the "
        "strategy discussion), its outcome and, once held, its conference with the working days it took."
    ),
)
async def get_section_47_enquiry(
    enquiry_id: uuid.UUID, answer: Versioned, principal: ReferralsRead, session: DbSession
) -> Section47Out:
    enquiry, child = await service.read_enquiry(session, principal, enquiry_id)
    return answer.tagged(enquiry.version, enquiry_out(enquiry, child))
