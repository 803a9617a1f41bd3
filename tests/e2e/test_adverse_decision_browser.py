"""An adverse decision in the browser: officer_10001 files an expulsion (开除学籍) of student_d
with the legality review and the hearing, another officer issues it from the work list,
officer_10001 records its delivery on the request's page, and the student reads the written
decision on a phone and appeals to the school's committee, whose task is then waiting."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.utils import timezone

from records.models import StatusChangeRequest
from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_an_expulsion_issued_delivered_and_appealed(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    today = timezone.localdate().isoformat()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, "officer_10001")
    status = _in_thread(lambda: demo_status_of("student_d"))
    page.goto(f"{base}/status-changes/new/?status={status}&type=expulsion")
    page.fill("textarea[name=reason]", "考试中由他人代考")
    page.fill("textarea[name=field_basis]", "《普通高等学校学生管理规定》第五十二条")
    page.fill("input[name=field_hearing_date]", today)
    page.fill("textarea[name=field_hearing_by]", "学生处 张老师")
    page.fill("textarea[name=field_hearing_summary]", "学生承认由他人代考")
    page.click("#submit")
    assert "legality_review" in page.locator("#error-summary").inner_text()
    page.select_option("select[name=field_legality_review]", "done")
    page.click("#submit")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/status-changes/[0-9]+/$"))
    request_url = page.url

    log_in(page, base, "officer_10001b")
    page.goto(f"{base}/work/?flow=status_change")
    page.click("#worklist a")
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))

    log_in(page, base, "officer_10001")
    page.goto(request_url)
    assert "申诉期内" in page.locator("#state").inner_text()
    page.fill("#delivery-form input[name=delivered_on]", today)
    page.select_option("#delivery-form select[name=method]", "in_person")
    page.click("#delivery-button")
    page.wait_for_selector("#appeal-deadline")
    page.screenshot(path=shots / "adverse_officer.png", full_page=True)

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_d")
    page.goto(request_url)
    assert "学生申诉处理委员会" in page.locator("#decision").inner_text()
    page.fill("#appeal-form textarea[name=reason]", "代考情况与事实不符，请求复查")
    page.screenshot(path=shots / "adverse_student.png", full_page=True)
    page.click("#appeal-button")
    page.wait_for_selector("#decision")
    assert "已向学校学生申诉处理委员会申诉" in page.locator("#appeal-stage").inner_text()
    page.screenshot(path=shots / "adverse_appealed.png", full_page=True)
    assert _in_thread(lambda: StatusChangeRequest.objects.get().appeal) == "school"


def _in_thread(function):
    """Django refuses database calls inside Playwright's event loop: ask from a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def demo_status_of(username: str) -> int:
    from records.models import StudentStatus

    return int(StudentStatus.objects.get(student__user__username=username).pk)
