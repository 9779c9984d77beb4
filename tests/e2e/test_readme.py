"""The README's walkthrough, run as written against a real server started with `mash serve`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest

from app.core import clock
from tests.conftest import ROOT, Databases
from tests.fixtures.servers import served_server

DEFAULT_ORIGIN = "http://127.0.0.1:8000"


def _walkthrough() -> str:
    """Every sh block of the README's walkthrough section, in order, as one script."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Walkthrough")
    section = readme[start : readme.index("\n## ", start + 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 5, "the walkthrough has lost its steps"
    return "\n".join(blocks)


@pytest.fixture
async def live_server(databases: Databases) -> AsyncIterator[tuple[str, dict[str, str]]]:
    url = await databases.clone()
    # As the service runs in production (the application role; through PgBouncer in `make test-pooled`),
    # and the walkthrough's `mash` commands with it.
    try:
        async with served_server(url) as served:
            yield served
    finally:
        await databases.drop(url)


async def test_the_readme_walkthrough_works_as_written(live_server: tuple[str, dict[str, str]]) -> None:
    origin, env = live_server
    script = _walkthrough().replace(DEFAULT_ORIGIN, origin)
    shell = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(shell.communicate(), 60)
    assert shell.returncode == 0, stderr.decode()
    # Each step prints one JSON document; split the stream back into them.
    decoder, text, outputs = json.JSONDecoder(), stdout.decode().strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        outputs.append(document)
        text = text[end:].strip()
    created, me, referral, found, document, downloaded, allocated, mine, rated, asked, *rest = outputs
    answered, approved, assessment, no_health, discussion, hidden, *rest = rest
    seen, contributions, timeline, feed, sar, *rest = rest
    record, disclosures, trail, verification, forbidden, revoked, after = rest
    assert created["agency"] == "police"
    assert created["client_secret"].startswith("mash_cs_")
    assert (me["agency"], me["role"]) == ("police", "partner_referrer")
    assert "referrals:create" in me["scopes"]
    assert (referral["view"], referral["status"]) == ("referrer", "received")
    assert referral["external_reference"] == "PPU-4471"
    assert found == {"found": [referral["id"]]}
    assert document == {
        "filename": "statement.pdf",
        "content_type": "application/pdf",
        "size_bytes": 77,
        "scan_status": "not_scanned",
    }
    assert downloaded == {"same_bytes": True}
    # The manager allocates it to Ann, and it is in Ann's queue with its incident number.
    assert allocated == {"worker": "ann.practitioner", "team": "MASH A", "allocated_by": "bob.manager"}
    assert mine == {
        "mine": [
            {
                "id": referral["id"],
                "external_reference": "PPU-4471",
                "status": "received",
                "children": ["Amelia"],
                "team": "MASH A",
            }
        ]
    }
    assert rated["status"] == "triaged"
    assert [r["agency"] for r in asked["requests"]] == ["health"]
    assert answered == {"status": "submitted", "response": "Two missed immunisation appointments this year."}
    assert approved == {"status": "approved", "reviewed_by": "bob.manager"}
    # After the decision: an assessment due in 45 working days, a strategy discussion that needs
    # health at the table, a section 47 enquiry with its conference due in 15; none of it the police's.
    today = clock.today().isoformat()
    assert (assessment["status"], assessment["started_on"]) == ("open", today)
    assert assessment["due_on"] > today
    assert no_health == {
        "status": 422,
        "code": "validation_failed",
        "errors": [
            "Police, health and children's social care must attend a strategy discussion; missing: health."
        ],
    }
    assert discussion["decision"] == "section_47_enquiry"
    (enquiry,) = discussion["section_47_enquiries"]
    assert enquiry["status"] == "open"
    assert today < enquiry["icpc_due_on"] < assessment["due_on"]
    assert hidden == {"status": 404, "code": "not_found"}
    assert seen == {
        "view": "referrer",
        "status": "decided",
        "rag_rating": "red",
        "outcome": "strategy_discussion",
    }
    assert contributions == {"items": [], "next_cursor": None}
    assert timeline["steps"] == [
        f"referral.received by {created['client_id']}",
        f"child.new_person by {created['client_id']}",
        "referral.allocated by bob.manager",
        "referral.rated by ann.practitioner",
        "contribution.requested by ann.practitioner",
        "contribution.submitted by health.system",
        "decision.proposed by ann.practitioner",
        "decision.approved by bob.manager",
        "referral.decided by bob.manager",
        "assessment.started by ann.practitioner",
        "strategy_discussion.held by ann.practitioner",
        "section_47.started by ann.practitioner",
    ]
    # The police feed: its referral's status changes, nothing about who was asked or what they said.
    assert feed["events"] == [
        "PPU-4471: referral.received -> received",
        "PPU-4471: referral.rated -> triaged",
        "PPU-4471: contribution.requested -> gathering_information",
        "PPU-4471: decision.proposed -> awaiting_approval",
        "PPU-4471: referral.decided -> decided",
    ]
    assert feed["next_cursor"]
    assert (sar["status"], sar["received_on"]) == ("open", clock.today().isoformat())
    assert sar["due_on"] > sar["received_on"]
    assert record == {
        "referrals": ["6"],
        "withheld": {"restricted_contribution": 0, "third_party": 0},
    }
    assert disclosures == [
        "export to data_subject (uk_gdpr_6_1_c_legal_obligation)",
        "read to police (uk_gdpr_6_1_e_public_task)",
        "contribution_request to health (uk_gdpr_6_1_a_consent)",
    ]
    # Her audit trail names every read and write of her record, by whom.
    assert "export person by ann.practitioner" in trail
    assert "create contribution by health.system" in trail
    assert f"read referral by {created['client_id']}" in trail
    assert verification["valid"] is True
    assert verification["checked"] == verification["head_seq"] > 0
    assert (forbidden["status"], forbidden["code"]) == (403, "insufficient_scope")
    assert revoked == {"active": False, "revocation_reason": "walkthrough finished"}
    assert (after["status"], after["code"]) == (401, "invalid_token")
