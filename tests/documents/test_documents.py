"""Documents on records: uploads streamed and checked on their bytes, downloads byte for byte with
their headers, visibility inherited from the parent record, the audit trail and the disclosure log,
withdrawal, and the limits (size while streaming, type by content)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core.db import create_engine
from tests.documents import samples
from tests.fixtures.callers import Who
from tests.fixtures.database import audit_events
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import answer, ask, create_referral, rated_referral, referral_body, unique_child
from tests.fixtures.values import Body, Headers

MiB = 1024 * 1024
PIECE = 64 * 1024


async def upload(
    http: httpx.AsyncClient,
    headers: Headers,
    url: str,
    name: str,
    content: bytes,
    content_type: str | None = None,
    description: str | None = None,
) -> httpx.Response:
    file: Any = (name, content, content_type) if content_type else (name, content)
    data = {"description": description} if description is not None else None
    return await http.post(url, files={"file": file}, data=data, headers=headers)


async def count(app: FastAPI, table: str) -> int:
    """Rows in ``table``, as the database's owner sees them (not through the API)."""
    settings = app.state.settings
    engine = create_engine(settings.model_copy(update={"database_url": settings.migration_url}))
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())
    finally:
        await engine.dispose()


async def assert_nothing_kept(app: FastAPI) -> None:
    """No document, and none of a document's content, is stored."""
    assert await count(app, "documents") == 0
    assert await count(app, "document_chunks") == 0


async def documents_url(http: httpx.AsyncClient, who: Who) -> str:
    """The documents of a new referral the hub has rated, where the police (its referrer) may upload."""
    referral = await rated_referral(http, who)
    return f"/v1/referrals/{referral['id']}/documents"


async def disclosures_of(app: FastAPI, document_id: str) -> list[dict[str, Any]]:
    settings = app.state.settings
    engine = create_engine(settings.model_copy(update={"database_url": settings.migration_url}))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT record_type, recipient_agency, purpose, trigger FROM disclosures WHERE record_id = :id"
                ),
                {"id": document_id.replace("-", "") if settings.is_sqlite else document_id},
            )
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("name", "content", "declared", "expected_type"),
    [
        ("statement.pdf", samples.PDF, "application/pdf", "application/pdf"),
        ("letter.docx", samples.docx(), samples.DOCX_TYPE, samples.DOCX_TYPE),
        ("body map.png", samples.png(), None, "image/png"),
    ],
)
async def test_a_document_round_trips_byte_for_byte_with_its_headers(
    client: httpx.AsyncClient, who: Who, name: str, content: bytes, declared: str | None, expected_type: str
) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    response = await upload(client, who["police"], url, name, content, declared, description="From the scene")
    created = ok(response, 201)
    assert response.headers["location"] == f"/v1/documents/{created['id']}"
    digest = hashlib.sha256(content).hexdigest()
    assert created["sha256"] == digest
    assert created["size_bytes"] == len(content)
    assert created["content_type"] == expected_type
    assert created["filename"] == name
    assert created["description"] == "From the scene"
    assert created["agency"] == "police"
    assert created["scan_status"] == "not_scanned"
    assert (created["parent_type"], created["parent_id"]) == ("referral", referral["id"])

    for reader in ("police", "practitioner"):
        got = await client.get(created["content_url"], headers=who[reader])
        assert got.status_code == 200, got.text
        assert got.content == content
        assert got.headers["content-type"] == expected_type
        assert got.headers["content-length"] == str(len(content))
        assert got.headers["etag"] == f'"{digest}"'
        assert got.headers["x-content-type-options"] == "nosniff"
        disposition = got.headers["content-disposition"]
        assert disposition.startswith("attachment; ")
        assert f'filename="{name}"' in disposition

    listed = ok(await client.get(url, headers=who["practitioner"]))
    assert [d["id"] for d in listed["items"]] == [created["id"]]
    assert ok(await client.get(f"/v1/documents/{created['id']}", headers=who["police"]))["sha256"] == digest


async def test_an_executable_named_pdf_is_refused_and_nothing_is_kept(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    url = await documents_url(client, who)
    response = await upload(client, who["police"], url, "report.pdf", samples.elf(), "application/pdf")
    assert_problem(response, 415, "unsupported_document_type")
    await assert_nothing_kept(app)


async def test_a_declared_type_that_disagrees_with_the_content_is_refused(
    client: httpx.AsyncClient, who: Who
) -> None:
    url = await documents_url(client, who)
    response = await upload(client, who["police"], url, "photo.jpg", samples.PDF, "image/jpeg")
    assert_problem(response, 415, "unsupported_document_type")


async def test_a_file_over_the_limit_is_refused_before_the_whole_body_is_read(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    """21 MiB against the 20 MiB default, sent without a Content-Length (chunked), so only the bytes
    themselves can tell: the upload stops soon after the limit, and nothing of it is kept."""
    url = await documents_url(client, who)
    boundary = "mash-test-boundary"
    sent = 0
    total = 21 * MiB

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        yield head
        piece = samples.PDF + b"%" * (PIECE - len(samples.PDF))
        while sent < total:
            sent += len(piece)
            yield piece
            piece = b"%" * PIECE
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**who["police"], "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = await client.post(url, content=body(), headers=headers)
    assert_problem(response, 413, "document_too_large")
    # The server stopped reading within a piece or two of the limit, well before the end.
    assert 20 * MiB < sent <= 20 * MiB + 2 * PIECE < total
    await assert_nothing_kept(app)


async def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read(
    client: httpx.AsyncClient, who: Who
) -> None:
    url = await documents_url(client, who)
    headers = {
        **who["police"],
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(21 * MiB),
    }

    async def nothing() -> AsyncIterator[bytes]:
        yield b""

    response = await client.post(url, content=nothing(), headers=headers)
    assert_problem(response, 413, "document_too_large")


async def restricted_answer_with_document(client: httpx.AsyncClient, who: Who) -> tuple[Body, Body]:
    referral = await rated_referral(client, who)
    [contribution] = await ask(client, who["practitioner"], referral["id"], "health")
    await answer(
        client,
        who["health"],
        contribution["id"],
        restricted=True,
        restriction_reason="Disclosure would prejudice a live investigation.",
    )
    url = f"/v1/contributions/{contribution['id']}/documents"
    document = ok(await upload(client, who["health"], url, "notes.pdf", samples.PDF), 201)
    return contribution, document


async def test_a_restricted_contributions_document_is_hidden_from_other_agencies(
    client: httpx.AsyncClient, who: Who
) -> None:
    contribution, document = await restricted_answer_with_document(client, who)
    assert document["restricted"] is True
    for outsider in ("police", "education"):  # the referrer, and an agency not involved
        for path in (f"/v1/documents/{document['id']}", document["content_url"]):
            assert_problem(await client.get(path, headers=who[outsider]), 404, "not_found")
        listing = await client.get(f"/v1/contributions/{contribution['id']}/documents", headers=who[outsider])
        assert_problem(listing, 404, "not_found")
    assert ok(await client.get(f"/v1/documents/{document['id']}", headers=who["practitioner"]))["restricted"]


async def test_an_agency_asked_about_a_referral_does_not_see_its_documents(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    await ask(client, who["practitioner"], referral["id"], "health")
    url = f"/v1/referrals/{referral['id']}/documents"
    document = ok(await upload(client, who["police"], url, "statement.pdf", samples.PDF), 201)
    assert_problem(await client.get(document["content_url"], headers=who["health"]), 404, "not_found")
    assert_problem(await client.get(url, headers=who["health"]), 404, "not_found")
    assert_problem(await upload(client, who["health"], url, "x.pdf", samples.PDF), 404, "not_found")


async def test_a_download_is_audited_and_another_agencys_is_a_disclosure(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    mine = ok(await upload(client, who["police"], url, "statement.pdf", samples.PDF), 201)
    hubs = ok(await upload(client, who["practitioner"], url, "outcome letter.pdf", samples.PDF), 201)
    assert (await client.get(hubs["content_url"], headers=who["police"])).status_code == 200
    assert (await client.get(mine["content_url"], headers=who["police"])).status_code == 200

    downloads = await audit_events(app, record_type="document", action="export")
    assert [(e.record_id, e.actor_agency) for e in downloads] == [
        (hubs["id"], "police"),
        (mine["id"], "police"),
    ]
    assert {e.details["parent_id"] for e in downloads} == {referral["id"]}
    # The hub's letter, downloaded by the police: a disclosure to the police, one per child.
    assert await disclosures_of(app, hubs["id"]) == [
        {
            "record_type": "referral_document",
            "recipient_agency": "police",
            "purpose": "case_document",
            "trigger": "read",
        }
    ]
    # The police's own statement, downloaded by the police: nothing disclosed.
    assert await disclosures_of(app, mine["id"]) == []


async def test_a_withdrawn_document_stays_listed_and_is_no_longer_served(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await rated_referral(client, who)
    url = f"/v1/referrals/{referral['id']}/documents"
    document = ok(await upload(client, who["police"], url, "wrong.pdf", samples.PDF), 201)
    withdrawal = f"/v1/documents/{document['id']}/withdrawal"
    # Another partner may not; the uploader's agency may.
    assert_problem(
        await client.post(withdrawal, json={"reason": "x"}, headers=who["education"]), 404, "not_found"
    )
    withdrawn = ok(await client.post(withdrawal, json={"reason": "Wrong referral."}, headers=who["police"]))
    assert withdrawn["withdrawn"] is True
    assert withdrawn["withdrawal"]["reason"] == "Wrong referral."
    assert withdrawn["withdrawal"]["withdrawn_by"] == "police-system"
    listed = ok(await client.get(url, headers=who["practitioner"]))["items"]
    assert [(d["id"], d["withdrawn"]) for d in listed] == [(document["id"], True)]
    assert_problem(
        await client.get(document["content_url"], headers=who["practitioner"]), 409, "document_withdrawn"
    )
    again = await client.post(withdrawal, json={"reason": "Again."}, headers=who["practitioner"])
    assert_problem(again, 409, "document_withdrawn")


async def test_uploads_need_the_right_to_write_on_the_record(client: httpx.AsyncClient, who: Who) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    url = f"/v1/referrals/{referral['id']}/documents"
    # Another partner cannot see the referral at all.
    assert_problem(await upload(client, who["education"], url, "x.pdf", samples.PDF), 404, "not_found")
    # An auditor has no scope to upload.
    assert_problem(await upload(client, who["auditor"], url, "x.pdf", samples.PDF), 403, "insufficient_scope")
    # Only a file field, once, and a description.
    response = await client.post(
        url, data={"note": "x"}, files={"file": ("a.pdf", samples.PDF)}, headers=who["police"]
    )
    assert_problem(response, 422, "validation_failed")
    response = await client.post(url, data={"description": "no file"}, headers=who["police"])
    assert response.status_code in (415, 422), response.text
    response = await client.post(url, json={"file": "x"}, headers=who["police"])
    assert_problem(response, 415, "unsupported_media_type")


async def test_an_upload_retried_with_its_idempotency_key_is_not_stored_twice(
    app: FastAPI, client: httpx.AsyncClient, who: Who
) -> None:
    url = await documents_url(client, who)
    headers = {**who["police"], "Idempotency-Key": "upload-1"}
    first = await upload(client, headers, url, "statement.pdf", samples.PDF, description="Statement")
    # The same upload again (httpx frames it with a new multipart boundary): the stored answer.
    again = await upload(client, headers, url, "statement.pdf", samples.PDF, description="Statement")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await count(app, "documents") == 1
    # Another file under the same key: refused.
    other = await upload(client, headers, url, "statement.png", samples.png(), description="Statement")
    assert_problem(other, 422, "idempotency_key_reused")
    assert await count(app, "documents") == 1
