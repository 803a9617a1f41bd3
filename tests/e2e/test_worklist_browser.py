"""Issue 7's browser path: officer_10001 filters the work list by a student's name,
bulk-forwards two requests, opens the third and sees its PDF evidence inline; province_11
returns one to the school with a comment, and officer_10001 reads that comment."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL import ImageChops

from records.models import School
from records.models import Student
from tests import factories
from tests.e2e.pages import log_in
from workflows.flows import correction as flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PAGE_COLOUR = (204, 0, 0)  # the PDF's one page: found again in the preview's pixels


def _pdf(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 300), PAGE_COLOUR).save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def _page_pixels(screenshot: bytes) -> int:
    """How many pixels of the screenshot have the PDF page's colour."""
    red, green, blue = Image.open(io.BytesIO(screenshot)).convert("RGB").split()
    near = [
        band.point(lambda v, c=c: 255 if abs(v - c) < 40 else 0)
        for band, c in zip((red, green, blue), PAGE_COLOUR, strict=True)
    ]
    both = ImageChops.multiply(ImageChops.multiply(near[0], near[1]), near[2])
    return both.histogram()[255]


def _assert_pdf_previewed(page: Any, base: str) -> None:
    """The task page previews the PDF inline, from the login-checked evidence view, in a
    sandbox (nothing sniffed, nothing loaded), and the browser's PDF viewer still shows it."""
    preview = page.locator("#evidence-preview iframe")
    preview.wait_for()
    source = preview.get_attribute("src")
    assert source
    assert source.endswith("?inline=1")
    response = page.request.get(f"{base}{source}")
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" not in response.headers.get("content-disposition", "")
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert policy == "default-src 'none'; frame-ancestors 'self'; sandbox"
    for _ in range(30):
        if _page_pixels(preview.screenshot()) > 10_000:
            return
        page.wait_for_timeout(500)
    pytest.fail("the PDF is not shown in the task page's preview")


@pytest.fixture
def requests(demo: None) -> list[int]:
    """Three requests of students named 王… at 北京大学 (the third with a PDF), and one of
    李娜 that the name filter leaves out."""
    pku = School.objects.get(pk="10001")
    people = [Student.objects.get(user__username="student_a")]
    for username, name in (("wang_fang", "王芳"), ("wang_lei", "王磊")):
        person = factories.student(name, login=factories.user(username))
        factories.qualification(person, pku)
        people.append(person)
    people.append(Student.objects.get(user__username="student_b"))
    filed = []
    for n, person in enumerate(people):
        assert person.user is not None
        filed.append(
            flow.correction_start(
                qualification=person.qualifications.get(),
                changes={"name": person.name + "一"},
                reason="录入错误",
                requester=person.user,
                evidence=[_pdf("户口本.pdf")] if n == 2 else [],
            ).pk
        )
    return filed


def test_filter_bulk_forward_preview_and_return(live_server, requests, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    shots = Path(os.environ.get("XUEJI_SCREENSHOT_DIR", tmp_path))

    log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/")
    page.fill("input[name=q]", "王")
    page.click("#filters button[type=submit]")
    page.wait_for_url(f"{base}/work/?*q=*")
    rows = page.locator("#worklist tr:has(input[name=tasks])")
    assert rows.count() == 3
    assert "李娜" not in page.locator("#worklist").inner_text()
    page.screenshot(path=shots / "worklist.png", full_page=True)

    # Longest waiting first: 王小明's and 王芳's requests are the first two.
    page.locator("input[name=tasks]").nth(0).check()
    page.locator("input[name=tasks]").nth(1).check()
    page.check("#worklist input[name=decision][value=approve]")
    page.click("#worklist button[type=submit]")
    results = page.locator("#results")
    results.wait_for()
    assert results.inner_text().count("已办结") == 2
    assert page.locator("#worklist tr:has(input[name=tasks])").count() == 1

    page.click("#worklist td a")
    _assert_pdf_previewed(page, base)
    page.screenshot(path=shots / "task-with-pdf.png", full_page=True)

    log_in(page, base, "province_11")
    schools = page.locator("#schools").inner_text()
    assert "北京大学" in schools  # with its open and overdue tasks
    page.screenshot(path=shots / "province-home.png", full_page=True)
    page.goto(f"{base}/work/")
    assert page.locator("#worklist tr:has(input[name=tasks])").count() == 2
    page.locator("#worklist td a").first.click()
    page.check("input[name=decision][value=return]")
    page.fill("textarea[name=comment]", "请补充户口本复印件")
    page.click("#decide button[type=submit]")
    page.wait_for_url(f"{base}/work/**")

    log_in(page, base, "officer_10001")
    page.goto(f"{base}/work/")
    page.fill("input[name=q]", "王小明")
    page.click("#filters button[type=submit]")
    page.wait_for_url(f"{base}/work/?*q=*")
    page.click("#worklist td a")
    assert "请补充户口本复印件" in page.locator("main").inner_text()
    page.screenshot(path=shots / "returned-by-province.png", full_page=True)
