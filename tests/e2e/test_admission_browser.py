"""In a real browser: an officer imports a GBK admission file with two bad rows, follows it,
downloads the error report, and finds a freshman in the admission list."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from tests.e2e.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
