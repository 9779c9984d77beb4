"""Mental capacity (MCA 2005): an assessment is about one decision at one time, its outcome must follow
from the functional and diagnostic tests, and its history is kept whole; a best interests decision
follows only a finding of incapacity, once, weighing the less restrictive option, with the people
consulted or an IMCA."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.fixtures.adults import (
    ABILITIES,
    HAS_CAPACITY,
    ability,
    assert_only_of_the_person_and_their_concern,
    assess,
    assessment_body,
    best_interests_body,
    best_interests_url,
    concern_in,
    get_assessment,
)
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_not_found, assert_problem, locs
from tests.fixtures.people import create_person
from tests.fixtures.values import Body, dt, instant

# ---------------------------------------------------------------------------------------------------
# 1. The outcome follows from the test


async def test_a_lack_of_capacity_is_recorded_with_its_evidence(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "enquiry_open")
    body = assessment_body(case.person_id, concern_id=case.id, may_fluctuate=True)
    response = await client.post("/v1/capacity-assessments", json=body, headers=who["worker"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/capacity-assessments/{created['id']}"
    for key in (
        "person_id",
        "concern_id",
        "decision",
        "impairment",
        "causative_link",
        "outcome",
        "may_fluctuate",
    ):
        assert created[key] == body[key], key
    assert {name: created[name] for name in ABILITIES} == {name: body[name] for name in ABILITIES}
    assert dt(created["assessed_at"]) == dt(body["assessed_at"])
    assert (created["assessor"], created["best_interests_decision"]) == ("asc-worker", None)
    assert await get_assessment(client, who["worker"], created["id"]) == created


def _unable(*names: str) -> Body:
    return {name: ability(name not in names) for name in ABILITIES}


INCONSISTENT = [
    pytest.param(
        {**_unable(), "outcome": "lacks_capacity"},
        [["body", "outcome"]],
        id="lacks capacity, every ability met",
    ),
    pytest.param(
        {"outcome": "lacks_capacity", "impairment": None},
        [["body", "impairment"]],
        id="lacks capacity, no impairment",
    ),
    pytest.param(
        {"outcome": "lacks_capacity", "causative_link": None},
        [["body", "causative_link"]],
        id="lacks capacity, no causative link",
    ),
    pytest.param(
        {**_unable(), "outcome": "lacks_capacity", "impairment": None, "causative_link": None},
        [["body", "outcome"], ["body", "impairment"], ["body", "causative_link"]],
        id="lacks capacity on nothing at all",
    ),
    *[
        pytest.param(
            {**_unable(name), "outcome": "has_capacity"},
            [["body", "outcome"]],
            id=f"has capacity, unable to {name} because of an impairment",
        )
        for name in ABILITIES
    ],
]


@pytest.mark.parametrize(("fields", "expected"), INCONSISTENT)
async def test_an_outcome_that_does_not_follow_from_the_test_is_refused(
    client: httpx.AsyncClient,
    who: Who,
    person_id: str,
    fields: Body,
    expected: list[list[str]],
) -> None:
    response = await client.post(
        "/v1/capacity-assessments", json=assessment_body(person_id, **fields), headers=who["worker"]
    )
    problem = assert_problem(response, 422, "capacity_outcome_inconsistent")
    assert locs(problem) == expected
    listed = await client.get(
        "/v1/capacity-assessments", params={"person_id": person_id}, headers=who["worker"]
    )
    assert listed.json()["items"] == []


CONSISTENT = [
    pytest.param(HAS_CAPACITY, id="has capacity, every ability met"),
    pytest.param(
        {**HAS_CAPACITY, "impairment": "Mild dementia.", "causative_link": "None: she decided unaided."},
        id="has capacity despite an impairment",
    ),
    pytest.param(
        {**HAS_CAPACITY, **_unable("use_or_weigh"), "causative_link": None, "impairment": None},
        id="an unwise decision is not incapacity",
    ),
    pytest.param(
        {**HAS_CAPACITY, **_unable("communicate"), "impairment": "Stroke.", "causative_link": None},
        id="an inability not caused by the impairment",
    ),
    pytest.param(
        {**_unable("understand", "retain", "use_or_weigh", "communicate"), "outcome": "lacks_capacity"},
        id="lacks capacity, every ability unmet",
    ),
    pytest.param(
        {**_unable("communicate"), "outcome": "lacks_capacity"}, id="lacks capacity, one ability unmet"
    ),
]


@pytest.mark.parametrize("fields", CONSISTENT)
async def test_an_outcome_that_follows_from_the_test_is_recorded(
    client: httpx.AsyncClient, who: Who, person_id: str, fields: Body
) -> None:
    created = await assess(client, who["worker"], assessment_body(person_id, **fields))
    assert created["outcome"] == fields["outcome"]
    sent = assessment_body(person_id, **fields)
    assert {name: created[name] for name in ABILITIES} == {name: sent[name] for name in ABILITIES}


INVALID_ASSESSMENTS = [
    pytest.param({"assessed_at": instant(2)}, ["body", "assessed_at"], id="assessed in the future"),
    pytest.param(
        {"assessed_at": datetime.now().replace(microsecond=0).isoformat()},  # noqa: DTZ005 - naive on purpose
        ["body", "assessed_at"],
        id="assessed_at without an offset",
    ),
    pytest.param({"assessed_at": "yesterday"}, ["body", "assessed_at"], id="assessed_at not a time"),
    pytest.param({"outcome": "fluctuating"}, ["body", "outcome"], id="unknown outcome"),
    pytest.param(
        {"retain": {"able": False}}, ["body", "retain", "evidence"], id="an ability without evidence"
    ),
    pytest.param({"communicate": None}, ["body", "communicate"], id="an ability not assessed"),
    pytest.param({"decision": ""}, ["body", "decision"], id="no decision named"),
    pytest.param({"support_provided": None}, ["body", "support_provided"], id="no support recorded"),
    pytest.param({"capacity": False}, ["body", "capacity"], id="unknown field (a capacity flag)"),
]


@pytest.mark.parametrize(("fields", "loc"), INVALID_ASSESSMENTS)
async def test_an_invalid_assessment_is_refused(
    client: httpx.AsyncClient, who: Who, person_id: str, fields: Body, loc: list[Any]
) -> None:
    response = await client.post(
        "/v1/capacity-assessments", json=assessment_body(person_id, **fields), headers=who["worker"]
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem)


async def test_an_assessment_is_of_a_known_person_and_their_own_concern(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    someone_elses = await concern_in(client, who, "received")
    await assert_only_of_the_person_and_their_concern(
        client, who["worker"], "/v1/capacity-assessments", assessment_body, person_id, someone_elses.id
    )


async def test_a_later_assessment_of_the_same_decision_is_a_new_record_and_the_history_is_kept(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    first = await assess(client, who["worker"], assessment_body(person_id, assessed_at=instant(-72)))
    # Capacity returned: a new assessment of the same decision, not an overwrite of the first.
    second = await assess(
        client, who["worker"], assessment_body(person_id, assessed_at=instant(-1), **HAS_CAPACITY)
    )
    other_person = str((await create_person(client, who["worker"]))["id"])
    await assess(client, who["worker"], assessment_body(other_person))

    assert first["id"] != second["id"]
    assert first["decision"] == second["decision"]
    response = await client.get(
        "/v1/capacity-assessments", params={"person_id": person_id}, headers=who["worker"]
    )
    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert [(a["id"], a["outcome"]) for a in history] == [
        (second["id"], "has_capacity"),
        (first["id"], "lacks_capacity"),
    ]
    assert (await get_assessment(client, who["worker"], first["id"]))["outcome"] == "lacks_capacity"


async def test_partners_see_no_capacity_assessments(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    created = await assess(client, who["worker"], assessment_body(person_id))
    for partner in ("health", "police"):
        assert_problem(
            await client.get(f"/v1/capacity-assessments/{created['id']}", headers=who[partner]),
            403,
            "insufficient_scope",
        )
    await assert_not_found(client, who["worker"], f"/v1/capacity-assessments/{uuid.uuid4()}")


# ---------------------------------------------------------------------------------------------------
# 2. Best interests


async def test_a_best_interests_decision_follows_a_lack_of_capacity_once(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    assessment = await assess(client, who["worker"], assessment_body(person_id))
    body = best_interests_body()
    response = await client.post(best_interests_url(assessment["id"]), json=body, headers=who["worker"])
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["assessment_id"] == assessment["id"]
    assert (decision["decision"], decision["options"]) == (body["decision"], body["options"])
    assert decision["recorded_by"] == "asc-worker"
    assert (await get_assessment(client, who["worker"], assessment["id"]))[
        "best_interests_decision"
    ] == decision

    again = await client.post(best_interests_url(assessment["id"]), json=body, headers=who["worker"])
    assert_problem(again, 409, "conflict")
    assert (await get_assessment(client, who["worker"], assessment["id"]))[
        "best_interests_decision"
    ] == decision


async def test_no_best_interests_decision_for_a_person_with_capacity(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    assessment = await assess(client, who["worker"], assessment_body(person_id, **HAS_CAPACITY))
    response = await client.post(
        best_interests_url(assessment["id"]), json=best_interests_body(), headers=who["worker"]
    )
    assert_problem(response, 409, "best_interests_requires_incapacity")
    assert (await get_assessment(client, who["worker"], assessment["id"]))["best_interests_decision"] is None
    unknown = await client.post(
        best_interests_url(str(uuid.uuid4())), json=best_interests_body(), headers=who["worker"]
    )
    assert_problem(unknown, 404, "not_found")


async def test_a_best_interests_decision_rests_on_the_latest_assessment_of_that_decision(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    """Capacity is decision- and time-specific: once a later assessment of the same decision finds
    capacity, the earlier finding of incapacity no longer supports a best interests decision; a later
    assessment of a different decision does not affect it."""
    earlier = await assess(client, who["worker"], assessment_body(person_id, assessed_at=instant(-72)))
    await assess(
        client,
        who["worker"],
        assessment_body(person_id, assessed_at=instant(-2), decision="Where she lives", **HAS_CAPACITY),
    )
    other_decision_later = await client.post(
        best_interests_url(earlier["id"]), json=best_interests_body(), headers=who["worker"]
    )
    assert other_decision_later.status_code == 201, other_decision_later.text

    first = await assess(client, who["worker"], assessment_body(person_id, assessed_at=instant(-48)))
    # The same decision, worded with different case and spacing, is still the same decision.
    same = f"  {first['decision'].upper()} "
    await assess(
        client,
        who["worker"],
        assessment_body(person_id, assessed_at=instant(-1), decision=same, **HAS_CAPACITY),
    )
    response = await client.post(
        best_interests_url(first["id"]), json=best_interests_body(), headers=who["worker"]
    )
    problem = assert_problem(response, 409, "best_interests_requires_incapacity")
    assert "later assessment" in problem["detail"]
    assert (await get_assessment(client, who["worker"], first["id"]))["best_interests_decision"] is None


def _options(*flags: tuple[bool, bool]) -> Body:
    return {
        "options": [
            {"description": f"Option {n}.", "less_restrictive": less, "chosen": chosen}
            for n, (less, chosen) in enumerate(flags)
        ]
    }


INVALID_BEST_INTERESTS = [
    pytest.param(_options((False, True), (False, False)), ["body"], id="no less restrictive option"),
    pytest.param(_options((True, False), (False, False)), ["body"], id="no option chosen"),
    pytest.param(_options((True, True), (False, True)), ["body"], id="two options chosen"),
    pytest.param(_options((True, True)), ["body", "options"], id="one option only"),
    pytest.param({"consultees": [], "imca_involved": False}, ["body"], id="nobody consulted and no IMCA"),
    pytest.param(
        {"consultees": [{"name": "Jane", "relationship": "neighbour", "views": "Agrees."}]},
        ["body", "consultees", 0, "relationship"],
        id="unknown consultee relationship",
    ),
    pytest.param(
        {"consultees": [{"name": "Jane", "relationship": "family"}]},
        ["body", "consultees", 0, "views"],
        id="a consultee without views",
    ),
    pytest.param(
        {
            "checklist": {
                "past_and_present_wishes": "Kept her own accounts.",
                "beliefs_and_values": "Independence.",
                "may_regain_capacity": False,
                "regain_capacity_when": "In a month.",
                "participation": "Explained twice.",
            }
        },
        ["body"],
        id="regaining capacity when she may not",
    ),
    pytest.param(
        {"consultees": [{"name": "Ravi Shah", "relationship": "imca", "views": "Agrees."}]},
        ["body"],
        id="an IMCA consulted but imca_involved false",
    ),
    pytest.param({"made_at": instant(2)}, ["body", "made_at"], id="made in the future"),
    pytest.param({"made_at": instant(-48)}, ["body", "made_at"], id="made before the assessment"),
    pytest.param(
        {"decision_maker": {"name": "A. Khan"}}, ["body", "decision_maker", "role"], id="maker's role"
    ),
]


@pytest.mark.parametrize(("fields", "loc"), INVALID_BEST_INTERESTS)
async def test_an_invalid_best_interests_decision_is_refused(
    client: httpx.AsyncClient, who: Who, person_id: str, fields: Body, loc: list[Any]
) -> None:
    assessment = await assess(client, who["worker"], assessment_body(person_id, assessed_at=instant(-24)))
    response = await client.post(
        best_interests_url(assessment["id"]), json=best_interests_body(**fields), headers=who["worker"]
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem)
    assert (await get_assessment(client, who["worker"], assessment["id"]))["best_interests_decision"] is None


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"consultees": [], "imca_involved": True}, id="an IMCA and nobody else"),
        pytest.param(
            {
                "consultees": [
                    {"name": "Jane Hughes", "relationship": "attorney", "views": "Agrees."},
                    {"name": "Ravi Shah", "relationship": "imca", "views": "Supports the least restrictive."},
                ],
                "imca_involved": True,
            },
            id="an attorney and an IMCA",
        ),
        pytest.param(_options((False, False), (True, True), (False, False)), id="three options"),
        pytest.param(
            {
                "checklist": {
                    "past_and_present_wishes": "Kept her own accounts.",
                    "beliefs_and_values": "Independence.",
                    "may_regain_capacity": True,
                    "regain_capacity_when": "When the infection clears.",
                    "participation": "Explained twice.",
                }
            },
            id="may regain capacity",
        ),
    ],
)
async def test_a_valid_best_interests_decision_is_recorded(
    client: httpx.AsyncClient, who: Who, person_id: str, fields: Body
) -> None:
    assessment = await assess(client, who["worker"], assessment_body(person_id))
    response = await client.post(
        best_interests_url(assessment["id"]), json=best_interests_body(**fields), headers=who["worker"]
    )
    assert response.status_code == 201, response.text
