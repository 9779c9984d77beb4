"""Documents as the API shows them: metadata only (the content is its own operation)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import MULTI_LINE, RequestModel, ResponseModel, example
from app.core.scopes import AgencyCode
from app.documents.codes import DocumentType, ParentType, ScanStatus
from app.models.document import DESCRIPTION_LENGTH, FILENAME_LENGTH, REASON_LENGTH


class DocumentWithdrawal(ResponseModel):
    withdrawn_at: datetime
    withdrawn_by: str | None = Field(
        None,
        max_length=255,
        description="The `sub` who withdrew it; shown to the withdrawing agency and the hub.",
    )
    reason: str = Field(max_length=REASON_LENGTH)


class DocumentOut(ResponseModel):
    """A document on a record: what it is, who added it, its scan and whether it was withdrawn."""

    model_config = example(
        {
            "id": "6f1c2a8e-3d1b-4a57-9b7e-0c2d4e6f8a10",
            "parent_type": "referral",
            "parent_id": "0d9b5a3c-1e2f-4a6b-8c7d-9e0f1a2b3c4d",
            "agency": "police",
            "uploaded_by": "police-system",
            "uploaded_at": "2026-12-06T10:15:00+00:00",
            "filename": "statement.pdf",
            "description": "Officer's statement",
            "content_type": "application/pdf",
            "size_bytes": 48213,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "scan_status": "clean",
            "restricted": False,
            "withdrawn": False,
            "withdrawal": None,
            "content_url": "/v1/documents/6f1c2a8e-3d1b-4a57-9b7e-0c2d4e6f8a10/content",
        }
    )

    id: uuid.UUID
    parent_type: ParentType
    parent_id: uuid.UUID
    agency: AgencyCode = Field(description="The agency that uploaded it: the document is its.")
    uploaded_by: str | None = Field(
        None, max_length=255, description="The uploader's `sub`; not shown to partners for hub staff."
    )
    uploaded_at: datetime
    filename: str = Field(max_length=FILENAME_LENGTH, description="The name sent, made safe (no path).")
    description: str | None = Field(None, max_length=DESCRIPTION_LENGTH)
    content_type: DocumentType = Field(description="The type found in the bytes, not the one declared.")
    size_bytes: int = Field(ge=0, le=2**53 - 1)
    sha256: str = Field(pattern="^[0-9a-f]{64}$", min_length=64, max_length=64)
    scan_status: ScanStatus
    restricted: bool = Field(
        description="The parent record is restricted (a restricted contribution): withheld from subject "
        "access exports."
    )
    withdrawn: bool
    withdrawal: DocumentWithdrawal | None = None
    content_url: str = Field(max_length=100, description="Where the content is downloaded from.")


class DocumentWithdrawalIn(RequestModel):
    model_config = example({"reason": "Uploaded to the wrong referral."})

    reason: str = Field(min_length=1, max_length=REASON_LENGTH, pattern=MULTI_LINE)


class DocumentUpload(RequestModel):
    """The ``multipart/form-data`` body of an upload (documented here; read as a stream, see
    ``app.documents.upload``)."""

    file: bytes = Field(
        json_schema_extra={"format": "binary"},
        description="The file. PDF, DOCX, ODT, PNG, JPEG, TIFF, plain text or EML, judged by its content; "
        "at most `MASH_DOCUMENT_MAX_BYTES` (20 MiB by default). Its part's Content-Type, if given, must "
        "agree with the content.",
    )
    description: str | None = Field(None, max_length=DESCRIPTION_LENGTH, pattern=MULTI_LINE)
