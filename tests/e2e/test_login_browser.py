"""In a real browser: the demo users log in, see their own home page, switch language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/home/")


def test_demo_users_log_in_and_see_their_own_pages(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url

    _log_in(page, base, "student_a")
    assert page.locator("#person").inner_text().count("王小明") == 1
    assert "100011202405000101" in page.locator("#qualifications").inner_text()
    assert "您的角色" in page.content()
    page.click("button[name=language][value=en]")
    page.wait_for_load_state("networkidle")
    assert "Your roles" in page.content()
    page.screenshot(path=Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path)) / "student.png")
    page.context.clear_cookies()

    _log_in(page, base, "officer_10001")
    schools = page.locator("#schools").inner_text()
    assert "北京大学" in schools
    assert "清华大学" not in schools
    page.click("#schools a:has-text('北京大学')")
    page.wait_for_url(f"{base}/home/schools/10001/")
    assert "龚旗煌" in page.content()  # the principal's name from the demo data
    page.goto(f"{base}/home/schools/10003/")
    assert "404" in page.title() or "Not Found" in page.content()


def test_a_wrong_password_stays_on_the_login_page(live_server, browser_page):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in page.url


@pytest.fixture
def alice(transactional_db: None) -> None:
    """Before the browser starts (inside Playwright's event loop Django refuses the database)."""
    from tests import factories

    factories.user("alice", password="s3cret-pw")


def test_a_locked_out_login_says_until_when(live_server, alice, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})  # a browser in China
    page.goto(f"{base}/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "s3cret-pw")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.screenshot(path=Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path)) / "locked_out.png")
    assert "/accounts/login/" in page.url
    message = page.get_by_text("登录失败次数过多")
    assert message.is_visible()
    assert "请届时再试" in message.inner_text()
