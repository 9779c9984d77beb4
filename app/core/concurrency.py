"""Optimistic concurrency: single-record GETs send an ``ETag``; PATCH must send it back in ``If-Match``.

The ETag is the record's version number. The check here gives fast, clear answers (428, 412); the
UPDATE itself is also conditional on the version (SQLAlchemy ``version_id_col``), so two PATCHes
racing with the same ETag cannot both win: the loser gets 412 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Response

from app.core.errors import PreconditionFailed, PreconditionRequired

T = TypeVar("T")

IF_MATCH = "If-Match"
IfMatch = Annotated[
    str | None,
    Header(
        alias=IF_MATCH,
        max_length=128,
        description=(
            "The ETag from your last GET of this record. Required: missing gets 428, and so does `*`, "
            "which is not a version; a stale value gets 412."
        ),
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(if_match: str | None, current_version: int) -> None:
    # `*` (RFC 9110: "any current representation") names no version, so it would let a client
    # overwrite changes it never saw: it is answered like a missing header.
    if if_match is None or if_match.strip() in ("", "*"):
        raise PreconditionRequired()
    current = etag(current_version)
    # RFC 9110 section 13.1.1: If-Match uses strong comparison, so weak tags never match (nor does a
    # `*` among entity tags, which is not one).
    candidates = [tag.strip() for tag in if_match.split(",")]
    if current in candidates:
        return
    raise PreconditionFailed()


@dataclass(frozen=True, slots=True)
class VersionedAnswer:
    """An answer about one versioned record: its ``ETag``, the version a later write sends back. A
    route that takes this gets the header documented on its 200 too (``app.core.routing``)."""

    response: Response

    def tagged(self, version: int, body: T) -> T:
        """Answer ``body``, a view of the record at ``version``, with that version as its ``ETag``."""
        set_etag(self.response, version)
        return body


async def versioned_answer(response: Response) -> VersionedAnswer:
    return VersionedAnswer(response=response)


# A route that answers one versioned record (a GET, a PATCH) takes this and answers through it.
Versioned = Annotated[VersionedAnswer, Depends(versioned_answer)]


@dataclass(frozen=True, slots=True)
class ConditionalChange(VersionedAnswer):
    """A change to one versioned record: the ``If-Match`` its caller sent, for the service to check
    against the record's version (``check_if_match``), and the answer, tagged with the version the
    change made."""

    if_match: str | None


async def conditional_change(answer: Versioned, if_match: IfMatch = None) -> ConditionalChange:
    return ConditionalChange(response=answer.response, if_match=if_match)


# A route that changes one versioned record (a PATCH, a PUT) takes this instead of ``Versioned``: it
# documents the ``If-Match`` header with its 428 and 412, and the new ``ETag``.
Conditional = Annotated[ConditionalChange, Depends(conditional_change)]
