"""The council's online form, in headless Chromium against ``mash serve``: a minimal HTML page served
from another origin (another port of 127.0.0.1) posts a public concern with ``fetch`` and shows the
reference it gets back. Its origin is in ``MASH_PUBLIC_CORS_ALLOW_ORIGINS``; a page on an origin that is
not gets no CORS permission: the browser refuses, and nothing is stored (the preflight is refused, so the
post is never sent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Playwright, Request

from tests.browser.conftest import CHROMIUM, LOCAL_HOSTS, Browser
from tests.conftest import app_url
from tests.fixtures.callers import TokenFactory
from tests.fixtures.servers import free_port, mash_server, static_site

TIMEOUT_MS = 60_000

# The form as a council's web team might write it: plain fields, a fetch, the reference shown.
FORM = """<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Report a concern about an adult</title>
<form id="concern">
  <label>First name <input name="given_name" required></label>
  <label>Last name <input name="family_name" required></label>
  <label>Roughly how old <input name="approximate_age" type="number" min="18" max="120"></label>
  <label>What happened <textarea name="what_happened" required></textarea></label>
  <label><input type="checkbox" name="anonymous"> Keep me anonymous</label>
  <button type="submit">Send</button>
</form>
<p>Your reference: <output id="reference"></output></p>
<p id="error" role="alert"></p>
<script>
const api = new URLSearchParams(location.search).get("api");
document.getElementById("concern").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = {
    adult: {
      given_name: form.get("given_name"),
      family_name: form.get("family_name"),
      approximate_age: Number(form.get("approximate_age")) || null,
    },
    what_happened: form.get("what_happened"),
    types_of_risk: ["neglect_and_acts_of_omission"],
    location_of_risk: "own_home",
    source_of_risk: "other_known_to_individual",
    adult_knows: "not_sure",
    raiser: {anonymous: form.get("anonymous") === "on", relationship: "acquaintance"},
  };
  try {
    const answer = await fetch(`${api}/public/v1/adult-concerns`, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()},
      body: JSON.stringify(body),
    });
    const receipt = await answer.json();
    if (!answer.ok) throw new Error(receipt.detail);
    document.getElementById("reference").textContent = receipt.reference;
  } catch (error) {
    document.getElementById("error").textContent = String(error);
  }
});
</script>
</html>
"""


@pytest.fixture
async def unrouted(playwright: Playwright) -> AsyncIterator[Browser]:
    """A headless Chromium page whose requests are watched, not routed: Chromium sends a request that
    Playwright routes (``tests/browser/conftest.py``'s ``browser``) even after its CORS preflight was
    refused, so a refusal is only what a real browser does without routing. A request for another host
    is still recorded in ``left_the_machine``."""
    chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        page = await (await chromium.new_context()).new_page()
        kept = Browser(page)

        def watch(request: Request) -> None:
            if urlsplit(request.url).hostname not in LOCAL_HOSTS:
                kept.left_the_machine.append(request.url)

        page.on("request", watch)
        yield kept
    finally:
        await chromium.close()


@contextmanager
def form_site(tmp_path: Path) -> Iterator[str]:
    """A web server on its own port of 127.0.0.1 (its own origin) serving the form at /form.html."""
    folder = tmp_path / f"site-{free_port()}"
    folder.mkdir()
    (folder / "form.html").write_text(FORM)
    with static_site(folder) as origin:
        yield origin


async def _fill_and_send(browser: Browser, site: str, api: str) -> tuple[str, str]:
    page = browser.page
    await page.goto(f"{site}/form.html?api={api}")
    await page.fill("input[name=given_name]", "Edith")
    await page.fill("input[name=family_name]", "Formfield")
    await page.fill("input[name=approximate_age]", "88")
    await page.fill(
        "textarea[name=what_happened]", "Nobody has visited her for a week and she has no heating."
    )
    await page.check("input[name=anonymous]")
    await page.click("button[type=submit]")
    await page.wait_for_function(
        "document.getElementById('reference').textContent || document.getElementById('error').textContent",
        timeout=TIMEOUT_MS,
    )
    return await page.inner_text("#reference"), await page.inner_text("#error")


async def test_the_councils_form_on_its_own_origin_posts_a_concern_and_shows_the_reference(
    unrouted: Browser, database_url: str, tmp_path: Path, auth: TokenFactory
) -> None:
    with form_site(tmp_path) as council, form_site(tmp_path) as elsewhere:
        async with mash_server(app_url(database_url), public_cors_allow_origins=council) as (api, _):
            reference, error = await _fill_and_send(unrouted, council, api)
            assert error == ""
            assert reference.startswith("PUB-A-"), reference

            # A page on another origin gets no CORS permission: the browser refuses it the answer.
            refused_reference, refused = await _fill_and_send(unrouted, elsewhere, api)
            assert refused_reference == "" and refused == "TypeError: Failed to fetch"

            # Adult social care finds the one concern that arrived, by its reference.
            async with httpx.AsyncClient(base_url=api, timeout=30) as hub:
                queue = await hub.get(
                    "/v1/adult-concerns",
                    params={"source": "public"},
                    headers=auth("asc_practitioner", "adult_social_care"),
                )
            assert queue.status_code == 200, queue.text
            items = queue.json()["items"]
            assert [(item["external_reference"], item["family_name"]) for item in items] == [
                (reference, "Formfield")
            ]
    assert unrouted.left_the_machine == []
