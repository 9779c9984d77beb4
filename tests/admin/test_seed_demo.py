"""`mash seed-demo`: the demo clients, and demo casework after a decision (an assessment, and a strategy
discussion that starts a section 47 enquiry per child), made once however often it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.core.config import get_settings
from app.main import create_app
from tests.fixtures.cli import mash, migrated_database
from tests.fixtures.http import serving


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the demo credentials go to ./var
    return migrated_database(tmp_path, monkeypatch)


async def _demo_events() -> list[dict[str, Any]]:
    """The demo referral's timeline, and its section 47 enquiries, as the hub reads them."""
    get_settings.cache_clear()
    app = create_app(get_settings())
    token = app.state.tokens.issue(sub="reader", agency="childrens_social_care", role="mash_practitioner")
    headers = {"Authorization": f"Bearer {token.access_token}"}
    async with serving(app) as http:
        found = (await http.get("/v1/referrals?external_reference=DEMO-PATHWAY-1", headers=headers)).json()
        (referral,) = found["items"]
        url = f"/v1/referrals/{referral['id']}/timeline?limit=200"
        events: list[dict[str, Any]] = (await http.get(url, headers=headers)).json()["items"]
        for event in events:
            if event["event_type"] == "section_47.started":
                enquiry_url = f"/v1/section-47-enquiries/{event['data']['section_47_enquiry_id']}"
                event["enquiry"] = (await http.get(enquiry_url, headers=headers)).json()
    get_settings.cache_clear()
    return events


def test_the_demo_has_an_assessment_and_a_section_47_enquiry_per_child_once(database: Path) -> None:
    first = mash("seed-demo")
    assert first.exit_code == 0, first.output
    assert "Demo casework: referral" in first.output
    assert (database.parent / "var" / "demo-clients.json").exists()
    again = mash("seed-demo")
    assert again.exit_code == 0, again.output
    assert "Demo casework already there" in again.output

    events = asyncio.run(_demo_events())
    assert [e["event_type"] for e in events][-4:] == [
        "assessment.started",
        "strategy_discussion.held",
        "section_47.started",
        "section_47.started",
    ]
    enquiries = [e["enquiry"] for e in events if "enquiry" in e]
    assert [(e["status"], e["outcome"]) for e in enquiries] == [("open", None), ("open", None)]
