"""What a verifier sees: the live record (after every approved correction), never the ID
number, not even masked.

The public answers carry no part of the ID number: the masked form the house shows to signed-in
readers (first four and last four characters, ``records.validators.mask_id_number``) is not
shown to verifiers, who need only to match a person they already know by name, birth date
and the certificate. The 学籍 report of CHSI prints the number in full; this one does not
(minimisation under PIPL, DOMAIN.md §5). Photos are not shown either.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from records.choices import QualificationStatus
from records.models import Qualification
from records.models import StudentStatus
from records.models import VerificationReport

REPORT_FORMAT = "xueji.verification-report/1"


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def qualification_content(qualification: Qualification) -> dict[str, Any]:
    """The 学历 record's fields (DOMAIN.md §3.2) with its marks: ``revoked`` (注销/无效) and
    ``lost`` (遗失作废: a model with no such state says false)."""
    return {
        "name": qualification.name,
        "gender": qualification.gender,
        "birth_date": _date(qualification.birth_date),
        "school_code": qualification.school_id,
        "school_name": qualification.school.name,
        "education_type": qualification.education_type,
        "level": qualification.level,
        "major_code": qualification.major_code,
        "major_name": qualification.major_name,
        "study_length": qualification.study_length,
        "learning_form": qualification.learning_form,
        "start_date": _date(qualification.start_date),
        "graduation_date": _date(qualification.graduation_date),
        "graduation_result": qualification.graduation_result,
        "principal_name": qualification.principal_name,
        "certificate_number": qualification.certificate_number,
        "minor_note": qualification.minor_note,
        "status": qualification.status,
        "revoked": qualification.status == QualificationStatus.REVOKED,
        "revoked_on": _date(timezone.localtime(qualification.revoked_at).date())
        if qualification.revoked_at
        else None,
        "lost": bool(getattr(qualification, "lost_at", None)),
        "updated": _date(timezone.localtime(qualification.updated).date()),
    }


def status_content(status: StudentStatus) -> dict[str, Any]:
    """The 学籍 record's fields a report shows (DOMAIN.md §5, less the ID number and photo)."""
    person = status.student
    return {
        "name": person.name,
        "gender": person.gender,
        "birth_date": _date(person.birth_date),
        "ethnicity": person.ethnicity.name if person.ethnicity else "",
        "school_code": status.school_id,
        "school_name": status.school.name,
        "level": status.level,
        "major_code": status.major_code,
        "major_name": status.major_name,
        "student_number": status.student_number,
        "study_length": status.study_length,
        "learning_form": status.learning_form,
        "entry_date": _date(status.entry_date),
        "expected_graduation": _date(status.expected_graduation),
        "state": status.state,
        "updated": _date(timezone.localtime(status.updated).date()),
    }


def report_content(report: VerificationReport) -> dict[str, Any]:
    """The report as JSON values (strings, booleans, null): what ``GET /api/v1/verify/{code}/``
    answers and the signed report signs."""
    content: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "code": report.code,
        "kind": "qualification" if report.qualification_id else "status",
        "expires": timezone.localtime(report.expires).isoformat(),
        "checked_at": timezone.localtime(timezone.now()).isoformat(timespec="seconds"),
    }
    if report.qualification is not None:
        content["qualification"] = qualification_content(report.qualification)
    else:
        assert report.status is not None  # noqa: S101  (a check constraint: exactly one)
        content["status"] = status_content(report.status)
    return content
