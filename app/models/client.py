from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, sub_column, uuid_pk


class Client(Timestamped, Versioned, Base):
    """A partner system registered to obtain tokens with the client credentials grant.

    The secret is stored only as an argon2id hash. A client is never deleted: revocation records
    who revoked it, when and why, and stops its tokens from working at once.
    """

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    agency_code: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("agencies.code"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    secret_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_by: Mapped[str] = sub_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_by: Mapped[str | None] = sub_column(nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)

    __table_args__ = (sa.Index("ix_clients_created_at_id", "created_at", "id"),)
