"""Subject access: requests (/v1/subject-access-requests) and the export (/v1/people/{id}/record).

Who may do what (``app.people.access``):

* the export: a lead agency (``people:read``) its own side of the person's record; information
  governance (``subject_access:export``) both sides, the council-wide export;
* requests: logged by the lead agencies (``people:write``) and by information governance, which handles
  them (``subject_access:export``); listed and read by whoever reads the register (``people:read``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from app.core.auth import Principal, any_of_security, requires_any
from app.core.concurrency import Versioned
from app.core.creation import Created
from app.core.db import DbSession
from app.core.idempotency import idempotent
from app.core.pagination import Page, Paging
from app.core.principals import PeopleRead
from app.core.routing import Router
from app.core.scopes import Scope
from app.governance.subject_access import service
from app.governance.subject_access.repository import RequestFilters
from app.governance.subject_access.schemas import (
    SubjectAccessExport,
    SubjectAccessRequestIn,
    SubjectAccessRequestOut,
    SubjectAccessStatus,
)

router = Router(tags=["People"])
# A lead agency exports its own side (people:read); information governance both (subject_access:export).
Exporter = Annotated[Principal, requires_any(Scope.PEOPLE_READ, Scope.SUBJECT_ACCESS_EXPORT)]
# The lead agencies log requests (people:write); so does information governance, which handles them.
RequestLoggerOnce = Annotated[
    Principal, idempotent(requires_any(Scope.PEOPLE_WRITE, Scope.SUBJECT_ACCESS_EXPORT))
]


@router.get(
    "/v1/people/{person_id}/record",
    summary="Subject access export: what is held about a person, on the caller's sides",
    description=(
        "One JSON document of what the council holds about the person, on the sides of their record the "
        "caller reads (`sides`). **Children's social care** (`people:read`) gets the children's side, "
        "**adult social care** (`people:read`) the adults' side; the **council-wide export** of both sides, "
        "which answers a subject access request to the council, needs `subject_access:export` (information "
        "governance, agency `council`). Nobody is shown more than they could read record by record. A side "
        "not covered is null (`children` or `adults`) and out of scope: nothing of it is read, given or "
        "counted as withheld, so a one-sided export is never the whole record. Any other agency: 404, as "
        "for the person; a council caller without `subject_access:export`: 403.\n\n"
        "On the sides covered: the person record; every referral naming them as a child, with its consent, "
        '"do not inform parents" marker, RAG rating, agencies\' contributions, threshold decisions with '
        "their rationale, communications and outcome; every adult safeguarding concern about them, with its "
        "allegations, section 42 decision, enquiry and conclusion, and advocacy; their capacity assessments "
        "and best interests decisions; their safeguarding plans with actions and reviews; and to whom "
        "information about them was disclosed (`recipients`: disclosures of the covered sides' records, "
        "and earlier exports that covered one of them).\n\n"
        "Withheld on every side covered, whoever exports, and counted in `withheld` by reason and kind "
        "(never the content): restricted "
        "contributions (`restricted_contribution`), and other people's personal data (`third_party`): other "
        "children and household members on the referrals, siblings, referrers and concern raisers who are "
        "private individuals, people alleged to have caused harm, best interests consultees, the people a "
        "plan names to protect the adult. Free text is given as recorded: review it, and apply any "
        "exemption, before release.\n\n"
        "Name the logged request with `request_id`: the council-wide export marks it fulfilled; a "
        "one-sided export is logged against it and leaves it open. Every export is audited (action "
        "`export`, with the sides and counts only) and logged as a disclosure to the data subject."
    ),
    openapi_extra=any_of_security(Scope.PEOPLE_READ, Scope.SUBJECT_ACCESS_EXPORT),
)
async def export_person_record(
    person_id: uuid.UUID,
    principal: Exporter,
    session: DbSession,
    request_id: Annotated[
        uuid.UUID | None,
        Query(
            description="The subject access request this export answers; the council-wide export marks it "
            "fulfilled."
        ),
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
        "day when it falls on a weekend or an England & Wales bank holiday. Logged by the lead agencies "
        "(`people:write`) or by information governance, which answers requests (`subject_access:export`); "
        "any other agency: 404, as for the person."
    ),
    openapi_extra=any_of_security(Scope.PEOPLE_WRITE, Scope.SUBJECT_ACCESS_EXPORT),
)
async def create_subject_access_request(
    person_id: uuid.UUID,
    created: Created,
    answer: Versioned,
    principal: RequestLoggerOnce,
    session: DbSession,
    body: SubjectAccessRequestIn,
) -> SubjectAccessRequestOut:
    sar = await service.log_request(session, principal, person_id, body)
    return created.at(
        f"/v1/subject-access-requests/{sar.id}", answer.tagged(sar.version, service.request_out(sar))
    )


@router.get(
    "/v1/subject-access-requests",
    summary="List subject access requests",
    description=(
        "Newest first (by when they were logged). `overdue=true` lists the open requests past their due "
        "date. Read by whoever reads the person register (the lead agencies and the council, information "
        "governance included); for any other agency the list is empty."
    ),
)
async def list_subject_access_requests(
    principal: PeopleRead,
    session: DbSession,
    paging: Paging,
    person_id: Annotated[uuid.UUID | None, Query(description="Only requests about this person.")] = None,
    status_: Annotated[SubjectAccessStatus | None, Query(alias="status")] = None,
    overdue: Annotated[bool | None, Query(description="Only open requests past their due date.")] = None,
) -> Page[SubjectAccessRequestOut]:
    filters = RequestFilters(person_id=person_id, status=status_, overdue=overdue)
    found, next_cursor = await service.list_requests(session, principal, filters, paging.params)
    return paging.page([service.request_out(r) for r in found], next_cursor)


@router.get(
    "/v1/subject-access-requests/{request_id}",
    summary="Get a subject access request",
)
async def get_subject_access_request(
    request_id: uuid.UUID, answer: Versioned, principal: PeopleRead, session: DbSession
) -> SubjectAccessRequestOut:
    """A logged subject access request: who asked, when it was received, when it is due and whether it has been fulfilled. Read by the lead agencies and the council; any other agency gets 404."""
    sar = await service.read_request(session, principal, request_id)
    return answer.tagged(sar.version, service.request_out(sar))
