"""Who may read an assessment: children's social care only (``app.children.referrals.access``, the
hub's work after a decision); anyone else gets a 404, audited."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals.access import hub_work_record
from app.core.auth import Principal
from app.models.protection import Assessment

RESOURCE = "assessment"


async def visible(
    session: AsyncSession, principal: Principal, assessment_id: uuid.UUID, *, for_update: bool = False
) -> Assessment:
    return await hub_work_record(
        session, principal, Assessment, assessment_id, resource=RESOURCE, for_update=for_update
    )
