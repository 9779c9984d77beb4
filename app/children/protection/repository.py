"""Queries on strategy discussions and section 47 enquiries beyond loading one (``access.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.protection import Section47Enquiry
from app.models.referral import ReferralChild


async def enquiries_of(session: AsyncSession, discussion_id: uuid.UUID) -> Sequence[Section47Enquiry]:
    """The section 47 enquiries a strategy discussion started, in the order of its children."""
    return (
        await session.scalars(
            sa.select(Section47Enquiry)
            .join(ReferralChild, ReferralChild.id == Section47Enquiry.child_id)
            .where(Section47Enquiry.strategy_discussion_id == discussion_id)
            .order_by(ReferralChild.position)
        )
    ).all()
