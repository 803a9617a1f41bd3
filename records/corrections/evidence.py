"""Evidence files of a correction request: checked by content, whole, before anything is
written; stored under a generated name with the extension of the checked type; attached by the
requester or the student while the request is open."""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image
from pypdf import PasswordType
from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject
from pypdf.generic import DictionaryObject
from pypdf.generic import IndirectObject
from pypdf.generic import NumberObject

from permissions import codenames
from permissions.checks import may
from records.audit import audit_append
from records.errors import NotVisibleError
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import User
from records.models.corrections import EVIDENCE_EXTENSIONS

EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TOO_LARGE = _("An evidence file may be at most 5 MB.")
EVIDENCE_TYPE = _("Evidence must be a PDF, JPEG or PNG file (checked by its content).")
EVIDENCE_ACTIVE = _("A PDF may not contain scripts, launch actions or attached files.")
EVIDENCE_ENCRYPTED = _("A PDF must open without a password.")
EVIDENCE_PIXELS = _("An image may have at most %(megapixels)s megapixels.")
EVIDENCE_TOO_COMPLEX = _("A PDF may have at most %(count)s internal objects.")
EVIDENCE_NOT_ALLOWED = _(
    "Only the requester or the student can add evidence, while the request is open."
)
# The longest original name kept (as data, for display; the model's field holds 200).
EVIDENCE_NAME_MAX = 120
_EXTENSION_MAX = 10  # a longer tail after the last dot is not kept as an extension

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
# Pillow's formats for each image type (a camera's multi-picture JPEG opens as MPO).
_IMAGE_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",)}
# A PDF starts with its version line, then only comments (none with markup) and whitespace up
# to its first object: no HTML or SVG hides behind a ``%PDF-`` prefix.
_PDF_PREAMBLE = re.compile(
    rb"%PDF-[12]\.\d[ \t]*(?:\r\n|\r|\n)"
    rb"(?:[ \t\r\n\f\x00]*%[^\r\n<]*(?:\r\n|\r|\n))*"
    rb"[ \t\r\n\f\x00]*\d+[ \t\r\n\f\x00]+\d+[ \t\r\n\f\x00]+obj\b"
)
_PDF_TRAILING = b" \t\r\n\f\x00"  # all a PDF may hold after its last %%EOF
# Keys and action types of active content: scripts, programs, attached or embedded files.
_PDF_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/RichMediaContent", "/XFA"}
)
_PDF_ACTIVE_VALUES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/GoToE",
        "/RichMediaExecute",
        "/EmbeddedFile",
        "/FileAttachment",
        "/RichMedia",
    }
)
# Far more objects than a 5 MB scan or letter has; checking this many takes about a second
# (pypdf parses an object stream whole), so a file that says it has more is refused unread.
_PDF_MAX_OBJECTS = 50_000


def clean_file_name(name: str | None) -> str:
    """The uploader's file name as data, for display: its last path part, without control or
    formatting characters (no bidirectional overrides), runs of spaces, leading or trailing
    dots and spaces, at most ``EVIDENCE_NAME_MAX`` characters (the extension kept). Empty
    when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp"):
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(char)
    name = re.sub(r" +", " ", "".join(kept)).strip(" .")
    if len(name) > EVIDENCE_NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= _EXTENSION_MAX and stem:
            name = f"{stem[: EVIDENCE_NAME_MAX - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            name = name[:EVIDENCE_NAME_MAX].rstrip(" .")
    return name


def _check_image(data: bytes, content_type: str) -> None:
    """The whole image decodes (``verify`` checks a PNG's every chunk, ``load`` decodes the
    pixels), and it has no more pixels than Pillow's ``MAX_IMAGE_PIXELS``."""
    formats = _IMAGE_FORMATS[content_type]
    limit = Image.MAX_IMAGE_PIXELS or 0
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            # Checked here rather than by turning Pillow's warning into an error, which would
            # change a process-wide warnings filter under other threads' feet.
            too_many = bool(limit) and image.width * image.height > limit
            if not too_many:
                image.verify()
        if not too_many:
            with Image.open(io.BytesIO(data), formats=formats) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow refuses
        too_many = True
    except Exception as exc:  # any failure of a decoder fed an arbitrary file
        raise ValidationError(EVIDENCE_TYPE, code="type") from exc
    if too_many:
        raise ValidationError(
            EVIDENCE_PIXELS, code="too_many_pixels", params={"megapixels": limit // 1_000_000}
        )


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _too_many_objects(reader: PdfReader) -> bool:
    """Whether the file lists, or packs into its object streams, more objects than we read
    (the streams' ``/N``, read from their dictionaries before any is decompressed)."""
    listed = sum(len(objects) for objects in reader.xref.values())
    packed = 0
    for number in {number for number, _index in reader.xref_objStm.values()}:
        stream = IndirectObject(number, 0, reader).get_object()
        count = stream.get("/N") if isinstance(stream, DictionaryObject) else None
        if not isinstance(count, NumberObject):
            raise PdfReadError(f"object stream {number} has no /N")  # not a PDF, then
        packed += count
    return listed + max(len(reader.xref_objStm), packed) > _PDF_MAX_OBJECTS


def _has_active_content(reader: PdfReader) -> bool:
    """Whether any object of the file (every object its cross-reference lists, and whatever
    the trailer reaches) is a script, a launch or import action, or an attached file."""
    pending: list[Any] = [reader.trailer]
    for generation, objects in reader.xref.items():
        pending.extend(IndirectObject(idnum, generation, reader) for idnum in objects)
    pending.extend(IndirectObject(idnum, 0, reader) for idnum in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # a stream's dictionary too
            if _PDF_ACTIVE_KEYS.intersection(item.keys()):
                return True
            kinds = (_resolved(item.get(key)) for key in ("/S", "/Type", "/Subtype"))
            if any(isinstance(kind, str) and kind in _PDF_ACTIVE_VALUES for kind in kinds):
                return True
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return False


def _check_pdf(data: bytes) -> None:
    """The file is one PDF from its version line to its last ``%%EOF``: it parses (pypdf,
    strict), opens without a password, has at most ``_PDF_MAX_OBJECTS`` objects, every one of
    which reads, and a page, and holds no active content."""
    if not _PDF_PREAMBLE.match(data) or not data.rstrip(_PDF_TRAILING).endswith(b"%%EOF"):
        raise ValidationError(EVIDENCE_TYPE, code="type")
    too_complex = ValidationError(
        EVIDENCE_TOO_COMPLEX, code="too_complex", params={"count": f"{_PDF_MAX_OBJECTS:,}"}
    )
    try:
        reader = PdfReader(
            io.BytesIO(data), strict=True, xref_stream_maximum_entries=_PDF_MAX_OBJECTS
        )
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ValidationError(EVIDENCE_ENCRYPTED, code="encrypted")
        if _too_many_objects(reader):
            raise too_complex
        if len(reader.pages) < 1:
            raise ValidationError(EVIDENCE_TYPE, code="type")
        active = _has_active_content(reader)
    except ValidationError:
        raise
    except Exception as exc:  # any failure of a parser fed an arbitrary file, RecursionError too
        if isinstance(exc, LimitReachedError) or isinstance(exc.__cause__, LimitReachedError):
            raise too_complex from exc  # pypdf's own limits, e.g. the cross-reference's size
        raise ValidationError(EVIDENCE_TYPE, code="type") from exc
    if active:
        raise ValidationError(EVIDENCE_ACTIVE, code="active_content")


def detect_evidence_type(upload: UploadedFile) -> str:
    """The file's type from its content, whatever its name or declared type, once the whole
    file has been checked as that type; or a ``ValidationError`` naming the rule it breaks."""
    size = upload.size
    if size is None or size > EVIDENCE_MAX_BYTES:
        raise ValidationError(EVIDENCE_TOO_LARGE, code="too_large")
    upload.seek(0)
    data = upload.read(EVIDENCE_MAX_BYTES + 1)
    upload.seek(0)
    if len(data) > EVIDENCE_MAX_BYTES:
        raise ValidationError(EVIDENCE_TOO_LARGE, code="too_large")
    content_type = next((t for sig, t in _SIGNATURES if data.startswith(sig)), None)
    if content_type is None:
        raise ValidationError(EVIDENCE_TYPE, code="type")
    if content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data, content_type)
    return content_type


def check_evidence(upload: UploadedFile, *, field: str = "file") -> str:
    """The file's real type, or a ``ValidationError`` keyed ``field`` naming the file and the
    rule. Writes nothing."""
    try:
        return detect_evidence_type(upload)
    except ValidationError as refused:
        name = clean_file_name(upload.name) or "evidence"
        message = f"{name}: {refused.messages[0]}"
        raise ValidationError({field: ValidationError(message, code=refused.code)}) from None


def attach_evidence(
    request: CorrectionRequest, upload: UploadedFile, *, content_type: str, acting_user: User
) -> CorrectionEvidence:
    """Store a checked file (``content_type`` from ``check_evidence``) with the locked (or just
    filed) request, and audit it."""
    extension = EVIDENCE_EXTENSIONS[content_type]
    evidence = CorrectionEvidence(
        request=request,
        original_name=clean_file_name(upload.name) or f"evidence{extension}",
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=acting_user,
    )
    # The storage name is generated (``evidence_path``): the uploader's name is only data.
    evidence.file.save(f"evidence{extension}", upload, save=False)
    evidence.save()
    audit_append(
        subject_locked=True,
        subject=request,
        action="correction.evidence_added",
        actor=acting_user,
        data={"evidence": evidence.pk, "name": evidence.original_name, "type": content_type},
    )
    return evidence


@transaction.atomic
def correction_add_evidence(
    *, request: CorrectionRequest, upload: UploadedFile, acting_user: User
) -> CorrectionEvidence:
    """Attach a file to an open request: the requester or the student only."""
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    request = (  # the state as of now, not as the caller loaded it
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("student")
        .get(pk=request.pk)
    )
    is_party = acting_user.pk in (request.requester_id, request.student.user_id)
    if not is_party or not request.is_open:
        raise PermissionDenied(EVIDENCE_NOT_ALLOWED)
    content_type = check_evidence(upload)
    return attach_evidence(request, upload, content_type=content_type, acting_user=acting_user)
