"""/v1/safeguarding-plans: plans, their actions and reviews."""

from __future__ import annotations

import uuid
from typing import Annotated

from app.adults.plans import access, service, views
from app.adults.plans.schemas import (
    ActionOut,
    ActionUpdate,
    PlanCreate,
    PlanFull,
    PlanOut,
    PlanPage,
    PlanUpdate,
    ReviewIn,
    ReviewOut,
)
from app.core.auth import Principal, any_of_security, requires_any
from app.core.concurrency import Conditional, Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.openapi import INVALID_TRANSITION, problem_responses
from app.core.pagination import Paging
from app.core.principals import PlansWrite, PlansWriteOnce
from app.core.routing import Router, added_by_service, viewed_by_service
from app.core.scopes import Scope

router = Router(prefix="/v1/safeguarding-plans", tags=["Safeguarding plans"])
# Adult social care reads plans with plans:read; a partner that owns an action in a plan reads it,
# and updates its own actions, with the adult safeguarding scope partners have (adult_concerns:read).
PlansOrOwners = Annotated[Principal, requires_any(Scope.PLANS_READ, Scope.ADULT_CONCERNS_READ)]
OWNER_SECURITY = any_of_security(Scope.PLANS_READ, Scope.ADULT_CONCERNS_READ)


@router.post(
    "",
    summary="Make a safeguarding plan",
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def create_safeguarding_plan(
    created: Created, answer: Versioned, principal: PlansWriteOnce, session: DbSession, body: PlanCreate
) -> PlanFull:
    """Make a safeguarding plan for an adult, with actions owned by agencies and the date of its first review. Each owning agency then sees the plan's essentials and its own actions."""
    plan = await service.create(session, principal, body)
    out = answer.tagged(plan.version, await views.full(session, plan, principal.agency))
    return created.at(f"/v1/safeguarding-plans/{plan.id}", out)


@router.get(
    "",
    summary="List safeguarding plans",
    description=(
        "Adult social care sees every plan; a partner sees the plans in which it owns an action. "
        "`review_overdue=true` lists active plans whose review date has passed."
    ),
    openapi_extra=OWNER_SECURITY,
)
async def list_safeguarding_plans(
    principal: PlansOrOwners, session: DbSession, filters: service.PlanQuery, paging: Paging
) -> PlanPage:
    found, next_cursor = await service.list_visible(session, principal, filters, paging.params)
    paging.link(next_cursor)
    view = access.listed_view(principal)
    items = [await views.render(session, plan, view, principal.agency) for plan in found]
    return PlanPage(items=items, next_cursor=next_cursor)


router.get(
    "/{plan_id}",
    summary="Get a safeguarding plan, as the caller's agency may see it",
    description=(
        "`view` says which: `full` for adult social care; `action_owner` for an agency that owns an action "
        "in the plan (the adult, the lead, the contingency, the review date and its own actions)."
    ),
    openapi_extra=OWNER_SECURITY,
)(
    viewed_by_service(
        service.read,
        views.render,
        "get_safeguarding_plan",
        parameter="plan_id",
        principal=PlansOrOwners,
        returns=PlanOut,
    )
)


@router.patch(
    "/{plan_id}",
    summary="Amend a safeguarding plan",
    description=(
        "Amend a plan's lead, the adult's wishes, protective people, contingency or review date, or add "
        "actions (an action's progress is updated on the action itself; the plan closes through a review). "
        "Send the ETag of your last GET in `If-Match`: missing is 428, stale is 412."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)
async def update_safeguarding_plan(
    plan_id: uuid.UUID, change: Conditional, principal: PlansWrite, session: DbSession, body: PlanUpdate
) -> PlanFull:
    plan = await service.update(session, principal, plan_id, body, change.if_match)
    return change.tagged(plan.version, await views.full(session, plan, principal.agency))


@router.patch(
    "/{plan_id}/actions/{action_id}",
    summary="Update an action's status (adult social care, or the agency that owns the action)",
    description=(
        "An agency may update only its own actions; another agency's action is not found for it. Send the "
        "action's `etag` (from the plan) in If-Match."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
    openapi_extra=OWNER_SECURITY,
)
async def update_plan_action(
    plan_id: uuid.UUID,
    change: Conditional,
    action_id: uuid.UUID,
    principal: PlansOrOwners,
    session: DbSession,
    body: ActionUpdate,
) -> ActionOut:
    action = await service.update_action(session, principal, plan_id, action_id, body, change.if_match)
    return change.tagged(
        action.version, views.action_out(action, agency=principal.agency, hub=access.is_hub(principal))
    )


router.post(
    "/{plan_id}/reviews",
    summary="Record a review: continue, amend or close",
    description=(
        "Continue or amend sets the next review date. Close records the reason, the adult's view, whether "
        "the referrer was given feedback (or why it is withheld, for example during a police investigation) "
        "and that a safeguarding adults review was considered."
    ),
    responses=problem_responses(409, codes=INVALID_TRANSITION),
)(
    added_by_service(
        service.review,
        "review_safeguarding_plan",
        parameter="plan_id",
        principal=PlansWriteOnce,
        body=ReviewIn,
        out=ReviewOut,
        records="/v1/safeguarding-plans",
    )
)
