"""Issue 11's revocation in a browser: officer_10001 proposes revoking student_a's
qualification from its page (a missing legality review refused at its field), officer_10001b
issues the written decision from the work list, officer_10001 records its delivery, and
student_a reads the decision and appeals from the revocation's page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def today(demo):
    """Today in Beijing (the delivery's day), read before the browser starts."""
    from django.utils import timezone

    return timezone.localdate().isoformat()


def test_a_revocation_from_proposal_to_appeal(live_server, today, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    page.set_viewport_size(DESKTOP)

    log_in(page, base, "student_a")
    page.click("a[href*='/corrections/qualifications/']")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/corrections/qualifications/[0-9]+/$"))
    qualification_url = page.url
    assert page.locator("#propose-revocation").count() == 0

    log_in(page, base, "officer_10001")
    page.goto(qualification_url)
    page.click("#propose-revocation")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/revocations/new/"))
    page.fill("#id_reason", "学位论文抄袭，经查证属实。")
    page.fill("#id_basis", "《中华人民共和国高等教育法》第二十条")
    page.fill("#id_leadership_decision_date", "2026-11-25")
    page.fill("#id_leadership_decision", "校长办公会2026年第30次会议纪要")
    page.fill("#id_hearing_date", "2026-11-20")
    page.fill("#id_hearing_by", "学生处 张老师")
    page.fill("#id_hearing_summary", "学生陈述了情况。")
    page.click("#submit-revocation")  # no legality review: refused at its field
    assert "legality_review" in page.locator("#errors").inner_text()
    page.screenshot(path=shots / "revocation_form_error.png", full_page=True)
    page.check("input[name=legality_review]")
    page.click("#submit-revocation")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/revocations/[0-9]+/$"))
    revocation_url = page.url
    page.screenshot(path=shots / "revocation_filed.png", full_page=True)

    log_in(page, base, "officer_10001b")
    page.goto(f"{base}/work/?flow=revocation")
    page.click("#worklist a")
    assert "校长办公会" in page.locator("#request").inner_text()
    page.screenshot(path=shots / "revocation_task.png", full_page=True)
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))

    log_in(page, base, "officer_10001")
    page.goto(revocation_url)
    page.fill("input[name=delivered_on]", today)
    page.select_option("select[name=method]", index=1)
    page.click("#delivery-form button[type=submit]")
    page.wait_for_url(revocation_url)

    log_in(page, base, "student_a")
    page.goto(revocation_url)
    assert "撤销" in page.locator("#decision").inner_text()
    page.screenshot(path=shots / "revocation_student.png", full_page=True)
    page.fill("#appeal-reason", "抄袭认定有误，请求复查。")
    page.click("#appeal-button")
    page.wait_for_url(revocation_url)
    assert page.locator("#appeal-form").count() == 0
    page.screenshot(path=shots / "revocation_appealed.png", full_page=True)
