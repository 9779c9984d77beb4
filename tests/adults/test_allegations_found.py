"""Allegations as the enquiry finds them: adult social care adds a risk the open enquiry found and corrects
the type, location or source of one (If-Match, history of who, when, what it was and why); the conclusion
needs a result for every allegation, added ones too; what the enquiry found is the hub's (and the agency's
leading the enquiry), never the raiser's."""

from __future__ import annotations

import uuid

import httpx

from tests.fixtures import adults as fx
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem
from tests.fixtures.values import Body, Headers

FOUND = fx.allegation(
    type_of_risk="psychological",
    location_of_risk="own_home",
    source_of_risk="other_known_to_individual",
    description="Her son shouts at her when she refuses to sign cheques.",
)


async def add(
    http: httpx.AsyncClient, headers: Headers, enquiry_id: str, body: Body = FOUND
) -> httpx.Response:
    return await http.post(f"/v1/enquiries/{enquiry_id}/allegations", json=body, headers=headers)


async def correct(
    http: httpx.AsyncClient, headers: Headers, allegation_id: str, body: Body, if_match: str | None
) -> httpx.Response:
    extra = {} if if_match is None else {"If-Match": if_match}
    return await http.patch(f"/v1/allegations/{allegation_id}", json=body, headers={**headers, **extra})


async def open_case(client: httpx.AsyncClient, who: Who) -> tuple[fx.Case, str]:
    case = await fx.concern_in(client, who, "enquiry_open")
    assert case.enquiry_id is not None
    return case, case.enquiry_id


async def test_an_allegation_found_is_added_and_must_have_a_result(
    client: httpx.AsyncClient, who: Who
) -> None:
    case, enquiry_id = await open_case(client, who)
    response = await add(client, who["worker"], enquiry_id)
    assert response.status_code == 201, response.text
    found = response.json()
    assert response.headers["location"] == f"/v1/allegations/{found['id']}"
    assert response.headers["etag"] == '"1"'
    assert (found["type_of_risk"], found["enquiry_id"], found["added_by"]) == (
        "psychological",
        enquiry_id,
        "asc-worker",
    )
    enquiry = await fx.get_enquiry(client, who["worker"], enquiry_id)
    assert [a["id"] for a in enquiry["allegations"]] == [*case.allegation_ids, found["id"]]

    # The conclusion covers every allegation of the concern, the one found included.
    missing = await fx.conclude(client, who["manager"], enquiry_id, fx.conclusion_body(case.allegation_ids))
    problem = assert_problem(missing, 422, "allegation_results_missing")
    assert problem["errors"] == [
        {"loc": ["body", "allegations"], "msg": f"no result for allegation {found['id']}"}
    ]
    concluded = await fx.conclude(
        client, who["manager"], enquiry_id, fx.conclusion_body([*case.allegation_ids, found["id"]])
    )
    assert concluded.status_code == 200, concluded.text

    # Concluded: nothing more is added or corrected.
    assert_problem(await add(client, who["worker"], enquiry_id), 409, "invalid_transition")
    # The conclusion wrote its result on it: a new version.
    etag = (await client.get(f"/v1/allegations/{found['id']}", headers=who["worker"])).headers["etag"]
    assert etag == '"2"'
    again = await correct(
        client, who["worker"], found["id"], {"type_of_risk": "physical", "reason": "x"}, etag
    )
    assert_problem(again, 409, "invalid_transition")


async def test_a_correction_keeps_the_history(client: httpx.AsyncClient, who: Who) -> None:
    case, _ = await open_case(client, who)
    allegation_id = case.allegation_ids[0]
    url = f"/v1/allegations/{allegation_id}"
    before = await client.get(url, headers=who["worker"])
    assert before.status_code == 200 and before.headers["etag"] == '"1"'
    assert before.json()["type_of_risk"] == "financial_or_material"
    body = {"type_of_risk": "neglect_and_acts_of_omission", "source_of_risk": "service_provider",
            "reason": "Not theft: the paid carer failed to shop for her."}  # fmt: skip

    assert_problem(
        await correct(client, who["worker"], allegation_id, body, None), 428, "precondition_required"
    )
    assert_problem(
        await correct(client, who["worker"], allegation_id, body, '"7"'), 412, "precondition_failed"
    )
    response = await correct(client, who["worker"], allegation_id, body, '"1"')
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    corrected = response.json()
    assert (corrected["type_of_risk"], corrected["source_of_risk"], corrected["location_of_risk"]) == (
        "neglect_and_acts_of_omission",
        "service_provider",
        "own_home",
    )
    [change] = corrected["corrections"]
    assert change["changes"] == {
        "type_of_risk": {"before": "financial_or_material", "after": "neglect_and_acts_of_omission"},
        "source_of_risk": {"before": "other_known_to_individual", "after": "service_provider"},
    }
    assert (change["reason"], change["changed_by"]) == (body["reason"], "asc-worker")
    # The stale ETag now fails; the history grows with the next correction.
    assert_problem(
        await correct(client, who["worker"], allegation_id, body, '"1"'), 412, "precondition_failed"
    )
    second = await correct(client, who["worker"], allegation_id, {"location_of_risk": "in_the_community",
                                                                  "reason": "It happened at the bank."}, '"2"')  # fmt: skip
    assert [c["changes"] for c in second.json()["corrections"]][1] == {
        "location_of_risk": {"before": "own_home", "after": "in_the_community"}
    }
    full = await fx.get_concern(client, who["worker"], case.id)
    assert full["allegations"][0]["location_of_risk"] == "in_the_community"
    assert len(full["allegations"][0]["corrections"]) == 2


async def test_a_correction_names_a_field_and_a_reason(client: httpx.AsyncClient, who: Who) -> None:
    case, _ = await open_case(client, who)
    allegation_id = case.allegation_ids[0]
    for body in (
        {"reason": "Nothing changed."},
        {"type_of_risk": "physical"},
        {"description": "x", "reason": "y"},
    ):
        response = await correct(client, who["worker"], allegation_id, body, '"1"')
        assert_problem(response, 422, "validation_failed")


async def test_only_while_an_enquiry_is_open(client: httpx.AsyncClient, who: Who) -> None:
    received = await fx.concern_in(client, who, "received")
    body = {"type_of_risk": "physical", "reason": "Found."}
    # No enquiry: nothing to correct as an enquiry found it.
    assert_problem(
        await correct(client, who["worker"], received.allegation_ids[0], body, '"1"'), 404, "not_found"
    )
    assert_problem(await add(client, who["worker"], str(uuid.uuid4())), 404, "not_found")


async def test_the_raiser_sees_the_allegations_as_raised_and_nothing_of_the_enquiry(
    client: httpx.AsyncClient, who: Who
) -> None:
    case = await fx.concern_in(client, who, "received")
    await fx.decide(
        client,
        who["manager"],
        case.id,
        fx.decision_body(feedback_limited_reason="A police investigation is under way."),
    )
    enquiry_id = (await fx.open_enquiry(client, who["worker"], case.id))["id"]
    found = (await add(client, who["worker"], enquiry_id)).json()
    await correct(
        client, who["worker"], case.allegation_ids[0], {"type_of_risk": "physical", "reason": "Found."}, '"1"'
    )

    raiser = await fx.get_concern(client, who["health"], case.id)
    assert raiser["status"] == "decided"  # feedback limited: the enquiry is not shown
    # As raised: the first not corrected to physical, and nothing of the one found (psychological).
    assert [a["type_of_risk"] for a in raiser["allegations"]] == [
        "financial_or_material",
        "neglect_and_acts_of_omission",
    ]
    assert "corrections" not in raiser["allegations"][0]
    # Nor can it read the allegations, nor the one found.
    for allegation_id in (case.allegation_ids[0], found["id"]):
        assert_problem(
            await client.get(f"/v1/allegations/{allegation_id}", headers=who["health"]), 404, "not_found"
        )
    feed = (await client.get("/v1/events", headers=who["health"])).json()["items"]
    assert not [e for e in feed if e["event_type"].startswith("allegation.")]
    hub_feed = (await client.get("/v1/events", params={"limit": 200}, headers=who["worker"])).json()["items"]
    assert {"allegation.added", "allegation.corrected"} <= {e["event_type"] for e in hub_feed}


async def test_a_partner_cannot_add_or_correct(client: httpx.AsyncClient, who: Who) -> None:
    case, enquiry_id = await open_case(client, who)
    # The police (partner_referrer) lack adult_concerns:write.
    assert_problem(await add(client, who["police"], enquiry_id), 403, "insufficient_scope")
    denied = await correct(client, who["police"], case.allegation_ids[0], {"type_of_risk": "physical",
                                                                          "reason": "x"}, '"1"')  # fmt: skip
    assert_problem(denied, 403, "insufficient_scope")
