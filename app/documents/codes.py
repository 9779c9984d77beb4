"""The codes a document carries (stable wire values)."""

from __future__ import annotations

from enum import StrEnum


class ParentType(StrEnum):
    """The record a document hangs off; its visibility is that record's."""

    REFERRAL = "referral"
    CONTRIBUTION = "contribution"
    ADULT_CONCERN = "adult_concern"
    ENQUIRY = "enquiry"


class ScanStatus(StrEnum):
    """The virus scan: ``not_scanned`` when no scanner is configured (served as uploaded); with one,
    ``pending`` until it answers, then ``clean`` (served) or ``infected`` (never served)."""

    NOT_SCANNED = "not_scanned"
    PENDING = "pending"
    CLEAN = "clean"
    INFECTED = "infected"


class StorageKind(StrEnum):
    DATABASE = "database"
    FILESYSTEM = "filesystem"


class DocumentType(StrEnum):
    """The types accepted, as found in the bytes (api.md: PDF, DOCX, ODT, PNG, JPEG, TIFF, plain text, EML)."""

    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ODT = "application/vnd.oasis.opendocument.text"
    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    TEXT = "text/plain"
    EML = "message/rfc822"
