from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, sub_column, uuid_pk


class IdempotencyRecord(Base):
    """The stored response of a completed create request, replayed when the same caller retries it.

    A key belongs to one caller (agency, role and sub together) and one operation (method and path
    template). Written in the same transaction as the record it created, so a retry either finds both
    or neither. ``fingerprint`` hashes the method, path and canonical body; ``records`` names what the
    request created, so a replay is audited as a read of them.
    """

    __tablename__ = "idempotency_records"

    id: Mapped[uuid.UUID] = uuid_pk()
    caller_agency: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    caller_role: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    caller_sub: Mapped[str] = sub_column()
    operation: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    response_status: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    response_headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, nullable=False)
    response_body: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    records: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)

    __table_args__ = (
        sa.UniqueConstraint(
            "caller_agency",
            "caller_role",
            "caller_sub",
            "operation",
            "key",
            name="uq_idempotency_records_caller_operation_key",
        ),
    )
