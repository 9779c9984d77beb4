"""Whether a child of a referral was accepted as a referral by children's social care (the CIN census
meaning): the one question the work after the decision (assessments, strategy discussions) asks
before it starts.

For now a referral's approved outcome answers for all its children: a child and family assessment or
a strategy discussion accepts them; any other outcome leaves them a contact. Per-child decisions
(``accepted_as_referral`` on each child) answer it here instead, and nowhere else need change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.codes import DecisionOutcome
from app.children.referrals import repository
from app.children.referrals.access import for_hub
from app.core.auth import Principal
from app.core.errors import InvalidTransition, ValidationFailed
from app.models.referral import Referral, ReferralChild

ACCEPTING_OUTCOMES = frozenset(
    {DecisionOutcome.CHILD_AND_FAMILY_ASSESSMENT, DecisionOutcome.STRATEGY_DISCUSSION}
)


async def accepted_as_referral(
    session: AsyncSession, referral: Referral, child: ReferralChild
) -> bool | None:
    """True when the child was accepted as a referral, False when the decision kept them a contact,
    None while no decision is approved."""
    if referral.decision_id is None or referral.outcome is None:
        return None
    return referral.outcome in ACCEPTING_OUTCOMES


async def accepted_children(
    session: AsyncSession,
    actor: Principal,
    referral_id: uuid.UUID,
    child_ids: Sequence[uuid.UUID],
    loc: Sequence[str],
) -> tuple[Referral, list[ReferralChild]]:
    """The referral (locked, the hub's; 404 to anyone else) and the children ``child_ids`` name, in the
    referral's order, each one of its children (422 at ``loc`` otherwise) and accepted as a referral
    (409 otherwise)."""
    referral = await for_hub(session, actor, referral_id)
    children = {child.id: child for child in (await repository.children(session, [referral.id]))[referral.id]}
    chosen: list[ReferralChild] = []
    for position, child_id in enumerate(child_ids):
        child = children.get(child_id)
        if child is None:
            raise ValidationFailed(
                [*loc, position] if len(child_ids) > 1 else loc, "Not a child of this referral."
            )
        accepted = await accepted_as_referral(session, referral, child)
        if accepted is None:
            raise InvalidTransition(
                "No threshold decision on this referral has been approved yet: a child is assessed, or "
                "discussed under section 47, only once accepted as a referral."
            )
        if not accepted:
            raise InvalidTransition(
                f"The approved decision ({referral.outcome}) did not accept this child as a referral to "
                "children's social care: it stays a contact, with no assessment or strategy discussion."
            )
        chosen.append(child)
    return referral, sorted(chosen, key=lambda child: child.position)
