"""Where a document's bytes are kept, behind one small interface.

- ``DatabaseStorage`` (the default): the bytes in ``document_chunks``, 256 KiB a row, written in the
  request's transaction, so a refused or failed upload leaves nothing behind (the rollback takes the
  rows with it) and a backup of the database holds the documents too.
- ``FilesystemStorage``: one file per document under a directory, written to a temporary name and
  renamed into place when the upload has been accepted; a refused upload's file is removed.

A writer takes the bytes as they arrive (``write``) and either ``finish``es or ``abort``s; ``read``
yields a stored document's bytes in order, a chunk at a time, so neither side holds a whole file.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.documents.codes import StorageKind
from app.models.document import DocumentChunk

CHUNK_BYTES = 256 * 1024


class Writer(Protocol):
    async def write(self, data: bytes) -> None: ...
    async def finish(self) -> None: ...
    async def abort(self) -> None: ...


class Storage(Protocol):
    kind: StorageKind

    def writer(self, session: AsyncSession, document_id: uuid.UUID) -> Writer: ...

    def read(self, session: AsyncSession, document_id: uuid.UUID) -> AsyncIterator[bytes]: ...


class _ChunkWriter:
    def __init__(self, session: AsyncSession, document_id: uuid.UUID) -> None:
        self.session = session
        self.document_id = document_id
        self.buffer = bytearray()
        self.seq = 0

    async def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= CHUNK_BYTES:
            await self._insert(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]

    async def _insert(self, data: bytes) -> None:
        # Core, not the ORM: nothing of the bytes stays in the session's identity map.
        await self.session.execute(
            sa.insert(DocumentChunk).values(document_id=self.document_id, seq=self.seq, data=data)
        )
        self.seq += 1

    async def finish(self) -> None:
        if self.buffer or self.seq == 0:
            await self._insert(bytes(self.buffer))
            self.buffer.clear()

    async def abort(self) -> None:
        self.buffer.clear()  # the rows written go with the transaction's rollback


class DatabaseStorage:
    kind = StorageKind.DATABASE

    def writer(self, session: AsyncSession, document_id: uuid.UUID) -> Writer:
        return _ChunkWriter(session, document_id)

    async def read(self, session: AsyncSession, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        seq = 0
        while True:
            # One chunk per statement: a 20 MiB document never sits in memory whole.
            data = await session.scalar(
                sa.select(DocumentChunk.data).where(
                    DocumentChunk.document_id == document_id, DocumentChunk.seq == seq
                )
            )
            if data is None:
                return
            yield data
            seq += 1


class _FileWriter:
    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(f"{final.name}.{uuid.uuid4().hex}.part")
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.partial.open("wb")

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self.file.write, data)

    async def finish(self) -> None:
        def done() -> None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.partial.replace(self.final)

        await asyncio.to_thread(done)

    async def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


class FilesystemStorage:
    kind = StorageKind.FILESYSTEM

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, document_id: uuid.UUID) -> Path:
        name = document_id.hex
        return self.directory / name[:2] / name

    def writer(self, session: AsyncSession, document_id: uuid.UUID) -> Writer:
        return _FileWriter(self.path(document_id))

    async def read(self, session: AsyncSession, document_id: uuid.UUID) -> AsyncIterator[bytes]:
        file = await asyncio.to_thread(self.path(document_id).open, "rb")
        try:
            while data := await asyncio.to_thread(file.read, CHUNK_BYTES):
                yield data
        finally:
            file.close()


def storage_for(settings: Settings, kind: str | None = None) -> Storage:
    """The storage new documents go to (``kind`` None), or the one a stored document names."""
    chosen = StorageKind(kind or settings.document_storage)
    if chosen == StorageKind.FILESYSTEM:
        return FilesystemStorage(settings.document_directory)
    return DatabaseStorage()
