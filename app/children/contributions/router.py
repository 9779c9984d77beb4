"""Information requests to agencies: asked from a referral, answered from the agency's inbox."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from app.children.codes import ContributionStatus
from app.children.contributions import service
from app.children.contributions.repository import InboxFilters
from app.children.contributions.schemas import ContributionOut, ContributionRequestIn, ContributionResponseIn
from app.core.creation import Created
from app.core.db import DbSession
from app.core.dependencies import Clock
from app.core.openapi import problem_responses
from app.core.pagination import Page, Paging
from app.core.principals import ContributionsRead, ContributionsRequestOnce, ContributionsWrite
from app.core.routing import Router
from app.core.scopes import AgencyCode

router = Router(tags=["Contributions"])


class ContributionList(BaseModel):
    """The requests just made on a referral, one per agency asked."""

    # One request per agency on a referral.
    items: list[ContributionOut] = Field(max_length=len(AgencyCode))


@router.post(
    "/v1/referrals/{referral_id}/contribution-requests",
    summary="Ask agencies what they know",
    description=(
        "One request per agency, each due by the referral's RAG rating counted from now (red in clock "
        "hours, amber and green in working hours), but no later than the referral's `decision_due_at` "
        "while that is still ahead. The referral must be rated, not blue, and either have "
        "the parents' consent or a manager's consent override. Moves it to `gathering_information`."
    ),
    responses=problem_responses(409, codes={409: ["invalid_transition", "consent_override_required"]}),
)
async def request_contributions(
    referral_id: uuid.UUID,
    created: Created,
    principal: ContributionsRequestOnce,
    session: DbSession,
    clock: Clock,
    body: ContributionRequestIn,
) -> ContributionList:
    requests = await service.request(session, principal, referral_id, body, clock)
    return created.at(
        f"/v1/contributions?referral_id={referral_id}",
        ContributionList(items=await service.render(session, requests, principal)),
    )


@router.get(
    "/v1/referrals/{referral_id}/contributions",
    summary="The contributions on a referral that the caller may see",
    description=(
        "Children's social care sees every agency's answer (restricted ones marked `restricted`). Any other "
        "agency sees only its own. Oldest request first."
    ),
)
async def list_referral_contributions(
    referral_id: uuid.UUID, principal: ContributionsRead, session: DbSession, paging: Paging
) -> Page[ContributionOut]:
    found, next_cursor = await service.for_referral(session, principal, referral_id, paging.params)
    return paging.page(await service.render(session, found, principal), next_cursor)


@router.get(
    "/v1/contributions",
    summary="The agency's information requests (its inbox)",
    description=(
        "For a partner agency: the requests addressed to it. For children's social care: every request. "
        "Oldest request first is not guaranteed; the newest come first."
    ),
)
async def list_contributions(
    principal: ContributionsRead,
    session: DbSession,
    paging: Paging,
    status_: Annotated[ContributionStatus | None, Query(alias="status")] = None,
    overdue: Annotated[
        bool | None, Query(description="Only unanswered requests past their due time.")
    ] = None,
    agency: Annotated[AgencyCode | None, Query(description="Only requests to this agency.")] = None,
    referral_id: uuid.UUID | None = None,
) -> Page[ContributionOut]:
    filters = InboxFilters(status=status_, overdue=overdue, agency=agency, referral_id=referral_id)
    found, next_cursor = await service.inbox(session, principal, filters, paging.params)
    return paging.page(await service.render(session, found, principal), next_cursor)


@router.get(
    "/v1/contributions/{contribution_id}",
    summary="One information request and its answer",
)
async def get_contribution(
    contribution_id: uuid.UUID, principal: ContributionsRead, session: DbSession
) -> ContributionOut:
    """The question put to an agency, the children it is about, and the agency's answer with its earlier versions. Seen by children's social care and by the agency asked; anyone else gets 404."""
    contribution = await service.read(session, principal, contribution_id)
    return (await service.render(session, [contribution], principal))[0]


@router.post(
    "/v1/contributions/{contribution_id}/response",
    summary="Answer an information request (only the agency asked)",
    description=(
        "Answer once. To correct an answer, send it again with a `correction_reason`: a new version is "
        "added and the earlier one kept. A restricted answer (e.g. police intelligence) needs a "
        "`restriction_reason`; it is marked restricted wherever it appears and withheld from subject "
        "access exports."
    ),
    responses=problem_responses(409, codes={409: ["already_responded", "invalid_transition"]}),
)
async def respond_to_contribution(
    contribution_id: uuid.UUID,
    principal: ContributionsWrite,
    session: DbSession,
    body: ContributionResponseIn,
) -> ContributionOut:
    contribution, children = await service.respond(session, principal, contribution_id, body)
    return (await service.render(session, [contribution], principal, {contribution.referral_id: children}))[0]
