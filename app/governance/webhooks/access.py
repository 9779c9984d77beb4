"""Whose a subscription is: the caller's client's (a partner system's token), or the caller's own (a
person's token, by ``sub``), and only ever in the caller's agency. Nobody else sees it, not even the
hub: a subscription is a partner system's configuration, and it carries that system's secret."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.auth import Principal
from app.models.webhook import WebhookSubscription


def owner_of(principal: Principal) -> str:
    return str(principal.client_id) if principal.client_id is not None else principal.sub


def owned_by(principal: Principal) -> sa.ColumnElement[bool]:
    return sa.and_(
        WebhookSubscription.owner == owner_of(principal),
        WebhookSubscription.agency == str(principal.agency),
    )


def as_owner(subscription: WebhookSubscription) -> Principal:
    """The principal the subscription reads the feed as: its owner's agency, role and sub."""
    from app.core.scopes import AgencyCode, Role, Scope

    return Principal(
        sub=subscription.sub,
        agency=AgencyCode(subscription.agency),
        role=Role(subscription.role),
        scopes=frozenset({Scope.EVENTS_READ.value}),
        client_id=subscription.client_id,
    )
