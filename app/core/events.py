"""Case events: what happened to a case record, written in the same transaction as the change.

They are the referral timeline, and the outbox of the partner change feed: nothing is emitted for a
rolled-back change, and nothing committed is missed. Sequence numbers are assigned just before
commit while holding the audit chain's head lock (``app.core.audit``), so they follow commit order
without gaps.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit import Actor, queue_event
from app.models.base import utcnow
from app.models.event import CaseEvent


# Who sees which on the change feed, and what of it: app/governance/feed/rules.py.
# Every event type the services emit (``emit`` below); its docstring is the spec's description.
class EventType(StrEnum):
    """What happened to a record: the type of a change feed event or of a timeline entry."""

    REFERRAL_RECEIVED = "referral.received"
    CHILD_MATCHED = "child.matched"
    CHILD_PENDING = "child.pending"
    CHILD_NEW_PERSON = "child.new_person"
    CHILD_MATCH_CONFIRMED = "child.match_confirmed"
    REFERRAL_RATED = "referral.rated"
    REFERRAL_CONSENT_OVERRIDDEN = "referral.consent_overridden"
    REFERRAL_UPDATED = "referral.updated"
    COMMUNICATION_RECORDED = "communication.recorded"
    REFERRAL_ACKNOWLEDGED = "referral.acknowledged"
    CONTRIBUTION_REQUESTED = "contribution.requested"
    CONTRIBUTION_SUBMITTED = "contribution.submitted"
    CONTRIBUTION_CORRECTED = "contribution.corrected"
    DECISION_PROPOSED = "decision.proposed"
    DECISION_RETURNED = "decision.returned"
    DECISION_APPROVED = "decision.approved"
    REFERRAL_DECIDED = "referral.decided"
    REFERRAL_WITHDRAWN = "referral.withdrawn"
    REFERRAL_ALLOCATED = "referral.allocated"
    REFERRAL_INFORMATION_ADDED = "referral.information_added"
    ASSESSMENT_STARTED = "assessment.started"
    ASSESSMENT_COMPLETED = "assessment.completed"
    STRATEGY_DISCUSSION_HELD = "strategy_discussion.held"
    SECTION_47_STARTED = "section_47.started"
    SECTION_47_CONCLUDED = "section_47.concluded"
    CONFERENCE_HELD = "conference.held"
    ADULT_CONCERN_RECEIVED = "adult_concern.received"
    ADULT_MATCHED = "adult.matched"
    ADULT_PENDING = "adult.pending"
    ADULT_NEW_PERSON = "adult.new_person"
    ADULT_MATCH_CONFIRMED = "adult.match_confirmed"
    ADULT_CONCERN_DECIDED = "adult_concern.decided"
    ENQUIRY_OPENED = "enquiry.opened"
    ADVOCACY_RECORDED = "advocacy.recorded"
    CAPACITY_ASSESSED = "capacity.assessed"
    BEST_INTERESTS_DECIDED = "best_interests.decided"
    ENQUIRY_CONCLUDED = "enquiry.concluded"
    ALLEGATION_ADDED = "allegation.added"
    ALLEGATION_CORRECTED = "allegation.corrected"
    ADULT_CONCERN_UPDATED = "adult_concern.updated"
    ADULT_CONCERN_CLOSED = "adult_concern.closed"
    ADULT_CONCERN_ALLOCATED = "adult_concern.allocated"
    ENQUIRY_ALLOCATED = "enquiry.allocated"
    ADULT_CONCERN_WITHDRAWN = "adult_concern.withdrawn"
    ADULT_CONCERN_INFORMATION_ADDED = "adult_concern.information_added"
    PLAN_CREATED = "plan.created"
    PLAN_AMENDED = "plan.amended"
    PLAN_ACTION_UPDATED = "plan.action_updated"
    PLAN_REVIEWED = "plan.reviewed"
    PLAN_CLOSED = "plan.closed"
    REVIEW_REFERRED = "safeguarding_adults_review.referred"
    REVIEW_DECIDED = "safeguarding_adults_review.decided"
    REVIEW_UPDATED = "safeguarding_adults_review.updated"
    REVIEW_COMPLETED = "safeguarding_adults_review.completed"


def emit(
    session: AsyncSession,
    actor: Actor,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    event_type: EventType,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Queue an event for this session's transaction. ``data`` holds codes and ids only."""
    queue_event(
        session,
        {
            "id": uuid.uuid4(),
            "occurred_at": utcnow(),
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "event_type": event_type.value,
            "actor_sub": actor.sub,
            "actor_agency": str(actor.agency),
            "actor_role": str(actor.role),
            "data": dict(data or {}),
        },
    )


class Emitter(Protocol):
    def __call__(
        self, session: AsyncSession, actor: Actor, aggregate_id: uuid.UUID, event_type: EventType, **data: Any
    ) -> None: ...


def emitter(aggregate_type: str) -> Emitter:
    """``emit`` for one kind of aggregate, the event's data given as keywords."""

    def emit_on(
        session: AsyncSession, actor: Actor, aggregate_id: uuid.UUID, event_type: EventType, **data: Any
    ) -> None:
        emit(session, actor, aggregate_type, aggregate_id, event_type, data)

    return emit_on


def last_seq(session: AsyncSession) -> sa.Select[int]:
    """The last event's ``seq``, of all events: on PostgreSQL through a function that row-level
    security does not narrow to the caller's events (migration ``20261127_row_security``)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.select(sa.func.mash_case_events_head(type_=sa.BigInteger))
    return sa.select(sa.func.coalesce(sa.func.max(CaseEvent.seq), 0))
