from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk


class IdempotencyRecord(Base):
    """The stored response of a completed create request, replayed when the caller retries it.

    Written in the same transaction as the record it created, so a retry either finds both or
    neither. ``fingerprint`` hashes the method, path and canonical body.
    """

    __tablename__ = "idempotency_records"

    id: Mapped[uuid.UUID] = uuid_pk()
    caller: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    response_status: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    response_headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, nullable=False)
    response_body: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)

    __table_args__ = (sa.UniqueConstraint("caller", "key"),)
