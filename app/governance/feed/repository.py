"""Queries of the change feed: a page of the events an agency may see, in commit order.

Who sees what is decided in SQL, from the table in ``rules``: a CASE expression names the view
through which the caller sees each event (NULL: not at all), so a page is one statement,
``WHERE seq > :after AND seq <= :upto AND <view> IS NOT NULL ORDER BY seq LIMIT :n``. It walks the
primary key from the cursor, joined one to one, by primary or unique key, with the record each event
is on (the referral; the adult concern and its section 42 decision), so each test is an index probe
per event examined. (Correlated EXISTS were planned as hashes of every record of the agency, built
on every poll: bench/feed_query.py, on a million events, measured a police page over a 5,000-event
window at 150 ms with them and 17 ms with the joins.) The rest are index probes too: contributions by referral, plan_actions by plan, and case_events' own
(aggregate_type, aggregate_id, seq) index for the first request on a referral.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.adults.concerns import access as concern_access
from app.adults.plans import access as plan_access
from app.children.codes import ContributionStatus
from app.children.referrals import access as referral_access
from app.core import events
from app.core.auth import Principal
from app.governance.feed.rules import (
    FEED,
    PARTNER_VIEWS,
    VIEW_STREAMS,
    EventType,
    Only,
    RecordType,
    View,
    When,
    types_for,
)
from app.models.adult import AdultConcern, Section42DecisionRecord
from app.models.event import CaseEvent
from app.models.referral import Contribution, Referral


class JsonUuid(FunctionElement[uuid.UUID]):
    """A UUID written as text in an event's ``data``, comparable with a UUID column on both databases
    (PostgreSQL stores a uuid; SQLite the 32 hex digits without hyphens)."""

    type = sa.Uuid()
    name = "json_uuid"
    inherit_cache = True


@compiles(JsonUuid)
def _json_uuid_postgresql(element: JsonUuid, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS UUID)"


@compiles(JsonUuid, "sqlite")
def _json_uuid_sqlite(element: JsonUuid, compiler: SQLCompiler, **kw: Any) -> str:
    return f"REPLACE({compiler.process(element.clauses, **kw)}, '-', '')"


def _data(key: str) -> sa.ColumnElement[str]:
    value: sa.ColumnElement[str] = CaseEvent.data[key].as_string()
    return value


_Earlier = aliased(CaseEvent)


class Seen(NamedTuple):
    """An event the caller may see, the view it sees it through, and the sender's reference of the
    referral or concern it is on."""

    event: CaseEvent
    view: View
    external_reference: str | None


def _condition(only: Only, agency: str) -> sa.ColumnElement[bool]:
    if only is Only.FIRST_REQUEST:
        return ~sa.exists().where(
            _Earlier.aggregate_type == CaseEvent.aggregate_type,
            _Earlier.aggregate_id == CaseEvent.aggregate_id,
            _Earlier.seq < CaseEvent.seq,
            _Earlier.event_type == EventType.CONTRIBUTION_REQUESTED,
        )
    if only in (Only.ADDRESSED_TO_CALLER, Only.OWN_ACTION):
        return _data("agency") == agency
    if only is Only.CANCELLED_REQUEST:
        return sa.exists().where(
            Contribution.referral_id == CaseEvent.aggregate_id,
            Contribution.agency == agency,
            Contribution.status == ContributionStatus.CANCELLED,
        )
    if only is Only.FEEDBACK_NOT_LIMITED:
        return Section42DecisionRecord.feedback_limited_reason.is_(None)  # joined: see _visible
    raise AssertionError(only)


def _part(view: View, agency: str) -> sa.ColumnElement[bool] | None:
    """The agency has this part in the event's record, as each record's access module says (None: the
    view's conditions say it)."""
    if view is View.REFERRER:
        return referral_access.made_by(agency)  # joined: see _visible
    if view is View.ASKED_AGENCY:
        return None  # a request names the agency asked; a cancellation is looked up
    if view is View.RAISER:
        return concern_access.raised_by(agency)  # joined: see _visible
    if view is View.ACTION_OWNER:
        # Every plan event carries its plan's id, on whichever stream it was written.
        return plan_access.owns_action_in(agency, JsonUuid(_data("plan_id")))
    raise AssertionError(view)


def _sees_through(view: View, agency: str) -> sa.ColumnElement[bool]:
    by_condition: dict[Only | None, list[str]] = {}
    for event_type, shown in types_for(view).items():
        by_condition.setdefault(shown.only, []).append(str(event_type))
    kinds = [
        CaseEvent.event_type.in_(types)
        if only is None
        else sa.and_(CaseEvent.event_type.in_(types), _condition(only, agency))
        for only, types in by_condition.items()
    ]
    part = _part(view, agency)
    clauses = [CaseEvent.aggregate_type.in_(VIEW_STREAMS[view]), sa.or_(*kinds)]
    return sa.and_(*clauses, *([] if part is None else [part]))


def hub_streams(principal: Principal) -> list[str]:
    """The streams the caller's agency sees whole, as the hub of their side."""
    streams = []
    if referral_access.is_hub(principal):
        streams.append(RecordType.REFERRAL.value)
    if concern_access.is_hub(principal):
        streams += [
            RecordType.ADULT_CONCERN.value,
            RecordType.SAFEGUARDING_PLAN.value,
            RecordType.SAFEGUARDING_ADULTS_REVIEW.value,
        ]
    return streams


def view_of(principal: Principal) -> sa.ColumnElement[str | None]:
    """The view through which the caller sees each event, or NULL when it may not see it. It reads
    the columns of the records ``_visible`` joins."""
    agency = str(principal.agency)
    whens: list[tuple[sa.ColumnElement[bool], str]] = []
    streams = hub_streams(principal)
    if streams:
        whens.append((CaseEvent.aggregate_type.in_(streams), str(View.FULL)))
    whens += [(_sees_through(view, agency), str(view)) for view in PARTNER_VIEWS]
    return sa.case(*whens, else_=sa.null())


def _about(record_type: RecordType) -> sa.ColumnElement[bool]:
    """Events about records of this type (a plan's events may be on its concern's stream)."""
    named = [str(t) for t, rule in FEED.items() if rule.record_type is record_type]
    unnamed = sa.and_(
        CaseEvent.event_type.not_in([str(t) for t in FEED]), CaseEvent.aggregate_type == record_type
    )
    return sa.or_(CaseEvent.event_type.in_(named), unnamed)


def _visible(principal: Principal) -> sa.Select[CaseEvent, str | None, str | None]:
    """The events the caller may see, each with its view and the sender's reference of the record it is
    on (a referral's or a concern's ``external_reference``), in order."""
    view = view_of(principal)
    reference = sa.func.coalesce(Referral.external_reference, AdultConcern.external_reference)
    return (
        sa.select(CaseEvent, view, reference)
        # Each event joins at most one row of each: by primary key, or by the unique concern_id.
        .outerjoin(
            Referral, sa.and_(CaseEvent.aggregate_type == "referral", Referral.id == CaseEvent.aggregate_id)
        )
        .outerjoin(
            AdultConcern,
            sa.and_(CaseEvent.aggregate_type == "adult_concern", AdultConcern.id == CaseEvent.aggregate_id),
        )
        .outerjoin(
            Section42DecisionRecord,
            sa.and_(
                CaseEvent.aggregate_type == "adult_concern",
                Section42DecisionRecord.concern_id == CaseEvent.aggregate_id,
            ),
        )
        # The view is written twice (SELECT and WHERE), but only computed in SELECT for the page's
        # rows. Kept in one query, with the LIMIT, so the planner walks the primary key and probes
        # indexes row by row (a subquery computing it once was planned for the whole window instead).
        .where(view.is_not(None))
        .order_by(CaseEvent.seq)
    )


def made_by(sub: str) -> sa.ColumnElement[bool]:
    """Events about a referral or an adult concern that ``sub`` (a person, or a client's id) made (the
    records ``_visible`` joins); not a plan's events on its concern's stream."""
    return sa.and_(
        sa.or_(Referral.referred_by == sub, AdultConcern.raised_by_sub == sub),
        sa.not_(_about(RecordType.SAFEGUARDING_PLAN)),
    )


def visible_to(
    principal: Principal,
    after: int,
    upto: int,
    record_type: RecordType | None = None,
    event_types: Collection[EventType] = (),
    *,
    mine: bool = False,
) -> sa.Select[CaseEvent, str | None, str | None]:
    """The events with ``after < seq <= upto`` that the caller may see, each with its view, in order;
    only those on records the caller made when ``mine``."""
    stmt = _visible(principal).where(CaseEvent.seq > after, CaseEvent.seq <= upto)
    if record_type is not None:
        stmt = stmt.where(_about(record_type))
    if event_types:
        stmt = stmt.where(CaseEvent.event_type.in_([str(t) for t in event_types]))
    if mine:
        stmt = stmt.where(made_by(principal.sub))
    return stmt


async def head(session: AsyncSession) -> int:
    """The last event's ``seq``. Every event up to it has committed: each was numbered, under the
    audit chain's lock, only after the one before it committed."""
    return int(await session.scalar(events.last_seq(session)) or 0)


async def page(
    session: AsyncSession,
    principal: Principal,
    after: int,
    upto: int,
    limit: int,
    record_type: RecordType | None = None,
    event_types: Collection[EventType] = (),
    *,
    mine: bool = False,
) -> list[Seen]:
    """Up to ``limit`` events with ``after < seq <= upto`` that the caller may see, with their view."""
    stmt = visible_to(principal, after, upto, record_type, event_types, mine=mine).limit(limit)
    # The WHERE clause keeps only rows with a view.
    return [Seen(event, View(str(name)), reference) for event, name, reference in await session.execute(stmt)]


async def on_stream(
    session: AsyncSession,
    principal: Principal,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[Seen]:
    """The events on one stream after ``after`` that the caller may see, with their view, at most
    ``limit`` (the stream's own (aggregate_type, aggregate_id, seq) index serves it)."""
    stmt = _visible(principal).where(
        CaseEvent.aggregate_type == aggregate_type,
        CaseEvent.aggregate_id == aggregate_id,
        CaseEvent.seq > after,
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Seen(event, View(str(name)), reference) for event, name, reference in await session.execute(stmt)]


async def first_seqs(
    session: AsyncSession, streams: Collection[tuple[str, uuid.UUID]]
) -> dict[tuple[uuid.UUID, str], int]:
    """For each stream (aggregate type, id), the ``seq`` of its first event of each type whose status
    change depends on what came before (a referral's first rating, its first request to an agency)."""
    types = {str(t) for t, rule in FEED.items() if rule.when is not When.ALWAYS}
    types.add(str(EventType.CONTRIBUTION_REQUESTED))  # a returned decision goes back to gathering
    if not streams:
        return {}
    rows = await session.execute(
        sa.select(CaseEvent.aggregate_id, CaseEvent.event_type, sa.func.min(CaseEvent.seq))
        .where(
            # Both columns, so the (aggregate_type, aggregate_id, seq) index serves it.
            CaseEvent.aggregate_type.in_(sorted({kind for kind, _ in streams})),
            CaseEvent.aggregate_id.in_(sorted({record for _, record in streams})),
            CaseEvent.event_type.in_(sorted(types)),
        )
        .group_by(CaseEvent.aggregate_id, CaseEvent.event_type)
    )
    return {(aggregate_id, event_type): int(seq) for aggregate_id, event_type, seq in rows}


async def cancelled_requests(
    session: AsyncSession, referral_ids: Collection[uuid.UUID], agency: str
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The agency's requests on each referral that its withdrawal cancelled."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    if referral_ids:
        rows: Sequence[Contribution] = (
            await session.scalars(
                sa.select(Contribution)
                .where(
                    Contribution.referral_id.in_(list(referral_ids)),
                    Contribution.agency == agency,
                    Contribution.status == ContributionStatus.CANCELLED,
                )
                .order_by(Contribution.requested_at, Contribution.id)
            )
        ).all()
        for contribution in rows:
            found.setdefault(contribution.referral_id, []).append(contribution.id)
    return found
