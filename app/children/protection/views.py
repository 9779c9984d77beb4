"""Strategy discussions and section 47 enquiries as the hub sees them (the only caller that may)."""

from __future__ import annotations

from collections.abc import Sequence

from app.children.pathway import lateness_out
from app.children.protection.schemas import (
    ConferenceOut,
    EnquiryOutcomeOut,
    Section47Out,
    Section47Summary,
    StrategyDiscussionOut,
)
from app.models.protection import Section47Enquiry, StrategyDiscussion
from app.models.referral import ReferralChild


def discussion_out(
    discussion: StrategyDiscussion, enquiries: Sequence[Section47Enquiry]
) -> StrategyDiscussionOut:
    return StrategyDiscussionOut.model_validate(
        {
            **{
                name: getattr(discussion, name)
                for name in StrategyDiscussionOut.model_fields
                if hasattr(discussion, name)
            },
            "section_47_enquiries": [Section47Summary.model_validate(e) for e in enquiries],
        }
    )


def enquiry_out(enquiry: Section47Enquiry, child: ReferralChild) -> Section47Out:
    outcome = None
    if enquiry.outcome is not None:
        outcome = EnquiryOutcomeOut.model_validate(enquiry)
    conference = None
    timeliness = lateness_out(enquiry.conference_working_days, enquiry.conference_late)
    if enquiry.conference_outcome is not None and timeliness is not None:
        conference = ConferenceOut.model_validate(
            {
                "held_on": enquiry.conference_held_on,
                "outcome": enquiry.conference_outcome,
                "category_of_abuse": enquiry.conference_category_of_abuse,
                "timeliness": timeliness,
                "recorded_by": enquiry.conference_recorded_by,
                "recorded_at": enquiry.conference_recorded_at,
            }
        )
    return Section47Out.model_validate(
        {
            **{
                name: getattr(enquiry, name)
                for name in (
                    "id",
                    "strategy_discussion_id",
                    "referral_id",
                    "child_id",
                    "status",
                    "started_on",
                    "icpc_due_on",
                )
            },
            "person_id": child.person_id,
            "outcome": outcome,
            "conference": conference,
        }
    )


def discussion_about(
    discussion: StrategyDiscussion, child: ReferralChild, enquiries: Sequence[Section47Enquiry]
) -> StrategyDiscussionOut | None:
    """The discussion as far as it is about ``child`` (for the child's subject access export): only that
    child named, and only its own enquiry; None when the discussion was not about the child."""
    if str(child.id) not in discussion.child_ids:
        return None
    own = [e for e in enquiries if e.strategy_discussion_id == discussion.id and e.child_id == child.id]
    return discussion_out(discussion, own).model_copy(update={"child_ids": [child.id]})
