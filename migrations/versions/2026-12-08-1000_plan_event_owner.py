"""Row-level security on the change feed: a plan's event on its concern's stream is checked against that
plan's actions, by the plan's key (PostgreSQL only).

A plan with a concern writes its events on the concern's stream, each naming its plan in ``data``
(``plan_id``); an agency owning an action in the plan sees them (migration 20261129_policy_probes). That
arm of the ``case_events`` policy looked the action up with an inline ``EXISTS`` on ``plan_actions``
whose condition on the plan was ``plan_id = (case_events.data->>'plan_id')::uuid``. ``->>`` and the cast
to uuid are not leakproof, so under ``plan_actions``' own policy (a security barrier) PostgreSQL may not
use that condition to search an index: it must filter by it after the policy. So it read every action
of the caller's agency and kept those of the plan, for each plan event on a concern the agency may not
otherwise see. On the ten-year database that is 8,580 rows for the police, an event; the planner priced
the arm at 3,391 an event, for the hub too (which never runs it).

``mash_rls_action_owner(plan, agency)`` (migration 20261127_row_security), which ``plan_actions``' own
policy uses, asks the same question with both as parameters, so it searches by the plan's key: one
probe of the plan's two or three actions. It runs as the system, so it sees every action of the plan;
asked for the caller's agency, it admits exactly what the ``EXISTS`` admitted, which saw the caller's
own actions through that policy.

Revision ID: 20261208_plan_event_owner
Revises: 20261208_referral_asked
Create Date: 2026-12-08 10:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

from alembic import context, op

revision: str = "20261208_plan_event_owner"
down_revision: str | None = "20261208_referral_asked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN = "(case_events.data->>'plan_id')::uuid"


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _set(readable: str) -> None:
    hub, _ = _module("20261204_council")._hub(with_governance=True)
    op.execute(f"ALTER POLICY readable ON case_events USING ({hub} OR {readable})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    probes = _module("20261129_policy_probes")
    lookup = probes._related("plan_actions", PLAN, "plan_id", f" AND p.agency = {probes.CALLER}")
    readable = probes.CASE_EVENTS.replace(lookup, f"mash_rls_action_owner({PLAN}, {probes.AGENCY})")
    assert readable != probes.CASE_EVENTS, "the case events rule looks up a plan's actions"
    _set(readable)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set(_module("20261129_policy_probes").CASE_EVENTS)
