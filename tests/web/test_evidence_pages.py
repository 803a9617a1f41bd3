"""Evidence through the pages: the filing form refuses what only looks like evidence, takes
any file name a client can send, and a file is served only by the login-checked evidence view
with the type it was checked as; never from /media/, not even with DEBUG."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test import override_settings
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import User
from tests import evidence_files
from tests import factories
from workflows.flows.correction import CorrectionFlow

pytestmark = pytest.mark.django_db

DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
PREVIEW_CSP = "default-src 'none'; frame-ancestors 'self'; sandbox"


@pytest.fixture
def world(places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = factories.user("student_a")
    return {
        "q": factories.qualification(factories.student("王小明", login=a), places.pku),
        "student_a": a,
        "officer_10001": factories.officer(places.pku, "officer_10001"),
        "officer_10003": factories.officer(places.thu, "officer_10003"),
    }


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _form_url(world) -> str:
    return f"/corrections/qualifications/{world['q'].pk}/"


def _fields() -> dict[str, str]:
    return {"field_0": "name", "value_0": "王晓明", "reason": "录入错误"}


def _file(world, *uploads: SimpleUploadedFile):
    return _client(world["student_a"]).post(
        _form_url(world), {**_fields(), "evidence": list(uploads)}
    )


def _stored(world) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.mark.parametrize("case", list(evidence_files.POLYGLOTS))
def test_the_filing_form_refuses_a_file_that_only_looks_like_evidence(world, case):
    content, code = evidence_files.POLYGLOTS[case]
    response = _file(
        world,
        SimpleUploadedFile("户口本.png", evidence_files.real_png()),
        SimpleUploadedFile("证明.pdf", content, content_type="application/pdf"),
    )
    assert response.status_code == 200
    assert not CorrectionRequest.objects.exists()
    assert not CorrectionEvidence.objects.exists()
    assert not _stored(world)
    with translation.override("zh-hans"):
        rule = f"证明.pdf: {evidence_files.rule(code)}"
    text = response.content.decode()
    evidence = text.split('<label for="id_evidence">')[1].split("</div>\n</div>")[0]
    assert rule in evidence


# Names an HTTP client may send that the storage could not take as they are: a tail after the
# last dot longer than the stored name may be, one longer than a file name may be on disk (56
# characters of 4 bytes), only dots, and paths (as HTML entities, and a Windows path).
HOSTILE_NAMES = {
    "x." + "a" * 300: "a" * 120,  # Django keeps the last 255 characters, from the dot
    "证明." + "\U00020000" * 56: "证明." + "\U00020000" * 56,
    "....": "evidence.png",
    "&#46;&#46;&#47;&#46;&#46;&#47;etc&#47;passwd.png": "passwd.png",
    "C:\\Users\\x\\..\\evil.png": "evil.png",
}


def test_the_filing_form_stores_a_file_under_a_generated_name_whatever_its_name(world):
    body, content_type = evidence_files.multipart(
        _fields(),
        [("evidence", name, evidence_files.real_png()) for name in HOSTILE_NAMES],
    )
    response = _client(world["student_a"]).post(_form_url(world), body, content_type=content_type)
    assert response.status_code == 302, response.content.decode()[:2000]
    correction = CorrectionRequest.objects.get()
    stored = list(correction.evidence.order_by("pk"))
    assert [e.original_name for e in stored] == list(HOSTILE_NAMES.values())
    for evidence in stored:
        assert re.fullmatch(rf"evidence/{correction.pk}/[0-9a-f]{{32}}\.png", evidence.file.name)
        assert evidence.download_name.endswith(".png")
    assert {path.parent for path in _stored(world)} == {
        Path(settings.MEDIA_ROOT) / "evidence" / str(correction.pk)
    }


def _task(node) -> Task:
    return Task.objects.get(flow_task=node, status=STATUS.NEW)


def test_evidence_is_served_with_its_checked_type_as_a_sandboxed_attachment(world):
    png, pdf = evidence_files.real_png(), evidence_files.real_pdf()
    assert _file(world, SimpleUploadedFile("x.html", png), SimpleUploadedFile("scan.svg", pdf))
    image, document = CorrectionEvidence.objects.order_by("pk")
    for user in ("student_a", "officer_10001"):
        client = _client(world[user])
        for item, content_type, name, content in (
            (image, "image/png", "x.png", png),
            (document, "application/pdf", "scan.pdf", pdf),
        ):
            response = client.get(f"/corrections/evidence/{item.pk}/")
            assert response.status_code == 200
            streamed: Any = response  # a FileResponse, which the client's type does not say
            assert b"".join(streamed.streaming_content) == content
            assert response["Content-Type"] == content_type
            assert response["Content-Disposition"] == f'attachment; filename="{name}"'
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Content-Security-Policy"] == DOWNLOAD_CSP
            assert response["Cache-Control"] == "private, no-store"
            assert response["X-Frame-Options"] == "DENY"
            assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert _client(world["officer_10003"]).get(
        f"/corrections/evidence/{image.pk}/"
    ).status_code == (404)
    anonymous = _client().get(f"/corrections/evidence/{image.pk}/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(settings.LOGIN_URL)


def test_the_task_page_previews_evidence_inline_in_a_sandbox(world):
    assert _file(
        world,
        SimpleUploadedFile("户口本.png", evidence_files.real_png()),
        SimpleUploadedFile("证明.pdf", evidence_files.real_pdf()),
    )
    image, document = CorrectionEvidence.objects.order_by("pk")
    officer = _client(world["officer_10001"])
    page = officer.get(f"/work/{_task(CorrectionFlow.school_review).pk}/").content.decode()
    preview = page.split('id="evidence-preview"')[1]
    assert f'<img src="/corrections/evidence/{image.pk}/?inline=1"' in preview
    assert f'<iframe src="/corrections/evidence/{document.pk}/?inline=1"' in preview
    for item, content_type in ((image, "image/png"), (document, "application/pdf")):
        response = officer.get(f"/corrections/evidence/{item.pk}/?inline=1")
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == PREVIEW_CSP
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Frame-Options"] == "SAMEORIGIN"


def _urlconf_with_debug() -> ModuleType:
    """``config/urls.py`` as it is when the server starts with DEBUG on (it reads the setting
    when imported): a fresh copy, so the suite's own stays as it is."""
    spec = importlib.util.find_spec("config.urls")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with override_settings(DEBUG=True):
        spec.loader.exec_module(module)
    return module


def test_uploads_are_never_served_from_media_not_even_with_debug(world):
    assert _file(world, SimpleUploadedFile("户口本.png", evidence_files.real_png()))
    stored = CorrectionEvidence.objects.get().file.name
    with override_settings(DEBUG=True, ROOT_URLCONF=_urlconf_with_debug()):
        for path in (f"/media/{stored}", f"{settings.MEDIA_URL}{stored}"):
            for user in (world["officer_10001"], world["student_a"], None):
                assert _client(user).get(path).status_code == 404
