"""``POST /api/v1/corrections/{id}/evidence/`` checks a file as the filing form does (the same
``check_evidence``), takes any file name a client can send, and the API never points at a
stored file."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from records.models import CorrectionEvidence
from tests import evidence_files
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = factories.user("student_a")
    qualification = factories.qualification(factories.student("王小明", login=a), places.pku)
    officer = factories.officer(places.pku, "officer_10001")
    api = token_client(a)
    filed = api.post(
        "/api/v1/corrections/",
        {"qualification": qualification.pk, "changes": {"name": "王晓明"}, "reason": "录入错误"},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    return {"api": api, "officer": token_client(officer), "id": filed.json()["id"]}


def _upload(world, name: str, content: bytes):
    body, content_type = evidence_files.multipart({}, [("file", name, content)])
    return world["api"].post(
        f"/api/v1/corrections/{world['id']}/evidence/", body, content_type=content_type
    )


@pytest.mark.parametrize("case", list(evidence_files.POLYGLOTS))
def test_a_file_that_only_looks_like_evidence_is_refused(world, case):
    content, code = evidence_files.POLYGLOTS[case]
    with translation.override("zh-hans"):
        rule = f"证明.pdf: {evidence_files.rule(code)}"
    assert_error(_upload(world, "证明.pdf", content), 400, "invalid", fields={"file": [rule]})
    assert not CorrectionEvidence.objects.exists()


def test_any_name_a_client_sends_is_stored_under_a_generated_name(world):
    names = {
        "x.html": "x.html",
        "证明." + "\U00020000" * 56: "证明." + "\U00020000" * 56,
        "....": "evidence.png",
        "&#46;&#46;&#47;x.png": "x.png",
    }
    for name, kept in names.items():
        response = _upload(world, name, evidence_files.real_png())
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"id", "original_name", "content_type", "size", "created"}
        assert (body["original_name"], body["content_type"]) == (kept, "image/png")
        stored = CorrectionEvidence.objects.get(pk=body["id"]).file.name
        assert re.fullmatch(rf"evidence/{world['id']}/[0-9a-f]{{32}}\.png", stored)
    # A part header longer than Django's limit (1 KB) is refused before any view: as JSON.
    assert_error(_upload(world, "x" * 10_000 + ".png", b"\x89PNG"), 400, "parse_error")
    detail = world["officer"].get(f"/api/v1/corrections/{world['id']}/").json()
    assert len(detail["evidence"]) == len(names)
    assert "/media/" not in str(detail)
    assert "evidence/" not in str(detail)  # no storage path: files come from the pages only
