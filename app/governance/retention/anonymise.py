"""Replacing the personal data of a case record whose retention has ended, keeping the record.

What stays: every id, code, date of a step and status (the audit trail, the feed, the statutory
returns and the disclosure log refer to them, and none of them holds personal data: app.core.audit).
What goes: names, dates of birth, NHS numbers, addresses, contact details and every free text written
about the people involved, on the record and on everything that hangs off it. Free text is replaced
by ``ANONYMISED``; optional details become null; structured contact details keep only a placeholder
name, so every view of the record still renders.

A person record is anonymised with the last of their referrals and concerns, unless records about
them that no retention rule covers yet (capacity assessments, safeguarding plans, safeguarding adults
reviews) still need it: then it is kept, and the anonymisation says so.

The audit trail is not touched: its entries refer to the record and the person by id, so the hash
chain still verifies after anonymisation (``tests/governance/test_retention.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.retention import RetainedRecordType
from app.models.adult import (
    AdultConcern,
    Advocacy,
    Allegation,
    AllegationChange,
    CapacityAssessment,
    ConcernInformation,
    Enquiry,
    SafeguardingAdultsReview,
    SafeguardingPlan,
    Section42DecisionRecord,
)
from app.models.base import utcnow
from app.models.idempotency import IdempotencyRecord
from app.models.person import Person, PersonMatchKey
from app.models.protection import StrategyDiscussion
from app.models.referral import (
    Communication,
    Contribution,
    ContributionResponse,
    Referral,
    ReferralChild,
    ReferralHouseholdMember,
    ReferralInformation,
    ThresholdDecision,
)
from app.models.retention import Anonymisation

ANONYMISED = "[anonymised]"

Replacement = Callable[[Any], Any]


def _text(_: Any) -> str:
    return ANONYMISED


def _optional_text(value: Any) -> str | None:
    return None if value is None else ANONYMISED


def _null(_: Any) -> None:
    return None


def _empty_list(_: Any) -> list[Any]:
    return []


def _contact(_: Any) -> dict[str, str]:
    """A referrer's or raiser's details: a placeholder name, no role, team or way to reach them."""
    return {"name": ANONYMISED}


def _criterion(value: Any) -> Any:
    """A section 42 criterion ``{met, reason}``: whether it was met stays, the reason goes."""
    return {**value, "reason": ANONYMISED} if isinstance(value, dict) and "reason" in value else value


def _attendees(value: Any) -> Any:
    """A strategy discussion's attendees: which agencies attended stays (the statutory check)."""
    return [{**a, "name": ANONYMISED, "role": ANONYMISED} for a in value or []]


# The identifying details a person record, a referral's child or a concern's adult carry.
_IDENTITY: dict[str, Replacement] = {
    "given_name": _text,
    "family_name": _text,
    "date_of_birth": _null,
    "nhs_number": _null,
    "address_lines": _null,
    "postcode": _null,
    "gender": _null,
    "ethnicity": _null,
}
_SUBJECT = {**_IDENTITY, "match_candidates": _empty_list}

PERSON: dict[str, Replacement] = {**_IDENTITY, "expected_date_of_birth": _null}
REFERRAL: dict[str, Replacement] = {
    "concern_summary": _text,
    "referrer": _contact,
    "consent_reason": _optional_text,
    "consent_override_reason": _optional_text,
    "do_not_inform_reason": _optional_text,
    "rag_rationale": _optional_text,
    "withdrawal_reason": _optional_text,
    "allocation_note": _null,
}
CONCERN: dict[str, Replacement] = {
    **_SUBJECT,
    "raised_by": _contact,
    "adult_views": _optional_text,
    "desired_outcomes": _optional_text,
    "closure_reason": _optional_text,
    "withdrawal_reason": _optional_text,
    "allocation_note": _null,
}

# What hangs off a record: (the column naming the record, what is replaced).
Part = tuple[Any, dict[str, Replacement]]
_REFERRAL_PARTS: Sequence[Part] = (
    (ReferralChild.referral_id, {**_SUBJECT, "expected_date_of_birth": _null}),
    (
        ReferralHouseholdMember.referral_id,
        {"given_name": _text, "family_name": _text, "date_of_birth": _null},
    ),
    (Contribution.referral_id, {"question": _text}),
    (
        ThresholdDecision.referral_id,
        {"rationale": _text, "review_comment": _optional_text},
    ),
    (Communication.referral_id, {"summary": _text}),
    (ReferralInformation.referral_id, {"information": _text}),
    (StrategyDiscussion.referral_id, {"rationale": _text, "attendees": _attendees}),
)
_RESPONSE: dict[str, Replacement] = {
    "information": _text,
    "restriction_reason": _optional_text,
    "correction_reason": _optional_text,
}
_CONCERN_PARTS: Sequence[Part] = (
    (ConcernInformation.concern_id, {"information": _text}),
    (Allegation.concern_id, {"description": _text, "alleged_person": _null}),
    (
        Section42DecisionRecord.concern_id,
        {
            "care_and_support_needs": _criterion,
            "experiencing_or_at_risk": _criterion,
            "unable_to_protect_self": _criterion,
            "rationale": _text,
            "alternative_route_details": _optional_text,
            "referrer_feedback": _text,
            "feedback_limited_reason": _optional_text,
        },
    ),
    (Enquiry.concern_id, {"conclusion_summary": _optional_text, "allocation_note": _null}),
    (Advocacy.concern_id, {"notes": _optional_text}),
)


def _replace(row: Any, replacements: dict[str, Replacement]) -> None:
    for name, replacement in replacements.items():
        setattr(row, name, replacement(getattr(row, name)))


async def _replace_where(
    session: AsyncSession, key: Any, match: Any, replacements: dict[str, Replacement]
) -> None:
    where = key.in_(match) if isinstance(match, sa.Select) else key == match
    for row in (await session.scalars(sa.select(key.class_).where(where))).all():
        _replace(row, replacements)


async def _replace_with_parts(
    session: AsyncSession,
    record: Any,
    replacements: dict[str, Replacement],
    parts: Iterable[tuple[Any, dict[str, Replacement]]] = (),
) -> None:
    """Replace the record's personal data, then that of the rows on it (``parts``: each the column that
    points at the record, and what replaces their data)."""
    _replace(record, replacements)
    record.updated_at = utcnow()
    for key, part in parts:
        await _replace_where(session, key, record.id, part)


async def anonymise_referral(session: AsyncSession, referral: Referral) -> list[uuid.UUID]:
    """Replace the referral's personal data and that of everything on it; the people it named."""
    await _replace_with_parts(session, referral, REFERRAL, _REFERRAL_PARTS)
    asked = sa.select(Contribution.id).where(Contribution.referral_id == referral.id)
    await _replace_where(session, ContributionResponse.contribution_id, asked, _RESPONSE)
    people = await session.scalars(
        sa.select(ReferralChild.person_id).where(
            ReferralChild.referral_id == referral.id, ReferralChild.person_id.is_not(None)
        )
    )
    return sorted({p for p in people if p is not None})


async def anonymise_concern(session: AsyncSession, concern: AdultConcern) -> list[uuid.UUID]:
    """Replace the concern's personal data and that of its enquiry, allegations and decisions."""
    await _replace_with_parts(session, concern, CONCERN, _CONCERN_PARTS)
    allegations = sa.select(Allegation.id).where(Allegation.concern_id == concern.id)
    await _replace_where(session, AllegationChange.allegation_id, allegations, {"reason": _text})
    return [] if concern.person_id is None else [concern.person_id]


def _not_anonymised(record_type: RetainedRecordType, key: Any) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Anonymisation.record_type == record_type.value, Anonymisation.record_id == key)


async def still_needed(session: AsyncSession, person_id: uuid.UUID) -> bool:
    """Whether any record about the person keeps their details: a referral or concern not yet
    anonymised (this transaction's own are recorded before this is asked), or a record no retention
    rule covers yet."""
    checks: Iterable[sa.Select[Any]] = (
        sa.select(ReferralChild.id).where(
            ReferralChild.person_id == person_id,
            _not_anonymised(RetainedRecordType.REFERRAL, ReferralChild.referral_id),
        ),
        sa.select(AdultConcern.id).where(
            AdultConcern.person_id == person_id,
            _not_anonymised(RetainedRecordType.ADULT_CONCERN, AdultConcern.id),
        ),
        sa.select(CapacityAssessment.id).where(CapacityAssessment.person_id == person_id),
        sa.select(SafeguardingPlan.id).where(SafeguardingPlan.person_id == person_id),
        sa.select(SafeguardingAdultsReview.id).where(SafeguardingAdultsReview.person_id == person_id),
    )
    for stmt in checks:
        if await session.scalar(stmt.limit(1)) is not None:
            return True
    return False


async def anonymise_person(session: AsyncSession, person: Person) -> None:
    """Replace a person record's identifying details; their match keys (derived from them) go."""
    await _replace_with_parts(session, person, PERSON)
    await session.execute(sa.delete(PersonMatchKey).where(PersonMatchKey.person_id == person.id))


async def forget_stored_answers(session: AsyncSession, record_id: uuid.UUID) -> None:
    """Stored idempotent answers that created the record hold its personal data as it was sent: they
    are a short-lived cache (``MASH_IDEMPOTENCY_TTL_HOURS``), not a record, and go with it."""
    await session.execute(
        sa.delete(IdempotencyRecord).where(
            sa.cast(IdempotencyRecord.records, sa.String).contains(str(record_id))
        )
    )
