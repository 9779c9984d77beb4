"""Rate limit counters, shared by every worker process and replica (PostgreSQL only).

One row per client and budget: the fixed window it is counting and the requests seen in it, reset
by the same upsert that counts (app.core.ratelimit). The migration makes the table UNLOGGED on PostgreSQL: counters
are not worth a WAL write on every request, and losing them in a crash only forgives a minute's
requests. On SQLite the table exists (models match migrations) but the counts are kept in memory.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    # A SHA-256 of the budget and the client (sub or IP address): no personal data, fixed length.
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)  # epoch seconds
    hits: Mapped[int] = mapped_column(sa.Integer, nullable=False)
