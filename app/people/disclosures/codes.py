"""The codes a disclosure row carries (stable wire values)."""

from __future__ import annotations

from enum import StrEnum

from app.core.codes import LawfulBasis, SpecialCategoryCondition
from app.people.access import RecordSide


class DisclosureTrigger(StrEnum):
    CONTRIBUTION_REQUEST = "contribution_request"
    READ = "read"
    EXPORT = "export"


class RecipientType(StrEnum):
    AGENCY = "agency"
    DATA_SUBJECT = "data_subject"


class DisclosurePurpose(StrEnum):
    MASH_INFORMATION_REQUEST = "mash_information_request"  # MASH checks: what does the agency know?
    REFERRER_FEEDBACK = "referrer_feedback"  # the referring or raising agency told what happened
    SAFEGUARDING_PLAN_ACTION = "safeguarding_plan_action"  # an agency acting on an adult's plan
    SAFEGUARDING_ENQUIRY = "safeguarding_enquiry"  # an agency leading, or caused, a s42 enquiry
    SUBJECT_ACCESS_REQUEST = "subject_access_request"  # the person's right of access (Art 15)
    CASE_DOCUMENT = "case_document"  # another agency's document on a case record, downloaded


class DisclosureBasis(StrEnum):
    """UK GDPR Article 6 bases: those a consent override may name, and the parents' consent."""

    CONSENT = "uk_gdpr_6_1_a_consent"
    PUBLIC_TASK = LawfulBasis.PUBLIC_TASK.value
    LEGAL_OBLIGATION = LawfulBasis.LEGAL_OBLIGATION.value
    VITAL_INTERESTS = LawfulBasis.VITAL_INTERESTS.value


# Safeguarding is a public task of the council (Children Act 1989, Care Act 2014), and the data is
# special category (health, sex life): DPA 2018 Sch 1 para 18, safeguarding of children and of
# individuals at risk.
SAFEGUARDING_CONDITION = SpecialCategoryCondition.SAFEGUARDING


# The side of a person's record each kind of disclosed record is on (``app.people.access``): a disclosure
# is shown to the readers of that side. A subject access export (``EXPORT_RECORD_TYPE``) is on the sides
# it covered, kept in the row's ``details``. A record type missing here is shown to readers of both
# sides only.
RECORD_SIDES: dict[str, RecordSide] = {
    "contribution": RecordSide.CHILDREN,  # a request naming the child, or an asked agency reading it
    "referral": RecordSide.CHILDREN,
    "referral_timeline": RecordSide.CHILDREN,
    "adult_concern": RecordSide.ADULTS,
    "enquiry": RecordSide.ADULTS,
    "safeguarding_plan": RecordSide.ADULTS,
    # A document downloaded by an agency other than the one that uploaded it, by its parent record.
    "referral_document": RecordSide.CHILDREN,
    "contribution_document": RecordSide.CHILDREN,
    "adult_concern_document": RecordSide.ADULTS,
    "enquiry_document": RecordSide.ADULTS,
}
EXPORT_RECORD_TYPE = "person"
