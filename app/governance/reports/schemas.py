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

from app.children.codes import (
    AssessmentFactor,
    CategoryOfAbuse,
    CensusSex,
    DecisionOutcome,
    PrimaryNeed,
    ReasonForClosure,
    ReferralSource,
    ReferralStatus,
)
from app.core.codes import RagRating
from app.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from app.core.schemas import Count, ResponseModel, example
from app.core.scopes import AgencyCode
from app.people.codes import Ethnicity, Gender

MAX_DUE_SOON_HOURS = 720  # 30 days

# ---------------------------------------------------------------------------------------------------
# Children in Need census: referral items

_CIN_ITEM: dict[str, Any] = {
    "referral_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
    "referral_child_id": "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "la_child_id": "5B0D7C1E2F3A4B5C8D9E",
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
    "closure_date": None,
    "reason_for_closure": None,
}
_CIN_ASSESSMENT = {"start_date": "2026-05-05", "authorisation_date": "2026-06-12", "factors": ["3A", "16A"]}
_CIN_SECTION_47 = {
    "start_date": "2026-06-15",
    "icpc_target_date": "2026-07-06",
    "date_of_initial_cpc": "2026-07-03",
    "icpc_not_required": False,
}
_CIN_PLAN = {"start_date": "2026-07-03", "initial_category_of_abuse": "neglect"}
_CIN_ITEM |= {
    "assessments": [_CIN_ASSESSMENT],
    "section_47_enquiries": [_CIN_SECTION_47],
    "child_protection_plans": [_CIN_PLAN],
}


class CinAssessment(ResponseModel):
    """A census ``Assessments`` entry: a child and family assessment of the child."""

    model_config = example(_CIN_ASSESSMENT)

    start_date: date = Field(description="`AssessmentActualStartDate`.")
    authorisation_date: date | None = Field(
        description="`AssessmentAuthorisationDate`: the day it was completed; null while open."
    )
    factors: list[AssessmentFactor] = Field(
        max_length=len(AssessmentFactor),
        description="`AssessmentFactors` of a completed assessment; empty while open.",
    )


class CinSection47(ResponseModel):
    """A census ``Section47`` entry: a section 47 enquiry about the child."""

    model_config = example(_CIN_SECTION_47)

    start_date: date = Field(description="`S47ActualStartDate`: the day of the strategy discussion.")
    icpc_target_date: date = Field(
        description="`InitialCPCtarget`: 15 working days after the strategy discussion (`icpc_due_on`)."
    )
    date_of_initial_cpc: date | None = Field(description="`DateOfInitialCPC`: null until it is held.")
    icpc_not_required: bool = Field(
        description="`ICPCnotRequired`: the enquiry concluded without calling a conference."
    )


class CinChildProtectionPlan(ResponseModel):
    """A census ``ChildProtectionPlans`` entry: a plan made by an initial child protection conference."""

    model_config = example(_CIN_PLAN)

    start_date: date = Field(description="`CPPstartDate`: the day of the conference that made it.")
    initial_category_of_abuse: CategoryOfAbuse | None = Field(description="`InitialCategoryOfAbuse`.")


class CinReferralItem(ResponseModel):
    """One child accepted as a referral (the CIN census meaning), with the referral-level items of the
    Children in Need census from the approved decision on that child.

    Children are identified as the census identifies them (``la_child_id``, the LA child id, and the
    hub's person id it stands for), not by name: the census collects no names.
    """

    model_config = example(_CIN_ITEM)

    referral_id: uuid.UUID
    referral_child_id: uuid.UUID = Field(description="The child as named in this referral.")
    person_id: uuid.UUID | None = Field(
        description="The person record the child is linked to; null while a match is pending."
    )
    la_child_id: str | None = Field(
        max_length=64,
        description=(
            "The census `LAchildID` of that person: the council's own id where it has one, else the first "
            "20 hexadecimal digits of `person_id`, upper case (at most 20 letters and digits, rules 1570 "
            "and 1580); null while a match is pending (rule 8500)."
        ),
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
    closure_date: date | None = Field(
        description=(
            "`CINclosureDate`: the day the assessment that closed the case was completed (the child's latest "
            "completed assessment with a reason for closure); null while the case is open."
        )
    )
    reason_for_closure: ReasonForClosure | None = Field(
        description="`ReasonForClosure` of that assessment (RC8 no further action, RC9 early help, RC1-RC7)."
    )
    assessments: list[CinAssessment] = Field(
        max_length=1000, description="The child's assessments on this referral, earliest first."
    )
    section_47_enquiries: list[CinSection47] = Field(
        max_length=1000, description="The child's section 47 enquiries on this referral, earliest first."
    )
    child_protection_plans: list[CinChildProtectionPlan] = Field(
        max_length=1000,
        description="The plans their initial child protection conferences made, earliest first.",
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


class TypeBySourceCounts(ResponseModel):
    """SG2a: rows the type of risk, columns the source of risk."""

    physical: SourceOfRiskCounts
    sexual: SourceOfRiskCounts
    psychological: SourceOfRiskCounts
    financial_or_material: SourceOfRiskCounts
    discriminatory: SourceOfRiskCounts
    organisational: SourceOfRiskCounts
    neglect_and_acts_of_omission: SourceOfRiskCounts
    domestic_abuse: SourceOfRiskCounts
    sexual_exploitation: SourceOfRiskCounts
    modern_slavery: SourceOfRiskCounts
    self_neglect: SourceOfRiskCounts


class LocationBySourceCounts(ResponseModel):
    """SG2b: rows the location of risk, columns the source of risk."""

    own_home: SourceOfRiskCounts
    in_the_community: SourceOfRiskCounts
    in_a_community_service: SourceOfRiskCounts
    care_home_nursing: SourceOfRiskCounts
    care_home_residential: SourceOfRiskCounts
    hospital_acute: SourceOfRiskCounts
    hospital_mental_health: SourceOfRiskCounts
    hospital_community: SourceOfRiskCounts
    other: SourceOfRiskCounts


class CaseTotals(ResponseModel):
    cases: Count = Field(description="Concerns raised, or enquiries started, in the year: every one counted.")
    individuals: Count = Field(description="Adults involved: each counted once, however many cases.")


class Sg1ATable(ResponseModel):
    """SG1a: individuals (SG1f: cases too). By age on 31 March at the end of the year."""

    concerns: AgeBandCounts
    section_42_enquiries: AgeBandCounts
    other_enquiries: AgeBandCounts


class Sg1BTable(ResponseModel):
    """SG1b: individuals (SG1f: cases too). By gender."""

    concerns: GenderCounts
    section_42_enquiries: GenderCounts
    other_enquiries: GenderCounts


class Sg1CTable(ResponseModel):
    """SG1c: individuals (SG1f: cases too). By ethnicity."""

    concerns: EthnicityCounts
    section_42_enquiries: EthnicityCounts
    other_enquiries: EthnicityCounts


class Sg1DTable(ResponseModel):
    """SG1d: individuals (SG1f: cases too). By primary support reason."""

    concerns: PrimarySupportReasonCounts
    section_42_enquiries: PrimarySupportReasonCounts
    other_enquiries: PrimarySupportReasonCounts


class Sg1FTable(ResponseModel):
    """SG1f: individuals (SG1f: cases too). The totals: cases and individuals."""

    concerns: CaseTotals
    section_42_enquiries: CaseTotals
    other_enquiries: CaseTotals


class Sg2ATable(ResponseModel):
    """SG2a: enquiries concluded in the year. Type of risk by source of risk."""

    section_42_enquiries: TypeBySourceCounts
    other_enquiries: TypeBySourceCounts


class Sg2BTable(ResponseModel):
    """SG2b: enquiries concluded in the year. Location of risk by source of risk."""

    section_42_enquiries: LocationBySourceCounts
    other_enquiries: LocationBySourceCounts


class Sg2CTable(ResponseModel):
    """SG2c: enquiries concluded in the year. The result of the enquiry."""

    section_42_enquiries: ResultCounts
    other_enquiries: ResultCounts


class Sg2ETable(ResponseModel):
    """SG2e: enquiries concluded in the year. The risk outcome, where risk was identified."""

    section_42_enquiries: RiskOutcomeCounts
    other_enquiries: RiskOutcomeCounts


class Sg3ATable(ResponseModel):
    """SG3a: enquiries concluded in the year. Mental capacity."""

    section_42_enquiries: Sg3AMeasure
    other_enquiries: Sg3AMeasure


class Sg4ATable(ResponseModel):
    """SG4a: enquiries concluded in the year. Making Safeguarding Personal."""

    section_42_enquiries: Sg4AMeasure
    other_enquiries: Sg4AMeasure


class Sg1(ResponseModel):
    """SG1: concerns raised and enquiries started in the year, and the individuals involved (each counted
    once per kind of case): SG1a age, SG1b gender, SG1c ethnicity, SG1d primary support reason, SG1f the
    totals."""

    sg1a: Sg1ATable
    sg1b: Sg1BTable
    sg1c: Sg1CTable
    sg1d: Sg1DTable
    sg1f: Sg1FTable


class Sg2(ResponseModel):
    """SG2: enquiries concluded in the year, by what the enquiry found: each allegation as the enquiry
    corrected it, and those it added. A cell counts the enquiries with at least one allegation in it: two
    allegations of one type (and source) in one enquiry count once, and one enquiry may count in several
    cells."""

    sg2a: Sg2ATable = Field(description="Type of risk by source of risk.")
    sg2b: Sg2BTable = Field(description="Location of risk by source of risk.")
    sg2c: Sg2CTable = Field(description="The result of the enquiry, per type of risk found.")
    sg2e: Sg2ETable = Field(description="The risk outcome, only where risk was identified.")


class Sg3AMeasure(ResponseModel):
    concluded: Count
    lacked_capacity: LackedCapacityCounts
    advocate_support: AdvocateSupportCounts = Field(
        description="Of those who lacked capacity: supported by an advocate, family or friend."
    )


class Sg3(ResponseModel):
    """SG3a: mental capacity in enquiries concluded in the year."""

    sg3a: Sg3ATable


class Sg4AMeasure(ResponseModel):
    concluded: Count
    msp_asked: MspAskedCounts = Field(description="Was the adult asked about the outcomes they wanted?")
    outcomes_achieved: MspOutcomesAchievedCounts = Field(
        description="Of those who expressed outcomes: were they achieved?"
    )


class Sg4(ResponseModel):
    """SG4a: Making Safeguarding Personal, in enquiries concluded in the year."""

    sg4a: Sg4ATable


class Sg5ACounts(ResponseModel):
    where_one_or_more_individuals_died: Count
    where_no_individuals_died: Count


class Sg5BCounts(ResponseModel):
    who_suffered_serious_harm_and_died: Count
    who_suffered_serious_harm_and_survived: Count


class SarDecisionCounts(ResponseModel):
    """Decisions the Safeguarding Adults Board made in the year (by `decision_on`), by the criteria found
    and whether a review was commissioned: a review considered but not commissioned counts here."""

    mandatory: Count
    discretionary: Count
    not_met: Count
    commissioned: Count
    not_commissioned: Count


class Sg5ATable(ResponseModel):
    safeguarding_adults_reviews: Sg5ACounts


class Sg5BTable(ResponseModel):
    individuals: Sg5BCounts


class SarDecisionsTable(ResponseModel):
    safeguarding_adults_reviews: SarDecisionCounts


class Sg5(ResponseModel):
    """SG5: safeguarding adults reviews (Care Act s44) completed in the year (by `completed_on`): SG5a the
    reviews, SG5b the individuals they were about; and (the hub's own) the Board's decisions in the year."""

    sg5a: Sg5ATable
    sg5b: Sg5BTable
    decisions: SarDecisionsTable


def _zeros(*names: str) -> dict[str, int]:
    return dict.fromkeys(names, 0)


_SOURCES = _zeros("service_provider", "other_known_to_individual", "other_unknown_to_individual")
_TYPES = (
    "physical", "sexual", "psychological", "financial_or_material", "discriminatory", "organisational",
    "neglect_and_acts_of_omission", "domestic_abuse", "sexual_exploitation", "modern_slavery", "self_neglect",
)  # fmt: skip
_LOCATIONS = (
    "own_home", "in_the_community", "in_a_community_service", "care_home_nursing", "care_home_residential",
    "hospital_acute", "hospital_mental_health", "hospital_community", "other",
)  # fmt: skip


def _grid(rows: tuple[str, ...], **cells: dict[str, int]) -> dict[str, dict[str, int]]:
    return {row: {**_SOURCES, **cells.get(row, {})} for row in rows}


def _empty(example: Any) -> Any:
    return 0 if isinstance(example, int) else {k: _empty(v) for k, v in example.items()}


_AGES = _zeros(
    "aged_18_to_64", "aged_65_to_74", "aged_75_to_84", "aged_85_to_94", "aged_95_and_over", "not_known"
)
_ETHNICITIES = _zeros(
    "white", "mixed_or_multiple", "asian_or_asian_british", "black_african_caribbean_or_black_british", "other",
    "refused", "undeclared_or_not_known",
)  # fmt: skip
_REASONS = _zeros(
    "physical", "sensory", "memory_and_cognition", "learning_disability", "mental_health", "social",
    "no_support_reason", "not_known",
)  # fmt: skip


def _by_case(example: dict[str, Any], s42: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"concerns": example, "section_42_enquiries": s42 or example, "other_enquiries": _empty(example)}


def _by_kind(example: dict[str, Any]) -> dict[str, Any]:
    return {"section_42_enquiries": example, "other_enquiries": _empty(example)}


_RESULTS = _zeros(
    "risk_identified_and_action_taken", "risk_identified_and_no_action_taken",
    "risk_assessment_inconclusive_and_action_taken", "risk_assessment_inconclusive_and_no_action_taken",
    "no_risk_identified_and_action_taken", "no_risk_identified_and_no_action_taken",
    "enquiry_ceased_at_individuals_request_and_no_action_taken",
)  # fmt: skip


class SacReport(ResponseModel):
    """The Safeguarding Adults Collection tables for one reporting year, as NHS England lays them out:
    each table by its reference (SG1a ... SG5b), then the kind of case, then its rows (and columns)."""

    model_config = example(
        {
            "year": 2026,
            "period_start": "2026-04-01",
            "period_end": "2027-03-31",
            "sg1": {
                "sg1a": _by_case({**_AGES, "aged_85_to_94": 1}),
                "sg1b": _by_case({"male": 0, "female": 1, "not_known": 0}),
                "sg1c": _by_case({**_ETHNICITIES, "white": 1}),
                "sg1d": _by_case({**_REASONS, "memory_and_cognition": 1}),
                "sg1f": _by_case({"cases": 2, "individuals": 1}, {"cases": 1, "individuals": 1}),
            },
            "sg2": {
                "sg2a": _by_kind(
                    _grid(
                        _TYPES,
                        financial_or_material={"other_known_to_individual": 1},
                        neglect_and_acts_of_omission={"other_known_to_individual": 1},
                    )
                ),
                "sg2b": _by_kind(_grid(_LOCATIONS, own_home={"other_known_to_individual": 1})),
                "sg2c": _by_kind({**_RESULTS, "risk_identified_and_action_taken": 1}),
                "sg2e": _by_kind({"risk_remained": 0, "risk_reduced": 1, "risk_removed": 0}),
            },
            "sg3": {
                "sg3a": _by_kind(
                    {
                        "concluded": 1,
                        "lacked_capacity": {"yes": 1, "no": 0, "dont_know": 0, "not_recorded": 0},
                        "advocate_support": {"yes": 1, "no": 0},
                    }
                )
            },
            "sg4": {
                "sg4a": _by_kind(
                    {
                        "concluded": 1,
                        "msp_asked": {
                            **_zeros("yes_no_outcomes_expressed", "no", "dont_know", "not_recorded"),
                            "yes_outcomes_expressed": 1,
                        },
                        "outcomes_achieved": {"fully": 0, "partially": 1, "not_achieved": 0},
                    }
                )
            },
            "sg5": {
                "sg5a": {
                    "safeguarding_adults_reviews": {
                        "where_one_or_more_individuals_died": 1,
                        "where_no_individuals_died": 0,
                    }
                },
                "sg5b": {
                    "individuals": {
                        "who_suffered_serious_harm_and_died": 1,
                        "who_suffered_serious_harm_and_survived": 0,
                    }
                },
                "decisions": {
                    "safeguarding_adults_reviews": {
                        "mandatory": 1,
                        "discretionary": 1,
                        "not_met": 0,
                        "commissioned": 1,
                        "not_commissioned": 1,
                    }
                },
            },
        }
    )

    year: int = Field(ge=2015, le=2100, description="The reporting year starting 1 April of this year.")
    period_start: date = Field(description="1 April of `year`.")
    period_end: date = Field(description="31 March of the next year.")
    sg1: Sg1
    sg2: Sg2
    sg3: Sg3
    sg4: Sg4
    sg5: Sg5


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


# After the decision: assessments and initial child protection conferences (app.governance.reports.pathway).


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
            "assessments": {"open": _due(31, 4, 2), "completed": {"on_time": 120, "late": 17}},
            "initial_child_protection_conferences": {
                "awaiting": _due(6, 2, 1),
                "held": {"on_time": 41, "late": 5},
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
    assessments: AssessmentTimeliness = Field(
        description="Child and family assessments, due 45 working days after the referral (`due_on`)."
    )
    initial_child_protection_conferences: ConferenceTimeliness = Field(
        description="Initial child protection conferences, due 15 working days after the strategy discussion."
    )
