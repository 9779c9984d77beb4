"""/v1/advocates: the independent advocates the council can appoint."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from app.adults.advocates import service
from app.adults.advocates.schemas import AdvocateIn, AdvocateOut
from app.adults.codes import AdvocateKind
from app.core.auth import Principal, requires
from app.core.db import DbSession
from app.core.idempotency import idempotent
from app.core.openapi import problem_responses
from app.core.pagination import Page, PageParams, page_params, set_link_header
from app.core.routing import Router
from app.core.scopes import Scope

router = Router(prefix="/v1/advocates", tags=["Advocacy"])
AdvocatesRead = Annotated[Principal, requires(Scope.ADVOCATES_READ)]
AdvocatesWrite = Annotated[Principal, requires(Scope.ADVOCATES_WRITE)]
AdvocatesWriteOnce = Annotated[Principal, idempotent(requires(Scope.ADVOCATES_WRITE))]
Paging = Annotated[PageParams, Depends(page_params)]


@router.post(
    "",
    summary="Register an advocate",
    status_code=status.HTTP_201_CREATED,
    response_model=AdvocateOut,
)
async def create_advocate(
    response: Response, principal: AdvocatesWriteOnce, session: DbSession, body: AdvocateIn
) -> AdvocateOut:
    """Register an independent advocate (Care Act or IMCA) who can then be appointed on a concern's advocacy."""
    advocate = await service.create(session, principal, body)
    response.headers["Location"] = f"/v1/advocates/{advocate.id}"
    return AdvocateOut.model_validate(advocate)


@router.get(
    "",
    summary="List advocates",
    response_model=Page[AdvocateOut],
)
async def list_advocates(
    request: Request,
    response: Response,
    principal: AdvocatesRead,
    session: DbSession,
    paging: Paging,
    kind: Annotated[AdvocateKind | None, Query()] = None,
) -> Page[AdvocateOut]:
    """The registered advocates, keyset-paginated."""
    found, next_cursor = await service.list_(session, principal, paging, kind=kind)
    set_link_header(request, response, next_cursor)
    return Page(items=[AdvocateOut.model_validate(a) for a in found], next_cursor=next_cursor)


@router.get(
    "/{advocate_id}",
    summary="Get an advocate",
    response_model=AdvocateOut,
    responses=problem_responses(404),
)
async def get_advocate(advocate_id: uuid.UUID, principal: AdvocatesRead, session: DbSession) -> AdvocateOut:
    """One registered advocate and how to reach them."""
    return AdvocateOut.model_validate(await service.get(session, principal, advocate_id))
