"""Safeguarding plans: made and reviewed by adult social care, acted on by the agencies named.

An agency that owns an action sees the plan (what it needs to act) and may update its own actions'
status, nothing else. Reviews continue, amend or close the plan; closing records why, the adult's
view, and that feedback was given and a safeguarding adults review considered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import FINAL_CONCERN_STATUSES, PlanActionStatus, PlanReviewDecision, PlanStatus
from app.adults.concerns import service as concerns
from app.adults.plans import access, status
from app.adults.plans.access import View
from app.adults.plans.schemas import ActionIn, ActionUpdate, Closure, PlanCreate, PlanUpdate, ReviewIn
from app.adults.plans.status import Action
from app.core import audit, events
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import local_date, today
from app.core.concurrency import check_if_match
from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.core.events import EventType
from app.core.filters import query, where_equal, where_flag
from app.core.pagination import PageParams, paginate
from app.models.adult import PlanAction, PlanReview, SafeguardingPlan
from app.models.base import utcnow
from app.people.disclosures import service as disclosures

RECORD_TYPE = "safeguarding_plan"


def _audit(
    session: AsyncSession, actor: Principal, action: AuditAction, plan: SafeguardingPlan, **details: Any
) -> None:
    audit.record(session, actor, action, RECORD_TYPE, plan.id, person_id=plan.person_id, details=details)


def _emit(
    session: AsyncSession, actor: Principal, plan: SafeguardingPlan, event_type: EventType, **data: Any
) -> None:
    # On the concern's feed when there is one, so the raising agency's poll sees the plan's progress.
    aggregate = ("adult_concern", plan.concern_id) if plan.concern_id else ("safeguarding_plan", plan.id)
    events.emit(session, actor, aggregate[0], aggregate[1], event_type, {"plan_id": str(plan.id), **data})


async def for_asc(session: AsyncSession, actor: Principal, plan_id: uuid.UUID) -> SafeguardingPlan:
    plan, view = await access.visible(session, actor, plan_id, for_update=True)
    if view is not View.FULL:
        raise NotFound("safeguarding plan", plan_id)
    return plan


def _actions(plan: SafeguardingPlan, actions: Sequence[ActionIn], start: int) -> list[PlanAction]:
    return [
        PlanAction(
            id=uuid.uuid4(),
            plan_id=plan.id,
            position=start + n,
            agency=action.agency,
            description=action.description,
            due_date=action.due_date,
            status=PlanActionStatus.NOT_STARTED,
        )
        for n, action in enumerate(actions)
    ]


async def create(session: AsyncSession, actor: Principal, body: PlanCreate) -> SafeguardingPlan:
    concern = await concerns.person_and_concern(session, body.person_id, body.concern_id)
    if concern is not None and concern.status in FINAL_CONCERN_STATUSES:
        raise InvalidTransition(f"The concern is {concern.status}.")
    if body.review_due_on < today():
        raise ValidationFailed(["body", "review_due_on"], "The first review cannot be in the past.")
    plan = SafeguardingPlan(
        id=uuid.uuid4(),
        **body.model_dump(exclude={"lead", "actions"}),
        status=status.INITIAL,
        lead=body.lead.model_dump(exclude_none=True),
        created_by=actor.sub,
    )
    session.add(plan)
    await session.flush()
    session.add_all(_actions(plan, body.actions, 0))
    await session.flush()
    _emit(
        session,
        actor,
        plan,
        EventType.PLAN_CREATED,
        action_agencies=sorted({str(a.agency) for a in body.actions}),
    )
    _audit(session, actor, AuditAction.CREATE, plan)
    return plan


async def update(
    session: AsyncSession, actor: Principal, plan_id: uuid.UUID, body: PlanUpdate, if_match: str | None
) -> SafeguardingPlan:
    plan = await for_asc(session, actor, plan_id)
    check_if_match(if_match, plan.version)
    status.check(plan, Action.AMEND)
    if body.review_due_on is not None and body.review_due_on < today():
        raise ValidationFailed(["body", "review_due_on"], "The next review cannot be in the past.")
    changes = body.model_dump(exclude_unset=True, exclude={"add_actions"})
    if "lead" in changes and body.lead is not None:
        changes["lead"] = body.lead.model_dump(exclude_none=True)
    for field, value in changes.items():
        setattr(plan, field, value)
    if body.add_actions:
        count = await session.scalar(sa.select(sa.func.count()).where(PlanAction.plan_id == plan.id))
        session.add_all(_actions(plan, body.add_actions, int(count or 0)))
    plan.updated_at = utcnow()
    await session.flush()
    fields = sorted(changes) + (["actions"] if body.add_actions else [])
    _emit(session, actor, plan, EventType.PLAN_AMENDED, fields=fields)
    _audit(session, actor, AuditAction.UPDATE, plan, fields=fields)
    return plan


async def update_action(
    session: AsyncSession,
    actor: Principal,
    plan_id: uuid.UUID,
    action_id: uuid.UUID,
    body: ActionUpdate,
    if_match: str | None,
) -> PlanAction:
    plan, view = await access.visible(session, actor, plan_id, for_update=True)
    action = await session.scalar(
        sa.select(PlanAction)
        .where(PlanAction.id == action_id, PlanAction.plan_id == plan.id)
        .with_for_update()
    )
    # An action owner may change only its own actions; another agency's action is not found for it.
    if action is None or not access.updates_action(actor, view, action):
        raise NotFound("plan action", action_id)
    check_if_match(if_match, action.version)
    status.check(plan, Action.UPDATE_ACTION)
    action.status = body.status
    action.status_note = body.note
    action.updated_by = actor.sub
    action.updated_by_agency = actor.agency
    action.updated_at = utcnow()
    await session.flush()
    _emit(
        session,
        actor,
        plan,
        EventType.PLAN_ACTION_UPDATED,
        action_id=str(action.id),
        agency=action.agency,
        status=str(body.status),
    )
    _audit(session, actor, AuditAction.UPDATE, plan, action_id=str(action.id), fields=["status"])
    return action


def _close(plan: SafeguardingPlan, actor: Principal, closure: Closure) -> None:
    status.move(plan, Action.CLOSE)
    plan.closed_at = utcnow()
    plan.closed_by = actor.sub
    plan.closure_reason = closure.reason
    plan.closure_adult_view = closure.adult_view
    plan.feedback_given = closure.feedback_given
    plan.feedback_withheld_reason = closure.feedback_withheld_reason
    plan.sar_considered = closure.sar_considered


async def review(session: AsyncSession, actor: Principal, plan_id: uuid.UUID, body: ReviewIn) -> PlanReview:
    plan = await for_asc(session, actor, plan_id)
    status.check(plan, Action.CLOSE if body.decision == PlanReviewDecision.CLOSE else Action.REVIEW)
    if body.held_on < local_date(plan.created_at):
        raise ValidationFailed(["body", "held_on"], "A review cannot be held before the plan was made.")
    record = PlanReview(
        id=uuid.uuid4(),
        plan_id=plan.id,
        **body.model_dump(exclude={"closure"}),
        recorded_by=actor.sub,
    )
    session.add(record)
    if body.decision == PlanReviewDecision.CLOSE:
        assert body.closure is not None  # validated by the schema
        _close(plan, actor, body.closure)
    else:
        assert body.next_review_due_on is not None  # validated by the schema
        plan.review_due_on = body.next_review_due_on
    plan.updated_at = utcnow()
    await session.flush()
    _emit(
        session, actor, plan, EventType.PLAN_REVIEWED, review_id=str(record.id), decision=str(body.decision)
    )
    if body.decision == PlanReviewDecision.CLOSE:
        _emit(session, actor, plan, EventType.PLAN_CLOSED)
    _audit(session, actor, AuditAction.CREATE, plan, review_id=str(record.id), decision=str(body.decision))
    return record


async def read(session: AsyncSession, actor: Principal, plan_id: uuid.UUID) -> tuple[SafeguardingPlan, View]:
    plan, view = await access.visible(session, actor, plan_id)
    _audit(session, actor, AuditAction.READ, plan, view=str(view))
    if view is View.ACTION_OWNER:
        await disclosures.plan_seen_by_action_owner(session, actor, plan)
    return plan, view


async def actions(
    session: AsyncSession, plan_id: uuid.UUID, agency: str | None = None
) -> Sequence[PlanAction]:
    stmt = sa.select(PlanAction).where(PlanAction.plan_id == plan_id)
    if agency is not None:
        stmt = stmt.where(PlanAction.agency == agency)
    return (await session.scalars(stmt.order_by(PlanAction.position))).all()


async def reviews(session: AsyncSession, plan_id: uuid.UUID) -> Sequence[PlanReview]:
    # Reviews held on the same day keep the order they were recorded in (the id is random).
    stmt = (
        sa.select(PlanReview)
        .where(PlanReview.plan_id == plan_id)
        .order_by(PlanReview.held_on, PlanReview.recorded_at, PlanReview.id)
    )
    return (await session.scalars(stmt)).all()


@dataclass(frozen=True, slots=True)
class PlanFilters:
    """The plan list's filters, declared as its query parameters (``app.core.filters.query``)."""

    review_overdue: Annotated[
        bool | None, Query(description="Only active plans past (true) or within (false) their review date.")
    ] = None
    person_id: uuid.UUID | None = None
    status: PlanStatus | None = None


# The list's query parameters, as one parameter of its handler.
PlanQuery = Annotated[PlanFilters, Depends(query(PlanFilters))]


def review_overdue_clause() -> sa.ColumnElement[bool]:
    return sa.and_(SafeguardingPlan.status == PlanStatus.ACTIVE, SafeguardingPlan.review_due_on < today())


async def list_visible(
    session: AsyncSession, actor: Principal, filters: PlanFilters, params: PageParams
) -> tuple[list[SafeguardingPlan], str | None]:
    stmt = where_flag(
        sa.select(SafeguardingPlan).where(access.listed(actor)),
        filters.review_overdue,
        review_overdue_clause(),
    )
    stmt = where_equal(
        stmt, (SafeguardingPlan.person_id, filters.person_id), (SafeguardingPlan.status, filters.status)
    )
    found, next_cursor = await paginate(
        session, stmt, [SafeguardingPlan.created_at, SafeguardingPlan.id], params
    )
    audit.record_list(
        session, actor, RECORD_TYPE, "plan_ids", (p.id for p in found), (p.person_id for p in found)
    )
    return found, next_cursor


def is_review_overdue(plan: SafeguardingPlan) -> bool:
    return plan.status == PlanStatus.ACTIVE and plan.review_due_on < today()
