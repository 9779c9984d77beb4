"""The timescales in force: those an admin stored through the API, else the configured ones.

Deadlines are computed from the timescales in force when the record is made or rated, and stored with
it, so a change applies to new deadlines only. Every request that computes a deadline reads the stored
setting in its own transaction (one primary-key lookup), so each worker process follows the latest
committed change at once, without any signal between processes. Building a ``WorkingClock`` is the
only costly part, so the clock of the last version seen is cached and rebuilt only when the stored
version or value differs.

Documents stored before working hours were set per weekday (``workday_start``, ``workday_end`` and
``working_weekdays``) are read as they are: ``WorkingTimeConfig`` turns the single window into the same
hours on each working weekday (a tolerant reader, no data migration), and the next PUT stores the new
form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import WEEKDAYS, WorkingClock, WorkingTimeConfig
from app.core.direct import DirectSelect
from app.core.readable import one
from app.models.base import table_columns
from app.models.settings import HubSetting

TIMESCALES_KEY = "timescales"


@dataclass(frozen=True, slots=True)
class Timescales:
    """The timescales in force; ``version`` 0 and ``stored`` False mean the configured defaults."""

    config: WorkingTimeConfig
    version: int
    stored: bool
    updated_at: datetime | None = None
    updated_by: str | None = None


def config_document(config: WorkingTimeConfig) -> dict[str, Any]:
    """The JSON form stored in ``hub_settings`` (sets and lists sorted, so equal configs compare equal)."""
    document = config.model_dump(mode="json")
    # Every weekday, in order, a day without hours as null: the same config always stores the same JSON.
    hours = document["working_hours"]
    document["working_hours"] = {day.value: hours.get(day.value) for day in WEEKDAYS}
    document["extra_closure_dates"] = sorted(document["extra_closure_dates"])
    return document


# Built once: each request that works to the clock reads it.
_SETTINGS = table_columns(HubSetting)
_IN_FORCE = DirectSelect(sa.select(_SETTINGS.version, _SETTINGS.value).where(_SETTINGS.key == TIMESCALES_KEY))


class ClockProvider:
    """Hands each request the ``WorkingClock`` of the timescales in force in its transaction."""

    def __init__(self, default: WorkingTimeConfig) -> None:
        self.default = WorkingClock(default)
        self._cached: tuple[int, dict[str, Any], WorkingClock] | None = None

    async def current(self, session: AsyncSession) -> WorkingClock:
        rows = await _IN_FORCE.rows(session, {})
        if not rows:
            return self.default
        version, value = rows[0]
        cached = self._cached
        # The value is compared too: a version number alone could repeat if the table were recreated.
        if cached is not None and cached[0] == version and cached[1] == value:
            return cached[2]
        clock = WorkingClock(WorkingTimeConfig.model_validate(value))
        self._cached = (version, value, clock)
        return clock


def from_row(row: HubSetting | None, default: WorkingTimeConfig) -> Timescales:
    if row is None:
        return Timescales(config=default, version=0, stored=False)
    return Timescales(
        config=WorkingTimeConfig.model_validate(row.value),
        version=row.version,
        stored=True,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def stored_row(session: AsyncSession, *, for_update: bool = False) -> HubSetting | None:
    return await one(
        session, sa.select(HubSetting).where(HubSetting.key == TIMESCALES_KEY), for_update=for_update
    )


async def load(session: AsyncSession, default: WorkingTimeConfig) -> Timescales:
    """The timescales in force, with their version and who last changed them."""
    return from_row(await stored_row(session), default)
