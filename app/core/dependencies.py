"""Dependencies that hand application-wide services to routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import WorkingClock
from app.core.db import get_session
from app.core.timescales import ClockProvider


async def get_clock(request: Request) -> WorkingClock:
    """The working clock of the timescales in force, read in the request's own transaction."""
    clocks: ClockProvider = request.app.state.clocks
    return await clocks.current(get_session(request))


Clock = Annotated[WorkingClock, Depends(get_clock)]
