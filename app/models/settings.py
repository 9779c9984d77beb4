from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Versioned, sub_column


class HubSetting(Versioned, Base):
    """A hub-wide setting changed through the API, one row per ``key`` (today only ``timescales``).

    No row means the value from the service's configuration applies. ``version`` numbers the changes
    (it is the ETag) and guards updates: an UPDATE names the version it read, so two admins racing with
    the same ETag cannot both win. Earlier values are kept in the audit trail, with who changed them.
    Settings hold no personal data.
    """

    __tablename__ = "hub_settings"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_by: Mapped[str] = sub_column()
