"""The workflow models, by subject: each process's concrete viewflow ``Process`` subclass
(real foreign keys to its subject and scope), and the work items of every human task."""

from __future__ import annotations

from workflows.models.admission import AdmissionReviewProcess
from workflows.models.certificate_proof import CertificateProofProcess
from workflows.models.correction import CorrectionProcess
from workflows.models.graduation import QualificationRegistrationProcess
from workflows.models.identity_change import IdentityChangeProcess
from workflows.models.revocation import RevocationProcess
from workflows.models.status_change import StatusChangeProcess
from workflows.models.work import OPEN
from workflows.models.work import WorkCount
from workflows.models.work import WorkItem
from workflows.models.year_registration import YearRegistrationProcess

__all__ = [
    "OPEN",
    "AdmissionReviewProcess",
    "CertificateProofProcess",
    "CorrectionProcess",
    "IdentityChangeProcess",
    "QualificationRegistrationProcess",
    "RevocationProcess",
    "StatusChangeProcess",
    "WorkCount",
    "WorkItem",
    "YearRegistrationProcess",
]
