"""Issue 10's browser story, part 1: student_d files a suspension (休学) from their home page
on a phone, officer_10001 approves it from the work list, and the student's request page and
home page show the status suspended with its dates."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_suspension_from_filing_to_approval(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_d")
    page.click("#admissions a:has-text('申请学籍异动')")
    page.screenshot(path=shots / "status_change_types.png", full_page=True)
    page.click("#type-suspension")
    page.fill("input[name=field_from]", "2026-03-01")
    page.fill("input[name=field_until]", "2026-01-01")  # before the start: refused
    page.fill("textarea[name=reason]", "因病需休养一学期")
    page.click("#submit")
    assert "until_after_from" in page.locator("#error-summary").inner_text()
    assert "until_after_from" in page.locator("#row-field_until").inner_text()
    page.screenshot(path=shots / "status_change_form_error.png", full_page=True)
    page.fill("input[name=field_until]", "2027-02-28")
    page.click("#submit")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/status-changes/[0-9]+/$"))
    assert "已提交" in page.locator("#state").inner_text()
    request_url = page.url

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/?flow=status_change")
    page.click("#worklist a")
    assert "休学" in page.locator("#request").inner_text()
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_d")
    page.goto(request_url)
    assert "已批准" in page.locator("#state").inner_text()
    applied = page.locator("#applied").inner_text()
    assert "在籍" in applied
    assert "休学" in applied
    page.screenshot(path=shots / "status_change_request.png", full_page=True)
    page.goto(f"{base}/status-changes/")
    assert "休学" in page.locator("#status-changes").inner_text()
    page.screenshot(path=shots / "status_change_list.png", full_page=True)
    page.goto(f"{base}/home/")
    status = page.locator(".xj-status").first.inner_text()
    assert "休学" in status
