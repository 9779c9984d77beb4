"""Who may read a safeguarding plan, and through which view: the one place that says it.

- ``full``: adult social care (with ``plans:read``) sees every plan whole;
- ``action_owner``: an agency that owns an action in the plan sees the plan's essentials and its own
  actions, and may update them.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.adults.concerns import access as concern_access
from app.core.auth import Principal
from app.core.readable import Viewed, view_case
from app.core.scopes import Scope
from app.models.adult import PlanAction, SafeguardingPlan


class View(StrEnum):
    FULL = "full"
    ACTION_OWNER = "action_owner"


def is_hub(principal: Principal) -> bool:
    """Adult social care reading plans: sees every plan whole."""
    return concern_access.is_hub(principal) and principal.has(Scope.PLANS_READ)


def owns_action_in(
    agency: str, plan_id: sa.ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]
) -> sa.ColumnElement[bool]:
    """The agency owns an action in the plan ``plan_id`` names (a column, or an event's plan id)."""
    return sa.exists().where(PlanAction.plan_id == plan_id, PlanAction.agency == agency)


def owned_by(agency: str) -> sa.ColumnElement[bool]:
    """Plans in which the agency owns an action."""
    return owns_action_in(agency, SafeguardingPlan.id)


def partner_view(agency: str) -> sa.ColumnElement[str | None]:
    """The view through which an agency other than the hub sees each plan; NULL where it may not."""
    return view_case(None, (owned_by(agency), View.ACTION_OWNER))


def listed(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller's plan list holds: the hub every plan, a partner those it owns an action in."""
    return sa.true() if is_hub(principal) else owned_by(str(principal.agency))


# One plan for a caller, with its view (``visible``; 404 when it has none).
visible = Viewed(SafeguardingPlan, View, "safeguarding plan", partner_view, is_hub).visible


def updates_action(principal: Principal, view: View, action: PlanAction) -> bool:
    """An owner updates only its own actions; adult social care those of any agency if it writes plans."""
    if view is View.ACTION_OWNER:
        return action.agency == principal.agency
    return principal.has(Scope.PLANS_WRITE)


def shows_updater(agency: str, action: PlanAction, *, hub: bool) -> bool:
    """Who last updated an action, by ``sub``: for adult social care (``hub``), and for an action owner
    only when it was its own staff or system (partner views never carry hub staff identities)."""
    return hub or action.updated_by_agency == agency


def listed_view(principal: Principal) -> View:
    """The view of every plan in the caller's list (``listed`` holds only the plans it sees so)."""
    return View.FULL if is_hub(principal) else View.ACTION_OWNER
