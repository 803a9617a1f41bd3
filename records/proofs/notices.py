"""Who hears of a certificate proof application, in which words. Notices name the student,
the certificate number's ending and, once issued, the proof number; never an ID number."""

from __future__ import annotations

from typing import Any

from notifications.services import Recipient
from records import glossary
from records import notices
from records.models import CertificateProof


def proof_url(proof: CertificateProof) -> str:
    return notices.page_url(
        "proofs:detail", {"pk": proof.pk}, f"/api/v1/certificate-proofs/{proof.pk}/"
    )


# The requester and the student (one person when the student applied).
requester_and_student = notices.requester_and_student


def school_officers(proof: CertificateProof) -> list[Recipient]:
    """The officers of the school who may decide the application: never its requester."""
    return [r for r in notices.school_officers(proof.school) if r.user_id != proof.requester_id]


def context(proof: CertificateProof) -> dict[str, Any]:
    """What every certificate proof email says of its application (lazy labels: each
    recipient reads them in their own language)."""
    return {
        "request_id": proof.pk,
        "school": proof.school.name,
        "student": proof.student.name,
        # The certificate's last six characters: an email never carries an 18-digit number,
        # which could be taken for a resident ID number (notifications' guard).
        "certificate_ending": proof.qualification.certificate_number[-6:],
        "loss": proof.get_reason_display(),
        "proof_number": proof.number or "",
        "state": glossary.PROOF_STATES.get(proof.state, proof.state),
        "waiting_for": glossary.PROOF_WAITING_FOR.get(proof.state, ""),
        "url": proof_url(proof),
    }
