"""The children's side's code lists: the Children in Need census (sources, factors, primary needs), the
referral's concerns and statuses, threshold decisions, agencies' checks and contact with the family (domain.md).
Wire values are fixed: partner systems and statutory returns depend on them."""

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


# Outcomes that accept the contact as a referral to children's social care (the CIN census meaning), and
# those after which it stays a contact; after no further action the decision says which.
ACCEPTED_OUTCOMES = frozenset(
    {DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT, DecisionOutcome.STRATEGY_DISCUSSION}
)
CONTACT_OUTCOMES = frozenset({DecisionOutcome.UNIVERSAL_SERVICES, DecisionOutcome.EARLY_HELP})


class CensusSex(StrEnum):
    """Children in Need census: the child's sex (``Sex``, from the 2024-25 census; before it
    ``GenderCurrent`` 0/1/2/9). The hub's genders map: male M, female F, other and not known U (the
    census has no "other"); an unborn child is always U (validation rule 8750)."""

    MALE = "M"
    FEMALE = "F"
    NOT_KNOWN = "U"


class DecisionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    RETURNED = "returned"


class ContributionStatus(StrEnum):
    REQUESTED = "requested"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"  # the referral was withdrawn before the agency answered


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


# ---------------------------------------------------------------------------------------------------
# After the threshold decision: assessments, strategy discussions, section 47 enquiries, conferences.


class ReasonForClosure(StrEnum):
    """Children in Need census: reason for closure of the CIN episode."""

    ADOPTED = "RC1"
    DIED = "RC2"
    CHILD_ARRANGEMENTS_ORDER = "RC3"
    SPECIAL_GUARDIANSHIP_ORDER = "RC4"
    TRANSFERRED_TO_ANOTHER_LA = "RC5"
    TRANSFERRED_TO_ADULT_SERVICES = "RC6"
    SERVICES_CEASED = "RC7"
    CLOSED_AFTER_ASSESSMENT_NO_FURTHER_ACTION = "RC8"
    CLOSED_AFTER_ASSESSMENT_EARLY_HELP = "RC9"


class AssessmentStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class AssessmentOutcome(StrEnum):
    """What a completed child and family assessment leads to."""

    NO_FURTHER_ACTION = "no_further_action"
    EARLY_HELP = "early_help"
    CHILD_IN_NEED_PLAN = "child_in_need_plan"
    STRATEGY_DISCUSSION = "strategy_discussion"


class StrategyDiscussionDecision(StrEnum):
    SECTION_47_ENQUIRY = "section_47_enquiry"
    NO_SECTION_47 = "no_section_47"


class Section47Status(StrEnum):
    """open -> concluded (no conference), or awaiting_conference -> conference_held."""

    OPEN = "open"
    CONCLUDED = "concluded"
    AWAITING_CONFERENCE = "awaiting_conference"
    CONFERENCE_HELD = "conference_held"


class Section47Outcome(StrEnum):
    NO_FURTHER_ACTION = "no_further_action"
    CHILD_IN_NEED_PLAN = "child_in_need_plan"
    INITIAL_CHILD_PROTECTION_CONFERENCE = "initial_child_protection_conference"


class ConferenceOutcome(StrEnum):
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    NO_PLAN = "no_plan"


class CategoryOfAbuse(StrEnum):
    """Children in Need census: the category of abuse of a child protection plan."""

    NEGLECT = "neglect"
    PHYSICAL = "physical"
    EMOTIONAL = "emotional"
    SEXUAL = "sexual"
    MULTIPLE = "multiple"
