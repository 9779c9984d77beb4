"""A member of the public raises a concern: it becomes an adult concern in adult social care's queue, or
a contact in the children's hub's queue, each marked ``from_public`` (``source=public``).

The public acts through a principal of its own (``PublicCaller``): ``sub`` and role ``public``, for the
agency whose door it knocks on (adult or children's social care, which receives the record and so is its
"raising" or "referring" agency; partners never see it). It holds no scope, and every write it makes is
audited and told in the change feed like any other, with no personal data in either.

The raiser's details are kept in the record's ``raised_by`` / ``referrer``, where the hub sees them and a
subject access export withholds them as a third party's (counted), unless the raiser is the person.
A child's contact gets its census referral source from the raiser's relationship (``app.public.codes``).
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.concerns import service as concerns
from app.adults.concerns.schemas import AdultConcernCreate, AdultIn, AllegationIn
from app.children.referrals import service as referrals
from app.children.referrals.schemas import AddressIn, ChildIn, ParentalConsent, ReferralCreate
from app.core.auth import Principal
from app.core.clock import WorkingClock
from app.core.scopes import AgencyCode, Role
from app.models.adult import AdultConcern
from app.models.referral import Referral
from app.public.codes import Awareness, census_source
from app.public.schemas import PublicAdultConcernIn, PublicChildConcernIn, PublicRaiser, PublicReceipt

PUBLIC = "public"
# Crockford's base 32: no I, L, O or U, so a reference read out on the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CONSENT_NOT_SOUGHT = (
    "Raised by a member of the public through the council's online form: the parents' consent to the "
    "referral was not sought."
)


def caller(agency: AgencyCode) -> Principal:
    """The public, at ``agency``'s door. Its role is no ``Role`` a token may carry (``public``)."""
    return Principal(sub=PUBLIC, agency=agency, role=cast(Role, PUBLIC), scopes=frozenset())


def new_reference(door: str) -> str:
    """A reference the raiser can quote: ``PUB-A-7K3Q-9XMD`` (``door``: A adults, C children)."""
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"PUB-{door}-{code[:4]}-{code[4:]}"


def _raiser(raiser: PublicRaiser, relationship_key: str, **about: Any) -> dict[str, Any]:
    details = {
        "anonymous": raiser.anonymous,
        relationship_key: str(raiser.relationship),
        "name": raiser.name,
        "phone": raiser.phone,
        "email": None if raiser.email is None else str(raiser.email),
        "feedback": str(raiser.feedback),
        **about,
    }
    return {key: value for key, value in details.items() if value is not None}


async def raise_adult_concern(
    session: AsyncSession, clock: WorkingClock, body: PublicAdultConcernIn
) -> tuple[AdultConcern, PublicReceipt]:
    actor = caller(AgencyCode.ADULT_SOCIAL_CARE)
    adult = body.adult
    # Validated as the public's body; the concern service takes it as it would an agency's, but for the
    # raiser (``from_public``), so it is built unvalidated and without one.
    fields: dict[str, Any] = {
        "adult": AdultIn.model_construct(
            given_name=adult.given_name,
            family_name=adult.family_name,
            date_of_birth=adult.date_of_birth,
            nhs_number=None,
            address_lines=adult.address_lines,
            postcode=adult.postcode,
            gender=None,
            ethnicity=None,
            primary_support_reason=None,
        ),
        "allegations": [
            AllegationIn.model_construct(
                type_of_risk=risk,
                location_of_risk=body.location_of_risk,
                source_of_risk=body.source_of_risk,
                description=body.what_happened,
                alleged_person=None,
            )
            for risk in body.types_of_risk
        ],
        "adult_views": None,
        "desired_outcomes": body.adult_wishes,
        "consent_to_share": None,
        "concerns_about_capacity": False,
        "external_reference": new_reference("A"),
    }
    data = AdultConcernCreate.model_construct(**fields)
    raised_by = _raiser(
        body.raiser,
        "relationship_to_adult",
        adult_knows=str(body.adult_knows),
        approximate_age=adult.approximate_age,
    )
    concern = await concerns.create(session, actor, data, clock, from_public=raised_by)
    return concern, receipt(concern.external_reference, concern.received_at)


async def raise_child_concern(
    session: AsyncSession, clock: WorkingClock, body: PublicChildConcernIn
) -> tuple[Referral, PublicReceipt]:
    actor = caller(AgencyCode.CHILDRENS_SOCIAL_CARE)
    children = [
        ChildIn.model_construct(
            given_name=child.given_name,
            family_name=child.family_name,
            date_of_birth=child.date_of_birth,
            expected_date_of_birth=None,
            nhs_number=None,
            address=AddressIn.model_construct(lines=child.address_lines or [], postcode=child.postcode)
            if child.address_lines or child.postcode
            else None,
            gender=None,
            ethnicity=None,
        )
        for child in body.children
    ]
    ages = [child.approximate_age for child in body.children]
    raiser = body.raiser
    fields: dict[str, Any] = {
        "children": children,
        "household": [],
        "concern_categories": body.concern_categories,
        "concern_summary": body.what_happened,
        "referral_source": census_source(raiser.relationship, anonymous=raiser.anonymous),
        "parental_consent": ParentalConsent.model_construct(
            informed=body.parents_know is Awareness.YES,
            consented=False,
            reason_not_informed=CONSENT_NOT_SOUGHT,
        ),
        "do_not_inform_parents": False,
        "do_not_inform_reason": None,
        "external_reference": new_reference("C"),
    }
    data = ReferralCreate.model_construct(**fields)
    referrer = _raiser(
        raiser,
        "relationship",
        parents_know=str(body.parents_know),
        approximate_ages=ages if any(age is not None for age in ages) else None,
    )
    made = await referrals.create(session, actor, data, clock, from_public=referrer)
    return made.referral, receipt(made.referral.external_reference, made.referral.received_at)


def receipt(reference: str | None, received_at: Any) -> PublicReceipt:
    assert reference is not None
    return PublicReceipt(reference=reference, received_at=received_at)
