"""Issue 11's lost certificate in a browser: student_a applies for a certificate proof from
their qualification's page on a phone, officer_10001 approves it from the work list on a
desktop, and the student's application page and qualification page show the proof's number
and the lost mark, in Chinese and in English."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_a_lost_certificate_from_application_to_proof(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_a")
    page.click("a[href*='/corrections/qualifications/']")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/corrections/qualifications/[0-9]+/$"))
    qualification_url = page.url
    page.screenshot(path=shots / "proof_qualification_before.png", full_page=True)
    page.click("#apply-proof")
    page.click("#submit-proof")  # nothing chosen: refused at the fields
    assert page.locator("#error-summary").is_visible()
    page.screenshot(path=shots / "proof_form_error.png", full_page=True)
    page.check("input[name=reason][value=lost]")
    page.fill("textarea[name=note]", "2026年10月搬家时遗失，已于11月登报声明作废")
    page.screenshot(path=shots / "proof_form.png", full_page=True)
    page.click("#submit-proof")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/certificate-proofs/[0-9]+/$"))
    assert "已提交" in page.locator("#state").inner_text()
    proof_url = page.url
    page.screenshot(path=shots / "proof_submitted.png", full_page=True)

    page.set_viewport_size(DESKTOP)
    log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/?flow=certificate_proof")
    page.click("#worklist a")
    assert "搬家时遗失" in page.locator("#request").inner_text()
    page.screenshot(path=shots / "proof_task.png", full_page=True)
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_a")
    page.goto(proof_url)
    assert "已批准" in page.locator("#state").inner_text()
    number = page.locator("#proof-number strong").inner_text()
    assert re.fullmatch(r"10001[0-9]{4}[0-9]{5}", number)
    page.screenshot(path=shots / "proof_issued.png", full_page=True)
    page.goto(qualification_url)
    assert number in page.locator("#lost-mark").inner_text()
    assert "遗失作废" in page.locator("#status-lost").inner_text()
    page.screenshot(path=shots / "proof_qualification.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    page.click("button.xj-language__button[value=en]")
    page.goto(qualification_url)
    assert "Certificate marked lost" in page.locator("#lost-mark").inner_text()
    page.screenshot(path=shots / "proof_qualification_en.png", full_page=True)
    page.goto(proof_url)
    assert "Approved: proof issued" in page.locator("#state").inner_text()
    page.screenshot(path=shots / "proof_issued_en.png", full_page=True)
