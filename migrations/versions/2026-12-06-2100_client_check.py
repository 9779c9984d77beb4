"""The caller's client checked inside each transaction's BEGIN (PostgreSQL only).

``mash_client_check(client)`` raises SQLSTATE ``MA401`` unless ``client`` is registered and not
revoked. ``app.core.db`` appends it to the ``BEGIN`` message that already sets the caller's row-level
security context, so the revocation check that every authenticated request needs costs no statement of
its own (``app.core.auth``).

Revision ID: 20261206_client_check
Revises: 20261206_retention
Create Date: 2026-12-06 21:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261206_client_check"
down_revision: str | None = "20261206_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.core.auth.REVOKED_SQLSTATE: a code of no PostgreSQL class, so nothing else raises it.
CREATE = """
CREATE FUNCTION mash_client_check(client uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM 1 FROM clients WHERE id = client AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the client is revoked or unknown' USING ERRCODE = 'MA401';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION mash_client_check(uuid)")
