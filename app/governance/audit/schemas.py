"""The audit trail as auditors read it: one item per audited read or write, and the chain check."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from app.core.audit import ChainBreak
from app.core.pagination import Page
from app.core.schemas import (
    MAX_SUB_LENGTH,
    SINGLE_LINE,
    Count,
    RequestId,
    ResponseModel,
    SequenceNumber,
    Sub,
    example,
)

# Codes the service writes itself: actions, record types, agencies and roles (`system`, `cli` included).
Code = Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_.]+$")]
Sha256 = Annotated[str, Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]

_EVENT = {
    "seq": 1042,
    "id": "8c1e5d2a-3b4f-4a6c-9d7e-1f2a3b4c5d6e",
    "occurred_at": "2026-11-24T10:15:03.120456Z",
    "request_id": "5f0c6d2a9b8e4c1d8f7a6b5c4d3e2f10",
    "actor": {"sub": "practitioner-ann", "agency": "childrens_social_care", "role": "mash_practitioner"},
    "action": "read",
    "record_type": "referral",
    "record_id": "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10",
    "person_id": "5b0d7c1e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
    "details": {},
    "prev_hash": "3f1c0e4b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
    "hash": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
}


class AuditOrder(StrEnum):
    """The order of the audit trail's list, by `seq`."""

    OLDEST_FIRST = "oldest_first"
    NEWEST_FIRST = "newest_first"


class AuditActor(ResponseModel):
    sub: Sub = Field(description="The token's subject: the user or partner system that acted.")
    agency: Code = Field(description="The agency it acted for (`system` for the command line).")
    role: Code = Field(description="Its role at the time.")


class AuditEventOut(ResponseModel):
    model_config = example(_EVENT)

    seq: SequenceNumber = Field(description="Position in the chain, from 1, without gaps.")
    id: uuid.UUID
    occurred_at: datetime = Field(description="When the read or write happened.")
    request_id: RequestId | None = Field(
        description="The request's `X-Request-ID`, to match it with the logs."
    )
    actor: AuditActor
    action: Code = Field(description="`create`, `read`, `list`, `update`, `revoke`, `export`, `search`, ...")
    record_type: Code = Field(description="What kind of record, e.g. `referral`, `adult_concern`.")
    record_id: Annotated[str, Field(max_length=MAX_SUB_LENGTH, pattern=SINGLE_LINE)] | None = Field(
        description="Which record; null for lists and searches."
    )
    person_id: uuid.UUID | None = Field(description="The person the record is about, when there is one.")
    details: dict[str, Any] = Field(description="Identifiers and codes only (e.g. the fields changed).")
    prev_hash: Sha256 = Field(description="`hash` of the previous entry (64 zeros for the first).")
    hash: Sha256 = Field(description="SHA-256 of this entry's canonical form, which includes `prev_hash`.")


class AuditEventPage(Page[AuditEventOut]):
    pass


class AuditVerification(ResponseModel):
    model_config = example(
        {
            "valid": True,
            "checked": 1043,
            "first_invalid_id": None,
            "first_invalid_seq": None,
            "reason": None,
            "head_seq": 1043,
            "verified_at": "2026-11-24T10:16:00Z",
        },
        {
            "valid": False,
            "checked": 41,
            "first_invalid_id": "8c1e5d2a-3b4f-4a6c-9d7e-1f2a3b4c5d6e",
            "first_invalid_seq": 42,
            "reason": "hash_mismatch",
            "head_seq": 1043,
            "verified_at": "2026-11-24T10:16:00Z",
        },
    )

    valid: bool = Field(description="True when every entry up to the head matches its hash and its link.")
    checked: Count = Field(description="Entries found valid, from the first, before any invalid one.")
    first_invalid_id: uuid.UUID | None = Field(
        description="The first entry that does not match; null when valid, when entries are missing "
        "from the end (`head_mismatch`), or for an auditor of a partner agency."
    )
    first_invalid_seq: SequenceNumber | None = Field(description="Where the chain breaks (its `seq`).")
    reason: ChainBreak | None = Field(
        description="`hash_mismatch`: the entry was changed; `broken_link`: an entry was changed and its "
        "hash recomputed, so the next one no longer follows it; `missing_row`: entries were deleted; "
        "`head_mismatch`: the last entries were deleted (the head names a later one) or the head was moved; "
        "`bad_checkpoint`: a signed checkpoint (`mash audit verify`) no longer matches its entry, whose chain "
        "was rewritten since, or its signature is not the service's."
    )
    head_seq: Count = Field(description="The chain's length according to its head when the check began.")
    verified_at: datetime
