"""Statutory and contract code lists (domain.md, api.md). Wire values are fixed: partner systems and
statutory returns depend on them, so they are enumerations, never free text."""

from __future__ import annotations

from enum import StrEnum


class ReferralSource(StrEnum):
    """Children in Need census: source of referral."""

    FAMILY = "1A"
    ACQUAINTANCE = "1B"
    SELF = "1C"
    OTHER_INDIVIDUAL = "1D"
    SCHOOLS = "2A"
    EDUCATION_SERVICES = "2B"
    GP = "3A"
    HEALTH_VISITOR = "3B"
    SCHOOL_NURSE = "3C"
    OTHER_PRIMARY_HEALTH = "3D"
    A_AND_E = "3E"
    OTHER_HEALTH = "3F"
    HOUSING = "4"
    LA_SOCIAL_CARE = "5A"
    OTHER_LA_INTERNAL = "5B"
    ANOTHER_LA = "5C"
    EARLY_HELP = "5D"
    POLICE = "6"
    OTHER_LEGAL_AGENCY = "7"
    OTHER = "8"
    ANONYMOUS = "9"
    UNKNOWN = "10"


class AssessmentFactor(StrEnum):
    """Children in Need census: factors identified at assessment (letter: A child, B parent/carer,
    C other household member)."""

    ALCOHOL_CHILD = "1A"
    ALCOHOL_PARENT = "1B"
    ALCOHOL_OTHER = "1C"
    DRUGS_CHILD = "2A"
    DRUGS_PARENT = "2B"
    DRUGS_OTHER = "2C"
    DOMESTIC_ABUSE_CHILD = "3A"
    DOMESTIC_ABUSE_PARENT = "3B"
    DOMESTIC_ABUSE_OTHER = "3C"
    MENTAL_HEALTH_CHILD = "4A"
    MENTAL_HEALTH_PARENT = "4B"
    MENTAL_HEALTH_OTHER = "4C"
    LEARNING_DISABILITY_CHILD = "5A"
    LEARNING_DISABILITY_PARENT = "5B"
    LEARNING_DISABILITY_OTHER = "5C"
    PHYSICAL_DISABILITY_CHILD = "6A"
    PHYSICAL_DISABILITY_PARENT = "6B"
    PHYSICAL_DISABILITY_OTHER = "6C"
    YOUNG_CARER = "7A"
    PRIVATE_FOSTERING_8B = "8B"
    PRIVATE_FOSTERING_8C = "8C"
    PRIVATE_FOSTERING_8D = "8D"
    PRIVATE_FOSTERING_8E = "8E"
    PRIVATE_FOSTERING_8F = "8F"
    UNACCOMPANIED_ASYLUM_SEEKING = "9A"
    GOING_MISSING = "10A"
    CHILD_SEXUAL_EXPLOITATION = "11A"
    TRAFFICKING = "12A"
    GANGS = "13A"
    SOCIALLY_UNACCEPTABLE_BEHAVIOUR = "14A"
    SELF_HARM = "15A"
    NEGLECT = "16A"
    EMOTIONAL_ABUSE = "17A"
    PHYSICAL_ABUSE_CHILD_ON_CHILD = "18B"
    PHYSICAL_ABUSE_ADULT_ON_CHILD = "18C"
    SEXUAL_ABUSE_CHILD_ON_CHILD = "19B"
    SEXUAL_ABUSE_ADULT_ON_CHILD = "19C"
    OTHER = "20"
    NO_FACTORS = "21"
    FEMALE_GENITAL_MUTILATION = "22A"
    FAITH_OR_BELIEF = "23A"
    CHILD_CRIMINAL_EXPLOITATION = "24A"


class PrimaryNeed(StrEnum):
    """Children in Need census: primary need code."""

    NOT_STATED = "N0"
    ABUSE_OR_NEGLECT = "N1"
    CHILD_DISABILITY = "N2"
    PARENTAL_ILLNESS_OR_DISABILITY = "N3"
    FAMILY_IN_ACUTE_STRESS = "N4"
    FAMILY_DYSFUNCTION = "N5"
    SOCIALLY_UNACCEPTABLE_BEHAVIOUR = "N6"
    LOW_INCOME = "N7"
    ABSENT_PARENTING = "N8"
    NOT_CHILD_IN_NEED = "N9"


class ConcernCategory(StrEnum):
    PHYSICAL_ABUSE = "physical_abuse"
    EMOTIONAL_ABUSE = "emotional_abuse"
    SEXUAL_ABUSE = "sexual_abuse"
    NEGLECT = "neglect"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_SEXUAL_EXPLOITATION = "child_sexual_exploitation"
    CHILD_CRIMINAL_EXPLOITATION = "child_criminal_exploitation"
    GANGS = "gangs"
    SCHOOL_ATTENDANCE_OR_BEHAVIOUR = "school_attendance_or_behaviour"
    HEALTH_OR_MISSED_APPOINTMENTS = "health_or_missed_appointments"
    POLICE_OR_YOUTH_OFFENDING = "police_or_youth_offending"
    SEND_OR_EHC_PLAN = "send_or_ehc_plan"
    GOING_MISSING = "going_missing"
    SELF_HARM = "self_harm"
    OTHER = "other"


class RagRating(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    BLUE = "blue"  # no MASH response needed: no checks, no RAG deadline


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    GATHERING_INFORMATION = "gathering_information"
    AWAITING_APPROVAL = "awaiting_approval"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


FINAL_REFERRAL_STATUSES = frozenset({ReferralStatus.DECIDED, ReferralStatus.WITHDRAWN})


class DecisionOutcome(StrEnum):
    NO_FURTHER_ACTION = "no_further_action"
    UNIVERSAL_SERVICES = "universal_services"
    EARLY_HELP = "early_help"
    CHILD_AND_FAMILY_ASSESSMENT = "child_and_family_assessment"
    STRATEGY_DISCUSSION = "strategy_discussion"


# Outcomes after which children's social care takes no further assessment (the CIN "NFA" flag).
NFA_OUTCOMES = frozenset(
    {DecisionOutcome.NO_FURTHER_ACTION, DecisionOutcome.UNIVERSAL_SERVICES, DecisionOutcome.EARLY_HELP}
)


class DecisionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    RETURNED = "returned"


class ContributionStatus(StrEnum):
    REQUESTED = "requested"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"  # the referral was withdrawn before the agency answered


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class Ethnicity(StrEnum):
    """DfE ethnicity codes, as used by the Children in Need census."""

    WHITE_BRITISH = "WBRI"
    WHITE_IRISH = "WIRI"
    TRAVELLER_OF_IRISH_HERITAGE = "WIRT"
    ANY_OTHER_WHITE = "WOTH"
    GYPSY_ROMA = "WROM"
    WHITE_AND_BLACK_CARIBBEAN = "MWBC"
    WHITE_AND_BLACK_AFRICAN = "MWBA"
    WHITE_AND_ASIAN = "MWAS"
    ANY_OTHER_MIXED = "MOTH"
    INDIAN = "AIND"
    PAKISTANI = "APKN"
    BANGLADESHI = "ABAN"
    ANY_OTHER_ASIAN = "AOTH"
    CARIBBEAN = "BCRB"
    AFRICAN = "BAFR"
    ANY_OTHER_BLACK = "BOTH"
    CHINESE = "CHNE"
    ANY_OTHER_ETHNIC_GROUP = "OOTH"
    REFUSED = "REFU"
    NOT_OBTAINED = "NOBT"


class HouseholdRelationship(StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    STEP_PARENT = "step_parent"
    PARENTS_PARTNER = "parents_partner"
    CARER = "carer"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER_RELATIVE = "other_relative"
    OTHER_ADULT = "other_adult"


class CommunicationAudience(StrEnum):
    PARENT = "parent"
    CARER = "carer"
    CHILD = "child"
    REFERRER = "referrer"


class CommunicationMethod(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    IN_PERSON = "in_person"
    VIDEO = "video"
    TEXT_MESSAGE = "text_message"
    OTHER = "other"


class LawfulBasis(StrEnum):
    """UK GDPR Article 6 bases for sharing without consent."""

    PUBLIC_TASK = "uk_gdpr_6_1_e_public_task"
    LEGAL_OBLIGATION = "uk_gdpr_6_1_c_legal_obligation"
    VITAL_INTERESTS = "uk_gdpr_6_1_d_vital_interests"


class SpecialCategoryCondition(StrEnum):
    """UK GDPR Article 9 conditions for special category data."""

    SAFEGUARDING = "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18"
    VITAL_INTERESTS = "uk_gdpr_9_2_c_vital_interests"


# ---------------------------------------------------------------------------------------------------
# Adults at risk: Care Act 2014 s42, Mental Capacity Act 2005, Safeguarding Adults Collection (SAC)


class AdultConcernStatus(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"
    ENQUIRY_OPEN = "enquiry_open"
    ENQUIRY_CONCLUDED = "enquiry_concluded"
    CLOSED = "closed"


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
