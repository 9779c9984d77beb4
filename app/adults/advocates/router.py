"""/v1/advocates: the independent advocates the council can appoint."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.adults.advocates import service
from app.adults.advocates.schemas import AdvocateIn, AdvocateOut
from app.adults.codes import AdvocateKind
from app.core.creation import Created
from app.core.db import DbSession
from app.core.pagination import Page, Paging
from app.core.principals import AdvocatesRead, AdvocatesWriteOnce
from app.core.routing import Router

router = Router(prefix="/v1/advocates", tags=["Advocacy"])


@router.post(
    "",
    summary="Register an advocate",
)
async def create_advocate(
    created: Created, principal: AdvocatesWriteOnce, session: DbSession, body: AdvocateIn
) -> AdvocateOut:
    """Register an independent advocate (Care Act or IMCA) who can then be appointed on a concern's advocacy."""
    advocate = await service.create(session, principal, body)
    return created.at(f"/v1/advocates/{advocate.id}", AdvocateOut.model_validate(advocate))


@router.get(
    "",
    summary="List advocates",
)
async def list_advocates(
    principal: AdvocatesRead,
    session: DbSession,
    paging: Paging,
    kind: Annotated[AdvocateKind | None, Query()] = None,
) -> Page[AdvocateOut]:
    """The registered advocates, keyset-paginated."""
    found, next_cursor = await service.list_(session, principal, paging.params, kind=kind)
    return paging.page([AdvocateOut.model_validate(a) for a in found], next_cursor)


@router.get(
    "/{advocate_id}",
    summary="Get an advocate",
)
async def get_advocate(advocate_id: uuid.UUID, principal: AdvocatesRead, session: DbSession) -> AdvocateOut:
    """One registered advocate and how to reach them."""
    return AdvocateOut.model_validate(await service.get(session, principal, advocate_id))
