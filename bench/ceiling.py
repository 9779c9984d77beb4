"""The reference ceiling: the least a FastAPI service can do to serve each benchmarked endpoint.

Each endpoint does the same database work as its mash-api counterpart, in one transaction, with the
same statements on the same tables, plus the costs no implementation can avoid: argon2id with the
configured parameters, HS256 with python-jose. What it leaves out is our own machinery: SQLAlchemy,
the session and unit of work, middleware, logging, metrics, problem details. ``ours / ceiling`` is
therefore the price of that machinery. The inherent work that is mash-api's own plain Python (argon2
with its decoy and limiter, token signing, the audit row's canonical form, the idempotency
fingerprint and lock id, cursors, matching) is called from app/, not copied; the SQL statements, the
token check and the JSON bodies are written out here.

It reads and writes the real tables. Its audit entries and case events go where mash-api's go, with
mash-api's own statement (``app.core.insert_at_commit.statement``: ``audit_pending`` and
``case_events_pending``, and a create's idempotency record), and the same deferred trigger chains them
into ``audit_events`` and ``case_events`` at COMMIT: the chain is extended in the database, so the
ceiling's entries cannot fork it, and both pay the same hashing and head lock. Referrals, people and
the rest go to the real tables (same foreign keys, same table sizes): bench/scenarios.py gives the
ceiling's requests their own children, NHS numbers and idempotency keys.

Configuration comes from the same ``MASH_*`` variables as the service (database, JWT secret,
argon2 cost, pool size), so both run with identical parameters::

    .venv/bin/python -m bench.ceiling serve --port 8001

To add a scenario, add an endpoint here doing the same statements as the real one, and give its
path as the scenario's ``ceiling_path`` in bench/scenarios.py.
"""

from __future__ import annotations

import argparse
import base64
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Form, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from jose import jwt
from jose.exceptions import JOSEError
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from app.adults.concerns.repository import ENQUIRY_TARGET
from app.children.codes import FINAL_REFERRAL_STATUSES
from app.children.contributions.schemas import ContributionResponseIn
from app.children.referrals.schemas import ChildIn, ReferralCreate
from app.children.referrals.service import _person_fields
from app.core.audit import STAGED_ENTRIES, STAGED_EVENTS
from app.core.clock import WorkingClock, age_on, local_date
from app.core.config import Settings
from app.core.idempotency import ANSWERS, Caller, _fingerprint
from app.core.insert_at_commit import statement
from app.core.pagination import encode_cursor
from app.core.passwords import SecretHasher
from app.core.scopes import AgencyCode, Role
from app.core.tokens import ACCESS_TOKEN_TYPE, LOCAL_ALGORITHM, TokenService
from app.models.referral import OPEN_REFERRALS
from app.people.matching import Identity, automatic_link, blocking_keys, identity_in, rank_matches
from app.people.repository import MAX_CANDIDATES
from app.people.schemas import MatchQuery

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://...`` (SQLAlchemy's form) → ``postgresql://...`` (asyncpg's)."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise ValueError(f"the ceiling needs a PostgreSQL database URL, not {scheme or database_url!r}")
    return f"postgresql://{rest}"


class _Rejected(Exception):
    """Raised inside a transaction to roll it back and answer with an error."""

    def __init__(self, status: int, body: dict[str, str]) -> None:
        super().__init__(status)
        self.response = JSONResponse(body, status_code=status, headers=NO_STORE)


async def _no_reset(_conn: asyncpg.Connection) -> None:
    # asyncpg's default reset (RESET ALL, UNLISTEN, ...) is one more round trip per request. These
    # endpoints change no session state and always end their transaction, so there is nothing to reset.
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    secret = settings.jwt_secret.get_secret_value()
    # mash-api's own argon2id verification (a decoy hash for unknown clients, in a worker thread, no
    # more at once than cores) and HS256 signing: the inherent work of the token endpoint.
    hasher = SecretHasher(settings)
    tokens = TokenService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # As many connections as mash-api's pool may open (pool_size + max_overflow).
        app.state.pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url),
            min_size=settings.db_pool_size,
            max_size=settings.db_pool_size + settings.db_max_overflow,
            reset=_no_reset,
            server_settings={"application_name": "mash-bench-ceiling"},
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(
        title="mash-bench-ceiling", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        async with request.app.state.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return JSONResponse({"status": "ready"})

    @app.post("/ceiling/oauth/token")
    async def token(
        request: Request,
        grant_type: Annotated[str, Form()],
        client_id: Annotated[str, Form()],
        client_secret: Annotated[str, Form()],
    ) -> JSONResponse:
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400, headers=NO_STORE)
        try:
            cid = uuid.UUID(client_id)
        except ValueError:
            cid = uuid.UUID(int=0)
        pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            client = await conn.fetchrow(_CLIENT, cid)
        # As mash-api does since it gives its connection back before argon2 (app.core.db.release):
        # a pooled connection held through tens of milliseconds of hashing starves other requests.
        valid = await hasher.verify(client["secret_hash"] if client else None, client_secret)
        if client is None or not valid or client["revoked_at"] is not None:
            return JSONResponse({"error": "invalid_client"}, status_code=401, headers=NO_STORE)
        issued = tokens.issue(
            sub=str(client["id"]),
            agency=AgencyCode(client["agency_code"]),
            role=Role(client["role"]),
            client_id=client["id"],
        )
        actor = (str(client["id"]), client["agency_code"], client["role"])
        entry = _audit_row(actor, "issue_token", "client", str(client["id"]), None, {"scope": issued.scope})
        async with pool.acquire() as conn, conn.transaction():
            await _append(conn, [], [entry])
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
        return JSONResponse(body, headers=NO_STORE)

    def claims_of(authorization: str | None) -> dict[str, Any] | None:
        """HS256 verification as mash-api does it (header, signature, aud, iss, exp), or None."""
        scheme, _, raw = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            header = jwt.get_unverified_header(raw)
            if header.get("alg") != LOCAL_ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
                return None
            claims: dict[str, Any] = jwt.decode(
                raw,
                secret,
                algorithms=[LOCAL_ALGORITHM],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"leeway": settings.jwt_leeway_seconds},
            )
            claims["client_id"] = uuid.UUID(claims["client_id"])
        except (JOSEError, KeyError, ValueError):
            return None
        return claims

    def unauthenticated() -> JSONResponse:
        return JSONResponse({"detail": "invalid token"}, status_code=401)

    @app.get("/ceiling/v1/me")
    async def me(request: Request, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        try:
            # As mash-api checks a request that sends no other statement: alone, outside a transaction.
            await request.app.state.pool.fetchval(_CLIENT_CHECK, claims["client_id"])
        except asyncpg.PostgresError as exc:
            if exc.sqlstate == _REVOKED_SQLSTATE:
                return unauthenticated()
            raise
        body = {
            "sub": claims["sub"],
            "agency": claims["agency"],
            "role": claims["role"],
            "scopes": sorted(claims["scope"].split()),
        }
        return JSONResponse(body)

    clock = WorkingClock(settings.working_time)

    @app.post("/ceiling/v1/referrals", status_code=201)
    async def create_referral(
        request: Request,
        body: ReferralCreate,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
    ) -> Response:
        """POST /v1/referrals by a partner agency: the statements of app.children.referrals.service.create, in
        the same order, for the same body (see bench/README.md for the list)."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "referrals:create" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        actor = (claims["sub"], claims["agency"], claims["role"])
        fingerprint = _fingerprint(request.method, request.url.path, await request.body())
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                if idempotency_key is not None:
                    replay = await _claim_key(conn, actor, idempotency_key, fingerprint)
                    if replay is not None:
                        return replay
                # As ours, the timescales in force, read in the transaction (app.core.timescales); the bench
                # stores none, so the configured clock applies.
                await conn.fetchrow(_TIMESCALES, "timescales")
                created = await _create(conn, clock, actor, body)
                answers = (
                    []
                    if idempotency_key is None
                    else [
                        _answer(actor, idempotency_key, fingerprint, created, settings.idempotency_ttl_hours)
                    ]
                )
                await _append(conn, created.events, created.audit, answers)
        except _Rejected as rejected:
            return rejected.response
        return Response(created.body, status_code=201, headers=created.headers)

    @app.get("/ceiling/v1/referrals")
    async def list_referrals(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        status: str | None = None,
        rag: str | None = None,
        referring_agency: str | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        overdue: bool | None = None,
        allocated_to: str | None = None,
        team: str | None = None,
        sort: str = "-received_at",
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> Response:
        """GET /v1/referrals: the page query and the children query of app.children.referrals.service.list_,
        for the hub also the outstanding checks and the earlier referrals of the page, then the audit
        write, in one transaction."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "referrals:read" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        now = datetime.now(UTC)
        hub = claims["agency"] == AgencyCode.CHILDRENS_SOCIAL_CARE
        query = _Where()
        if not hub:
            query.add("referring_agency = ${}", claims["agency"])
        for column, values in (
            ("status", status),
            ("rag_rating", rag),
            ("referring_agency", referring_agency),
        ):
            if values:
                query.add(f"{column} = ANY(${{}}::text[])", values.split(","))
        if received_from is not None:
            query.add("received_at >= ${}", received_from)
        if received_to is not None:
            query.add("received_at < ${}", received_to)
        if overdue is not None:
            clause = f"(decision_due_at < ${{}} AND {OPEN_REFERRALS})"
            query.add(clause if overdue else f"NOT {clause}", now)
        if allocated_to == "none":
            query.add("allocated_worker IS NULL")
        elif allocated_to is not None:
            query.add("allocated_worker = ${}", claims["sub"] if allocated_to == "me" else allocated_to)
        if team is not None:
            query.add("allocated_team = ${}", team)
        key = sort.removeprefix("-")
        direction = "DESC" if sort.startswith("-") else "ASC"
        if cursor is not None:
            after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if after[0] != sort:
                return JSONResponse({"detail": "invalid cursor"}, status_code=422)
            op = "<" if direction == "DESC" else ">"
            query.add(
                f"({key}, id) {op} (${{}}, ${{}})", datetime.fromisoformat(after[1]), uuid.UUID(after[2])
            )
        page_sql = (
            f"SELECT * FROM referrals WHERE {query.sql} ORDER BY {key} {direction}, id {direction}"  # noqa: S608
            f" LIMIT ${len(query.args) + 1}"
        )
        checks: dict[uuid.UUID, list[asyncpg.Record]] = {}
        earlier: dict[uuid.UUID, int] = {}
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                rows = await conn.fetch(page_sql, *query.args, limit + 1)
                page = rows[:limit]
                ids = [r["id"] for r in page]
                children: dict[uuid.UUID, list[asyncpg.Record]] = {rid: [] for rid in ids}
                if page:
                    for child in await conn.fetch(_CHILDREN, ids):
                        children[child["referral_id"]].append(child)
                    if hub:
                        checks = {rid: [] for rid in ids}
                        for check in await conn.fetch(_OUTSTANDING_CHECKS, ids):
                            checks[check["referral_id"]].append(check)
                        earlier = {row[0]: row[1] for row in await conn.fetch(_EARLIER_REFERRALS, ids)}
                person_ids = sorted(
                    {str(c["person_id"]) for cs in children.values() for c in cs if c["person_id"]}
                )
                actor = (claims["sub"], claims["agency"], claims["role"])
                details = {"referral_ids": [str(rid) for rid in ids], "person_ids": person_ids}
                await _append(conn, [], [_audit_row(actor, "list", "referral", None, None, details)])
        except _Rejected as rejected:
            return rejected.response
        next_cursor = None
        headers: dict[str, str] = {}
        if len(rows) > limit:
            last = page[-1]
            next_cursor = encode_cursor([sort, last[key], last["id"]])
            headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
        today = local_date(now)
        items = [
            _summary(r, children[r["id"]], now)
            | (
                _queue_fields(r, children[r["id"]], checks[r["id"]], earlier.get(r["id"], 0), now, today)
                if hub
                else {}
            )
            for r in page
        ]
        return Response(
            _json({"items": items, "next_cursor": next_cursor}),
            media_type="application/json",
            headers=headers,
        )

    @app.get("/ceiling/v1/enquiries")
    async def list_enquiries(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        status: str | None = None,
        allocated_to: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Response:
        """GET /v1/enquiries (first page, newest first): the page, the concerns, the advocacy, the audit."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "adult_concerns:read" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        now = datetime.now(UTC)
        hub = claims["agency"] == AgencyCode.ADULT_SOCIAL_CARE
        query = _Where()
        if not hub:
            query.add("(lead_agency = ${0} OR caused_to_agency = ${0})", claims["agency"])
        if status:
            query.add("status = ANY(${}::text[])", status.split(","))
        if allocated_to is not None:
            query.add("allocated_worker = ${}", claims["sub"] if allocated_to == "me" else allocated_to)
        page_sql = (
            f"SELECT * FROM enquiries WHERE {query.sql} ORDER BY opened_at DESC, id DESC"  # noqa: S608
            f" LIMIT ${len(query.args) + 1}"
        )
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                rows = await conn.fetch(page_sql, *query.args, limit + 1)
                page = rows[:limit]
                concern_ids = [r["concern_id"] for r in page]
                concerns = {c["id"]: c for c in await conn.fetch(_CONCERNS, concern_ids)}
                advocacy: dict[uuid.UUID, asyncpg.Record] = {}
                for row in await conn.fetch(_ADVOCACY, concern_ids):
                    advocacy.setdefault(row["concern_id"], row)
                actor = (claims["sub"], claims["agency"], claims["role"])
                details = {
                    "enquiry_ids": [str(r["id"]) for r in page],
                    "person_ids": sorted({str(c["person_id"]) for c in concerns.values() if c["person_id"]}),
                }
                await _append(conn, [], [_audit_row(actor, "list", "enquiry", None, None, details)])
        except _Rejected as rejected:
            return rejected.response
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(["-opened_at", page[-1]["opened_at"], page[-1]["id"]])
        items = [
            _enquiry_summary(r, concerns[r["concern_id"]], advocacy.get(r["concern_id"]), now, hub)
            for r in page
        ]
        return Response(_json({"items": items, "next_cursor": next_cursor}), media_type="application/json")

    @app.get("/ceiling/v1/referrals/{referral_id}")
    async def get_referral(
        request: Request, referral_id: uuid.UUID, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        """GET /v1/referrals/{id} as the hub sees it (the full view): app.children.referrals.service.read,
        then views.render_read, which renders from the children and siblings read (and audited) there."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "referrals:read" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        if claims["agency"] != AgencyCode.CHILDRENS_SOCIAL_CARE:
            return JSONResponse({"detail": "the ceiling serves the hub's view only"}, status_code=403)
        actor = (claims["sub"], claims["agency"], claims["role"])
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                referral = await conn.fetchrow(_REFERRAL, referral_id)
                if referral is None:
                    raise _Rejected(404, {"detail": "referral not found"})
                # service.read: the children, their siblings (read too, so audited)
                children = await conn.fetch(_CHILDREN, [referral_id])
                person_ids = [c["person_id"] for c in children if c["person_id"] is not None]
                siblings = await _siblings(conn, person_ids)
                audited = [*person_ids, *(s["id"] for found in siblings.values() for s in found)]
                people = sorted({str(p) for p in audited})
                audit = _audit_row(actor, "read", "referral", str(referral_id),
                                   uuid.UUID(people[0]) if len(people) == 1 else None,
                                   {"view": "full", "person_ids": people})  # fmt: skip
                # views.full
                others: dict[uuid.UUID, list[asyncpg.Record]] = {}
                if person_ids:
                    for row in await conn.fetch(_OTHER_REFERRALS, referral_id, person_ids):
                        others.setdefault(row["person_id"], []).append(row)
                household = await conn.fetch(_HOUSEHOLD, referral_id)
                decided = {}
                if referral["decision_id"] is not None:
                    decided = {
                        r["referral_child_id"]: r for r in await conn.fetch(_DECIDED, referral["decision_id"])
                    }
                added = await conn.fetch(_ADDITIONS, referral_id)
                await _append(conn, [], [audit])
        except _Rejected as rejected:
            return rejected.response
        body = _full_view(referral, children, siblings, others, household, datetime.now(UTC))
        body["additional_information"] = [
            {key: a[key] for key in ("id", "concern_categories", "information", "added_by", "added_by_agency",
                                     "added_at")} for a in added
        ]  # fmt: skip
        for child in body["children"]:
            outcome = decided.get(child["id"])
            child["decision"] = None if outcome is None else {
                key: outcome[key] for key in ("own_entry", "level", "outcome", "primary_need", "nfa",
                                              "accepted_as_referral")}  # fmt: skip
        return Response(
            _json(body), media_type="application/json", headers={"ETag": f'W/"{referral["version"]}"'}
        )

    @app.post("/ceiling/v1/contributions/{contribution_id}/response")
    async def respond(
        request: Request,
        contribution_id: uuid.UUID,
        body: ContributionResponseIn,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """POST /v1/contributions/{id}/response by the agency asked: app.children.contributions.service.respond,
        its case event and audit entry, and the contribution as the answering agency sees it."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "contributions:write" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        actor = (claims["sub"], claims["agency"], claims["role"])
        now = datetime.now(UTC)
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                found = await conn.fetchrow(_CONTRIBUTION_FOR_UPDATE, contribution_id)
                if found is None or found["agency"] != actor[1]:
                    raise _Rejected(404, {"detail": "contribution not found"})
                if found["status"] == "cancelled":
                    raise _Rejected(409, {"code": "invalid_transition"})
                correcting = found["status"] == "submitted"
                if correcting != (body.correction_reason is not None):
                    raise _Rejected(409 if correcting else 422, {"code": "already_responded"})
                version = found["current_version"] + 1
                await conn.execute(_UPDATE_CONTRIBUTION, "submitted", version, now, contribution_id)
                await conn.execute(
                    _INSERT_RESPONSE, uuid.uuid4(), contribution_id, version, body.information,
                    json.dumps(body.risk_indicators), body.restricted, body.restriction_reason,
                    body.correction_reason, actor[0], now,
                )  # fmt: skip
                rid = found["referral_id"]
                # The children, read once: the audit entry names them and the answer shows them.
                children = await conn.fetch(_CHILDREN, [rid])
                responses = await conn.fetch(_RESPONSES, [contribution_id])
                people = sorted({str(c["person_id"]) for c in children if c["person_id"] is not None})
                data = {"contribution_id": str(contribution_id), "agency": found["agency"], "version": version,
                        "restricted": body.restricted}  # fmt: skip
                event = "contribution.corrected" if correcting else "contribution.submitted"
                await _append(
                    conn,
                    [(now, rid, event, actor, data)],
                    [_audit_row(actor, "update" if correcting else "create", "contribution", str(contribution_id),
                                uuid.UUID(people[0]) if len(people) == 1 else None,
                                {"version": version, "restricted": body.restricted, "person_ids": people})],
                )  # fmt: skip
        except _Rejected as rejected:
            return rejected.response
        # As app.children.contributions.service.render: the children as the answering agency sees them (no
        # person ids), the latest answer and the earlier versions.
        history = [
            {key: r[key] for key in ("information", "restricted", "restriction_reason", "correction_reason",
                                     "submitted_by", "submitted_at")}
            | {"version": r["version_number"], "risk_indicators": json.loads(r["risk_indicators"])}
            for r in responses
        ]  # fmt: skip
        out = {
            **{key: found[key] for key in ("referral_id", "agency", "question", "requested_by", "requested_at",
                                           "due_at")},
            "id": contribution_id, "overdue": False, "status": "submitted", "restricted": body.restricted,
            "children": [{**_child_identity(c), "person_id": None} for c in children],
            "response": history[0] if history else None, "versions": history[1:],
        }  # fmt: skip
        return Response(_json(out), media_type="application/json")

    @app.post("/ceiling/v1/people/matches")
    async def match_people(
        request: Request, body: MatchQuery, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        """POST /v1/people/matches: the candidate query, ranking (app.people.matching), each candidate's
        siblings (one query per candidate, as the router's person_out does), the audit entry."""
        claims = claims_of(authorization)
        if claims is None:
            return unauthenticated()
        if "people:read" not in claims["scope"].split():
            return JSONResponse({"detail": "insufficient scope"}, status_code=403)
        actor = (claims["sub"], claims["agency"], claims["role"])
        identity = Identity(**body.model_dump(exclude={"limit"}))
        keys = sorted(blocking_keys(identity))
        try:
            async with request.app.state.pool.acquire() as conn, _checked(conn, claims["client_id"]):
                found = await conn.fetch(_MATCH_CANDIDATES, keys, MAX_CANDIDATES) if keys else []
                ranked = rank_matches(identity, [(row, identity_in(row)) for row in found], limit=body.limit)
                siblings = [(await _siblings(conn, [r.key["id"]])).get(r.key["id"], []) for r in ranked]
                details = {"candidate_ids": [str(r.key["id"]) for r in ranked]}
                await _append(conn, [], [_audit_row(actor, "search", "person_match", None, None, details)])
        except _Rejected as rejected:
            return rejected.response
        candidates = [
            {"person": {**_person(r.key), "siblings": [_person_ref(s) for s in found_siblings]},
             "score": round(r.match.score, 4), "certain": r.match.certain, "reasons": list(r.match.reasons)}
            for r, found_siblings in zip(ranked, siblings, strict=True)
        ]  # fmt: skip
        return Response(_json({"candidates": candidates}), media_type="application/json")

    return app


# ---------------------------------------------------------------------------------------------------
# SQL. The statements mash-api runs (see bench/README.md), written out; table names are constants.

_CLIENT = "SELECT * FROM clients WHERE id = $1"
_CLIENT_CHECK = "SELECT mash_client_check($1)"
_REVOKED_SQLSTATE = "MA401"  # mash_client_check's, for a revoked client (migration 20261206_client_check)


@asynccontextmanager
async def _checked(conn: asyncpg.Connection, client_id: uuid.UUID | str) -> AsyncIterator[None]:
    """A transaction whose BEGIN checks the caller's client, in one message, as mash-api's do
    (app.core.db): a revoked client's request is refused (401) before any statement."""
    try:
        await conn.execute(
            f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT mash_client_check('{uuid.UUID(str(client_id))}')"
        )
    except asyncpg.PostgresError as exc:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        if exc.sqlstate == _REVOKED_SQLSTATE:
            raise _Rejected(401, {"detail": "invalid token"}) from None
        raise
    try:
        yield
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


# The key's lock, then its stored answer (migration 20261207_idempotency_claim): one round trip.
_CLAIM = "SELECT * FROM mash_idempotency_claim($1, $2, $3, $4, $5, $6)"
_CREATE_OPERATION = "POST /v1/referrals"
_TIMESCALES = "SELECT version, value FROM hub_settings WHERE key = $1"
_INSERT_REFERRAL = (
    "INSERT INTO referrals (id, status, referring_agency, referred_by, received_at, referrer, referral_source,"
    " concern_categories, concern_summary, parents_informed, parents_consented, consent_reason,"
    " consent_override_reason, consent_override_basis, consent_override_special_category, consent_override_by,"
    " consent_override_at, do_not_inform_parents, do_not_inform_reason, rag_rating, rag_rationale,"
    " rag_rated_by, rag_rated_at, statutory_decision_due_at, decision_due_at, outcome_level, outcome,"
    " decided_at, decision_id, withdrawn_at, withdrawn_by, withdrawal_reason, created_at, updated_at, version,"
    " acknowledgement_due_at)"
    " VALUES ($1, 'received', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, NULL, NULL, NULL, $12, $13,"
    " NULL, NULL, NULL, NULL, $14, $14, NULL, NULL, NULL, NULL, NULL, NULL, NULL, $4, NULL, 1, $15)"
)
# app.people.repository.candidates: everyone sharing a blocking key, capped, minus the referral's
# children already resolved.
_CANDIDATES = (
    "SELECT * FROM people WHERE id IN (SELECT DISTINCT person_id FROM person_match_keys"
    " WHERE key = ANY($1::varchar[]) AND person_id <> ALL($2::uuid[]) LIMIT 1000)"
)
_BY_NHS_NUMBER = "SELECT * FROM people WHERE nhs_number = $1"
_INSERT_PERSON = (
    "INSERT INTO people (id, given_name, family_name, date_of_birth, expected_date_of_birth, nhs_number,"
    " address_lines, postcode, gender, ethnicity, created_at, created_by, updated_at, version)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, 1)"
)
_INSERT_MATCH_KEY = "INSERT INTO person_match_keys (key, person_id) VALUES ($1, $2)"
_INSERT_CHILD = (
    "INSERT INTO referral_children (id, referral_id, position, person_id, given_name, family_name,"
    " date_of_birth, expected_date_of_birth, nhs_number, address_lines, postcode, gender, ethnicity,"
    " match_status, match_candidates) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
)
_INSERT_MEMBER = (
    "INSERT INTO referral_household_members (id, referral_id, position, given_name, family_name, relationship,"
    " date_of_birth, lives_with_children, parental_responsibility) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
_EXISTING_LINKS = (
    "SELECT person_id, related_person_id FROM person_links"
    " WHERE person_id = ANY($1::uuid[]) AND related_person_id = ANY($1::uuid[])"
)
_INSERT_LINK = (
    "INSERT INTO person_links (person_id, related_person_id, relationship, source_referral_id, created_at)"
    " VALUES ($1, $2, 'sibling', $3, $4)"
)
_CHILDREN = (
    "SELECT * FROM referral_children WHERE referral_id = ANY($1::uuid[]) ORDER BY referral_id, position"
)
_HOUSEHOLD = "SELECT * FROM referral_household_members WHERE referral_id = $1 ORDER BY position"
_MEMBER_KEYS = (
    "id", "referral_id", "position", "given_name", "family_name", "relationship", "date_of_birth",
    "lives_with_children", "parental_responsibility",
)  # fmt: skip
_OUTSTANDING_CHECKS = (
    "SELECT id, referral_id, agency, due_at FROM contributions WHERE referral_id = ANY($1::uuid[])"
    " AND status = 'requested' ORDER BY referral_id, due_at, id"
)
_EARLIER_REFERRALS = (
    "SELECT c.referral_id, count(DISTINCT e.id) FROM referral_children c"
    " JOIN referrals t ON t.id = c.referral_id"
    " JOIN referral_children o ON o.person_id = c.person_id AND o.referral_id != c.referral_id"
    " JOIN referrals e ON e.id = o.referral_id"
    " WHERE c.referral_id = ANY($1::uuid[]) AND e.received_at < t.received_at GROUP BY c.referral_id"
)
_CONCERNS = "SELECT * FROM adult_concerns WHERE id = ANY($1::uuid[])"
_ADVOCACY = (
    "SELECT * FROM advocacy WHERE concern_id = ANY($1::uuid[]) ORDER BY concern_id, recorded_at DESC, id DESC"
)
_REFERRAL = "SELECT * FROM referrals WHERE id = $1"
# A decided referral's outcome for each child, and what was added to it (views.full reads both).
_DECIDED = (
    "SELECT d.* FROM threshold_decision_children d JOIN referral_children c ON c.id = d.referral_child_id"
    " WHERE d.decision_id = $1 ORDER BY c.position"
)
_ADDITIONS = "SELECT * FROM referral_additional_information WHERE referral_id = $1 ORDER BY added_at, id"
_SIBLINGS = (
    "SELECT person_links.person_id, people.* FROM person_links JOIN people ON people.id = person_links.related_person_id"
    " WHERE person_links.person_id = ANY($1::uuid[]) AND person_links.relationship = 'sibling'"
    " ORDER BY people.date_of_birth, people.given_name"
)
_OTHER_REFERRALS = (
    "SELECT referral_children.person_id, referrals.* FROM referral_children"
    " JOIN referrals ON referrals.id = referral_children.referral_id"
    " WHERE referral_children.person_id = ANY($2::uuid[]) AND referrals.id != $1 ORDER BY referrals.received_at"
)
_CONTRIBUTION_FOR_UPDATE = "SELECT * FROM contributions WHERE id = $1 FOR UPDATE"
_UPDATE_CONTRIBUTION = (
    "UPDATE contributions SET status = $1, current_version = $2, submitted_at = $3 WHERE id = $4"
)
_INSERT_RESPONSE = (
    "INSERT INTO contribution_responses (id, contribution_id, version_number, information, risk_indicators,"
    " restricted, restriction_reason, correction_reason, submitted_by, submitted_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
_RESPONSES = (
    "SELECT * FROM contribution_responses WHERE contribution_id = ANY($1::uuid[])"
    " ORDER BY contribution_id, version_number DESC"
)
# app.people.repository.candidates for a match query (nothing excluded).
_MATCH_CANDIDATES = (
    "SELECT * FROM people WHERE id IN (SELECT DISTINCT person_id FROM person_match_keys"
    " WHERE key = ANY($1::varchar[]) LIMIT $2)"
)
Actor = tuple[str, str, str]  # sub, agency, role
AuditRow = dict[str, Any]
CaseEvent = tuple[datetime, uuid.UUID, str, Actor, dict[str, Any]]


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_encode).encode()


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, uuid.UUID)):
        return str(value)
    raise TypeError(type(value))


async def _claim_key(conn: asyncpg.Connection, actor: Actor, key: str, fingerprint: str) -> Response | None:
    """Take the key's advisory lock and look for a stored response, as app.core.idempotency does."""
    sub, agency, role = actor
    lock_id = Caller(agency, role, sub, _CREATE_OPERATION).lock_id(key)
    existing = await conn.fetchrow(_CLAIM, lock_id, agency, role, sub, _CREATE_OPERATION, key)
    live = existing["id"] is not None and existing["expires_at"] > datetime.now(UTC)
    if not existing["locked"] and not live:
        raise _Rejected(409, {"code": "idempotency_key_in_progress"})
    if not live:
        return None  # an expired record would be overwritten; the benchmark's keys are all new
    if existing["fingerprint"] != fingerprint:
        raise _Rejected(422, {"code": "idempotency_key_reused"})
    headers = {**json.loads(existing["response_headers"]), "Idempotent-Replayed": "true"}
    return Response(existing["response_body"], status_code=existing["response_status"], headers=headers)


class _Created:
    def __init__(self) -> None:
        self.events: list[CaseEvent] = []
        self.audit: list[AuditRow] = []
        self.body = b""
        self.headers: dict[str, str] = {}


async def _create(
    conn: asyncpg.Connection, clock: WorkingClock, actor: Actor, body: ReferralCreate
) -> _Created:
    """app.children.referrals.service.create and the referrer's view of the result, statement for statement."""
    created = _Created()
    now = datetime.now(UTC)
    due = clock.referral_decision_due(now)
    rid = uuid.uuid4()
    consent = body.parental_consent
    referrer = body.referrer.model_dump(exclude_none=True)
    categories = [str(c) for c in body.concern_categories]
    await conn.execute(
        _INSERT_REFERRAL, rid, actor[1], actor[0], now, json.dumps(referrer), str(body.referral_source),
        json.dumps(categories), body.concern_summary, consent.informed, consent.consented,
        consent.reason_not_informed, body.do_not_inform_parents, body.do_not_inform_reason, due,
        clock.referral_acknowledgement_due(now),
    )  # fmt: skip
    created.events.append((now, rid, "referral.received", actor, {"referral_source": str(body.referral_source),
                                                                  "children": len(body.children)}))  # fmt: skip
    linked: list[uuid.UUID] = []
    children: list[dict[str, Any]] = []
    for position, child in enumerate(body.children):
        identity = identity_in(_person_fields(child))
        keys = sorted(blocking_keys(identity))
        found = await conn.fetch(_CANDIDATES, keys, linked) if keys else []
        ranked = rank_matches(identity, [(row, identity_in(row)) for row in found], limit=5)
        match = automatic_link(ranked)
        candidates: list[dict[str, Any]] = []
        person_id: uuid.UUID | None = None
        if match is not None:
            status, person_id = "matched", match["id"]
        elif ranked:
            status = "pending"
            candidates = [
                {
                    "person_id": str(r.key["id"]),
                    "score": round(r.match.score, 4),
                    "reasons": list(r.match.reasons),
                }
                for r in ranked
            ]
        else:
            status, person_id = "new_person", await _new_person(conn, actor, child, identity, now, created)
        if person_id is not None:
            linked.append(person_id)
        address, child_id = child.address, uuid.uuid4()
        child_row = {
            "id": child_id, "person_id": person_id, "given_name": child.given_name,
            "family_name": child.family_name, "date_of_birth": child.date_of_birth,
            "expected_date_of_birth": child.expected_date_of_birth, "nhs_number": child.nhs_number,
            "address_lines": json.dumps(address.lines) if address else None,
            "postcode": address.postcode if address else None, "gender": child.gender, "ethnicity": child.ethnicity,
        }  # fmt: skip
        children.append(child_row)
        await conn.execute(
            _INSERT_CHILD, child_id, rid, position, person_id, child.given_name, child.family_name,
            child.date_of_birth, child.expected_date_of_birth, child.nhs_number, child_row["address_lines"],
            child_row["postcode"], child.gender, child.ethnicity, status, json.dumps(candidates),
        )  # fmt: skip
        data = {
            "child_id": str(child_id),
            "person_id": person_id and str(person_id),
            "candidates": len(candidates),
        }
        created.events.append((now, rid, f"child.{status}", actor, data))
    members = [
        (uuid.uuid4(), rid, position, m.given_name, m.family_name, str(m.relationship), m.date_of_birth,
         m.lives_with_children, m.parental_responsibility)
        for position, m in enumerate(body.household)
    ]  # fmt: skip
    if members:
        await conn.executemany(_INSERT_MEMBER, members)
    unique = list(dict.fromkeys(linked))
    if len(unique) > 1:  # app.people.repository.link_siblings
        existing = {
            (r["person_id"], r["related_person_id"]) for r in await conn.fetch(_EXISTING_LINKS, unique)
        }
        pairs = sorted({(a, b) for a in unique for b in unique if a != b} - existing)
        if pairs:
            await conn.executemany(_INSERT_LINK, [(a, b, rid, now) for a, b in pairs])
    people = sorted({str(p) for p in linked})
    created.audit.append(
        _audit_row(actor, "create", "referral", str(rid), uuid.UUID(people[0]) if len(people) == 1 else None,
                   {"person_ids": people})
    )  # fmt: skip
    # The referrer's view, from the rows just written, as app.children.referrals.views.for_referrer does.
    household = [dict(zip(_MEMBER_KEYS, member, strict=True)) for member in members]
    view = {
        "view": "referrer", "id": rid, "status": "received", "referring_agency": actor[1], "received_at": now,
        "decision_due_at": due, "rag_rating": None, "acknowledged_at": None,
        "referral_source": str(body.referral_source),
        "concern_categories": categories, "concern_summary": body.concern_summary,
        "referrer": {key: referrer.get(key) for key in ("name", "role", "team", "phone", "email")},
        "parental_consent": {"informed": consent.informed, "consented": consent.consented,
                             "reason_not_informed": consent.reason_not_informed},
        "children": [_child_identity(c) for c in children],
        "household": [{key: m[key] for key in ("id", "given_name", "family_name", "relationship", "date_of_birth",
                                               "lives_with_children", "parental_responsibility")} for m in household],
        "outcome": None, "withdrawn": False,
    }  # fmt: skip
    created.body = _json(view)
    created.headers = {"Location": f"/v1/referrals/{rid}", "Content-Type": "application/json"}
    return created


async def _new_person(
    conn: asyncpg.Connection,
    actor: Actor,
    child: ChildIn,
    identity: Identity,
    now: datetime,
    created: _Created,
) -> uuid.UUID:
    """app.people.service.create_from_referral: a person record and its blocking keys."""
    nhs_number = child.nhs_number
    if nhs_number and await conn.fetchrow(_BY_NHS_NUMBER, nhs_number):
        nhs_number = None
    person_id = uuid.uuid4()
    address = child.address
    await conn.execute(
        _INSERT_PERSON, person_id, child.given_name, child.family_name, child.date_of_birth,
        child.expected_date_of_birth, nhs_number, json.dumps(address.lines) if address else None,
        address.postcode if address else None, child.gender, child.ethnicity, now, actor[0],
    )  # fmt: skip
    # The keys of the stored person: its NHS number may have been dropped above.
    keys = blocking_keys(replace(identity, nhs_number=nhs_number))
    if keys:
        await conn.executemany(_INSERT_MATCH_KEY, [(key, person_id) for key in keys])
    created.audit.append(_audit_row(actor, "create", "person", str(person_id), person_id, {}))
    return person_id


async def _siblings(
    conn: asyncpg.Connection, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    """app.people.repository.siblings: one query (none when there is nobody to look up)."""
    if not person_ids:
        return {}
    found: dict[uuid.UUID, list[asyncpg.Record]] = {pid: [] for pid in person_ids}
    for row in await conn.fetch(_SIBLINGS, person_ids):
        found[row["person_id"]].append(row)
    return found


def _person_ref(row: asyncpg.Record) -> dict[str, Any]:
    return {
        key: row[key]
        for key in ("id", "given_name", "family_name", "date_of_birth", "expected_date_of_birth")
    }


def _person(row: asyncpg.Record) -> dict[str, Any]:
    lines = json.loads(row["address_lines"]) if row["address_lines"] else None
    return {
        **_person_ref(row), "nhs_number": row["nhs_number"], "postcode": row["postcode"], "address_lines": lines,
        "gender": row["gender"], "ethnicity": row["ethnicity"], "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }  # fmt: skip


def _full_view(
    referral: asyncpg.Record,
    children: Sequence[asyncpg.Record],
    siblings: dict[uuid.UUID, list[asyncpg.Record]],
    others: dict[uuid.UUID, list[asyncpg.Record]],
    household: Sequence[asyncpg.Record],
    now: datetime,
) -> dict[str, Any]:
    """The hub's view of a referral (app.children.referrals.views.full), from the rows read."""

    def child(row: asyncpg.Record) -> dict[str, Any]:
        pid = row["person_id"]
        earlier = (
            [r for r in others.get(pid, []) if r["received_at"] < referral["received_at"]] if pid else []
        )
        return {
            **_child_identity(row),
            "match": {"status": row["match_status"], "candidates": json.loads(row["match_candidates"] or "[]")},
            "siblings": [_person_ref(s) for s in siblings.get(pid, [])] if pid else [],
            "previous_referrals": [{"referral_id": r["id"], "received_at": r["received_at"], "status": r["status"],
                                    "outcome": r["outcome"]} for r in earlier],
            "repeat_referral": any(referral["received_at"] - r["received_at"] <= timedelta(days=365) for r in earlier),
        }  # fmt: skip

    summary = _summary(referral, children, now)
    return {
        **{key: summary[key] for key in ("id", "status", "referring_agency", "received_at", "decision_due_at",
                                         "overdue", "outcome")},
        **{key: referral[key] for key in ("referred_by", "statutory_decision_due_at", "rag_due_at",
                                          "acknowledgement_due_at", "acknowledged_at", "referral_source",
                                          "concern_summary", "do_not_inform_parents", "do_not_inform_reason",
                                          "created_at", "updated_at", "external_reference")},
        "view": "full",
        "concern_categories": json.loads(referral["concern_categories"]),
        "referrer": json.loads(referral["referrer"]),
        "parental_consent": {"informed": referral["parents_informed"], "consented": referral["parents_consented"],
                             "reason_not_informed": referral["consent_reason"]},
        "consent_override": None if referral["consent_override_at"] is None else {
            "reason": referral["consent_override_reason"], "lawful_basis": referral["consent_override_basis"],
            "special_category_condition": referral["consent_override_special_category"],
            "by": referral["consent_override_by"], "at": referral["consent_override_at"]},
        "rag": None if referral["rag_rating"] is None else {
            "rating": referral["rag_rating"], "rationale": referral["rag_rationale"],
            "rated_by": referral["rag_rated_by"], "rated_at": referral["rag_rated_at"]},
        "children": [child(c) for c in children],
        "household": [{key: m[key] for key in ("id", "given_name", "family_name", "relationship", "date_of_birth",
                                               "lives_with_children", "parental_responsibility")} for m in household],
        "withdrawal": None if referral["withdrawn_at"] is None else {
            "at": referral["withdrawn_at"], "by": referral["withdrawn_by"], "reason": referral["withdrawal_reason"]},
    }  # fmt: skip


def _child_identity(row: Mapping[str, Any]) -> dict[str, Any]:
    lines = json.loads(row["address_lines"]) if row["address_lines"] else None
    return {
        "id": row["id"], "person_id": row["person_id"], "given_name": row["given_name"],
        "family_name": row["family_name"], "date_of_birth": row["date_of_birth"],
        "expected_date_of_birth": row["expected_date_of_birth"], "nhs_number": row["nhs_number"],
        "address": {"lines": lines or [], "postcode": row["postcode"]} if lines or row["postcode"] else None,
        "gender": row["gender"], "ethnicity": row["ethnicity"],
    }  # fmt: skip


def _summary(row: asyncpg.Record, children: Sequence[asyncpg.Record], now: datetime) -> dict[str, Any]:
    outcome = None
    if row["decision_id"] is not None and row["outcome"] is not None and row["decided_at"] is not None:
        outcome = {"decision_id": row["decision_id"], "level": row["outcome_level"] or 0,
                   "outcome": row["outcome"], "decided_at": row["decided_at"]}  # fmt: skip
    return {
        "id": row["id"], "status": row["status"], "referring_agency": row["referring_agency"],
        "received_at": row["received_at"], "rag_rating": row["rag_rating"], "decision_due_at": row["decision_due_at"],
        "overdue": row["status"] not in FINAL_REFERRAL_STATUSES and row["decision_due_at"] < now,
        "concern_categories": json.loads(row["concern_categories"]),
        "children": [{key: c[key] for key in ("person_id", "given_name", "family_name", "date_of_birth",
                                              "expected_date_of_birth")} for c in children],
        "outcome": outcome,
        "statutory_decision_due_at": None, "allocation": None, "outstanding_checks": None, "match_pending": None,
        "earlier_referrals": None,
    }  # fmt: skip


class _Where:
    """A WHERE clause built condition by condition, each ``${}`` numbered after the earlier ones."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[Any] = []

    def add(self, sql: str, *values: Any) -> None:
        self.parts.append(sql.format(*range(len(self.args) + 1, len(self.args) + 1 + len(values))))
        self.args.extend(values)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "true"


def _allocation(row: asyncpg.Record) -> dict[str, Any]:
    return {"worker": row["allocated_worker"], "team": row["allocated_team"], "allocated_at": row["allocated_at"],
            "allocated_by": row["allocated_by"], "note": row["allocation_note"]}  # fmt: skip


def _queue_fields(
    row: asyncpg.Record, children: Sequence[asyncpg.Record], checks: Sequence[asyncpg.Record], earlier: int,
    now: datetime, today: date,
) -> dict[str, Any]:  # fmt: skip
    """What the hub's list items add to a partner's (app.children.referrals.views.summary)."""
    return {
        "statutory_decision_due_at": row["statutory_decision_due_at"],
        "children": [{key: c[key] for key in ("person_id", "given_name", "family_name", "date_of_birth",
                                              "expected_date_of_birth")}
                     | {"age": None if c["date_of_birth"] is None else max(0, age_on(c["date_of_birth"], today))}
                     for c in children],
        "allocation": _allocation(row),
        "outstanding_checks": [{"contribution_id": c["id"], "agency": c["agency"], "due_at": c["due_at"],
                                "overdue": c["due_at"] < now} for c in checks],
        "match_pending": any(c["match_status"] == "pending" for c in children),
        "earlier_referrals": earlier,
    }  # fmt: skip


def _enquiry_summary(
    row: asyncpg.Record, concern: asyncpg.Record, advocacy: asyncpg.Record | None, now: datetime, hub: bool
) -> dict[str, Any]:
    outstanding = False
    if advocacy is not None and advocacy["required"]:
        appointed = advocacy["offer"] == "accepted" and advocacy["advocate_id"] is not None
        outstanding = not (appointed or advocacy["offer"] == "declined")
    return {
        **{key: row[key] for key in ("id", "concern_id", "kind", "status", "lead_agency", "caused_to_agency",
                                     "opened_at")},
        "objectives": json.loads(row["objectives"]),
        "overdue": row["status"] == "open" and row["opened_at"] < now - ENQUIRY_TARGET,
        "adult": {"person_id": concern["person_id"] if hub else None, "given_name": concern["given_name"],
                  "family_name": concern["family_name"], "date_of_birth": concern["date_of_birth"]},
        "allocation": _allocation(row) if hub else None,
        "advocacy": None if advocacy is None else {"required": advocacy["required"], "offer": advocacy["offer"],
                                                   "advocate_outstanding": outstanding},
    }  # fmt: skip


def _answer(actor: Actor, key: str, fingerprint: str, created: _Created, ttl_hours: int) -> dict[str, Any]:
    """The idempotency record kept for a create (app.core.idempotency.store_response)."""
    now = datetime.now(UTC)
    records = [
        {"record_type": row["record_type"], "record_id": row["record_id"],
         "person_id": None if row["person_id"] is None else str(row["person_id"])}
        for row in created.audit
        if row["action"] == "create"
    ]  # fmt: skip
    sub, agency, role = actor
    return {
        "id": uuid.uuid4(), "caller_agency": agency, "caller_role": role, "caller_sub": sub,
        "operation": _CREATE_OPERATION, "key": key, "fingerprint": fingerprint, "response_status": 201,
        "response_headers": {"content-type": "application/json", "location": created.headers["Location"]},
        "response_body": created.body, "records": records, "created_at": now,
        "expires_at": now + timedelta(hours=ttl_hours),
    }  # fmt: skip


def _audit_row(
    actor: Actor, action: str, record_type: str, record_id: str | None, person_id: uuid.UUID | None,
    details: dict[str, Any],
) -> AuditRow:  # fmt: skip
    return {
        "id": uuid.uuid4(), "occurred_at": datetime.now(UTC), "request_id": uuid.uuid4().hex,
        "actor_sub": actor[0], "actor_agency": actor[1], "actor_role": actor[2], "action": action,
        "record_type": record_type, "record_id": record_id, "person_id": person_id, "details": details,
    }  # fmt: skip


async def _append(
    conn: asyncpg.Connection,
    events: list[CaseEvent],
    entries: list[AuditRow],
    answers: Sequence[dict[str, Any]] = (),
) -> None:
    """app.core.insert_at_commit on PostgreSQL: one statement stages the audit entries and the case
    events (the COMMIT's deferred trigger chains and numbers them) and inserts the idempotency record,
    if any."""
    rows = [
        {"id": uuid.uuid4(), "occurred_at": at, "aggregate_type": "referral", "aggregate_id": rid,
         "event_type": event_type, "actor_sub": actor[0], "actor_agency": actor[1], "actor_role": actor[2],
         "data": data}
        for at, rid, event_type, actor, data in events
    ]  # fmt: skip
    queued = {
        table: list(r)
        for table, r in ((STAGED_ENTRIES, entries), (STAGED_EVENTS, rows), (ANSWERS, answers))
        if r
    }
    stmt, params = statement(queued)
    compiled = _COMPILED.get(stmt)
    if compiled is None:
        done = stmt.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
        compiled = _COMPILED[stmt] = (done.string, list(done.positiontup or []))
    sql, order = compiled
    await conn.execute(sql, *(params[name] for name in order))


# app.core.insert_at_commit's statements, in asyncpg's form ($1, $2, ...) and the order of their parameters.
_COMPILED: dict[Any, tuple[str, list[str]]] = {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The reference ceiling for bench/run.py.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the ceiling app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument(
        "--workers", type=int, default=1, help="processes, as `mash serve --workers` (default 1)"
    )
    args = parser.parse_args(argv)
    import uvicorn

    # As `mash serve` runs mash-api: uvloop + httptools, no access log. Each worker builds its app from
    # the environment (an import string: uvicorn cannot hand an app object to other processes).
    uvicorn.run(
        "bench.ceiling:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
