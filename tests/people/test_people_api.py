"""People over HTTP: records, concurrency, matching from messy details, and how the children a
referral names are resolved to person records (matched, pending and confirmed, new, twins)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.callers import Who
from tests.fixtures.database import counting_statements
from tests.fixtures.http import assert_problem, locs, ok, patch_current
from tests.fixtures.people import create_person
from tests.fixtures.referrals import child, create_referral, get_referral, referral_body, unique_child
from tests.fixtures.values import NHS_AMELIA, NHS_OTHER, Body, Headers

AMELIA: Body = {
    "given_name": "Amelia",
    "family_name": "Smith-Jones",
    "date_of_birth": "2018-05-09",  # day and month both 12 or under, so they can be swapped
    "nhs_number": "943 476 5919",
    "postcode": "e174uh",
    "address_lines": ["12 Forest Road", "London"],
    "gender": "female",
    "ethnicity": "WBRI",
}


async def _matches(client: httpx.AsyncClient, headers: Headers, **query: Any) -> list[Body]:
    candidates: list[Body] = ok(await client.post("/v1/people/matches", json=query, headers=headers))[
        "candidates"
    ]
    return candidates


# ---------------------------------------------------------------------------------------------------
# Records


async def test_a_person_is_recorded_with_normalised_details(client: httpx.AsyncClient, who: Who) -> None:
    response = await client.post("/v1/people", json=AMELIA, headers=who["practitioner"])
    assert response.status_code == 201, response.text
    person = response.json()
    assert response.headers["location"] == f"/v1/people/{person['id']}"
    assert person["nhs_number"] == NHS_AMELIA
    assert person["postcode"] == "E17 4UH"
    assert (person["given_name"], person["family_name"], person["date_of_birth"]) == (
        "Amelia",
        "Smith-Jones",
        "2018-05-09",
    )
    assert person["siblings"] == []
    assert person["updated_at"] is None

    fetched = await client.get(response.headers["location"], headers=who["practitioner"])
    assert fetched.status_code == 200
    assert fetched.json() == person
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("postcode", "stored"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("N1  9GU", "N1 9GU"),
        ("e17 4uh", "E17 4UH"),
        ("E17", "E17"),
        ("sw1a", "SW1A"),
    ],
)
async def test_postcodes_are_formatted(
    client: httpx.AsyncClient, who: Who, postcode: str, stored: str
) -> None:
    person = await create_person(
        client, who["practitioner"], {"given_name": "Sam", "family_name": "Lee", "postcode": postcode}
    )
    assert person["postcode"] == stored


async def test_an_nhs_number_is_recorded_once(client: httpx.AsyncClient, who: Who) -> None:
    first = await create_person(client, who["practitioner"], AMELIA)
    again = await client.post(
        "/v1/people",
        json={**AMELIA, "nhs_number": NHS_AMELIA, "given_name": "Millie"},
        headers=who["practitioner"],
    )
    problem = assert_problem(again, 409, "duplicate_person")
    assert first["id"] in problem["detail"]
    # Changing someone else's number to it is refused too.
    other = await create_person(
        client, who["practitioner"], {"given_name": "Noah", "family_name": "Brown", "nhs_number": NHS_OTHER}
    )
    patch = await patch_current(
        client, who["practitioner"], f"/v1/people/{other['id']}", {"nhs_number": NHS_AMELIA}
    )
    assert_problem(patch, 409, "duplicate_person")


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param({"nhs_number": "9434765918"}, ["body", "nhs_number"], id="bad check digit"),
        pytest.param({"nhs_number": "943476591"}, ["body", "nhs_number"], id="9 digits"),
        pytest.param({"postcode": "not a postcode"}, ["body", "postcode"], id="bad postcode"),
        pytest.param({"given_name": ""}, ["body", "given_name"], id="empty given name"),
        pytest.param({"gender": "m"}, ["body", "gender"], id="unknown gender"),
        pytest.param({"ethnicity": "British"}, ["body", "ethnicity"], id="unknown ethnicity"),
        pytest.param({"date_of_birth": "2999-01-01"}, ["body"], id="future date of birth"),
        pytest.param({"nickname": "Millie"}, ["body", "nickname"], id="unknown field"),
    ],
)
async def test_an_invalid_person_is_refused(
    client: httpx.AsyncClient, who: Who, fields: Body, loc: list[str]
) -> None:
    response = await client.post("/v1/people", json={**AMELIA, **fields}, headers=who["practitioner"])
    assert loc in locs(assert_problem(response, 422, "validation_failed"))


async def test_a_person_is_updated_with_if_match(client: httpx.AsyncClient, who: Who) -> None:
    person = await create_person(client, who["practitioner"], AMELIA)
    url = f"/v1/people/{person['id']}"
    etag = (await client.get(url, headers=who["practitioner"])).headers["etag"]
    move = {"postcode": "e17 9qa", "address_lines": ["3 Hoe Street"]}

    assert_problem(
        await client.patch(url, json=move, headers=who["practitioner"]), 428, "precondition_required"
    )
    star = await client.patch(url, json=move, headers={**who["practitioner"], "If-Match": "*"})
    assert_problem(star, 428, "precondition_required")  # `*` is not a version
    updated = await client.patch(url, json=move, headers={**who["practitioner"], "If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["postcode"] == "E17 9QA"
    assert updated.json()["address_lines"] == ["3 Hoe Street"]
    assert updated.json()["given_name"] == "Amelia", "fields not sent are kept"
    assert updated.json()["updated_at"] is not None
    assert updated.headers["etag"] != etag

    stale = await client.patch(
        url, json={"gender": "not_known"}, headers={**who["practitioner"], "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    cleared = await client.patch(
        url, json={"given_name": None}, headers={**who["practitioner"], "If-Match": updated.headers["etag"]}
    )
    assert_problem(cleared, 422, "validation_failed")
    assert (await client.get(url, headers=who["practitioner"])).json()["given_name"] == "Amelia"

    # After moving, she is found at the new address.
    found = await _matches(
        client,
        who["practitioner"],
        given_name="Amelia",
        family_name="Smith-Jones",
        postcode="E17 9QA",
        date_of_birth="2018-05-09",
    )
    assert found[0]["person"]["id"] == person["id"]
    assert "postcode_exact" in found[0]["reasons"]


async def test_people_are_found_by_nhs_number(client: httpx.AsyncClient, who: Who) -> None:
    amelia = await create_person(client, who["practitioner"], AMELIA)
    await create_person(
        client, who["practitioner"], {"given_name": "Noah", "family_name": "Brown", "nhs_number": NHS_OTHER}
    )
    for number in (NHS_AMELIA, "943 476 5919"):
        response = await client.get("/v1/people", params={"nhs_number": number}, headers=who["practitioner"])
        assert response.status_code == 200, response.text
        assert [p["id"] for p in response.json()["items"]] == [amelia["id"]]
    everyone = await client.get("/v1/people", headers=who["practitioner"])
    assert len(everyone.json()["items"]) == 2
    bad = await client.get("/v1/people", params={"nhs_number": "1234567890"}, headers=who["practitioner"])
    assert ["query", "nhs_number"] in locs(assert_problem(bad, 422, "validation_failed"))


async def test_an_unknown_person_is_not_found(client: httpx.AsyncClient, who: Who) -> None:
    assert_problem(
        await client.get(f"/v1/people/{uuid.uuid4()}", headers=who["practitioner"]), 404, "not_found"
    )


# ---------------------------------------------------------------------------------------------------
# Matching


MESSY = [
    pytest.param(
        {"given_name": "Amelai", "family_name": "Smith-Jones", "date_of_birth": "2018-05-09"},
        "given_name_typo",
        id="typo in the given name",
    ),
    pytest.param(
        {"given_name": "Amelia", "family_name": "Smith-Jones", "date_of_birth": "2018-09-05"},
        "dob_day_month_transposed",
        id="day and month swapped",
    ),
    pytest.param(
        {
            "given_name": "Millie",
            "family_name": "Smith-Jones",
            "date_of_birth": "2018-05-09",
            "postcode": "E17 4UH",
        },
        "given_name_nickname",
        id="nickname",
    ),
    pytest.param(
        {"given_name": "Amelia", "family_name": "Jones", "date_of_birth": "2018-05-09"},
        "family_name_hyphenated_part",
        id="half a double-barrelled surname",
    ),
    pytest.param(
        {
            "given_name": "Amelia",
            "family_name": "Smith",
            "date_of_birth": "2018-05-09",
            "postcode": "e17 4uh",
        },
        "family_name_hyphenated_part",
        id="the other half",
    ),
    pytest.param({"nhs_number": "943 476 5919"}, "nhs_number_exact", id="NHS number alone"),
]


@pytest.mark.parametrize(("query", "reason"), MESSY)
async def test_a_person_is_found_from_messy_details(
    client: httpx.AsyncClient, who: Who, query: Body, reason: str
) -> None:
    amelia = await create_person(client, who["practitioner"], AMELIA)
    await create_person(
        client,
        who["practitioner"],
        {"given_name": "Noah", "family_name": "Brown", "date_of_birth": "2015-01-20"},
    )
    candidates = await _matches(client, who["practitioner"], **query)
    assert [c["person"]["id"] for c in candidates] == [amelia["id"]]
    (best,) = candidates
    assert reason in best["reasons"]
    assert 0 < best["score"] <= 1
    assert best["person"]["nhs_number"] == NHS_AMELIA


async def test_candidates_are_ranked_by_score(client: httpx.AsyncClient, who: Who) -> None:
    amelia = await create_person(client, who["practitioner"], AMELIA)
    emilia = await create_person(
        client,
        who["practitioner"],
        {
            "given_name": "Emilia",
            "family_name": "Smith-Jones",
            "date_of_birth": "2018-05-09",
            "postcode": "E17 4UH",
        },
    )
    candidates = await _matches(
        client,
        who["practitioner"],
        given_name="Amelia",
        family_name="Smith-Jones",
        date_of_birth="2018-05-09",
        postcode="E17 4UH",
    )
    assert [c["person"]["id"] for c in candidates] == [amelia["id"], emilia["id"]]
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1]
    assert candidates[0]["certain"] is True
    assert candidates[1]["certain"] is False, "a twin-like near miss is never linked automatically"
    assert "possible_twin" in candidates[1]["reasons"]
    assert candidates[0]["reasons"] == [
        "dob_exact",
        "given_name_exact",
        "family_name_exact",
        "postcode_exact",
    ]

    limited = await _matches(
        client,
        who["practitioner"],
        given_name="Amelia",
        family_name="Smith-Jones",
        date_of_birth="2018-05-09",
        limit=1,
    )
    assert [c["person"]["id"] for c in limited] == [amelia["id"]]


async def test_nobody_is_found_for_an_unrelated_identity(client: httpx.AsyncClient, who: Who) -> None:
    await create_person(client, who["practitioner"], AMELIA)
    assert (
        await _matches(
            client,
            who["practitioner"],
            given_name="Oscar",
            family_name="Wilde",
            date_of_birth="2001-10-16",
            postcode="SW1A 1AA",
        )
        == []
    )
    assert await _matches(client, who["practitioner"], nhs_number=NHS_OTHER) == []


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        pytest.param({}, ["body"], id="nothing to match on"),
        pytest.param({"limit": 5}, ["body"], id="only a limit"),
        pytest.param({"nhs_number": "12345"}, ["body", "nhs_number"], id="short NHS number"),
        pytest.param({"given_name": "Amelia", "limit": 0}, ["body", "limit"], id="limit 0"),
        pytest.param({"given_name": "Amelia", "limit": 51}, ["body", "limit"], id="limit 51"),
        pytest.param({"given_name": "Amelia", "age": 8}, ["body", "age"], id="unknown field"),
    ],
)
async def test_an_invalid_match_query_is_refused(
    client: httpx.AsyncClient, who: Who, query: Body, loc: list[str]
) -> None:
    response = await client.post("/v1/people/matches", json=query, headers=who["practitioner"])
    assert loc in locs(assert_problem(response, 422, "validation_failed"))


async def test_partner_agencies_have_no_access_to_people(client: httpx.AsyncClient, who: Who) -> None:
    person = await create_person(client, who["practitioner"], AMELIA)
    url = f"/v1/people/{person['id']}"
    for partner in ("police", "health", "education"):
        headers = who[partner]
        calls = [
            client.post("/v1/people", json={**AMELIA, "nhs_number": None}, headers=headers),
            client.get("/v1/people", headers=headers),
            client.get("/v1/people", params={"nhs_number": NHS_AMELIA}, headers=headers),
            client.get(url, headers=headers),
            client.patch(url, json={"postcode": "E17 9QA"}, headers={**headers, "If-Match": '"1"'}),
            client.post("/v1/people/matches", json={"nhs_number": NHS_AMELIA}, headers=headers),
        ]
        for call in calls:
            assert_problem(await call, 403, "insufficient_scope")
    assert (await client.get(url, headers=who["practitioner"])).json()["postcode"] == "E17 4UH"


# ---------------------------------------------------------------------------------------------------
# Matching the children a referral names


AMELIA_CHILD = child(
    given_name="Amelia",
    family_name="Smith-Jones",
    date_of_birth="2018-05-09",
    nhs_number=NHS_AMELIA,
    address={"lines": ["12 Forest Road"], "postcode": "E17 4UH"},
    gender="female",
)


async def test_a_second_referral_about_the_same_child_is_linked_and_shows_the_first(
    client: httpx.AsyncClient, who: Who
) -> None:
    first = await create_referral(client, who["police"], referral_body(AMELIA_CHILD))
    first_full = await get_referral(client, who["practitioner"], first["id"])
    (first_child,) = first_full["children"]
    assert first_child["match"] == {"status": "new_person", "candidates": []}
    assert (first_child["previous_referrals"], first_child["repeat_referral"]) == ([], False)

    second = await create_referral(client, who["health"], referral_body(AMELIA_CHILD, referral_source="3A"))
    full = await get_referral(client, who["practitioner"], second["id"])
    (again,) = full["children"]
    assert again["match"] == {"status": "matched", "candidates": []}
    assert again["person_id"] == first_child["person_id"]
    assert again["repeat_referral"] is True
    assert again["previous_referrals"] == [
        {
            "referral_id": first["id"],
            "received_at": first["received_at"],
            "status": "received",
            "outcome": None,
        }
    ]
    # The first referral does not list the later one as "previous".
    assert (await get_referral(client, who["practitioner"], first["id"]))["children"][0][
        "previous_referrals"
    ] == []
    # The referrer sees its own referral as sent, not the hub's matching or history.
    health = await get_referral(client, who["health"], second["id"])
    assert "previous_referrals" not in health["children"][0]
    assert "match" not in health["children"][0]
    # One person record, named by both referrals.
    people = await client.get("/v1/people", params={"nhs_number": NHS_AMELIA}, headers=who["practitioner"])
    assert [p["id"] for p in people.json()["items"]] == [first_child["person_id"]]
    listed = await client.get(
        "/v1/referrals", params={"person_id": again["person_id"]}, headers=who["practitioner"]
    )
    assert [r["id"] for r in listed.json()["items"]] == [second["id"], first["id"]]


async def test_an_uncertain_match_waits_for_a_practitioner(client: httpx.AsyncClient, who: Who) -> None:
    first = await create_referral(client, who["police"], referral_body(AMELIA_CHILD))
    person_id = (await get_referral(client, who["practitioner"], first["id"]))["children"][0]["person_id"]

    typo = child(given_name="Amelai", family_name="Smith-Jones", date_of_birth="2018-05-09")
    second = await create_referral(client, who["education"], referral_body(typo, referral_source="2A"))
    full = await get_referral(client, who["practitioner"], second["id"])
    (pending,) = full["children"]
    assert pending["person_id"] is None
    assert pending["match"]["status"] == "pending"
    candidate = next(c for c in pending["match"]["candidates"] if c["person_id"] == person_id)
    assert "given_name_typo" in candidate["reasons"]
    assert 0 < candidate["score"] <= 1
    assert (pending["previous_referrals"], pending["repeat_referral"]) == ([], False)

    url = f"/v1/referrals/{second['id']}/children/{pending['id']}/match-confirmation"
    confirmed = await client.post(url, json={"person_id": person_id}, headers=who["practitioner"])
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["person_id"] == person_id
    after = (await get_referral(client, who["practitioner"], second["id"]))["children"][0]
    assert (after["match"]["status"], after["person_id"]) == ("confirmed", person_id)
    assert [p["referral_id"] for p in after["previous_referrals"]] == [first["id"]]
    assert after["repeat_referral"] is True

    again = await client.post(url, json={"person_id": person_id}, headers=who["practitioner"])
    assert_problem(again, 409, "match_already_resolved")
    as_new = await client.post(url, json={"person_id": None}, headers=who["practitioner"])
    assert_problem(as_new, 409, "match_already_resolved")
    # A child the hub linked automatically cannot be "confirmed" either.
    first_child = (await get_referral(client, who["practitioner"], first["id"]))["children"][0]
    auto = await client.post(
        f"/v1/referrals/{first['id']}/children/{first_child['id']}/match-confirmation",
        json={"person_id": person_id},
        headers=who["practitioner"],
    )
    assert_problem(auto, 409, "match_already_resolved")

    timeline = await client.get(f"/v1/referrals/{second['id']}/timeline", headers=who["practitioner"])
    kinds = [e["event_type"] for e in timeline.json()["items"]]
    assert kinds == ["referral.received", "child.pending", "child.match_confirmed"]


async def test_a_pending_child_can_be_confirmed_as_someone_new(client: httpx.AsyncClient, who: Who) -> None:
    first = await create_referral(client, who["police"], referral_body(AMELIA_CHILD))
    known = (await get_referral(client, who["practitioner"], first["id"]))["children"][0]["person_id"]
    typo = child(given_name="Amelai", family_name="Smith-Jones", date_of_birth="2018-05-09")
    second = await create_referral(client, who["police"], referral_body(typo))
    pending = (await get_referral(client, who["practitioner"], second["id"]))["children"][0]
    url = f"/v1/referrals/{second['id']}/children/{pending['id']}/match-confirmation"

    unknown = await client.post(url, json={"person_id": str(uuid.uuid4())}, headers=who["practitioner"])
    assert ["body", "person_id"] in locs(assert_problem(unknown, 422, "validation_failed"))
    missing_field = await client.post(url, json={}, headers=who["practitioner"])
    assert_problem(missing_field, 422, "validation_failed")
    elsewhere = await client.post(
        f"/v1/referrals/{first['id']}/children/{pending['id']}/match-confirmation",
        json={"person_id": known},
        headers=who["practitioner"],
    )
    assert_problem(elsewhere, 404, "not_found")
    by_partner = await client.post(url, json={"person_id": known}, headers=who["police"])
    assert_problem(by_partner, 403, "insufficient_scope")

    new = await client.post(url, json={"person_id": None}, headers=who["practitioner"])
    assert new.status_code == 200, new.text
    assert new.json()["person_id"] not in (None, known)
    after = (await get_referral(client, who["practitioner"], second["id"]))["children"][0]
    assert after["match"]["status"] == "new_person"
    person = await client.get(f"/v1/people/{after['person_id']}", headers=who["practitioner"])
    assert person.json()["given_name"] == "Amelai"


async def test_twins_in_one_referral_are_two_siblings(client: httpx.AsyncClient, who: Who) -> None:
    address = {"lines": ["7 Hoe Street"], "postcode": "E17 9QA"}
    twins = [
        child(
            given_name="Jack",
            family_name="Okafor",
            date_of_birth="2019-05-01",
            address=address,
            gender="male",
        ),
        child(
            given_name="Zack",
            family_name="Okafor",
            date_of_birth="2019-05-01",
            address=address,
            gender="male",
        ),
    ]
    referral = await create_referral(client, who["police"], referral_body(*twins))
    jack, zack = (await get_referral(client, who["practitioner"], referral["id"]))["children"]
    assert jack["match"]["status"] == zack["match"]["status"] == "new_person"
    assert None not in (jack["person_id"], zack["person_id"])
    assert jack["person_id"] != zack["person_id"]
    assert [s["id"] for s in jack["siblings"]] == [zack["person_id"]]
    assert [s["id"] for s in zack["siblings"]] == [jack["person_id"]]
    person = (await client.get(f"/v1/people/{jack['person_id']}", headers=who["practitioner"])).json()
    assert [(s["id"], s["given_name"]) for s in person["siblings"]] == [(zack["person_id"], "Zack")]

    # A later referral about both never links a twin to the other's record: each is either linked
    # to its own or, as twins look alike, left for a practitioner with its own record ranked first.
    again = await create_referral(client, who["health"], referral_body(*reversed(twins)))
    zack2, jack2 = (await get_referral(client, who["practitioner"], again["id"]))["children"]
    assert (zack2["given_name"], jack2["given_name"]) == ("Zack", "Jack")
    for later, own in ((zack2, zack["person_id"]), (jack2, jack["person_id"])):
        if later["match"]["status"] == "matched":
            assert later["person_id"] == own
        else:
            assert (later["match"]["status"], later["person_id"]) == ("pending", None)
            assert later["match"]["candidates"][0]["person_id"] == own


def _family(number: int, size: int) -> list[Body]:
    """The children of family ``number``, like nobody else in the test (each family its own month of
    birth, and each given name a different birth year in each family, so that no two families share a
    name and a date even if their random family names sound alike): siblings once referred together."""
    surname = unique_child()["family_name"]
    names = ["Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jude", "Kit", "Lena"]
    return [
        child(
            given_name=names[(n + number) % len(names)],
            family_name=surname,
            date_of_birth=f"{2012 + n}-{1 + number:02}-{1 + n:02}",
        )
        for n in range(size)
    ]


async def test_the_people_list_takes_the_same_number_of_statements_however_many_siblings_it_shows(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    """No query per person: a page of two people and a page of 62, each with up to 11 siblings, are
    read in the same number of statements."""
    await create_referral(client, who["police"], referral_body(*_family(0, 2)))
    with counting_statements(app) as small:
        few = await client.get("/v1/people?limit=200", headers=who["practitioner"])
    assert few.status_code == 200, few.text
    assert [len(person["siblings"]) for person in few.json()["items"]] == [1, 1]

    for number in range(1, 6):
        await create_referral(client, who["police"], referral_body(*_family(number, 12)))
    with counting_statements(app) as large:
        many = await client.get("/v1/people?limit=200", headers=who["practitioner"])
    assert many.status_code == 200, many.text
    people = many.json()["items"]
    assert len(people) == 62
    assert sorted(len(person["siblings"]) for person in people) == [1] * 2 + [11] * 60
    by_id = {person["id"]: person for person in people}
    for person in people:  # each sibling is in the same family, and knows this person back
        for sibling in person["siblings"]:
            assert sibling["family_name"] == person["family_name"]
            assert person["id"] in {s["id"] for s in by_id[sibling["id"]]["siblings"]}
    assert len(large) == len(small), "\n".join(large)
