"""Evidence files at the records service level: the whole file is checked as the type its
first bytes claim, stored under a generated name with that type's extension, and the
uploader's name is kept only as cleaned data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from records.corrections.evidence import EVIDENCE_NAME_MAX
from records.corrections.evidence import correction_add_evidence
from records.corrections.services import correction_file
from records.models import AuditEvent
from records.models import CorrectionEvidence
from tests import evidence_files
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login = factories.user("student_a")
    person = factories.student("王小明", login=login)
    factories.officer(places.pku, "officer_10001")
    qualification = factories.qualification(person, places.pku)
    request = correction_file(
        qualification=qualification,
        changes={"name": "王晓明"},
        reason="录入错误",
        requester=login,
    )
    return {"student": login, "request": request, "qualification": qualification}


def _add(world, name, content):
    return correction_add_evidence(
        request=world["request"],
        upload=SimpleUploadedFile(name, content, content_type="application/pdf"),
        acting_user=world["student"],
    )


def _stored_files(settings) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.mark.parametrize("case", list(evidence_files.POLYGLOTS))
def test_a_file_that_only_looks_like_evidence_is_refused_and_nothing_is_stored(
    world, settings, case
):
    content, code = evidence_files.POLYGLOTS[case]
    with pytest.raises(ValidationError) as exc:
        _add(world, "证明.pdf", content)
    [error] = exc.value.error_dict["file"]
    assert error.code == code
    assert error.message.startswith("证明.pdf: ")
    assert not CorrectionEvidence.objects.exists()
    assert not _stored_files(settings)
    assert not AuditEvent.objects.filter(action="correction.evidence_added").exists()


def test_the_rules_are_named_in_the_users_language(world):
    with pytest.raises(ValidationError) as exc:
        _add(world, "a.pdf", evidence_files.pdf_with_javascript())
    assert exc.value.error_dict["file"][0].message == (
        "a.pdf: PDF 文件不得包含脚本、启动程序的操作或附件。"
    )
    with pytest.raises(ValidationError) as exc:
        _add(world, "a.pdf", evidence_files.pdf_with_password())
    assert exc.value.error_dict["file"][0].message == "a.pdf: PDF 文件必须无需密码即可打开。"


def test_an_image_with_more_pixels_than_pillow_allows_is_refused(world, monkeypatch):
    """Pillow only warns below twice its limit: the warning refuses the file here."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_500_000)
    with pytest.raises(ValidationError) as exc:
        _add(world, "scan.png", evidence_files.real_png((1300, 1300)))
    [error] = exc.value.error_dict["file"]
    assert error.code == "too_many_pixels"
    assert error.message == "scan.png: 图片最多 1 百万像素。"
    assert not CorrectionEvidence.objects.exists()


REAL = {
    "pdf": (evidence_files.real_pdf(), "application/pdf", ".pdf"),
    "pdf in object streams": (evidence_files.compressed_pdf(), "application/pdf", ".pdf"),
    "pdf with an owner password only": (
        evidence_files.pdf_with_owner_password_only(),
        "application/pdf",
        ".pdf",
    ),
    "jpeg": (evidence_files.real_jpeg(), "image/jpeg", ".jpg"),
    "png": (evidence_files.real_png(), "image/png", ".png"),
}


@pytest.mark.parametrize("kind", list(REAL))
@pytest.mark.parametrize("name", ["x.html", "证明.svg", "scan.exe", "noext"])
def test_real_evidence_is_stored_under_a_generated_name_with_its_types_extension(
    world, settings, kind, name
):
    content, content_type, extension = REAL[kind]
    evidence = _add(world, name, content)
    assert (evidence.content_type, evidence.original_name) == (content_type, name)
    pattern = rf"evidence/{world['request'].pk}/[0-9a-f]{{32}}\{extension}"
    assert re.fullmatch(pattern, evidence.file.name)
    [stored] = _stored_files(settings)
    assert stored.suffix == extension
    assert stored.read_bytes() == content
    stem = name.rsplit(".", 1)[0]
    assert evidence.download_name == f"{stem}{extension}"


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("x.png\x00.html", "x.png.html"),
        ("proof.png\x00", "proof.png"),
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\evil.png", "evil.png"),
        ("....", ""),
        ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override would show "exe.png"
        ("a\r\nSet-Cookie: x=1.png", "a Set-Cookie: x=1.png"),
        ("  spaced \t name .png  ", "spaced name .png"),
        ("户口本\u0007.png", "户口本.png"),
    ],
)
def test_a_hostile_name_is_kept_only_cleaned_and_never_reaches_the_storage(
    world, settings, name, kept
):
    evidence = _add(world, name, evidence_files.real_png())
    assert evidence.original_name == (kept or "evidence.png")
    assert re.fullmatch(rf"evidence/{world['request'].pk}/[0-9a-f]{{32}}\.png", evidence.file.name)
    [stored] = _stored_files(settings)
    assert stored.parent == Path(settings.MEDIA_ROOT) / "evidence" / str(world["request"].pk)
    event = AuditEvent.objects.get(action="correction.evidence_added")
    assert event.data["name"] == evidence.original_name


def test_a_long_name_is_cut_keeping_its_extension(world):
    evidence = _add(world, "证" * 10_000 + ".png", evidence_files.real_png())
    assert len(evidence.original_name) == EVIDENCE_NAME_MAX
    assert evidence.original_name.endswith("证.png")
    evidence = _add(world, "x" * 10_000, evidence_files.real_png())
    assert evidence.original_name == "x" * EVIDENCE_NAME_MAX
    assert evidence.download_name == "x" * EVIDENCE_NAME_MAX + ".png"


def test_a_refused_file_is_named_cleaned_in_the_error(world):
    with pytest.raises(ValidationError) as exc:
        _add(world, "../../\u202eevil\x00.pdf", b"%PDF-1.4\n" + evidence_files.HTML)
    assert exc.value.error_dict["file"][0].message.startswith("evil.pdf: ")
