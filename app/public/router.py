"""/public/v1: the public's front door. Two posts, no token, nothing readable back.

Each route is public by declaration (``PUBLIC``); its caller is the public at the door of the agency
that receives the record (``service.caller``), set as the request's principal before the transaction
begins, so the audit trail and row-level security both see who wrote. An ``Idempotency-Key`` belongs to
the public from one client address (a keyed hash of it, never the address itself): two members of the
public who happen to choose the same key do not share it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.auth import PUBLIC, Principal
from app.core.clock import WorkingClock
from app.core.context import RequestContext
from app.core.creation import Created
from app.core.db import DbSession, apply_context
from app.core.dependencies import Clock
from app.core.idempotency import KeyHeader
from app.core.openapi import CREATE_CODES, problem_responses
from app.core.routing import Router, handler
from app.core.scopes import AgencyCode
from app.public import service
from app.public.schemas import PublicAdultConcernIn, PublicChildConcernIn, PublicReceipt

router = Router(tags=["Public front door"], dependencies=[PUBLIC])

# A public route lists its answers itself (``app.core.openapi.inferred_problems``): those of a JSON body
# and of an Idempotency-Key. The 429 of the per-address limit is documented on every operation.
RESPONSES: dict[int | str, Any] = problem_responses(
    400, 408, 409, 413, 415, 422, codes={409: CREATE_CODES[409], 422: CREATE_CODES[422]}
)
_DOOR = (
    "No token. The answer is a `reference` to quote and the time received, and nothing else: nothing "
    "under `/public` reads anything back. Each client address may post 5 times an hour (by default; "
    "`MASH_PUBLIC_RATE_LIMIT_REQUESTS`): the sixth gets 429 with `Retry-After`. A retry with the same "
    "`Idempotency-Key` and body from the same address returns the same receipt. Unknown fields, markup "
    "(`<`, `>`), over-long fields and dates not YYYY-MM-DD are refused (422; a body over 1 MiB, 413) and "
    "nothing is stored. Browsers: pages on the origins in `MASH_PUBLIC_CORS_ALLOW_ORIGINS` (the council's "
    "form) may post here. `Location` is the record's address in the hub's API, readable with a hub token "
    "only."
)


def _address_key(request: Request) -> str:
    """Which client address a key belongs to, as a keyed hash (the address is personal data)."""
    secret = request.app.state.settings.jwt_secret.get_secret_value().encode()
    address = request.client.host if request.client else "unknown"
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


async def _enter(request: Request, session: Any, agency: AgencyCode, key: str | None) -> Principal:
    principal = service.caller(agency)
    context = RequestContext.of(request)
    context.principal = principal  # before the first statement: the transaction's caller
    await apply_context(session)
    if key is not None:
        context.idempotency = await idempotency.claim(
            request, session, principal, key, partition=_address_key(request)
        )
    return principal


async def adult_door(request: Request, session: DbSession, key: KeyHeader = None) -> Principal:
    """The public at adult social care's door."""
    return await _enter(request, session, AgencyCode.ADULT_SOCIAL_CARE, key)


async def children_door(request: Request, session: DbSession, key: KeyHeader = None) -> Principal:
    """The public at the children's hub's door."""
    return await _enter(request, session, AgencyCode.CHILDRENS_SOCIAL_CARE, key)


@dataclass(frozen=True)
class Door:
    """A public door: where the public posts, who receives it, and where the record stands in the hub's API."""

    path: str
    name: str  # the operation's: raise_public_{name}
    principal: Callable[..., Awaitable[Principal]]  # the public at the receiving agency's door
    body: type[BaseModel]
    raise_concern: Callable[[AsyncSession, WorkingClock, Any], Awaitable[tuple[Any, PublicReceipt]]]
    records: str
    summary: str
    description: str


DOORS = (
    Door(
        "/public/v1/adult-concerns",
        "adult_concern",
        adult_door,
        PublicAdultConcernIn,
        service.raise_adult_concern,
        "/v1/adult-concerns",
        "Raise a concern about an adult (members of the public)",
        "A member of the public raises a safeguarding concern about an adult (18 or over) through the "
        "council's online form. It arrives in adult social care's queue as an adult concern with "
        "`source: public` (`GET /v1/adult-concerns?source=public`), one allegation per type of risk, "
        "the raiser's details kept as third-party data (withheld from the adult's subject access export). "
        "The raiser may stay anonymous. ",
    ),
    Door(
        "/public/v1/child-concerns",
        "child_concern",
        children_door,
        PublicChildConcernIn,
        service.raise_child_concern,
        "/v1/referrals",
        "Raise a concern about a child (members of the public)",
        "A member of the public raises a concern about one or more children through the council's online "
        "form. It arrives in the children's hub's queue as a contact with `source: public` "
        "(`GET /v1/referrals?source=public`) and the census referral source from the raiser's "
        "relationship: `1A` family member, relative or carer; `1B` acquaintance (a friend, neighbour or "
        "child minder); `1C` the child themselves; `1D` anyone else; `9` anonymous. The raiser's details "
        "are kept as third-party data (withheld from subject access exports). ",
    ),
)


async def raise_public_concern(
    created: Created, _public: Principal, session: DbSession, clock: Clock, body: Any, *, door: Door
) -> PublicReceipt:
    record, receipt = await door.raise_concern(session, clock, body)
    return created.at(f"{door.records}/{record.id}", receipt)


for door in DOORS:
    router.post(door.path, summary=door.summary, description=door.description + _DOOR, responses=RESPONSES)(
        handler(
            raise_public_concern,
            f"raise_public_{door.name}",
            typed={"_public": Annotated[Principal, Depends(door.principal)], "body": door.body},
            bound={"door": door},
        )
    )
