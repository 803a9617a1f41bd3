"""Who hears of a graduating cohort's registration and its identity re-checks, and what the
emails say: never an ID number (a graduate is named by name, student number and major; a
re-check's finding, typed by an officer, has anything that looks like one masked)."""

from __future__ import annotations

from typing import Any

from notifications.services import Recipient
from records import notices
from records.choices import GraduationResult
from records.choices import IdentityCheck
from records.choices import Level
from records.models import GraduationCohort
from records.models import PhotoRecheck
from records.models import Province
from records.models import School
from records.validators import mask_id_numbers_in


def cohort_officers(cohort: GraduationCohort) -> list[Recipient]:
    return notices.school_officers(School(pk=cohort.school_id))


def cohort_url(cohort: GraduationCohort) -> str:
    """The cohort's page, or its row of the API where the web pages are not mounted."""
    return notices.page_url(
        "graduation:cohort", {"pk": cohort.pk}, f"/api/v1/graduations/{cohort.pk}/"
    )


def recheck_requester(recheck: PhotoRecheck) -> list[Recipient]:
    """The officer who filed the re-check (loaded with ``requester``)."""
    return [notices.recipient_of(recheck.requester)]


def recheck_admins(recheck: PhotoRecheck) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=recheck.province_id))


def recheck_context(recheck: PhotoRecheck) -> dict[str, Any]:
    """What every re-check email says (loaded with ``qualification__student_status`` and
    ``cohort__school``)."""
    qualification = recheck.qualification
    status = qualification.student_status if qualification is not None else None
    return {
        "school": recheck.cohort.school.name,
        "graduation_date": recheck.cohort.graduation_date,
        "student": qualification.name if qualification is not None else "",
        "student_number": status.student_number if status is not None else "",
        "major": qualification.major_name if qualification is not None else "",
        "identity_check": IdentityCheck(qualification.identity_check).label
        if qualification is not None and qualification.identity_check
        else "",
        "finding": mask_id_numbers_in(recheck.finding),
        "url": cohort_url(recheck.cohort),
    }


CERTIFICATE_DIGITS = 18


def spaced(number: str) -> str:
    """An 18-digit certificate number in its parts (school, education type, year, level,
    sequence: ``10001 1 2027 05 000001``), as it is read aloud; in one run an email could not
    carry it, as it looks like an ID number to the emails' guard."""
    if len(number) != CERTIFICATE_DIGITS or not number.isdigit():
        return number
    return f"{number[:5]} {number[5]} {number[6:10]} {number[10:12]} {number[12:]}"


def reports_url() -> str:
    """Where a graduate's email leads: their verification reports."""
    return notices.page_url("verification:index", {}, "/api/v1/verification-reports/")


def graduate_context(
    *,
    cohort: GraduationCohort,
    school_name: str,
    values: dict[str, Any],
    student_number: str,
    url: str,
) -> dict[str, Any]:
    """What a graduate's ``qualification_registered`` email says of their qualification."""
    return {
        "school": school_name,
        "graduation_date": cohort.graduation_date,
        "result": GraduationResult(values["graduation_result"]).label,
        "level": Level(values["level"]).label,
        "major": values["major_name"],
        "certificate_number": spaced(values["certificate_number"]),
        "student_number": student_number,
        "url": url,
    }
