"""Queries on assessments beyond loading one (``access.py``)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import AssessmentStatus
from app.models.protection import Assessment


async def open_assessment_of(session: AsyncSession, child_id: uuid.UUID) -> uuid.UUID | None:
    """The child's open assessment, if any (a child has one at a time)."""
    return await session.scalar(
        sa.select(Assessment.id).where(
            Assessment.child_id == child_id, Assessment.status == AssessmentStatus.OPEN
        )
    )
