"""Row-level security: PostgreSQL itself keeps each agency to the case rows it may see, behind the
application's own visibility queries.

The application connects as ``mash_app``, which owns nothing: it gets only the privileges it needs
(the audit trail is insert-only for it), and every case table has ``ENABLE`` and ``FORCE ROW LEVEL
SECURITY`` with policies mirroring the contract's visibility rules. Each transaction names its caller
in two transaction-local settings, ``mash.agency`` and ``mash.role`` (``app.core.db``); no setting, no
case rows. ``system`` is the CLI and the migrations.

A policy reads only the row itself, or a related row through an indexed ``EXISTS`` (to which that
table's own policy applies). Where two tables' rules refer to each other (a referral is visible to an
agency asked about it; a request on it is visible to the referrer, who cancels it on withdrawal), the
rarely taken side asks a small function that runs as the system, so the policies do not recurse.

PostgreSQL only; nothing on SQLite, where the application's rules are the only ones.

Revision ID: 20261127_row_security
Revises: 20261126_governance
Create Date: 2026-11-27 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_row_security"
down_revision: str | None = "20261126_governance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "mash_app"

ROLE = "current_setting('mash.role', true)"
AGENCY = "current_setting('mash.agency', true)"
# The hub: its own roles, the auditor (statutory returns), the system, and anyone of the two lead
# agencies, which the application lets see every record of its side (and either side for a subject
# access export: the council is one controller).
HUB = (
    f"({ROLE} IN ('mash_practitioner', 'mash_manager', 'asc_practitioner', 'asc_manager', 'auditor', "
    f"'system') OR {AGENCY} IN ('childrens_social_care', 'adult_social_care'))"
)
ANY_CALLER = f"(coalesce({ROLE}, '') <> '')"


def _parent(table: str, key: str, column: str = "id", extra: str = "") -> str:
    """A related row is visible (its table's own policy applies inside the EXISTS). ``key`` names the
    policy's table's column, qualified where the related table has a column of the same name."""
    return f"EXISTS (SELECT 1 FROM {table} p WHERE p.{column} = {key}{extra})"  # noqa: S608 (constants)


# Lookups that cross back between tables whose policies would otherwise refer to each other: they run
# as the system (SET mash.role), so they see every row and do not recurse. A call costs far more than an
# inline EXISTS (no inlining, the setting saved and restored), so each sits on the rarely taken side:
# the referrer seeing requests on its referral, the raiser an enquiry, an owner another agency's action.
FUNCTIONS = {
    "mash_rls_referred(p_referral uuid, p_agency text)": (
        "SELECT EXISTS (SELECT 1 FROM referrals WHERE id = p_referral AND referring_agency = p_agency)"
    ),
    "mash_rls_raised(p_concern uuid, p_agency text)": (
        "SELECT EXISTS (SELECT 1 FROM adult_concerns WHERE id = p_concern AND raising_agency = p_agency)"
    ),
    "mash_rls_action_owner(p_plan uuid, p_agency text)": (
        "SELECT EXISTS (SELECT 1 FROM plan_actions WHERE plan_id = p_plan AND agency = p_agency)"
    ),
}
# The change feed and the event numbering need the last event of all, whoever asks.
HEAD_FUNCTION = "mash_case_events_head()"
HEAD_BODY = "SELECT coalesce(max(seq), 0) FROM case_events"

# Who may see (and so change) each case table's rows, besides the hub. Same rule for reads and writes.
VISIBLE: dict[str, str] = {
    # Children's front door.
    "referrals": (
        f"referring_agency = {AGENCY} OR "
        + _parent(
            "contributions", "referrals.id", "referral_id", f" AND p.agency = {AGENCY}"
        )  # asked about it
    ),
    "referral_children": _parent("referrals", "referral_id"),
    "referral_household_members": _parent("referrals", "referral_id"),
    "referral_communications": _parent("referrals", "referral_id"),
    "threshold_decisions": _parent("referrals", "referral_id"),
    # The requests made of the agency, and those on its own referral (it cancels them by withdrawing).
    "contributions": f"agency = {AGENCY} OR mash_rls_referred(referral_id, {AGENCY})",
    # An answer: only the agency that gave it (the referrer never sees answers).
    "contribution_responses": _parent("contributions", "contribution_id", extra=f" AND p.agency = {AGENCY}"),
    # Adults at risk.
    "adult_concerns": (
        f"raising_agency = {AGENCY} OR "
        + _parent(
            "enquiries",
            "adult_concerns.id",
            "concern_id",
            f" AND (p.lead_agency = {AGENCY} OR p.caused_to_agency = {AGENCY})",
        )
    ),
    "allegations": _parent("adult_concerns", "concern_id"),
    "section_42_decisions": _parent("adult_concerns", "concern_id"),
    "enquiries": (
        f"lead_agency = {AGENCY} OR caused_to_agency = {AGENCY} OR mash_rls_raised(concern_id, {AGENCY})"
    ),
    "advocacy": _parent("adult_concerns", "concern_id"),
    "capacity_assessments": _parent("adult_concerns", "concern_id"),
    "best_interests_decisions": _parent("capacity_assessments", "assessment_id"),
    "advocates": "false",
    "safeguarding_plans": _parent(
        "plan_actions", "safeguarding_plans.id", "plan_id", f" AND p.agency = {AGENCY}"
    ),
    "plan_actions": f"agency = {AGENCY} OR mash_rls_action_owner(plan_id, {AGENCY})",
    "plan_reviews": _parent("safeguarding_plans", "plan_id"),
    # The person register: matching a partner's referral or concern reads and extends it, so any
    # authenticated caller may (the API shows people to the hub only).
    "people": ANY_CALLER,
    "person_match_keys": ANY_CALLER,
    "person_links": ANY_CALLER,
    # Governance.
    "subject_access_requests": "false",
}
# Append-only records every caller writes, read by fewer.
APPEND_ONLY: dict[str, str] = {
    "case_events": " OR ".join(
        [
            f"(aggregate_type = 'referral' AND {_parent('referrals', 'aggregate_id')})",
            f"(aggregate_type = 'adult_concern' AND {_parent('adult_concerns', 'aggregate_id')})",
            f"(aggregate_type = 'safeguarding_plan' AND {_parent('safeguarding_plans', 'aggregate_id')})",
            # A plan's events on its concern's stream, for the agencies owning an action in it.
            "(aggregate_type = 'adult_concern' AND case_events.data->>'plan_id' IS NOT NULL AND "
            + _parent(
                "plan_actions", "(case_events.data->>'plan_id')::uuid", "plan_id", f" AND p.agency = {AGENCY}"
            )
            + ")",
        ]
    ),
    "disclosures": "false",
}
AUDIT_READERS = f"{ROLE} IN ('auditor', 'system')"

# Privileges of the application role: what the code does to each table. Tables not named here get
# SELECT, INSERT, UPDATE.
PRIVILEGES = {
    "audit_events": "SELECT, INSERT",  # insert-only: no UPDATE, DELETE or TRUNCATE
    "audit_chain_head": "SELECT, UPDATE",  # the head row is locked (FOR UPDATE) and moved forward
    "case_events": "SELECT, INSERT",
    "disclosures": "SELECT, INSERT",
    "idempotency_records": "SELECT, INSERT, UPDATE, DELETE",  # expiry and purge
    "person_match_keys": "SELECT, INSERT, UPDATE, DELETE",  # replaced when a person's details change
    "alembic_version": "SELECT",
}
DEFAULT_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _tables() -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    if not _is_postgres():
        return
    # Usually created beforehand by whoever provisions the database (README); made here when missing,
    # without LOGIN: a login role is then granted membership of it.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- made meanwhile by another
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    for table in _tables():
        op.execute(f"GRANT {PRIVILEGES.get(table, 'SELECT, INSERT, UPDATE')} ON {table} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # Tables and sequences that later migrations make (run by this same owner) get privileges too.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {DEFAULT_PRIVILEGES} ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")

    for signature, body in [*FUNCTIONS.items(), (HEAD_FUNCTION, HEAD_BODY)]:
        returns = "bigint" if signature == HEAD_FUNCTION else "boolean"
        op.execute(
            f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE"
            f" SET mash.role = 'system' SET mash.agency = 'system' AS $$ {body} $$"
        )

    for table, rule in VISIBLE.items():
        _enable(table)
        op.execute(f"CREATE POLICY visible ON {table} USING ({HUB} OR {rule}) WITH CHECK ({HUB} OR {rule})")
    for table, rule in APPEND_ONLY.items():
        _enable(table)
        op.execute(f"CREATE POLICY readable ON {table} FOR SELECT USING ({HUB} OR {rule})")
        op.execute(f"CREATE POLICY appendable ON {table} FOR INSERT WITH CHECK ({ANY_CALLER})")
    _enable("audit_events")
    op.execute(f"CREATE POLICY readable ON audit_events FOR SELECT USING ({AUDIT_READERS})")
    # Every request is audited, a failed sign-in too (no caller yet).
    op.execute("CREATE POLICY appendable ON audit_events FOR INSERT WITH CHECK (true)")


def _enable(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def _disable(table: str) -> None:
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    if not _is_postgres():
        return
    op.execute("DROP POLICY appendable ON audit_events")
    op.execute("DROP POLICY readable ON audit_events")
    _disable("audit_events")
    for table in reversed(APPEND_ONLY):
        op.execute(f"DROP POLICY appendable ON {table}")
        op.execute(f"DROP POLICY readable ON {table}")
        _disable(table)
    for table in reversed(VISIBLE):
        op.execute(f"DROP POLICY visible ON {table}")
        _disable(table)
    for signature in [HEAD_FUNCTION, *reversed(FUNCTIONS)]:
        op.execute(f"DROP FUNCTION {signature}")

    revoke = "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE"
    op.execute(f"{revoke} USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}")  # noqa: S608 (constants)
    op.execute(f"{revoke} {DEFAULT_PRIVILEGES} ON TABLES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
    # The role itself stays: it is shared by every database of the cluster and may hold other grants.
