"""What a safeguarding plan looks like to the caller's agency: the full plan for adult social care, the
essentials and its own actions for an agency that owns an action (``access.View``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.plans import access, service
from app.adults.plans.access import View
from app.adults.plans.schemas import (
    ActionOut,
    AdultRef,
    ClosureOut,
    PlanForActionOwner,
    PlanFull,
    ReviewOut,
)
from app.core.concurrency import etag
from app.core.rendering import from_record
from app.models.adult import PlanAction, SafeguardingPlan
from app.models.person import Person


def action_out(action: PlanAction, *, agency: str, hub: bool) -> ActionOut:
    """The action as ``agency`` sees it (``hub``: adult social care); who updated it shows as
    ``access.shows_updater`` says."""
    return from_record(
        ActionOut,
        action,
        etag=etag(action.version),
        updated_by=action.updated_by if access.shows_updater(agency, action, hub=hub) else None,
    )


async def render(
    session: AsyncSession, plan: SafeguardingPlan, view: View, agency: str
) -> PlanFull | PlanForActionOwner:
    if view is View.ACTION_OWNER:
        return await for_action_owner(session, plan, agency)
    return await full(session, plan, agency)


async def _adult(session: AsyncSession, plan: SafeguardingPlan) -> AdultRef:
    person = await session.get(Person, plan.person_id)
    assert person is not None  # a foreign key
    return AdultRef(
        person_id=person.id,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
    )


async def for_action_owner(session: AsyncSession, plan: SafeguardingPlan, agency: str) -> PlanForActionOwner:
    adult = await _adult(session, plan)
    adult.person_id = None  # the hub's own link between records
    own = await service.actions(session, plan.id, agency)
    return from_record(
        PlanForActionOwner,
        plan,
        adult=adult,
        review_overdue=service.is_review_overdue(plan),
        actions=[action_out(a, agency=agency, hub=False) for a in own],
    )


async def full(session: AsyncSession, plan: SafeguardingPlan, agency: str) -> PlanFull:
    closure = None
    if plan.closed_at is not None:
        closure = ClosureOut(
            reason=plan.closure_reason or "",
            adult_view=plan.closure_adult_view or "",
            feedback_given=bool(plan.feedback_given),
            feedback_withheld_reason=plan.feedback_withheld_reason,
            sar_considered=bool(plan.sar_considered),
            closed_by=plan.closed_by or "",
            closed_at=plan.closed_at,
        )
    return from_record(
        PlanFull,
        plan,
        adult=await _adult(session, plan),
        actions=[action_out(a, agency=agency, hub=True) for a in await service.actions(session, plan.id)],
        review_overdue=service.is_review_overdue(plan),
        reviews=[ReviewOut.model_validate(r) for r in await service.reviews(session, plan.id)],
        closure=closure,
    )
