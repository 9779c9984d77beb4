"""Partner views never carry hub staff identities (api.md, "Agencies, roles, scopes"): not in the
requests an agency is asked to answer, its inbox, an enquiry it was caused, a plan whose action it
owns, the timeline or the feed. The outside probe found the hub practitioner's ``sub`` in the asked
agency's contribution and inbox (``requested_by``).

Each test gives the hub staff distinctive subjects, walks the record to where the partner reads it,
and checks that no hub subject appears anywhere in what the partner receives, while the hub still
sees who acted.
"""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.adults import (
    action,
    advocacy_body,
    conclude,
    conclusion_body,
    decide,
    get_concern,
    make_plan,
    raise_concern,
    record_advocacy,
)
from tests.fixtures.callers import ADULTS_SIDE, TokenFactory, Who, cast
from tests.fixtures.people import create_person
from tests.fixtures.referrals import ask, create_referral, rate, referral_body, unique_child

HUB_SUBS = ("hub-ann-practitioner", "hub-bob-manager", "asc-cat-worker", "asc-dan-manager")


@pytest.fixture
def who(auth: TokenFactory) -> Who:
    """The adults' side's callers, the hub's staff with the subjects of ``HUB_SUBS``."""
    staff = ("practitioner", "mash_manager", "worker", "manager")
    return cast(
        auth,
        ADULTS_SIDE,
        **{name: ADULTS_SIDE[name]._replace(sub=sub) for name, sub in zip(staff, HUB_SUBS, strict=True)},
    )


def assert_no_hub_subject(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    for sub in HUB_SUBS:
        assert sub not in response.text, f"{response.request.url.path} shows {sub}"


async def test_the_asked_agency_is_not_told_who_asked(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    [request] = await ask(client, who["practitioner"], referral["id"], "health")

    for path in (
        f"/v1/contributions/{request['id']}",
        "/v1/contributions",
        f"/v1/referrals/{referral['id']}",
        f"/v1/referrals/{referral['id']}/contributions",
        "/v1/events",
    ):
        assert_no_hub_subject(await client.get(path, headers=who["health"]))
    # The referrer's timeline and feed name the agencies that acted, not their staff.
    for path in (f"/v1/referrals/{referral['id']}/timeline", f"/v1/referrals/{referral['id']}", "/v1/events"):
        assert_no_hub_subject(await client.get(path, headers=who["police"]))

    hub = await client.get(f"/v1/contributions/{request['id']}", headers=who["practitioner"])
    assert hub.json()["requested_by"] == HUB_SUBS[0]
    partner = await client.get(f"/v1/contributions/{request['id']}", headers=who["health"])
    assert partner.json()["requested_by"] is None


async def test_an_agency_caused_an_enquiry_is_not_told_which_hub_staff_opened_it(
    client: httpx.AsyncClient, who: Who
) -> None:
    concern = await raise_concern(client, who["health"])
    await decide(client, who["manager"], concern["id"])
    opened = await client.post(
        f"/v1/adult-concerns/{concern['id']}/enquiries",
        json={
            "lead_agency": "adult_social_care",
            "objectives": ["establish_facts"],
            "caused_to_agency": "police",
        },
        headers=who["worker"],
    )
    assert opened.status_code == 201, opened.text
    enquiry_id = opened.json()["id"]
    assessed = await record_advocacy(
        client, who["worker"], concern["id"], advocacy_body(difficulty=False, offer="not_required")
    )
    assert assessed.status_code == 201, assessed.text
    allegations = [a["id"] for a in (await get_concern(client, who["worker"], concern["id"]))["allegations"]]
    concluded = await conclude(client, who["manager"], enquiry_id, conclusion_body(allegations))
    assert concluded.status_code == 200, concluded.text

    police = await client.get(f"/v1/enquiries/{enquiry_id}", headers=who["police"])
    assert_no_hub_subject(police)
    assert (police.json()["opened_by"], police.json()["concluded_by"]) == (None, None)
    hub = (await client.get(f"/v1/enquiries/{enquiry_id}", headers=who["worker"])).json()
    assert (hub["opened_by"], hub["concluded_by"]) == (HUB_SUBS[2], HUB_SUBS[3])
    assert_no_hub_subject(await client.get(f"/v1/adult-concerns/{concern['id']}", headers=who["health"]))
    assert_no_hub_subject(await client.get("/v1/events", headers=who["health"]))


async def test_an_action_owner_is_not_told_which_hub_staff_updated_its_action(
    client: httpx.AsyncClient, who: Who
) -> None:
    person = await create_person(client, who["worker"])
    plan = await make_plan(
        client,
        who["worker"],
        {
            "person_id": person["id"],
            "lead": {"name": "A. Khan", "agency": "adult_social_care"},
            "adult_wishes": "To stay at home.",
            "actions": [action("housing")],
            "contingency": "Call the duty team.",
            "review_due_on": "2099-01-01",
        },
    )
    [housing_action] = plan["actions"]
    updated = await client.patch(
        f"/v1/safeguarding-plans/{plan['id']}/actions/{housing_action['id']}",
        json={"status": "in_progress"},
        headers={**who["worker"], "If-Match": housing_action["etag"]},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["updated_by"] == HUB_SUBS[2]

    owner = await client.get(f"/v1/safeguarding-plans/{plan['id']}", headers=who["housing"])
    assert_no_hub_subject(owner)
    assert owner.json()["actions"][0]["updated_by"] is None
    assert_no_hub_subject(await client.get("/v1/safeguarding-plans", headers=who["housing"]))
    assert_no_hub_subject(await client.get("/v1/events", headers=who["housing"]))
