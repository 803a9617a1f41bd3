from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.services import chromium_path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Playwright page in Debian's chromium (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def demo(transactional_db: None) -> None:
    """The reference data and the demo users, as ``make run`` seeds them; before the browser
    starts (Playwright runs an event loop, inside which Django refuses database calls)."""
    from records.demo import seed_demo
    from records.reference import load_reference_data

    load_reference_data()
    seed_demo()
