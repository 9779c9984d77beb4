"""Who may read a strategy discussion or a section 47 enquiry: children's social care only
(``app.children.referrals.access``, the hub's work after a decision); anyone else gets a 404, audited."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals.access import hub_work_record
from app.core.auth import Principal
from app.models.protection import Section47Enquiry, StrategyDiscussion

DISCUSSION = "strategy discussion"
ENQUIRY = "section 47 enquiry"


async def discussion(
    session: AsyncSession, principal: Principal, discussion_id: uuid.UUID
) -> StrategyDiscussion:
    return await hub_work_record(session, principal, StrategyDiscussion, discussion_id, resource=DISCUSSION)


async def enquiry(
    session: AsyncSession, principal: Principal, enquiry_id: uuid.UUID, *, for_update: bool = False
) -> Section47Enquiry:
    return await hub_work_record(
        session, principal, Section47Enquiry, enquiry_id, resource=ENQUIRY, for_update=for_update
    )
