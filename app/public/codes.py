"""The public front door's code lists, and the census referral source a child's contact gets from them."""

from __future__ import annotations

from enum import StrEnum

from app.children.codes import ReferralSource


class RaiserRelationship(StrEnum):
    """Who the person raising the concern is to the adult or child it is about."""

    FAMILY = "family"  # a family member, relative or carer
    ACQUAINTANCE = "acquaintance"  # a friend, neighbour, child minder or other acquaintance
    SELF = "self"  # the person themselves
    OTHER = "other"  # anyone else (a stranger, a councillor...)


class Awareness(StrEnum):
    """Whether the adult (or the child's parents) know the concern is being raised."""

    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class FeedbackPreference(StrEnum):
    """How the raiser would like to hear back: by phone, by email, or not at all."""

    PHONE = "phone"
    EMAIL = "email"
    NONE = "none"


# Children in Need census source of referral for an individual (domain.md): 1A family member,
# relative or carer; 1B acquaintance (including neighbours and child minders); 1C self; 1D other
# individual; 9 anonymous, whatever the relationship given.
CENSUS_SOURCES: dict[RaiserRelationship, ReferralSource] = {
    RaiserRelationship.FAMILY: ReferralSource.FAMILY,
    RaiserRelationship.ACQUAINTANCE: ReferralSource.ACQUAINTANCE,
    RaiserRelationship.SELF: ReferralSource.SELF,
    RaiserRelationship.OTHER: ReferralSource.OTHER_INDIVIDUAL,
}


def census_source(relationship: RaiserRelationship, *, anonymous: bool) -> ReferralSource:
    """The CIN census source of a contact made by a member of the public."""
    return ReferralSource.ANONYMOUS if anonymous else CENSUS_SOURCES[relationship]
