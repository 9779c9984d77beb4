"""bench/seed.py after the decision: the assessments, strategy discussions, section 47 enquiries and
conferences it writes are those the services would have (app/children/assessments, app/children/protection):
about accepted children only, with the deadlines the working clock gives and the census's rules kept."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from app.children.assessments.schemas import AssessmentCompletion
from app.children.assessments.service import ASSESSMENT_WORKING_DAYS, closure_reason
from app.children.protection.service import ICPC_WORKING_DAYS
from app.core.clock import WorkingClock, local_date
from bench import seed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SEEDED = seed.build(4_000, now=NOW, days=400)
CLOCK = WorkingClock()


def _table(name: str) -> list[dict[str, Any]]:
    return [dict(zip(seed.TABLES[name], row, strict=True)) for row in SEEDED.rows[name]]


REFERRALS = {r["id"]: r for r in _table("referrals")}
ENTRIES = {(e["decision_id"], e["referral_child_id"]): e for e in _table("threshold_decision_children")}
EVENTS = Counter(
    (row["event_type"], json.loads(row["data"]).get(key))
    for row in _table("case_events")
    for key in ("assessment_id", "strategy_discussion_id", "section_47_enquiry_id")
    if key in json.loads(row["data"])
)


def _approved_entry(referral_id: Any, child_id: Any) -> dict[str, Any]:
    decision_id = REFERRALS[referral_id]["decision_id"]
    assert decision_id is not None, "work after a decision that was never approved"
    return ENTRIES[(decision_id, child_id)]


def test_every_child_of_a_decided_referral_has_its_entry_and_siblings_are_sometimes_decided_apart() -> None:
    children = _table("referral_children")
    decided = [c for c in children if REFERRALS[c["referral_id"]]["decision_id"] is not None]
    assert decided
    assert all((REFERRALS[c["referral_id"]]["decision_id"], c["id"]) in ENTRIES for c in decided)
    apart = [e for e in ENTRIES.values() if e["own_entry"]]
    assert apart
    assert all(e["outcome"] == "early_help" and not e["accepted_as_referral"] for e in apart)


def test_assessments_are_of_accepted_children_due_45_working_days_after_the_referral() -> None:
    assessments = _table("assessments")
    statuses = Counter(a["status"] for a in assessments)
    assert statuses["completed"] > 5 * statuses["open"] > 0
    late = Counter(a["completed_late"] for a in assessments if a["status"] == "completed")
    assert late[False] > 3 * late[True] > 0
    for a in assessments:
        entry = _approved_entry(a["referral_id"], a["child_id"])
        assert entry["accepted_as_referral"]
        assert entry["outcome"] == "child_and_family_assessment"
        received_on = local_date(REFERRALS[a["referral_id"]]["received_at"])
        assert a["referral_received_on"] == received_on
        assert a["due_on"] == CLOCK.working_days_after(received_on, ASSESSMENT_WORKING_DAYS)
        assert received_on <= a["started_on"] <= local_date(a["created_at"]) <= NOW.date()
        assert EVENTS[("assessment.started", str(a["id"]))] == 1
        if a["status"] == "open":
            assert (a["completed_on"], json.loads(a["factors"]), a["outcome"], a["version"]) == (
                None,
                [],
                None,
                1,
            )
            continue
        completion = AssessmentCompletion(
            completed_on=a["completed_on"], factors=json.loads(a["factors"]), outcome=a["outcome"]
        )
        assert a["closure_reason"] == closure_reason(completion) or a["closure_reason"] == "RC7"
        assert a["working_days_taken"] == CLOCK.working_days_between(received_on, a["completed_on"])
        assert a["completed_late"] is (a["completed_on"] > a["due_on"])
        assert a["started_on"] <= a["completed_on"] <= local_date(a["completed_at"]) <= NOW.date()
        assert EVENTS[("assessment.completed", str(a["id"]))] == 1
        assert a["version"] == 2
    closures = Counter(a["closure_reason"] for a in assessments)
    assert {"RC7", "RC8", "RC9", None} <= set(closures)
    assert any(json.loads(a["factors"]) == ["21"] for a in assessments)


def test_strategy_discussions_start_enquiries_with_their_conference_due_15_working_days_later() -> None:
    discussions = {d["id"]: d for d in _table("strategy_discussions")}
    enquiries = _table("section_47_enquiries")
    assert Counter(d["decision"] for d in discussions.values()).keys() == {
        "section_47_enquiry",
        "no_section_47",
    }
    for d in discussions.values():
        assert d["held_on"] == local_date(d["held_at"])
        assert {a["agency"] for a in json.loads(d["attendees"])} >= {
            "police",
            "health",
            "childrens_social_care",
        }
        for child_id in json.loads(d["child_ids"]):
            assert _approved_entry(d["referral_id"], uuid.UUID(child_id))["accepted_as_referral"]
        assert EVENTS[("strategy_discussion.held", str(d["id"]))] == 1
    assert Counter(e["status"] for e in enquiries).keys() == {
        "open",
        "concluded",
        "awaiting_conference",
        "conference_held",
    }
    for e in enquiries:
        d = discussions[e["strategy_discussion_id"]]
        assert d["decision"] == "section_47_enquiry"
        assert str(e["child_id"]) in json.loads(d["child_ids"])
        assert e["started_on"] == d["held_on"]
        assert e["icpc_due_on"] == CLOCK.working_days_after(d["held_on"], ICPC_WORKING_DAYS)
        assert EVENTS[("section_47.started", str(e["id"]))] == 1
        if e["outcome"] != "initial_child_protection_conference":
            assert e["category_of_abuse"] is None
        if e["status"] != "conference_held":
            assert e["conference_held_on"] is None
            continue
        assert e["conference_late"] is (e["conference_held_on"] > e["icpc_due_on"])
        assert e["conference_working_days"] == CLOCK.working_days_between(
            e["started_on"], e["conference_held_on"]
        )
        assert (e["conference_category_of_abuse"] is not None) is (
            e["conference_outcome"] == "child_protection_plan"
        )
        assert e["concluded_on"] <= e["conference_held_on"] <= NOW.date()
        assert EVENTS[("conference.held", str(e["id"]))] == 1
    held = [e for e in enquiries if e["status"] == "conference_held"]
    assert 0 < sum(e["conference_late"] for e in held) < len(held) / 2
    assert any(e["conference_outcome"] == "child_protection_plan" for e in held)
