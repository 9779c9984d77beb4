from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field

from app.adults.codes import AdvocateKind
from app.core.schemas import MULTI_LINE, Line200, Phone, ReachableModel, RequestModel, ResponseModel, example


class Contact(ReachableModel):
    phone: Phone | None = None
    email: EmailStr | None = None


_ADVOCATE = {
    "name": "Sam Okoye",
    "organisation": "Waltham Forest Advocacy Service",
    "kind": "care_act",
    "contact": {"phone": "020 7946 0202", "email": "advocacy@example.org"},
}


class AdvocateIn(RequestModel):
    model_config = example(_ADVOCATE)

    name: Line200
    organisation: Line200
    kind: AdvocateKind = Field(
        description="care_act: Care Act 2014 advocate; imca: Independent Mental Capacity Advocate."
    )
    contact: Contact


class AdvocateOut(ResponseModel):
    model_config = example(
        {**_ADVOCATE, "id": "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e", "created_at": "2026-11-20T09:00:00Z"}
    )

    id: uuid.UUID
    name: Line200
    organisation: Line200
    kind: AdvocateKind
    contact: dict[str, Annotated[str, Field(max_length=254, pattern=MULTI_LINE)]] = Field(
        description="`phone` and/or `email`."
    )
    created_at: datetime
