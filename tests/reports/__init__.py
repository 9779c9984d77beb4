"""Tests of the statutory returns and the timeliness report, through HTTP only.

Each report is checked against a small, hand-built set of records made through the API, whose every
expected count and field is written out in the test. The records are dated through ``run_sql`` only:
a report counts by when things happened, and the API stamps everything "now", so the fixtures move
receipt, start and conclusion times into a chosen period (as other tests do with ``LONG_AGO``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import AgencyCode, Role
from tests.conftest import Databases
from tests.fixtures.callers import CALLERS
from tests.fixtures.database import app_of_its_own
from tests.fixtures.values import sql_id as sql_id

Headers = dict[str, str]
Body = dict[str, Any]


@dataclass
class World:
    """An application on its own database, shared by the tests of one module."""

    app: FastAPI
    http: httpx.AsyncClient

    def headers(self, role: Role | str, agency: AgencyCode | str, sub: str) -> Headers:
        issued = self.app.state.tokens.issue(sub=sub, agency=AgencyCode(agency), role=Role(role))
        return {"Authorization": f"Bearer {issued.access_token}"}

    def callers(self, *names: str) -> list[Headers]:
        """Headers for each of these callers (``CALLERS``, tests/fixtures/callers.py)."""
        return [self.headers(*CALLERS[name]) for name in names]

    @property
    def auditor(self) -> Headers:
        return self.headers(Role.AUDITOR, AgencyCode.CHILDRENS_SOCIAL_CARE, "auditor-ruth")


@asynccontextmanager
async def world_on(databases: Databases) -> AsyncIterator[World]:
    async with app_of_its_own(databases) as (app, http):
        yield World(app, http)


def sql_time(value: str) -> str:
    """An instant (RFC 3339 with offset) as a timestamp literal both databases read as UTC."""
    instant = datetime.fromisoformat(value).astimezone(UTC)
    return instant.strftime("'%Y-%m-%d %H:%M:%S.%f'")


def parse_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.text.endswith("\r\n") and "\n" not in response.text.replace("\r\n", "")  # CRLF only
    assert response.headers["content-length"] == str(len(response.content))
    return list(csv.DictReader(io.StringIO(response.text)))


async def audit_entries(world: World, record_type: str) -> list[Body]:
    """The latest audit entries about ``record_type`` (up to 200), oldest first."""
    params: dict[str, str | int] = {"record_type": record_type, "limit": 200, "order": "newest_first"}
    response = await world.http.get("/v1/audit-events", params=params, headers=world.auditor)
    assert response.status_code == 200, response.text
    items: list[Body] = response.json()["items"]
    assert all(item["record_type"] == record_type for item in items)
    return items[::-1]
