"""Independent advocacy (Care Act 2014 ss67-68): the register of advocates and their kinds; whether an
advocate is required is computed from the two conditions, never asserted; the offer must fit; and an
enquiry cannot conclude while a required advocate is neither appointed nor refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fixtures.adults import (
    Case,
    advocacy_body,
    advocate_body,
    concern_in,
    conclude,
    conclusion_body,
    get_concern,
    open_enquiry,
    record_advocacy,
    register_advocate,
)
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, locs
from tests.fixtures.values import Body, Headers

# ---------------------------------------------------------------------------------------------------
# 1. The register


@pytest.mark.parametrize("kind", ["care_act", "imca"])
async def test_advocates_of_each_kind_are_registered(client: httpx.AsyncClient, who: Who, kind: str) -> None:
    response = await client.post("/v1/advocates", json=advocate_body(kind=kind), headers=who["worker"])
    assert response.status_code == 201, response.text
    advocate = response.json()
    assert response.headers["location"] == f"/v1/advocates/{advocate['id']}"
    assert (advocate["kind"], advocate["contact"]) == (kind, {"phone": "020 7946 0202"})
    found = await client.get(f"/v1/advocates/{advocate['id']}", headers=who["worker"])
    assert found.json() == advocate


async def test_the_register_lists_by_kind(client: httpx.AsyncClient, who: Who) -> None:
    care_act = await register_advocate(client, who["worker"], kind="care_act")
    imca = await register_advocate(client, who["worker"], kind="imca", name="Ravi Shah")
    listed = await client.get("/v1/advocates", params={"kind": "imca"}, headers=who["worker"])
    assert [a["id"] for a in listed.json()["items"]] == [imca["id"]]
    everyone = await client.get("/v1/advocates", headers=who["worker"])
    assert {a["id"] for a in everyone.json()["items"]} == {care_act["id"], imca["id"]}
    unknown_kind = await client.get("/v1/advocates", params={"kind": "lawyer"}, headers=who["worker"])
    assert_problem(unknown_kind, 422, "validation_failed")


async def test_reading_the_register_is_audited(
    client: httpx.AsyncClient, who: Who, auth: Callable[..., Headers]
) -> None:
    advocate = await register_advocate(client, who["worker"], kind="imca")
    other = await register_advocate(client, who["worker"], kind="care_act", name="Ravi Shah")
    assert (await client.get(f"/v1/advocates/{advocate['id']}", headers=who["manager"])).status_code == 200
    assert (
        await client.get("/v1/advocates", params={"kind": "imca"}, headers=who["worker"])
    ).status_code == 200

    auditor = auth("auditor", "adult_social_care", sub="auditor-ada")
    trail = await client.get("/v1/audit-events", params={"record_type": "advocate"}, headers=auditor)
    assert trail.status_code == 200, trail.text
    entries = [(e["action"], e["actor"]["sub"], e["record_id"], e["details"]) for e in trail.json()["items"]]
    assert entries == [
        ("create", "asc-worker", advocate["id"], {}),
        ("create", "asc-worker", other["id"], {}),
        ("read", "asc-manager", advocate["id"], {}),
        ("list", "asc-worker", None, {"advocate_ids": [advocate["id"]], "kind": "imca"}),
    ]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param({"kind": "paid_carer"}, ["body", "kind"], id="unknown kind"),
        pytest.param({"kind": None}, ["body", "kind"], id="no kind"),
        pytest.param({"contact": {}}, ["body", "contact"], id="no way to contact"),
        pytest.param({"contact": {"email": "nope"}}, ["body", "contact", "email"], id="bad email"),
        pytest.param({"name": ""}, ["body", "name"], id="no name"),
        pytest.param({"registered": True}, ["body", "registered"], id="unknown field"),
    ],
)
async def test_an_invalid_advocate_is_refused(
    client: httpx.AsyncClient, who: Who, fields: Body, loc: list[str]
) -> None:
    response = await client.post("/v1/advocates", json=advocate_body(**fields), headers=who["worker"])
    assert loc in locs(assert_problem(response, 422, "validation_failed"))


# ---------------------------------------------------------------------------------------------------
# 2. The eligibility assessment and the offer


@pytest.mark.parametrize(
    ("difficulty", "appropriate_person", "required"),
    [(True, False, True), (True, True, False), (False, False, False), (False, True, False)],
    ids=[
        "difficulty, nobody to help: required",
        "difficulty, an appropriate person: not required",
        "no difficulty, nobody: not required",
        "no difficulty, a person: not required",
    ],
)
async def test_whether_an_advocate_is_required_is_computed(
    client: httpx.AsyncClient,
    who: Who,
    difficulty: bool,
    appropriate_person: bool,
    required: bool,
) -> None:
    case = await concern_in(client, who, "received")
    offer = "offered" if required else "not_required"
    response = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(difficulty, appropriate_person, offer)
    )
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert (recorded["required"], recorded["offer"], recorded["concern_id"]) == (required, offer, case.id)
    assert recorded["recorded_by"] == "asc-worker"
    full = await get_concern(client, who["worker"], case.id)
    assert full["advocacy"] == recorded
    assert full["advocate_required"] is required  # required and offered: not yet appointed


async def test_required_cannot_be_asserted_by_the_client(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "received")
    response = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(True, True, "not_required", required=False)
    )
    assert ["body", "required"] in locs(assert_problem(response, 422, "validation_failed"))


def _invalid() -> list[Any]:
    advocate = str(uuid.uuid4())  # schema rules are checked before the advocate is looked up
    return [
        pytest.param(advocacy_body(True, False, "not_required"), ["body"], id="required but not_required"),
        pytest.param(advocacy_body(True, False, "accepted"), ["body"], id="accepted without an advocate"),
        pytest.param(
            advocacy_body(False, True, "accepted"), ["body"], id="accepted (not required), no advocate"
        ),
        *[
            pytest.param(
                advocacy_body(True, False, offer, advocate_id=advocate),
                ["body"],
                id=f"an advocate with {offer}",
            )
            for offer in ("offered", "declined")
        ],
        pytest.param(
            advocacy_body(False, True, "not_required", advocate_id=advocate),
            ["body"],
            id="an advocate with not_required",
        ),
        pytest.param(advocacy_body(True, False, "refused"), ["body", "offer"], id="unknown offer"),
        pytest.param(
            {"substantial_difficulty": True, "offer": "offered"},
            ["body", "appropriate_person_available"],
            id="a condition not assessed",
        ),
    ]


@pytest.mark.parametrize(("body", "loc"), _invalid())
async def test_an_offer_that_does_not_fit_is_refused(
    client: httpx.AsyncClient, who: Who, body: Body, loc: list[str]
) -> None:
    case = await concern_in(client, who, "received")
    response = await record_advocacy(client, who["worker"], case.id, body)
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    assert (await get_concern(client, who["worker"], case.id))["advocacy"] is None


async def test_an_accepted_offer_names_a_registered_advocate(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "received")
    unknown = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(offer="accepted", advocate_id=str(uuid.uuid4()))
    )
    assert locs(assert_problem(unknown, 422, "validation_failed")) == [["body", "advocate_id"]]

    advocate = await register_advocate(client, who["worker"])
    accepted = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(offer="accepted", advocate_id=advocate["id"])
    )
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["advocate_id"], accepted.json()["required"]) == (advocate["id"], True)
    full = await get_concern(client, who["worker"], case.id)
    assert (full["advocacy"]["id"], full["advocate_required"]) == (accepted.json()["id"], False)


async def test_advocacy_is_recorded_by_adult_social_care_on_an_open_concern(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await concern_in(client, who, "received")
    partner = await record_advocacy(client, who["health"], case.id, advocacy_body())
    assert_problem(partner, 403, "insufficient_scope")
    unknown = await record_advocacy(client, who["worker"], str(uuid.uuid4()), advocacy_body())
    assert_problem(unknown, 404, "not_found")
    closed = await concern_in(client, who, "closed")
    assert_problem(
        await record_advocacy(client, who["worker"], closed.id, advocacy_body()), 409, "invalid_transition"
    )


# ---------------------------------------------------------------------------------------------------
# 3. Concluding an enquiry needs the required advocate


async def _blocked_case(client: httpx.AsyncClient, who: Who) -> Case:
    """An open enquiry for which an advocate is required and only offered: it cannot conclude."""
    case = await concern_in(client, who, "enquiry_open")
    assert case.enquiry_id is not None
    offered = await record_advocacy(client, who["worker"], case.id, advocacy_body(offer="offered"))
    assert offered.status_code == 201, offered.text
    blocked = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    assert_problem(blocked, 409, "advocate_required")
    full = await get_concern(client, who["worker"], case.id)
    assert (full["status"], full["advocate_required"]) == ("enquiry_open", True)
    return case


@pytest.mark.parametrize(
    "then",
    [
        pytest.param("accepted", id="an advocate is appointed"),
        pytest.param("declined", id="the adult declines"),
        pytest.param("appropriate_person", id="an appropriate person is found"),
    ],
)
async def test_an_enquiry_concludes_once_the_required_advocate_is_appointed_or_refused(
    client: httpx.AsyncClient, who: Who, then: str
) -> None:
    case = await _blocked_case(client, who)
    assert case.enquiry_id is not None
    if then == "accepted":
        advocate = await register_advocate(client, who["worker"])
        body = advocacy_body(offer="accepted", advocate_id=advocate["id"])
    elif then == "declined":
        body = advocacy_body(
            offer="declined",
            notes="She does not want an advocate; she has been told she may change her mind.",
        )
    else:
        body = advocacy_body(
            appropriate_person=True, offer="not_required", notes="Her daughter will support her."
        )
    recorded = await record_advocacy(client, who["worker"], case.id, body)
    assert recorded.status_code == 201, recorded.text
    assert (await get_concern(client, who["worker"], case.id))["advocate_required"] is False

    concluded = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    assert concluded.status_code == 200, concluded.text
    assert (await get_concern(client, who["worker"], case.id))["status"] == "enquiry_concluded"


async def test_an_advocate_required_again_blocks_the_conclusion_again(
    client: httpx.AsyncClient, who: Who
) -> None:
    # The latest assessment governs: the daughter can no longer support her, and the offer is pending.
    case = await concern_in(client, who, "enquiry_open")
    assert case.enquiry_id is not None
    first = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(appropriate_person=True, offer="not_required")
    )
    assert first.status_code == 201, first.text
    second = await record_advocacy(client, who["worker"], case.id, advocacy_body(offer="offered"))
    assert second.status_code == 201, second.text
    full = await get_concern(client, who["worker"], case.id)
    assert (full["advocacy"]["id"], full["advocate_required"]) == (second.json()["id"], True)
    blocked = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    assert_problem(blocked, 409, "advocate_required")


async def test_a_section_42_enquiry_cannot_conclude_before_advocacy_is_considered(
    client: httpx.AsyncClient, who: Who
) -> None:
    """Care Act s68: whether the adult needs an independent advocate is decided for every section 42
    enquiry, so a conclusion with nothing on record is refused until it is."""
    case = await concern_in(client, who, "enquiry_open", advocacy_assessed=False)
    assert case.enquiry_id is not None
    refused = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    problem = assert_problem(refused, 409, "advocacy_not_assessed")
    assert "advoca" in problem["detail"]
    assert (await get_concern(client, who["worker"], case.id))["status"] == "enquiry_open"

    recorded = await record_advocacy(
        client, who["worker"], case.id, advocacy_body(difficulty=False, offer="not_required")
    )
    assert recorded.status_code == 201, recorded.text
    concluded = await conclude(client, who["manager"], case.enquiry_id, conclusion_body(case.allegation_ids))
    assert concluded.status_code == 200, concluded.text


async def test_an_other_enquiry_concludes_without_an_advocacy_assessment(
    client: httpx.AsyncClient, who: Who
) -> None:
    # The s68 duty is for section 42 enquiries; a non-statutory enquiry is not held to it.
    case = await concern_in(client, who, "decided_other")
    opened = await open_enquiry(client, who["worker"], case.id)
    concluded = await conclude(client, who["manager"], opened["id"], conclusion_body(case.allegation_ids))
    assert concluded.status_code == 200, concluded.text
    assert concluded.json()["status"] == "concluded"
