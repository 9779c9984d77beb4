"""Small helpers shared by tests: they go through the HTTP API like a real client would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.db import create_engine

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/problems/{code}")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def client_body(
    name: str | None = None, agency: str = "police", role: str = "partner_referrer"
) -> dict[str, str]:
    return {"name": name or f"system-{uuid.uuid4().hex[:8]}", "agency": agency, "role": role}


async def create_client(http: httpx.AsyncClient, admin: dict[str, str], **fields: str) -> dict[str, Any]:
    response = await http.post("/v1/clients", json=client_body(**fields), headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def run_sql(app: FastAPI, *statements: str) -> None:
    """Run raw SQL in its own committed transaction, as someone with owner rights on the database
    would (the migrations' connection: the application's role may not alter tables or the audit)."""
    import sqlalchemy as sa

    settings = app.state.settings
    engine = create_engine(settings.model_copy(update={"database_url": settings.migration_url}))
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def register_on_server(app: FastAPI, role: str, agency: str, name: str | None = None) -> dict[str, str]:
    """Register a client as `mash clients create` does on the server (any role its agency allows; the
    API registers partner systems and auditors only). Returns its credentials."""
    from app.admin.clients.schemas import ClientRegistration
    from app.admin.clients.service import create_client
    from app.cli import CliActor
    from app.core.db import commit

    data = ClientRegistration(name=name or f"{role} system", agency=agency, role=role)
    async with app.state.sessionmaker() as session:
        client, secret = await create_client(session, CliActor(sub="cli:test"), data, app.state.hasher)
        await commit(session)
    return {"client_id": str(client.id), "client_secret": secret}


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    """Collects every SQL statement the application sends while the block runs."""
    import sqlalchemy as sa

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
