"""The status modules' tables, read as a reviewer would: every status can be reached, a final status
allows nothing, a refusal says why, and every status a referral, concern or plan can move to is one
the change feed announces (``app/governance/feed/rules.py``), so a partner polling the feed sees it."""

from __future__ import annotations

from enum import StrEnum
from types import ModuleType
from typing import Any

import pytest

from app.adults.codes import AdultConcernStatus, PlanStatus
from app.adults.concerns import enquiry_status
from app.adults.concerns import status as concern_status
from app.adults.plans import status as plan_status
from app.children.assessments import status as assessment_status
from app.children.codes import (
    FINAL_REFERRAL_STATUSES,
    AssessmentStatus,
    DecisionStatus,
    ReferralStatus,
    Section47Status,
)
from app.children.contributions import status as contribution_status
from app.children.decisions import status as decision_status
from app.children.protection import status as section_47_status
from app.children.referrals import status as referral_status
from app.core.errors import InvalidTransition
from app.governance.feed.rules import FEED, RecordType

MODULES = {
    "referral": referral_status,
    "contribution": contribution_status,
    "threshold decision": decision_status,
    "adult concern": concern_status,
    "enquiry": enquiry_status,
    "safeguarding plan": plan_status,
    "assessment": assessment_status,
    "section 47 enquiry": section_47_status,
}
FINAL: dict[ModuleType, set[Any]] = {
    referral_status: set(FINAL_REFERRAL_STATUSES),
    decision_status: {DecisionStatus.APPROVED, DecisionStatus.RETURNED},
    concern_status: {AdultConcernStatus.CLOSED},
    plan_status: {PlanStatus.CLOSED},
    assessment_status: {AssessmentStatus.COMPLETED},
    section_47_status: {Section47Status.CONCLUDED, Section47Status.CONFERENCE_HELD},
}


def _reachable(module: ModuleType) -> set[StrEnum]:
    table = module.TRANSITIONS.table
    found, pending = {module.INITIAL}, [module.INITIAL]
    while pending:
        current = pending.pop()
        for (source, _), target in table.items():
            if source == current and target not in found:
                found.add(target)
                pending.append(target)
    return found


@pytest.mark.parametrize("module", MODULES.values(), ids=MODULES.keys())
def test_every_status_can_be_reached_from_the_first(module: ModuleType) -> None:
    assert _reachable(module) == set(module.TRANSITIONS.statuses)


@pytest.mark.parametrize(("module", "final"), FINAL.items(), ids=lambda v: getattr(v, "__name__", ""))
def test_a_final_status_allows_nothing(module: ModuleType, final: set[StrEnum]) -> None:
    assert {source for source, _ in module.TRANSITIONS.table} & final == set()
    for status in final:
        for action in module.Action:
            with pytest.raises(InvalidTransition):
                module.TRANSITIONS.target(status, action)


def test_a_refusal_says_why() -> None:
    target = referral_status.TRANSITIONS.target
    with pytest.raises(InvalidTransition) as refused:
        target(ReferralStatus.DECIDED, referral_status.Action.RATE)
    assert refused.value.detail == "Cannot rate a referral whose status is decided."
    with pytest.raises(InvalidTransition) as refused:
        target(ReferralStatus.RECEIVED, referral_status.Action.ASK_AGENCIES)
    assert refused.value.detail.startswith("Rate the referral before asking agencies")
    assert target("triaged", referral_status.Action.ASK_AGENCIES) is ReferralStatus.GATHERING_INFORMATION


@pytest.mark.parametrize(
    ("module", "record_type"),
    [
        (referral_status, RecordType.REFERRAL),
        (concern_status, RecordType.ADULT_CONCERN),
        (plan_status, RecordType.SAFEGUARDING_PLAN),
    ],
    ids=lambda v: str(v) if isinstance(v, StrEnum) else "",
)
def test_every_status_a_record_moves_to_is_announced_on_the_feed(
    module: ModuleType, record_type: RecordType
) -> None:
    moved_to = {module.INITIAL} | {
        target for (source, _), target in module.TRANSITIONS.table.items() if target != source
    }
    announced = {rule.status for rule in FEED.values() if rule.record_type is record_type and rule.status}
    assert moved_to == announced
