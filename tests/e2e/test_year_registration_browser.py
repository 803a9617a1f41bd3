"""In a real browser: an officer defers two students of 北京大学's academic-year registration
with a reason from the round's check boxes, registers everyone else enrolled, the province's
administrator follows the rounds, and a student reads their registrations on their home
page; the pages in Chinese and in English (screenshots in ``XUEJI_SCREENSHOT_DIR``)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def year_round(demo):
    """Before the browser starts: the current academic year's round of 北京大学, with nine
    students who entered the year before, one of them 王小明 (student_a) of the demo, and
    how many the round registers (those nine and the demo's enrolled students who entered
    before it, such as student_d)."""
    from records.choices import Level
    from records.models import Student
    from records.models import StudentStatus
    from records.models import identity_writes
    from tests.workflows import years as y
    from workflows.flows.year_registration import round_open

    today = timezone.localdate()
    year = today.year if today >= datetime.date(today.year, 9, 1) else today.year - 1
    entered = datetime.date(year - 1, 9, 1)
    for _n in range(8):
        y.status(entry=entered)
    mine = y.status(entry=entered)
    person = Student.objects.get(user__username="student_a")
    mine.student = person
    mine.level = Level.MASTER
    mine.major_name = "软件工程"
    with transaction.atomic(), identity_writes("test setup"):  # the programme as it stands
        mine.save()
    opened = round_open(school_id="10001", academic_year=year)
    eligible = StudentStatus.objects.filter(
        school_id="10001", state="enrolled", entry_date__lt=opened.starts
    ).count()
    return opened, eligible


def test_an_officer_defers_two_registers_the_rest_and_the_student_sees_it(
    live_server, year_round, browser_page, tmp_path
):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    year_round, eligible = year_round
    assert eligible >= 9
    url = f"{base}/years/{year_round.pk}/"

    log_in(page, base, "officer_10001")
    page.goto(f"{base}/years/")
    page.click(f"#rounds a[href='/years/{year_round.pk}/']")
    page.wait_for_selector("#students")
    page.screenshot(path=shots / "year-round.png", full_page=True)
    boxes = page.locator("#students input[name=statuses]")
    assert boxes.count() == eligible
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.check("#outcomes input[value=deferred]")
    page.click("#outcomes button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert "暂缓注册的原因" in page.locator("#error-summary").inner_text()
    assert page.locator("#students input[name=statuses]").nth(1).is_checked()
    page.fill("#outcomes textarea[name=reason]", "未缴纳本学年学费")
    page.click("#outcomes button[type=submit]")
    page.wait_for_selector("#results")
    assert page.locator("#results li.xj-ok").count() == 2
    page.screenshot(path=shots / "year-round-deferred.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#register button[type=submit]")
    page.wait_for_selector("#registration")
    registered = eligible - 2
    assert f"已为 {registered} 名学生办理学年注册" in page.locator("#registration").inner_text()
    assert page.locator("#register").count() == 0
    page.click("#tab-deferred")
    page.wait_for_load_state("networkidle")
    assert page.locator("#students").inner_text().count("未缴纳本学年学费") == 2
    page.screenshot(path=shots / "year-round-registered.png", full_page=True)

    page.goto(url)
    page.click("button[name=language][value=en]")
    page.wait_for_selector("#round")
    assert "Completed" in page.locator("#round").inner_text()
    page.screenshot(path=shots / "year-round-en.png", full_page=True)
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_selector("#round")

    log_in(page, base, "province_11")
    page.goto(f"{base}/years/")
    assert "北京大学" in page.locator("#rounds").inner_text()
    page.screenshot(path=shots / "year-rounds-province.png", full_page=True)

    log_in(page, base, "student_a")
    admissions = page.locator("#admissions").inner_text()
    assert f"{year_round.label} 学年注册" in admissions
    page.screenshot(path=shots / "year-student-home.png", full_page=True)
