"""The audit chain is extended at commit, inside PostgreSQL, and checked there; signed checkpoints.

Until now the append statement took the chain head's row lock and held it until the client's COMMIT
arrived: across a round trip, so every audited request queued behind another's network and event loop.
Now a request inserts its audit entries and case events into two staging tables, ``audit_pending`` and
``case_events_pending``, which nobody else can see (uncommitted). A ``DEFERRABLE INITIALLY DEFERRED``
constraint trigger on them runs ``mash_chain_pending()`` as part of COMMIT: it locks the head, numbers
the case events after the last one, chains the audit entries (``mash_audit_hash``, the SHA-256 of the
same canonical JSON the Python verifier hashes), moves the head and empties the staging rows. The lock
is held only from there to the end of the commit, on the server.

The canonical form needs each entry's ``details`` as sorted, compact JSON. The ``json`` column keeps
the text it was given, so the application now sends that form; entries written before this migration
hold Python's default ``json.dumps`` text, and are rewritten here to the canonical text of the same
value (their hashes, computed over the canonical form all along, stay valid). The triggers that
refuse changes to ``audit_events`` are disabled for that rewrite only.

``audit_checkpoints`` (both databases) holds signed (HMAC-SHA256) checkpoints: the seq and hash of a
verified entry, so that a routine check covers only the entries after the latest one.

Revision ID: 20261206_audit_chain
Revises: 20261206_documents
Create Date: 2026-12-06 15:00:00+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_audit_chain"
down_revision: str | None = "20261206_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "mash_app"
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

AUDIT_COLUMNS = (
    "id, occurred_at, request_id, actor_sub, actor_agency, actor_role, action, record_type, record_id,"
    " person_id, details"
)
EVENT_COLUMNS = (
    "id, occurred_at, aggregate_type, aggregate_id, event_type, actor_sub, actor_agency, actor_role, data"
)

# The canonical form of app.core.audit.canonical_bytes: sorted keys, no whitespace, UTF-8, UTC times
# with microseconds; to_json() escapes text as Python's json.dumps(ensure_ascii=False) does. ``{text}``
# is how each text field is written as a JSON string.
_CANONICAL = """
    '{{"action":' || {action}
    || ',"actor_agency":' || {actor_agency}
    || ',"actor_role":' || {actor_role}
    || ',"actor_sub":' || {actor_sub}
    || ',"details":' || details::text
    || ',"id":"' || id::text
    || '","occurred_at":"' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    || '","person_id":' || coalesce('"' || person_id::text || '"', 'null')
    || ',"prev_hash":"' || prev_hash
    || '","record_id":' || coalesce({record_id}, 'null')
    || ',"record_type":' || {record_type}
    || ',"request_id":' || coalesce({request_id}, 'null')
    || ',"seq":' || seq::text || '}}'
"""
_TEXT_FIELDS = ("action", "actor_agency", "actor_role", "actor_sub", "record_id", "record_type", "request_id")
# to_json() costs about 0.2 us a call: when no field holds a character it escapes (a quote, a backslash,
# a control character; [:cntrl:] may name a few more, which only sends them the exact, slower way),
# quoting is all it does, and one regular expression over them all is cheaper than seven calls.
_NEEDS_ESCAPES = r"""concat(action, actor_agency, actor_role, actor_sub, record_id, record_type, request_id) ~ '[[:cntrl:]"\\]'"""
_ESCAPED = {field: f"to_json({field})::text" for field in _TEXT_FIELDS}
_QUOTED = {field: "'\"' || " + field + " || '\"'" for field in _TEXT_FIELDS}
CANONICAL = (
    f"CASE WHEN {_NEEDS_ESCAPES} THEN {_CANONICAL.format(**_ESCAPED)} ELSE {_CANONICAL.format(**_QUOTED)} END"
)
HASH_SIGNATURE = (
    "mash_audit_hash(seq bigint, prev_hash text, id uuid, occurred_at timestamptz, request_id text,"
    " actor_sub text, actor_agency text, actor_role text, action text, record_type text,"
    " record_id text, person_id uuid, details json)"
)
HASH_TYPES = (
    "mash_audit_hash(bigint, text, uuid, timestamptz, text, text, text, text, text, text, text, uuid, json)"
)

# STABLE (to_char), so that it is inlined into a query that calls it: a set-based check computes it
# row by row in parallel workers.
HASH_FUNCTION = f"""
    CREATE FUNCTION {HASH_SIGNATURE} RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT encode(sha256(convert_to({CANONICAL}, 'UTF8')), 'hex') $$
"""

# Runs at COMMIT (deferred), once per staged row: the first call does the work for the whole
# transaction, the later ones find the staging tables empty. As the system (SET mash.role), so that
# row-level security neither narrows max(seq) of case_events nor refuses the inserts. Each statement
# of a plpgsql function takes its own snapshot (READ COMMITTED): the ones after the head lock see
# what the previous holder committed.
CHAIN_FUNCTION = f"""
    CREATE FUNCTION mash_chain_pending() RETURNS trigger LANGUAGE plpgsql
    SET mash.role = 'system' SET mash.agency = 'system'
    AS $$
    DECLARE
        head_seq bigint;
        head_hash text;
        last_event bigint;
        entry record;
    BEGIN
        IF current_setting('mash.chained', true) = 'yes' THEN
            RETURN NULL;
        END IF;
        PERFORM set_config('mash.chained', 'yes', true);
        SELECT last_seq, last_hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;

        SELECT coalesce(max(seq), 0) INTO last_event FROM case_events;
        INSERT INTO case_events (seq, {EVENT_COLUMNS})
        SELECT last_event + row_number() OVER (ORDER BY pos), {EVENT_COLUMNS}
        FROM case_events_pending ORDER BY pos;
        DELETE FROM case_events_pending;

        FOR entry IN SELECT * FROM audit_pending ORDER BY pos LOOP
            INSERT INTO audit_events (seq, prev_hash, hash, {AUDIT_COLUMNS})
            VALUES (
                head_seq + 1, head_hash,
                mash_audit_hash(head_seq + 1, head_hash, entry.id, entry.occurred_at, entry.request_id,
                    entry.actor_sub, entry.actor_agency, entry.actor_role, entry.action,
                    entry.record_type, entry.record_id, entry.person_id, entry.details),
                entry.id, entry.occurred_at, entry.request_id, entry.actor_sub, entry.actor_agency,
                entry.actor_role, entry.action, entry.record_type, entry.record_id, entry.person_id,
                entry.details
            )
            RETURNING seq, hash INTO head_seq, head_hash;
        END LOOP;
        IF FOUND THEN
            DELETE FROM audit_pending;
            UPDATE audit_chain_head SET last_seq = head_seq, last_hash = head_hash WHERE id = 1;
        END IF;
        RETURN NULL;
    END $$
"""  # noqa: S608 (constants)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _audit_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("actor_sub", sa.String(255), nullable=False),
        sa.Column("actor_agency", sa.String(40), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("record_type", sa.String(60), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", _BIGINT, nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_pending",
        sa.Column("pos", _BIGINT, sa.Identity(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_audit_pending")),
    )
    op.create_table(
        "case_events_pending",
        sa.Column("pos", _BIGINT, sa.Identity(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aggregate_type", sa.String(40), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("actor_sub", sa.String(255), nullable=False),
        sa.Column("actor_agency", sa.String(40), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_case_events_pending")),
    )
    if not _is_postgres():
        return
    # The checkpoints are written by `mash audit verify` (and read by the service): insert-only.
    op.execute(f"REVOKE UPDATE, DELETE ON audit_checkpoints FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON audit_pending, case_events_pending TO {APP_ROLE}")
    op.execute(HASH_FUNCTION)
    op.execute(CHAIN_FUNCTION)
    for table in ("audit_pending", "case_events_pending"):
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_chain AFTER INSERT ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mash_chain_pending()"
        )
        # Every audited commit leaves its staged rows dead: vacuum them often, so the trigger's scan
        # of the (logically empty) table stays short.
        op.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0)"
        )
    _canonicalise_details()


def _canonicalise_details(batch: int = 10_000) -> None:
    """Rewrite each existing entry's ``details`` text to the canonical form of the same value."""
    bind = op.get_bind()
    op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
    op.execute("ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY")
    after = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT seq, details::text FROM audit_events WHERE seq > :after ORDER BY seq LIMIT :n"),
            {"after": after, "n": batch},
        ).all()
        if not rows:
            break
        changed = [
            {"seq": seq, "details": canonical}
            for seq, text in rows
            if (canonical := _canonical(text)) != text
        ]
        if changed:
            bind.execute(
                sa.text("UPDATE audit_events SET details = CAST(:details AS json) WHERE seq = :seq"), changed
            )
        after = rows[-1][0]
    op.execute("ALTER TABLE audit_events FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete")


def _canonical(text: str) -> str:
    return json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def downgrade() -> None:
    if _is_postgres():
        for table in ("case_events_pending", "audit_pending"):
            op.execute(f"DROP TRIGGER {table}_chain ON {table}")
        op.execute("DROP FUNCTION mash_chain_pending()")
        op.execute(f"DROP FUNCTION {HASH_TYPES}")
    # The canonical details text stays: it is the same value, and the earlier code reads it alike.
    op.drop_table("case_events_pending")
    op.drop_table("audit_pending")
    op.drop_table("audit_checkpoints")
