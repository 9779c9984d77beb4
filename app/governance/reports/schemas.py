"""Report bodies: the CIN census referral items, the Safeguarding Adults Collection tables and the
timeliness report.

Each count table names every category of its code list, with 0 where nothing was counted, so that a
return can be filled in cell by cell without guessing whether a missing key means zero.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from app.children.codes import CensusSex, DecisionOutcome, PrimaryNeed, ReferralSource, ReferralStatus
from app.core.codes import RagRating
from app.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from app.core.schemas import Count, ResponseModel, example
from app.core.scopes import AgencyCode
from app.people.codes import Ethnicity, Gender

MAX_DUE_SOON_HOURS = 720  # 30 days

# ---------------------------------------------------------------------------------------------------
# Children in Need census: referral items

_CIN_ITEM = {
    "referral_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
    "referral_child_id": "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "date_of_birth": "2018-03-14",
    "expected_date_of_birth": None,
    "gender": "female",
    "sex": "F",
    "ethnicity": "WBRI",
    "referral_date": "2026-05-04",
    "received_at": "2026-05-04T09:12:00Z",
    "referral_source": "6",
    "status": "decided",
    "outcome": "child_and_family_assessment",
    "decided_at": "2026-05-05T10:40:00Z",
    "nfa": False,
    "primary_need": "N1",
}


class CinReferralItem(ResponseModel):
    """One child accepted as a referral (the CIN census meaning), with the referral-level items of the
    Children in Need census from the approved decision on that child.

    Children are identified as the census identifies them (the hub's person id stands for the LA
    child id), not by name: the census collects no names.
    """

    model_config = example(_CIN_ITEM)

    referral_id: uuid.UUID
    referral_child_id: uuid.UUID = Field(description="The child as named in this referral.")
    person_id: uuid.UUID | None = Field(
        description="The LA child id: the person record the child is linked to; null while a match is pending."
    )
    date_of_birth: date | None
    expected_date_of_birth: date | None = Field(description="For an unborn child.")
    gender: Gender | None = Field(description="As the hub records it.")
    sex: CensusSex | None = Field(
        description=(
            "The census `Sex`: male M, female F; other and not_known U (the census has no other); an unborn "
            "child U; null when no gender is recorded (validation rule 4180)."
        )
    )
    ethnicity: Ethnicity | None = Field(description="DfE ethnicity code.")
    referral_date: date = Field(description="CIN referral date: the date received, in England.")
    received_at: datetime
    referral_source: ReferralSource
    status: ReferralStatus
    outcome: DecisionOutcome = Field(description="The approved threshold decision's outcome for this child.")
    decided_at: datetime
    nfa: bool = Field(
        description="CIN `ReferralNFA`: true when this child's referral led to no further action (their own outcome)."
    )
    primary_need: PrimaryNeed | None = Field(
        description="CIN primary need of this child; required unless NFA, which may carry one."
    )


class CinReferralPage(ResponseModel):
    """A page of CIN referral items, oldest referral first."""

    items: list[CinReferralItem] = Field(max_length=MAX_LIMIT)
    next_cursor: str | None = Field(
        max_length=MAX_CURSOR_LENGTH,
        description="Pass as `cursor` to get the next page; null on the last page.",
    )


class CinValidationFinding(ResponseModel):
    """A census item that breaks a CIN census validation rule: which rule, in the validator's words,
    and which child of which referral to put right."""

    model_config = example(
        {
            "rule": "8610",
            "message": "Primary Need code is missing for a referral which led to further action.",
            "referral_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
            "child_id": "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
        }
    )

    rule: str = Field(
        max_length=8,
        pattern=r"^[0-9]{3,4}Q?$",
        description="The census validation rule's number (Q: a query).",
    )
    message: str = Field(max_length=300, description="The rule, as the census validator words it.")
    referral_id: uuid.UUID
    child_id: uuid.UUID = Field(description="The child as named in the referral (`children[].id`).")


class CinValidationPage(ResponseModel):
    """A page of findings, in the order of the census items (oldest referral first), then of the rules."""

    items: list[CinValidationFinding] = Field(max_length=MAX_LIMIT)
    next_cursor: str | None = Field(
        max_length=MAX_CURSOR_LENGTH,
        description="Pass as `cursor` to get the next page; null on the last page.",
    )


# ---------------------------------------------------------------------------------------------------
# Safeguarding Adults Collection: count tables


class AgeBandCounts(ResponseModel):
    """By age on the last day of the reporting year (31 March)."""

    aged_18_to_64: Count
    aged_65_to_74: Count
    aged_75_to_84: Count
    aged_85_to_94: Count
    aged_95_and_over: Count
    not_known: Count


class GenderCounts(ResponseModel):
    male: Count
    female: Count
    not_known: Count = Field(description="Not known, not recorded, or `other` (SAC has no such category).")


class EthnicityCounts(ResponseModel):
    """SAC ethnicity bands, mapped from the DfE codes the hub records (see the operation's description)."""

    white: Count
    mixed_or_multiple: Count
    asian_or_asian_british: Count
    black_african_caribbean_or_black_british: Count
    other: Count
    refused: Count
    undeclared_or_not_known: Count


class PrimarySupportReasonCounts(ResponseModel):
    physical: Count
    sensory: Count
    memory_and_cognition: Count
    learning_disability: Count
    mental_health: Count
    social: Count
    no_support_reason: Count
    not_known: Count = Field(description="Not known, or not recorded.")


class TypeOfRiskCounts(ResponseModel):
    physical: Count
    sexual: Count
    psychological: Count
    financial_or_material: Count
    discriminatory: Count
    organisational: Count
    neglect_and_acts_of_omission: Count
    domestic_abuse: Count
    sexual_exploitation: Count
    modern_slavery: Count
    self_neglect: Count


class LocationOfRiskCounts(ResponseModel):
    own_home: Count
    in_the_community: Count
    in_a_community_service: Count
    care_home_nursing: Count
    care_home_residential: Count
    hospital_acute: Count
    hospital_mental_health: Count
    hospital_community: Count
    other: Count


class SourceOfRiskCounts(ResponseModel):
    service_provider: Count
    other_known_to_individual: Count
    other_unknown_to_individual: Count


class ResultCounts(ResponseModel):
    risk_identified_and_action_taken: Count
    risk_identified_and_no_action_taken: Count
    risk_assessment_inconclusive_and_action_taken: Count
    risk_assessment_inconclusive_and_no_action_taken: Count
    no_risk_identified_and_action_taken: Count
    no_risk_identified_and_no_action_taken: Count
    enquiry_ceased_at_individuals_request_and_no_action_taken: Count


class RiskOutcomeCounts(ResponseModel):
    risk_remained: Count
    risk_reduced: Count
    risk_removed: Count


class LackedCapacityCounts(ResponseModel):
    yes: Count
    no: Count
    dont_know: Count
    not_recorded: Count


class AdvocateSupportCounts(ResponseModel):
    yes: Count
    no: Count


class MspAskedCounts(ResponseModel):
    yes_outcomes_expressed: Count
    yes_no_outcomes_expressed: Count
    no: Count
    dont_know: Count
    not_recorded: Count


class MspOutcomesAchievedCounts(ResponseModel):
    fully: Count
    partially: Count
    not_achieved: Count


class Sg1Measure(ResponseModel):
    cases: Count = Field(description="Concerns raised, or enquiries started, in the year: every one counted.")
    individuals: Count = Field(description="Adults involved: each counted once, however many cases.")
    age_band: AgeBandCounts = Field(description="Individuals.")
    gender: GenderCounts = Field(description="Individuals.")
    ethnicity: EthnicityCounts = Field(description="Individuals.")
    primary_support_reason: PrimarySupportReasonCounts = Field(description="Individuals.")


class Sg1(ResponseModel):
    """SG1: concerns raised and enquiries started in the year, and the adults involved."""

    concerns: Sg1Measure
    section_42_enquiries: Sg1Measure
    other_enquiries: Sg1Measure


class Sg2Measure(ResponseModel):
    """Concluded enquiries; each breakdown counts an enquiry once under every category one of its
    allegations has, so an enquiry into two types of risk counts under both."""

    concluded: Count
    type_of_risk: TypeOfRiskCounts
    location_of_risk: LocationOfRiskCounts
    source_of_risk: SourceOfRiskCounts
    result: ResultCounts
    risk_outcome: RiskOutcomeCounts = Field(description="Only where a risk was identified.")


class Sg2(ResponseModel):
    """SG2: enquiries concluded in the year, by the risks their allegations concerned and what was found."""

    section_42_enquiries: Sg2Measure
    other_enquiries: Sg2Measure


class Sg3Measure(ResponseModel):
    concluded: Count
    lacked_capacity: LackedCapacityCounts
    advocate_support: AdvocateSupportCounts = Field(
        description="Of those who lacked capacity: supported by an advocate, family or friend."
    )


class Sg3(ResponseModel):
    """SG3: mental capacity in enquiries concluded in the year."""

    section_42_enquiries: Sg3Measure
    other_enquiries: Sg3Measure


class Sg4Measure(ResponseModel):
    concluded: Count
    msp_asked: MspAskedCounts = Field(description="Was the adult asked about the outcomes they wanted?")
    outcomes_achieved: MspOutcomesAchievedCounts = Field(
        description="Of those who expressed outcomes: were they achieved?"
    )


class Sg4(ResponseModel):
    """SG4: Making Safeguarding Personal, in enquiries concluded in the year."""

    section_42_enquiries: Sg4Measure
    other_enquiries: Sg4Measure


def _zeros(*names: str) -> dict[str, int]:
    return dict.fromkeys(names, 0)


_AGES = _zeros(
    "aged_18_to_64", "aged_65_to_74", "aged_75_to_84", "aged_85_to_94", "aged_95_and_over", "not_known"
)
_SG1_EXAMPLE = {
    "cases": 2,
    "individuals": 1,
    "age_band": {**_AGES, "aged_85_to_94": 1},
    "gender": {"male": 0, "female": 1, "not_known": 0},
    "ethnicity": {
        **_zeros(
            "mixed_or_multiple",
            "asian_or_asian_british",
            "black_african_caribbean_or_black_british",
            "other",
            "refused",
            "undeclared_or_not_known",
        ),
        "white": 1,
    },
    "primary_support_reason": {
        **_zeros(
            "physical",
            "sensory",
            "learning_disability",
            "mental_health",
            "social",
            "no_support_reason",
            "not_known",
        ),
        "memory_and_cognition": 1,
    },
}
_SG2_EXAMPLE = {
    "concluded": 1,
    "type_of_risk": {
        **_zeros(
            "physical",
            "sexual",
            "psychological",
            "discriminatory",
            "organisational",
            "domestic_abuse",
            "sexual_exploitation",
            "modern_slavery",
            "self_neglect",
        ),
        "financial_or_material": 1,
        "neglect_and_acts_of_omission": 1,
    },
    "location_of_risk": {
        **_zeros(
            "in_the_community",
            "in_a_community_service",
            "care_home_nursing",
            "care_home_residential",
            "hospital_acute",
            "hospital_mental_health",
            "hospital_community",
            "other",
        ),
        "own_home": 1,
    },
    "source_of_risk": {
        "service_provider": 0,
        "other_known_to_individual": 1,
        "other_unknown_to_individual": 0,
    },
    "result": {
        **_zeros(
            "risk_identified_and_no_action_taken",
            "risk_assessment_inconclusive_and_action_taken",
            "risk_assessment_inconclusive_and_no_action_taken",
            "no_risk_identified_and_action_taken",
            "no_risk_identified_and_no_action_taken",
            "enquiry_ceased_at_individuals_request_and_no_action_taken",
        ),
        "risk_identified_and_action_taken": 1,
    },
    "risk_outcome": {"risk_remained": 0, "risk_reduced": 1, "risk_removed": 0},
}
_SG3_EXAMPLE = {
    "concluded": 1,
    "lacked_capacity": {"yes": 1, "no": 0, "dont_know": 0, "not_recorded": 0},
    "advocate_support": {"yes": 1, "no": 0},
}
_SG4_EXAMPLE = {
    "concluded": 1,
    "msp_asked": {
        **_zeros("yes_no_outcomes_expressed", "no", "dont_know", "not_recorded"),
        "yes_outcomes_expressed": 1,
    },
    "outcomes_achieved": {"fully": 0, "partially": 1, "not_achieved": 0},
}


def _empty(example: dict[str, Any]) -> dict[str, Any]:
    return {k: 0 if isinstance(v, int) else dict.fromkeys(v, 0) for k, v in example.items()}


class SacReport(ResponseModel):
    """The Safeguarding Adults Collection tables SG1-SG4 for one reporting year."""

    model_config = example(
        {
            "year": 2026,
            "period_start": "2026-04-01",
            "period_end": "2027-03-31",
            "sg1": {
                "concerns": _SG1_EXAMPLE,
                "section_42_enquiries": {**_SG1_EXAMPLE, "cases": 1},
                "other_enquiries": _empty(_SG1_EXAMPLE),
            },
            "sg2": {"section_42_enquiries": _SG2_EXAMPLE, "other_enquiries": _empty(_SG2_EXAMPLE)},
            "sg3": {"section_42_enquiries": _SG3_EXAMPLE, "other_enquiries": _empty(_SG3_EXAMPLE)},
            "sg4": {"section_42_enquiries": _SG4_EXAMPLE, "other_enquiries": _empty(_SG4_EXAMPLE)},
        }
    )

    year: int = Field(ge=2015, le=2100, description="The reporting year starting 1 April of this year.")
    period_start: date = Field(description="1 April of `year`.")
    period_end: date = Field(description="31 March of the next year.")
    sg1: Sg1
    sg2: Sg2
    sg3: Sg3
    sg4: Sg4


# ---------------------------------------------------------------------------------------------------
# Timeliness


class DueCounts(ResponseModel):
    due: Count = Field(description="Open, deadline not yet passed.")
    due_soon: Count = Field(
        description="Of those due: the deadline falls within the `due_soon_hours` window."
    )
    overdue: Count = Field(description="Still open past the deadline stored with it.")


RagOrUnrated = RagRating | Literal["unrated"]


class RagDueCounts(DueCounts):
    rag: RagOrUnrated


class AgencyRagDueCounts(DueCounts):
    agency: AgencyCode = Field(description="The agency asked.")
    rag: RagOrUnrated = Field(description="The referral's RAG rating.")


class ReferralDecisionTimeliness(ResponseModel):
    total: DueCounts
    by_rag: list[RagDueCounts] = Field(
        max_length=len(RagRating) + 1, description="Every rating, and `unrated` for referrals not yet rated."
    )


class ContributionTimeliness(ResponseModel):
    total: DueCounts
    by_agency_and_rag: list[AgencyRagDueCounts] = Field(
        max_length=len(AgencyCode) * (len(RagRating) + 1),
        description="Only the agency and rating pairs with open requests, by agency then rating.",
    )


class ContactConversion(ResponseModel):
    """Contacts received in the period and how many children's social care accepted as referrals (the
    CIN census meaning), counted per contact: the contact-to-referral conversion rate."""

    received: Count = Field(description="Contacts received in the period (withdrawn ones left out).")
    decided: Count = Field(description="Of them, decided (a threshold decision approved).")
    accepted_as_referrals: Count = Field(
        description="Of them, accepted as a referral for at least one child (the decision accepted the child)."
    )
    children_accepted: Count = Field(
        description="Children accepted as referrals on them: the CIN census referral items of the period."
    )
    conversion_rate: float | None = Field(
        ge=0,
        le=1,
        description="accepted_as_referrals / received, to 3 decimal places; null when no contact was received.",
    )


def _due(due: int, soon: int, overdue: int) -> dict[str, int]:
    return {"due": due, "due_soon": soon, "overdue": overdue}


class ReportPeriod(ResponseModel):
    """The dates (in England, both included) the "in the period" counts cover."""

    model_config = example({"from": "2026-04-01", "to": "2026-11-24"})

    from_: date = Field(serialization_alias="from", description="First day.")
    to: date = Field(description="Last day, included.")


class OnTimeCounts(ResponseModel):
    on_time: Count = Field(description="Done at or before the deadline stored with the record.")
    late: Count = Field(description="Done after it.")


class DeadlineTimeliness(ResponseModel):
    open: DueCounts = Field(description="Referrals not yet decided or withdrawn, now.")
    decided: OnTimeCounts = Field(description="Referrals decided in the period.")


class ReferralDecisionDeadlines(ResponseModel):
    """Threshold decisions against both deadlines stored with each referral."""

    statutory: DeadlineTimeliness = Field(
        description="Against `statutory_decision_due_at`: one working day from receipt (Working Together), "
        "every referral."
    )
    rag_target: DeadlineTimeliness = Field(
        description="Against `rag_due_at`, the RAG target: referrals rated red, amber or green (unrated and "
        "blue referrals have none and count in neither column)."
    )


class AcknowledgementTimeliness(ResponseModel):
    """The referrer's contact acknowledged (the first communication with the referrer) against
    `acknowledgement_due_at`. Referrals received before acknowledgements were tracked have no deadline
    and are not counted."""

    open: DueCounts = Field(description="Not yet acknowledged (withdrawn referrals left out), now.")
    acknowledged: OnTimeCounts = Field(description="Acknowledged in the period.")


class TimelinessReport(ResponseModel):
    """What is open now against its deadline: threshold decisions on referrals, section 42 decisions on
    adult concerns, information requests to agencies, and safeguarding plan reviews."""

    model_config = example(
        {
            "as_of": "2026-11-24T10:00:00Z",
            "due_soon_hours": 24,
            "referral_decisions": {
                "total": _due(14, 9, 3),
                "by_rag": [
                    {"rag": "red", **_due(1, 1, 0)},
                    {"rag": "amber", **_due(4, 3, 1)},
                    {"rag": "green", **_due(6, 2, 1)},
                    {"rag": "blue", **_due(0, 0, 0)},
                    {"rag": "unrated", **_due(3, 3, 1)},
                ],
            },
            "adult_concern_decisions": _due(5, 2, 1),
            "contribution_requests": {
                "total": _due(9, 4, 2),
                "by_agency_and_rag": [
                    {"agency": "health", "rag": "amber", **_due(5, 2, 1)},
                    {"agency": "police", "rag": "red", **_due(4, 2, 1)},
                ],
            },
            "plan_reviews": _due(12, 1, 2),
            "period": {"from": "2026-04-01", "to": "2026-11-24"},
            "referral_decision_deadlines": {
                "statutory": {"open": _due(11, 7, 3), "decided": {"on_time": 812, "late": 37}},
                "rag_target": {"open": _due(6, 5, 5), "decided": {"on_time": 640, "late": 201}},
            },
            "referrer_acknowledgements": {
                "open": _due(4, 4, 1),
                "acknowledged": {"on_time": 790, "late": 22},
            },
            "contacts": {
                "received": 1200,
                "decided": 1150,
                "accepted_as_referrals": 420,
                "children_accepted": 610,
                "conversion_rate": 0.35,
            },
        }
    )

    as_of: datetime = Field(description="When the counts were taken: deadlines before it are overdue.")
    due_soon_hours: int = Field(ge=1, le=MAX_DUE_SOON_HOURS)
    referral_decisions: ReferralDecisionTimeliness = Field(
        description="Referrals not yet decided or withdrawn, against `decision_due_at`."
    )
    adult_concern_decisions: DueCounts = Field(
        description="Adult concerns awaiting their section 42 decision, against `decision_due_at`."
    )
    contribution_requests: ContributionTimeliness = Field(
        description="Information requests not yet answered (or cancelled), against their `due_at`."
    )
    plan_reviews: DueCounts = Field(
        description=(
            "Active safeguarding plans against `review_due_on`: overdue the day after it; due soon when it falls "
            "within the window (today counts)."
        )
    )
    period: ReportPeriod
    referral_decision_deadlines: ReferralDecisionDeadlines = Field(
        description="Threshold decisions against the statutory deadline and against the RAG target: open now, "
        "and decided in the period on time or late."
    )
    referrer_acknowledgements: AcknowledgementTimeliness
    contacts: ContactConversion = Field(
        description="Contacts received in the period, referrals accepted, and the contact-to-referral "
        "conversion rate."
    )
