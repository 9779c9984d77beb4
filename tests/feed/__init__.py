"""Tests of the partner change feed (GET /v1/events), polled the way a partner system polls it: from
a stored cursor, page after page, through HTTP only."""

from __future__ import annotations

from typing import Any

import httpx

Headers = dict[str, str]
Event = dict[str, Any]


async def poll(
    http: httpx.AsyncClient, headers: Headers, cursor: str | None = None, **params: Any
) -> httpx.Response:
    query = {**params, **({"cursor": cursor} if cursor is not None else {})}
    return await http.get("/v1/events", params=query, headers=headers)


async def read_all(
    http: httpx.AsyncClient, headers: Headers, cursor: str | None = None, **params: Any
) -> tuple[list[Event], str]:
    """Every event newer than ``cursor``, following pages while ``more``; and the cursor to store."""
    events: list[Event] = []
    while True:
        response = await poll(http, headers, cursor, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        events += body["items"]
        assert body["next_cursor"], "a cursor is always returned, the last page included"
        cursor = body["next_cursor"]
        assert ("link" in response.headers) == body["more"]
        if not body["more"]:
            return events, cursor


class Poller:
    """A partner system: polls from its stored cursor and keeps everything it has seen."""

    def __init__(self, http: httpx.AsyncClient, headers: Headers, **params: Any) -> None:
        self.http = http
        self.headers = headers
        self.params = params
        self.cursor: str | None = None
        self.seen: list[Event] = []

    async def poll(self) -> list[Event]:
        new, self.cursor = await read_all(self.http, self.headers, self.cursor, **self.params)
        self.seen += new
        return new

    def story(self) -> list[tuple[str, str, str | None]]:
        """What happened, as (record id, event type, status after it), in feed order."""
        return [(e["record_id"], e["event_type"], e["status"]) for e in self.seen]

    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.seen]
