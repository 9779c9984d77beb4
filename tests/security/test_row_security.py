"""Row-level security: PostgreSQL keeps each agency to its own case rows even when a query forgets to.

Each test queries through the application's own engine and sessions, in the database context a
request gives its caller (``app.core.db.set_context``), with deliberately unfiltered statements: what
comes back is what the database lets that caller see.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from app.core import db
from app.models.adult import AdultConcern, Allegation
from app.models.audit import AuditEvent
from app.models.disclosure import Disclosure
from app.models.event import CaseEvent
from app.models.protection import Assessment, Section47Enquiry, StrategyDiscussion
from app.models.referral import Contribution, ContributionResponse, Referral, ReferralChild
from tests.fixtures.adults import action, concern_in, make_plan, plan_body, raise_concern
from tests.fixtures.callers import Who
from tests.fixtures.database import owner_engine, run_sql
from tests.fixtures.pathway import (
    STRATEGY,
    accepted_referral,
    assessment_body,
    discussion_body,
    hold_discussion,
    start_assessment,
)
from tests.fixtures.referrals import answer, ask, create_referral, rate, referral_body, unique_child
from tests.fixtures.values import Headers, today

pytestmark = pytest.mark.postgres

POLICE = ("police", "partner_referrer")
HEALTH = ("health", "partner_referrer")
EDUCATION = ("education", "partner_referrer")
HOUSING = ("housing", "partner_referrer")
PRACTITIONER = ("childrens_social_care", "mash_practitioner")
ASC = ("adult_social_care", "asc_practitioner")
AUDITOR = ("childrens_social_care", "auditor")


async def _ids(app: FastAPI, context: db.DbContext, entity: Any) -> set[uuid.UUID]:
    async with app.state.sessionmaker() as session:
        db.set_context(session, context)
        return set((await session.scalars(sa.select(entity.id))).all())


async def _count(app: FastAPI, context: db.DbContext, entity: Any) -> int:
    async with app.state.sessionmaker() as session:
        db.set_context(session, context)
        return int(await session.scalar(sa.select(sa.func.count()).select_from(entity)) or 0)


async def _case(client: httpx.AsyncClient, who: Who) -> dict[str, Any]:
    """Police and health each refer a child; the hub asks education about the police's referral and
    education answers; health raises an adult concern."""
    police = await create_referral(client, who["police"], referral_body(unique_child()))
    health = await create_referral(client, who["health"], referral_body(unique_child()))
    await rate(client, who["practitioner"], police["id"])
    (request,) = await ask(client, who["practitioner"], police["id"], "education")
    await answer(client, who["education"], request["id"])
    concern = await raise_concern(client, who["health"])
    return {
        "police": uuid.UUID(police["id"]),
        "health": uuid.UUID(health["id"]),
        "request": uuid.UUID(request["id"]),
        "concern": uuid.UUID(concern["id"]),
    }


async def test_an_unfiltered_query_returns_only_the_partners_own_referrals(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    case = await _case(client, who)

    assert await _ids(app, POLICE, Referral) == {case["police"]}
    assert await _ids(app, HEALTH, Referral) == {case["health"]}
    # Asked about the police's referral: education sees it, and only it.
    assert await _ids(app, EDUCATION, Referral) == {case["police"]}
    assert await _ids(app, HOUSING, Referral) == set()
    # The children of a referral follow the referral.
    async with app.state.sessionmaker() as session:
        db.set_context(session, POLICE)
        referrals = set((await session.scalars(sa.select(ReferralChild.referral_id))).all())
    assert referrals == {case["police"]}


async def test_the_hub_sees_every_row(client: httpx.AsyncClient, who: Who, app: FastAPI) -> None:
    case = await _case(client, who)

    assert await _ids(app, PRACTITIONER, Referral) == {case["police"], case["health"]}
    assert await _ids(app, PRACTITIONER, Contribution) == {case["request"]}
    assert await _count(app, PRACTITIONER, ContributionResponse) == 1
    assert await _ids(app, ASC, AdultConcern) == {case["concern"]}
    assert await _ids(app, AUDITOR, Referral) == {case["police"], case["health"]}


async def test_the_hubs_work_after_a_decision_is_the_hubs_alone(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """Even the referring agency, which sees the referral, sees no row of the assessment, the strategy
    discussion or the section 47 enquiry that followed it; the hub and the auditor see them."""
    referral = await accepted_referral(client, app, who, decision=STRATEGY)
    assessment = await start_assessment(
        client, who["practitioner"], assessment_body(referral, today().isoformat())
    )
    discussion = await hold_discussion(
        client, who["practitioner"], discussion_body(referral, datetime.now(UTC).isoformat())
    )
    made = {
        Assessment: {uuid.UUID(assessment["id"])},
        StrategyDiscussion: {uuid.UUID(discussion["id"])},
        Section47Enquiry: {uuid.UUID(e["id"]) for e in discussion["section_47_enquiries"]},
    }
    assert await _ids(app, POLICE, Referral) == {uuid.UUID(referral["id"])}
    for model, ids in made.items():
        assert await _ids(app, POLICE, model) == set(), model.__name__
        assert await _ids(app, PRACTITIONER, model) == ids, model.__name__
        assert await _ids(app, AUDITOR, model) == ids, model.__name__


async def test_answers_stay_with_the_agency_that_gave_them(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    case = await _case(client, who)

    assert await _count(app, EDUCATION, ContributionResponse) == 1
    # The referrer never reads another agency's answer, nor does anyone else outside the hub.
    assert await _count(app, POLICE, ContributionResponse) == 0
    assert await _count(app, HEALTH, ContributionResponse) == 0
    assert await _ids(app, HEALTH, Contribution) == set()
    assert await _ids(app, EDUCATION, Contribution) == {case["request"]}


async def test_adult_concerns_are_the_raisers_and_adult_social_cares(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    case = await _case(client, who)

    assert await _ids(app, HEALTH, AdultConcern) == {case["concern"]}
    assert await _ids(app, POLICE, AdultConcern) == set()
    assert await _count(app, POLICE, Allegation) == 0
    assert await _count(app, HEALTH, Allegation) == 2


async def test_the_change_feed_audit_and_disclosures_are_filtered_too(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    case = await _case(client, who)

    async with app.state.sessionmaker() as session:
        db.set_context(session, HOUSING)
        assert (await session.scalars(sa.select(CaseEvent.aggregate_id))).all() == []
        db.set_context(session, POLICE)
        await session.rollback()  # the context applies from the next transaction
        seen = set((await session.scalars(sa.select(CaseEvent.aggregate_id))).all())
    assert seen == {case["police"]}
    # The audit trail is the auditor's; the disclosure log the hub's.
    assert await _count(app, POLICE, AuditEvent) == 0
    assert await _count(app, AUDITOR, AuditEvent) > 0
    assert await _count(app, POLICE, Disclosure) == 0
    assert await _count(app, PRACTITIONER, Disclosure) > 0


async def test_a_request_sees_no_case_rows_before_its_caller_is_known(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    await _case(client, who)

    assert await _count(app, None, Referral) == 0
    assert await _count(app, None, AdultConcern) == 0
    assert await _count(app, None, AuditEvent) == 0


async def test_every_transaction_of_a_session_carries_the_context(app: FastAPI) -> None:
    setting = sa.text("SELECT current_setting('mash.agency', true), current_setting('mash.role', true)")
    async with app.state.sessionmaker() as session:
        db.set_context(session, POLICE)
        assert tuple((await session.execute(setting)).one()) == POLICE
        await db.release(session)  # a new transaction, maybe on another pooled connection
        assert tuple((await session.execute(setting)).one()) == POLICE
        await db.release(session)
        await db.begin_read_only(session)
        assert tuple((await session.execute(setting)).one()) == POLICE
    # Transaction-local: the pooled connections keep nothing for the next session.
    async with app.state.sessionmaker() as session:
        assert tuple((await session.execute(setting)).one()) == db.SYSTEM_CONTEXT
    async with app.state.sessionmaker() as session:
        db.set_context(session, None)
        assert tuple((await session.execute(setting)).one()) in {(None, None), ("", "")}


async def _refused(app: FastAPI, statement: str) -> str:
    async with app.state.sessionmaker() as session:  # the system context: every row visible
        with pytest.raises(DBAPIError) as refused:
            await session.execute(sa.text(statement))
        await session.rollback()
    return str(refused.value.orig)


async def test_the_application_role_cannot_change_or_delete_the_audit_trail(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    await _case(client, who)

    for statement in (
        "UPDATE audit_events SET record_id = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        assert "permission denied for table audit_events" in await _refused(app, statement)
    # It appends to it (every request above did) and the chain still verifies.
    verified = await client.get("/v1/audit-events/verification", headers=who_auditor(app))
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True


def who_auditor(app: FastAPI) -> Headers:
    issued = app.state.tokens.issue(sub="auditor@test", agency="childrens_social_care", role="auditor")
    return {"Authorization": f"Bearer {issued.access_token}"}


async def test_the_application_role_owns_nothing_and_cannot_lift_the_policies(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        user = await session.scalar(sa.text("SELECT current_user"))
        owned = await session.scalar(
            sa.text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
            )
        )
        bypass = await session.scalar(
            sa.text("SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user")
        )
    assert (user, owned, bypass) == ("mash_app", 0, False)
    for statement in (
        "ALTER TABLE referrals DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE referrals NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY visible ON referrals",
    ):
        assert "must be owner" in await _refused(app, statement)


async def test_every_case_table_forces_row_level_security(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity AND relforcerowsecurity"
                    " AND relnamespace = 'public'::regnamespace"
                )
            )
        ).all()
    forced = {row[0] for row in rows}
    case_tables = {
        "referrals", "referral_children", "referral_household_members", "referral_communications",
        "contributions", "contribution_responses", "threshold_decisions", "people", "person_match_keys",
        "person_links", "adult_concerns", "allegations", "section_42_decisions", "enquiries",
        "capacity_assessments", "best_interests_decisions", "advocates", "advocacy", "safeguarding_plans",
        "plan_actions", "plan_reviews", "case_events", "disclosures", "subject_access_requests",
        "audit_events", "assessments", "strategy_discussions", "section_47_enquiries",
    }  # fmt: skip
    assert case_tables <= forced


def _rows_read(plan: Any, relation: str) -> float:
    """Rows the plan read from ``relation``: returned plus filtered out, over every loop."""
    total = 0.0
    if plan.get("Relation Name") == relation:
        loops = plan.get("Actual Loops", 1)
        total += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    for child in plan.get("Plans", []):
        total += _rows_read(child, relation)
    return total


# Copies of case rows, to give PostgreSQL a live register's estimates: one for each id in ``copies``.
COPIES = "CREATE TEMP TABLE copies AS SELECT gen_random_uuid() AS id FROM generate_series(1, 4000)"


def _copied(table: str, changes: str, source: str = "") -> str:
    """An ``INSERT`` of a copy of each row ``o`` of ``table`` (those ``source`` joins and keeps) for each
    copy ``c``, changed by ``changes`` (``jsonb_build_object``'s arguments)."""
    return (
        f"INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, to_jsonb(o)"
        f" || jsonb_build_object({changes}))).* FROM {table} o, copies c{source}"
    )


async def test_a_partners_lookup_reads_by_the_key_whoever_planned_the_statement(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    # A referral by health that the hub asked the police about: the police see it through the request.
    referral = await create_referral(client, who["health"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    await ask(client, who["practitioner"], referral["id"], "police")
    # Thousands of other referrals, each with requests of the police, health and education, analysed:
    # PostgreSQL's estimates, and so its choice of plan, then resemble a live register's.
    await run_sql(
        app,
        COPIES,
        _copied("referrals", "'id', c.id"),
        _copied(
            "contributions",
            "'id', gen_random_uuid(), 'referral_id', c.id, 'agency', a",
            ", unnest(ARRAY['police', 'health', 'education']) a",
        ),
        "ANALYZE referrals",
        "ANALYZE contributions",
        "ANALYZE referral_children",
    )

    async with app.state.sessionmaker() as session:
        # A prepared statement's generic plan is made once and reused whoever the caller: make it
        # while the hub is the caller, to whom nothing is addressed, then run it for the police.
        db.set_context(session, PRACTITIONER)
        await session.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
        await session.execute(
            sa.text("PREPARE children_of(uuid) AS SELECT id FROM referral_children WHERE referral_id = $1")
        )
        try:
            call = f"EXECUTE children_of('{uuid.UUID(referral['id'])}')"
            assert len((await session.execute(sa.text(call))).all()) == 1
            await session.execute(
                sa.text(
                    "SELECT set_config('mash.agency', :agency, true), set_config('mash.role', :role, true)"
                ),
                {"agency": POLICE[0], "role": POLICE[1]},
            )
            assert len((await session.execute(sa.text(call))).all()) == 1  # visible through the request
            plan = await session.scalar(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {call}"))
            # In this transaction: behind a transaction-mode pooler the next one may be on another
            # server connection (a PREPAREd statement outlives its transaction, but only on its own).
            await session.execute(sa.text("DEALLOCATE children_of"))
        finally:
            await session.rollback()
    # The police's 4,001 requests stay unread: the lookup reads the requests on this referral only.
    assert _rows_read(plan[0]["Plan"], "contributions") <= 3


def _rows_fetched(relation: str) -> sa.TextClause:
    """Rows this transaction has read from ``relation`` so far, by any scan: sequential, bitmap, or
    through any of its indexes (PostgreSQL's transaction-local statistics, which count the reads made
    inside a policy's function too)."""
    return sa.text(
        "SELECT pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid)"
        " + coalesce((SELECT sum(pg_stat_get_xact_tuples_fetched(i.indexrelid)) FROM pg_index i"
        " WHERE i.indrelid = c.oid), 0) FROM pg_class c WHERE c.oid = CAST(:relation AS regclass)"
    ).bindparams(relation=relation)


async def test_a_partners_read_of_a_plans_events_looks_up_that_plans_actions_only(
    client: httpx.AsyncClient, adult_who: Who, app: FastAPI
) -> None:
    # Two plans on concerns health raised, so their events are on streams the police may not see:
    # one with an action for housing alone, one with an action for the police.
    others = await concern_in(client, adult_who, "enquiry_concluded")
    await make_plan(
        client, adult_who["worker"], plan_body(others.person_id, action("housing"), concern_id=others.id)
    )
    owned = await concern_in(client, adult_who, "enquiry_concluded")
    await make_plan(
        client, adult_who["worker"], plan_body(owned.person_id, action("police"), concern_id=owned.id)
    )
    # Thousands of other plans with an action for the police, analysed, as on a live register.
    await run_sql(
        app,
        COPIES,
        _copied(
            "safeguarding_plans", "'id', c.id, 'concern_id', NULL", f" WHERE o.concern_id = '{owned.id}'"
        ),
        _copied("plan_actions", "'id', gen_random_uuid(), 'plan_id', c.id", " WHERE o.agency = 'police'"),
        "ANALYZE safeguarding_plans",
        "ANALYZE plan_actions",
        "ANALYZE case_events",
    )

    async with app.state.sessionmaker() as session:
        db.set_context(session, POLICE)
        seen = [
            (str(aggregate_id), str(event_type))
            for aggregate_id, event_type in await session.execute(
                sa.select(CaseEvent.aggregate_id, CaseEvent.event_type).where(
                    CaseEvent.aggregate_id.in_([uuid.UUID(others.id), uuid.UUID(owned.id)])
                )
            )
        ]
        read = await session.scalar(_rows_fetched("plan_actions"))
    # The plan the police own an action in shows its event; the other plan's concern shows nothing.
    assert seen == [(owned.id, "plan.created")]
    # Each plan event is checked against that plan's one action, not against the police's 4,001.
    assert read is not None and read <= 4


async def _scan_cost(sessions: Any, context: db.DbContext) -> tuple[float, float]:
    """The planner's cost of reading every referral in ``context``, and the rows it expects to read."""
    async with sessions() as session:
        db.set_context(session, context)
        plan = await session.scalar(sa.text("EXPLAIN (FORMAT JSON) SELECT id FROM referrals"))
    scan = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    return float(scan["Total Cost"]), float(scan["Plan Rows"])


async def test_the_hubs_reads_of_referrals_are_planned_without_the_cost_of_a_partners_lookup(
    app: FastAPI,
) -> None:
    # The policy's last arm (a request asked of the caller's agency) is a lookup the hub never runs;
    # charged to every row, it made the planner sort the hub's whole overdue queue rather than walk
    # the received-at index to its first page (migration 20261208_referral_asked).
    owner = owner_engine(app)
    try:
        without_policies, rows = await _scan_cost(db.create_sessionmaker(owner), db.SYSTEM_CONTEXT)
    finally:
        await owner.dispose()
    with_policies, _ = await _scan_cost(app.state.sessionmaker, PRACTITIONER)
    # What the policy adds a row read, against an index probe of another table: at least
    # random_page_cost (4).
    assert (with_policies - without_policies) / max(rows, 1.0) < 1.0
