"""Queries on strategy discussions and section 47 enquiries beyond loading one (``access.py``): the list,
and the enquiries each discussion started."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals.access import hub_work
from app.core.auth import Principal
from app.core.filters import where_equal
from app.core.grouped import ByParent
from app.core.pagination import PageParams, paginate
from app.models.protection import Section47Enquiry, StrategyDiscussion
from app.models.referral import ReferralChild


async def enquiries_of(session: AsyncSession, discussion_id: uuid.UUID) -> Sequence[Section47Enquiry]:
    """The section 47 enquiries a strategy discussion started, in the order of its children."""
    return await enquiries_of_all.of(session, discussion_id)


async def discussions_of(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID | None, params: PageParams
) -> tuple[list[StrategyDiscussion], str | None]:
    """The strategy discussions the caller may read (of one referral, when given), latest held first."""
    stmt = where_equal(
        sa.select(StrategyDiscussion).where(hub_work(principal)),
        (StrategyDiscussion.referral_id, referral_id),
    )
    return await paginate(session, stmt, [StrategyDiscussion.held_at, StrategyDiscussion.id], params)


# The enquiries each of the discussions started, in the order of the referral's children: one query.
enquiries_of_all = ByParent[uuid.UUID, Section47Enquiry](
    Section47Enquiry.strategy_discussion_id,
    sa.select(Section47Enquiry.strategy_discussion_id, Section47Enquiry)
    .join(ReferralChild, ReferralChild.id == Section47Enquiry.child_id)
    .order_by(Section47Enquiry.strategy_discussion_id, ReferralChild.position),
)
