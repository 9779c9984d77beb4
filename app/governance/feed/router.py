"""/v1/events: the partner change feed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from app.core.db import DbSession
from app.core.errors import ValidationFailed
from app.core.pagination import Paging
from app.core.principals import EventsRead
from app.core.routing import Router
from app.governance.feed import service
from app.governance.feed.rules import EventType, RecordType, markdown_table
from app.governance.feed.schemas import FeedEvent, FeedPage

router = Router(prefix="/v1/events", tags=["Change feed"])

DESCRIPTION = f"""
Every change to a case record is written as an event in the same transaction as the change (a
transactional outbox): a change that rolls back leaves no event, and every committed change has one.
Events are numbered (`seq`) in commit order, while the transaction holds the lock that serialises
commits, so event *n + 1* can only become visible after event *n* has committed: reading in `seq`
order never skips an event that commits later.

**Polling.** Start without a `cursor` (from the first event ever), or with `from=now` to start from
today: that answers an empty page whose `next_cursor` is the newest event, so you see only what
happens next. Then store `next_cursor` and pass it as `cursor` on your next poll. It is returned on
every page, the last one included, and points past everything the page examined, so you see each
event once, in order, with none missed. A `Link: rel="next"` header means read on now; without it you
have caught up: poll again later with `next_cursor`. (The page has the shape of every list,
`{{items, next_cursor}}`; only here is `next_cursor` never null, because a feed has no last page.)
When nothing is newer than your cursor the page is empty and `next_cursor` is your cursor again. A
page examines at most {service.SCAN_WINDOW:,} events, so it may hold fewer than `limit` (even none)
while a `Link` is sent. Filters (`record_type`, `event_type`, `mine`) keep the same cursor meaning:
keep the same filters between polls. A cursor this API did not issue, or from beyond the newest
event, is refused (422 `invalid_cursor`).

**Mine.** `mine=true` keeps the events on referrals and adult concerns that the caller made: its
client's, when the token came from `/oauth/token`, or its `sub`'s. Every event on a referral or a
concern carries the sender's `external_reference` in `data` (for the sender and the hub), when the
record has one.

**Who sees what.** Children's social care sees every event on referrals and adult social care every
event on adult concerns and safeguarding plans (`view: full`). Any other agency sees an event only
through its part in the record (`view`), only the types below, and only the `data` keys listed (an
agency that made a referral and was asked about it sees both views' keys where both apply); an
actor of another agency is shown without `sub` or `role`. Nothing else is shown (deny by default).
`status` is the record's status after the event, when the event changed it (an asked agency, which
does not see the referral's status, gets null). A page that returns events is audited (the records'
ids, no personal data); an empty page reads no case data and is not.

{markdown_table()}
"""


@router.get(
    "",
    summary="Poll the change feed: events about records the caller's agency may see, in commit order",
    description=DESCRIPTION,
    responses={
        200: {
            "headers": {
                "Link": {
                    "description": 'Sent when more events may be read now: `<url>; rel="next"` reads on from `next_cursor`.',
                    "schema": {"type": "string", "maxLength": 2048},
                }
            }
        },
    },
)
async def list_events(
    principal: EventsRead,
    session: DbSession,
    paging: Paging,
    record_type: Annotated[
        RecordType | None, Query(description="Only events about records of this type.")
    ] = None,
    event_type: Annotated[
        list[EventType] | None,
        Query(description="Only events of these types (repeat the parameter for several).", max_length=40),
    ] = None,
    mine: Annotated[
        bool,
        Query(description="Only events on the referrals and adult concerns the caller (its client) made."),
    ] = False,
    from_: Annotated[
        Literal["now"] | None,
        Query(
            alias="from",
            description="`now`: an empty page whose `next_cursor` is the newest event, to poll from today. "
            "Not with `cursor`.",
        ),
    ] = None,
) -> FeedPage:
    if from_ is not None:
        if paging.params.cursor is not None:
            raise ValidationFailed(["query", "from"], "Give `from` or `cursor`, not both.")
        return FeedPage(items=[], next_cursor=await service.head(session))
    filters = service.FeedFilters(record_type=record_type, event_types=event_type or (), mine=mine)
    page = await service.read(session, principal, paging.params, filters)
    paging.link(page.next_cursor if page.more else None)
    return FeedPage(
        items=[FeedEvent.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )
