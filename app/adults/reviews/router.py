"""/v1/safeguarding-adults-reviews: safeguarding adults reviews (Care Act 2014 s44)."""

from __future__ import annotations

import uuid

from app.adults.reviews import service, views
from app.adults.reviews.schemas import SarCreate, SarOut, SarUpdate
from app.adults.reviews.service import SarQuery
from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import ConcernsDecide, ConcernsDecideOnce, ConcernsRead
from app.core.routing import Router

router = Router(prefix="/v1/safeguarding-adults-reviews", tags=["Safeguarding adults reviews"])
LIFECYCLE = (
    "`referred` → `commissioned` → `completed`, or `referred` → `not_commissioned` (considered against the "
    "criteria and not arranged, with the rationale). Adult social care only: anyone else gets 404."
)


@router.post(
    "",
    summary="Refer a safeguarding adults review",
    description=(
        "Record a referral to the Safeguarding Adults Board, and the Board's decision with it when it is made: "
        "the criteria found, when, why, and whether a review was commissioned. Mandatory criteria mean a "
        "review must be commissioned; criteria not met mean none is (422 otherwise). " + LIFECYCLE
    ),
    responses=problem_responses(403, codes={403: ["agency_not_permitted"]}),
)
async def create_safeguarding_adults_review(
    created: Created, answer: Versioned, principal: ConcernsDecideOnce, session: DbSession, body: SarCreate
) -> SarOut:
    review = await service.create(session, principal, body)
    return created.at(
        f"/v1/safeguarding-adults-reviews/{review.id}", answer.tagged(review.version, views.out(review))
    )


@router.get("", summary="List safeguarding adults reviews", description="Newest first. " + LIFECYCLE)
async def list_safeguarding_adults_reviews(
    principal: ConcernsRead, session: DbSession, filters: SarQuery, paging: Paging
) -> Page[SarOut]:
    found, next_cursor = await service.list_visible(session, principal, filters, paging.params)
    return paging.page([views.out(r) for r in found], next_cursor)


@router.get("/{review_id}", summary="Get a safeguarding adults review", description=LIFECYCLE)
async def get_safeguarding_adults_review(
    review_id: uuid.UUID, answer: Versioned, principal: ConcernsRead, session: DbSession
) -> SarOut:
    review = await service.read(session, principal, review_id)
    return answer.tagged(review.version, views.out(review))


@router.patch(
    "/{review_id}",
    summary="Decide, update or complete a safeguarding adults review",
    description=(
        "The Board's decision (once: 409 `invalid_transition` after), the advocacy assessment, findings and "
        "actions as they emerge, and completion (`completed_on` with the findings; 409 `advocate_required` "
        "while an advocate the adult needs is neither appointed nor refused). Needs `If-Match`. " + LIFECYCLE
    ),
    responses=problem_responses(409, codes={409: ["invalid_transition", "advocate_required"]}),
)
async def update_safeguarding_adults_review(
    review_id: uuid.UUID, change: Conditional, principal: ConcernsDecide, session: DbSession, body: SarUpdate
) -> SarOut:
    review = await service.update(session, principal, review_id, body, change.if_match)
    return change.tagged(review.version, views.out(review))
