"""Who reads the person register (``app.people.access``): the lead agencies and the council, nobody else.

A partner agency's token never carries ``people:read`` (a role outside its agency is refused at the
token, tests/security/test_role_agency.py), so the register's own wall is tested below the HTTP layer:
the services are called, on a real database, as a partner principal holding every scope. Over HTTP,
information governance (agency ``council``) reads the register and an auditor has no scope for it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.auth import Principal
from app.core.errors import AgencyNotPermitted, NotFound
from app.core.pagination import PageParams
from app.core.scopes import COUNCIL_AGENCIES, AgencyCode, Role, Scope
from app.governance.subject_access import service as subject_access
from app.governance.subject_access.repository import RequestFilters
from app.governance.subject_access.schemas import SubjectAccessRequestIn
from app.people import access, service
from app.people.access import RecordSide
from app.people.disclosures import service as disclosures
from app.people.disclosures.repository import DisclosureFilters
from app.people.matching import Identity
from app.people.schemas import PersonCreate, PersonUpdate
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem
from tests.fixtures.people import create_person
from tests.fixtures.values import NHS_AMELIA, Body

AMELIA: Body = {
    "given_name": "Amelia",
    "family_name": "Smith-Jones",
    "date_of_birth": "2018-05-09",
    "nhs_number": NHS_AMELIA,
    "postcode": "E17 4UH",
}
EVERY_SCOPE = frozenset(str(scope) for scope in Scope)
PAGE = PageParams(limit=50, cursor=None)


def principal(agency: AgencyCode, role: Role = Role.PARTNER_REFERRER) -> Principal:
    """A caller of ``agency`` whose token would carry every scope there is (none can be issued)."""
    return Principal(sub=f"forged-{agency}", agency=agency, role=role, scopes=EVERY_SCOPE)


@pytest.fixture
async def person(client: httpx.AsyncClient, who: Who) -> Body:
    return await create_person(client, who["practitioner"], AMELIA)


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    async with app.state.sessionmaker() as opened:
        yield opened
        await opened.rollback()


# ---------------------------------------------------------------------------------------------------
# The access functions


@pytest.mark.parametrize("agency", list(AgencyCode))
def test_only_the_lead_agencies_and_the_council_read_the_register(agency: AgencyCode) -> None:
    assert access.reads_register(principal(agency)) is (agency in COUNCIL_AGENCIES)


@pytest.mark.parametrize(
    ("agency", "export", "disclosure_log"),
    [
        (AgencyCode.CHILDRENS_SOCIAL_CARE, {RecordSide.CHILDREN}, {RecordSide.CHILDREN}),
        (AgencyCode.ADULT_SOCIAL_CARE, {RecordSide.ADULTS}, {RecordSide.ADULTS}),
        (AgencyCode.COUNCIL, set(RecordSide), set(RecordSide)),
        (AgencyCode.POLICE, set(), set()),
        (AgencyCode.HEALTH, set(), set()),
    ],
)
def test_the_sides_each_agency_reads_even_with_every_scope(
    agency: AgencyCode, export: set[RecordSide], disclosure_log: set[RecordSide]
) -> None:
    caller = principal(agency)
    assert access.sides(caller, Scope.SUBJECT_ACCESS_EXPORT) == export
    assert access.sides(caller, Scope.DISCLOSURES_READ) == disclosure_log


def test_the_council_reads_both_sides_only_with_the_operations_scope() -> None:
    without = Principal(
        sub="ig",
        agency=AgencyCode.COUNCIL,
        role=Role.INFORMATION_GOVERNANCE,
        scopes=frozenset({"people:read"}),
    )
    assert access.reads_register(without)
    assert access.sides(without, Scope.SUBJECT_ACCESS_EXPORT) == frozenset()
    assert access.sides(without, Scope.DISCLOSURES_READ) == frozenset()


@pytest.mark.parametrize("agency", [AgencyCode.POLICE, AgencyCode.HEALTH, AgencyCode.VICTIM_SUPPORT])
async def test_a_partner_with_every_scope_finds_nobody_through_any_people_service(
    session: AsyncSession, person: Body, agency: AgencyCode
) -> None:
    caller = principal(agency)
    person_id = uuid.UUID(person["id"])
    with pytest.raises(NotFound):
        await service.get_person(session, caller, person_id)
    with pytest.raises(NotFound):
        await service.update_person(session, caller, person_id, PersonUpdate(postcode="E17 9QA"), '"1"')
    assert await service.list_people(session, caller, PAGE) == ([], None)
    assert await service.list_people(session, caller, PAGE, nhs_number=NHS_AMELIA) == ([], None)
    assert await service.match(session, caller, Identity(nhs_number=NHS_AMELIA), limit=10) == []
    with pytest.raises(AgencyNotPermitted):
        await service.create_person(
            session, caller, PersonCreate.model_validate({**AMELIA, "nhs_number": None})
        )
    with pytest.raises(NotFound):
        await disclosures.for_person(session, caller, person_id, DisclosureFilters(), PAGE)
    with pytest.raises(NotFound):
        await subject_access.export(session, caller, person_id, None)
    request = SubjectAccessRequestIn.model_validate(
        {
            "received_on": clock.today().isoformat(),
            "requester": {"name": "A", "relationship": "data_subject"},
            "identity_verified": True,
        }
    )
    with pytest.raises(NotFound):
        await subject_access.log_request(session, caller, person_id, request)

    # The same calls as the council find her; a request it logs is hidden from the partner.
    council = principal(AgencyCode.COUNCIL, Role.INFORMATION_GOVERNANCE)
    assert (await service.get_person(session, council, person_id)).id == person_id
    assert [p.id for p in (await service.list_people(session, council, PAGE))[0]] == [person_id]
    assert [
        r.person.id for r in await service.match(session, council, Identity(nhs_number=NHS_AMELIA), limit=10)
    ] == [person_id]
    sar = await subject_access.log_request(session, council, person_id, request)
    assert [
        r.id for r in (await subject_access.list_requests(session, council, RequestFilters(), PAGE))[0]
    ] == [sar.id]
    assert await subject_access.list_requests(session, caller, RequestFilters(), PAGE) == ([], None)
    with pytest.raises(NotFound):
        await subject_access.read_request(session, caller, sar.id)


# ---------------------------------------------------------------------------------------------------
# Over HTTP


async def test_information_governance_reads_the_register_and_cannot_write_it(
    client: httpx.AsyncClient, who: Who, person: Body
) -> None:
    headers = who["governance"]
    url = f"/v1/people/{person['id']}"
    got = await client.get(url, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["nhs_number"] == NHS_AMELIA and got.headers["etag"]
    listed = await client.get("/v1/people", params={"nhs_number": NHS_AMELIA}, headers=headers)
    assert [p["id"] for p in listed.json()["items"]] == [person["id"]]
    matched = await client.post("/v1/people/matches", json={"nhs_number": NHS_AMELIA}, headers=headers)
    assert [c["person"]["id"] for c in matched.json()["candidates"]] == [person["id"]]
    assert (await client.get(f"{url}/disclosures", headers=headers)).status_code == 200
    # people:write is the lead agencies'.
    assert_problem(await client.post("/v1/people", json=AMELIA, headers=headers), 403, "insufficient_scope")
    patched = await client.patch(url, json={"postcode": "E17 9QA"}, headers={**headers, "If-Match": '"1"'})
    assert_problem(patched, 403, "insufficient_scope")


async def test_an_auditor_has_no_scope_for_the_register(
    client: httpx.AsyncClient, who: Who, person: Body
) -> None:
    headers = who["auditor"]
    url = f"/v1/people/{person['id']}"
    for response in (
        await client.get("/v1/people", headers=headers),
        await client.get(url, headers=headers),
        await client.post("/v1/people/matches", json={"nhs_number": NHS_AMELIA}, headers=headers),
        await client.get(f"{url}/record", headers=headers),
        await client.get(f"{url}/disclosures", headers=headers),
        await client.get("/v1/subject-access-requests", headers=headers),
    ):
        assert_problem(response, 403, "insufficient_scope")
