"""Reading the change feed: a page from a stored cursor, each event shaped to the caller's view.

The cursor is a position in the commit order (``seq``), not an event the caller saw: a page moves it
past everything examined, visible or not, so a partner that polls from its stored cursor neither
misses an event nor sees one twice, and never walks again over events it may not see. A page
examines at most ``SCAN_WINDOW`` events, so one poll's cost is bounded however sparse the caller's
events are; ``more`` says whether to read on now.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import ReferralStatus
from app.core import audit
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.errors import AppError
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.governance.feed import access, repository
from app.governance.feed.repository import Seen
from app.governance.feed.rules import (
    RULES,
    EventType,
    Only,
    RecordType,
    Rule,
    Shown,
    View,
    When,
    record_type_of,
)
from app.models.event import CaseEvent

RECORD_TYPE = "case_event"
# The most events one page examines (visible to the caller or not).
SCAN_WINDOW = 2_000


@dataclass(frozen=True, slots=True)
class FeedFilters:
    record_type: RecordType | None = None
    event_types: Collection[EventType] = ()
    mine: bool = False  # only events on records the caller (its sub, or its client) made


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str
    more: bool  # more may be read now: the router links the next page


def _position(cursor: str | None, head: int) -> int:
    if cursor is None:
        return 0
    (after,) = decode_cursor(cursor, [CaseEvent.seq])
    # Positions only grow, so one past the head was never issued (or the database went back in time:
    # events after the restore would reuse positions the client has passed, so it must start again).
    if isinstance(after, bool) or not 0 <= after <= head:
        raise AppError(code="invalid_cursor")
    return int(after)


async def read(session: AsyncSession, actor: Principal, params: PageParams, filters: FeedFilters) -> Page:
    head = await repository.head(session)
    after = _position(params.cursor, head)
    upto = min(head, after + SCAN_WINDOW)
    rows = await repository.page(
        session,
        actor,
        after,
        upto,
        params.limit + 1,
        filters.record_type,
        filters.event_types,
        mine=filters.mine,
    )
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        position, more = rows[-1].event.seq, True
    else:
        position, more = upto, upto < head
    page = Page(await _shape(session, actor, rows), encode_cursor([position]), more)
    if page.items:
        # A page read is a read of case data; an empty one read none. Ids only: no personal data.
        record_ids: dict[str, list[str]] = {}
        for item in page.items:
            ids = record_ids.setdefault(f"{item['record_type']}_ids", [])
            if str(item["record_id"]) not in ids:
                ids.append(str(item["record_id"]))
        audit.record(
            session,
            actor,
            AuditAction.LIST,
            RECORD_TYPE,
            details={"after": after, "upto": position, "events": len(page.items), **record_ids},
        )
    return page


async def head(session: AsyncSession) -> str:
    """A cursor at the newest event: polling from it sees only what happens from now on."""
    return encode_cursor([await repository.head(session)])


async def on_record(
    session: AsyncSession, actor: Principal, aggregate_type: str, aggregate_id: uuid.UUID, params: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the events on one record that the caller may see, each as the feed shows it to them,
    and the cursor of the next page: a record's timeline is the feed read for that record, so the two
    cannot disagree. The caller audits the read."""
    after = 0
    if params.cursor is not None:
        (after,) = decode_cursor(params.cursor, [CaseEvent.seq])
        if isinstance(after, bool) or after < 0:
            raise AppError(code="invalid_cursor")
    rows = await repository.on_stream(
        session, actor, aggregate_type, aggregate_id, after=after, limit=params.limit + 1
    )
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor([rows[-1].event.seq])
    return await _shape(session, actor, rows), next_cursor


def _status(rule: Rule | None, event: CaseEvent, firsts: dict[tuple[uuid.UUID, str], int]) -> str | None:
    if rule is None or rule.status is None:
        return None
    if rule.when is When.FIRST_OF_TYPE:
        return rule.status if firsts.get((event.aggregate_id, event.event_type)) == event.seq else None
    if rule.when is When.RETURNED:
        asked = firsts.get((event.aggregate_id, str(EventType.CONTRIBUTION_REQUESTED)))
        return (
            ReferralStatus.GATHERING_INFORMATION if asked is not None and asked < event.seq else rule.status
        )
    return rule.status


def _asked(
    shown: Shown, event: CaseEvent, caller: Principal, cancelled: dict[uuid.UUID, list[uuid.UUID]]
) -> bool:
    """Whether the asked agency's condition holds for ``caller`` (as the SQL's does)."""
    if shown.only is Only.ADDRESSED_TO_CALLER:
        return access.addressed_to(event, caller)
    if shown.only is Only.CANCELLED_REQUEST:
        return bool(cancelled.get(event.aggregate_id))
    return shown.only is None


# The views that carry the sender's reference of the record: its sender and its hub (an asked agency or
# a plan's action owner is not told another agency's incident number).
REFERENCE_VIEWS = frozenset({View.FULL, View.REFERRER, View.RAISER})
REFERENCED_RECORDS = frozenset({RecordType.REFERRAL, RecordType.ADULT_CONCERN})


async def _shape(session: AsyncSession, actor: Principal, rows: Sequence[Seen]) -> list[dict[str, Any]]:
    context = {
        (e.aggregate_type, e.aggregate_id)
        for e, _, _ in rows
        if (rule := RULES.get(e.event_type)) is not None and rule.when is not When.ALWAYS
    }
    firsts = await repository.first_seqs(session, context)
    withdrawn = {
        e.aggregate_id
        for e, view, _ in rows
        if view in (View.ASKED_AGENCY, View.REFERRER) and e.event_type == EventType.REFERRAL_WITHDRAWN
    }
    cancelled = await repository.cancelled_requests(session, withdrawn, actor.agency)

    items = []
    for event, view, reference in rows:
        rule = RULES.get(event.event_type)
        record_type = record_type_of(event.aggregate_type, event.event_type)
        record_id = event.aggregate_id
        data: dict[str, Any] = dict(event.data)
        if record_type == RecordType.SAFEGUARDING_PLAN:
            record_id = uuid.UUID(str(data["plan_id"]))
        actor_out: dict[str, str | None] = {
            "sub": event.actor_sub,
            "agency": event.actor_agency,
            "role": event.actor_role,
        }
        if view is View.FULL:
            if (
                record_type == RecordType.SAFEGUARDING_PLAN
                and event.aggregate_type == RecordType.ADULT_CONCERN
            ):
                data["concern_id"] = str(event.aggregate_id)
        else:
            shown = None if rule is None else rule.shown(view)
            assert rule is not None and shown is not None, "the SQL and the table disagree"
            keys = [
                k
                for k in shown.keys
                if not (event.data.get("feedback_limited") and k in shown.unless_limited)
            ]
            also = rule.asked_agency if view is View.REFERRER else None
            if also is not None and _asked(also, event, actor, cancelled):
                keys += also.keys  # the referrer was asked too: what it sees as the asked agency
            data = {key: data[key] for key in keys if key in data}
            if "cancelled_contribution_ids" in keys:
                data["cancelled_contribution_ids"] = [str(c) for c in cancelled.get(event.aggregate_id, [])]
            if not access.names_actor(event, actor):
                actor_out = {"sub": None, "agency": event.actor_agency, "role": None}
        if reference is not None and view in REFERENCE_VIEWS and record_type in REFERENCED_RECORDS:
            data["external_reference"] = reference
        items.append(
            {
                "seq": event.seq,
                "id": event.id,
                "occurred_at": event.occurred_at,
                "event_type": event.event_type,
                "record_type": record_type,
                "record_id": record_id,
                "view": view,
                # An asked agency does not see the referral's status, only its own requests.
                "status": None if view is View.ASKED_AGENCY else _status(rule, event, firsts),
                "actor": actor_out,
                "data": data,
            }
        )
    return items
