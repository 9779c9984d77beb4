"""An idempotency key's claim in one round trip (PostgreSQL only).

``mash_idempotency_claim(lock_id, agency, role, sub, operation, key)`` tries the key's advisory lock
and then reads the answer stored for it: one row, ``locked`` and the stored record's columns (null
when none is stored). ``app.core.idempotency`` sent the two as two statements.

The order matters and is why this is a function, not one ``SELECT`` of both: a statement reads with
the snapshot taken when it began, so a retry whose statement began just before the first request
committed, and whose lock came just after, would find the lock free and no answer stored, and make
the record a second time. The function is ``VOLATILE``: under READ COMMITTED each statement inside it
takes a new snapshot, so the read, after the lock, sees what the lock's last holder committed.

Revision ID: 20261207_idempotency_claim
Revises: 20261206_client_check
Create Date: 2026-12-07 18:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261207_idempotency_claim"
down_revision: str | None = "20261206_client_check"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE = """
CREATE FUNCTION mash_idempotency_claim(
    lock_id bigint, for_agency varchar, for_role varchar, for_sub varchar, for_operation varchar,
    for_key varchar
) RETURNS TABLE (
    locked boolean, id uuid, fingerprint varchar, response_status integer, response_headers json,
    response_body bytea, records json, expires_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    got boolean;
BEGIN
    got := pg_try_advisory_xact_lock(lock_id);
    RETURN QUERY
        SELECT got, r.id, r.fingerprint, r.response_status, r.response_headers, r.response_body,
               r.records, r.expires_at
        FROM (SELECT) AS one
        LEFT JOIN idempotency_records AS r
            ON r.caller_agency = for_agency AND r.caller_role = for_role AND r.caller_sub = for_sub
               AND r.operation = for_operation AND r.key = for_key;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION mash_idempotency_claim(bigint, varchar, varchar, varchar, varchar, varchar)"
        )
