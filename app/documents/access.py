"""Who may see, add and withdraw a document: the one place that says it. A document is seen by
whoever sees its parent record in a view that shows the record's content, through the parent's own
access module:

- a referral's documents: children's social care and the referring agency (not an agency only asked
  about the referral: it sees the children's details and its request, nothing else);
- a contribution's: children's social care and the agency asked (a restricted contribution's documents
  are restricted with it: nobody else sees them, and subject access exports withhold them);
- an adult concern's: adult social care and the raising agency;
- an enquiry's: adult social care and the agencies leading it or caused to carry it out.

Adding needs the same sight plus the right to write on the record (the referrer or raiser its own
record, the hub with its write scope, the asked agency its answer). Withdrawing: the uploader's agency
or the hub of the record's side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.adults.concerns import access as concern_access
from app.adults.concerns import service as concerns
from app.children.contributions import access as contribution_access
from app.children.referrals import access as referral_access
from app.core.auth import Principal
from app.core.errors import InsufficientScope, NotFound
from app.core.scopes import Scope
from app.documents.codes import ParentType
from app.models.document import Document

READ_SCOPES = {
    ParentType.REFERRAL: Scope.REFERRALS_READ,
    ParentType.CONTRIBUTION: Scope.CONTRIBUTIONS_READ,
    ParentType.ADULT_CONCERN: Scope.ADULT_CONCERNS_READ,
    ParentType.ENQUIRY: Scope.ADULT_CONCERNS_READ,
}
RESOURCES = {
    ParentType.REFERRAL: "referral",
    ParentType.CONTRIBUTION: "contribution",
    ParentType.ADULT_CONCERN: "adult concern",
    ParentType.ENQUIRY: "enquiry",
}
CHILDREN_SIDE = frozenset({ParentType.REFERRAL, ParentType.CONTRIBUTION})


@dataclass
class Parent:
    """A document's parent record as the caller may see it."""

    type: ParentType
    id: uuid.UUID
    record: Any
    referral_id: uuid.UUID | None = None  # the children's side: the referral it belongs to
    concern: Any = None  # the adults' side: the concern it belongs to
    restricted: bool = False
    keys: dict[str, uuid.UUID] = field(default_factory=dict)  # the document's parent column


def is_hub(principal: Principal, parent_type: ParentType) -> bool:
    """The lead agency of the record's side."""
    if parent_type in CHILDREN_SIDE:
        return referral_access.is_hub(principal)
    return concern_access.is_hub(principal)


def reads_any(principal: Principal) -> bool:
    return any(principal.has(scope) for scope in set(READ_SCOPES.values()))


async def parent(
    session: AsyncSession, principal: Principal, parent_type: ParentType, parent_id: uuid.UUID
) -> Parent:
    """The parent record if the caller may see its documents; NotFound (of the parent) otherwise."""
    if not principal.has(READ_SCOPES[parent_type]):
        raise NotFound(RESOURCES[parent_type], parent_id)
    return await _visible_parent(session, principal, parent_type, parent_id)


async def _visible_parent(
    session: AsyncSession, principal: Principal, parent_type: ParentType, parent_id: uuid.UUID
) -> Parent:
    """The parent record as its own access module lets the caller see it (an asked agency sees a
    referral only through its contribution); NotFound otherwise."""
    if parent_type == ParentType.REFERRAL:
        referral, view = await referral_access.visible(session, principal, parent_id)
        if view == referral_access.View.ASKED_AGENCY:
            raise NotFound("referral", parent_id)
        return Parent(
            parent_type, parent_id, referral, referral_id=referral.id, keys={"referral_id": parent_id}
        )
    if parent_type == ParentType.CONTRIBUTION:
        contribution = await contribution_access.visible(session, principal, parent_id)
        return Parent(
            parent_type,
            parent_id,
            contribution,
            referral_id=contribution.referral_id,
            restricted=contribution.restricted,
            keys={"contribution_id": parent_id},
        )
    if parent_type == ParentType.ADULT_CONCERN:
        concern, _ = await concern_access.visible(session, principal, parent_id)
        return Parent(parent_type, parent_id, concern, concern=concern, keys={"concern_id": parent_id})
    enquiry, concern = await concerns.visible_enquiry(session, principal, parent_id)
    return Parent(parent_type, parent_id, enquiry, concern=concern, keys={"enquiry_id": parent_id})


WRITE_SCOPES = {
    ParentType.REFERRAL: (Scope.REFERRALS_CREATE, Scope.REFERRALS_WRITE),
    ParentType.CONTRIBUTION: (Scope.CONTRIBUTIONS_WRITE, Scope.CONTRIBUTIONS_WRITE),
    ParentType.ADULT_CONCERN: (Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE),
    ParentType.ENQUIRY: (Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE),
}


def check_writes(principal: Principal, parent_type: ParentType) -> None:
    """403 without either write scope of the record's side (naming the hub's)."""
    own_scope, hub_scope = WRITE_SCOPES[parent_type]
    if not principal.has(hub_scope) and not principal.has(own_scope):
        raise InsufficientScope([hub_scope])


async def upload_parent(
    session: AsyncSession, principal: Principal, parent_type: ParentType, parent_id: uuid.UUID
) -> Parent:
    """The parent record the caller may add a document to: the hub with the side's write scope; the
    referrer or raiser (its create scope) its own record; the asked agency its contribution; an agency
    leading or caused an enquiry that enquiry. 404 for a record the caller may not see, 403 without the
    scope its part calls for."""
    own_scope, hub_scope = WRITE_SCOPES[parent_type]
    hub = is_hub(principal, parent_type)
    found = await _visible_parent(session, principal, parent_type, parent_id)
    if parent_type == ParentType.CONTRIBUTION:
        if not contribution_access.answers(principal, found.record):
            raise NotFound("contribution", parent_id)  # only the agency asked adds to its answer
        hub = False
    needed = hub_scope if hub else own_scope
    if not principal.has(needed):
        raise InsufficientScope([needed])
    return found


def parent_of(document: Document) -> tuple[ParentType, uuid.UUID]:
    kind = ParentType(document.parent_type)
    key = {
        ParentType.REFERRAL: document.referral_id,
        ParentType.CONTRIBUTION: document.contribution_id,
        ParentType.ADULT_CONCERN: document.concern_id,
        ParentType.ENQUIRY: document.enquiry_id,
    }[kind]
    assert key is not None  # the one_parent check constraint
    return kind, key


def foreign(principal: Principal, document: Document) -> bool:
    """The document is another agency's: the caller's reading it is a disclosure (api.md)."""
    return document.agency != principal.agency


def withdraws(principal: Principal, document: Document) -> bool:
    """The uploader's agency, or the hub of the record's side."""
    return document.agency == principal.agency or is_hub(principal, ParentType(document.parent_type))


def shows_staff(principal: Principal, document: Document) -> bool:
    """Who uploaded or withdrew it, by ``sub``: for the hub of the record's side and the uploader's own
    agency only (partner views never carry hub staff identities, api.md)."""
    return is_hub(principal, ParentType(document.parent_type)) or not foreign(principal, document)
