"""What a member of the public sends through the council's online form, and the receipt they get back.

Strict, because anyone may post: unknown fields are refused, every string is bounded, and text holds no
markup (no ``<`` or ``>``: the hub's screens show it as typed, and nothing that looks like HTML is
stored). Dates are YYYY-MM-DD. Nothing read back: the answer is a reference and the time received.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, EmailStr, Field, model_validator

from app.adults.codes import LocationOfRisk, SourceOfRisk, TypeOfRisk
from app.children.referrals.schemas import Categories
from app.core.clock import today
from app.core.schemas import Date, Phone, RequestModel, ResponseModel, example, no_repeats
from app.people.schemas import Postcode, is_adult
from app.public.codes import Awareness, FeedbackPreference, RaiserRelationship

# No markup and no control characters (line breaks and tabs allowed in free text, not in a line).
NO_MARKUP_TEXT = r"^[^<>\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
NO_MARKUP_LINE = r"^[^<>\x00-\x1F\x7F]*$"
_MARKUP = "no markup: `<` and `>` are refused"
PublicName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=NO_MARKUP_LINE, description=f"One line, {_MARKUP}.")
]
WhatHappened = Annotated[
    str,
    Field(
        min_length=1,
        max_length=5_000,
        pattern=NO_MARKUP_TEXT,
        description=f"In the raiser's own words, at most 5,000 characters, {_MARKUP}.",
    ),
]
PublicNote = Annotated[str, Field(min_length=1, max_length=2_000, pattern=NO_MARKUP_TEXT)]
PublicAddress = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100, pattern=NO_MARKUP_LINE)]], Field(max_length=4)
]
PublicEmail = Annotated[EmailStr, Field(max_length=254)]
Risks = Annotated[list[TypeOfRisk], Field(min_length=1, max_length=11), AfterValidator(no_repeats)]
MAX_PUBLIC_CHILDREN = 6
# A reference such as PUB-A-7K3Q-9XMD: the door (A adults, C children), then 8 characters of Crockford's
# base 32 (no I, L, O or U).
REFERENCE_PATTERN = r"^PUB-[AC]-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"


class PublicRaiser(RequestModel):
    """Who is raising the concern. Anonymous: no name or contact details, and no feedback. Otherwise a
    name and a phone number or an email address, so the council can talk to them about it."""

    anonymous: bool = Field(False, description="Raise it without giving a name or contact details.")
    relationship: RaiserRelationship = Field(
        description=(
            "Who the raiser is to the person: `family` (a family member, relative or carer), "
            "`acquaintance` (a friend, neighbour or child minder), `self`, or `other`."
        )
    )
    name: PublicName | None = None
    phone: Phone | None = None
    email: PublicEmail | None = None
    feedback: FeedbackPreference = Field(
        FeedbackPreference.NONE,
        description="How the raiser would like to hear back; by phone or email needs that contact.",
    )

    @model_validator(mode="after")
    def _contact(self) -> Self:
        if self.anonymous:
            if self.name or self.phone or self.email:
                raise ValueError("an anonymous raiser gives no name, phone or email")
            if self.feedback is not FeedbackPreference.NONE:
                raise ValueError("an anonymous raiser cannot be given feedback: feedback must be none")
            return self
        if self.name is None:
            raise ValueError("give your name, or raise the concern with anonymous: true")
        if self.phone is None and self.email is None:
            raise ValueError("give a phone number or an email address, or raise it with anonymous: true")
        if self.feedback is FeedbackPreference.PHONE and self.phone is None:
            raise ValueError("feedback by phone needs a phone number")
        if self.feedback is FeedbackPreference.EMAIL and self.email is None:
            raise ValueError("feedback by email needs an email address")
        return self


class _Subject(RequestModel):
    given_name: PublicName
    family_name: PublicName
    date_of_birth: Date | None = Field(None, description="When known; else `approximate_age`.")
    address_lines: PublicAddress | None = None
    postcode: Postcode | None = None

    def _born(self) -> None:
        if self.date_of_birth is not None and self.date_of_birth > today():
            raise ValueError("date_of_birth cannot be in the future")


class PublicAdultIn(_Subject):
    approximate_age: int | None = Field(
        None, ge=18, le=120, description="When the date of birth is not known."
    )

    @model_validator(mode="after")
    def _adult(self) -> Self:
        self._born()
        if self.date_of_birth is not None and not is_adult(self.date_of_birth):
            raise ValueError("the person is under 18: raise it through POST /public/v1/child-concerns")
        return self


class PublicChildIn(_Subject):
    approximate_age: int | None = Field(None, ge=0, le=17, description="When the date of birth is not known.")

    @model_validator(mode="after")
    def _child(self) -> Self:
        self._born()
        if self.date_of_birth is not None and is_adult(self.date_of_birth):
            raise ValueError("the person is 18 or over: raise it through POST /public/v1/adult-concerns")
        return self


_RAISER = {
    "relationship": "acquaintance",
    "name": "Jo Bloggs",
    "phone": "020 7946 0123",
    "feedback": "phone",
}


class PublicAdultConcernIn(RequestModel):
    model_config = example(
        {
            "adult": {
                "given_name": "Margaret",
                "family_name": "Hughes",
                "approximate_age": 85,
                "address_lines": ["14 Grove Road"],
                "postcode": "E17 5JW",
            },
            "what_happened": "Her son takes her pension every week and she has no food in the house.",
            "types_of_risk": ["financial_or_material", "neglect_and_acts_of_omission"],
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "adult_knows": "yes",
            "raiser": _RAISER,
        },
        {
            "adult": {"given_name": "Tom", "family_name": "Price", "date_of_birth": "1950-02-01"},
            "what_happened": "I hear shouting and crying from the flat every night.",
            "types_of_risk": ["psychological"],
            "location_of_risk": "own_home",
            "source_of_risk": "other_known_to_individual",
            "adult_knows": "not_sure",
            "raiser": {"anonymous": True, "relationship": "acquaintance"},
        },
    )

    adult: PublicAdultIn = Field(description="Who the concern is about (18 or over).")
    what_happened: WhatHappened
    types_of_risk: Risks = Field(description="The kinds of harm (SAC type of risk), at least one.")
    location_of_risk: LocationOfRisk = Field(description="Where it happens (SAC location of risk).")
    source_of_risk: SourceOfRisk = Field(
        description=(
            "Who is causing it: `service_provider` (someone paid to care for them), "
            "`other_known_to_individual` (someone they know), `other_unknown_to_individual` (a stranger)."
        )
    )
    adult_knows: Awareness = Field(description="Does the adult know this concern is being raised?")
    adult_wishes: PublicNote | None = Field(None, description="What the adult wants to happen, if known.")
    raiser: PublicRaiser


class PublicChildConcernIn(RequestModel):
    model_config = example(
        {
            "children": [
                {
                    "given_name": "Amelia",
                    "family_name": "Smith",
                    "approximate_age": 7,
                    "address_lines": ["12 Forest Road"],
                    "postcode": "E17 4UH",
                }
            ],
            "what_happened": "The children are often left alone in the flat overnight.",
            "concern_categories": ["neglect"],
            "parents_know": "no",
            "raiser": {**_RAISER, "relationship": "family", "email": "jo@example.org", "feedback": "email"},
        }
    )

    children: list[PublicChildIn] = Field(min_length=1, max_length=MAX_PUBLIC_CHILDREN)
    what_happened: WhatHappened
    concern_categories: Categories
    parents_know: Awareness = Field(description="Do the parents or carers know this concern is being raised?")
    raiser: PublicRaiser


class PublicReceipt(ResponseModel):
    """What the raiser gets back: a reference to quote if they call, and when the council received it."""

    model_config = example({"reference": "PUB-A-7K3Q-9XMD", "received_at": "2026-12-06T10:15:00Z"})

    reference: str = Field(
        pattern=REFERENCE_PATTERN,
        max_length=15,
        description="Quote it when you contact the council about this concern.",
    )
    received_at: datetime
