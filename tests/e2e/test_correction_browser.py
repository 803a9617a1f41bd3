"""Issue 3's browser path: student_a files a name correction in the web UI, officer_10001
forwards it, province_11 approves it, and the student's pages show the new name and keep the
old one in the qualification's and the person's history."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from tests.e2e.pages import log_in
from workflows.flows import correction as flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_name_correction_from_filing_to_approval(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    log_in(page, base, "student_a")
    page.click("#qualifications a")
    page.select_option("select[name=field_0]", "name")
    page.fill("input[name=value_0]", "王晓明")
    page.fill("textarea[name=reason]", "学校录入时把“晓”写成了“小”")
    page.click("#request-correction button[type=submit]")
    page.wait_for_url(f"{base}/corrections/*/")
    assert "已提交" in page.locator("#state").inner_text()

    log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/?flow=correction")  # the demo cohort has a review task too
    page.click("#worklist a")
    assert "王晓明" in page.locator("#request").inner_text()
    page.check("input[name=decision][value=approve]")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))  # or the next task

    log_in(page, base, "province_11")
    page.goto(f"{base}/work/?flow=correction")  # the demo cohort has a review task too
    page.click("#worklist a")
    page.screenshot(path=shots / "task.png", full_page=True)
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", "同意更正")
    page.click("#decide button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/work/([0-9]+/)?$"))  # or the next task

    log_in(page, base, "student_a")
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


def _pick(page, row: int, field: str) -> None:
    page.select_option(f"select[name=field_{row}]", field)


def _expect(locator):
    """Playwright's waiting assertions (imported late, like the browser itself)."""
    from playwright.sync_api import expect

    return expect(locator)


def _in_view(locator) -> None:
    _expect(locator).to_be_in_viewport()


def test_a_failed_filing_keeps_the_inputs_and_leads_to_its_errors(
    live_server, demo, browser_page, tmp_path
):
    """Each value input follows its field; after a refusal the summary and the first input in
    error are in view and every value is kept."""
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    log_in(page, base, "student_a")
    page.click("#qualifications a")

    _pick(page, 0, "gender")
    assert page.locator("select[name=value_0] option").all_inner_texts() == ["—", "男", "女"]
    page.select_option("select[name=value_0]", "female")  # the ID number says male
    _pick(page, 1, "graduation_date")
    assert page.get_attribute("input[name=value_1]", "type") == "date"
    page.fill("input[name=value_1]", "2019-06-30")  # before the study start date
    _pick(page, 2, "major_code")
    assert page.get_attribute("input[name=value_2]", "list") == "majors"
    page.fill("input[name=value_2]", "软件工程")
    page.fill("textarea[name=reason]", "专业和毕业日期录入有误")
    page.click("#request-correction button[type=submit]")
    page.wait_for_load_state()

    _in_view(page.locator("#error-summary"))
    assert page.get_attribute("#error-summary", "role") == "alert"
    assert page.evaluate("document.activeElement.id") == "id_value_0"
    assert page.locator("#error-summary a").count() == 3
    assert page.input_value("select[name=value_0]") == "female"
    assert page.input_value("input[name=value_1]") == "2019-06-30"
    assert page.input_value("input[name=value_2]") == "软件工程"
    assert page.input_value("textarea[name=reason]") == "专业和毕业日期录入有误"
    page.screenshot(path=shots / "filing-errors-desktop.png")

    _pick(page, 0, "name")  # a text input again
    page.fill("input[name=value_0]", "王晓明")
    page.fill("input[name=value_1]", "2024-06-30")
    page.click("#request-correction button[type=submit]")
    page.wait_for_url(f"{base}/corrections/*/")
    changes = page.locator("#request").inner_text()
    assert "080902" in changes
    assert "2024-06-30" in changes


def test_a_failed_filing_on_a_phone(live_server, demo, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, "student_a")
    page.click("#qualifications a")
    _pick(page, 0, "gender")
    page.select_option("select[name=value_0]", "female")
    page.fill("textarea[name=reason]", "性别录入有误")
    page.click("#request-correction button[type=submit]")
    page.wait_for_load_state()
    _in_view(page.locator("#error-summary"))
    assert page.evaluate("document.activeElement.id") == "id_value_0"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    page.screenshot(path=shots / "filing-errors-phone.png")


@pytest.fixture
def filed(demo) -> CorrectionRequest:
    """student_a's name correction, filed before the browser starts."""
    student = User.objects.get(username="student_a")
    return flow.correction_start(
        qualification=Qualification.objects.get(student__user=student),
        changes={"name": "王晓明"},
        reason="录入错误",
        requester=student,
    )


def test_withdrawing_asks_first(live_server, filed, browser_page):
    page, base = browser_page, live_server.url
    log_in(page, base, "student_a")
    page.goto(f"{base}/corrections/{filed.pk}/")
    page.click("#withdraw")
    _in_view(page.locator("#confirm-withdraw"))
    _expect(page.locator("#state")).to_have_text("已提交")
    page.click("#confirm-withdraw a")  # no, keep it
    _expect(page.locator("#withdraw")).to_be_visible()
    _expect(page.locator("#state")).to_have_text("已提交")
    page.click("#withdraw")
    page.click("#confirm-withdraw-button")
    _expect(page.locator("#state")).to_have_text("已撤回")
