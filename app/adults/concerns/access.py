"""Who may read an adult concern, its enquiry and what hangs off them: the one place that says it.

- ``full``: adult social care, the hub for adults, sees every concern whole, with its section 42
  decision, enquiry, advocacy and capacity records;
- ``raiser``: the agency that raised the concern sees it, its status and its feedback, unless the
  feedback is limited: then it is told ``decided`` while an enquiry is open or concluded
  (``status_told``), and nothing of the decision;
- an enquiry is read by adult social care, the agency leading it and the agency it was caused to.

Single reads (``visible``), lists (``listed``), the status a raiser is told, and the feed's record
parts (``raised_by``) ask here. Row-level security says the same again underneath, on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.codes import AdultConcernStatus
from app.core import filters
from app.core.auth import Principal
from app.core.codes import CaseSource
from app.core.readable import Viewed, view_case
from app.core.scopes import AgencyCode
from app.models.adult import AdultConcern, Enquiry, Section42DecisionRecord


class View(StrEnum):
    FULL = "full"
    RAISER = "raiser"


def is_hub(principal: Principal) -> bool:
    """Adult social care: sees every concern whole, and every record of the adults' side."""
    return principal.is_adults_hub


def raised_by(agency: str) -> sa.ColumnElement[bool]:
    """Concerns the agency raised."""
    return AdultConcern.raising_agency == agency


def partner_view(agency: str) -> sa.ColumnElement[str | None]:
    """The view through which an agency other than the hub sees each concern; NULL where it may not."""
    return view_case(None, (raised_by(agency), View.RAISER))


def listed(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller's concern list holds: the hub every concern, a partner those it raised."""
    return sa.true() if is_hub(principal) else raised_by(str(principal.agency))


def from_sources(sources: Collection[CaseSource]) -> sa.ColumnElement[bool]:
    """Concerns that came from any of ``sources``: the hub's are raised by adult social care."""
    return filters.from_sources(
        sources, raised_by(AgencyCode.ADULT_SOCIAL_CARE), AdultConcern.from_public.expression
    )


def source(concern: AdultConcern) -> CaseSource:
    """Where one concern came from, as ``from_sources`` filters it."""
    return filters.source_of(
        made_by_hub=concern.raising_agency == AgencyCode.ADULT_SOCIAL_CARE, from_public=concern.from_public
    )


# One concern for a caller (``visible``: with its view, 404 when it has none), or for adult social care
# to change (``for_hub``: locked; 404 to anyone else).
_CONCERN = Viewed(AdultConcern, View, "adult concern", partner_view, is_hub)
visible = _CONCERN.visible
for_hub = _CONCERN.for_hub


# ---------------------------------------------------------------------------------------------------
# Enquiries


def reads_enquiry(principal: Principal, enquiry: Enquiry) -> bool:
    """The council stays accountable (adult social care reads every enquiry); an agency leading it or
    caused to carry it out reads that enquiry, not the rest of the case. ``enquiries_listed`` says the
    same in SQL."""
    return is_hub(principal) or principal.agency in (enquiry.lead_agency, enquiry.caused_to_agency)


def enquiries_listed(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller's enquiry list holds (as ``reads_enquiry``): adult social care every enquiry,
    another agency those it leads or was caused."""
    if is_hub(principal):
        return sa.true()
    agency = str(principal.agency)
    return sa.or_(Enquiry.lead_agency == agency, Enquiry.caused_to_agency == agency)


# ---------------------------------------------------------------------------------------------------
# Limited feedback

# While the feedback to the raising agency is limited (e.g. a police investigation is under way), it is
# not told that an enquiry is open or concluded: it sees `decided` (api.md, "Feedback limited"). The
# feed withholds the enquiry's events to match (app.governance.feed.rules).
HIDDEN_WHILE_LIMITED = frozenset({AdultConcernStatus.ENQUIRY_OPEN, AdultConcernStatus.ENQUIRY_CONCLUDED})


def status_told(status: str, *, feedback_limited: bool) -> str:
    """The concern's status as the raising agency is told it."""
    return AdultConcernStatus.DECIDED if feedback_limited and status in HIDDEN_WHILE_LIMITED else status


def _feedback_limited() -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Section42DecisionRecord.concern_id == AdultConcern.id,
        Section42DecisionRecord.feedback_limited_reason.is_not(None),
    )


def status_clause(principal: Principal) -> sa.ColumnElement[str]:
    """The status the caller is told, in SQL, so that a status filter matches what it is shown."""
    if is_hub(principal):
        status: sa.ColumnElement[str] = AdultConcern.status.expression
        return status
    hidden = sa.and_(AdultConcern.status.in_(list(HIDDEN_WHILE_LIMITED)), _feedback_limited())
    told: sa.ColumnElement[str] = sa.case(
        (hidden, AdultConcernStatus.DECIDED.value), else_=AdultConcern.status
    )
    return told


async def feedback_limited(session: AsyncSession, concern_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these concerns have their raiser's feedback limited."""
    if not concern_ids:
        return set()
    rows = await session.scalars(
        sa.select(Section42DecisionRecord.concern_id).where(
            Section42DecisionRecord.concern_id.in_(list(concern_ids)),
            Section42DecisionRecord.feedback_limited_reason.is_not(None),
        )
    )
    return set(rows)
