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

from app.children.codes import AssessmentFactor, DecisionOutcome, PrimaryNeed, ReferralSource, ReferralStatus
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
    "ethnicity": "WBRI",
    "referral_date": "2026-05-04",
    "received_at": "2026-05-04T09:12:00Z",
    "referral_source": "6",
    "status": "decided",
    "outcome": "child_and_family_assessment",
    "decided_at": "2026-05-05T10:40:00Z",
    "nfa": False,
    "primary_need": "N1",
    "assessment_factors": ["3A", "16A"],
}


class CinReferralItem(ResponseModel):
    """One child of one referral, with the referral-level items of the Children in Need census.

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
    gender: Gender | None
    ethnicity: Ethnicity | None = Field(description="DfE ethnicity code.")
    referral_date: date = Field(description="CIN referral date: the date received, in England.")
    received_at: datetime
    referral_source: ReferralSource
    status: ReferralStatus
    outcome: DecisionOutcome | None = Field(description="The approved threshold decision's outcome.")
    decided_at: datetime | None
    nfa: bool | None = Field(
        description="CIN NFA flag: true when the referral led to no further assessment; null until decided."
    )
    primary_need: PrimaryNeed | None = Field(description="CIN primary need; none for an NFA referral.")
    assessment_factors: list[AssessmentFactor] = Field(
        max_length=len(AssessmentFactor),
        description="CIN assessment factors recorded with the decision; empty when none or undecided.",
    )


class CinReferralPage(ResponseModel):
    """A page of CIN referral items, oldest referral first."""

    items: list[CinReferralItem] = Field(max_length=MAX_LIMIT)
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


# After the decision: assessments and initial child protection conferences (app.governance.reports.pathway).


class ReportPeriod(ResponseModel):
    model_config = example({"from": "2026-04-01", "to": "2026-12-05"})

    from_: date = Field(alias="from", description="First day counted (a date in England).")
    to: date = Field(description="Last day counted, included.")


class OnTimeCounts(ResponseModel):
    within: Count = Field(description="Done in the period by the due date stored with it.")
    late: Count = Field(description="Done in the period after the due date.")


class AssessmentTimeliness(ResponseModel):
    open: DueCounts = Field(description="Assessments not yet completed, against `due_on`.")
    completed: OnTimeCounts = Field(
        description="Assessments completed in the period: within 45 working days of the referral, or late."
    )


class ConferenceTimeliness(ResponseModel):
    awaiting: DueCounts = Field(
        description=(
            "Section 47 enquiries whose initial child protection conference may still be due (no outcome yet, "
            "or a conference called and not held), against `icpc_due_on`."
        )
    )
    held: OnTimeCounts = Field(
        description="Conferences held in the period: within 15 working days of the strategy discussion, or late."
    )


def _due(due: int, soon: int, overdue: int) -> dict[str, int]:
    return {"due": due, "due_soon": soon, "overdue": overdue}


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
            "assessments": {"open": _due(31, 4, 2), "completed": {"within": 120, "late": 17}},
            "initial_child_protection_conferences": {
                "awaiting": _due(6, 2, 1),
                "held": {"within": 41, "late": 5},
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
    period: ReportPeriod = Field(description="The days counted for work done (`from`, `to`).")
    assessments: AssessmentTimeliness = Field(
        description="Child and family assessments, due 45 working days after the referral (`due_on`)."
    )
    initial_child_protection_conferences: ConferenceTimeliness = Field(
        description="Initial child protection conferences, due 15 working days after the strategy discussion."
    )
