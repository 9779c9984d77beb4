"""Row-level security: a policy finds its related rows by their key, one row at a time, whoever
planned the statement.

A policy on a referral's children or on an answer looks up a related row (``EXISTS``). PostgreSQL
estimates ``current_setting('mash.agency')`` by its value when it plans, and a prepared statement's
generic plan is reused for every caller. Planned while the hub was the caller (no request for
information is addressed to the hub, so the agency's contributions looked like none), the lookup of
"a contribution on this referral asked of my agency" hashed every contribution of the agency instead,
on each execution, once a partner ran it: 230,000 rows, 250 ms to read a referral's children, and
contribution answers fell to 2-5 a second under load.

So within each lookup:
- the caller's agency is ``(SELECT current_setting(...))``: a value computed once per statement,
  which the planner does not look into, so the related table's key is the index it uses;
- ``OFFSET 0`` ends the ``EXISTS``, which keeps PostgreSQL from turning it into a hash of the related
  table.

The rules admit the same rows as before (tests/security/test_row_security.py).

Revision ID: 20261129_policy_probes
Revises: 20261128_rate_limits
Create Date: 2026-11-29 09:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

from alembic import context, op

revision: str = "20261129_policy_probes"
down_revision: str | None = "20261128_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCY = "current_setting('mash.agency', true)"
CALLER = f"(SELECT {AGENCY})"  # an InitPlan: computed once, and opaque to the planner's estimates


def _related(table: str, key: str, column: str = "id", extra: str = "") -> str:
    """A related row is visible (its table's own policy applies inside). ``key`` names the policy's
    table's column, qualified where the related table has a column of the same name."""
    return f"EXISTS (SELECT 1 FROM {table} p WHERE p.{column} = {key}{extra} OFFSET 0)"  # noqa: S608 (constants)


VISIBLE = {
    "referrals": f"referring_agency = {AGENCY} OR "
    + _related("contributions", "referrals.id", "referral_id", f" AND p.agency = {CALLER}"),
    "referral_children": _related("referrals", "referral_id"),
    "referral_household_members": _related("referrals", "referral_id"),
    "referral_communications": _related("referrals", "referral_id"),
    "threshold_decisions": _related("referrals", "referral_id"),
    "contribution_responses": _related("contributions", "contribution_id", extra=f" AND p.agency = {CALLER}"),
    "adult_concerns": f"raising_agency = {AGENCY} OR "
    + _related(
        "enquiries",
        "adult_concerns.id",
        "concern_id",
        f" AND (p.lead_agency = {CALLER} OR p.caused_to_agency = {CALLER})",
    ),
    "allegations": _related("adult_concerns", "concern_id"),
    "section_42_decisions": _related("adult_concerns", "concern_id"),
    "advocacy": _related("adult_concerns", "concern_id"),
    "capacity_assessments": _related("adult_concerns", "concern_id"),
    "best_interests_decisions": _related("capacity_assessments", "assessment_id"),
    "safeguarding_plans": _related(
        "plan_actions", "safeguarding_plans.id", "plan_id", f" AND p.agency = {CALLER}"
    ),
    "plan_reviews": _related("safeguarding_plans", "plan_id"),
}
CASE_EVENTS = " OR ".join(
    [
        f"(aggregate_type = 'referral' AND {_related('referrals', 'aggregate_id')})",
        f"(aggregate_type = 'adult_concern' AND {_related('adult_concerns', 'aggregate_id')})",
        f"(aggregate_type = 'safeguarding_plan' AND {_related('safeguarding_plans', 'aggregate_id')})",
        # A plan's events on its concern's stream, for the agencies owning an action in it.
        "(aggregate_type = 'adult_concern' AND case_events.data->>'plan_id' IS NOT NULL AND "
        + _related(
            "plan_actions", "(case_events.data->>'plan_id')::uuid", "plan_id", f" AND p.agency = {CALLER}"
        )
        + ")",
    ]
)


def _row_security() -> ModuleType:
    """The revision that made the policies: the hub's clause, and the rules to go back to."""
    module: ModuleType = context.script.get_revision("20261127_row_security").module
    return module


def _set(visible: dict[str, str], case_events: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    hub = _row_security().HUB
    for table, rule in visible.items():
        op.execute(f"ALTER POLICY visible ON {table} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")
    op.execute(f"ALTER POLICY readable ON case_events USING ({hub} OR {case_events})")


def upgrade() -> None:
    _set(VISIBLE, CASE_EVENTS)


def downgrade() -> None:
    before = _row_security()
    _set({table: before.VISIBLE[table] for table in VISIBLE}, before.APPEND_ONLY["case_events"])
