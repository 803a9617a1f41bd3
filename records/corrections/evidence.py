"""Evidence files of a correction request: checked by content, attached by the requester or
the student while the request is open."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image

from permissions import codenames
from permissions.checks import may
from records.audit import audit_append
from records.errors import NotVisibleError
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import User

EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TOO_LARGE = _("An evidence file may be at most 5 MB.")
EVIDENCE_TYPE = _("Evidence must be a PDF, JPEG or PNG file (checked by its content).")
EVIDENCE_NOT_ALLOWED = _(
    "Only the requester or the student can add evidence, while the request is open."
)

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_evidence_type(upload: UploadedFile) -> str | None:
    """The file's real type from its first bytes, whatever its name or declared type; images
    must also decode."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = next((t for sig, t in _SIGNATURES if head.startswith(sig)), None)
    if content_type and content_type.startswith("image/"):
        try:
            with Image.open(upload) as image:
                image.verify()
        except (OSError, SyntaxError, ValueError):
            return None
        finally:
            upload.seek(0)
    return content_type


def check_evidence(upload: UploadedFile, *, field: str = "file") -> str:
    """The file's real type, or a ``ValidationError`` keyed ``field`` naming the file and the
    rule. Writes nothing."""
    size = upload.size
    if size is None or size > EVIDENCE_MAX_BYTES:
        error = ValidationError(EVIDENCE_TOO_LARGE, code="too_large")
    elif (content_type := sniff_evidence_type(upload)) is None:
        error = ValidationError(EVIDENCE_TYPE, code="type")
    else:
        return content_type
    name = upload.name or "evidence"
    raise ValidationError({field: ValidationError(f"{name}: {error.message}", code=error.code)})


def attach_evidence(
    request: CorrectionRequest, upload: UploadedFile, *, content_type: str, acting_user: User
) -> CorrectionEvidence:
    """Store a checked file with the locked (or just filed) request, and audit it."""
    evidence = CorrectionEvidence(
        request=request,
        original_name=(upload.name or "evidence")[-200:],
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=acting_user,
    )
    evidence.file.save(upload.name or "evidence", upload, save=False)
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
