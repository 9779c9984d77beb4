"""What a browser makes of the service, in headless Chromium against ``mash serve``.

- ``/docs`` (Swagger UI) and ``/redoc`` list the operations with nothing but 127.0.0.1 reachable: their
  assets are the service's own (``app.core.docs``), and nothing is fetched from elsewhere.
- A page on another origin calls the API with ``fetch`` and a bearer token: with its origin in
  ``MASH_CORS_ALLOW_ORIGINS`` it reads the answer (and the headers a client acts on); without, the
  browser refuses to hand it the answer (``app.core.cors``).
"""

from __future__ import annotations

from typing import Any

from app.main import openapi_document
from tests.browser.conftest import Browser
from tests.conftest import app_url
from tests.fixtures.callers import TokenFactory
from tests.fixtures.referrals import referral_body
from tests.fixtures.servers import mash_server

LOAD_TIMEOUT_MS = 90_000  # the document is large and CI's machine is small


async def test_swagger_ui_lists_every_operation_offline(browser: Browser, database_url: str) -> None:
    document = openapi_document()
    async with mash_server(app_url(database_url)) as (origin, _):
        page = browser.page
        await page.goto(f"{origin}/docs")
        operations = page.locator(".opblock-summary-path")
        await operations.first.wait_for(timeout=LOAD_TIMEOUT_MS)
        shown = {text.replace("\u200b", "") for text in await operations.all_inner_texts()}
    assert shown == set(document["paths"])
    assert browser.left_the_machine == []


async def test_redoc_shows_every_operation_offline(browser: Browser, database_url: str) -> None:
    summaries = {
        operation["summary"] for item in openapi_document()["paths"].values() for operation in item.values()
    }
    async with mash_server(app_url(database_url)) as (origin, _):
        page = browser.page
        await page.goto(f"{origin}/redoc")
        await page.locator("h2").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        headings = {text.strip() for text in await page.locator("h2").all_inner_texts()}
    assert summaries <= headings, summaries - headings
    # Its "API docs by Redocly" badge is an image on a CDN: the page's Content-Security-Policy keeps the
    # browser from even asking for it.
    assert browser.left_the_machine == []


# Run in the page of the other origin: a create with an Idempotency-Key (a preflighted request), then a
# read of what it made, as a front end would; a refusal comes back as the browser's error.
_CALL_THE_API = """
async ([api, token, body]) => {
  try {
    const headers = {Authorization: `Bearer ${token}`, "Content-Type": "application/json"};
    const created = await fetch(`${api}/v1/referrals`, {
      method: "POST", headers: {...headers, "Idempotency-Key": "browser-1"}, body: JSON.stringify(body),
    });
    const location = created.headers.get("Location");
    const read = await fetch(`${api}${location}`, {headers});
    return {
      status: created.status, location, read: read.status, read_etag: read.headers.get("ETag"), referral: await read.json(),
      remaining: read.headers.get("RateLimit-Remaining"),
    };
  } catch (error) {
    return {refused: String(error)};
  }
}
"""


async def _call_from(browser: Browser, page_origin: str, api: str, headers: dict[str, str]) -> Any:
    await browser.page.goto(f"{page_origin}/")
    token = headers["Authorization"].removeprefix("Bearer ")
    return await browser.page.evaluate(_CALL_THE_API, [api, token, referral_body()])


async def test_a_page_on_an_allowed_origin_reads_the_answers(
    browser: Browser, database_url: str, other_origin: str, auth: TokenFactory
) -> None:
    police = auth("partner_referrer", "police")
    async with mash_server(app_url(database_url), cors_allow_origins=other_origin) as (api, _):
        answer = await _call_from(browser, other_origin, api, police)
    assert "refused" not in answer, answer
    assert answer["status"] == 201 and answer["location"].startswith("/v1/referrals/")
    assert answer["read"] == 200 and answer["referral"]["status"] == "received"
    # The headers a client acts on are exposed to the page: Location above, ETag, RateLimit-*.
    assert answer["read_etag"] and answer["remaining"] is not None
    assert browser.left_the_machine == []


async def test_a_page_on_another_origin_is_refused_without_the_allow_list(
    browser: Browser, database_url: str, other_origin: str, auth: TokenFactory
) -> None:
    police = auth("partner_referrer", "police")
    async with mash_server(app_url(database_url)) as (api, _):
        answer = await _call_from(browser, other_origin, api, police)
    assert answer == {"refused": "TypeError: Failed to fetch"}
