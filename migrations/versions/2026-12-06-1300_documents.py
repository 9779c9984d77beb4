"""Documents on records (api.md "Documents"): ``documents`` (one parent each: a referral, a contribution,
an adult concern or an enquiry; the uploader's agency; name, type found in the bytes, size, SHA-256; the
virus scan; withdrawal) and ``document_chunks`` (the bytes, in order, when stored in the database).

Under row-level security a document is visible to whoever may see its parent row (each parent table's
own policy applies inside the ``EXISTS``), and a chunk to whoever may see its document. The application
narrows this further (``app.documents.access``): an agency asked about a referral does not see the
referral's documents.

Revision ID: 20261206_documents
Revises: 20261206_webhooks
Create Date: 2026-12-06 13:00:00+00:00
"""

from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa
from alembic import context, op

revision: str = "20261206_documents"
down_revision: str | None = "20261206_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENTS = (
    ("referrals", "referral_id"),
    ("contributions", "contribution_id"),
    ("adult_concerns", "concern_id"),
    ("enquiries", "enquiry_id"),
)


def _module(revision_id: str) -> ModuleType:
    module: ModuleType = context.script.get_revision(revision_id).module
    return module


def _policies() -> None:
    hub, _ = _module("20261204_council")._hub(with_governance=True)
    parent = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} p WHERE p.id = documents.{key})"  # noqa: S608 (constants)
        for table, key in PARENTS
    )
    chunk = "EXISTS (SELECT 1 FROM documents p WHERE p.id = document_chunks.document_id)"
    for table, rule in (("documents", parent), ("document_chunks", chunk)):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY visible ON {table} USING ({hub} OR {rule}) WITH CHECK ({hub} OR {rule})")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_type", sa.String(length=20), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("contribution_id", sa.Uuid(), nullable=True),
        sa.Column("concern_id", sa.Uuid(), nullable=True),
        sa.Column("enquiry_id", sa.Uuid(), nullable=True),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("uploaded_by", sa.String(length=255), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage", sa.String(length=20), nullable=False),
        sa.Column("scan_status", sa.String(length=20), nullable=False),
        sa.Column("scan_signature", sa.String(length=200), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=255), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contribution_id IS NULL THEN 0 "
            "ELSE 1 END) + (CASE WHEN concern_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN enquiry_id IS NULL "
            "THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_documents_one_parent"),
        ),
        sa.ForeignKeyConstraint(["agency"], ["agencies.code"], name=op.f("fk_documents_agency_agencies")),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["adult_concerns.id"], name=op.f("fk_documents_concern_id_adult_concerns")
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"], ["contributions.id"], name=op.f("fk_documents_contribution_id_contributions")
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"], ["enquiries.id"], name=op.f("fk_documents_enquiry_id_enquiries")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_documents_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for _, key in PARENTS:
            batch_op.create_index(batch_op.f(f"ix_documents_{key}"), [key], unique=False)
    op.create_table(
        "document_chunks",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_chunks_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", "seq", name=op.f("pk_document_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _policies()


def downgrade() -> None:
    op.drop_table("document_chunks")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        for _, key in PARENTS:
            batch_op.drop_index(batch_op.f(f"ix_documents_{key}"))
    op.drop_table("documents")
