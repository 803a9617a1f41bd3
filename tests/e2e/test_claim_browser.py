"""In a real browser, on a phone: the demo freshman finds the claim from the login page, mistypes
their name (one message above the form), then a password (under its field), claims the
account and lands on their home page with their admission."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from records.demo import DEMO_FRESHMAN
from records.demo import demo_id_number
from tests.claims import fresh_cache

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "a long passphrase 42"


@pytest.fixture(autouse=True)
def _empty_cache(transactional_db: None) -> Iterator[None]:
    yield from fresh_cache()


def _outside_the_event_loop(function):
    """Django refuses database calls inside Playwright's event loop: ask from a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def _login_of(username: str) -> tuple[str, str, list[str]]:
    from records.models import User

    user = User.objects.get(username=username)
    return user.student.name, user.email, list(user.groups.values_list("name", flat=True))


def _fill(page, **values: str) -> None:
    for name, value in values.items():
        page.fill(f"#claim-form input[name={name}]", value)


def test_the_demo_freshman_claims_the_account_on_a_phone(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    page.set_viewport_size(PHONE)
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})  # a freshman's phone

    page.goto(f"{base}/accounts/login/")
    page.click("#claim-link")
    page.wait_for_url(f"{base}/accounts/claim/")
    page.screenshot(path=shots / "claim-form-phone.png", full_page=True)
    facts = {
        "candidate_number": DEMO_FRESHMAN.candidate_number,
        "id_number": demo_id_number(DEMO_FRESHMAN).lower(),  # a lower-case x is fine
        "name": "林小雨",  # mistyped
        "username": "linxiaoyu",
        "email": "linxiaoyu@example.org",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    _fill(page, **facts)
    page.click("#claim-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    summary = page.locator(".vf-form__errors")
    assert "考生号、证件号码和姓名" in summary.inner_text()
    assert (
        summary.bounding_box()["y"]
        < page.locator("vf-field-input[name=candidate_number]").bounding_box()["y"]
    )
    page.screenshot(path=shots / "claim-mismatch-phone.png", full_page=True)

    _fill(page, name=DEMO_FRESHMAN.name, password=PASSWORD, password_again="another one 42")
    page.click("#claim-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    again = page.locator("vf-field-password[name=password_again]")
    assert "两次输入的密码不一致" in again.inner_text()
    page.screenshot(path=shots / "claim-field-error-phone.png", full_page=True)

    _fill(page, password=PASSWORD, password_again=PASSWORD)
    page.click("#claim-form button[type=submit]")
    page.wait_for_url(f"{base}/home/")
    panel = page.locator("#admissions")
    assert "北京大学" in panel.inner_text()
    assert "计算机科学与技术" in panel.inner_text()
    assert "已录取" in panel.inner_text()
    assert "linxiaoyu" in page.content()  # the welcome names the user name
    page.screenshot(path=shots / "claim-home-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the home page must not scroll sideways on a phone"

    name, email, groups = _outside_the_event_loop(lambda: _login_of("linxiaoyu"))
    assert (name, email, groups) == (DEMO_FRESHMAN.name, "linxiaoyu@example.org", ["student"])
