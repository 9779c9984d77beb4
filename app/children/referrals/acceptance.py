"""Whether a child of a referral was accepted as a referral by children's social care (the CIN census
meaning): the one question the work after the decision (assessments, strategy discussions) asks
before it starts.

The approved threshold decision's entry for the child answers it (``accepted_as_referral``, its own or
the referral-wide value): siblings may be decided differently, one assessed and one left a contact.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.children.referrals import repository
from app.children.referrals.access import for_hub
from app.core.auth import Principal
from app.core.errors import InvalidTransition, ValidationFailed
from app.models.referral import Referral, ReferralChild, ThresholdDecisionChild


async def decision_on(
    session: AsyncSession, referral: Referral, child: ReferralChild
) -> ThresholdDecisionChild | None:
    """The approved decision on the child (``accepted_as_referral`` says whether it was accepted as a
    referral, ``outcome`` what was decided), None while no decision is approved."""
    if referral.decision_id is None:
        return None
    return await session.get(ThresholdDecisionChild, (referral.decision_id, child.id))


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
    children = {child.id: child for child in await repository.children.of(session, referral.id)}
    chosen: list[ReferralChild] = []
    for position, child_id in enumerate(child_ids):
        child = children.get(child_id)
        if child is None:
            raise ValidationFailed(
                [*loc, position] if len(child_ids) > 1 else loc, "Not a child of this referral."
            )
        decision = await decision_on(session, referral, child)
        if decision is None:
            raise InvalidTransition(
                "No threshold decision on this referral has been approved yet: a child is assessed, or "
                "discussed under section 47, only once accepted as a referral."
            )
        if not decision.accepted_as_referral:
            raise InvalidTransition(
                f"The approved decision ({decision.outcome}) did not accept this child as a referral to "
                "children's social care: it stays a contact, with no assessment or strategy discussion."
            )
        chosen.append(child)
    return referral, sorted(chosen, key=lambda child: child.position)
