"""The public's front door (api.md, "The public's front door"): a council web form posts concerns about
adults and children with no token, gets a reference and nothing else, is limited per address, and the
raiser's details are third-party data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.main import create_app
from app.models.adult import AdultConcern
from app.models.audit import AuditEvent
from app.models.person import Person
from app.models.referral import Referral
from tests.conftest import make_settings
from tests.fixtures.callers import Who
from tests.fixtures.changes import BodyChange, changed
from tests.fixtures.database import audit_events
from tests.fixtures.http import assert_problem, ok

ADULTS = "/public/v1/adult-concerns"
CHILDREN = "/public/v1/child-concerns"
RAISER_NAME = "Joanna Neighbourly"
ADDRESS = "203.0.113.40"


def adult_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "adult": {
            "given_name": "Margaret",
            "family_name": "Hughes-Public",
            "date_of_birth": "1941-06-02",
            "address_lines": ["14 Grove Road"],
            "postcode": "E17 5JW",
        },
        "what_happened": "Her son takes her pension every week and there is no food in the house.",
        "types_of_risk": ["financial_or_material", "neglect_and_acts_of_omission"],
        "location_of_risk": "own_home",
        "source_of_risk": "other_known_to_individual",
        "adult_knows": "yes",
        "raiser": {
            "relationship": "acquaintance",
            "name": RAISER_NAME,
            "phone": "020 7946 0123",
            "feedback": "phone",
        },
    }
    body.update(changes)
    return body


def child_body(relationship: str = "family", *, anonymous: bool = False, **changes: Any) -> dict[str, Any]:
    raiser: dict[str, Any] = (
        {"anonymous": True, "relationship": relationship}
        if anonymous
        else {
            "relationship": relationship,
            "name": RAISER_NAME,
            "email": "jo@example.org",
            "feedback": "email",
        }
    )
    body: dict[str, Any] = {
        "children": [{"given_name": "Amelia", "family_name": "Smith-Public", "approximate_age": 7}],
        "what_happened": "The children are left alone in the flat overnight.",
        "concern_categories": ["neglect"],
        "parents_know": "no",
        "raiser": raiser,
    }
    body.update(changes)
    return body


def public_client(app: FastAPI, address: str = ADDRESS) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def public(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with public_client(app) as http:
        yield http


async def count(app: FastAPI, model: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------------------------------
# The receipt, and nothing to read


async def test_a_public_adult_concern_answers_only_a_reference_and_lands_in_the_adult_queue(
    public: httpx.AsyncClient, client: httpx.AsyncClient, adult_who: Who
) -> None:
    response = await public.post(ADULTS, json=adult_body())
    receipt = ok(response, 201)
    assert set(receipt) == {"reference", "received_at"}
    assert receipt["reference"].startswith("PUB-A-")
    concern_id = response.headers["location"].rsplit("/", 1)[1]

    queue = ok(
        await client.get("/v1/adult-concerns", params={"source": "public"}, headers=adult_who["worker"])
    )
    assert [item["id"] for item in queue["items"]] == [concern_id]
    assert queue["items"][0]["external_reference"] == receipt["reference"]  # found by the reference
    assert queue["items"][0]["source"] == "public"
    for other in ("hub", "partner"):
        listed = ok(
            await client.get("/v1/adult-concerns", params={"source": other}, headers=adult_who["worker"])
        )
        assert concern_id not in {item["id"] for item in listed["items"]}

    concern = ok(await client.get(f"/v1/adult-concerns/{concern_id}", headers=adult_who["worker"]))
    assert concern["status"] == "received" and concern["raising_agency"] == "adult_social_care"
    assert concern["raised_by"]["name"] == RAISER_NAME  # the hub reads who raised it
    assert concern["raised_by"]["relationship_to_adult"] == "acquaintance"
    assert sorted(a["type_of_risk"] for a in concern["allegations"]) == [
        "financial_or_material",
        "neglect_and_acts_of_omission",
    ]
    assert {a["source_of_risk"] for a in concern["allegations"]} == {"other_known_to_individual"}
    # The partners raised nothing of it: not found, not listed.
    assert_problem(
        await client.get(f"/v1/adult-concerns/{concern_id}", headers=adult_who["health"]), 404, "not_found"
    )
    listed = ok(await client.get("/v1/adult-concerns", headers=adult_who["health"]))
    assert concern_id not in {item["id"] for item in listed["items"]}


async def test_nothing_under_public_reads_anything(app: FastAPI, public: httpx.AsyncClient) -> None:
    operations = {
        (method, context.path_format)
        for context in iter_route_contexts(app.routes)
        if (context.path_format or "").startswith("/public")
        for method in context.methods or ()
    }
    assert operations == {("POST", ADULTS), ("POST", CHILDREN)}
    receipt = ok(await public.post(ADULTS, json=adult_body()), 201)
    assert (await public.get(ADULTS)).status_code == 405
    assert (await public.get(f"{ADULTS}/{receipt['reference']}")).status_code == 404
    assert (await public.get(f"{ADULTS}?reference={receipt['reference']}")).status_code == 405


async def test_an_anonymous_raiser_is_accepted_and_gives_nothing_identifying(
    public: httpx.AsyncClient, client: httpx.AsyncClient, adult_who: Who
) -> None:
    body = adult_body(raiser={"anonymous": True, "relationship": "acquaintance"})
    response = await public.post(ADULTS, json=body)
    ok(response, 201)
    concern = ok(await client.get(response.headers["location"], headers=adult_who["worker"]))
    assert concern["raised_by"] == {
        "anonymous": True,
        "relationship_to_adult": "acquaintance",
        "feedback": "none",
        "adult_knows": "yes",
    }
    # Anonymous means no name, no contact, no feedback: each refused with the field's reason.
    for raiser in (
        {"anonymous": True, "relationship": "other", "name": "Jo"},
        {"anonymous": True, "relationship": "other", "feedback": "email"},
        {"relationship": "other", "phone": "020 7946 0123"},  # named raisers give a name
        {"relationship": "other", "name": "Jo"},  # and a way to reach them
        {"relationship": "other", "name": "Jo", "phone": "020 7946 0123", "feedback": "email"},
    ):
        assert_problem(await public.post(ADULTS, json=adult_body(raiser=raiser)), 422, "validation_failed")


# ---------------------------------------------------------------------------------------------------
# Children: contacts with a census source


@pytest.mark.parametrize(
    ("relationship", "anonymous", "source"),
    [
        ("family", False, "1A"),
        ("acquaintance", False, "1B"),
        ("self", False, "1C"),
        ("other", False, "1D"),
        ("family", True, "9"),
        ("acquaintance", True, "9"),
    ],
)
async def test_a_public_child_concern_is_a_contact_with_the_census_source_of_its_raiser(
    public: httpx.AsyncClient,
    client: httpx.AsyncClient,
    who: Who,
    relationship: str,
    anonymous: bool,
    source: str,
) -> None:
    response = await public.post(CHILDREN, json=child_body(relationship, anonymous=anonymous))
    receipt = ok(response, 201)
    assert set(receipt) == {"reference", "received_at"} and receipt["reference"].startswith("PUB-C-")
    referral_id = response.headers["location"].rsplit("/", 1)[1]

    queue = ok(await client.get("/v1/referrals", params={"source": "public"}, headers=who["practitioner"]))
    assert [(item["id"], item["source"]) for item in queue["items"]] == [(referral_id, "public")]
    referral = ok(await client.get(f"/v1/referrals/{referral_id}", headers=who["practitioner"]))
    assert referral["referral_source"] == source
    assert referral["status"] == "received" and referral["referring_agency"] == "childrens_social_care"
    assert referral["referrer"]["relationship"] == relationship
    assert referral["referrer"]["approximate_ages"] == [7]
    assert referral["referrer"].get("name") == (None if anonymous else RAISER_NAME)
    assert referral["parental_consent"]["informed"] is False
    for partner in ("police", "health"):
        assert_problem(
            await client.get(f"/v1/referrals/{referral_id}", headers=who[partner]), 404, "not_found"
        )


async def test_an_agency_asked_about_a_public_contact_never_sees_who_raised_it(
    public: httpx.AsyncClient, client: httpx.AsyncClient, who: Who
) -> None:
    response = await public.post(CHILDREN, json=child_body("acquaintance"))
    url = response.headers["location"]
    ok(
        await client.post(
            f"{url}/rag-rating", json={"rating": "amber", "rationale": "Checks."}, headers=who["practitioner"]
        )
    )
    # Nobody asked the parents: a hub manager records why the hub proceeds without their consent.
    override = {
        "reason": "Raised by a neighbour; asking first could put the children at risk.",
        "lawful_basis": "uk_gdpr_6_1_e_public_task",
    }
    ok(await client.post(f"{url}/consent-override", json=override, headers=who["manager"]))
    asked = {"agencies": ["health"], "question": "What do you know of the family?"}
    ok(await client.post(f"{url}/contribution-requests", json=asked, headers=who["practitioner"]), 201)
    seen = await client.get(url, headers=who["health"])
    assert ok(seen)["view"] == "asked_agency"
    assert RAISER_NAME not in seen.text and "jo@example.org" not in seen.text
    feed = await client.get("/v1/events", params={"limit": "200"}, headers=who["health"])
    assert RAISER_NAME not in ok(feed) and RAISER_NAME not in feed.text


# ---------------------------------------------------------------------------------------------------
# Strict bodies: refused, and nothing stored


WRONG_DATE_SHAPE = changed("adult", date_of_birth="02/06/1941")
SPOILED = {
    "huge": changed(what_happened="x" * 5_001),
    "unknown": changed("adult", nhs_number="9434765919"),
    "markup_in_text": changed(what_happened='See <a href="https://evil.example">this</a>'),
    "markup_in_name": changed("raiser", name="<script>alert(1)</script>"),
    "bad_date": changed("adult", date_of_birth="1941-02-30"),
    "wrong_date_shape": WRONG_DATE_SHAPE,
    "a_child": changed("adult", date_of_birth="2015-01-01"),
    "many_addresses": changed("adult", address_lines=["line"] * 5),
}


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED.keys())
async def test_a_bad_body_is_a_problem_and_nothing_is_stored(
    app: FastAPI, public: httpx.AsyncClient, spoil: BodyChange
) -> None:
    before = [await count(app, model) for model in (AdultConcern, Person, AuditEvent)]
    body = adult_body()
    spoil(body)
    response = await public.post(ADULTS, json=body)
    problem = assert_problem(response, 422, "validation_failed")
    assert RAISER_NAME not in response.text and "evil.example" not in response.text
    assert problem["errors"]
    assert [await count(app, model) for model in (AdultConcern, Person, AuditEvent)] == before


async def test_bad_dates_say_so(public: httpx.AsyncClient) -> None:
    body = adult_body()
    WRONG_DATE_SHAPE(body)
    problem = assert_problem(await public.post(ADULTS, json=body), 422, "validation_failed")
    assert "YYYY-MM-DD" in problem["errors"][0]["msg"]


async def test_an_oversized_or_unreadable_body_is_refused_and_nothing_stored(
    app: FastAPI, public: httpx.AsyncClient
) -> None:
    before = await count(app, Referral)
    big = child_body(what_happened="x" * (1024 * 1024 + 1))
    assert_problem(await public.post(CHILDREN, json=big), 413, "payload_too_large")
    malformed = await public.post(
        CHILDREN, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(malformed, 400, "malformed_json")
    form = await public.post(CHILDREN, data={"what_happened": "x"})
    assert_problem(form, 415, "unsupported_media_type")
    assert await count(app, Referral) == before


# ---------------------------------------------------------------------------------------------------
# Idempotency-Key


async def test_a_retry_with_the_same_key_gets_the_same_receipt_and_makes_nothing_new(
    app: FastAPI, public: httpx.AsyncClient
) -> None:
    key = {"Idempotency-Key": "form-submission-1"}
    first = await public.post(CHILDREN, json=child_body(), headers=key)
    again = await public.post(CHILDREN, json=child_body(), headers=key)
    assert ok(first, 201) == ok(again, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == again.headers["location"]
    assert await count(app, Referral) == 1
    # The same key with another body: refused, nothing made.
    other = child_body(what_happened="Something else entirely.")
    assert_problem(await public.post(CHILDREN, json=other, headers=key), 422, "idempotency_key_reused")
    # Another member of the public who chose the same key (another address) is not answered the first
    # one's receipt: theirs is a concern of its own.
    async with public_client(app, "198.51.100.77") as someone_else:
        theirs = await someone_else.post(CHILDREN, json=child_body(), headers=key)
    assert ok(theirs, 201)["reference"] != ok(first, 201)["reference"]
    assert "idempotent-replayed" not in theirs.headers
    assert await count(app, Referral) == 2


# ---------------------------------------------------------------------------------------------------
# The per-address limit


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, rate_limit_enabled=True))
    yield application
    await application.state.rate_limiter.aclose()
    await application.state.engine.dispose()


async def test_the_sixth_post_in_an_hour_from_one_address_is_refused(limited: FastAPI) -> None:
    async with public_client(limited) as one, public_client(limited, "198.51.100.20") as another:
        answers = [
            await one.post(CHILDREN if n % 2 else ADULTS, json=child_body() if n % 2 else adult_body())
            for n in range(5)
        ]
        assert [a.status_code for a in answers] == [201] * 5
        assert [a.headers["ratelimit-remaining"] for a in answers] == ["4", "3", "2", "1", "0"]
        assert {a.headers["ratelimit-limit"] for a in answers} == {"5"}
        sixth = await one.post(ADULTS, json=adult_body())
        problem = assert_problem(sixth, 429, "rate_limited")
        assert 0 < int(sixth.headers["retry-after"]) <= 3600
        assert "3600 seconds" in problem["detail"]
        # A bad body counts too (a refused post is a post), and another address has its own budget.
        assert (await another.post(ADULTS, json=adult_body())).status_code == 201
        # A token does not buy the public a budget of its own: the door counts the address.
        assert (
            await one.post(ADULTS, json=adult_body(), headers={"Authorization": "Bearer x"})
        ).status_code == 429
    async with limited.state.sessionmaker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(AdultConcern)) == 4


def behind(app: FastAPI, peer: str) -> httpx.AsyncClient:
    """The app as `mash serve` runs it: uvicorn's proxy headers, believing MASH_TRUSTED_PROXIES only."""
    proxied = ProxyHeadersMiddleware(app, trusted_hosts=app.state.settings.trusted_proxies)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=proxied, client=(peer, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(database_url: str) -> None:
    app = create_app(
        make_settings(
            database_url, rate_limit_enabled=True, public_rate_limit_requests=2, trusted_proxies="10.0.0.0/8"
        )
    )
    try:
        # A client talking to the service directly cannot claim a fresh address per post.
        async with behind(app, "203.0.113.9") as direct:
            spoofed = [
                await direct.post(ADULTS, json=adult_body(), headers={"X-Forwarded-For": f"198.51.100.{n}"})
                for n in range(3)
            ]
        assert [r.status_code for r in spoofed] == [201, 201, 429]
        # Through the load balancer each member of the public is their own address.
        async with behind(app, "10.1.2.3") as proxy:
            forwarded = [
                await proxy.post(ADULTS, json=adult_body(), headers={"X-Forwarded-For": address})
                for address in ("192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2")
            ]
        assert [r.status_code for r in forwarded] == [201, 201, 429, 201]
    finally:
        await app.state.rate_limiter.aclose()
        await app.state.engine.dispose()


# ---------------------------------------------------------------------------------------------------
# Third-party data: the subject access export, the audit trail


async def test_the_raiser_is_withheld_from_the_adults_subject_access_export_and_counted(
    public: httpx.AsyncClient, client: httpx.AsyncClient, adult_who: Who
) -> None:
    response = await public.post(ADULTS, json=adult_body())
    concern = ok(await client.get(response.headers["location"], headers=adult_who["worker"]))
    person_id = concern["adult"]["person_id"]
    exported = await client.get(f"/v1/people/{person_id}/record", headers=adult_who["governance"])
    export = ok(exported)
    assert RAISER_NAME not in exported.text and "020 7946 0123" not in exported.text
    [record] = export["adults"]["concerns"]
    assert record["id"] == concern["id"] and record["raised_by"] is None
    withheld = {(i["reason"], i["kind"]): i["count"] for i in export["withheld"]["items"]}
    assert withheld == {("third_party", "concern_raiser"): 1}
    # The adult who raised a concern about themselves is not a third party to their own record.
    myself = adult_body(raiser={"relationship": "self", "name": "Margaret Hughes", "phone": "020 7946 0555"})
    myself["adult"] = {"given_name": "Winifred", "family_name": "Selfraised", "date_of_birth": "1938-09-17"}
    own = await public.post(ADULTS, json=myself)
    own_concern = ok(await client.get(own.headers["location"], headers=adult_who["worker"]))
    own_export = ok(
        await client.get(
            f"/v1/people/{own_concern['adult']['person_id']}/record", headers=adult_who["governance"]
        )
    )
    assert own_export["adults"]["concerns"][0]["raised_by"]["name"] == "Margaret Hughes"
    assert own_export["withheld"]["total"] == 0


async def test_a_public_contacts_raiser_is_withheld_from_the_childs_export(
    public: httpx.AsyncClient, client: httpx.AsyncClient, who: Who
) -> None:
    response = await public.post(CHILDREN, json=child_body("family"))
    referral = ok(await client.get(response.headers["location"], headers=who["practitioner"]))
    person_id = referral["children"][0]["person_id"]
    exported = await client.get(f"/v1/people/{person_id}/record", headers=who["governance"])
    export = ok(exported)
    assert RAISER_NAME not in exported.text and "jo@example.org" not in exported.text
    assert export["children"]["referrals"][0]["referrer"] is None
    assert {(i["reason"], i["kind"]): i["count"] for i in export["withheld"]["items"]} == {
        ("third_party", "referrer"): 1
    }


async def test_the_writes_are_audited_as_the_public_with_no_personal_data(
    app: FastAPI, public: httpx.AsyncClient
) -> None:
    adult = await public.post(ADULTS, json=adult_body())
    child = await public.post(CHILDREN, json=child_body())
    concern_id = adult.headers["location"].rsplit("/", 1)[1]
    referral_id = child.headers["location"].rsplit("/", 1)[1]
    events = await audit_events(app, actor_sub="public")
    created = {(e.record_type, e.record_id, e.actor_agency) for e in events if e.action == "create"}
    assert ("adult_concern", concern_id, "adult_social_care") in created
    assert ("referral", referral_id, "childrens_social_care") in created
    assert {e.actor_role for e in events} == {"public"}
    written = " ".join(str(e.details) for e in events)
    for personal in (RAISER_NAME, "Hughes-Public", "Smith-Public", "020 7946 0123", ADDRESS):
        assert personal not in written
