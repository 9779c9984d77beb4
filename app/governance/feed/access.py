"""What the feed tells a caller about an event beyond its rule table: whether a request was addressed to
the caller's agency, and whether the event's actor is named (another agency's staff are shown by agency
only). The only place in the feed that compares a caller's agency."""

from __future__ import annotations

from app.core.auth import Principal
from app.models.event import CaseEvent


def addressed_to(event: CaseEvent, caller: Principal) -> bool:
    """Whether the request this event records was sent to the caller's agency."""
    return bool(event.data.get("agency") == caller.agency)


def names_actor(event: CaseEvent, caller: Principal) -> bool:
    """Whether the caller may see who acted (sub and role): only its own agency's staff."""
    return event.actor_agency == caller.agency
