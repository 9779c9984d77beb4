from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.codes import SpecialCategoryCondition
from app.core.schemas import RequestId, ResponseModel, Sub, example
from app.core.scopes import AgencyCode, Role
from app.models.disclosure import Disclosure
from app.people.disclosures.codes import DisclosureBasis, DisclosurePurpose, DisclosureTrigger, RecipientType

_DISCLOSURE = {
    "id": "0b6a4c2e-5d1f-4e3a-9b8c-7d6e5f4a3b2c",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "record_type": "contribution",
    "record_id": "8c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f",
    "trigger": "contribution_request",
    "recipient_type": "agency",
    "recipient_agency": "health",
    "purpose": "mash_information_request",
    "lawful_basis": "uk_gdpr_6_1_e_public_task",
    "special_category_condition": "uk_gdpr_9_2_g_dpa_2018_sch_1_para_18",
    "disclosed_at": "2026-11-23T10:20:00Z",
    "disclosed_by": {
        "sub": "practitioner-ann",
        "agency": "childrens_social_care",
        "role": "mash_practitioner",
    },
    "request_id": "5f0c6d2a9b8e4c1d8f7a6b5c4d3e2f10",
    "subject_access_request_id": None,
}


class DisclosedBy(ResponseModel):
    sub: Sub = Field(description="The principal whose request made the disclosure (for a read, the reader).")
    agency: AgencyCode
    role: Role


class DisclosureOut(ResponseModel):
    """One giving of information about the person: what, to whom, why, on what basis, when, by whom."""

    model_config = example(_DISCLOSURE)

    id: uuid.UUID
    person_id: uuid.UUID = Field(description="The person the information is about.")
    record_type: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")] = Field(
        description="What was given: `contribution` (a request naming the child), `referral`, "
        "`referral_timeline`, `adult_concern`, `enquiry`, `safeguarding_plan`, or `person` (an export)."
    )
    record_id: uuid.UUID
    trigger: DisclosureTrigger = Field(
        description="`contribution_request`: the hub asked the agency about the child; `read`: the agency "
        "opened the record; `export`: a subject access export."
    )
    recipient_type: RecipientType
    recipient_agency: AgencyCode | None = Field(
        description="The agency given the information; null for an export."
    )
    purpose: DisclosurePurpose
    lawful_basis: DisclosureBasis = Field(description="The UK GDPR Article 6 basis.")
    special_category_condition: SpecialCategoryCondition | None = Field(
        description="The UK GDPR Article 9 condition, where the information is special category data."
    )
    disclosed_at: datetime
    disclosed_by: DisclosedBy
    request_id: RequestId | None = Field(
        description="The API request that made it; the audit trail carries the same id."
    )
    subject_access_request_id: uuid.UUID | None = Field(description="For an export: the request it answered.")


def disclosure_out(row: Disclosure, person_id: uuid.UUID) -> DisclosureOut:
    """``person_id``: the person whose log it is (the row may name them through a case row)."""
    return DisclosureOut.model_validate(
        {
            "id": row.id,
            "person_id": person_id,
            "record_type": row.record_type,
            "record_id": row.record_id,
            "trigger": row.trigger,
            "recipient_type": row.recipient_type,
            "recipient_agency": row.recipient_agency,
            "purpose": row.purpose,
            "lawful_basis": row.lawful_basis,
            "special_category_condition": row.special_category_condition,
            "disclosed_at": row.disclosed_at,
            "disclosed_by": {"sub": row.actor_sub, "agency": row.actor_agency, "role": row.actor_role},
            "request_id": row.request_id,
            "subject_access_request_id": row.subject_access_request_id,
        }
    )
