"""A referral's status: its one table of moves, and the one place that assigns ``Referral.status``.

    received -> triaged -> gathering_information -> awaiting_approval -> decided, or withdrawn

The referring agency may withdraw its referral until a decision is proposed, the hub until it is
decided; information may be added to it until then. Rating triages a received referral (and may be redone until a decision is proposed); asking agencies
starts gathering information; a proposed decision awaits a manager, who approves it (decided) or
returns it (back to gathering information if agencies were asked, else to triaged). A referral not yet
decided may be withdrawn. Decided and withdrawn are final: nothing moves them, nothing on the referral
changes any more. Every other move is a 409 ``invalid_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from app.children.codes import FINAL_REFERRAL_STATUSES, ReferralStatus
from app.core.states import Transitions, stays
from app.models.referral import Referral

INITIAL = ReferralStatus.RECEIVED


class Action(StrEnum):
    RATE = "rate"
    ASK_AGENCIES = "ask_agencies"
    PROPOSE_DECISION = "propose_decision"
    APPROVE_DECISION = "approve_decision"
    RETURN_DECISION_TO_CHECKS = "return_decision_to_checks"  # agencies were asked
    RETURN_DECISION_TO_TRIAGE = "return_decision_to_triage"  # no agency was asked
    WITHDRAW = "withdraw"  # by the hub
    WITHDRAW_AS_REFERRER = "withdraw_as_referrer"
    # Changes to an open referral that keep its status.
    EDIT = "edit"
    OVERRIDE_CONSENT = "override_consent"
    ADD_INFORMATION = "add_information"


_R = ReferralStatus
_OPEN = [status for status in ReferralStatus if status not in FINAL_REFERRAL_STATUSES]
# The referring agency may withdraw its referral until a decision on it is proposed.
_BEFORE_PROPOSAL = [_R.RECEIVED, _R.TRIAGED, _R.GATHERING_INFORMATION]

TRANSITIONS: Transitions[ReferralStatus, Action] = Transitions(
    ReferralStatus,
    table={
        (_R.RECEIVED, Action.RATE): _R.TRIAGED,
        **stays([_R.TRIAGED, _R.GATHERING_INFORMATION], Action.RATE),
        (_R.TRIAGED, Action.ASK_AGENCIES): _R.GATHERING_INFORMATION,
        **stays([_R.GATHERING_INFORMATION], Action.ASK_AGENCIES),
        (_R.TRIAGED, Action.PROPOSE_DECISION): _R.AWAITING_APPROVAL,
        (_R.GATHERING_INFORMATION, Action.PROPOSE_DECISION): _R.AWAITING_APPROVAL,
        (_R.AWAITING_APPROVAL, Action.APPROVE_DECISION): _R.DECIDED,
        (_R.AWAITING_APPROVAL, Action.RETURN_DECISION_TO_CHECKS): _R.GATHERING_INFORMATION,
        (_R.AWAITING_APPROVAL, Action.RETURN_DECISION_TO_TRIAGE): _R.TRIAGED,
        **{(status, Action.WITHDRAW): _R.WITHDRAWN for status in _OPEN},
        **{(status, Action.WITHDRAW_AS_REFERRER): _R.WITHDRAWN for status in _BEFORE_PROPOSAL},
        **stays(_OPEN, Action.ADD_INFORMATION, Action.EDIT, Action.OVERRIDE_CONSENT),
    },
    refused={
        Action.RATE: "Cannot rate a referral whose status is {status}.",
        Action.ASK_AGENCIES: "Cannot ask agencies about a referral whose status is {status}.",
        Action.PROPOSE_DECISION: "Cannot propose a decision on a referral whose status is {status}.",
        **dict.fromkeys(
            [Action.APPROVE_DECISION, Action.RETURN_DECISION_TO_CHECKS, Action.RETURN_DECISION_TO_TRIAGE],
            "Cannot decide a referral whose status is {status}.",
        ),
        **dict.fromkeys(
            [Action.WITHDRAW, Action.EDIT], "A referral whose status is {status} cannot be changed."
        ),
        Action.WITHDRAW_AS_REFERRER: (
            "A referral whose status is {status} can no longer be withdrawn by the referring agency: "
            "ask the hub."
        ),
        Action.ADD_INFORMATION: (
            "A referral whose status is {status} takes no more information: make a new referral."
        ),
        Action.OVERRIDE_CONSENT: "Cannot override consent on a referral whose status is {status}.",
    },
    refused_from={
        (_R.RECEIVED, Action.ASK_AGENCIES): (
            "Rate the referral before asking agencies: the rating sets when answers are due."
        ),
        (
            _R.AWAITING_APPROVAL,
            Action.PROPOSE_DECISION,
        ): "A decision on this referral is already awaiting approval.",
    },
)


check = TRANSITIONS.check


def move(referral: Referral, action: Action) -> None:
    """Move the referral (locked by the caller); a 409 ``invalid_transition`` when the table refuses."""
    referral.status = TRANSITIONS.target(referral.status, action)
