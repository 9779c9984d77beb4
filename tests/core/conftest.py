"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine
from tests.conftest import make_settings


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The application's own engine on the test's database, as the service makes it."""
    engine = create_engine(make_settings(database_url))
    try:
        yield engine
    finally:
        await engine.dispose()
