"""Documents on the adults' side (concerns and enquiries), the file-system storage, and subject access
exports listing documents (a restricted contribution's withheld and counted)."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.conftest import make_settings
from tests.documents import samples
from tests.documents.test_documents import count, disclosures_of, upload
from tests.fixtures.adults import concern_in
from tests.fixtures.callers import Who
from tests.fixtures.database import one_connection_settings
from tests.fixtures.http import assert_problem, ok
from tests.fixtures.referrals import answer, ask, create_referral, rate, referral_body, unique_child


async def test_a_concerns_documents_are_seen_by_adult_social_care_and_the_raiser(
    app: FastAPI, client: httpx.AsyncClient, adult_who: Who
) -> None:
    who = adult_who
    case = await concern_in(client, who, "enquiry_open")
    url = f"/v1/adult-concerns/{case.id}/documents"
    raised = ok(await upload(client, who["health"], url, "gp letter.pdf", samples.PDF), 201)
    assert raised["parent_type"] == "adult_concern"
    # Another partner does not see the concern, so neither its documents.
    assert_problem(await client.get(raised["content_url"], headers=who["police"]), 404, "not_found")
    assert_problem(await upload(client, who["police"], url, "x.pdf", samples.PDF), 404, "not_found")
    # Adult social care reads the GP's letter: the GP's document, disclosed to adult social care.
    got = await client.get(raised["content_url"], headers=who["worker"])
    assert got.content == samples.PDF
    assert [d["record_type"] for d in await disclosures_of(app, raised["id"])] == ["adult_concern_document"]

    assert case.enquiry_id is not None
    enquiry_url = f"/v1/enquiries/{case.enquiry_id}/documents"
    notes = ok(await upload(client, who["worker"], enquiry_url, "visit notes.docx", samples.docx()), 201)
    assert notes["content_type"] == samples.DOCX_TYPE
    listed = ok(await client.get(enquiry_url, headers=who["worker"]))["items"]
    assert [d["id"] for d in listed] == [notes["id"]]
    # The raiser does not read the enquiry (it is not leading it), nor its documents.
    assert_problem(await client.get(enquiry_url, headers=who["health"]), 404, "not_found")
    assert_problem(await client.get(notes["content_url"], headers=who["health"]), 404, "not_found")
    assert await count(app, "documents") == 2


async def test_the_subject_access_export_lists_documents_and_withholds_a_restricted_answers(
    client: httpx.AsyncClient, who: Who
) -> None:
    referral = await create_referral(client, who["police"], referral_body(unique_child()))
    await rate(client, who["practitioner"], referral["id"])
    health, education = await ask(client, who["practitioner"], referral["id"], "health", "education")
    await answer(
        client, who["health"], health["id"], restricted=True, restriction_reason="Live investigation."
    )
    await answer(client, who["education"], education["id"])
    statement = ok(
        await upload(
            client, who["police"], f"/v1/referrals/{referral['id']}/documents", "statement.pdf", samples.PDF
        ),
        201,
    )
    hidden = f"/v1/contributions/{health['id']}/documents"
    ok(await upload(client, who["health"], hidden, "clinic.pdf", samples.PDF), 201)
    shown = f"/v1/contributions/{education['id']}/documents"
    report = ok(await upload(client, who["education"], shown, "attendance.png", samples.png()), 201)

    full = ok(await client.get(f"/v1/referrals/{referral['id']}", headers=who["practitioner"]))
    person_id = full["children"][0]["person_id"]
    export = ok(await client.get(f"/v1/people/{person_id}/record", headers=who["governance"]))
    listed = [(d["id"], d["parent_type"], d["filename"], d["sha256"]) for d in export["documents"]]
    assert listed == [
        (statement["id"], "referral", "statement.pdf", hashlib.sha256(samples.PDF).hexdigest()),
        (report["id"], "contribution", "attendance.png", hashlib.sha256(samples.png()).hexdigest()),
    ]
    withheld = {(i["reason"], i["kind"]): i["count"] for i in export["withheld"]["items"]}
    assert withheld[("restricted_contribution", "document")] == 1
    assert "clinic.pdf" not in str(export)


class TestFilesystemStorage:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return make_settings(
            database_url, document_storage="filesystem", document_directory=tmp_path / "docs"
        )

    async def test_documents_round_trip_through_files_and_a_refused_upload_leaves_none(
        self, app: FastAPI, client: httpx.AsyncClient, who: Who, tmp_path: Path
    ) -> None:
        referral = await create_referral(client, who["police"], referral_body(unique_child()))
        url = f"/v1/referrals/{referral['id']}/documents"
        content = samples.docx(random.Random(1).randbytes(700_000).hex())  # several storage chunks
        document = ok(await upload(client, who["police"], url, "letter.docx", content), 201)
        stored = [p for p in (tmp_path / "docs").rglob("*") if p.is_file()]
        assert len(content) > 2 * 256 * 1024
        assert [p.read_bytes() for p in stored] == [content]
        assert await count(app, "document_chunks") == 0
        got = await client.get(document["content_url"], headers=who["practitioner"])
        assert got.content == content
        assert got.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"'

        refused = await upload(client, who["police"], url, "report.pdf", samples.elf(), "application/pdf")
        assert_problem(refused, 415, "unsupported_document_type")
        assert [p for p in (tmp_path / "docs").rglob("*") if p.is_file()] == stored


class TestSlowUploads:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return one_connection_settings(database_url)

    async def test_a_trickled_upload_holds_no_database_connection_and_ends_408(
        self, app: FastAPI, client: httpx.AsyncClient, who: Who
    ) -> None:
        referral = await create_referral(client, who["police"], referral_body(unique_child()))
        url = f"/v1/referrals/{referral['id']}/documents"
        started = asyncio.Event()

        async def trickle() -> AsyncIterator[bytes]:
            yield (
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + samples.PDF
            )
            started.set()
            await asyncio.Event().wait()  # the rest never comes
            yield b"\r\n--b--\r\n"

        headers = {**who["police"], "Content-Type": "multipart/form-data; boundary=b"}
        slow = asyncio.create_task(client.post(url, content=trickle(), headers=headers))
        await started.wait()
        # The pool's only connection is free (and, on SQLite, the write lock): another request runs.
        other = await client.post(url, files={"file": ("b.pdf", samples.PDF)}, headers=who["police"])
        assert other.status_code == 201, other.text
        assert not slow.done()
        response = await slow
        assert_problem(response, 408, "request_timeout")
        assert await count(app, "documents") == 1
