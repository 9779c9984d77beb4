"""Documents on records: upload (streamed, checked and scanned on the way in), metadata, download,
withdrawal. Every read and write is audited on the parent's people; a download of another agency's
document is logged as a disclosure."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.children.referrals import repository as referral_repository
from app.children.referrals import service as referrals
from app.children.referrals.repository import NamedChild
from app.core import audit, db, idempotency
from app.core.audit import AuditAction
from app.core.auth import Principal
from app.core.config import Settings
from app.core.errors import AppError, InsufficientScope, NotFound
from app.core.pagination import PageParams
from app.documents import access, repository
from app.documents.access import Parent
from app.documents.codes import DocumentType, ParentType, ScanStatus
from app.documents.scanner import ClamdScanner, StreamingScan, Verdict
from app.documents.schemas import DocumentOut, DocumentWithdrawal, DocumentWithdrawalIn
from app.documents.storage import Storage, Writer, storage_for
from app.documents.upload import Limits, Received, Spool, receive_document
from app.models.base import utcnow
from app.models.document import Document
from app.people.disclosures import service as disclosures

RECORD_TYPE = "document"


def scanner(settings: Settings) -> ClamdScanner | None:
    url = settings.document_scanner_url
    return None if url is None else ClamdScanner(url, settings.document_scanner_timeout_seconds)


def limits(settings: Settings) -> Limits:
    return Limits(settings.document_max_bytes, settings.body_timeout_seconds, settings.body_min_rate_bytes)


async def _audit(
    session: AsyncSession,
    actor: Principal,
    action: AuditAction,
    parent: Parent,
    document_id: uuid.UUID | None,
    **details: object,
) -> None:
    details = {"parent_type": str(parent.type), "parent_id": str(parent.id), **details}
    if parent.referral_id is not None:
        await referrals.audit_on_referral(
            session,
            actor,
            action,
            parent.referral_id,
            record_id=document_id or parent.id,
            record_type=RECORD_TYPE,
            **details,
        )
    else:
        person_id = None if parent.concern is None else parent.concern.person_id
        audit.record(
            session,
            actor,
            action,
            RECORD_TYPE,
            document_id or parent.id,
            person_id=person_id,
            details=details,
        )


def render(document: Document, viewer: Principal, parent: Parent) -> DocumentOut:
    kind, parent_id = access.parent_of(document)
    shows_subs = access.shows_staff(viewer, document)
    withdrawal = None
    if document.withdrawn_at is not None:
        withdrawal = DocumentWithdrawal(
            withdrawn_at=document.withdrawn_at,
            withdrawn_by=document.withdrawn_by if shows_subs else None,
            reason=document.withdrawal_reason or "",
        )
    return DocumentOut(
        id=document.id,
        parent_type=kind,
        parent_id=parent_id,
        agency=document.agency,
        uploaded_by=document.uploaded_by if shows_subs else None,
        uploaded_at=document.uploaded_at,
        filename=document.filename,
        description=document.description,
        content_type=DocumentType(document.content_type),
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        scan_status=ScanStatus(document.scan_status),
        restricted=parent.restricted,
        withdrawn=document.withdrawn_at is not None,
        withdrawal=withdrawal,
        content_url=f"/v1/documents/{document.id}/content",
    )


async def upload(
    session: AsyncSession,
    actor: Principal,
    parent_type: ParentType,
    parent_id: uuid.UUID,
    request: Request,
    settings: Settings,
    key: str | None = None,
) -> DocumentOut:
    """Store the upload streamed in ``request`` on the parent record.

    The body may take minutes to arrive: while it does, the request holds no database connection and no
    lock (on SQLite, the write lock every other writer waits for). The parent is checked first (404/403
    before any byte is read), the transaction released, and the file received into a temporary file on
    disk, checked (size, type), hashed and scanned on the way (``app.documents.upload``); then, in a new
    transaction, the parent is checked again, the Idempotency-Key settled, and the file copied into
    storage. Any refusal leaves nothing stored: the temporary file is removed, the transaction rolled
    back with every chunk written, a file-system writer's file removed."""
    await access.upload_parent(session, actor, parent_type, parent_id)
    await db.release(session)
    with Spool() as spool:

        async def opener(filename: str, content_type: DocumentType) -> Writer:
            return spool

        received = await receive_document(request, opener, limits(settings), StreamingScan(scanner(settings)))
        parent = await access.upload_parent(session, actor, parent_type, parent_id)
        if key is not None:
            claim = await idempotency.claim_streamed(request, session, actor, key)
            idempotency.settle_streamed(request, session, actor, claim, _content_digest(received))
        document_id = uuid.uuid4()
        storage = storage_for(settings)
        verdict = received.verdict or Verdict(ScanStatus.NOT_SCANNED)
        await repository.insert(
            session,
            {
                "id": document_id,
                "parent_type": str(parent.type),
                **parent.keys,
                "agency": str(actor.agency),
                "uploaded_by": actor.sub,
                "uploaded_at": utcnow(),
                "filename": received.filename,
                "description": received.description,
                "content_type": str(received.content_type),
                "size_bytes": received.size,
                "sha256": received.sha256,
                "storage": str(storage.kind),
                "scan_status": str(verdict.status),
                "scan_signature": verdict.signature,
                "scanned_at": None
                if verdict.status in (ScanStatus.NOT_SCANNED, ScanStatus.PENDING)
                else utcnow(),
            },
        )
        writer = storage.writer(session, document_id)
        try:
            async for piece in spool.pieces():
                await writer.write(piece)
            await writer.finish()
        except BaseException:
            await writer.abort()
            raise
    document = await repository.get(session, document_id)
    assert document is not None
    await _audit(
        session,
        actor,
        AuditAction.CREATE,
        parent,
        document_id,
        size_bytes=received.size,
        sha256=received.sha256,
        content_type=str(received.content_type),
        scan_status=str(verdict.status),
    )
    return render(document, actor, parent)


def _content_digest(received: Received) -> str:
    """What an upload asked for, however its multipart body was framed (boundaries differ per try)."""
    parts = (received.filename, str(received.content_type), received.description or "", received.sha256)
    return "upload:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


async def list_for(
    session: AsyncSession, actor: Principal, parent_type: ParentType, parent_id: uuid.UUID, params: PageParams
) -> tuple[list[DocumentOut], str | None]:
    parent = await access.parent(session, actor, parent_type, parent_id)
    found, next_cursor = await repository.for_parent(session, parent.keys, params)
    await _audit(session, actor, AuditAction.LIST, parent, None, document_ids=[str(d.id) for d in found])
    return [render(d, actor, parent) for d in found], next_cursor


async def visible(
    session: AsyncSession, actor: Principal, document_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Document, Parent]:
    """The document and its parent, if the caller may see the parent; 404 otherwise (never 403: its
    existence is not revealed), and 403 only to a caller with none of the parents' read scopes."""
    if not access.reads_any(actor):
        raise InsufficientScope([str(s) for s in sorted(set(access.READ_SCOPES.values()))], any_of=True)
    document = await repository.get(session, document_id, for_update=for_update)
    if document is None:
        raise NotFound("document", document_id)
    kind, parent_id = access.parent_of(document)
    try:
        parent = await access.parent(session, actor, kind, parent_id)
    except NotFound:
        raise NotFound("document", document_id) from None
    return document, parent


async def read(session: AsyncSession, actor: Principal, document_id: uuid.UUID) -> DocumentOut:
    document, parent = await visible(session, actor, document_id)
    await _audit(session, actor, AuditAction.READ, parent, document.id)
    return render(document, actor, parent)


@dataclass(frozen=True, slots=True)
class Download:
    document: Document
    storage: Storage


async def download(
    session: AsyncSession, actor: Principal, document_id: uuid.UUID, settings: Settings
) -> Download:
    """What to stream: refused when withdrawn, and, with a scanner configured, until found clean (a
    pending document is scanned again now, from storage)."""
    document, parent = await visible(session, actor, document_id, for_update=True)
    if document.withdrawn_at is not None:
        raise AppError(code="document_withdrawn")
    storage = storage_for(settings, document.storage)
    configured = scanner(settings)
    if configured is not None and document.scan_status in (ScanStatus.PENDING, ScanStatus.NOT_SCANNED):
        verdict = await _rescan(session, configured, storage, document.id)
        document.scan_status = str(verdict.status)
        document.scan_signature = verdict.signature
        document.scanned_at = None if verdict.status == ScanStatus.PENDING else utcnow()
        await session.flush()
    if document.scan_status == ScanStatus.INFECTED:
        raise AppError(code="document_infected")
    if configured is not None and document.scan_status != ScanStatus.CLEAN:
        raise AppError(code="document_not_scanned", headers={"Retry-After": "60"})
    await _audit(
        session, actor, AuditAction.EXPORT, parent, document.id, sha256=document.sha256, download=True
    )
    if access.foreign(actor, document):
        children: tuple[NamedChild, ...] = ()
        if parent.referral_id is not None:
            children = tuple(await referral_repository.named_children.of(session, parent.referral_id))
        await disclosures.document_downloaded(
            session,
            actor,
            record_type=f"{parent.type}_document",
            document_id=document.id,
            children=children,
            concern=parent.concern,
            details={"parent_id": str(parent.id), "uploaded_by_agency": document.agency},
        )
    return Download(document, storage)


async def _rescan(
    session: AsyncSession, configured: ClamdScanner, storage: Storage, document_id: uuid.UUID
) -> Verdict:
    scan = StreamingScan(configured)
    chunks: AsyncIterator[bytes] = storage.read(session, document_id)
    async for chunk in chunks:
        await scan.feed(chunk)
        if scan.failed:
            break
    return await scan.verdict()


async def withdraw(
    session: AsyncSession, actor: Principal, document_id: uuid.UUID, body: DocumentWithdrawalIn
) -> DocumentOut:
    document, parent = await visible(session, actor, document_id, for_update=True)
    if not access.withdraws(actor, document):
        raise NotFound("document", document_id)
    access.check_writes(actor, parent.type)
    if document.withdrawn_at is not None:
        raise AppError(code="document_withdrawn")
    document.withdrawn_at = utcnow()
    document.withdrawn_by = actor.sub
    document.withdrawal_reason = body.reason
    await session.flush()
    await _audit(session, actor, AuditAction.UPDATE, parent, document.id, withdrawn=True)
    return render(document, actor, parent)
