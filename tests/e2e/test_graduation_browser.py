"""Issue 11's browser path for qualification registration: officer_10001 opens today's
graduating cohort of 北京大学, prepares its three students due to graduate (王小明, student_a,
among them), marks one as failed by the photo comparison and registers the cohort: the held
graduate is not registered. The officer files the re-check, the province's administrator
approves it from the work list, and the officer registers the released graduate. student_a
creates a 3-month verification report of the new qualification; an anonymous visitor opens
its public page from the QR code's link and sees it; once the student revokes the report
the page says so (screenshots in ``XUEJI_SCREENSHOT_DIR``)."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graduating(demo):
    """Before the browser starts: two students of 北京大学 due to graduate this year, and a
    master's status of student_a (王小明) due too, each person with a photo; the held one's
    status."""
    from records.choices import Level
    from records.models import Student
    from records.models import identity_writes
    from tests.graduation import cohorts as g

    cache.clear()
    year = timezone.localdate().year
    entered = datetime.date(year - 4, 9, 1)
    g.graduand(name="陈思远", entry=entered)
    held = g.graduand(name="林书瑶", entry=entered)
    mine = g.graduand(entry=entered)
    person = Student.objects.get(user__username="student_a")
    with transaction.atomic(), identity_writes("test setup"):
        Student.objects.filter(pk=person.pk).update(photo="photos/students/wangxiaoming.jpg")
        orphan = mine.student
        mine.student = person
        mine.level = Level.MASTER
        mine.major_code, mine.major_name = "081200", "计算机科学与技术"
        mine.study_length, mine.entry_date = "3", datetime.date(year - 3, 9, 1)
        mine.expected_graduation = datetime.date(year, 7, 1)
        mine.save()
        orphan.delete()
    return held


def test_an_officer_registers_a_cohort_one_held_then_released_and_a_report_of_it(
    live_server, graduating, browser_page, tmp_path
):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    held = f"#graduate-{graduating.pk}"

    cohort_url = _open_and_prepare(page, base)
    page.check(f"#pick-{graduating.pk}")
    page.check("#decisions input[value='check:failed']")
    page.click("#decisions button[type=submit]")
    page.wait_for_selector("#results")
    assert "因图像比对暂停注册" in page.locator(held).inner_text()
    assert "xj-row--held" in (page.locator(held).get_attribute("class") or "")
    page.screenshot(path=shots / "graduation-cohort.png", full_page=True)

    said = _register(page)
    assert "已注册 2 名毕业生" in said
    assert "1 名毕业生因图像比对暂停注册" in said
    assert page.locator("#graduates input[name=statuses]").count() == 1  # the held one
    page.screenshot(path=shots / "graduation-registered.png", full_page=True)

    page.click(f"{held} button[type=submit]")  # no finding: said at its row
    page.wait_for_selector("#error-summary")
    page.fill(f"{held} textarea[name=finding]", "核对身份证原件并面谈，确系本人")
    page.click(f"{held} button[type=submit]")
    page.wait_for_selector(f"{held} .xj-held")
    assert "待省级备案" in page.locator(held).inner_text()

    _province_approves(page, base, shots)

    log_in(page, base, "officer_10001")
    page.goto(cohort_url)
    assert "复核已获同意" in page.locator(held).inner_text()
    assert "已注册 1 名毕业生" in _register(page)
    page.click("#tab-registered")
    page.wait_for_selector("#registered")
    assert page.locator("#registered tr").count() == 4  # the header and three graduates

    _report_opened_and_revoked(page, base, shots)


def _open_and_prepare(page, base: str) -> str:
    """officer_10001 opens today's cohort and prepares its three students due; its URL."""
    log_in(page, base, "officer_10001")
    page.click("a[href='/graduations/']")
    page.wait_for_selector("#open")
    assert page.input_value("#id_principal_name") == "龚旗煌"
    page.fill("#id_graduation_date", timezone.localdate().isoformat())
    page.click("#open button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/graduations/[0-9]+/$"))
    page.click("#prepare-all button[type=submit]")
    page.wait_for_selector("#prepared")
    assert page.locator("#graduates input[name=statuses]").count() == 3
    assert "王小明" in page.locator("#graduates").inner_text()
    url: str = page.url
    return url


def _register(page) -> str:
    """Register the cohort (confirming); what the page says of it."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#register button[type=submit]")
    page.wait_for_selector("#registration")
    said: str = page.locator("#registration").inner_text()
    return said


def _province_approves(page, base: str, shots: Path) -> None:
    log_in(page, base, "province_11")
    page.goto(f"{base}/graduations/")
    assert "北京大学" in page.locator("#cohorts").inner_text()
    page.screenshot(path=shots / "graduation-index-province.png", full_page=True)
    page.goto(f"{base}/work/?flow=qualification_registration")
    page.click("#worklist a")
    assert "核对身份证原件" in page.locator("#recheck").inner_text()
    page.check("input[name=decision][value=approve]")
    with page.expect_navigation():  # to the next task or the list, once decided
        page.click("#decide button[type=submit]")
    assert "审核结论已提交" in page.content()


def _report_opened_and_revoked(page, base: str, shots: Path) -> None:
    """student_a's 3-month report of the master's qualification, opened by an anonymous
    visitor from its QR code's link, then revoked."""
    log_in(page, base, "student_a")
    master = f"100011{timezone.localdate().year}02"  # school, regular, year, master's level
    page.click(f"#qualifications a:has-text('{master}')")
    page.click("#new-verification-report")
    page.select_option("select[name=months]", "3")
    page.click("#create")
    page.wait_for_url(f"{base}/verification/*/")
    link = page.locator("#link").inner_text()
    assert page.locator("#qr svg").count() == 1

    visitor = page.context.browser.new_context(locale="zh-CN")
    public = visitor.new_page()
    public.goto(link)
    report = public.locator("#report").inner_text()
    public.screenshot(path=shots / "graduation-report.png", full_page=True)
    assert "王小明" in report
    assert "硕士" in report
    assert "北京大学" in report

    page.click("#revoke")
    page.wait_for_url(f"{base}/verification/*/")
    public.goto(link)
    assert "已撤销" in public.locator("#problem").inner_text()
    public.screenshot(path=shots / "graduation-report-revoked.png", full_page=True)
    visitor.close()
