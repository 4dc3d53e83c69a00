"""The live page in a real headless browser (Debian's chromium, driven by Playwright).

The page loads, takes the token, shows a running parent progressing from the event stream, and
its cancel button cancels it. With ``TWAP_ENGINE_PAGE_SCREENSHOT=<path>`` the test also saves a
screenshot of the page while the parent runs (the one in the docs is made this way).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.daemon.api.harness import AUTH, TOKEN, served_api_in_thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = os.environ.get("TWAP_ENGINE_PAGE_SCREENSHOT")
QUICK = {"symbol": "MSFT", "side": "sell", "quantity": "50", "num_slices": 5, "interval_seconds": 0.2}
RUNNING = {"symbol": "AAPL", "side": "buy", "quantity": "600", "num_slices": 60, "interval_seconds": 0.5}


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "the browser test needs Debian's chromium (scripts/check.py installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def filled_of(page: Page, parent_id: str) -> float:
    text = page.locator(f'tr[data-parent-id="{parent_id}"] td.filled').get_attribute("data-filled")
    return float(text or "0")


def test_the_page_shows_a_parent_progressing_and_its_cancel_button_cancels_it(browser: Browser) -> None:
    with served_api_in_thread() as url, httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        quick = client.post("/v1/twaps", json=QUICK).json()["parent_id"]
        page = browser.new_page(viewport={"width": 1100, "height": 420})
        page.goto(f"{url}/")
        expect(page.locator("#login")).to_be_visible()
        page.fill("#token", "not-the-token-at-all")
        page.click("#connect")
        expect(page.locator("#login-error")).to_contain_text("refused")

        page.fill("#token", TOKEN)
        page.click("#connect")
        expect(page.locator("#connection")).to_have_text("live", timeout=10_000)
        expect(page.locator(f'tr[data-parent-id="{quick}"]')).to_have_attribute(
            "data-state", "completed", timeout=15_000
        )

        # Started after the page connected: it arrives from the stream, not from the first load.
        running = client.post("/v1/twaps", json=RUNNING).json()["parent_id"]
        row = page.locator(f'tr[data-parent-id="{running}"]')
        expect(row).to_have_attribute("data-state", "working", timeout=10_000)
        page.wait_for_function(
            "id => Number(document.querySelector(`tr[data-parent-id='${id}'] td.filled`).dataset.filled) > 0",
            arg=running,
            timeout=15_000,
        )
        early = filled_of(page, running)
        page.wait_for_function(
            "([id, before]) => Number(document.querySelector(`tr[data-parent-id='${id}'] td.filled`)"
            ".dataset.filled) > before",
            arg=[running, early],
            timeout=15_000,
        )
        assert filled_of(page, running) > early
        expect(row.locator("svg.chart polyline.filled")).to_have_count(1)
        expect(row.locator("svg.chart polyline.schedule")).to_have_count(1)
        if SCREENSHOT:
            page.wait_for_timeout(4000)  # a little more of the line to show
            Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOT, full_page=True)

        row.locator("button.cancel").click()
        expect(row).to_have_attribute("data-state", "cancelled", timeout=15_000)
        expect(row.locator("button.cancel")).to_be_disabled()
        final = client.get(f"/v1/parents/{running}").json()
        page.close()
    assert final["state"] == "cancelled"
    assert 0 < float(final["filled"]) < 600
