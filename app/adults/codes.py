"""The adults' side's code lists: Care Act 2014 s42, Mental Capacity Act 2005 and the Safeguarding Adults
Collection (SAC), concerns, enquiries, advocacy and safeguarding plans (domain.md). Wire values are fixed: partner
systems and statutory returns depend on them."""

from __future__ import annotations

from enum import StrEnum


class AdultConcernStatus(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"
    ENQUIRY_OPEN = "enquiry_open"
    ENQUIRY_CONCLUDED = "enquiry_concluded"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# Nothing moves a concern on from these, and nothing on it changes any more.
FINAL_CONCERN_STATUSES = frozenset({AdultConcernStatus.CLOSED, AdultConcernStatus.WITHDRAWN})


class EnquiryStatus(StrEnum):
    OPEN = "open"
    CONCLUDED = "concluded"


class TypeOfRisk(StrEnum):
    PHYSICAL = "physical"
    SEXUAL = "sexual"
    PSYCHOLOGICAL = "psychological"
    FINANCIAL_OR_MATERIAL = "financial_or_material"
    DISCRIMINATORY = "discriminatory"
    ORGANISATIONAL = "organisational"
    NEGLECT_AND_ACTS_OF_OMISSION = "neglect_and_acts_of_omission"
    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL_EXPLOITATION = "sexual_exploitation"
    MODERN_SLAVERY = "modern_slavery"
    SELF_NEGLECT = "self_neglect"


class LocationOfRisk(StrEnum):
    OWN_HOME = "own_home"
    IN_THE_COMMUNITY = "in_the_community"
    IN_A_COMMUNITY_SERVICE = "in_a_community_service"
    CARE_HOME_NURSING = "care_home_nursing"
    CARE_HOME_RESIDENTIAL = "care_home_residential"
    HOSPITAL_ACUTE = "hospital_acute"
    HOSPITAL_MENTAL_HEALTH = "hospital_mental_health"
    HOSPITAL_COMMUNITY = "hospital_community"
    OTHER = "other"


class SourceOfRisk(StrEnum):
    # "Service provider" means paid or commissioned social care; NHS staff and GPs count as "other".
    SERVICE_PROVIDER = "service_provider"
    OTHER_KNOWN_TO_INDIVIDUAL = "other_known_to_individual"
    OTHER_UNKNOWN_TO_INDIVIDUAL = "other_unknown_to_individual"


class PrimarySupportReason(StrEnum):
    PHYSICAL = "physical"
    SENSORY = "sensory"
    MEMORY_AND_COGNITION = "memory_and_cognition"
    LEARNING_DISABILITY = "learning_disability"
    MENTAL_HEALTH = "mental_health"
    SOCIAL = "social"
    NO_SUPPORT_REASON = "no_support_reason"
    NOT_KNOWN = "not_known"


class Section42Decision(StrEnum):
    SECTION_42_ENQUIRY = "section_42_enquiry"
    OTHER_ENQUIRY = "other_enquiry"
    NO_FURTHER_ACTION = "no_further_action"


class AlternativeRoute(StrEnum):
    """Where a concern goes when no safeguarding enquiry is made."""

    SIGNPOSTING = "signposting"
    NEEDS_ASSESSMENT = "needs_assessment"
    COMPLAINT = "complaint"
    REFERRAL_ELSEWHERE = "referral_elsewhere"
    NONE = "none"


class EnquiryObjective(StrEnum):
    ESTABLISH_FACTS = "establish_facts"
    ASCERTAIN_VIEWS_AND_WISHES = "ascertain_views_and_wishes"
    ASSESS_NEEDS = "assess_needs"
    PROTECT = "protect"
    DECIDE_FOLLOW_UP_ACTION = "decide_follow_up_action"
    ENABLE_RESOLUTION_AND_RECOVERY = "enable_resolution_and_recovery"


class EnquiryResult(StrEnum):
    """SAC SG2c: the result of an enquiry, per allegation."""

    RISK_IDENTIFIED_AND_ACTION_TAKEN = "risk_identified_and_action_taken"
    RISK_IDENTIFIED_AND_NO_ACTION_TAKEN = "risk_identified_and_no_action_taken"
    RISK_ASSESSMENT_INCONCLUSIVE_AND_ACTION_TAKEN = "risk_assessment_inconclusive_and_action_taken"
    RISK_ASSESSMENT_INCONCLUSIVE_AND_NO_ACTION_TAKEN = "risk_assessment_inconclusive_and_no_action_taken"
    NO_RISK_IDENTIFIED_AND_ACTION_TAKEN = "no_risk_identified_and_action_taken"
    NO_RISK_IDENTIFIED_AND_NO_ACTION_TAKEN = "no_risk_identified_and_no_action_taken"
    ENQUIRY_CEASED_AT_INDIVIDUALS_REQUEST_AND_NO_ACTION_TAKEN = (
        "enquiry_ceased_at_individuals_request_and_no_action_taken"
    )


RISK_IDENTIFIED_RESULTS = frozenset(
    {EnquiryResult.RISK_IDENTIFIED_AND_ACTION_TAKEN, EnquiryResult.RISK_IDENTIFIED_AND_NO_ACTION_TAKEN}
)


class RiskOutcome(StrEnum):
    """SAC SG2e: only where risk was identified."""

    RISK_REMAINED = "risk_remained"
    RISK_REDUCED = "risk_reduced"
    RISK_REMOVED = "risk_removed"


class MspAsked(StrEnum):
    """Making Safeguarding Personal (SG4): was the adult asked about their desired outcomes?"""

    YES_OUTCOMES_EXPRESSED = "yes_outcomes_expressed"
    YES_NO_OUTCOMES_EXPRESSED = "yes_no_outcomes_expressed"
    NO = "no"
    DONT_KNOW = "dont_know"
    NOT_RECORDED = "not_recorded"


class MspOutcomesAchieved(StrEnum):
    FULLY = "fully"
    PARTIALLY = "partially"
    NOT_ACHIEVED = "not_achieved"


class LackedCapacity(StrEnum):
    """SAC SG3."""

    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"
    NOT_RECORDED = "not_recorded"


class CapacityOutcome(StrEnum):
    HAS_CAPACITY = "has_capacity"
    LACKS_CAPACITY = "lacks_capacity"


class AdvocateKind(StrEnum):
    CARE_ACT = "care_act"  # Care Act 2014 independent advocate
    IMCA = "imca"  # Independent Mental Capacity Advocate (MCA 2005)


class AdvocacyOffer(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_REQUIRED = "not_required"


class AppropriatePersonConsent(StrEnum):
    """Care Act s68(5): how an appropriate person came to support the adult."""

    GIVEN = "given"  # the adult (with capacity to decide it) consents
    LACKS_CAPACITY_BEST_INTERESTS = "lacks_capacity_best_interests"  # a best interests decision (MCA s4)


class SarStatus(StrEnum):
    """A safeguarding adults review's status (``app.adults.reviews.status``)."""

    REFERRED = "referred"
    NOT_COMMISSIONED = "not_commissioned"  # considered against the criteria, and not arranged
    COMMISSIONED = "commissioned"
    COMPLETED = "completed"


class SarCriteria(StrEnum):
    """Care Act 2014 s44: which criteria the Safeguarding Adults Board found."""

    MANDATORY = (
        "mandatory"  # s44(1)-(3): died or serious abuse or neglect, and agencies could have done better
    )
    DISCRETIONARY = "discretionary"  # s44(4): any other case of an adult with care and support needs
    NOT_MET = "not_met"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class PlanActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_LONGER_NEEDED = "no_longer_needed"


class PlanReviewDecision(StrEnum):
    CONTINUE = "continue"
    AMEND = "amend"
    CLOSE = "close"


class ConsulteeRelationship(StrEnum):
    CARER = "carer"
    FAMILY = "family"
    FRIEND = "friend"
    ATTORNEY = "attorney"  # lasting power of attorney
    DEPUTY = "deputy"  # Court of Protection deputy
    IMCA = "imca"
    PROFESSIONAL = "professional"
    OTHER = "other"
