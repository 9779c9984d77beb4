"""Safeguarding plans: what a plan must say, amending it, the agencies that own actions (who see the plan
in part and update their own actions only), reviews that continue, amend or close it, and the list of
plans whose review is overdue."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.adults import (
    CLOSE,
    action,
    assert_only_of_the_person_and_their_concern,
    concern_in,
    get_concern,
    make_plan,
    patch_concern,
    plan_body,
    plan_etag,
    review_body,
    review_plan,
)
from tests.fixtures.callers import Who
from tests.fixtures.database import run_sql
from tests.fixtures.http import assert_problem, item_ids, locs, ok, patch_current
from tests.fixtures.values import LONG_AGO_DATE, Body, Headers, days_from_today, sql_id


async def _plan(client: httpx.AsyncClient, headers: Headers, plan_id: str) -> Body:
    return ok(await client.get(f"/v1/safeguarding-plans/{plan_id}", headers=headers))


async def _patch(client: httpx.AsyncClient, headers: Headers, plan_id: str, body: Body) -> httpx.Response:
    return await patch_current(client, headers, f"/v1/safeguarding-plans/{plan_id}", body)


async def _update_action(
    client: httpx.AsyncClient, headers: Headers, plan_id: str, item: Body, **fields: Any
) -> httpx.Response:
    return await client.patch(
        f"/v1/safeguarding-plans/{plan_id}/actions/{item['id']}",
        json={"status": "in_progress", **fields},
        headers={**headers, "If-Match": item["etag"]},
    )


def _by_agency(plan: Body) -> dict[str, Body]:
    return {a["agency"]: a for a in plan["actions"]}


async def _ids(client: httpx.AsyncClient, headers: Headers, **params: Any) -> list[str]:
    return await item_ids(client, headers, "/v1/safeguarding-plans", **params)


# ---------------------------------------------------------------------------------------------------
# 1. Making a plan


async def test_a_plan_is_made_with_actions_for_agencies(client: httpx.AsyncClient, who: Who) -> None:
    case = await concern_in(client, who, "enquiry_concluded")
    body = plan_body(case.person_id, concern_id=case.id)
    response = await client.post("/v1/safeguarding-plans", json=body, headers=who["worker"])
    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["location"] == f"/v1/safeguarding-plans/{plan['id']}"
    assert (plan["view"], plan["status"], plan["concern_id"]) == ("full", "active", case.id)
    assert plan["adult"]["person_id"] == case.person_id
    assert (plan["review_due_on"], plan["review_overdue"]) == (body["review_due_on"], False)
    assert [(a["agency"], a["status"]) for a in plan["actions"]] == [
        ("police", "not_started"),
        ("housing", "not_started"),
    ]
    assert all(a["etag"] for a in plan["actions"])
    assert (plan["reviews"], plan["closure"], plan["created_by"]) == ([], None, "asc-worker")
    assert await _plan(client, who["worker"], plan["id"]) == plan


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param(
            {"review_due_on": days_from_today(-1)}, ["body", "review_due_on"], id="review in the past"
        ),
        pytest.param({"actions": []}, ["body", "actions"], id="no actions"),
        pytest.param(
            {"actions": [action("social_services")]},
            ["body", "actions", 0, "agency"],
            id="unknown action owner",
        ),
        pytest.param(
            {"actions": [{"agency": "police", "description": "Investigate."}]},
            ["body", "actions", 0, "due_date"],
            id="action without a due date",
        ),
        pytest.param({"contingency": None}, ["body", "contingency"], id="no contingency"),
        pytest.param({"adult_wishes": ""}, ["body", "adult_wishes"], id="no wishes"),
        pytest.param({"lead": {"name": "A. Khan"}}, ["body", "lead", "agency"], id="lead without agency"),
        pytest.param({"risk_level": "high"}, ["body", "risk_level"], id="unknown field"),
    ],
)
async def test_an_invalid_plan_is_refused(
    client: httpx.AsyncClient, who: Who, person_id: str, fields: Body, loc: list[Any]
) -> None:
    response = await client.post(
        "/v1/safeguarding-plans", json=plan_body(person_id, **fields), headers=who["worker"]
    )
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    assert await _ids(client, who["worker"]) == []


async def test_a_plan_is_for_a_known_person_and_their_own_open_concern(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    someone_elses = await concern_in(client, who, "enquiry_concluded")
    await assert_only_of_the_person_and_their_concern(
        client, who["worker"], "/v1/safeguarding-plans", plan_body, person_id, someone_elses.id
    )

    closed = await concern_in(client, who, "closed")
    response = await client.post(
        "/v1/safeguarding-plans",
        json=plan_body(closed.person_id, concern_id=closed.id),
        headers=who["worker"],
    )
    assert_problem(response, 409, "invalid_transition")
    assert await _ids(client, who["worker"]) == []

    partner = await client.post("/v1/safeguarding-plans", json=plan_body(person_id), headers=who["police"])
    assert_problem(partner, 403, "insufficient_scope")


# ---------------------------------------------------------------------------------------------------
# 2. Amending a plan


async def test_patch_needs_the_current_etag_and_can_add_actions(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    url = f"/v1/safeguarding-plans/{plan['id']}"
    change = {
        "contingency": "If her son returns, her daughter calls 999.",
        "add_actions": [action("health", description="GP medication review.")],
    }
    assert_problem(await client.patch(url, json=change, headers=who["worker"]), 428, "precondition_required")
    etag = await plan_etag(client, who["worker"], plan["id"])
    updated = await client.patch(url, json=change, headers={**who["worker"], "If-Match": etag})
    assert updated.status_code == 200, updated.text
    amended = updated.json()
    assert amended["contingency"] == change["contingency"]
    assert [(a["agency"], a["description"]) for a in amended["actions"]] == [
        ("police", "An action for police."),
        ("housing", "An action for housing."),
        ("health", "GP medication review."),
    ]
    # The existing actions are not rewritten.
    assert amended["actions"][:2] == plan["actions"]
    assert updated.headers["etag"] != etag

    stale = await client.patch(
        url, json={"adult_wishes": "Changed."}, headers={**who["worker"], "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert (await _plan(client, who["worker"], plan["id"]))["adult_wishes"] == plan["adult_wishes"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        *[
            pytest.param({field: None}, ["body"], id=f"clearing {field}")
            for field in ("lead", "adult_wishes", "contingency", "review_due_on")
        ],
        pytest.param({}, ["body"], id="nothing to change"),
        pytest.param({"actions": []}, ["body", "actions"], id="rewriting the actions"),
        pytest.param({"status": "closed"}, ["body", "status"], id="closing outside a review"),
        pytest.param(
            {"review_due_on": days_from_today(-1)}, ["body", "review_due_on"], id="next review in the past"
        ),
        pytest.param(
            {"add_actions": [action("nobody")]}, ["body", "add_actions", 0, "agency"], id="bad new action"
        ),
    ],
)
async def test_an_invalid_amendment_is_refused(
    client: httpx.AsyncClient, who: Who, person_id: str, body: Body, loc: list[Any]
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    response = await _patch(client, who["worker"], plan["id"], body)
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    assert await _plan(client, who["worker"], plan["id"]) == plan


async def test_an_optional_field_can_be_cleared(client: httpx.AsyncClient, who: Who, person_id: str) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    response = await _patch(client, who["worker"], plan["id"], {"protective_people": None})
    assert response.status_code == 200, response.text
    assert response.json()["protective_people"] is None


# ---------------------------------------------------------------------------------------------------
# 3. Agencies that own actions


async def test_the_agency_that_owns_an_action_updates_it(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    housing = _by_agency(plan)["housing"]

    missing = await client.patch(
        f"/v1/safeguarding-plans/{plan['id']}/actions/{housing['id']}",
        json={"status": "completed"},
        headers=who["housing"],
    )
    assert_problem(missing, 428, "precondition_required")

    response = await _update_action(
        client, who["housing"], plan["id"], housing, status="completed", note="Key safe fitted."
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["status"], updated["status_note"], updated["updated_by"]) == (
        "completed",
        "Key safe fitted.",
        "housing-system",
    )
    assert updated["etag"] == response.headers["etag"] != housing["etag"]

    stale = await _update_action(client, who["housing"], plan["id"], housing, status="no_longer_needed")
    assert_problem(stale, 412, "precondition_failed")
    seen = await _plan(client, who["worker"], plan["id"])
    assert _by_agency(seen)["housing"] == updated
    # Another agency's action in the same plan is untouched by all this, and its etag still good.
    assert _by_agency(seen)["police"] == _by_agency(plan)["police"]

    bad_status = await _update_action(client, who["housing"], plan["id"], updated, status="done")
    assert ["body", "status"] in locs(assert_problem(bad_status, 422, "validation_failed"))


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param("police", id="an agency that owns another action in the plan"),
        pytest.param("education", id="an agency that owns nothing in the plan"),
    ],
)
async def test_another_agency_cannot_update_an_action_it_does_not_own(
    client: httpx.AsyncClient, who: Who, person_id: str, caller: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    housing = _by_agency(plan)["housing"]
    response = await _update_action(client, who[caller], plan["id"], housing, status="completed")
    assert_problem(response, 404, "not_found")
    unknown = await client.patch(
        f"/v1/safeguarding-plans/{plan['id']}/actions/{uuid.uuid4()}",
        json={"status": "completed"},
        headers={**who[caller], "If-Match": housing["etag"]},
    )
    assert_problem(unknown, 404, "not_found")
    assert _by_agency(await _plan(client, who["worker"], plan["id"]))["housing"] == housing


async def test_adult_social_care_updates_any_action(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    police = _by_agency(plan)["police"]
    response = await _update_action(client, who["worker"], plan["id"], police, status="no_longer_needed")
    assert response.status_code == 200, response.text
    assert response.json()["updated_by"] == "asc-worker"
    other_plan = await make_plan(client, who["worker"], plan_body(person_id))
    wrong_plan = await _update_action(client, who["worker"], other_plan["id"], _by_agency(plan)["housing"])
    assert_problem(wrong_plan, 404, "not_found")


async def test_the_action_owner_sees_the_plan_in_part_with_its_own_actions_only(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    body = plan_body(person_id, action("police"), action("housing"), action("police", description="Second."))
    plan = await make_plan(client, who["worker"], body)
    seen = await _plan(client, who["police"], plan["id"])
    assert seen["view"] == "action_owner"
    assert [(a["agency"], a["description"]) for a in seen["actions"]] == [
        ("police", "An action for police."),
        ("police", "Second."),
    ]
    assert (seen["lead"], seen["contingency"], seen["review_due_on"]) == (
        plan["lead"],
        plan["contingency"],
        plan["review_due_on"],
    )
    # The adult as the plan names them, without the hub's own person record id.
    assert seen["adult"] == {**plan["adult"], "person_id": None}
    for hidden in ("adult_wishes", "protective_people", "reviews", "closure", "concern_id", "created_by"):
        assert hidden not in seen, hidden
    housing = await _plan(client, who["housing"], plan["id"])
    assert [a["agency"] for a in housing["actions"]] == ["housing"]


async def test_an_agency_sees_and_lists_only_the_plans_in_which_it_owns_an_action(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    with_police = await make_plan(client, who["worker"], plan_body(person_id, action("police")))
    housing_only = await make_plan(client, who["worker"], plan_body(person_id, action("housing")))

    assert_problem(
        await client.get(f"/v1/safeguarding-plans/{housing_only['id']}", headers=who["police"]),
        404,
        "not_found",
    )
    for plan in (with_police, housing_only):
        assert_problem(
            await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=who["education"]),
            404,
            "not_found",
        )
    assert await _ids(client, who["police"]) == [with_police["id"]]
    assert await _ids(client, who["housing"]) == [housing_only["id"]]
    assert await _ids(client, who["education"]) == []
    assert await _ids(client, who["worker"]) == [housing_only["id"], with_police["id"]]
    listed = (await client.get("/v1/safeguarding-plans", headers=who["police"])).json()["items"]
    assert [item["view"] for item in listed] == ["action_owner"]
    assert [a["agency"] for a in listed[0]["actions"]] == ["police"]

    # Owning an action gives no right to change the plan or review it.
    patched = await _patch(client, who["police"], with_police["id"], {"contingency": "Changed."})
    assert_problem(patched, 403, "insufficient_scope")
    reviewed = await review_plan(client, who["police"], with_police["id"], review_body())
    assert_problem(reviewed, 403, "insufficient_scope")


# ---------------------------------------------------------------------------------------------------
# 4. Reviews


async def test_a_review_that_continues_sets_the_next_review_date(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    # Both held today: the plan lists them in the order they were recorded.
    for decision, next_due in (("continue", days_from_today(20)), ("amend", days_from_today(40))):
        response = await review_plan(
            client, who["worker"], plan["id"], review_body(decision, next_review_due_on=next_due)
        )
        assert response.status_code == 201, response.text
        review = response.json()
        assert (review["decision"], review["next_review_due_on"], review["plan_id"]) == (
            decision,
            next_due,
            plan["id"],
        )
        seen = await _plan(client, who["worker"], plan["id"])
        assert (seen["status"], seen["review_due_on"]) == ("active", next_due)
    assert [r["decision"] for r in seen["reviews"]] == ["continue", "amend"]


def _closure(**fields: Any) -> Body:
    closure = review_body("close")["closure"]
    closure.update(fields)
    return {"closure": closure}


INVALID_REVIEWS = [
    *[
        pytest.param(decision, {"next_review_due_on": None}, ["body"], id=f"{decision} without a next review")
        for decision in ("continue", "amend")
    ],
    *[
        pytest.param(
            decision,
            {"held_on": days_from_today(-2), "next_review_due_on": days_from_today(offset)},
            ["body"],
            id=f"{decision} with the next review {label} this one",
        )
        for decision in ("continue", "amend")
        for offset, label in ((-2, "on the day of"), (-3, "before"))
    ],
    pytest.param("continue", {"held_on": days_from_today(1)}, ["body"], id="held in the future"),
    pytest.param("close", {"held_on": days_from_today(1)}, ["body"], id="closing, held in the future"),
    pytest.param("continue", _closure(), ["body"], id="continue with a closure"),
    pytest.param("close", {"closure": None}, ["body"], id="close without a closure"),
    pytest.param(
        "close", {"next_review_due_on": days_from_today(30)}, ["body"], id="close with a next review"
    ),
    pytest.param("close", _closure(feedback_given=False), ["body", "closure"], id="close before feedback"),
    pytest.param(
        "close", _closure(sar_considered=False), ["body", "closure"], id="close without considering a SAR"
    ),
    pytest.param(
        "close", _closure(adult_view=""), ["body", "closure", "adult_view"], id="close without her view"
    ),
    pytest.param("close", _closure(reason=None), ["body", "closure", "reason"], id="close without a reason"),
    pytest.param(
        "continue", {"held_on": days_from_today(-1)}, ["body", "held_on"], id="held before the plan was made"
    ),
    pytest.param("end", {}, ["body", "decision"], id="unknown decision"),
    pytest.param("continue", {"findings": ""}, ["body", "findings"], id="no findings"),
]


@pytest.mark.parametrize(("decision", "fields", "loc"), INVALID_REVIEWS)
async def test_an_invalid_review_is_refused(
    client: httpx.AsyncClient,
    who: Who,
    person_id: str,
    decision: str,
    fields: Body,
    loc: list[Any],
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    response = await review_plan(client, who["worker"], plan["id"], review_body(decision, **fields))
    assert loc in locs(assert_problem(response, 422, "validation_failed"))
    assert await _plan(client, who["worker"], plan["id"]) == plan


async def test_a_closed_plan_takes_no_more_reviews_amendments_or_action_updates(
    client: httpx.AsyncClient, who: Who, person_id: str
) -> None:
    plan = await make_plan(client, who["worker"], plan_body(person_id))
    closing = review_body("close")
    response = await review_plan(client, who["worker"], plan["id"], closing)
    assert response.status_code == 201, response.text
    assert (response.json()["decision"], response.json()["next_review_due_on"]) == ("close", None)
    closed = await _plan(client, who["worker"], plan["id"])
    assert closed["status"] == "closed"
    closure = closed["closure"]
    assert {k: closure[k] for k in closing["closure"]} == closing["closure"]
    assert (closure["closed_by"], closed["review_overdue"]) == ("asc-worker", False)

    assert_problem(
        await review_plan(client, who["worker"], plan["id"], review_body()), 409, "invalid_transition"
    )
    assert_problem(await review_plan(client, who["worker"], plan["id"], closing), 409, "invalid_transition")
    assert_problem(
        await _patch(client, who["worker"], plan["id"], {"contingency": "Too late."}),
        409,
        "invalid_transition",
    )
    actions = _by_agency(closed)
    assert_problem(
        await _update_action(client, who["housing"], plan["id"], actions["housing"]),
        409,
        "invalid_transition",
    )
    assert_problem(
        await _update_action(client, who["worker"], plan["id"], actions["police"]), 409, "invalid_transition"
    )
    assert await _plan(client, who["worker"], plan["id"]) == closed
    # The owner still sees the plan it acted in, now closed.
    assert (await _plan(client, who["housing"], plan["id"]))["status"] == "closed"


async def test_review_overdue_lists_active_plans_past_their_review_date(
    client: httpx.AsyncClient, who: Who, person_id: str, app: FastAPI
) -> None:
    late = await make_plan(client, who["worker"], plan_body(person_id))
    on_time = await make_plan(client, who["worker"], plan_body(person_id))
    closed = await make_plan(client, who["worker"], plan_body(person_id))
    response = await review_plan(client, who["worker"], closed["id"], review_body("close"))
    assert response.status_code == 201, response.text
    assert await _ids(client, who["worker"], review_overdue="true") == []

    await run_sql(
        app,
        f"UPDATE safeguarding_plans SET review_due_on = '{LONG_AGO_DATE}' WHERE id IN "
        f"('{sql_id(late['id'])}', '{sql_id(closed['id'])}')",
    )
    assert await _ids(client, who["worker"], review_overdue="true") == [late["id"]]
    assert set(await _ids(client, who["worker"], review_overdue="false")) == {on_time["id"], closed["id"]}
    assert (await _plan(client, who["worker"], late["id"]))["review_overdue"] is True
    assert (await _plan(client, who["worker"], closed["id"]))["review_overdue"] is False
    assert (await _plan(client, who["police"], late["id"]))["review_overdue"] is True
    assert await _ids(client, who["police"], review_overdue="true") == [late["id"]]

    # A review puts it back on time.
    reviewed = await review_plan(client, who["worker"], late["id"], review_body())
    assert reviewed.status_code == 201, reviewed.text
    assert await _ids(client, who["worker"], review_overdue="true") == []


async def test_the_concern_stays_open_while_its_plan_is_active(client: httpx.AsyncClient, who: Who) -> None:
    """Closing the concern would hide a live plan from the open caseload: the plan is closed first, at
    a review, and then the concern."""
    case = await concern_in(client, who, "enquiry_concluded")
    plan = await make_plan(client, who["worker"], plan_body(case.person_id, concern_id=case.id))
    refused = await patch_concern(client, who["worker"], case.id, CLOSE)
    problem = assert_problem(refused, 409, "invalid_transition")
    assert "plan" in problem["detail"]
    assert (await get_concern(client, who["worker"], case.id))["status"] == "enquiry_concluded"

    reviewed = await review_plan(client, who["worker"], plan["id"], review_body("close"))
    assert reviewed.status_code == 201, reviewed.text
    closed = await patch_concern(client, who["worker"], case.id, CLOSE)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
