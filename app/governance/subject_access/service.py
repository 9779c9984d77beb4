"""Subject access: logging a request with its statutory due date, and the export that answers it.

What the export withholds, and why:

* **Restricted contributions** (``restricted_contribution``): an agency's answer marked restricted
  (e.g. police intelligence that must not reach the family) is left out whole, request and all, with
  the disclosure log entries of that request (that the agency was asked would point at the answer);
  an earlier restricted version of an answer that is now open is left out on its own.
* **Third parties** (``third_party``): other people's personal data — the other children named on the
  person's referrals, household members, brothers and sisters linked to the record, a private
  individual who made a referral (CIN sources 1A, 1B, 1D, 9, 10, as the public's front door derives them)
  or raised a concern (one who gives a relationship to the adult: a member of the public, named or not,
  unless the adult themselves), the person alleged to have caused harm, the people consulted on a best
  interests decision and the people a plan names to protect the adult. Professionals acting in their
  role (a referring officer, the decision makers, advocates) are not withheld (ICO: staff acting in a
  professional capacity).

Free text (a concern summary, an agency's answer, a rationale) is given as recorded: it is about the
person, though it may mention others. The export is for the officer answering the request, who
reviews it and applies any exemption (e.g. DPA 2018 Sch 3 serious harm, Sch 2 crime) before release.

Who exports which side (``app.people.access``): nobody more than they could read record by record.
Children's social care exports the children's side, adult social care the adults' side; the
council-wide export of both, which answers a subject access request to the council as one controller,
needs ``subject_access:export`` (information governance). The side not covered is not read at all:
it is null in the document, and nothing of it is counted as withheld (it is out of scope, not held
back). ``sides`` says which sides a document covers, so one side is never mistaken for the whole.
Partner agencies do not see the register: a person is not found.
"""

from __future__ import annotations

import calendar
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.capacity.schemas import AbilityOut
from app.adults.concerns import views as concern_views
from app.adults.concerns.schemas import AdvocacyOut, ConcernInformationOut
from app.adults.concerns.views import decision_out
from app.adults.plans.schemas import ClosureOut, ReviewOut
from app.adults.reviews import views as reviews
from app.children.assessments.views import assessment_out
from app.children.codes import ReferralSource
from app.children.contributions.schemas import ResponseVersion
from app.children.decisions import service as decision_views
from app.children.protection.views import discussion_about, enquiry_out
from app.children.referrals import views as referral_views
from app.children.referrals.schemas import CommunicationOut, ReferralInformationOut
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.clock import WorkingClock, today
from app.core.errors import InsufficientScope, NotFound, ValidationFailed
from app.core.pagination import PageParams
from app.core.rendering import from_record
from app.core.scopes import Scope
from app.documents import access as document_access
from app.governance.subject_access import repository
from app.governance.subject_access.repository import (
    AdultsHoldings,
    ChildrensHoldings,
    Holdings,
    RequestFilters,
)
from app.governance.subject_access.schemas import (
    AdultsRecords,
    AdvocacyRecord,
    AdvocateRef,
    AllegationRecord,
    BestInterestsRecord,
    CapacityRecord,
    ChildrensRecords,
    ConcernRecord,
    ContributionRecord,
    EnquiryRecord,
    ExportDocument,
    ExportPerson,
    NamedAs,
    PlanActionRecord,
    PlanRecord,
    RecordedBy,
    ReferralRecord,
    RequesterOut,
    SubjectAccessExport,
    SubjectAccessRequestIn,
    SubjectAccessRequestOut,
    SubjectAccessStatus,
    Withheld,
    WithheldCount,
    WithheldKind,
    WithheldReason,
)
from app.models.adult import AdultConcern, CapacityAssessment, SafeguardingPlan
from app.models.base import utcnow
from app.models.disclosure import SubjectAccessRequest
from app.models.person import Person
from app.models.referral import Referral
from app.people import access
from app.people import repository as people_repository
from app.people.access import RecordSide
from app.people.disclosures import service as disclosures
from app.people.disclosures.schemas import disclosure_out
from app.public.codes import RaiserRelationship

REQUEST_RECORD_TYPE = "subject_access_request"
EXPORT_RECORD_TYPE = "person"
# Referral sources that are private individuals (or unknown): their details are a third party's.
PRIVATE_SOURCES = frozenset(
    {
        ReferralSource.FAMILY,
        ReferralSource.ACQUAINTANCE,
        ReferralSource.OTHER_INDIVIDUAL,
        ReferralSource.ANONYMOUS,
        ReferralSource.UNKNOWN,
    }
)
# The statutory calendar: weekends and England & Wales bank holidays, whatever the hub's own settings.
STATUTORY_CALENDAR = WorkingClock()


# ---------------------------------------------------------------------------------------------------
# The due date


def one_calendar_month_after(received_on: date) -> date:
    """The corresponding date in the next month, or that month's last day when it has none
    (31 January → 28 or 29 February)."""
    year, month = (
        (received_on.year + 1, 1) if received_on.month == 12 else (received_on.year, received_on.month + 1)
    )
    return date(year, month, min(received_on.day, calendar.monthrange(year, month)[1]))


def due_on(received_on: date) -> date:
    """UK GDPR Art 12(3), as the ICO applies it: one calendar month from the day of receipt, moved to
    the next working day when that falls on a weekend or a bank holiday."""
    due = one_calendar_month_after(received_on)
    while not STATUTORY_CALENDAR.is_working_day(due):
        due += timedelta(days=1)
    return due


# ---------------------------------------------------------------------------------------------------
# Requests


def request_out(sar: SubjectAccessRequest) -> SubjectAccessRequestOut:
    return SubjectAccessRequestOut.model_validate(
        {
            "id": sar.id,
            "person_id": sar.person_id,
            "received_on": sar.received_on,
            "due_on": sar.due_on,
            "overdue": sar.status == SubjectAccessStatus.OPEN and sar.due_on < today(),
            "status": sar.status,
            "requester": RequesterOut.model_validate(
                {**sar.requester, "relationship": sar.requester_relationship}
            ),
            "identity_verified": sar.identity_verified,
            "authority_confirmed": sar.authority_confirmed,
            "logged_by": sar.logged_by,
            "logged_by_agency": sar.logged_by_agency,
            "created_at": sar.created_at,
            "fulfilled_at": sar.fulfilled_at,
            "fulfilled_by": sar.fulfilled_by,
        }
    )


def _audit_request(
    session: AsyncSession, actor: Principal, action: AuditAction, sar: SubjectAccessRequest
) -> None:
    audit.record(session, actor, action, REQUEST_RECORD_TYPE, sar.id, person_id=sar.person_id)


async def _person(session: AsyncSession, actor: Principal, person_id: uuid.UUID) -> Person:
    person = await people_repository.get_readable(session, actor, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


async def log_request(
    session: AsyncSession, actor: Principal, person_id: uuid.UUID, body: SubjectAccessRequestIn
) -> SubjectAccessRequest:
    person = await _person(session, actor, person_id)
    sar = SubjectAccessRequest(
        id=uuid.uuid4(),
        person_id=person.id,
        received_on=body.received_on,
        due_on=due_on(body.received_on),
        requester=body.requester.model_dump(mode="json", exclude={"relationship"}, exclude_none=True),
        requester_relationship=body.requester.relationship,
        identity_verified=body.identity_verified,
        authority_confirmed=body.authority_confirmed,
        status=SubjectAccessStatus.OPEN,
        logged_by=actor.sub,
        logged_by_agency=actor.agency,
        created_at=utcnow(),
    )
    session.add(sar)
    await session.flush()
    _audit_request(session, actor, AuditAction.CREATE, sar)
    return sar


async def read_request(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID
) -> SubjectAccessRequest:
    sar = await repository.get(session, actor, request_id)
    if sar is None:
        raise NotFound("subject access request", request_id)
    _audit_request(session, actor, AuditAction.READ, sar)
    return sar


async def list_requests(
    session: AsyncSession, actor: Principal, filters: RequestFilters, params: PageParams
) -> tuple[list[SubjectAccessRequest], str | None]:
    found, next_cursor = await repository.list_requests(session, actor, filters, params, today())
    audit.record_list(
        session,
        actor,
        REQUEST_RECORD_TYPE,
        "request_ids",
        (r.id for r in found),
        (r.person_id for r in found),
    )
    return found, next_cursor


# ---------------------------------------------------------------------------------------------------
# The export


class Tally:
    """What was withheld, by reason and kind: counts only."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[WithheldReason, WithheldKind]] = Counter()
        self.records: set[uuid.UUID] = set()  # records withheld whole

    def add(self, reason: WithheldReason, kind: WithheldKind, n: int = 1) -> None:
        if n > 0:
            self.counts[(reason, kind)] += n

    def third_party(self, kind: WithheldKind, n: int = 1) -> None:
        self.add(WithheldReason.THIRD_PARTY, kind, n)

    def withheld(self) -> Withheld:
        by_reason = dict.fromkeys(WithheldReason, 0)
        for (reason, _), n in self.counts.items():
            by_reason[reason] += n
        return Withheld(
            total=sum(self.counts.values()),
            by_reason=by_reason,
            items=[
                WithheldCount(reason=reason, kind=kind, count=n)
                for (reason, kind), n in sorted(self.counts.items())
            ],
        )


def _referral(referral: Referral, held: ChildrensHoldings, tally: Tally) -> ReferralRecord:
    tally.third_party(WithheldKind.OTHER_CHILD, held.other_children.get(referral.id, 0))
    tally.third_party(WithheldKind.HOUSEHOLD_MEMBER, held.household.get(referral.id, 0))
    referrer: dict[str, Any] | None = referral.referrer
    if referral.referral_source in PRIVATE_SOURCES:
        referrer = None
        tally.third_party(WithheldKind.REFERRER)
    contributions = []
    for contribution in held.contributions.get(referral.id, []):
        if contribution.restricted:
            tally.add(WithheldReason.RESTRICTED_CONTRIBUTION, WithheldKind.CONTRIBUTION)
            tally.records.add(contribution.id)
            continue
        versions = held.answers.get(contribution.id, [])
        open_versions = [v for v in versions if not v.restricted]
        tally.add(
            WithheldReason.RESTRICTED_CONTRIBUTION,
            WithheldKind.CONTRIBUTION_VERSION,
            len(versions) - len(open_versions),
        )
        contributions.append(
            from_record(
                ContributionRecord,
                contribution,
                answers=[ResponseVersion.model_validate(v) for v in open_versions],
            )
        )
    named = held.named[referral.id]
    enquiries = held.enquiries.get(referral.id, [])
    discussions = [discussion_about(d, named, enquiries) for d in held.discussions.get(referral.id, [])]
    return ReferralRecord.model_validate(
        {
            "id": referral.id,
            "received_at": referral.received_at,
            "status": referral.status,
            "referring_agency": referral.referring_agency,
            "referral_source": referral.referral_source,
            "referrer": referrer,
            "named_as": NamedAs.model_validate(named),
            "concern_categories": referral.concern_categories,
            "concern_summary": referral.concern_summary,
            "parental_consent": referral_views.consent(referral),
            "consent_override": referral_views.consent_override(referral),
            "do_not_inform_parents": referral.do_not_inform_parents,
            "do_not_inform_reason": referral.do_not_inform_reason,
            "rag": referral_views.rag(referral),
            "outcome": referral_views.outcome(referral),
            "withdrawal": referral_views.withdrawal(referral),
            "contributions": contributions,
            "threshold_decisions": [
                decision_views.decision_out(d, held.on_person.get(d.id, []))
                for d in held.decisions.get(referral.id, [])
            ],
            "communications": [
                CommunicationOut.model_validate(c) for c in held.communications.get(referral.id, [])
            ],
            "external_reference": referral.external_reference,
            "additional_information": [
                ReferralInformationOut.model_validate(a) for a in held.additions.get(referral.id, [])
            ],
            "assessments": [assessment_out(a, named) for a in held.assessments.get(referral.id, [])],
            "strategy_discussions": [d for d in discussions if d is not None],
            "section_47_enquiries": [enquiry_out(e, named) for e in enquiries],
        }
    )


def _concern(concern: AdultConcern, held: AdultsHoldings, tally: Tally) -> ConcernRecord:
    raised_by: dict[str, Any] | None = concern.raised_by
    relationship = concern.raised_by.get("relationship_to_adult")
    # A relative, friend or neighbour, not a professional: a member of the public among them (named or
    # anonymous: who they are to the adult may name them), unless the adult raised it themselves.
    if relationship and not (concern.from_public and relationship == RaiserRelationship.SELF):
        raised_by = None
        tally.third_party(WithheldKind.CONCERN_RAISER)
    allegations = held.allegations.get(concern.id, [])
    tally.third_party(WithheldKind.ALLEGED_PERSON, sum(1 for a in allegations if a.alleged_person))
    decision = held.decisions.get(concern.id)
    enquiry = held.enquiries.get(concern.id)
    return ConcernRecord.model_validate(
        {
            "id": concern.id,
            "received_at": concern.received_at,
            "status": concern.status,
            "raising_agency": concern.raising_agency,
            "raised_by": raised_by,
            "named_as": {
                "given_name": concern.given_name,
                "family_name": concern.family_name,
                "date_of_birth": concern.date_of_birth,
                "expected_date_of_birth": None,
                "nhs_number": concern.nhs_number,
                "address_lines": concern.address_lines,
                "postcode": concern.postcode,
                "gender": concern.gender,
                "ethnicity": concern.ethnicity,
            },
            "primary_support_reason": concern.primary_support_reason,
            "allegations": [AllegationRecord.model_validate(a) for a in allegations],
            "adult_views": concern.adult_views,
            "desired_outcomes": concern.desired_outcomes,
            "consent_to_share": concern.consent_to_share,
            "concerns_about_capacity": concern.concerns_about_capacity,
            "section_42_decision": None if decision is None else decision_out(decision),
            "enquiry": None if enquiry is None else EnquiryRecord.model_validate(enquiry),
            "advocacy": [
                AdvocacyRecord(
                    **AdvocacyOut.model_validate(advocacy).model_dump(),
                    advocate=None if advocate is None else AdvocateRef.model_validate(advocate),
                )
                for advocacy, advocate in held.advocacy.get(concern.id, [])
            ],
            "closed_at": concern.closed_at,
            "closure_reason": concern.closure_reason,
            "withdrawal": concern_views.withdrawal(concern),
            "external_reference": concern.external_reference,
            "additional_information": [
                ConcernInformationOut.model_validate(a) for a in held.concern_additions.get(concern.id, [])
            ],
        }
    )


def _assessment(assessment: CapacityAssessment, held: AdultsHoldings, tally: Tally) -> CapacityRecord:
    decision = held.best_interests.get(assessment.id)
    best_interests = None
    if decision is not None:
        tally.third_party(WithheldKind.BEST_INTERESTS_CONSULTEE, len(decision.consultees))
        best_interests = BestInterestsRecord.model_validate(decision)
    return CapacityRecord.model_validate(
        {
            "id": assessment.id,
            "concern_id": assessment.concern_id,
            "decision": assessment.decision,
            "relevant_information": assessment.relevant_information,
            "support_provided": assessment.support_provided,
            "understand": AbilityOut.model_validate(assessment.understand),
            "retain": AbilityOut.model_validate(assessment.retain),
            "use_or_weigh": AbilityOut.model_validate(assessment.use_or_weigh),
            "communicate": AbilityOut.model_validate(assessment.communicate),
            "impairment": assessment.impairment,
            "causative_link": assessment.causative_link,
            "outcome": assessment.outcome,
            "may_fluctuate": assessment.may_fluctuate,
            "assessed_at": assessment.assessed_at,
            "assessor": assessment.assessor,
            "best_interests_decision": best_interests,
        }
    )


def _plan(plan: SafeguardingPlan, held: AdultsHoldings, tally: Tally) -> PlanRecord:
    if plan.protective_people:
        tally.third_party(WithheldKind.PROTECTIVE_PEOPLE)
    closure = None
    if plan.closed_at is not None:
        closure = ClosureOut.model_validate(
            {
                "reason": plan.closure_reason,
                "adult_view": plan.closure_adult_view,
                "feedback_given": bool(plan.feedback_given),
                "sar_considered": bool(plan.sar_considered),
                "closed_by": plan.closed_by,
                "closed_at": plan.closed_at,
            }
        )
    return PlanRecord.model_validate(
        {
            "id": plan.id,
            "concern_id": plan.concern_id,
            "status": plan.status,
            "lead": plan.lead,
            "adult_wishes": plan.adult_wishes,
            "actions": [PlanActionRecord.model_validate(a) for a in held.actions.get(plan.id, [])],
            "contingency": plan.contingency,
            "review_due_on": plan.review_due_on,
            "reviews": [ReviewOut.model_validate(r) for r in held.reviews.get(plan.id, [])],
            "closure": closure,
            "created_by": plan.created_by,
            "created_at": plan.created_at,
        }
    )


def _documents(held: Holdings, tally: Tally) -> list[ExportDocument]:
    """The documents on the records given; a restricted contribution's are withheld with it."""
    restricted = {
        c.id
        for cs in (held.children.contributions.values() if held.children else [])
        for c in cs
        if c.restricted
    }
    out = []
    for document in held.documents:
        if document.contribution_id is not None and document.contribution_id in restricted:
            tally.add(WithheldReason.RESTRICTED_CONTRIBUTION, WithheldKind.DOCUMENT)
            continue
        parent_type, parent_id = document_access.parent_of(document)
        out.append(
            from_record(
                ExportDocument,
                document,
                parent_type=parent_type,
                parent_id=parent_id,
                content_url=f"/v1/documents/{document.id}/content",
            )
        )
    return out


def _record_counts(children: ChildrensRecords | None, adults: AdultsRecords | None) -> dict[str, int]:
    """How many records of each kind the export gives, for the sides it covers."""
    counts: dict[str, int] = {}
    if children is not None:
        referrals = children.referrals
        counts |= {
            "referrals": len(referrals),
            "contributions": sum(len(r.contributions) for r in referrals),
            "threshold_decisions": sum(len(r.threshold_decisions) for r in referrals),
            "communications": sum(len(r.communications) for r in referrals),
            "assessments": sum(len(r.assessments) for r in referrals),
            "strategy_discussions": sum(len(r.strategy_discussions) for r in referrals),
            "section_47_enquiries": sum(len(r.section_47_enquiries) for r in referrals),
        }
    if adults is not None:
        counts |= {
            "adult_concerns": len(adults.concerns),
            "capacity_assessments": len(adults.capacity_assessments),
            "safeguarding_plans": len(adults.safeguarding_plans),
            "safeguarding_adults_reviews": len(adults.safeguarding_adults_reviews),
        }
    return counts


def _children(held: ChildrensHoldings | None, tally: Tally) -> ChildrensRecords | None:
    if held is None:
        return None
    return ChildrensRecords(referrals=[_referral(r, held, tally) for r in held.referrals])


def _adults(held: AdultsHoldings | None, tally: Tally) -> AdultsRecords | None:
    if held is None:
        return None
    return AdultsRecords(
        concerns=[_concern(c, held, tally) for c in held.concerns],
        capacity_assessments=[_assessment(a, held, tally) for a in held.assessments],
        safeguarding_plans=[_plan(p, held, tally) for p in held.plans],
        safeguarding_adults_reviews=[reviews.out(r) for r in held.safeguarding_adults_reviews],
    )


def build_export(
    person: Person,
    held: Holdings,
    sides: frozenset[RecordSide],
    actor: Principal,
    sar: SubjectAccessRequest | None,
) -> SubjectAccessExport:
    tally = Tally()
    tally.third_party(WithheldKind.SIBLING, held.siblings)
    children = _children(held.children, tally)
    adults = _adults(held.adults, tally)
    documents = _documents(held, tally)
    # That the agency was asked would point at the withheld answer: its log entries are withheld too.
    recipients = [d for d in held.disclosures if d.record_id not in tally.records]
    tally.add(
        WithheldReason.RESTRICTED_CONTRIBUTION,
        WithheldKind.RECIPIENT,
        len(held.disclosures) - len(recipients),
    )
    return SubjectAccessExport(
        person=ExportPerson.model_validate(person),
        generated_at=utcnow(),
        generated_by=RecordedBy.model_validate(
            {"sub": actor.sub, "agency": actor.agency, "role": actor.role}
        ),
        subject_access_request=None if sar is None else request_out(sar),
        sides=access.in_order(sides),
        children=children,
        adults=adults,
        documents=documents,
        recipients=[disclosure_out(d, person.id) for d in recipients],
        withheld=tally.withheld(),
    )


async def _request_answered(
    session: AsyncSession, actor: Principal, person: Person, request_id: uuid.UUID | None
) -> SubjectAccessRequest | None:
    if request_id is None:
        return None
    sar = await repository.get(session, actor, request_id, for_update=True)
    if sar is None or sar.person_id != person.id:
        raise ValidationFailed(
            ["query", "request_id"], "No subject access request about this person with this id."
        )
    return sar


async def export(
    session: AsyncSession, actor: Principal, person_id: uuid.UUID, request_id: uuid.UUID | None
) -> SubjectAccessExport:
    person = await _person(session, actor, person_id)
    sides = access.sides(actor, Scope.SUBJECT_ACCESS_EXPORT)
    if not sides:  # the council without subject_access:export
        raise InsufficientScope([Scope.SUBJECT_ACCESS_EXPORT])
    sar = await _request_answered(session, actor, person, request_id)
    held = await repository.holdings(session, person.id, sides)
    # A request to the council is answered by the whole record: one side's export is logged against the
    # request (its disclosure entry names it) but leaves it open.
    if sar is not None and sar.status == SubjectAccessStatus.OPEN and sides >= access.BOTH_SIDES:
        sar.status = SubjectAccessStatus.FULFILLED
        sar.fulfilled_at = utcnow()
        sar.fulfilled_by = actor.sub
        await session.flush()
    document = build_export(person, held, sides, actor, sar)
    records = _record_counts(document.children, document.adults)
    await disclosures.exported(
        session,
        actor,
        person.id,
        subject_access_request_id=None if sar is None else sar.id,
        records=records,
        sides=sides,
    )
    audit.record(
        session,
        actor,
        AuditAction.EXPORT,
        EXPORT_RECORD_TYPE,
        person.id,
        person_id=person.id,
        details={
            "subject_access_request_id": None if sar is None else str(sar.id),
            "sides": [str(side) for side in document.sides],
            "records": records,
            "withheld": {str(reason): n for reason, n in document.withheld.by_reason.items()},
        },
    )
    return document
