"""Safeguarding adults reviews (Care Act 2014 s44): referral, the Board's decision, completion.

The law decides the rules. When the mandatory criteria are met (s44(1)-(3): the adult died, or suffered
serious abuse or neglect, and agencies could have worked together better) the Board must arrange a review;
otherwise it may (s44(4)); with the criteria not met it does not. A review considered and not commissioned
is kept with its rationale. A review completes only once an advocate the adult needs (s68: substantial
difficulty and no appropriate person) has been appointed or refused. Every change is an event on the
review's own stream (adult social care's alone) and every read and write is audited, naming the adult.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdvocacyOffer, SarCriteria, SarStatus
from app.adults.concerns import service as concerns
from app.adults.concerns.schemas import AdvocacyIn
from app.adults.reviews import access, status
from app.adults.reviews.schemas import SarCreate, SarDecision, SarUpdate
from app.adults.reviews.status import Action
from app.core import audit, events
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.concurrency import check_if_match
from app.core.errors import AgencyNotPermitted, AppError, ValidationFailed
from app.core.events import EventType
from app.core.filters import query, where_equal
from app.core.pagination import PageParams
from app.models.adult import AdultConcern, SafeguardingAdultsReview
from app.models.base import utcnow
from app.models.person import Person

RECORD_TYPE = "safeguarding_adults_review"
AGGREGATE = "safeguarding_adults_review"
DECISION = ("criteria", "decision_on", "rationale", "commissioned")

emit = events.emitter(AGGREGATE)


def _audit(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    review: SafeguardingAdultsReview,
    **details: Any,
) -> None:
    audit.record(session, actor, action, RECORD_TYPE, review.id, person_id=review.person_id, details=details)


def _invalid(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed(["body", field], msg)


def _decision(review: SafeguardingAdultsReview, body: SarDecision) -> Action | None:
    """Check the decision sent (all of it or none) and write it; the move it makes, if any."""
    sent = [name for name in DECISION if getattr(body, name) is not None]
    if not sent:
        if body.commissioned_on is not None:
            raise _invalid("commissioned_on", "commissioned_on comes with the decision to commission.")
        return None
    missing = [name for name in DECISION if name not in sent]
    if missing:
        raise _invalid(
            missing[0],
            "The decision records the criteria, its date, its rationale and whether a "
            "review was commissioned, all together.",
        )
    assert body.decision_on is not None
    if body.decision_on < review.referred_on:
        raise _invalid("decision_on", "A decision cannot precede the referral.")
    if body.criteria == SarCriteria.MANDATORY and not body.commissioned:
        raise _invalid(
            "commissioned",
            "The mandatory criteria are met: the Board must arrange a review (Care Act s44(1)).",
        )
    if body.criteria == SarCriteria.NOT_MET and body.commissioned:
        raise _invalid("commissioned", "With the criteria not met, no review is commissioned.")
    if body.commissioned and body.commissioned_on is None:
        raise _invalid("commissioned_on", "A commissioned review says when it was commissioned.")
    if not body.commissioned and body.commissioned_on is not None:
        raise _invalid("commissioned_on", "commissioned_on is for a review commissioned.")
    if body.commissioned_on is not None and body.commissioned_on < body.decision_on:
        raise _invalid("commissioned_on", "A review is commissioned on or after the decision.")
    review.criteria = body.criteria
    review.decision_on = body.decision_on
    review.rationale = body.rationale
    review.commissioned_on = body.commissioned_on
    return Action.COMMISSION if body.commissioned else Action.NOT_COMMISSION


async def _advocacy(session: AsyncSession, review: SafeguardingAdultsReview, body: AdvocacyIn | None) -> None:
    if body is None:
        return
    await concerns.check_advocacy(session, body, review.person_id, at=("body", "advocacy"))
    review.advocacy = body.model_dump(mode="json")
    review.advocacy_required = body.required


def advocate_outstanding(review: SafeguardingAdultsReview) -> bool:
    """An advocate is required for the review and neither appointed nor refused by the adult."""
    if not review.advocacy_required or review.advocacy is None:
        return False
    offer = review.advocacy.get("offer")
    appointed = offer == AdvocacyOffer.ACCEPTED and review.advocacy.get("advocate_id") is not None
    return not (appointed or offer == AdvocacyOffer.DECLINED)


async def _concerns_of(session: AsyncSession, person_id: uuid.UUID, concern_ids: list[uuid.UUID]) -> None:
    if await session.get(Person, person_id) is None:
        raise _invalid("person_id", "No person with this id.")
    if not concern_ids:
        return
    found = set(
        await session.scalars(
            sa.select(AdultConcern.id).where(
                AdultConcern.id.in_(concern_ids), AdultConcern.person_id == person_id
            )
        )
    )
    for n, concern_id in enumerate(concern_ids):
        if concern_id not in found:
            raise ValidationFailed(["body", "concern_ids", n], "No concern about this person with this id.")


def _move(session: AsyncSession, actor: Principal, review: SafeguardingAdultsReview, action: Action) -> None:
    status.move(review, action)
    event = EventType.REVIEW_COMPLETED if action is Action.COMPLETE else EventType.REVIEW_DECIDED
    emit(session, actor, review.id, event, status=str(review.status), criteria=review.criteria)


async def create(session: AsyncSession, actor: Principal, body: SarCreate) -> SafeguardingAdultsReview:
    if not access.is_hub(actor):
        raise AgencyNotPermitted("Safeguarding adults reviews are arranged through adult_social_care.")
    await _concerns_of(session, body.person_id, body.concern_ids)
    review = SafeguardingAdultsReview(
        id=uuid.uuid4(),
        person_id=body.person_id,
        concern_ids=[str(c) for c in dict.fromkeys(body.concern_ids)],
        status=status.INITIAL,
        referred_on=body.referred_on,
        adult_died=body.adult_died,
        actions=[],
        advocacy_required=False,
        created_by=actor.sub,
        created_at=utcnow(),
    )
    decided = _decision(review, body)
    await _advocacy(session, review, body.advocacy)
    session.add(review)
    await session.flush()
    emit(session, actor, review.id, EventType.REVIEW_REFERRED, person_id=str(review.person_id))
    if decided is not None:
        _move(session, actor, review, decided)
    await session.flush()
    _audit(session, actor, AuditAction.CREATE, review)
    return review


async def update(
    session: AsyncSession, actor: Principal, review_id: uuid.UUID, body: SarUpdate, if_match: str | None
) -> SafeguardingAdultsReview:
    review = await access.visible(session, actor, review_id, for_update=True)
    check_if_match(if_match, review.version)
    status.check(review, Action.EDIT)
    decided = None
    if any(getattr(body, name) is not None for name in (*DECISION, "commissioned_on")):
        # Decided once: a 409 before anything of the decision is looked at.
        status.check(review, Action.COMMISSION if body.commissioned else Action.NOT_COMMISSION)
        decided = _decision(review, body)
    await _advocacy(session, review, body.advocacy)
    if body.findings is not None:
        review.findings = body.findings
    if body.actions is not None:
        review.actions = [a.model_dump(mode="json") for a in body.actions]
    completing = body.completed_on is not None
    fields = sorted(body.model_fields_set)
    review.updated_at = utcnow()
    if decided is not None:
        _move(session, actor, review, decided)
    # What changed besides the moves, which have events of their own.
    edits = [name for name in fields if name not in (*DECISION, "commissioned_on", "completed_on")]
    if edits:
        emit(session, actor, review.id, EventType.REVIEW_UPDATED, fields=edits)
    if completing:
        assert body.completed_on is not None
        status.check(review, Action.COMPLETE)
        if review.commissioned_on is None or body.completed_on < review.commissioned_on:
            raise _invalid("completed_on", "A review completes on or after it was commissioned.")
        if review.findings is None:
            raise _invalid("findings", "A completed review records its findings.")
        if advocate_outstanding(review):
            raise AppError(code="advocate_required")
        review.completed_on = body.completed_on
        _move(session, actor, review, Action.COMPLETE)
    await session.flush()
    _audit(session, actor, AuditAction.UPDATE, review, fields=fields)
    return review


async def read(session: AsyncSession, actor: Principal, review_id: uuid.UUID) -> SafeguardingAdultsReview:
    review = await access.visible(session, actor, review_id)
    _audit(session, actor, AuditAction.READ, review)
    return review


@dataclass(frozen=True, slots=True)
class SarFilters:
    """The review list's filters, declared as its query parameters (``app.core.filters.query``)."""

    person_id: uuid.UUID | None = None
    status: SarStatus | None = None


# The list's query parameters, as one parameter of its handler.
SarQuery = Annotated[SarFilters, Depends(query(SarFilters))]


async def list_visible(
    session: AsyncSession, actor: Principal, filters: SarFilters, params: PageParams
) -> tuple[list[SafeguardingAdultsReview], str | None]:
    stmt = where_equal(
        sa.select(SafeguardingAdultsReview).where(access.listed(actor)),
        (SafeguardingAdultsReview.person_id, filters.person_id),
        (SafeguardingAdultsReview.status, filters.status),
    )
    keys = [SafeguardingAdultsReview.created_at, SafeguardingAdultsReview.id]
    return await audit.audited_page(session, actor, stmt, keys, params, RECORD_TYPE, "review_ids")
