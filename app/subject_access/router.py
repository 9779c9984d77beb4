"""Subject access: requests (/v1/subject-access-requests) and the export (/v1/people/{id}/record)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.core.auth import Principal, requires
from app.core.concurrency import set_etag
from app.core.db import DbSession
from app.core.idempotency import idempotent
from app.core.openapi import (
    ALWAYS,
    AUTHENTICATED,
    CREATE_CODES,
    CREATED_HEADERS,
    ETAG_HEADERS,
    WITH_BODY,
    problem_responses,
)
from app.core.pagination import Page, PageParams, page_params, set_link_header
from app.core.routing import TransactionalRoute
from app.core.scopes import Scope
from app.subject_access import service
from app.subject_access.repository import RequestFilters
from app.subject_access.schemas import (
    SubjectAccessExport,
    SubjectAccessRequestIn,
    SubjectAccessRequestOut,
    SubjectAccessStatus,
)

router = APIRouter(tags=["People"], route_class=TransactionalRoute)
PeopleRead = Annotated[Principal, requires(Scope.PEOPLE_READ)]
PeopleWrite = Annotated[Principal, requires(Scope.PEOPLE_WRITE)]
PeopleWriteOnce = Annotated[Principal, idempotent(requires(Scope.PEOPLE_WRITE))]
Paging = Annotated[PageParams, Depends(page_params)]


@router.get(
    "/v1/people/{person_id}/record",
    summary="Subject access export: everything held about a person",
    description=(
        "One JSON document of everything the council holds about the person across children's and adults' "
        "records: the person record; every referral naming them as a child, with its consent, "
        '"do not inform parents" marker, RAG rating, agencies\' contributions, threshold decisions with '
        "their rationale, communications and outcome; every adult safeguarding concern about them, with its "
        "allegations, section 42 decision, enquiry and conclusion, and advocacy; their capacity assessments "
        "and best interests decisions; their safeguarding plans with actions and reviews; and to whom "
        "information about them was disclosed (`recipients`).\n\n"
        "Withheld, and counted in `withheld` by reason and kind (never the content): restricted "
        "contributions (`restricted_contribution`), and other people's personal data (`third_party`): other "
        "children and household members on the referrals, siblings, referrers and concern raisers who are "
        "private individuals, people alleged to have caused harm, best interests consultees, the people a "
        "plan names to protect the adult. Free text is given as recorded: review it, and apply any "
        "exemption, before release.\n\n"
        "Hub staff of either lead agency may export the whole record: the council is one controller for "
        "children's and adults' social care. Name the logged request with `request_id` to mark it "
        "fulfilled. Every export is audited (action `export`, counts only) and logged as a disclosure to "
        "the data subject."
    ),
    response_model=SubjectAccessExport,
    responses=problem_responses(*ALWAYS, *AUTHENTICATED, 404, 422),
)
async def export_record(
    person_id: uuid.UUID,
    principal: PeopleRead,
    session: DbSession,
    request_id: Annotated[
        uuid.UUID | None,
        Query(description="The subject access request this export answers; it is marked fulfilled."),
    ] = None,
) -> SubjectAccessExport:
    return await service.export(session, principal, person_id, request_id)


@router.post(
    "/v1/people/{person_id}/subject-access-requests",
    summary="Log a subject access request",
    description=(
        "Records a request for the information held about the person: when it was received, who asked "
        "(the person, or someone on their behalf), and whether identity and authority were checked. "
        "`due_on` is computed and stored: one calendar month from receipt (the same date next month, or "
        "that month's last day if it has none; 31 January → 28 or 29 February), moved to the next working "
        "day when it falls on a weekend or an England & Wales bank holiday."
    ),
    status_code=status.HTTP_201_CREATED,
    response_model=SubjectAccessRequestOut,
    responses={
        **problem_responses(*ALWAYS, *AUTHENTICATED, *WITH_BODY, 404, 409, codes=CREATE_CODES),
        **CREATED_HEADERS,
    },
)
async def log_request(
    person_id: uuid.UUID,
    response: Response,
    principal: PeopleWriteOnce,
    session: DbSession,
    body: SubjectAccessRequestIn,
) -> SubjectAccessRequestOut:
    sar = await service.log_request(session, principal, person_id, body)
    response.headers["Location"] = f"/v1/subject-access-requests/{sar.id}"
    return service.request_out(sar)


@router.get(
    "/v1/subject-access-requests",
    summary="List subject access requests",
    description="Newest first. `overdue=true` lists the open requests past their due date.",
    response_model=Page[SubjectAccessRequestOut],
    responses=problem_responses(*ALWAYS, *AUTHENTICATED, 422),
)
async def list_requests(
    request: Request,
    response: Response,
    principal: PeopleRead,
    session: DbSession,
    paging: Paging,
    person_id: Annotated[uuid.UUID | None, Query(description="Only requests about this person.")] = None,
    status_: Annotated[SubjectAccessStatus | None, Query(alias="status")] = None,
    overdue: Annotated[bool | None, Query(description="Only open requests past their due date.")] = None,
) -> Page[SubjectAccessRequestOut]:
    filters = RequestFilters(person_id=person_id, status=status_, overdue=overdue)
    found, next_cursor = await service.list_requests(session, principal, filters, paging)
    set_link_header(request, response, next_cursor)
    return Page(items=[service.request_out(r) for r in found], next_cursor=next_cursor)


@router.get(
    "/v1/subject-access-requests/{request_id}",
    summary="Get a subject access request",
    response_model=SubjectAccessRequestOut,
    responses={**problem_responses(*ALWAYS, *AUTHENTICATED, 404, 422), **ETAG_HEADERS},
)
async def get_request(
    request_id: uuid.UUID, response: Response, principal: PeopleRead, session: DbSession
) -> SubjectAccessRequestOut:
    """A logged subject access request: who asked, when it was received, when it is due and whether it has been fulfilled."""
    sar = await service.read_request(session, principal, request_id)
    set_etag(response, sar.version)
    return service.request_out(sar)
