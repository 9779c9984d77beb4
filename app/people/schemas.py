from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from app.core import clock
from app.core.schemas import SINGLE_LINE, Date, RequestModel, ResponseModel, Unpaged, UpdateModel, example
from app.people.codes import Ethnicity, Gender
from app.people.matching import is_valid_nhs_number, normalise_nhs_number, normalise_postcode

# Unborn children: an expected date of birth is at most 40 weeks ahead (the CIN census allows 280 days
# after the referral date, rule 8606) and a month behind.
EXPECTED_DOB_AHEAD = timedelta(days=280)
EXPECTED_DOB_BEHIND = timedelta(days=31)
MAX_MATCH_LIMIT = 50
# Each rule of the matcher gives at most one reason; far fewer rules than this.
MAX_MATCH_REASONS = 32


def _nhs_number(value: str) -> str:
    digits = normalise_nhs_number(value)
    if digits is None or not is_valid_nhs_number(digits):
        raise ValueError("must be 10 digits with a valid mod-11 check digit")
    return digits


def _nhs_digits(value: str) -> str:
    # For matching, a mistyped number is still evidence; only its shape is checked.
    digits = normalise_nhs_number(value)
    if digits is None:
        raise ValueError("must be 10 digits")
    return digits


def _postcode(value: str) -> str:
    compact = normalise_postcode(value)
    if compact is None:
        raise ValueError("must be a UK postcode, e.g. E17 4UH")
    if len(compact) < 5:
        # An outward code alone (the postcode district, e.g. "E17"): it has no inward part to split
        # off, so it is kept as it is (splitting it gave "S W1A" and " E17").
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


NhsNumber = Annotated[
    str,
    AfterValidator(_nhs_number),
    Field(
        max_length=20,
        description="10 digits (spaces allowed) with a valid mod-11 check digit.",
        examples=["943 476 5919"],
    ),
]
NhsDigits = Annotated[
    str, AfterValidator(_nhs_digits), Field(max_length=20, description="10 digits; not checked.")
]
# As stored and shown: normalised on the way in.
StoredNhsNumber = Annotated[str, Field(max_length=10, pattern=r"^[0-9]{10}$")]
StoredPostcode = Annotated[str, Field(max_length=10, pattern=r"^[A-Z0-9 ]+$")]
Postcode = Annotated[
    str, AfterValidator(_postcode), Field(max_length=10, description="UK postcode", examples=["E17 4UH"])
]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=SINGLE_LINE)]
AddressLines = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100, pattern=SINGLE_LINE)]], Field(max_length=4)
]
MatchReasons = Annotated[
    list[Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")]], Field(max_length=MAX_MATCH_REASONS)
]


# Under 18 a person is a child (children's front door, POST /v1/referrals); from 18 an adult (POST
# /v1/adult-concerns). One rule, for both sides.
ADULT_AGE = 18


def comes_of_age(date_of_birth: date) -> date:
    """The day a person born on ``date_of_birth`` turns 18 (born on 29 February: the 28th)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + ADULT_AGE)
    except ValueError:  # 29 February
        return date_of_birth.replace(year=date_of_birth.year + ADULT_AGE, day=28)


def is_adult(date_of_birth: date, *, on: date | None = None) -> bool:
    """Whether the person is 18 or over on ``on`` (default today, in England)."""
    return comes_of_age(date_of_birth) <= (on or clock.today())


def check_birth_dates(dob: date | None, expected: date | None, *, today: date | None = None) -> None:
    today = today or clock.today()
    if dob is not None and expected is not None:
        raise ValueError("give date_of_birth or expected_date_of_birth, not both")
    if dob is not None and dob > today:
        raise ValueError(
            "date_of_birth cannot be in the future; use expected_date_of_birth for an unborn child"
        )
    if expected is not None and not (today - EXPECTED_DOB_BEHIND <= expected <= today + EXPECTED_DOB_AHEAD):
        raise ValueError(
            "expected_date_of_birth must be within the next 280 days (40 weeks; CIN census rule 8606)"
        )


_PERSON_EXAMPLE = {
    "given_name": "Amelia",
    "family_name": "Smith-Jones",
    "date_of_birth": "2018-03-14",
    "nhs_number": "9434765919",
    "postcode": "E17 4UH",
    "address_lines": ["12 Forest Road", "London"],
    "gender": "female",
    "ethnicity": "WBRI",
}


# Who a request names, born or unborn: a new person record, or a child on a referral. (No docstring:
# a subclass's schema would not take it as its description.)
class NamedPersonIn(RequestModel):
    given_name: Name
    family_name: Name
    date_of_birth: Date | None = None
    expected_date_of_birth: Date | None = Field(None, description="For an unborn child.")
    nhs_number: NhsNumber | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        check_birth_dates(self.date_of_birth, self.expected_date_of_birth)
        return self


class PersonCreate(NamedPersonIn):
    model_config = example(_PERSON_EXAMPLE)

    postcode: Postcode | None = None
    address_lines: AddressLines | None = None
    gender: Gender | None = None
    ethnicity: Ethnicity | None = Field(None, description="DfE ethnicity code, e.g. WBRI.")


class PersonUpdate(UpdateModel):
    """Only the fields sent are changed; send null to clear an optional field."""

    model_config = example({"postcode": "E17 9QA", "address_lines": ["3 Hoe St"]})

    not_null = ("given_name", "family_name")

    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: Date | None = None
    expected_date_of_birth: Date | None = None
    nhs_number: NhsNumber | None = None
    postcode: Postcode | None = None
    address_lines: AddressLines | None = None
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None


class PersonRef(ResponseModel):
    """Enough to recognise a person in a list."""

    id: uuid.UUID
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    expected_date_of_birth: date | None


# The person's record as held (no docstring: a subclass's schema would not take it as its description).
class PersonRecord(ResponseModel):
    id: uuid.UUID
    given_name: Name
    family_name: Name
    date_of_birth: date | None
    expected_date_of_birth: date | None
    nhs_number: StoredNhsNumber | None
    postcode: StoredPostcode | None
    address_lines: AddressLines | None
    gender: Gender | None
    ethnicity: Ethnicity | None
    created_at: datetime
    updated_at: datetime | None


class PersonOut(PersonRecord):
    model_config = example(
        {
            "id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
            **_PERSON_EXAMPLE,
            "expected_date_of_birth": None,
            "created_at": "2026-11-23T10:15:00Z",
            "updated_at": None,
            "siblings": [],
        }
    )

    siblings: Unpaged[PersonRef] = Field(
        default_factory=list, description="Brothers and sisters known to the hub."
    )


class MatchConfirmation(RequestModel):
    """A practitioner settles a pending match on a referral's child or a concern's adult."""

    model_config = example({"person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f"}, {"person_id": None})

    person_id: uuid.UUID | None = Field(
        description="The known person this is, from the match candidates; null to make a new person record."
    )


class MatchQuery(RequestModel):
    model_config = example(
        {
            "given_name": "Millie",
            "family_name": "Smith",
            "date_of_birth": "2018-03-14",
            "postcode": "E17 4UH",
        }
    )

    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: Date | None = None
    expected_date_of_birth: Date | None = None
    nhs_number: NhsDigits | None = None
    postcode: Postcode | None = None
    gender: Gender | None = None
    limit: int = Field(10, ge=1, le=MAX_MATCH_LIMIT, description="At most this many candidates, best first.")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.model_fields_set - {"limit"}):
            raise ValueError("send at least one identifying field")
        return self


class MatchCandidate(ResponseModel):
    person: PersonOut
    score: float = Field(ge=0, le=1, description="How alike the two are, 0 to 1.")
    certain: bool = Field(description="True when the match is safe to link without a practitioner.")
    reasons: MatchReasons = Field(description="Why: stable codes such as dob_exact or given_name_nickname.")


class MatchResult(ResponseModel):
    model_config = example(
        {
            "candidates": [
                {
                    "person": {
                        "id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
                        **_PERSON_EXAMPLE,
                        "expected_date_of_birth": None,
                        "created_at": "2026-11-23T10:15:00Z",
                        "updated_at": None,
                        "siblings": [],
                    },
                    "score": 0.97,
                    "certain": False,
                    "reasons": [
                        "dob_exact",
                        "given_name_nickname",
                        "family_name_hyphenated_part",
                        "postcode_exact",
                    ],
                }
            ]
        }
    )

    candidates: list[MatchCandidate] = Field(max_length=MAX_MATCH_LIMIT)
