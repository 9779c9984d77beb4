"""Row-level security on referrals: "a request for information on this referral asked of my agency" is a
function the planner counts as cheap, so the hub's lists are planned as the owner's are (PostgreSQL only).

The referrals policy admits a row when the caller is the hub, when the caller's agency made the
referral, or when a request for information on it was asked of the caller's agency. The last was an
inline ``EXISTS`` (migration 20261129_policy_probes). PostgreSQL costs an ``OR`` as the sum of all its
arms, so it charged every row that lookup (an index probe of ``contributions``, cost 17), although for
the hub the first arm always holds and the lookup never runs. On the ten-year database the hub's page of
overdue referrals, newest first, was then estimated cheaper by reading every open overdue referral
(4,750) and sorting them (cost 130,858, 6 ms) than by walking the received-at index backwards until 51
match (cost 240,219, 0.7 ms; 523 rows read), the plan the owner, without policies, gets. The choice
flipped with ANALYZE's sample, so the list scenarios' ratio to the ceiling swung between runs (0.94 at
one, 0.55 at the next; bench/README.md).

``mash_rls_asked(referral)`` runs the same lookup. A SQL function whose body holds a subquery is not
inlined, so its declared ``COST 1`` is what the planner charges, and the hub's overdue page plans as
the owner's. It has no ``SET`` clause: the caller's agency is read inside it and the ``contributions``
policy applies to its lookup, exactly as to the inline ``EXISTS``. The rows admitted are the same
(tests/security). A partner reaching that arm (a referral it did not make) pays a function call
instead of a subplan: a few microseconds a row, on what it may only see by being asked.

Revision ID: 20261208_referral_asked
Revises: 20261207_idempotency_claim
Create Date: 2026-12-08 09:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

from alembic import context, op

revision: str = "20261208_referral_asked"
down_revision: str | None = "20261207_idempotency_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The caller's agency is read inside, and the contributions policy applies to the lookup, as before.
CREATE = """
CREATE FUNCTION mash_rls_asked(p_referral uuid) RETURNS boolean LANGUAGE sql STABLE COST 1 AS $$
    SELECT EXISTS (
        SELECT 1 FROM contributions p
        WHERE p.referral_id = p_referral AND p.agency = current_setting('mash.agency', true)
    )
$$
"""
RULE = "referring_agency = current_setting('mash.agency', true) OR mash_rls_asked(referrals.id)"


def _set(rule: str) -> None:
    council: ModuleType = context.script.get_revision("20261204_council").module
    hub, _ = council._hub(with_governance=True)
    op.execute(f"ALTER POLICY visible ON referrals USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE)
    _set(RULE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    probes: ModuleType = context.script.get_revision("20261129_policy_probes").module
    _set(probes.VISIBLE["referrals"])
    op.execute("DROP FUNCTION mash_rls_asked(uuid)")
