"""Issue 11's browser path for verification reports: student_a creates a 3-month report from
the qualification page, an anonymous visitor opens its public page (from the link the QR code
holds) on a phone and on a desktop and sees the qualification; after the student revokes it
the page says it was revoked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def _empty_cache(transactional_db):
    cache.clear()


@pytest.mark.usefixtures("_empty_cache")
def test_a_report_from_creation_to_revocation(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    log_in(page, base, "student_a")
    page.click("#qualifications a")
    page.click("#new-verification-report")
    page.select_option("select[name=months]", "3")
    page.click("#create")
    page.wait_for_url(f"{base}/verification/*/")
    code = page.locator("#code").inner_text()
    link = page.locator("#link").inner_text()
    assert link == f"{base}/verify/{code}"
    assert page.locator("#qr svg").count() == 1
    page.screenshot(path=shots / "verification-report.png", full_page=True)

    visitor = page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    phone = visitor.new_page()
    phone.goto(link)
    assert "王小明" in phone.locator("#report").inner_text()
    assert "北京大学" in phone.locator("#report").inner_text()
    assert "在线验证报告" in phone.content()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone.screenshot(path=shots / "verify-phone.png", full_page=True)
    phone.click("button[lang=en]")
    phone.wait_for_load_state()
    assert "Online verification report" in phone.content()
    phone.screenshot(path=shots / "verify-phone-en.png", full_page=True)
    desktop = page.context.browser.new_page(viewport={"width": 1280, "height": 800})
    desktop.goto(link)
    desktop.screenshot(path=shots / "verify-desktop.png", full_page=True)

    page.click("#revoke")
    page.wait_for_url(f"{base}/verification/*/")
    assert "已撤销" in page.locator("#state").inner_text()
    report_url = page.url
    phone.goto(link)
    assert "Revoked" in phone.locator("#problem").inner_text()
    page.goto(f"{base}/verification/")
    page.screenshot(path=shots / "verification-list.png", full_page=True)
    page.goto(report_url)
    assert page.locator("#accesses tr").count() == 5  # the header, 3 shown, 1 refused
    page.screenshot(path=shots / "verification-revoked.png", full_page=True)
