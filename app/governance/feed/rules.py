"""Who sees which case event on the change feed, and what of it: the one table (``FEED``).

The hub sees its side whole: children's social care every event on a referral, adult social care
every event on an adult concern or a safeguarding plan. Any other agency sees an event only through
its own part in the record, and only the event types this table lists for that part:

- ``referrer``: the agency made the referral. It sees the referral's status changes, its RAG rating,
  the acknowledgement of its contact and the outcome, and the information its own agency added, not other agencies' contributions nor
  the hub's internal steps (children's records, consent, communications, who was asked, the proposed
  decision, the hub's own notes).
- ``asked_agency``: the agency was asked for information on the referral. It sees the requests made
  of it, its own answers, and the withdrawal that cancelled a request of it.
- ``raiser``: the agency raised the adult concern. It sees the concern's status changes and the
  section 42 decision, unless the hub marked the feedback as limited: then it learns that the concern
  was decided (status ``decided``, as its ``GET`` shows), and nothing that tells the decision (which
  decision, the enquiry opening or concluding). It sees the information its own agency added.
- ``action_owner``: the agency owns an action in a safeguarding plan. It sees the plan made, amended
  and closed, and updates of its own actions.

Allocation events (``referral.allocated``, ``adult_concern.allocated``, ``enquiry.allocated``) name the
hub's staff: no partner view lists them.

Anything not listed is not shown to a partner (deny by default), including event types added later.
Partners see only the ``data`` keys listed, and an actor of another agency without ``sub`` or ``role``;
the sender of a referral or a concern (and the hub) also finds the record's ``external_reference`` in
every event's ``data`` (added by the service from the record, not stored on the event).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.adults.codes import AdultConcernStatus, PlanStatus, SarStatus
from app.children.codes import ReferralStatus
from app.core.events import EventType as EventType  # defined beside emit(); the feed names it from here


class RecordType(StrEnum):
    """The record an event is about, as the feed names it."""

    REFERRAL = "referral"
    ADULT_CONCERN = "adult_concern"
    SAFEGUARDING_PLAN = "safeguarding_plan"
    SAFEGUARDING_ADULTS_REVIEW = "safeguarding_adults_review"


class View(StrEnum):
    """Why the caller sees an event, which decides what of it they see."""

    FULL = "full"
    REFERRER = "referrer"
    ASKED_AGENCY = "asked_agency"
    RAISER = "raiser"
    ACTION_OWNER = "action_owner"


# The partner views, in the order they are tried. An agency that both made a referral and was asked
# about it sees an event the referrer sees as the referrer, with what the asked agency sees of it
# added (the service merges the two), and the rest as the asked agency.
PARTNER_VIEWS = (View.REFERRER, View.ASKED_AGENCY, View.RAISER, View.ACTION_OWNER)

# Where each partner view applies: the stream (aggregate type) of the events it may see.
VIEW_STREAMS: dict[View, tuple[str, ...]] = {
    View.REFERRER: ("referral",),
    View.ASKED_AGENCY: ("referral",),
    View.RAISER: ("adult_concern",),
    View.ACTION_OWNER: ("adult_concern", "safeguarding_plan"),
}


class Only(StrEnum):
    """A further condition on a partner seeing an event of a listed type."""

    FIRST_REQUEST = "only the first request on the referral (its move to `gathering_information`)"
    ADDRESSED_TO_CALLER = "only requests of, and answers by, the caller's agency"
    CANCELLED_REQUEST = "only when it cancelled a request of the caller's agency"
    FEEDBACK_NOT_LIMITED = "not when the hub marked the feedback as limited"
    OWN_ACTION = "only the caller's own (its agency's)"


class When(StrEnum):
    """When an event changes its record's status."""

    ALWAYS = "always"
    FIRST_OF_TYPE = "the first of its type on the record"
    RETURNED = "back to `gathering_information` if agencies were asked, else `triaged`"


@dataclass(frozen=True, slots=True)
class Shown:
    """What a partner view shows of an event: these ``data`` keys, under this condition; the keys in
    ``unless_limited`` only while the concern's feedback is not limited."""

    keys: tuple[str, ...] = ()
    only: Only | None = None
    unless_limited: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    record_type: RecordType
    status: str | None = None
    when: When = When.ALWAYS
    referrer: Shown | None = None
    asked_agency: Shown | None = None
    raiser: Shown | None = None
    action_owner: Shown | None = None

    def shown(self, view: View) -> Shown | None:
        return {
            View.REFERRER: self.referrer,
            View.ASKED_AGENCY: self.asked_agency,
            View.RAISER: self.raiser,
            View.ACTION_OWNER: self.action_owner,
        }.get(view)


_REFERRAL = RecordType.REFERRAL
_CONCERN = RecordType.ADULT_CONCERN
_PLAN = RecordType.SAFEGUARDING_PLAN
_REVIEW = RecordType.SAFEGUARDING_ADULTS_REVIEW
_NOT_LIMITED = Shown((), Only.FEEDBACK_NOT_LIMITED)

FEED: dict[EventType, Rule] = {
    # Children's side
    EventType.REFERRAL_RECEIVED: Rule(
        _REFERRAL, ReferralStatus.RECEIVED, referrer=Shown(("referral_source", "children"))
    ),
    EventType.CHILD_MATCHED: Rule(_REFERRAL),
    EventType.CHILD_PENDING: Rule(_REFERRAL),
    EventType.CHILD_NEW_PERSON: Rule(_REFERRAL),
    EventType.CHILD_MATCH_CONFIRMED: Rule(_REFERRAL),
    EventType.REFERRAL_RATED: Rule(
        _REFERRAL, ReferralStatus.TRIAGED, When.FIRST_OF_TYPE, referrer=Shown(("rating",))
    ),
    EventType.REFERRAL_CONSENT_OVERRIDDEN: Rule(_REFERRAL),
    EventType.REFERRAL_UPDATED: Rule(_REFERRAL),
    EventType.COMMUNICATION_RECORDED: Rule(_REFERRAL),
    # The referrer's contact acknowledged (the first communication with the referrer): theirs to see.
    EventType.REFERRAL_ACKNOWLEDGED: Rule(_REFERRAL, referrer=Shown(("acknowledged_at", "method"))),
    EventType.CONTRIBUTION_REQUESTED: Rule(
        _REFERRAL,
        ReferralStatus.GATHERING_INFORMATION,
        When.FIRST_OF_TYPE,
        referrer=Shown((), Only.FIRST_REQUEST),
        asked_agency=Shown(("contribution_id", "agency", "due_at"), Only.ADDRESSED_TO_CALLER),
    ),
    EventType.CONTRIBUTION_SUBMITTED: Rule(
        _REFERRAL,
        asked_agency=Shown(("contribution_id", "agency", "version", "restricted"), Only.ADDRESSED_TO_CALLER),
    ),
    EventType.CONTRIBUTION_CORRECTED: Rule(
        _REFERRAL,
        asked_agency=Shown(("contribution_id", "agency", "version", "restricted"), Only.ADDRESSED_TO_CALLER),
    ),
    EventType.DECISION_PROPOSED: Rule(_REFERRAL, ReferralStatus.AWAITING_APPROVAL, referrer=Shown()),
    EventType.DECISION_RETURNED: Rule(_REFERRAL, ReferralStatus.TRIAGED, When.RETURNED, referrer=Shown()),
    EventType.DECISION_APPROVED: Rule(_REFERRAL),
    EventType.REFERRAL_DECIDED: Rule(_REFERRAL, ReferralStatus.DECIDED, referrer=Shown(("level", "outcome"))),
    EventType.REFERRAL_WITHDRAWN: Rule(
        _REFERRAL,
        ReferralStatus.WITHDRAWN,
        referrer=Shown(),
        # Not stored on the event: the service adds the ids of the caller's requests it cancelled.
        asked_agency=Shown(("cancelled_contribution_ids",), Only.CANCELLED_REQUEST),
    ),
    # Allocation names the hub's staff: the hub's own (every allocation event, on either side).
    EventType.REFERRAL_ALLOCATED: Rule(_REFERRAL),
    EventType.REFERRAL_INFORMATION_ADDED: Rule(
        _REFERRAL, referrer=Shown(("information_id", "agency", "concern_categories"), Only.OWN_ACTION)
    ),
    # After the decision: the hub's own work with the family (assessments, strategy discussions, section
    # 47 enquiries and conferences), on the referral's stream; no partner view lists them.
    EventType.ASSESSMENT_STARTED: Rule(_REFERRAL),
    EventType.ASSESSMENT_COMPLETED: Rule(_REFERRAL),
    EventType.STRATEGY_DISCUSSION_HELD: Rule(_REFERRAL),
    EventType.SECTION_47_STARTED: Rule(_REFERRAL),
    EventType.SECTION_47_CONCLUDED: Rule(_REFERRAL),
    EventType.CONFERENCE_HELD: Rule(_REFERRAL),
    # Adults' side
    EventType.ADULT_CONCERN_RECEIVED: Rule(
        _CONCERN, AdultConcernStatus.RECEIVED, raiser=Shown(("allegations", "types_of_risk"))
    ),
    EventType.ADULT_MATCHED: Rule(_CONCERN),
    EventType.ADULT_PENDING: Rule(_CONCERN),
    EventType.ADULT_NEW_PERSON: Rule(_CONCERN),
    EventType.ADULT_MATCH_CONFIRMED: Rule(_CONCERN),
    EventType.ADULT_CONCERN_DECIDED: Rule(
        _CONCERN, AdultConcernStatus.DECIDED, raiser=Shown(("decision",), unless_limited=("decision",))
    ),
    # Opening and concluding an enquiry tell the decision (an enquiry, and which kind): withheld with it.
    EventType.ENQUIRY_OPENED: Rule(_CONCERN, AdultConcernStatus.ENQUIRY_OPEN, raiser=_NOT_LIMITED),
    EventType.ADVOCACY_RECORDED: Rule(_CONCERN),
    EventType.CAPACITY_ASSESSED: Rule(_CONCERN),
    EventType.BEST_INTERESTS_DECIDED: Rule(_CONCERN),
    EventType.ENQUIRY_CONCLUDED: Rule(_CONCERN, AdultConcernStatus.ENQUIRY_CONCLUDED, raiser=_NOT_LIMITED),
    # What the enquiry found is the hub's (and the agency's leading it, through the enquiry): never the raiser's.
    EventType.ALLEGATION_ADDED: Rule(_CONCERN),
    EventType.ALLEGATION_CORRECTED: Rule(_CONCERN),
    EventType.ADULT_CONCERN_UPDATED: Rule(_CONCERN),
    EventType.ADULT_CONCERN_CLOSED: Rule(_CONCERN, AdultConcernStatus.CLOSED, raiser=Shown()),
    EventType.ADULT_CONCERN_ALLOCATED: Rule(_CONCERN),
    EventType.ENQUIRY_ALLOCATED: Rule(_CONCERN),
    EventType.ADULT_CONCERN_WITHDRAWN: Rule(_CONCERN, AdultConcernStatus.WITHDRAWN, raiser=Shown()),
    EventType.ADULT_CONCERN_INFORMATION_ADDED: Rule(
        _CONCERN, raiser=Shown(("information_id", "agency"), Only.OWN_ACTION)
    ),
    # Safeguarding plans: written on the concern's stream when the plan has a concern, but about the
    # plan, which is the record the feed names (the action owner may not see the concern).
    EventType.PLAN_CREATED: Rule(_PLAN, PlanStatus.ACTIVE, action_owner=Shown(("plan_id",))),
    EventType.PLAN_AMENDED: Rule(_PLAN, action_owner=Shown(("plan_id",))),
    EventType.PLAN_ACTION_UPDATED: Rule(
        _PLAN, action_owner=Shown(("plan_id", "action_id", "agency", "status"), Only.OWN_ACTION)
    ),
    EventType.PLAN_REVIEWED: Rule(_PLAN),
    EventType.PLAN_CLOSED: Rule(_PLAN, PlanStatus.CLOSED, action_owner=Shown(("plan_id",))),
    # Safeguarding adults reviews (Care Act s44): adult social care's alone.
    EventType.REVIEW_REFERRED: Rule(_REVIEW, SarStatus.REFERRED),
    EventType.REVIEW_DECIDED: Rule(_REVIEW),
    EventType.REVIEW_UPDATED: Rule(_REVIEW),
    EventType.REVIEW_COMPLETED: Rule(_REVIEW, SarStatus.COMPLETED),
}


def types_for(view: View) -> dict[EventType, Shown]:
    """The event types a partner view may see, with what it sees of each."""
    found = {}
    for event_type, rule in FEED.items():
        shown = rule.shown(view)
        if shown is not None:
            found[event_type] = shown
    return found


# The same table keyed by the stored string (an event type no rule names is the hub's only).
RULES: dict[str, Rule] = {str(event_type): rule for event_type, rule in FEED.items()}


def record_type_of(aggregate_type: str, event_type: str) -> str:
    rule = RULES.get(event_type)
    return str(rule.record_type) if rule is not None else aggregate_type


def markdown_table() -> str:
    """The table, for the route's OpenAPI description."""

    def cell(shown: Shown | None) -> str:
        if shown is None:
            return "-"
        keys = ", ".join(f"`{k}`" for k in shown.keys) or "no data"
        if shown.unless_limited:
            keys += (
                " (" + ", ".join(f"`{k}`" for k in shown.unless_limited) + " not while feedback is limited)"
            )
        return keys + (f"; {shown.only}" if shown.only else "")

    lines = [
        "| event_type | record | status after it | referrer | asked_agency | raiser | action_owner |",
        "|---|---|---|---|---|---|---|",
    ]
    for event_type, rule in FEED.items():
        status = f"`{rule.status}`" if rule.status else "-"
        if rule.when is not When.ALWAYS:
            status = f"`{rule.status}`, {rule.when}" if rule.when is When.FIRST_OF_TYPE else str(rule.when)
        views = (View.REFERRER, View.ASKED_AGENCY, View.RAISER, View.ACTION_OWNER)
        cells = [cell(rule.shown(view)) for view in views]
        lines.append(f"| `{event_type}` | {rule.record_type} | {status} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
