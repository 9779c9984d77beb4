"""/v1/people/{id}/disclosures: who was given what about a person, when, why and on what basis."""

from __future__ import annotations

import uuid
from typing import Annotated

from app.core.auth import Principal, any_of_security, requires_any
from app.core.db import DbSession
from app.core.pagination import Page, Paging
from app.core.routing import Router
from app.core.scopes import Scope
from app.people.disclosures import service
from app.people.disclosures.repository import DisclosureQuery
from app.people.disclosures.schemas import DisclosureOut, disclosure_out

router = Router(prefix="/v1/people", tags=["People"])
# A lead agency reads its own side's disclosures with people:read; information governance reads every
# disclosure with disclosures:read (app.people.access).
LogReader = Annotated[Principal, requires_any(Scope.PEOPLE_READ, Scope.DISCLOSURES_READ)]


@router.get(
    "/{person_id}/disclosures",
    summary="Who was given what about this person",
    description=(
        "The disclosure log of one person, newest first: each time information about them left the agency "
        "holding it — the hub naming a child to an agency it asks for information (one entry per child per "
        "agency), a partner agency opening a record that shows what another agency recorded (a referral, a "
        "request, an adult concern's outcome, a plan it has an action in, an enquiry it leads or was "
        "caused), and each subject access export. Each entry says what (record type and id), to whom, why "
        "(`purpose`), on what basis (UK GDPR Art 6 basis and Art 9 condition), when and by whom. Reads by "
        "the lead agencies of their own records, and lists and feeds, are in the audit trail, not here. "
        "Entries about a child or adult named on a case before being matched to this person are included "
        "once the match is made. Reading the log is audited.\n\n"
        "**Who reads which entries** (nobody more than they could read record by record): children's "
        "social care (`people:read`) the disclosures of children's records (`contribution`, `referral`, "
        "`referral_timeline`), adult social care (`people:read`) those of adults' records "
        "(`adult_concern`, `enquiry`, `safeguarding_plan`), each with the subject access exports that "
        "covered its side; information governance (`disclosures:read`) every entry. Any other agency: "
        "404, as for the person."
    ),
    openapi_extra=any_of_security(Scope.PEOPLE_READ, Scope.DISCLOSURES_READ),
)
async def list_person_disclosures(
    person_id: uuid.UUID, principal: LogReader, session: DbSession, filters: DisclosureQuery, paging: Paging
) -> Page[DisclosureOut]:
    found, next_cursor = await service.for_person(session, principal, person_id, filters, paging.params)
    return paging.page([disclosure_out(d, person_id) for d in found], next_cursor)
