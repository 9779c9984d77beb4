"""The virus scanner hook against a small clamd stand-in: a real TCP server on 127.0.0.1 speaking clamd's
INSTREAM protocol (``zINSTREAM\\0``, length-prefixed chunks, a zero length, then ``stream: OK\\0`` or
``stream: <name> FOUND\\0``), which finds the EICAR test string. With a scanner configured, a document is
served only once found clean; an unreachable scanner leaves it pending, and it is scanned again when
someone asks for it."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.documents.codes import ScanStatus
from app.documents.scanner import ClamdScanner, StreamingScan, Verdict
from tests.conftest import make_settings
from tests.documents import samples
from tests.documents.test_documents import upload
from tests.fixtures.callers import Who
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import rated_referral

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"


class Clamd:
    """clamd's INSTREAM, as clamd(8) describes it; ``online = False`` drops every connection."""

    def __init__(self) -> None:
        self.online = True
        self.scanned: list[int] = []  # bytes received per scan
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"tcp://127.0.0.1:{port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not self.online:
                return
            command = await reader.readuntil(b"\0")
            if command != b"zINSTREAM\0":
                writer.write(b"UNKNOWN COMMAND\0")
                return
            data = bytearray()
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                if size == 0:
                    break
                data += await reader.readexactly(size)
            self.scanned.append(len(data))
            found = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data
            writer.write(b"stream: Eicar-Test-Signature FOUND\0" if found else b"stream: OK\0")
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def clamd() -> AsyncIterator[Clamd]:
    stand_in = Clamd()
    stand_in.server = await asyncio.start_server(stand_in.handle, "127.0.0.1", 0)
    yield stand_in
    stand_in.server.close()
    await stand_in.server.wait_closed()


@pytest.fixture
def settings(database_url: str, clamd: Clamd) -> Settings:
    return make_settings(database_url, document_scanner_url=clamd.url, document_scanner_timeout_seconds=5)


async def test_a_clean_document_is_scanned_on_the_way_in_and_served(
    client: httpx.AsyncClient, who: Who, clamd: Clamd
) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    document = ok(await upload(client, who["police"], url, "statement.pdf", samples.PDF), 201)
    assert document["scan_status"] == "clean"
    assert clamd.scanned == [len(samples.PDF)]  # the whole file, once, as it arrived
    got = await client.get(document["content_url"], headers=who["practitioner"])
    assert got.status_code == 200
    assert got.content == samples.PDF


async def test_an_infected_document_is_kept_but_never_served(client: httpx.AsyncClient, who: Who) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    document = ok(await upload(client, who["police"], url, "notes.txt", EICAR, "text/plain"), 201)
    assert document["scan_status"] == "infected"
    response = await client.get(document["content_url"], headers=who["practitioner"])
    assert_problem(response, 409, "document_infected")
    listed = ok(await client.get(url, headers=who["practitioner"]))["items"]
    assert [d["scan_status"] for d in listed] == ["infected"]


async def test_a_document_stays_pending_while_the_scanner_is_down_and_is_scanned_when_asked_for(
    client: httpx.AsyncClient, who: Who, clamd: Clamd
) -> None:
    clamd.online = False
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    document = ok(await upload(client, who["police"], url, "statement.pdf", samples.PDF), 201)
    assert document["scan_status"] == "pending"
    blocked = await client.get(document["content_url"], headers=who["practitioner"])
    assert_problem(blocked, 409, "document_not_scanned")
    assert blocked.headers["retry-after"] == "60"

    clamd.online = True
    got = await client.get(document["content_url"], headers=who["practitioner"])
    assert got.status_code == 200
    assert got.content == samples.PDF
    assert (
        ok(await client.get(f"/v1/documents/{document['id']}", headers=who["police"]))["scan_status"]
        == "clean"
    )


async def test_the_scanner_speaks_to_clamd_over_a_unix_socket_in_bounded_chunks(tmp_path: Path) -> None:
    stand_in = Clamd()
    path = tmp_path / "clamd.ctl"
    server = await asyncio.start_unix_server(stand_in.handle, path=str(path))
    try:
        clean = StreamingScan(ClamdScanner(f"unix://{path}", 5))
        for _ in range(4):
            await clean.feed(b"\0" * 100_000)  # more than clamd's chunk size each time
        assert await clean.verdict() == Verdict(ScanStatus.CLEAN)
        infected = StreamingScan(ClamdScanner(f"unix://{path}", 5))
        await infected.feed(EICAR)
        assert await infected.verdict() == Verdict(ScanStatus.INFECTED, "Eicar-Test-Signature")
        assert stand_in.scanned == [400_000, len(EICAR)]
    finally:
        server.close()
        await server.wait_closed()
    # clamd gone: the scan cannot say, and the document stays pending.
    gone = StreamingScan(ClamdScanner(f"unix://{path}", 5))
    await gone.feed(b"data")
    assert await gone.verdict() == Verdict(ScanStatus.PENDING)
