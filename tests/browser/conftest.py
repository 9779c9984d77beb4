"""A real browser for the tests that need one: Debian's Chromium, headless, driven by Playwright.

Playwright's own browser download is never used (it would need the internet): the browser is the
``chromium`` package from Debian (``apt-get install -y chromium``; ``.ci/run`` installs it when it is
missing), at ``/usr/bin/chromium`` or wherever ``MASH_TEST_CHROMIUM`` says. Without it these tests fail,
saying so; they are never skipped.

Every page the tests open is kept to this machine: a request for any host but 127.0.0.1 is aborted and
recorded in ``Browser.left_the_machine``, so a test can show that a page needed nothing from elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Playwright, Route, async_playwright

from tests.fixtures.servers import static_site

CHROMIUM = os.environ.get("MASH_TEST_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1"}


@dataclass
class Browser:
    page: Page
    left_the_machine: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium package "
            "(`apt-get install -y chromium chromium-driver`; .ci/run installs it), or MASH_TEST_CHROMIUM "
            "naming another Chromium binary.",
            pytrace=False,
        )
    async with async_playwright() as driver:
        yield driver


@pytest.fixture
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    """A fresh headless Chromium page that can reach 127.0.0.1 only."""
    chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        context = await chromium.new_context()
        page = await context.new_page()
        kept = Browser(page)

        async def only_this_machine(route: Route) -> None:
            if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
                await route.continue_()
            else:
                kept.left_the_machine.append(route.request.url)
                await route.abort("internetdisconnected")

        await context.route("**/*", only_this_machine)
        yield kept
    finally:
        await chromium.close()


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[str]:
    """A second web server on 127.0.0.1 (another port, so another origin) serving an empty page at /."""
    (tmp_path / "index.html").write_text("<!doctype html><title>hub front end</title><h1>front end</h1>")
    with static_site(tmp_path) as origin:
        yield origin
