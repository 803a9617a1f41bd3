"""Issue 10's identity change in the browser: student_d (刘子轩) files a change of name with
its proof from their home page on a phone (a wrong value first, shown at its field),
officer_10001 approves it on the work list beside the proof, province_11 approves it, and
the student's request page shows the old and new names and their home page the new one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.pages import log_in
from tests.evidence_files import real_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_name_change_from_filing_to_the_provinces_approval(
    live_server, demo, browser_page, tmp_path
):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    proof = tmp_path / "派出所证明.pdf"
    proof.write_bytes(real_pdf())

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_d")
    page.click("#admissions a:has-text('申请变更学籍信息')")
    page.fill("input[name=field_name]", "刘子轩2")  # not a name: refused
    page.fill("textarea[name=reason]", "户籍姓名已变更")
    page.set_input_files("input[name=evidence]", str(proof))
    page.click("#submit")
    assert "姓名" in page.locator("#error-summary").inner_text()
    assert page.locator("#row-field_name .xj-errors").count() == 1
    page.screenshot(path=shots / "identity_change_form_error.png", full_page=True)
    page.fill("input[name=field_name]", "刘梓轩")
    page.set_input_files("input[name=evidence]", str(proof))
    page.click("#submit")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/identity-changes/[0-9]+/$"))
    assert "已提交" in page.locator("#state").inner_text()
    assert "派出所证明.pdf" in page.locator("#evidence").inner_text()
    request_url = page.url

    page.set_viewport_size({"width": 1280, "height": 900})
    for officer in ("officer_10001", "province_11"):
        log_in(page, base, officer)
        page.goto(f"{base}/work/?flow=identity_change")
        page.click("#worklist a")
        changes = page.locator("#changes").inner_text()
        assert "刘子轩" in changes
        assert "刘梓轩" in changes
        if officer == "officer_10001":
            page.screenshot(path=shots / "identity_change_task.png", full_page=True)
        page.check("input[name=decision][value=approve]")
        page.click("#decide button[type=submit]")
        page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))

    page.set_viewport_size(PHONE)
    log_in(page, base, "student_d")
    page.goto(request_url)
    assert "已批准" in page.locator("#state").inner_text()
    page.screenshot(path=shots / "identity_change_request.png", full_page=True)
    page.goto(f"{base}/home/")
    assert "刘梓轩" in page.locator("body").inner_text()
