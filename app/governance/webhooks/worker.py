"""``mash worker``: turns feed events into deliveries and sends them. Several may run at once.

Each round has two steps, each in short transactions of its own:

1. **Fan out.** For each active subscription behind the feed's head, lock it (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL: a subscription another worker holds is skipped), read the next page of the
   change feed *as the subscription's owner* (the feed's own rules and, on PostgreSQL, row-level
   security under the owner's agency decide what it sees; the read is audited as the owner's), insert
   one delivery per event (unique per subscription and event) and move the subscription's cursor past
   the page, in one transaction: an event becomes exactly one delivery, or none if the transaction
   rolls back and the next round reads the page again.
2. **Deliver.** Claim due deliveries of active subscriptions, as many as there are free slots of
   ``MASH_WEBHOOK_WORKER_BATCH`` (``FOR UPDATE SKIP LOCKED``), lease them (their next attempt moved past
   the longest a send can take) and commit, so no other worker takes them while they are sent; send
   each in a task of its own, outside any transaction (a receiver that hangs holds one slot until its
   timeout, never the worker); record the outcomes that finished meanwhile in one transaction (the
   delivery log; the retry scheduled with backoff, or the message given up and the subscription
   disabled once the retry window has passed). A worker that dies mid-send leaves its claims to
   expire: the message is sent again (at least once; ``webhook-id`` is the same).

SQLite takes its write lock at BEGIN: claims are serialised, and one worker is enough.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import audit, clock
from app.core.audit import AuditAction
from app.core.config import Settings
from app.core.db import apply_context, begin_read_only, commit, rollback, set_context
from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.governance.feed import repository as feed_repository
from app.governance.feed import service as feed_service
from app.governance.feed.rules import EventType
from app.governance.webhooks import secrets, sender
from app.governance.webhooks.access import as_owner
from app.governance.webhooks.schemas import WebhookDeliveryState, WebhookDisabledReason
from app.governance.webhooks.service import RECORD_TYPE, event_message
from app.models.base import table_of
from app.models.client import Client
from app.models.event import CaseEvent
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription

logger = logging.getLogger("mash.webhooks")
FAN_OUT_PAGE = 200
LEASE_MARGIN_SECONDS = 30.0
WORKER_SUB = "system:webhook-worker"


def backoff(settings: Settings, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before retrying after the ``attempt``-th failure: exponential, capped, with jitter (half
    fixed, half random, so retries of many messages spread out without ever coming back at once)."""
    delay = min(
        settings.webhook_retry_base_seconds * 2 ** (attempt - 1), settings.webhook_retry_max_delay_seconds
    )
    return float(delay / 2 + (rng or random).uniform(0, delay / 2))


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: uuid.UUID
    attempt: int
    created_at: datetime
    subscription_id: uuid.UUID
    url: str
    secret: str
    payload: dict[str, Any]


class Worker:
    """Sends up to ``MASH_WEBHOOK_WORKER_BATCH`` messages at once, claiming more as sends finish (a
    receiver that hangs holds one slot until its timeout, never the others), and records outcomes in
    batches: one transaction for every outcome that finished meanwhile."""

    def __init__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], http: httpx.AsyncClient
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.http = http
        self.in_flight: set[asyncio.Task[None]] = set()
        self.finished: list[tuple[Claimed, sender.Outcome]] = []
        self.wake = asyncio.Event()  # a send finished: a slot is free, an outcome is to be recorded

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.record_finished()
                busy = await self.fan_out() + await self.deliver_due()
            except Exception as exc:  # the database went away: say so, wait, try again
                logger.error("webhook round failed", extra={"error_type": type(exc).__name__})
                busy = 0
            if not busy:
                self.wake.clear()
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
                await asyncio.wait(
                    waits, timeout=self.settings.webhook_poll_interval_seconds, return_when="FIRST_COMPLETED"
                )
                for waiting in waits:
                    waiting.cancel()
        # Stopping: the sends under way end within their timeouts; their outcomes are recorded.
        if self.in_flight:
            await asyncio.gather(*self.in_flight, return_exceptions=True)
        await self.record_finished()

    # Fan out ---------------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        async with self.sessionmaker() as session:
            await begin_read_only(session)  # SQLite: an idle worker's look takes no write lock
            head = await feed_repository.head(session)
            behind = list(
                await session.scalars(
                    sa.select(WebhookSubscription.id)
                    .where(WebhookSubscription.active.is_(True), WebhookSubscription.cursor < head)
                    .order_by(WebhookSubscription.cursor)
                )
            )
            await rollback(session)
        made = 0
        for subscription_id in behind:
            made += await self._fan_out_one(subscription_id)
        return made

    async def _fan_out_one(self, subscription_id: uuid.UUID) -> int:
        async with self.sessionmaker() as session:
            try:
                return await self._read_feed_for(session, subscription_id)
            except BaseException:
                await rollback(session)
                raise

    async def _read_feed_for(self, session: AsyncSession, subscription_id: uuid.UUID) -> int:
        subscription = (
            await session.scalars(
                sa.select(WebhookSubscription)
                .where(WebhookSubscription.id == subscription_id, WebhookSubscription.active.is_(True))
                .with_for_update(skip_locked=True)
            )
        ).one_or_none()
        if subscription is None:  # another worker holds it, or it was disabled meanwhile
            await rollback(session)
            return 0
        if subscription.client_id is not None:
            revoked = await session.scalar(
                sa.select(Client.revoked_at.is_not(None)).where(Client.id == subscription.client_id)
            )
            if revoked:
                await _disable(session, subscription.id, WebhookDisabledReason.CLIENT_REVOKED)
                await commit(session)
                return 0
        owner = as_owner(subscription)
        # From here the transaction works for the owner: row-level security shows it what it may see.
        set_context(session, (str(owner.agency), str(owner.role)))
        await apply_context(session)
        page = await feed_service.read(
            session,
            owner,
            PageParams(limit=FAN_OUT_PAGE, cursor=encode_cursor([subscription.cursor])),
            feed_service.FeedFilters(event_types=[EventType(t) for t in subscription.event_types]),
        )
        now = clock.now()
        rows = [
            {
                "id": uuid.uuid4(),
                "subscription_id": subscription.id,
                "event_seq": item["seq"],
                "event_id": item["id"],
                "event_type": str(item["event_type"]),
                "payload": event_message(item),
                "state": WebhookDeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for item in page.items
        ]
        if rows:
            await session.execute(sa.insert(WebhookDelivery), rows)
        (position,) = decode_cursor(page.next_cursor, [CaseEvent.seq])
        await session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription.id)
            .values(cursor=int(position))
        )
        await commit(session)
        return len(rows) + (1 if int(position) != subscription.cursor else 0)

    # Deliver ---------------------------------------------------------------------------------------

    def lease_seconds(self) -> float:
        s = self.settings
        return s.webhook_connect_timeout_seconds + s.webhook_read_timeout_seconds + LEASE_MARGIN_SECONDS

    async def claim(self, limit: int) -> list[Claimed]:
        async with self.sessionmaker() as session:
            try:
                now = clock.now()
                due = list(
                    (
                        await session.execute(
                            sa.select(
                                WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret_encrypted
                            )
                            .join(
                                WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id
                            )
                            .where(
                                WebhookDelivery.state == WebhookDeliveryState.PENDING.value,
                                WebhookDelivery.next_attempt_at <= now,
                                WebhookSubscription.active.is_(True),
                            )
                            .order_by(WebhookDelivery.next_attempt_at)
                            .limit(limit)
                            .with_for_update(of=WebhookDelivery, skip_locked=True)
                        )
                    ).all()
                )
                if not due:
                    await rollback(session)
                    return []
                lease_until = now + timedelta(seconds=self.lease_seconds())
                await session.execute(
                    sa.update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([d.id for d, _, _ in due]))
                    .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=lease_until)
                    .execution_options(synchronize_session=False)
                )
                await commit(session)
            except BaseException:
                await rollback(session)
                raise
        return [
            Claimed(
                delivery_id=d.id,
                attempt=d.attempts + 1,
                created_at=d.created_at,
                subscription_id=d.subscription_id,
                url=url,
                secret=secrets.unseal(self.settings, sealed),
                payload=d.payload,
            )
            for d, url, sealed in due
        ]

    async def deliver_due(self) -> int:
        batch = self.settings.webhook_worker_batch
        free = batch - len(self.in_flight)
        # Claim when half the slots are free (or none is busy): fewer, larger claims.
        claimed = await self.claim(free) if free >= max(1, batch // 2) or not self.in_flight else []
        for one in claimed:
            task = asyncio.create_task(self._deliver(one))
            self.in_flight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.wake.set()

    async def _deliver(self, claimed: Claimed) -> None:
        body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = sender.signed_headers(claimed.secret, str(claimed.delivery_id), clock.now(), body)
        outcome = await sender.send(self.http, self.settings, claimed.url, headers, body)
        self.finished.append((claimed, outcome))

    async def record_finished(self) -> None:
        """Record every outcome finished since the last time, in one transaction."""
        if not self.finished:
            return
        batch, self.finished = self.finished, []
        try:
            await self._record(batch)
        except BaseException:
            self.finished = batch + self.finished  # recorded next time; the claims' leases still hold
            raise

    async def _record(self, batch: list[tuple[Claimed, sender.Outcome]]) -> None:
        now = clock.now()
        updates: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        failing: set[uuid.UUID] = set()
        window = timedelta(seconds=self.settings.webhook_retry_window_seconds)
        for claimed, outcome in batch:
            state, delivered_at, retry_at = WebhookDeliveryState.PENDING, None, None
            if outcome.delivered:
                state, delivered_at = WebhookDeliveryState.DELIVERED, now
            else:
                retry_at = now + timedelta(seconds=backoff(self.settings, claimed.attempt))
                if retry_at > claimed.created_at + window:
                    state, retry_at = WebhookDeliveryState.FAILED, None
                    failing.add(claimed.subscription_id)
            updates.append(
                {
                    "b_id": claimed.delivery_id,
                    "b_attempt": claimed.attempt,
                    "b_state": state.value,
                    "b_delivered_at": delivered_at,
                    "b_next_attempt_at": retry_at,
                }
            )
            attempts.append(
                {
                    "id": uuid.uuid4(),
                    "delivery_id": claimed.delivery_id,
                    "subscription_id": claimed.subscription_id,
                    "attempt": claimed.attempt,
                    "attempted_at": now,
                    "status_code": outcome.status_code,
                    "error": None if outcome.failure is None else outcome.failure.value,
                    "latency_ms": outcome.latency_ms,
                    "next_attempt_at": retry_at,
                }
            )
        deliveries = table_of(WebhookDelivery)  # Core: an executemany by id
        async with self.sessionmaker() as session:
            try:
                # Only while the claim is ours: a lease that ran out may have passed it to another.
                await session.execute(
                    sa.update(deliveries)
                    .where(
                        deliveries.c.id == sa.bindparam("b_id"),
                        deliveries.c.attempts == sa.bindparam("b_attempt"),
                    )
                    .values(
                        state=sa.bindparam("b_state"),
                        delivered_at=sa.bindparam("b_delivered_at"),
                        next_attempt_at=sa.bindparam("b_next_attempt_at"),
                    ),
                    updates,
                )
                await session.execute(sa.insert(WebhookAttempt), attempts)
                for subscription_id in sorted(failing):
                    await _disable(session, subscription_id, WebhookDisabledReason.FAILING)
                await commit(session)
            except BaseException:
                await rollback(session)
                raise
        for claimed, outcome in batch:
            logger.info(
                "webhook attempt",
                extra={
                    "delivery_id": str(claimed.delivery_id),
                    "subscription_id": str(claimed.subscription_id),
                    "attempt": claimed.attempt,
                    "status_code": outcome.status_code,
                    "failure": None if outcome.failure is None else outcome.failure.value,
                    "latency_ms": outcome.latency_ms,
                },
            )


@dataclass(frozen=True, slots=True)
class WorkerActor:
    """Who disables a subscription, in the audit trail, when the worker does."""

    sub: str = WORKER_SUB
    agency: str = "system"
    role: str = "system"


async def _disable(session: AsyncSession, subscription_id: uuid.UUID, reason: WebhookDisabledReason) -> None:
    now = clock.now()
    audit.record(
        session, WorkerActor(), AuditAction.UPDATE, RECORD_TYPE, subscription_id,
        details={"active": False, "reason": reason.value},
    )  # fmt: skip
    await session.execute(
        sa.update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.active.is_(True))
        .values(
            active=False,
            disabled_at=now,
            disabled_by=WORKER_SUB,
            disabled_reason=reason.value,
            updated_at=now,
            version=WebhookSubscription.version + 1,
        )
    )


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run a worker until ``stop`` is set (SIGTERM, SIGINT)."""
    from app.core.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with sender.client(settings) as http:
            await Worker(settings, create_sessionmaker(engine), http).run(stop)
    finally:
        await engine.dispose()
