"""What a file is, judged by its bytes with libmagic (``python-magic``), never by its name or by the
type the client declares. The client's declared type is only checked against what the bytes are."""

from __future__ import annotations

import email.message

import magic

from app.documents.codes import DocumentType

# libmagic needs the start of a file: the signatures of every accepted type are in the first few
# kilobytes (DOCX and ODT name their parts near the start of the ZIP). More is buffered only for short files.
SNIFF_BYTES = 64 * 1024

# Names clients use for the same types.
_ALIASES = {
    "image/jpg": DocumentType.JPEG,
    "image/pjpeg": DocumentType.JPEG,
    "application/x-pdf": DocumentType.PDF,
    "image/tif": DocumentType.TIFF,
}
# A declared type that says nothing about the content.
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_magic = magic.Magic(mime=True)


def content_type(head: bytes) -> DocumentType | None:
    """The accepted type the bytes are, or None (an executable, an archive, anything else)."""
    found = str(_magic.from_buffer(head)).lower()
    try:
        return DocumentType(found)
    except ValueError:
        return None


def media_type(declared: str | None) -> str:
    """The bare media type of a Content-Type header value (parameters dropped, lower case)."""
    if not declared:
        return ""
    message = email.message.Message()
    message["content-type"] = declared
    return message.get_content_type() if "/" in declared else ""


def agrees(declared: str | None, found: DocumentType) -> DocumentType | None:
    """The type to store when the client declared ``declared`` and the bytes are ``found``; None when
    they disagree. An email is often plain text to libmagic: declared as one, it is kept as one."""
    bare = media_type(declared)
    if bare in _UNDECLARED:
        return found
    named = _ALIASES.get(bare, bare)
    if named == found:
        return found
    if named == DocumentType.EML and found == DocumentType.TEXT:
        return DocumentType.EML
    return None
