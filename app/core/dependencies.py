"""Dependencies that hand application-wide services to routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.clock import WorkingClock


def get_clock(request: Request) -> WorkingClock:
    clock: WorkingClock = request.app.state.clock
    return clock


Clock = Annotated[WorkingClock, Depends(get_clock)]
