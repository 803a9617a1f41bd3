"""In a real browser, on a phone: a student changes their email address and confirms it from
the link the new address received."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _outside_the_event_loop(function):
    """Django refuses database calls inside Playwright's event loop: ask from a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def _sent_to(address: str) -> str:
    from notifications.models import Notification

    return Notification.objects.get(recipient_email=address).body_text


def _email_of(username: str) -> str:
    from records.models import User

    return User.objects.get(username=username).email


def test_a_student_changes_their_email_on_a_phone(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    page.set_viewport_size(PHONE)
    old = _outside_the_event_loop(lambda: _email_of("student_a"))

    log_in(page, base, "student_a")
    page.goto(f"{base}/accounts/email/")
    page.fill("input[name=email]", "officer_10001@demo.xueji.local")  # another account's
    page.click("#email-change button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "email-change-taken-phone.png", full_page=True)
    assert "该邮箱地址已被其他账号使用" in page.locator("#email-change").inner_text()

    page.fill("input[name=email]", "xiaoming.wang@example.org")
    page.click("#email-change button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "xiaoming.wang@example.org" in page.content()
    page.screenshot(path=shots / "email-change-sent-phone.png", full_page=True)
    assert _outside_the_event_loop(lambda: _email_of("student_a")) == old  # not yet

    body = _outside_the_event_loop(lambda: _sent_to("xiaoming.wang@example.org"))
    link = re.search(r"https?://\S+/accounts/email/confirm/\S+", body)
    assert link is not None, body
    path = link.group(0).split("/accounts/", 1)[1]
    page.goto(f"{base}/accounts/{path}")
    assert "xiaoming.wang@example.org" in page.content()
    page.screenshot(path=shots / "email-change-confirm-phone.png", full_page=True)
    page.click("#email-confirm button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert _outside_the_event_loop(lambda: _email_of("student_a")) == "xiaoming.wang@example.org"
    assert "xiaoming.wang@example.org" in page.content()
    assert _outside_the_event_loop(lambda: _sent_to(old))  # the notice to the old address
