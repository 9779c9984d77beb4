"""Documents on records (api.md "Documents"): upload to a referral, a contribution, an adult concern or
an enquiry; list a record's documents; read one's metadata; download it; withdraw it.

An upload's body is ``multipart/form-data`` read as a stream (``app.documents.upload``), so the handler
takes the request rather than a parsed body; its request body is documented here by hand."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse

from app.core import db
from app.core.auth import Principal, any_of_security, requires, requires_any
from app.core.creation import Created
from app.core.db import DbSession
from app.core.idempotency import KeyedPrincipal, idempotent_streamed
from app.core.openapi import problem_responses, register_schema
from app.core.pagination import Page, Paging
from app.core.principals import ConcernsRead, ContributionsRead, ReferralsRead
from app.core.routing import Router, handler
from app.core.scopes import Scope
from app.documents import service
from app.documents.codes import DocumentType, ParentType
from app.documents.schemas import DocumentOut, DocumentWithdrawalIn
from app.models.document import DESCRIPTION_LENGTH

router = Router(tags=["Documents"])

ReferralUploader = Annotated[
    KeyedPrincipal, idempotent_streamed(requires_any(Scope.REFERRALS_CREATE, Scope.REFERRALS_WRITE))
]
AnswerUploader = Annotated[KeyedPrincipal, idempotent_streamed(requires(Scope.CONTRIBUTIONS_WRITE))]
ConcernUploader = Annotated[
    KeyedPrincipal, idempotent_streamed(requires_any(Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE))
]
READ_SCOPES = (Scope.REFERRALS_READ, Scope.CONTRIBUTIONS_READ, Scope.ADULT_CONCERNS_READ)
DocumentReader = Annotated[Principal, requires_any(*READ_SCOPES)]
DocumentWithdrawer = Annotated[
    Principal,
    requires_any(
        Scope.REFERRALS_CREATE,
        Scope.REFERRALS_WRITE,
        Scope.CONTRIBUTIONS_WRITE,
        Scope.ADULT_CONCERNS_CREATE,
        Scope.ADULT_CONCERNS_WRITE,
    ),
]

# The default limit (MASH_DOCUMENT_MAX_BYTES may set another).
BINARY: dict[str, Any] = {"type": "string", "format": "binary", "maxLength": 20 * 1024 * 1024}
TYPES = ", ".join(f"`{t.value}`" for t in DocumentType)
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"$ref": "#/components/schemas/DocumentUpload"},
            "encoding": {
                "file": {
                    "contentType": ", ".join(t.value for t in DocumentType) + ", application/octet-stream"
                }
            },
        }
    },
}
UPLOAD_SCHEMA: dict[str, Any] = {
    "title": "DocumentUpload",
    "type": "object",
    "description": "An upload: the file and, optionally, what it is.",
    "required": ["file"],
    "additionalProperties": False,
    "properties": {
        "file": {
            **BINARY,
            "description": "The file: one of "
            + TYPES
            + ", judged by its content, not its name; at most `MASH_DOCUMENT_MAX_BYTES` (20 MiB by default). "
            "Its part's Content-Type, if given (other than `application/octet-stream`), must agree with the "
            "content.",
        },
        "description": {
            "type": "string",
            "maxLength": DESCRIPTION_LENGTH,
            "description": "What the document is.",
        },
    },
}
register_schema("DocumentUpload", UPLOAD_SCHEMA)
UPLOAD_ERRORS = problem_responses(
    400,
    408,
    413,
    415,
    422,
    codes={
        400: ["bad_request"],
        408: ["request_timeout"],
        413: ["document_too_large"],
        415: ["unsupported_document_type", "unsupported_media_type"],
        422: ["validation_failed"],
    },
)
UPLOAD_DESCRIPTION = (
    "`multipart/form-data` with `file` and an optional `description`. The file is streamed to storage as it "
    "arrives and checked on its bytes: over the size limit → 413 as soon as the limit is passed (nothing "
    "kept); not an accepted type, or not the type its part declares → 415. Its SHA-256 is computed on the way. "
    "With a virus scanner configured, the file is scanned as it arrives: `scan_status` is `clean`, "
    "`infected`, or `pending` when the scanner could not answer (scanned again on first download)."
)


def _upload(summary: str, extra_security: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": UPLOAD_DESCRIPTION,
        "responses": UPLOAD_ERRORS,
        "openapi_extra": {"requestBody": UPLOAD_BODY, **(extra_security or {})},
    }


LIST_DESCRIPTION = (
    "Metadata only, oldest first; withdrawn documents stay listed, marked `withdrawn`. Seen by whoever "
    "sees the record's content (for a referral: the hub and the referring agency, not an agency only asked about it)."
)


@dataclass(frozen=True)
class Parent:
    """A kind of record documents are attached to, and how its two routes are declared."""

    kind: ParentType
    name: str  # in the handlers' names: upload_{name}_document, list_{name}_documents
    path: str  # the record's address, naming its id as the path parameter ``parameter``
    parameter: str
    uploader: Any  # who may upload (an idempotent_streamed dependency)
    upload_summary: str
    reader: Any  # who may list
    list_summary: str
    upload_security: dict[str, Any] | None = None  # when more than one scope may upload


PARENTS = (
    Parent(
        ParentType.REFERRAL,
        "referral",
        "/v1/referrals/{referral_id}",
        "referral_id",
        ReferralUploader,
        "Attach a document to a referral (the referrer its own, or the hub)",
        ReferralsRead,
        "A referral's documents",
        any_of_security(Scope.REFERRALS_CREATE, Scope.REFERRALS_WRITE),
    ),
    Parent(
        ParentType.CONTRIBUTION,
        "contribution",
        "/v1/contributions/{contribution_id}",
        "contribution_id",
        AnswerUploader,
        "Attach a document to an agency's answer (the agency asked); a restricted answer's are restricted",
        ContributionsRead,
        "An answer's documents",
    ),
    Parent(
        ParentType.ADULT_CONCERN,
        "adult_concern",
        "/v1/adult-concerns/{concern_id}",
        "concern_id",
        ConcernUploader,
        "Attach a document to an adult concern (the raiser its own, or adult social care)",
        ConcernsRead,
        "An adult concern's documents",
        any_of_security(Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE),
    ),
    Parent(
        ParentType.ENQUIRY,
        "enquiry",
        "/v1/enquiries/{enquiry_id}",
        "enquiry_id",
        ConcernUploader,
        "Attach a document to an enquiry (adult social care, or an agency leading it or caused to carry it out)",
        ConcernsRead,
        "An enquiry's documents",
        any_of_security(Scope.ADULT_CONCERNS_CREATE, Scope.ADULT_CONCERNS_WRITE),
    ),
)


async def upload_document(
    parent_id: uuid.UUID,
    created: Created,
    principal: KeyedPrincipal,
    session: DbSession,
    request: Request,
    *,
    kind: ParentType,
) -> DocumentOut:
    settings = request.app.state.settings
    caller, key = principal.principal, principal.key
    out = await service.upload(session, caller, kind, parent_id, request, settings, key)
    return created.at(f"/v1/documents/{out.id}", out)


async def list_documents(
    parent_id: uuid.UUID, principal: Principal, session: DbSession, paging: Paging, *, kind: ParentType
) -> Page[DocumentOut]:
    found, next_cursor = await service.list_for(session, principal, kind, parent_id, paging.params)
    return paging.page(found, next_cursor)


def _parent_routes(parent: Parent) -> None:
    """``parent``'s upload and list: the templates above, with its path parameter, its kind and who may."""

    def made(template: Any, name: str, principal: Any) -> Any:
        renamed = {"parent_id": parent.parameter}
        return handler(
            template, name, renamed=renamed, typed={"principal": principal}, bound={"kind": parent.kind}
        )

    router.post(f"{parent.path}/documents", **_upload(parent.upload_summary, parent.upload_security))(
        made(upload_document, f"upload_{parent.name}_document", parent.uploader)
    )
    router.get(f"{parent.path}/documents", summary=parent.list_summary, description=LIST_DESCRIPTION)(
        made(list_documents, f"list_{parent.name}_documents", parent.reader)
    )


for parent in PARENTS:
    _parent_routes(parent)


@router.get(
    "/v1/documents/{document_id}",
    summary="A document's metadata",
    description="Visible to whoever may see its parent record's documents, with the parent's read scope; "
    "404 to anyone else.",
    openapi_extra=any_of_security(*READ_SCOPES),
)
async def get_document(document_id: uuid.UUID, principal: DocumentReader, session: DbSession) -> DocumentOut:
    return await service.read(session, principal, document_id)


CONTENT_HEADERS: dict[str, Any] = {
    "Content-Disposition": {
        "description": "`attachment`, with the file name made safe (`filename` in ASCII, `filename*` in UTF-8).",
        "schema": {"type": "string", "maxLength": 1024},
    },
    "Content-Length": {
        "description": "The file's size in bytes.",
        "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**53 - 1},
    },
    "ETag": {
        "description": "The file's SHA-256 in hex, quoted: the same bytes always have the same tag.",
        "schema": {"type": "string", "pattern": '^"[0-9a-f]{64}"$', "maxLength": 66},
    },
    "Repr-Digest": {
        "description": "The file's SHA-256 (RFC 9530): `sha-256=:<base64>:`.",
        "schema": {"type": "string", "maxLength": 60},
    },
}


@router.get(
    "/v1/documents/{document_id}/content",
    summary="Download a document",
    description="The file as uploaded, byte for byte, with `Content-Disposition: attachment` and "
    "`X-Content-Type-Options: nosniff`. Audited; when the document is another agency's, logged as a "
    "disclosure. A withdrawn document is not served (409 `document_withdrawn`); with a virus scanner "
    "configured, neither is one not yet found clean (409 `document_not_scanned`, with Retry-After; "
    "`document_infected`).",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file.",
            "content": {t.value: {"schema": BINARY} for t in DocumentType},
            "headers": CONTENT_HEADERS,
        },
        **problem_responses(
            409, codes={409: ["document_withdrawn", "document_not_scanned", "document_infected"]}
        ),
    },
    openapi_extra=any_of_security(*READ_SCOPES),
)
async def download_document(
    document_id: uuid.UUID, principal: DocumentReader, session: DbSession, request: Request
) -> StreamingResponse:
    found = await service.download(session, principal, document_id, request.app.state.settings)
    document = found.document
    sessionmaker = request.app.state.sessionmaker
    context = (str(principal.agency), str(principal.role))

    async def content() -> AsyncIterator[bytes]:
        # The request's transaction commits before the body is sent: the bytes are read in one of their own.
        async with sessionmaker() as reading:
            db.set_context(reading, context)
            await db.begin_read_only(reading)
            async for chunk in found.storage.read(reading, document.id):
                yield chunk

    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode()
    return StreamingResponse(
        content(),
        media_type=document.content_type,
        headers={
            "Content-Disposition": content_disposition(document.filename),
            "Content-Length": str(document.size_bytes),
            "ETag": f'"{document.sha256}"',
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


def content_disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post(
    "/v1/documents/{document_id}/withdrawal",
    summary="Withdraw a document (the uploader's agency or the hub)",
    description="The document stays listed, marked withdrawn with who, when and why; its content is no longer "
    "served. Withdrawing twice → 409 `document_withdrawn`.",
    responses=problem_responses(409, codes={409: ["document_withdrawn"]}),
    openapi_extra=any_of_security(
        Scope.REFERRALS_CREATE,
        Scope.REFERRALS_WRITE,
        Scope.CONTRIBUTIONS_WRITE,
        Scope.ADULT_CONCERNS_CREATE,
        Scope.ADULT_CONCERNS_WRITE,
    ),
)
async def withdraw_document(
    document_id: uuid.UUID, principal: DocumentWithdrawer, session: DbSession, body: DocumentWithdrawalIn
) -> DocumentOut:
    return await service.withdraw(session, principal, document_id, body)
