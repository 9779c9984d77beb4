"""The change feed's page and events, as a partner system polls them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from app.core.schemas import ResponseModel, SequenceNumber, Sub, example
from app.governance.feed.rules import EventType, RecordType, View

_EVENTS = [
    {
        "seq": 1041,
        "id": "6b1f0c9e-2d4a-4e8b-9c7d-1a2b3c4d5e6f",
        "occurred_at": "2026-11-23T08:40:00Z",
        "event_type": "referral.rated",
        "record_type": "referral",
        "record_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
        "view": "referrer",
        "status": "triaged",
        "actor": {"sub": None, "agency": "childrens_social_care", "role": None},
        "data": {"rating": "red"},
    },
    {
        "seq": 1047,
        "id": "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
        "occurred_at": "2026-11-23T09:05:00Z",
        "event_type": "contribution.requested",
        "record_type": "referral",
        "record_id": "7d4c2a10-9b8e-4f6d-a1c2-3e4f5a6b7c8d",
        "view": "referrer",
        "status": "gathering_information",
        "actor": {"sub": None, "agency": "childrens_social_care", "role": None},
        "data": {},
    },
]


class FeedActor(ResponseModel):
    sub: Sub | None = Field(
        description="Who did it; null when they are of another agency and you are a partner."
    )
    agency: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")]
    role: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")] | None = Field(
        description="Their role; null when they are of another agency and you are a partner."
    )


class FeedEvent(ResponseModel):
    model_config = example(_EVENTS[0])

    seq: SequenceNumber = Field(
        description="Position in the service-wide commit order; increases along the feed."
    )
    id: uuid.UUID = Field(description="The event's id: stable, use it to deduplicate if you need to.")
    occurred_at: datetime
    event_type: EventType = Field(
        description="What happened; the table in the operation's description lists them."
    )
    record_type: RecordType = Field(description="The kind of record the event is about.")
    record_id: uuid.UUID = Field(
        description="The record: GET it at /v1/referrals, /v1/adult-concerns or /v1/safeguarding-plans."
    )
    view: View = Field(
        description="Why you see the event: `full` for the hub on its side, else your agency's part in the record."
    )
    status: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")] | None = Field(
        description="The record's status after the event, when the event changed it (not shown to an asked agency)."
    )
    actor: FeedActor
    data: dict[str, object] = Field(
        description="Codes and ids describing the event, as much as your view shows."
    )


class FeedPage(ResponseModel):
    model_config = example({"items": _EVENTS, "next_cursor": "WzEwNTBd"})

    items: list[FeedEvent] = Field(max_length=MAX_LIMIT)
    next_cursor: str = Field(
        max_length=MAX_CURSOR_LENGTH,
        description=(
            "Never null: store it and pass it as `cursor` on your next poll. It points after everything "
            "this page examined, including events you may not see, so the next poll starts where this one "
            'stopped. A `Link: rel="next"` header says more may be read now; without it you have caught up.'
        ),
    )
