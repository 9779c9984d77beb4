"""Adult concerns: what a concern must say, its deadline, who sees what, the list and its filters,
matching the adult to a person record, updating and closing, and the audit trail. Every assertion is
about what a client sees."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core import clock
from app.core.audit import verify_chain
from app.core.clock import WorkingClock
from app.models.adult import AdultConcern
from app.models.audit import AuditEvent
from app.models.event import CaseEvent
from tests.fixtures.adults import (
    CLOSE,
    Case,
    adult,
    advocacy_body,
    allegation,
    assess,
    assessment_body,
    best_interests_body,
    concern_body,
    concern_etag,
    concern_in,
    conclude,
    conclusion_body,
    decide,
    decision_body,
    get_concern,
    make_plan,
    open_enquiry,
    patch_concern,
    plan_body,
    raise_concern,
    record_advocacy,
    register_advocate,
    review_body,
    review_plan,
)
from tests.fixtures.callers import Who
from tests.fixtures.changes import BodyChange, changed, without
from tests.fixtures.database import audit_events, run_sql
from tests.fixtures.http import assert_not_found, assert_problem, item_ids, locs
from tests.fixtures.people import create_person
from tests.fixtures.values import (
    LONG_AGO,
    NHS_BAD_CHECK_DIGIT,
    NHS_MARGARET,
    Body,
    Headers,
    dt,
    sql_id,
    unique_family_name,
)


def _years_ago(years: int) -> date:
    today = clock.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# ---------------------------------------------------------------------------------------------------
# 1. What a concern must say


INVALID_CONCERNS = [
    pytest.param(changed(allegations=[]), ["body", "allegations"], id="no allegations"),
    pytest.param(without("allegations"), ["body", "allegations"], id="allegations missing"),
    pytest.param(
        changed("allegations", 0, type_of_risk="burglary"),
        ["body", "allegations", 0, "type_of_risk"],
        id="unknown type of risk",
    ),
    pytest.param(
        changed("allegations", 0, type_of_risk="physical_abuse"),
        ["body", "allegations", 0, "type_of_risk"],
        id="a children's concern category as type of risk",
    ),
    pytest.param(
        changed("allegations", 0, location_of_risk="care_home"),
        ["body", "allegations", 0, "location_of_risk"],
        id="unknown location of risk",
    ),
    pytest.param(
        changed("allegations", 0, source_of_risk="stranger"),
        ["body", "allegations", 0, "source_of_risk"],
        id="unknown source of risk",
    ),
    pytest.param(
        without("allegations", 0, "source_of_risk"),
        ["body", "allegations", 0, "source_of_risk"],
        id="source of risk missing",
    ),
    pytest.param(
        changed("allegations", 0, description=""),
        ["body", "allegations", 0, "description"],
        id="empty description",
    ),
    pytest.param(
        changed("adult", date_of_birth=(_years_ago(18) + timedelta(days=1)).isoformat()),
        ["body", "adult"],
        id="17 years old",
    ),
    pytest.param(changed("adult", date_of_birth="2015-01-01"), ["body", "adult"], id="a child"),
    pytest.param(
        changed("adult", date_of_birth=(clock.today() + timedelta(days=1)).isoformat()),
        ["body", "adult"],
        id="born in the future",
    ),
    pytest.param(
        changed("adult", nhs_number=NHS_BAD_CHECK_DIGIT),
        ["body", "adult", "nhs_number"],
        id="NHS number check digit",
    ),
    pytest.param(
        changed("adult", nhs_number="94347659"), ["body", "adult", "nhs_number"], id="NHS number too short"
    ),
    pytest.param(
        changed("adult", nhs_number="ABC4765919"),
        ["body", "adult", "nhs_number"],
        id="NHS number with letters",
    ),
    pytest.param(changed("adult", postcode="12345"), ["body", "adult", "postcode"], id="postcode"),
    pytest.param(changed("adult", gender="unknown"), ["body", "adult", "gender"], id="unknown gender"),
    pytest.param(without("adult", "family_name"), ["body", "adult", "family_name"], id="no family name"),
    pytest.param(
        changed(raised_by={"name": "Dr Patel", "role": "GP"}),
        ["body", "raised_by"],
        id="raiser without contact",
    ),
    pytest.param(
        changed(raised_by={"name": "Dr Patel", "email": "not-an-email"}),
        ["body", "raised_by", "email"],
        id="raiser with a bad email",
    ),
    pytest.param(without("raised_by"), ["body", "raised_by"], id="raised_by missing"),
    pytest.param(
        without("concerns_about_capacity"),
        ["body", "concerns_about_capacity"],
        id="concerns_about_capacity missing",
    ),
    pytest.param(changed(priority="high"), ["body", "priority"], id="unknown top-level field"),
    pytest.param(changed("adult", nickname="Peggy"), ["body", "adult", "nickname"], id="unknown adult field"),
    pytest.param(
        changed("allegations", 0, severity="high"),
        ["body", "allegations", 0, "severity"],
        id="unknown allegation field",
    ),
    pytest.param(
        changed(raised_by={"name": "Dr Patel", "phone": "020 7946 0101", "pager": "1234"}),
        ["body", "raised_by", "pager"],
        id="unknown raiser field",
    ),
]


@pytest.mark.parametrize(("change", "loc"), INVALID_CONCERNS)
async def test_an_invalid_concern_is_refused_naming_the_field(
    client: httpx.AsyncClient, who: Who, change: BodyChange, loc: list[Any]
) -> None:
    body = concern_body()
    change(body)
    response = await client.post("/v1/adult-concerns", json=body, headers=who["health"])
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in locs(problem)
    listed = await client.get("/v1/adult-concerns", headers=who["worker"])
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "dob",
    [
        pytest.param(_years_ago(18).isoformat(), id="18 today"),
        pytest.param("1920-02-29", id="born on 29 February"),
        pytest.param(None, id="date of birth unknown"),
    ],
)
async def test_an_adult_is_18_or_over_or_of_unknown_age(
    client: httpx.AsyncClient, who: Who, dob: str | None
) -> None:
    concern = await raise_concern(client, who["health"], concern_body(adult=adult(date_of_birth=dob)))
    assert concern["adult"]["date_of_birth"] == dob


@pytest.mark.parametrize(
    "raised_by",
    [
        {"name": "Dr Patel", "phone": "020 7946 0101"},
        {"name": "Dr Patel", "email": "reception@hoestreet.example.org"},
    ],
    ids=["phone only", "email only"],
)
async def test_a_phone_or_an_email_is_enough_to_reach_the_raiser(
    client: httpx.AsyncClient, who: Who, raised_by: Body
) -> None:
    concern = await raise_concern(client, who["health"], concern_body(raised_by=raised_by))
    assert concern["raised_by"] == raised_by


async def test_a_concern_is_received_with_a_decision_due_two_working_days_later(
    client: httpx.AsyncClient, who: Who
) -> None:
    body = concern_body(adult=adult(nhs_number="943 476 5919", postcode="e17 5jw"))
    response = await client.post("/v1/adult-concerns", json=body, headers=who["health"])
    assert response.status_code == 201, response.text
    concern = response.json()
    assert response.headers["location"] == f"/v1/adult-concerns/{concern['id']}"
    assert (concern["view"], concern["status"], concern["raising_agency"]) == ("raiser", "received", "health")
    received_at = dt(concern["received_at"])
    assert received_at.utcoffset() is not None
    assert dt(concern["decision_due_at"]) == WorkingClock().adult_concern_decision_due(received_at)
    # Identifiers are normalised as people's are.
    assert (concern["adult"]["nhs_number"], concern["adult"]["postcode"]) == (NHS_MARGARET, "E17 5JW")
    full = await get_concern(client, who["worker"], concern["id"])
    assert full["decision_due_at"] == concern["decision_due_at"]
    assert full["overdue"] is False
    assert [(a["type_of_risk"], a["result"]) for a in full["allegations"]] == [
        ("financial_or_material", None),
        ("neglect_and_acts_of_omission", None),
    ]


# ---------------------------------------------------------------------------------------------------
# 2. Who sees what


async def test_the_raiser_sees_what_it_sent_and_the_status_adult_social_care_sees_everything(
    client: httpx.AsyncClient, who: Who
) -> None:
    body = concern_body(
        allegation(
            alleged_person={"relationship": "son", "lives_with_adult": True, "is_adult_at_risk": False}
        )
    )
    created = await raise_concern(client, who["health"], body)

    raiser = await get_concern(client, who["health"], created["id"])
    assert raiser == created
    assert raiser["view"] == "raiser"
    assert raiser["allegations"] == body["allegations"]
    assert (raiser["feedback"], raiser["feedback_limited"]) == (None, False)
    for hidden in ("match", "section_42_decision", "enquiry_id", "advocacy", "advocate_required", "overdue"):
        assert hidden not in raiser, hidden
    assert all("id" not in a and "result" not in a for a in raiser["allegations"])

    full = await get_concern(client, who["worker"], created["id"])
    assert full["view"] == "full"
    assert full["match"]["status"] == "new_person"
    assert full["adult"]["person_id"] is not None
    # The hub's link between records is not shown to the raising agency.
    assert raiser["adult"]["person_id"] is None
    assert full["section_42_decision"] is None
    assert (full["enquiry_id"], full["advocacy"], full["advocate_required"]) == (None, None, False)
    assert full["allegations"][0]["alleged_person"] == body["allegations"][0]["alleged_person"]
    assert all(uuid.UUID(a["id"]) for a in full["allegations"])
    assert await get_concern(client, who["manager"], created["id"]) == full

    # Adult social care raising a concern itself sees it in full from the start.
    own = await raise_concern(client, who["worker"])
    assert (own["view"], own["raising_agency"]) == ("full", "adult_social_care")


@pytest.mark.parametrize("agency", ["police", "housing", "education"])
async def test_an_agency_with_no_link_to_the_concern_gets_404(
    client: httpx.AsyncClient, who: Who, agency: str
) -> None:
    concern = await raise_concern(client, who["health"])
    await assert_not_found(client, who[agency], f"/v1/adult-concerns/{concern['id']}")
    await assert_not_found(client, who["health"], f"/v1/adult-concerns/{uuid.uuid4()}")


async def test_partners_cannot_change_or_decide_even_their_own_concern(
    client: httpx.AsyncClient, who: Who
) -> None:
    concern = await raise_concern(client, who["health"])
    patched = await patch_concern(client, who["health"], concern["id"], {"adult_views": "Changed."})
    assert_problem(patched, 403, "insufficient_scope")
    decided = await client.post(
        f"/v1/adult-concerns/{concern['id']}/section-42-decision", json=decision_body(), headers=who["health"]
    )
    assert_problem(decided, 403, "insufficient_scope")


# ---------------------------------------------------------------------------------------------------
# 3. The list and its filters


async def _ids(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[str]:
    return await item_ids(client, headers, "/v1/adult-concerns", **params)


async def test_the_list_filters_by_status_overdue_and_person(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    worker = who["worker"]
    received = await concern_in(client, who, "received")
    nfa = await concern_in(client, who, "decided_nfa")
    enquiring = await concern_in(client, who, "enquiry_open")
    newest_first = [enquiring.id, nfa.id, received.id]
    assert await _ids(client, worker) == newest_first

    assert await _ids(client, worker, status="received") == [received.id]
    assert await _ids(client, worker, status="decided") == [nfa.id]
    assert await _ids(client, worker, status="enquiry_open") == [enquiring.id]
    assert await _ids(client, worker, status="closed") == []
    assert_problem(
        await client.get("/v1/adult-concerns", params={"status": "open"}, headers=worker),
        422,
        "validation_failed",
    )

    # Nothing is overdue yet; then two deadlines pass, but only the undecided concern is late.
    assert await _ids(client, worker, overdue="true") == []
    await run_sql(
        app,
        f"UPDATE adult_concerns SET decision_due_at = '{LONG_AGO}' WHERE id IN "
        f"('{sql_id(received.id)}', '{sql_id(nfa.id)}')",
    )
    assert await _ids(client, worker, overdue="true") == [received.id]
    assert await _ids(client, worker, overdue="false") == [enquiring.id, nfa.id]
    assert (await get_concern(client, worker, received.id))["overdue"] is True
    assert (await get_concern(client, worker, nfa.id))["overdue"] is False
    listed = (await client.get("/v1/adult-concerns", headers=worker)).json()["items"]
    assert {item["id"]: item["overdue"] for item in listed} == {
        received.id: True,
        nfa.id: False,
        enquiring.id: False,
    }

    assert await _ids(client, worker, person_id=received.person_id) == [received.id]
    assert await _ids(client, worker, person_id=str(uuid.uuid4())) == []


async def test_a_partner_lists_only_the_concerns_it_raised(client: httpx.AsyncClient, who: Who) -> None:
    first = await raise_concern(client, who["health"])
    police = await raise_concern(client, who["police"])
    second = await raise_concern(client, who["health"])
    assert await _ids(client, who["health"]) == [second["id"], first["id"]]
    assert await _ids(client, who["police"]) == [police["id"]]
    assert await _ids(client, who["housing"]) == []
    assert await _ids(client, who["worker"]) == [second["id"], police["id"], first["id"]]
    summary = (await client.get("/v1/adult-concerns", headers=who["police"])).json()["items"][0]
    assert summary["raising_agency"] == "police"
    assert summary["status"] == "received"
    # The hub's person record stays the hub's: it is in adult social care's list only.
    person_id = (await get_concern(client, who["worker"], police["id"]))["adult"]["person_id"]
    assert person_id is not None
    assert summary["person_id"] is None
    worker_list = (await client.get("/v1/adult-concerns", headers=who["worker"])).json()["items"]
    assert next(i for i in worker_list if i["id"] == police["id"])["person_id"] == person_id


# ---------------------------------------------------------------------------------------------------
# 4. Matching the adult to a person record


async def test_an_adult_already_known_is_matched_to_their_person_record(
    client: httpx.AsyncClient, who: Who
) -> None:
    details = {
        "given_name": "Margaret",
        "family_name": unique_family_name(),
        "date_of_birth": "1941-06-02",
        "nhs_number": NHS_MARGARET,
        "postcode": "E17 5JW",
        "gender": "female",
    }
    person = await create_person(client, who["worker"], details)
    concern = await raise_concern(client, who["health"], concern_body(adult=adult(**details)))
    full = await get_concern(client, who["worker"], concern["id"])
    assert full["match"]["status"] == "matched"
    assert full["adult"]["person_id"] == person["id"]
    assert concern["adult"]["person_id"] is None, "the raiser does not see the hub's person record"

    # A second concern about her names the same person, and the list finds both by person.
    again = await raise_concern(client, who["police"], concern_body(adult=adult(**details)))
    assert (await get_concern(client, who["worker"], again["id"]))["adult"]["person_id"] == person["id"]
    assert await _ids(client, who["worker"], person_id=person["id"]) == [again["id"], concern["id"]]


async def test_an_adult_who_only_nearly_matches_is_left_for_a_practitioner(
    client: httpx.AsyncClient, who: Who
) -> None:
    family_name = unique_family_name()
    person = await create_person(
        client,
        who["worker"],
        {
            "given_name": "Margaret",
            "family_name": family_name,
            "date_of_birth": "1941-06-02",
            "postcode": "E17 5JW",
        },
    )
    near = adult(
        given_name="Margaret", family_name=family_name, date_of_birth="1941-06-02", postcode="N1 9GU"
    )
    concern = await raise_concern(client, who["health"], concern_body(adult=near))
    full = await get_concern(client, who["worker"], concern["id"])
    assert full["match"]["status"] == "pending"
    assert full["adult"]["person_id"] is None
    assert person["id"] in [c["person_id"] for c in full["match"]["candidates"]]


async def _pending(client: httpx.AsyncClient, who: Who) -> tuple[Body, Body]:
    """A known person and a concern about an adult who only nearly matches her (another postcode)."""
    family_name = unique_family_name()
    known = {"given_name": "Margaret", "family_name": family_name, "date_of_birth": "1941-06-02"}
    person = await create_person(client, who["worker"], {**known, "postcode": "E17 5JW"})
    concern = await raise_concern(
        client, who["health"], concern_body(adult=adult(**known, postcode="N1 9GU"))
    )
    assert (await get_concern(client, who["worker"], concern["id"]))["match"]["status"] == "pending"
    return person, concern


def _confirm_url(concern_id: str) -> str:
    return f"/v1/adult-concerns/{concern_id}/match-confirmation"


async def test_a_practitioner_confirms_the_pending_match_once(client: httpx.AsyncClient, who: Who) -> None:
    person, concern = await _pending(client, who)
    response = await client.post(
        _confirm_url(concern["id"]), json={"person_id": person["id"]}, headers=who["worker"]
    )
    assert response.status_code == 200, response.text
    confirmed = response.json()
    assert (confirmed["match"]["status"], confirmed["adult"]["person_id"]) == ("confirmed", person["id"])
    assert await get_concern(client, who["worker"], concern["id"]) == confirmed
    assert await _ids(client, who["worker"], person_id=person["id"]) == [concern["id"]]

    again = await client.post(_confirm_url(concern["id"]), json={"person_id": None}, headers=who["worker"])
    assert_problem(again, 409, "match_already_resolved")
    assert await get_concern(client, who["worker"], concern["id"]) == confirmed


async def test_a_practitioner_decides_the_adult_is_someone_new(client: httpx.AsyncClient, who: Who) -> None:
    person, concern = await _pending(client, who)
    response = await client.post(_confirm_url(concern["id"]), json={"person_id": None}, headers=who["worker"])
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["match"]["status"] == "new_person"
    assert new["adult"]["person_id"] not in (None, person["id"])
    made = await client.get(f"/v1/people/{new['adult']['person_id']}", headers=who["worker"])
    assert made.status_code == 200, made.text
    assert (made.json()["family_name"], made.json()["postcode"]) == (person["family_name"], "N1 9GU")


async def test_a_match_confirmation_that_cannot_stand_is_refused(client: httpx.AsyncClient, who: Who) -> None:
    _, concern = await _pending(client, who)
    url = _confirm_url(concern["id"])
    unknown = await client.post(url, json={"person_id": str(uuid.uuid4())}, headers=who["worker"])
    assert locs(assert_problem(unknown, 422, "validation_failed")) == [["body", "person_id"]]
    missing = await client.post(url, json={}, headers=who["worker"])
    assert locs(assert_problem(missing, 422, "validation_failed")) == [["body", "person_id"]]
    raiser = await client.post(url, json={"person_id": None}, headers=who["health"])
    assert_problem(raiser, 403, "insufficient_scope")
    no_concern = await client.post(
        _confirm_url(str(uuid.uuid4())), json={"person_id": None}, headers=who["worker"]
    )
    assert_problem(no_concern, 404, "not_found")
    assert (await get_concern(client, who["worker"], concern["id"]))["match"]["status"] == "pending"


# ---------------------------------------------------------------------------------------------------
# 5. Updating and closing


async def test_patch_needs_the_current_etag(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "received")
    url = f"/v1/adult-concerns/{case.id}"
    change = {"desired_outcomes": "To stay at home, with her daughter managing her money."}

    assert_problem(await client.patch(url, json=change, headers=who["worker"]), 428, "precondition_required")
    etag = await concern_etag(client, who["worker"], case.id)
    updated = await client.patch(url, json=change, headers={**who["worker"], "If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["desired_outcomes"] == change["desired_outcomes"]
    assert updated.json()["updated_at"] is not None
    assert updated.headers["etag"] != etag
    assert updated.headers["etag"] == await concern_etag(client, who["worker"], case.id)

    stale = await client.patch(
        url, json={"adult_views": "Too late."}, headers={**who["worker"], "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert (await get_concern(client, who["worker"], case.id))["adult_views"] == case.full["adult_views"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({}, ["body"], id="nothing to change"),
        pytest.param({"status": "closed"}, ["body"], id="closing without a reason"),
        pytest.param({"closure_reason": "Done."}, ["body"], id="a reason without closing"),
        pytest.param({"status": "decided", "closure_reason": "Done."}, ["body", "status"], id="other status"),
        pytest.param({"adult_views": ""}, ["body", "adult_views"], id="empty views"),
        pytest.param(
            {"primary_support_reason": "dementia"}, ["body", "primary_support_reason"], id="unknown PSR"
        ),
        pytest.param({"raising_agency": "police"}, ["body", "raising_agency"], id="unknown field"),
    ],
)
async def test_an_invalid_update_is_refused(
    client: httpx.AsyncClient, who: Who, body: Body, loc: list[str]
) -> None:
    case = await concern_in(client, who, "received")
    problem = assert_problem(
        await patch_concern(client, who["worker"], case.id, body), 422, "validation_failed"
    )
    assert loc in locs(problem)


CLOSING = [
    pytest.param("received", 409, id="received: no decision yet"),
    pytest.param("decided_s42", 409, id="decided on a section 42 enquiry: the enquiry is owed"),
    pytest.param("decided_other", 409, id="decided on an other enquiry: the enquiry is owed"),
    pytest.param("enquiry_open", 409, id="enquiry open"),
    pytest.param("decided_nfa", 200, id="decided on no further action"),
    pytest.param("enquiry_concluded", 200, id="enquiry concluded"),
]


@pytest.mark.parametrize(("state", "expected"), CLOSING)
async def test_a_concern_closes_only_when_nothing_is_owed(
    client: httpx.AsyncClient, who: Who, state: str, expected: int
) -> None:
    case = await concern_in(client, who, state)
    response = await patch_concern(
        client, who["worker"], case.id, {**CLOSE, "adult_views": "Sent with the closing."}
    )
    after = await get_concern(client, who["worker"], case.id)
    if expected == 409:
        assert_problem(response, 409, "invalid_transition")
        # Nothing of the refused request is kept, not even the other field sent with it.
        assert (after["status"], after["closed_at"], after["adult_views"]) == (
            case.status,
            None,
            case.full["adult_views"],
        )
        return
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed"
    assert closed["closure_reason"] == CLOSE["closure_reason"]
    assert closed["closed_at"] is not None
    assert closed["adult_views"] == "Sent with the closing."
    assert after == closed
    raiser = await get_concern(client, who["health"], case.id)
    assert raiser["status"] == "closed"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"adult_views": "New information."}, id="views"),
        pytest.param({"consent_to_share": False}, id="consent"),
        pytest.param(CLOSE, id="closing again"),
    ],
)
async def test_a_closed_concern_cannot_be_changed(client: httpx.AsyncClient, who: Who, change: Body) -> None:
    case = await concern_in(client, who, "closed")
    assert case.status == "closed"
    assert_problem(await patch_concern(client, who["worker"], case.id, change), 409, "invalid_transition")
    assert await get_concern(client, who["worker"], case.id) == case.full


# ---------------------------------------------------------------------------------------------------
# 6. The audit trail


async def test_raising_deciding_and_reading_a_concern_are_audited_naming_the_adult(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    concern = await raise_concern(client, who["health"])
    async with app.state.sessionmaker() as session:  # not through the API: that read would be audited too
        person_id = (await session.get(AdultConcern, uuid.UUID(concern["id"]))).person_id
    assert person_id is not None

    (created,) = await audit_events(
        app, action="create", record_type="adult_concern", record_id=concern["id"]
    )
    assert (created.actor_sub, created.actor_agency, created.actor_role) == (
        "gp-system",
        "health",
        "partner_referrer",
    )
    assert created.person_id == person_id

    decision = await decide(client, who["manager"], concern["id"])
    (decided,) = await audit_events(
        app, action="create", record_type="section_42_decision", record_id=decision["id"]
    )
    assert (decided.actor_sub, decided.actor_agency) == ("asc-manager", "adult_social_care")
    assert decided.person_id == person_id
    assert decided.details["concern_id"] == concern["id"]

    await get_concern(client, who["health"], concern["id"])
    await get_concern(client, who["worker"], concern["id"])
    reads = await audit_events(app, action="read", record_type="adult_concern", record_id=concern["id"])
    assert [(r.actor_sub, r.person_id, r.details["view"]) for r in reads] == [
        ("gp-system", person_id, "raiser"),
        ("asc-worker", person_id, "full"),
    ]

    # A refused read (another agency) does not count as a read of the record.
    await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["police"])
    assert (
        len(await audit_events(app, action="read", record_type="adult_concern", record_id=concern["id"])) == 2
    )

    await client.get("/v1/adult-concerns", headers=who["worker"])
    (listed,) = await audit_events(app, action="list", record_type="adult_concern")
    assert listed.details["person_ids"] == [str(person_id)]


async def test_a_whole_journey_keeps_a_valid_audit_chain_and_a_case_event_for_each_step(
    client: httpx.AsyncClient, who: Who, app: FastAPI
) -> None:
    worker, manager = who["worker"], who["manager"]
    raised = await raise_concern(client, who["health"])
    refused = await client.post(
        f"/v1/adult-concerns/{raised['id']}/section-42-decision",
        json=decision_body(met=(True, True, False)),
        headers=manager,
    )
    assert_problem(refused, 422, "section_42_criteria_not_met")
    await decide(client, manager, raised["id"])
    await open_enquiry(client, worker, raised["id"])
    case = Case(await get_concern(client, worker, raised["id"]))
    assert case.enquiry_id is not None
    assessment = await assess(client, worker, assessment_body(case.person_id, concern_id=case.id))
    made = await client.post(
        f"/v1/capacity-assessments/{assessment['id']}/best-interests-decision",
        json=best_interests_body(),
        headers=worker,
    )
    assert made.status_code == 201, made.text
    advocate = await register_advocate(client, worker)
    advocacy = await record_advocacy(
        client, worker, case.id, advocacy_body(offer="accepted", advocate_id=advocate["id"])
    )
    assert advocacy.status_code == 201, advocacy.text
    # She was assessed as lacking capacity, supported by the advocate.
    concluded = await conclude(
        client,
        manager,
        case.enquiry_id,
        conclusion_body(case.allegation_ids, lacked_capacity="yes", advocate_support=True),
    )
    assert concluded.status_code == 200, concluded.text
    plan = await make_plan(client, worker, plan_body(case.person_id, concern_id=case.id))
    housing = next(a for a in plan["actions"] if a["agency"] == "housing")
    done = await client.patch(
        f"/v1/safeguarding-plans/{plan['id']}/actions/{housing['id']}",
        json={"status": "completed"},
        headers={**who["housing"], "If-Match": housing["etag"]},
    )
    assert done.status_code == 200, done.text
    reviewed = await review_plan(client, worker, plan["id"], review_body("close"))
    assert reviewed.status_code == 201, reviewed.text
    closed = await patch_concern(client, worker, case.id, CLOSE)
    assert closed.status_code == 200, closed.text
    await get_concern(client, who["health"], case.id)
    await client.get(f"/v1/enquiries/{case.enquiry_id}", headers=worker)

    async with app.state.sessionmaker() as session:
        result = await verify_chain(session)
        rows = (await session.execute(sa.select(AuditEvent.action, AuditEvent.record_type))).all()
    seen = {(action, record_type) for action, record_type in rows}
    assert result.valid, result
    assert result.checked == len(rows)
    assert {
        ("create", "adult_concern"),
        ("create", "section_42_decision"),
        ("create", "enquiry"),
        ("create", "capacity_assessment"),
        ("create", "best_interests_decision"),
        ("create", "advocacy"),
        ("update", "enquiry"),
        ("create", "safeguarding_plan"),
        ("update", "safeguarding_plan"),
        ("update", "adult_concern"),
        ("read", "adult_concern"),
        ("read", "enquiry"),
    } <= seen
    # Every entry about the case names the adult.
    async with app.state.sessionmaker() as session:
        unnamed = (
            await session.scalars(
                sa.select(AuditEvent.record_type).where(
                    AuditEvent.record_type.in_(
                        ["adult_concern", "section_42_decision", "enquiry", "capacity_assessment", "advocacy"]
                    ),
                    AuditEvent.action != "list",
                    AuditEvent.person_id.is_(None),
                )
            )
        ).all()
    assert unnamed == []

    # The case events: one per step, in order, on the concern (the plan's too); the refused decision
    # left none; codes and ids only, never the adult's name.
    async with app.state.sessionmaker() as session:
        events = (
            await session.scalars(
                sa.select(CaseEvent)
                .where(
                    CaseEvent.aggregate_type == "adult_concern", CaseEvent.aggregate_id == uuid.UUID(case.id)
                )
                .order_by(CaseEvent.seq)
            )
        ).all()
    assert [e.event_type for e in events] == [
        "adult_concern.received",
        "adult.new_person",
        "adult_concern.decided",
        "enquiry.opened",
        "capacity.assessed",
        "best_interests.decided",
        "advocacy.recorded",
        "enquiry.concluded",
        "plan.created",
        "plan.action_updated",
        "plan.reviewed",
        "plan.closed",
        "adult_concern.closed",
    ]
    assert events[0].data["allegations"] == 2
    assert events[1].data["person_id"] == case.person_id
    given_name = case.full["adult"]["given_name"]
    assert all(given_name not in str(e.data) for e in events)
