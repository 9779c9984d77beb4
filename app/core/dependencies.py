"""Dependencies that hand application-wide services to routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import WorkingClock
from app.core.db import DbSession
from app.core.timescales import ClockProvider


async def get_clock(request: Request, session: DbSession) -> WorkingClock:
    """The working clock of the timescales in force, read in the request's own transaction."""
    clocks: ClockProvider = request.app.state.clocks
    return await clocks.current(session)


Clock = Annotated[WorkingClock, Depends(get_clock)]
