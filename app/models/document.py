"""Documents on case records (api.md "Documents"): a referral's police report, an agency's letter
attached to its answer, a concern's body map. One parent record each; visibility is the parent's.

The bytes live behind ``app.documents.storage``: in ``document_chunks`` (the default) or in files.
Nothing is deleted: a withdrawn document keeps its row (and its bytes) and is no longer served.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, sub_column, uuid_pk

FILENAME_LENGTH = 255
DESCRIPTION_LENGTH = 2_000
REASON_LENGTH = 2_000


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = uuid_pk()
    # The parent record: exactly one of the four keys, named by ``parent_type``.
    parent_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    contribution_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("contributions.id"), index=True)
    concern_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("adult_concerns.id"), index=True)
    enquiry_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("enquiries.id"), index=True)
    # Who uploaded it: the agency whose document it is.
    agency: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("agencies.code"), nullable=False)
    uploaded_by: Mapped[str] = sub_column()
    uploaded_at: Mapped[datetime] = mapped_column(nullable=False)
    # What it is: the name as sent (made safe), the type found in its bytes, its size and digest.
    filename: Mapped[str] = mapped_column(sa.String(FILENAME_LENGTH), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    storage: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    # The virus scan: not_scanned (no scanner configured), pending, clean or infected.
    scan_status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    scan_signature: Mapped[str | None] = mapped_column(sa.String(200))
    scanned_at: Mapped[datetime | None] = mapped_column()
    # Withdrawal: the row stays, the content is no longer served.
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by: Mapped[str | None] = sub_column(nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN referral_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contribution_id IS NULL THEN 0 "
            "ELSE 1 END) + (CASE WHEN concern_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN enquiry_id IS NULL "
            "THEN 0 ELSE 1 END) = 1",
            name="one_parent",
        ),
    )


class DocumentChunk(Base):
    """A document's bytes in the database, in order (the default storage)."""

    __tablename__ = "document_chunks"

    document_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("documents.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
