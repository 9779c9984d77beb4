"""Writing the disclosure log (the rules are in ``app.people.disclosures``), and reading a person's log.

The services of each domain call the functions here at the point where information is given; each
call writes all its rows in one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus
from app.children.codes import ReferralStatus
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.context import current_request_id
from app.core.errors import InsufficientScope, NotFound
from app.core.pagination import PageParams
from app.core.scopes import Scope
from app.models.adult import AdultConcern, Enquiry, SafeguardingPlan
from app.models.base import utcnow
from app.models.disclosure import Disclosure
from app.models.referral import Contribution, Referral
from app.people import access
from app.people import repository as people_repository
from app.people.access import RecordSide
from app.people.disclosures import repository
from app.people.disclosures.codes import (
    SAFEGUARDING_CONDITION,
    DisclosureBasis,
    DisclosurePurpose,
    DisclosureTrigger,
    RecipientType,
)
from app.people.disclosures.repository import DisclosureFilters, encode_sides

RECORD_TYPE = "disclosure"


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a disclosure is about: the person record, and/or the row that names them on a case."""

    person_id: uuid.UUID | None = None
    referral_child_id: uuid.UUID | None = None
    adult_concern_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Basis:
    lawful_basis: str
    special_category_condition: str | None = None


SAFEGUARDING = Basis(DisclosureBasis.PUBLIC_TASK, SAFEGUARDING_CONDITION)
RIGHT_OF_ACCESS = Basis(DisclosureBasis.LEGAL_OBLIGATION)


class SharedReferral(Protocol):
    """What the disclosure log needs of a referral whose contents are shared: its ORM record or a row
    read to show it."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def parents_consented(self) -> bool: ...
    @property
    def consent_override_at(self) -> datetime | None: ...
    @property
    def consent_override_basis(self) -> str | None: ...
    @property
    def consent_override_special_category(self) -> str | None: ...


def referral_basis(referral: SharedReferral) -> Basis:
    """The basis on which the hub shares what a referral says: the parents' consent, or the manager's
    override (its own Art 6 basis and Art 9 condition)."""
    if referral.parents_consented:
        return Basis(DisclosureBasis.CONSENT)
    if referral.consent_override_at is not None and referral.consent_override_basis is not None:
        return Basis(referral.consent_override_basis, referral.consent_override_special_category)
    return SAFEGUARDING  # not reached for requests: agencies are not asked without one of the two


def _rows(
    actor: Principal,
    subjects: Iterable[Subject],
    *,
    record_type: str,
    record_id: uuid.UUID,
    trigger: DisclosureTrigger,
    recipient_agency: str | None,
    purpose: DisclosurePurpose,
    basis: Basis,
    subject_access_request_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "id": uuid.uuid4(),
            "person_id": s.person_id,
            "referral_child_id": s.referral_child_id,
            "adult_concern_id": s.adult_concern_id,
            "record_type": record_type,
            "record_id": record_id,
            "trigger": str(trigger),
            "recipient_type": str(RecipientType.AGENCY if recipient_agency else RecipientType.DATA_SUBJECT),
            "recipient_agency": recipient_agency,
            "purpose": str(purpose),
            "lawful_basis": str(basis.lawful_basis),
            "special_category_condition": None
            if basis.special_category_condition is None
            else str(basis.special_category_condition),
            "disclosed_at": now,
            "actor_sub": actor.sub,
            "actor_agency": str(actor.agency),
            "actor_role": str(actor.role),
            "request_id": current_request_id(),
            "subject_access_request_id": subject_access_request_id,
            "details": dict(details or {}),
        }
        for s in subjects
    ]


class ChildSubject(Protocol):
    """A child a referral names, as its record or as a row read back: the disclosure log needs which
    child and which person."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def person_id(self) -> uuid.UUID | None: ...


def _children(children: Sequence[ChildSubject]) -> list[Subject]:
    return [Subject(person_id=c.person_id, referral_child_id=c.id) for c in children]


async def _seen_by_actor(
    session: AsyncSession,
    actor: Principal,
    subjects: Iterable[Subject],
    *,
    record_type: str,
    record_id: uuid.UUID,
    purpose: DisclosurePurpose,
    basis: Basis,
    details: dict[str, Any] | None = None,
) -> None:
    """The actor's agency read a record: one row per subject, the agency as recipient."""
    rows = _rows(
        actor,
        subjects,
        record_type=record_type,
        record_id=record_id,
        trigger=DisclosureTrigger.READ,
        recipient_agency=actor.agency,
        purpose=purpose,
        basis=basis,
        details=details,
    )
    await repository.insert(session, rows)


# ---------------------------------------------------------------------------------------------------
# Children's records


async def children_named_to_agencies(
    session: AsyncSession,
    actor: Principal,
    referral: Referral,
    children: Sequence[ChildSubject],
    contributions: Sequence[Contribution],
) -> None:
    """The hub asked agencies about a referral: each asked agency learns each child's identity."""
    basis = referral_basis(referral)
    rows: list[dict[str, Any]] = []
    for contribution in contributions:
        rows += _rows(
            actor,
            _children(children),
            record_type="contribution",
            record_id=contribution.id,
            trigger=DisclosureTrigger.CONTRIBUTION_REQUEST,
            recipient_agency=contribution.agency,
            purpose=DisclosurePurpose.MASH_INFORMATION_REQUEST,
            basis=basis,
            details={"referral_id": str(referral.id)},
        )
    await repository.insert(session, rows)


async def referral_seen_by_partner(
    session: AsyncSession,
    actor: Principal,
    referral: SharedReferral,
    children: Sequence[ChildSubject],
    *,
    asked: bool,
    record_type: str = "referral",
    record_id: uuid.UUID | None = None,
) -> None:
    """A partner agency opened a referral (or its timeline, or a request on it). ``asked``: it sees it
    as an agency asked for information; otherwise as the referring agency."""
    if actor.is_childrens_hub:
        return  # the hub's own case record
    if asked:
        purpose, basis = DisclosurePurpose.MASH_INFORMATION_REQUEST, referral_basis(referral)
    elif referral.status != ReferralStatus.RECEIVED:
        # The referrer sees what it sent plus the hub's status, rating and outcome: the hub's part is
        # disclosed once there is one.
        purpose, basis = DisclosurePurpose.REFERRER_FEEDBACK, SAFEGUARDING
    else:
        return
    await _seen_by_actor(
        session,
        actor,
        _children(children),
        record_type=record_type,
        record_id=record_id or referral.id,
        purpose=purpose,
        basis=basis,
        details={} if record_id is None else {"referral_id": str(referral.id)},
    )


# ---------------------------------------------------------------------------------------------------
# Adults' records


async def concern_seen_by_raiser(session: AsyncSession, actor: Principal, concern: AdultConcern) -> None:
    if concern.status == AdultConcernStatus.RECEIVED:
        return  # nothing of adult social care's in it yet
    await _adults_record_seen(
        session, actor, _adult(concern), "adult_concern", concern.id, DisclosurePurpose.REFERRER_FEEDBACK
    )


async def enquiry_seen_by_partner(
    session: AsyncSession, actor: Principal, enquiry: Enquiry, concern: AdultConcern
) -> None:
    purpose = DisclosurePurpose.SAFEGUARDING_ENQUIRY
    details = {"concern_id": str(concern.id)}
    await _adults_record_seen(session, actor, _adult(concern), "enquiry", enquiry.id, purpose, details)


async def plan_seen_by_action_owner(session: AsyncSession, actor: Principal, plan: SafeguardingPlan) -> None:
    subject = Subject(person_id=plan.person_id)
    purpose = DisclosurePurpose.SAFEGUARDING_PLAN_ACTION
    await _adults_record_seen(session, actor, subject, "safeguarding_plan", plan.id, purpose)


def _adult(concern: AdultConcern) -> Subject:
    return Subject(person_id=concern.person_id, adult_concern_id=concern.id)


async def _adults_record_seen(
    session: AsyncSession,
    actor: Principal,
    subject: Subject,
    record_type: str,
    record_id: uuid.UUID,
    purpose: DisclosurePurpose,
    details: dict[str, Any] | None = None,
) -> None:
    """Another agency read a record of adult social care's about ``subject``: a disclosure on the
    safeguarding basis. Adult social care reading its own record discloses nothing."""
    if actor.is_adults_hub:
        return
    await _seen_by_actor(
        session,
        actor,
        [subject],
        record_type=record_type,
        record_id=record_id,
        purpose=purpose,
        basis=SAFEGUARDING,
        details=details,
    )


# ---------------------------------------------------------------------------------------------------
# Subject access


async def document_downloaded(
    session: AsyncSession,
    actor: Principal,
    *,
    record_type: str,
    document_id: uuid.UUID,
    children: Sequence[ChildSubject] = (),
    concern: AdultConcern | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The actor's agency downloaded a document another agency uploaded, on a referral or contribution
    (``children``: the referral's) or on a concern or enquiry (``concern``)."""
    subjects = _children(children)
    if concern is not None:
        subjects.append(Subject(person_id=concern.person_id, adult_concern_id=concern.id))
    await _seen_by_actor(
        session,
        actor,
        subjects,
        record_type=record_type,
        record_id=document_id,
        purpose=DisclosurePurpose.CASE_DOCUMENT,
        basis=SAFEGUARDING,
        details=details,
    )


async def exported(
    session: AsyncSession,
    actor: Principal,
    person_id: uuid.UUID,
    *,
    subject_access_request_id: uuid.UUID | None,
    records: dict[str, int],
    sides: frozenset[RecordSide],
) -> None:
    """A subject access export: everything included in it given to the data subject. ``sides``: the
    sides of the record it covered, which decide who sees this entry (``repository.on_sides``)."""
    rows = _rows(
        actor,
        [Subject(person_id=person_id)],
        record_type="person",
        record_id=person_id,
        trigger=DisclosureTrigger.EXPORT,
        recipient_agency=None,
        purpose=DisclosurePurpose.SUBJECT_ACCESS_REQUEST,
        basis=RIGHT_OF_ACCESS,
        subject_access_request_id=subject_access_request_id,
        details={"records": records, "sides": encode_sides(sides)},
    )
    await repository.insert(session, rows)


# ---------------------------------------------------------------------------------------------------
# Reading the log


async def for_person(
    session: AsyncSession,
    actor: Principal,
    person_id: uuid.UUID,
    filters: DisclosureFilters,
    params: PageParams,
) -> tuple[list[Disclosure], str | None]:
    """The person's log as the caller may read it: a lead agency the disclosures of its own side's
    records, information governance (``disclosures:read``) all of them."""
    if await people_repository.get_readable(session, actor, person_id) is None:
        raise NotFound("person", person_id)
    sides = access.sides(actor, Scope.DISCLOSURES_READ)
    if not sides:  # the council without disclosures:read
        raise InsufficientScope([Scope.DISCLOSURES_READ])
    found, next_cursor = await repository.for_person(session, person_id, sides, filters, params)
    audit.record(
        session,
        actor,
        AuditAction.LIST,
        RECORD_TYPE,
        person_id=person_id,
        details={"disclosure_ids": [str(d.id) for d in found]},
    )
    return found, next_cursor
