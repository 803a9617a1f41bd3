"""The record models, one module per subject (as Zulip's ``zerver/models/``):

- ``reference``: provinces, schools, majors, ethnic groups;
- ``people``: logins and persons;
- ``audit``: the audit log's rows and its chains' heads;
- ``qualifications``: qualifications and their revisions;
- ``corrections``: correction requests and their evidence;
- ``admissions``: admission types, imports, admissions and student statuses (and the
  ``Programme`` both declare once);
- ``cohorts``: a school's freshmen of one year, and requests to cancel an admission;
- ``years``: academic-year registration: a school's round of a year, and its registrations;
- ``status_changes``: status change requests (学籍异动);
- ``certificate_proofs``: applications for a certificate proof (学历证明书), and their
  evidence.
- ``identity``: the guard of an enrolled student's identity and programme;
- ``identity_changes``: identity change requests and their evidence.
- ``graduation``: qualification registration: a school's graduating cohort, and the
  identity re-checks of graduates held by the photo comparison;
- ``verification``: verification reports the student controls, their access log, certificate
  checks.

Every model that a permission scope reaches declares ``scope_paths``: for each scope model
(``"records.school"``, ``"records.province"``) the lookup from this model to that model's
primary key, and ``"owner"``: the lookup to the user who owns the row. ``permissions`` reads
these paths; it never imports this package. Import models from here.
"""

from __future__ import annotations

from records.models.admissions import AdmissionImport
from records.models.admissions import AdmissionImportError
from records.models.admissions import AdmissionRecord
from records.models.admissions import AdmissionType
from records.models.admissions import Programme
from records.models.admissions import StudentStatus
from records.models.audit import AUDIT_APPEND_ONLY
from records.models.audit import GENESIS_HASH
from records.models.audit import AuditEvent
from records.models.audit import AuditHead
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.base import AppendOnlyModel
from records.models.certificate_proofs import CertificateProof
from records.models.certificate_proofs import CertificateProofEvidence
from records.models.cohorts import AdmissionCancellation
from records.models.cohorts import AdmissionCohort
from records.models.corrections import CORRECTABLE_FIELDS
from records.models.corrections import CorrectionEvidence
from records.models.corrections import CorrectionRequest
from records.models.corrections import evidence_path
from records.models.graduation import GraduationCohort
from records.models.graduation import PhotoRecheck
from records.models.identity import IdentityLockedError
from records.models.identity import identity_writes
from records.models.identity_changes import IdentityChangeEvidence
from records.models.identity_changes import IdentityChangeRequest
from records.models.people import PERSON_FIELDS
from records.models.people import Student
from records.models.people import User
from records.models.qualifications import LOST_MARK_REFUSED
from records.models.qualifications import QUALIFICATION_CONTENT_FIELDS
from records.models.qualifications import REGISTERED_IMMUTABLE
from records.models.qualifications import REVISIONS_APPEND_ONLY
from records.models.qualifications import Qualification
from records.models.qualifications import QualificationRevision
from records.models.reference import PROVINCE_CODE_RULE
from records.models.reference import SCHOOL_CODE_RULE
from records.models.reference import Ethnicity
from records.models.reference import Major
from records.models.reference import MajorCutoff
from records.models.reference import Province
from records.models.reference import School
from records.models.reference import SchoolMajor
from records.models.revocations import RevocationRequest
from records.models.status_changes import StatusChangeRequest
from records.models.verification import AccessOutcome
from records.models.verification import CertificateCheck
from records.models.verification import ReportAccess
from records.models.verification import VerificationReport
from records.models.years import YearRegistration
from records.models.years import YearRegistrationRound

__all__ = [
    "AUDIT_APPEND_ONLY",
    "CORRECTABLE_FIELDS",
    "GENESIS_HASH",
    "LOST_MARK_REFUSED",
    "PERSON_FIELDS",
    "PROVINCE_CODE_RULE",
    "QUALIFICATION_CONTENT_FIELDS",
    "REGISTERED_IMMUTABLE",
    "REVISIONS_APPEND_ONLY",
    "SCHOOL_CODE_RULE",
    "STUDENT_RECORD_SCOPE",
    "AccessOutcome",
    "AdmissionCancellation",
    "AdmissionCohort",
    "AdmissionImport",
    "AdmissionImportError",
    "AdmissionRecord",
    "AdmissionType",
    "AppendOnlyModel",
    "AuditEvent",
    "AuditHead",
    "CertificateCheck",
    "CertificateProof",
    "CertificateProofEvidence",
    "CorrectionEvidence",
    "CorrectionRequest",
    "Ethnicity",
    "GraduationCohort",
    "IdentityChangeEvidence",
    "IdentityChangeRequest",
    "IdentityLockedError",
    "Major",
    "MajorCutoff",
    "PhotoRecheck",
    "Programme",
    "Province",
    "Qualification",
    "QualificationRevision",
    "ReportAccess",
    "RevocationRequest",
    "School",
    "SchoolMajor",
    "StatusChangeRequest",
    "Student",
    "StudentStatus",
    "User",
    "VerificationReport",
    "YearRegistration",
    "YearRegistrationRound",
    "evidence_path",
    "identity_writes",
]
