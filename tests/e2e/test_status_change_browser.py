"""Issue 10's browser stories. Part 1: student_d files a suspension (休学) from their home page
on a phone, officer_10001 approves it from the work list, and the student's request page and
home page show the status suspended with its dates."""

from __future__ import annotations

import datetime
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection

from records.models import StatusChangeRequest
from tests.e2e.pages import log_in
from workflows.timers import timers_fire
from workflows.timers import viewflow_timers_fire

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


def _in_a_thread(work: Callable[[], Any]) -> Any:
    """Run database work outside Playwright's event loop (Django refuses it inside)."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0] if result else None


def _decide_first_task(page: Any, base: str, expected: str, shot: Path | None = None) -> None:
    """Open the first status change task of the work list and approve it."""
    page.goto(f"{base}/work/?flow=status_change")
    page.click("#worklist a")
    assert expected in page.locator("#request").inner_text()
    if shot is not None:
        page.screenshot(path=shot, full_page=True)
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))


def test_a_transfer_across_provinces(live_server, demo, browser_page, tmp_path):
    """Part 2: student_d transfers from 北京大学 (10001, 北京市) to 复旦大学 (10246, 上海市):
    officer_10001 approves, officer_10246 accepts, the public notice runs 5 working days,
    both provinces confirm (in parallel), and the status is at 复旦大学."""
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    log_in(page, base, "student_d")
    page.click("#admissions a:has-text('申请学籍异动')")
    page.click("#type-transfer")
    page.fill("input[name=field_target_school]", "复旦大学")
    page.fill("input[name=field_target_major]", "080901")
    page.fill("input[name=field_score]", "640")  # below 复旦大学's cut-off (650): refused
    page.select_option("select[name=field_ground]", "special_need")
    page.fill("textarea[name=reason]", "家庭迁居上海，需转学")
    page.click("#submit")
    assert "transfer_below_cutoff" in page.locator("#error-summary").inner_text()
    page.fill("input[name=field_score]", "662")
    page.screenshot(path=shots / "transfer_form.png", full_page=True)
    page.click("#submit")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/status-changes/[0-9]+/$"))
    request_url = page.url
    assert "复旦大学" in page.locator("#transfer").inner_text()

    log_in(page, base, "officer_10001")
    _decide_first_task(page, base, "转学")
    log_in(page, base, "officer_10246")
    _decide_first_task(page, base, "转学", shots / "transfer_receiving_task.png")

    log_in(page, base, "student_d")
    page.goto(request_url)
    assert "公示" in page.locator("#state").inner_text()
    assert page.locator("#notice-ends").is_visible()
    page.screenshot(path=shots / "transfer_in_notice.png", full_page=True)

    def notice_over() -> datetime.datetime:
        ends: datetime.datetime | None = StatusChangeRequest.objects.get(
            type="transfer"
        ).notice_ends
        assert ends is not None
        return ends + datetime.timedelta(minutes=1)

    after = _in_a_thread(notice_over)
    with time_machine.travel(after, tick=True):
        _in_a_thread(lambda: (timers_fire(), viewflow_timers_fire()))
        for admin in ("province_11", "province_31"):
            log_in(page, base, admin)
            _decide_first_task(page, base, "转学", shots / f"transfer_{admin}_task.png")

        log_in(page, base, "student_d")
        page.goto(request_url)
        assert "已批准" in page.locator("#state").inner_text()
        applied = page.locator("#applied").inner_text()
        assert "10246" in applied
        page.screenshot(path=shots / "transfer_approved.png", full_page=True)
        page.goto(f"{base}/home/")
        assert "复旦大学" in page.locator(".xj-status").first.inner_text()
