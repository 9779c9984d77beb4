"""The feed on the adults' statutory records (issue 15): what an enquiry found about the allegations, and
safeguarding adults reviews, are adult social care's alone. The agency that raised the concern is told
neither, whatever its feedback."""

from __future__ import annotations

import httpx

from tests.fixtures.adults import allegation, decide, enquiry_body, get_concern, raise_concern
from tests.fixtures.callers import Who
from tests.fixtures.feed import read_all


async def test_found_allegations_and_reviews_are_the_hubs_alone(client: httpx.AsyncClient, who: Who) -> None:
    concern = await raise_concern(client, who["gp"])
    await decide(client, who["asc_manager"], concern["id"])  # feedback not limited
    enquiry = await client.post(
        f"/v1/adult-concerns/{concern['id']}/enquiries", json=enquiry_body(), headers=who["worker"]
    )
    enquiry_id = enquiry.json()["id"]
    added = await client.post(
        f"/v1/enquiries/{enquiry_id}/allegations",
        json=allegation(type_of_risk="physical"),
        headers=who["worker"],
    )
    assert added.status_code == 201, added.text
    person_id = (await get_concern(client, who["worker"], concern["id"]))["adult"]["person_id"]
    review = await client.post(
        "/v1/safeguarding-adults-reviews",
        json={"person_id": person_id, "concern_ids": [concern["id"]], "referred_on": "2026-11-10",
              "adult_died": False, "criteria": "discretionary", "decision_on": "2026-11-20",
              "rationale": "Learning for the care home.", "commissioned": True, "commissioned_on": "2026-11-21"},
        headers=who["asc_manager"],
    )  # fmt: skip
    assert review.status_code == 201, review.text

    hub, _ = await read_all(client, who["worker"])
    reviews = [e for e in hub if e["record_type"] == "safeguarding_adults_review"]
    assert [(e["event_type"], e["record_id"]) for e in reviews] == [
        ("safeguarding_adults_review.referred", review.json()["id"]),
        ("safeguarding_adults_review.decided", review.json()["id"]),
    ]
    assert "allegation.added" in {e["event_type"] for e in hub}
    only_reviews, _ = await read_all(client, who["worker"], record_type="safeguarding_adults_review")
    assert [e["id"] for e in only_reviews] == [e["id"] for e in reviews]

    raiser, _ = await read_all(client, who["gp"])
    seen = {e["event_type"] for e in raiser}
    assert "enquiry.opened" in seen  # feedback is not limited: the raiser is told of the enquiry ...
    assert not {
        t for t in seen if t.startswith(("allegation.", "safeguarding_adults_review."))
    }  # ... not this
    for agency in ("police", "practitioner"):
        events, _ = await read_all(client, who[agency])
        assert not [e for e in events if e["record_type"] == "safeguarding_adults_review"], agency
