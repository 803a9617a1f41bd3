"""In a real browser: an officer imports a GBK admission file with two bad rows, follows it,
downloads the error report, and finds a freshman in the admission list; the whole
re-examination: outcomes from the list's check boxes, a cancellation confirmed by a second
officer, the cohort registered, and the freshman claiming the account to see the status."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from records.demo import DEMO_FRESHMAN
from records.demo import demo_id_number
from tests.claims import fresh_cache
from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def empty_cache(transactional_db):
    yield from fresh_cache()


@pytest.fixture
def admission_file(demo, tmp_path):
    """Before the browser starts: five freshmen of 北京大学, two of them with a bad row."""
    from tests.records.admission_files import csv_bytes
    from tests.records.admission_files import reference
    from tests.records.admission_files import row

    reference()
    rows = [row(n) for n in range(101, 104)]
    rows.append(row(104, gender="未知"))
    rows.append(row(105, school_code="10003"))  # a school the officer does not act for
    path = tmp_path / "2026级新生.csv"
    path.write_bytes(csv_bytes(rows, encoding="gbk", chinese=True))
    return path


def test_an_officer_imports_a_gbk_file_and_downloads_the_error_report(
    live_server, admission_file, browser_page, tmp_path
):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    log_in(page, base, "officer_10001")
    page.goto(f"{base}/admissions/")
    page.click("text=导入录取数据")
    page.set_input_files("input[name=file]", str(admission_file))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-errors")
    state = page.locator("#import-state").inner_text()
    assert "已完成" in state
    page.screenshot(path=shots / "admission-import.png", full_page=True)
    errors = page.locator("#import-errors").inner_text()
    assert "性别" in errors
    assert "学校代码" in errors

    with page.expect_download() as download:
        page.click("#error-report")
    report = Path(download.value.path()).read_bytes()
    assert report.startswith(codecs.BOM_UTF8)
    lines = report.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,code,message"
    assert [line.split(",")[:2] for line in lines[1:]] == [["5", "性别"], ["6", "学校代码"]]

    page.goto(f"{base}/admissions/")
    assert "2611" in page.locator("#admissions").inner_text()
    page.fill("input[name=q]", "学生")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "admission-list.png", full_page=True)
    assert page.locator("#admissions tr").count() == 4  # the header and three freshmen


def _check(page, candidate_number: str) -> None:
    page.check(f"#admissions input[aria-label$='{candidate_number}']")


def _import_with_report(page, base: str, admission_file: Path) -> None:
    """张伟 imports the file: three rows in, two reported, the report downloaded."""
    log_in(page, base, "officer_10001")
    page.goto(f"{base}/admissions/imports/new/")
    page.set_input_files("input[name=file]", str(admission_file))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-errors")
    with page.expect_download() as download:
        page.click("#error-report")
    lines = Path(download.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 3  # the header and the two bad rows


def _record_outcomes(page, base: str, shots: Path, gave_up: str, cancelled: str) -> None:
    """One freshman gave up; a cancellation asked without a reason is refused at the field,
    the row still checked; with a reason it waits for a second officer."""
    page.goto(f"{base}/admissions/?school=10001&year=2026")
    _check(page, gave_up)
    page.check("#outcomes input[value=gave_up]")
    page.click("#outcomes button[type=submit]")
    page.wait_for_selector("#results")
    assert "放弃入学资格" in page.locator("#results").inner_text()
    _check(page, cancelled)
    page.check("#outcomes input[value=cancelled]")
    page.click("#outcomes button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert "理由" in page.locator("#error-summary").inner_text()
    assert page.locator(f"#admissions input[aria-label$='{cancelled}']").is_checked()
    page.fill("#outcomes textarea[name=reason]", "入学体检不合格，经复查不符合录取条件")
    page.click("#outcomes button[type=submit]")
    # An adverse decision: without the legality review and the hearing, refused at the fields.
    page.wait_for_selector("#error-summary")
    assert "第56条" in page.locator("#error-summary").inner_text()
    page.check("#outcomes input[name=legality_review]")
    page.fill("#outcomes input[name=hearing_date]", "2026-11-20")
    page.fill("#outcomes input[name=hearing_by]", "招生办 王老师")
    page.fill("#outcomes textarea[name=hearing_summary]", "学生陈述了体检情况")
    page.click("#outcomes button[type=submit]")
    page.wait_for_selector("#results")
    assert "等待另一名工作人员确认" in page.locator("#results").inner_text()
    page.screenshot(path=shots / "admission-outcomes.png", full_page=True)


def _confirm_cancellation(page, base: str, shots: Path, cohort_url: str) -> None:
    """欧阳婷, a second officer, confirms it from the cohort's page."""
    log_in(page, base, "officer_10001b")
    page.goto(cohort_url)
    page.click("#cancellations a")
    page.wait_for_selector("#cancellation")
    page.screenshot(path=shots / "admission-confirm-cancellation.png", full_page=True)
    page.check("input[name=decision][value=confirm]")
    page.click("#decide button[type=submit]")
    page.wait_for_load_state("networkidle")


def _register(page, shots: Path, cohort_url: str) -> None:
    """The cohort is registered: everyone left admitted gets a status and a student number."""
    page.goto(cohort_url)
    # The confirmed cancellation is in its appeal period: its admission waits.
    assert "申诉期内" in page.locator("#cancellations").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#register button[type=submit]")
    page.wait_for_selector("#registration")
    assert "已注册" in page.locator("#registration").inner_text()
    assert page.locator("#register").count() == 0
    assert "已注册" in page.locator("#cohort").inner_text()
    page.screenshot(path=shots / "admission-cohort-registered.png", full_page=True)


def _claim_and_see_the_status(page, base: str, shots: Path) -> None:
    """The demo freshman of that cohort claims the account and sees the status."""
    page.context.clear_cookies()
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    page.goto(f"{base}/accounts/claim/")
    for name, value in {
        "candidate_number": DEMO_FRESHMAN.candidate_number,
        "id_number": demo_id_number(DEMO_FRESHMAN),
        "name": DEMO_FRESHMAN.name,
        "username": "linxiaoyu",
        "email": "linxiaoyu@example.org",
        "password": "a long passphrase 42",
        "password_again": "a long passphrase 42",
    }.items():
        page.fill(f"#claim-form input[name={name}]", value)
    page.click("#claim-form button[type=submit]")
    page.wait_for_url(f"{base}/home/")
    panel = page.locator("#admissions").inner_text()
    assert "已注册" in panel
    assert "学号" in panel
    assert "在籍" in panel
    page.screenshot(path=shots / "admission-freshman-status.png", full_page=True)


def test_the_re_examination_from_import_to_the_freshmans_status(
    live_server, admission_file, empty_cache, browser_page, tmp_path
):
    from tests.records.admission_files import row

    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))
    gave_up, cancelled = row(101)["candidate_number"], row(102)["candidate_number"]

    _import_with_report(page, base, admission_file)
    _record_outcomes(page, base, shots, gave_up, cancelled)
    # The cohort's page shows the cancellation waiting; 张伟 asked, so another confirms.
    page.click("#cohort-page")
    page.wait_for_selector("#cancellations")
    assert "入学体检不合格" in page.locator("#cancellations").inner_text()
    page.screenshot(path=shots / "admission-cohort.png", full_page=True)
    cohort_url = page.url
    _confirm_cancellation(page, base, shots, cohort_url)
    _register(page, shots, cohort_url)

    # 赵敏, the province's administrator, finds the cohort among the province's.
    log_in(page, base, "province_11")
    page.goto(f"{base}/admissions/cohorts/")
    assert "已注册" in page.locator("#cohorts tr", has_text="北京大学").inner_text()
    page.screenshot(path=shots / "admission-cohorts-province.png", full_page=True)

    _claim_and_see_the_status(page, base, shots)
