"""Creates: a route that makes a record answers 201 and says where the new record is.

Such a route takes ``Created``, and that is all it says: ``app.core.routing`` makes a route that takes
it answer 201 (and refuses a 201 that does not), and documents the ``Location`` header on the 201, so
a create cannot be documented with a header it forgets to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Response

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Creation:
    response: Response

    def at(self, location: str, body: T) -> T:
        """Answer ``body``, the new record, as created at ``location``: its URL, sent in ``Location``."""
        self.response.headers["Location"] = location
        return body


async def creation(response: Response) -> Creation:
    return Creation(response=response)


Created = Annotated[Creation, Depends(creation)]
