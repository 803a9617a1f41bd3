"""Issue 3's browser path: student_a files a name correction in the web UI, officer_10001
forwards it, province_11 approves it, and the student's pages show the new name and keep the
old one in the qualification's and the person's history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from records.demo import seed_demo
from records.reference import load_reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db) -> None:
    load_reference_data()
    seed_demo()


def _log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/home/")


def test_a_name_correction_from_filing_to_approval(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    _log_in(page, base, "student_a")
    page.click("#qualifications a")
    page.select_option("select[name=field_0]", "name")
    page.fill("input[name=value_0]", "王晓明")
    page.fill("textarea[name=reason]", "学校录入时把“晓”写成了“小”")
    page.click("#request-correction button[type=submit]")
    page.wait_for_url(f"{base}/corrections/*/")
    assert "已提交" in page.locator("#state").inner_text()

    _log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/")
    page.click("#worklist a")
    assert "王晓明" in page.locator("#request").inner_text()
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(f"{base}/work/")

    _log_in(page, base, "province_11")
    page.goto(f"{base}/work/")
    page.click("#worklist a")
    page.screenshot(path=shots / "task.png", full_page=True)
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", "同意更正")
    page.click("#decide button[type=submit]")
    page.wait_for_url(f"{base}/work/")

    _log_in(page, base, "student_a")
    page.click("#qualifications a")
    assert "王晓明" in page.locator("#qualification").inner_text()
    history = page.locator("#revisions").inner_text()
    assert "王晓明" in history
    assert "王小明" in history
    page.screenshot(path=shots / "qualification.png", full_page=True)

    page.goto(f"{base}/home/")  # the person is corrected too, and keeps the old name
    assert "王晓明，您好" in page.content()
    assert "王晓明" in page.locator("#person").inner_text()
    corrections = page.locator("#person-history").inner_text()
    assert "王小明" in corrections
    assert "赵敏" in corrections  # who approved it, by name
