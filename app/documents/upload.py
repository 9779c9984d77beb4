"""Reading a ``multipart/form-data`` upload as it arrives, never whole.

FastAPI's ``UploadFile`` spools each file to a temporary file before the handler runs: the limits and the
type check would come after the whole body was received and written once more. Here the request's
stream goes through python-multipart's push parser a network chunk at a time, and each piece of the
``file`` part goes straight on: into the SHA-256, the virus scanner and the storage writer. So:

- the size limit is enforced on the bytes as they come: the first byte past it ends the upload (413),
  and a Content-Length already over it is refused before anything is read;
- the type is judged on the file's first bytes (``app.documents.sniffing``) before anything is stored
  (415 for anything else, e.g. an executable named ``.pdf``);
- a body that trickles in is refused as ``BodyLimitMiddleware`` refuses one (408);
- memory stays at one network chunk plus one storage chunk, whatever the file's size.

The service receives into a ``Spool`` (a temporary file) while holding no database connection, and
copies it into storage afterwards in one short transaction (``app.documents.service.upload``).

Fields: ``file`` (required, once) and ``description`` (optional text); any other field → 422.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.core.errors import AppError, ValidationFailed
from app.documents.codes import DocumentType
from app.documents.scanner import StreamingScan, Verdict
from app.documents.sniffing import SNIFF_BYTES, agrees, content_type, media_type
from app.documents.storage import Writer
from app.models.document import DESCRIPTION_LENGTH, FILENAME_LENGTH

# Room for the multipart framing and the description around the file, in a declared Content-Length.
ENVELOPE_BYTES = 64 * 1024
# The uploads, which ``BodyLimitMiddleware`` leaves to this module to read (with the documents' limit).
UPLOAD_PATH = re.compile(r"^/v1/(referrals|contributions|adult-concerns|enquiries)/[^/]+/documents/?$")
FILE_FIELD = "file"
DESCRIPTION_FIELD = "description"
DEFAULT_FILENAME = "document"

# Opens storage for the file once its type is known: (safe file name, type) → a writer.
Opener = Callable[[str, DocumentType], Awaitable[Writer]]


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    timeout_seconds: float
    min_rate_bytes: int


@dataclass
class Received:
    filename: str = DEFAULT_FILENAME
    content_type: DocumentType = DocumentType.PDF
    description: str | None = None
    size: int = 0
    sha256: str = ""
    verdict: Verdict | None = None


def too_large(limits: Limits) -> AppError:
    return AppError(
        f"The file is larger than the {limits.max_bytes} bytes a document may be. Nothing of it was kept.",
        code="document_too_large",
        headers={"Connection": "close"},
    )


def safe_filename(raw: str | None) -> str:
    """The last path segment of the name sent, without control characters, at most 255 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:FILENAME_LENGTH] or DEFAULT_FILENAME


def boundary_of(request: Request) -> bytes:
    header = request.headers.get("content-type", "")
    if media_type(header) != "multipart/form-data":
        raise AppError("Send the document as multipart/form-data.", code="unsupported_media_type")
    _, options = parse_options_header(header)
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise AppError("The multipart/form-data Content-Type has no usable boundary.", code="bad_request")
    return boundary


def check_declared_length(request: Request, limits: Limits) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes + ENVELOPE_BYTES:
        raise too_large(limits)


class Spool:
    """Where a file waits, on disk, while it arrives: a temporary file (removed when closed), written a
    network chunk at a time and read back a storage chunk at a time. A ``Writer``.

    Its writes and reads are plain calls: a 64 KiB write to the page cache takes microseconds, less
    than handing it to a thread (measured in bench/documents.py: handing each to a thread halved the
    upload rate)."""

    PIECE = 256 * 1024

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.file.close()

    async def write(self, data: bytes) -> None:
        self.file.write(data)

    async def finish(self) -> None:
        self.file.flush()

    async def abort(self) -> None:
        self.file.close()

    async def pieces(self) -> AsyncIterator[bytes]:
        self.file.seek(0)
        while piece := self.file.read(self.PIECE):
            yield piece


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None


class _Events:
    """python-multipart's callbacks are synchronous: they only note what happened, in order, and the
    reader acts on the notes (asynchronously: storage and the scanner wait on I/O) after each chunk."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, bytes]] = []
        self.field = bytearray()
        self.value = bytearray()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": lambda: self.notes.append(("begin", b"")),
            "on_header_field": lambda data, start, end: self.field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.notes.append(("headers", b"")),
            "on_part_data": lambda data, start, end: self.notes.append(("data", bytes(data[start:end]))),
            "on_part_end": lambda: self.notes.append(("end", b"")),
        }

    def _header_end(self) -> None:
        self.notes.append(("header", bytes(self.field) + b"\0" + bytes(self.value)))
        self.field.clear()
        self.value.clear()


class _FilePart:
    """The ``file`` part: buffered until its type is known, then streamed to storage."""

    def __init__(self, part: _Part, opener: Opener, limits: Limits, scan: StreamingScan) -> None:
        self.part = part
        self.opener = opener
        self.limits = limits
        self.scan = scan
        self.head = bytearray()
        self.writer: Writer | None = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.stored_type: DocumentType | None = None

    async def data(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limits.max_bytes:
            raise too_large(self.limits)
        self.digest.update(data)
        if self.writer is None:
            self.head += data
            if len(self.head) >= SNIFF_BYTES:
                await self._open()
        else:
            await self._pass_on(data)

    async def end(self) -> None:
        if self.writer is None:
            await self._open()
        assert self.writer is not None
        await self.writer.finish()

    async def _open(self) -> None:
        found = content_type(bytes(self.head[:SNIFF_BYTES]))
        declared = self.part.headers.get("content-type")
        stored = None if found is None else agrees(declared, found)
        if stored is None:
            what = "is not an accepted type" if found is None else f"is {found}, not what was declared"
            raise AppError(f"The file's content {what}.", code="unsupported_document_type")
        self.stored_type = stored
        self.writer = await self.opener(safe_filename(self.part.filename), stored)
        head, self.head = bytes(self.head), bytearray()
        await self._pass_on(head)

    async def _pass_on(self, data: bytes) -> None:
        assert self.writer is not None
        await self.scan.feed(data)
        await self.writer.write(data)


async def receive_document(request: Request, opener: Opener, limits: Limits, scan: StreamingScan) -> Received:
    """Read the upload, storing the file through ``opener``'s writer as it comes; what was received."""
    check_declared_length(request, limits)
    events = _Events()
    parser = MultipartParser(boundary_of(request), events.callbacks())  # type: ignore[arg-type]
    received = Received()
    part: _Part | None = None
    file: _FilePart | None = None
    text: bytearray | None = None
    started = time.monotonic()
    total = 0
    try:
        while True:
            remaining = started + limits.timeout_seconds + total / limits.min_rate_bytes - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(request.receive(), remaining)
            except TimeoutError:
                raise AppError(
                    "The request body arrived too slowly; send it again on a faster connection.",
                    code="request_timeout",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] == "http.disconnect":
                raise AppError("The client went away before the upload was complete.", code="bad_request")
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > limits.max_bytes + ENVELOPE_BYTES:
                raise too_large(limits)
            parser.write(chunk)
            for kind, value in events.notes:
                if kind == "begin":
                    part = _Part()
                elif kind == "header" and part is not None:
                    name, _, header_value = value.partition(b"\0")
                    part.headers[name.decode("latin-1").lower()] = header_value.decode("utf-8", "replace")
                elif kind == "headers" and part is not None:
                    _, options = parse_options_header(part.headers.get("content-disposition", ""))
                    part.name = options.get(b"name", b"").decode("utf-8", "replace")
                    raw_filename = options.get(b"filename")
                    part.filename = None if raw_filename is None else raw_filename.decode("utf-8", "replace")
                    if part.name == FILE_FIELD:
                        if file is not None:
                            raise ValidationFailed(["body", FILE_FIELD], "Send one file per upload.")
                        file = _FilePart(part, opener, limits, scan)
                        text = None
                    elif part.name == DESCRIPTION_FIELD:
                        text = bytearray()
                    else:
                        raise ValidationFailed(["body", part.name[:200]], "is not a field of an upload")
                elif kind == "data" and part is not None:
                    if part.name == FILE_FIELD and file is not None:
                        await file.data(value)
                    elif text is not None:
                        text += value
                        if len(text) > DESCRIPTION_LENGTH * 4:
                            raise ValidationFailed(["body", DESCRIPTION_FIELD], "is too long")
                elif kind == "end" and part is not None:
                    if part.name == FILE_FIELD and file is not None:
                        await file.end()
                    elif text is not None:
                        received.description = _description(bytes(text))
                        text = None
                    part = None
            events.notes.clear()
            if not message.get("more_body", False):
                break
        parser.finalize()
    except BaseException:
        if file is not None and file.writer is not None:
            await file.writer.abort()
        scan.close()
        raise
    if file is None or file.stored_type is None:
        scan.close()
        raise ValidationFailed(["body", FILE_FIELD], "Field required: the file to upload.")
    received.filename = safe_filename(file.part.filename)
    received.content_type = file.stored_type
    received.size = file.size
    received.sha256 = file.digest.hexdigest()
    received.verdict = await scan.verdict()
    return received


def _description(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(["body", DESCRIPTION_FIELD], "is not UTF-8 text") from None
    if len(text) > DESCRIPTION_LENGTH:
        raise ValidationFailed(["body", DESCRIPTION_FIELD], f"is longer than {DESCRIPTION_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text):
        raise ValidationFailed(["body", DESCRIPTION_FIELD], "holds control characters")
    return text.strip() or None
