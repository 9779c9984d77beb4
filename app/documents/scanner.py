"""The virus scanner hook, and its one implementation: ClamAV's ``clamd`` over its INSTREAM command.

The protocol is a few lines (clamd(8)): send ``zINSTREAM\\0``, then the file as chunks each prefixed by
its length (4 bytes, big-endian), then a zero length; clamd answers ``stream: OK\\0`` or
``stream: <signature> FOUND\\0`` (or ``... ERROR\\0``). The Python clients on PyPI (``clamd``, ``pyclamd``)
are blocking and unmaintained since 2014 and 2017, so the protocol is spoken here on asyncio streams.

The upload feeds the scanner as the bytes arrive (``Scan.feed``), so a file is read once. Any failure
to reach or hear from clamd leaves the document ``pending``: it is scanned again, from storage, when
someone asks for it (``app.documents.service``).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.documents.codes import ScanStatus

logger = logging.getLogger("mash.documents.scanner")

# clamd refuses a chunk larger than its StreamMaxLength; whole requests are bounded by it too.
MAX_CHUNK = 64 * 1024
MAX_REPLY = 4096


@dataclass(frozen=True, slots=True)
class Verdict:
    status: ScanStatus  # clean, infected, or pending (the scanner could not say)
    signature: str | None = None


PENDING = Verdict(ScanStatus.PENDING)


class ScannerUnavailable(Exception):
    pass


class Scan:
    """One INSTREAM conversation: ``feed`` the bytes in order, then ``verdict``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout

    async def feed(self, data: bytes) -> None:
        for start in range(0, len(data), MAX_CHUNK):
            piece = data[start : start + MAX_CHUNK]
            self.writer.write(struct.pack(">I", len(piece)) + piece)
            await asyncio.wait_for(self.writer.drain(), self.timeout)

    async def verdict(self) -> Verdict:
        try:
            self.writer.write(struct.pack(">I", 0))
            await asyncio.wait_for(self.writer.drain(), self.timeout)
            reply = await asyncio.wait_for(self.reader.readuntil(b"\0"), self.timeout)
        finally:
            self.close()
        return parse_reply(reply[:MAX_REPLY])

    def close(self) -> None:
        self.writer.close()


def parse_reply(reply: bytes) -> Verdict:
    text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    _, _, result = text.partition(": ")
    if result == "OK":
        return Verdict(ScanStatus.CLEAN)
    if result.endswith(" FOUND"):
        return Verdict(ScanStatus.INFECTED, result.removesuffix(" FOUND")[:200])
    logger.warning("clamd could not scan a document", extra={"reply": text[:200]})
    return PENDING


class ClamdScanner:
    """clamd at ``tcp://host:port`` or ``unix:///path/to/socket``."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = urlsplit(url)
        self.timeout = timeout

    async def start(self) -> Scan:
        try:
            if self.url.scheme == "unix":
                opening = asyncio.open_unix_connection(self.url.path)
            else:
                opening = asyncio.open_connection(self.url.hostname, self.url.port)
            reader, writer = await asyncio.wait_for(opening, self.timeout)
            writer.write(b"zINSTREAM\0")
            await asyncio.wait_for(writer.drain(), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ScannerUnavailable(type(exc).__name__) from exc
        return Scan(reader, writer, self.timeout)


class StreamingScan:
    """A scan that survives the scanner failing midway: it then ends ``pending``, and the upload goes on."""

    def __init__(self, scanner: ClamdScanner | None) -> None:
        self.scanner = scanner
        self.scan: Scan | None = None
        self.failed = False

    async def feed(self, data: bytes) -> None:
        if self.scanner is None or self.failed:
            return
        try:
            if self.scan is None:
                self.scan = await self.scanner.start()
            await self.scan.feed(data)
        except (ScannerUnavailable, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            self._fail(exc)

    async def verdict(self) -> Verdict:
        if self.scanner is None:
            return Verdict(ScanStatus.NOT_SCANNED)
        if self.scan is None and not self.failed:
            await self.feed(b"")  # an empty file: still ask
        if self.failed or self.scan is None:
            return PENDING
        try:
            return await self.scan.verdict()
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self._fail(exc)
            return PENDING

    def close(self) -> None:
        if self.scan is not None:
            self.scan.close()

    def _fail(self, exc: BaseException) -> None:
        logger.warning("virus scanner unavailable", extra={"error_type": type(exc).__name__})
        self.failed = True
        self.close()
