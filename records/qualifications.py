"""Qualification (学历) rules and services: registration, amendment by approved correction,
revocation. The same validators serve registration and every correction (issue: "each new
value valid, same validators as registration")."""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from typing import Any

import pgtrigger
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import granted_ids
from permissions.checks import may
from permissions.checks import scope
from records.audit import audit_append
from records.choices import EDUCATION_TYPE_DIGITS
from records.choices import LEVEL_CODES
from records.choices import GraduationResult
from records.choices import QualificationStatus
from records.models import QUALIFICATION_CONTENT_FIELDS
from records.models import Qualification
from records.models import QualificationRevision
from records.models import User
from records.reference import major_name
from records.transactions import service
from records.transactions import writes
from records.validators import validate_identity

CERT_FORMAT = _("A certificate number is 18 digits (DOMAIN.md §3.3).")
CERT_FORMAT_2002 = _(
    "A certificate number issued in 2002 is 18 digits, or 17 where the school kept the 2001 format."
)
CERT_FORMAT_2001 = _("A certificate number issued in 2001 is 17 digits.")
CERT_FORMAT_LEGACY = _("A certificate number issued before 2001 is 1-18 letters or digits.")
CERT_SCHOOL = _("Digits 1-5 of the certificate number must be the school code %(code)s.")
CERT_TYPE = _("Digit 6 of the certificate number must be %(digit)s for this education type.")
CERT_YEAR = _("Digits 7-10 of the certificate number must be the issue year %(year)s.")
CERT_LEVEL = _("Digits 11-12 of the certificate number must be %(code)s for this level.")
CERT_TAKEN = _("Another qualification already has this certificate number.")
DATES_ORDER = _("The graduation date must be after the study start date.")
BIRTH_BEFORE_STUDY = _("The study start date must be after the birth date.")
NOT_DRAFT = _("Only a draft qualification can be registered.")
NOT_REGISTERED = _("Only a registered qualification can be changed by correction or revoked.")
REISSUE_NEEDED = _(
    "A 结业 (completed) qualification is not corrected to 毕业 (graduated): that is a re-issue, "
    "a new qualification, the old one marked replaced."
)
MAY_NOT_REGISTER = _("Only an officer of the school may register its qualifications.")
MAY_NOT_AMEND = _(
    "Only an administrator of the province may approve a change of its qualifications."
)
MAY_NOT_REVOKE = _("Only an administrator of the province may revoke its qualifications.")


def _require(user: User | None, perm: str, qualification: Qualification, message: Any) -> None:
    """The acting user holds ``perm`` on the qualification's school or province. ``None`` is
    the system itself (the demo's seed, a management command), never a request's user."""
    if user is not None and not may(user, perm, qualification):
        raise PermissionDenied(message)


_CERT_RE = re.compile(r"^\d{18}$")
_LEGACY_RE = re.compile(r"^[0-9A-Za-z]{1,18}$")
CERT_17 = 17
FIRST_17_DIGIT_YEAR = 2001
LAST_17_DIGIT_YEAR = 2002
FIRST_18_DIGIT_YEAR = 2002


def _legacy_certificate_errors(
    number: str, *, school_code: str, issue_year: int
) -> list[ValidationError] | None:
    """The errors of a number of the years before the 18-digit format (``None`` for a number
    the 18-digit rules judge)."""
    if issue_year < FIRST_17_DIGIT_YEAR:
        if not _LEGACY_RE.match(number):
            return [ValidationError(CERT_FORMAT_LEGACY, code="format")]
        return []
    if len(number) != CERT_17 or issue_year > LAST_17_DIGIT_YEAR:
        return None
    if not (number.isascii() and number.isdigit()):
        return [ValidationError(CERT_FORMAT_2001, code="format")]
    if number[:5] != school_code:
        return [ValidationError(CERT_SCHOOL, code="school", params={"code": school_code})]
    return []


def certificate_errors(
    number: str, *, school_code: str, education_type: str, issue_year: int, level: str
) -> list[ValidationError]:
    """The rules of a certificate number by the year it was issued (DOMAIN.md §3.3); an empty
    list when they hold. Since 2002: 18 digits whose parts are the school, the education
    type, the year and the level. In 2001 (and in 2002 at schools that kept it): 17 digits
    starting with the school's code, the rest opaque. Before 2001: an opaque key of 1-18
    letters or digits. Every one is unique."""
    number = number or ""
    legacy = _legacy_certificate_errors(number, school_code=school_code, issue_year=issue_year)
    if legacy is not None:
        return legacy
    if not _CERT_RE.match(number) or issue_year < FIRST_18_DIGIT_YEAR:
        message = {FIRST_17_DIGIT_YEAR: CERT_FORMAT_2001, LAST_17_DIGIT_YEAR: CERT_FORMAT_2002}
        return [ValidationError(message.get(issue_year, CERT_FORMAT), code="format")]
    errors = []
    if number[:5] != school_code:
        errors.append(ValidationError(CERT_SCHOOL, code="school", params={"code": school_code}))
    digit = EDUCATION_TYPE_DIGITS.get(education_type)
    if digit and number[5] != digit:
        errors.append(ValidationError(CERT_TYPE, code="education_type", params={"digit": digit}))
    if number[6:10] != f"{issue_year:04d}":
        errors.append(ValidationError(CERT_YEAR, code="year", params={"year": issue_year}))
    level_code = LEVEL_CODES.get(level)
    if level_code and number[10:12] != level_code:
        errors.append(ValidationError(CERT_LEVEL, code="level", params={"code": level_code}))
    return errors


def validate_qualification(
    qualification: Qualification, *, changed: Collection[str] | None = None
) -> None:
    """Every rule of a qualification's content; raises one ``ValidationError`` keyed by field.

    Also fills ``major_name`` from the catalogue (or the school's own list) and normalizes the
    ID number. ``changed``: the fields that differ from a stored, valid qualification (a
    correction); look-ups that only unchanged fields decide (the major's name, the student and
    school rows, the certificate number's uniqueness) are not repeated.
    """
    unchanged = set() if changed is None else set(QUALIFICATION_CONTENT_FIELDS) - set(changed)
    errors: dict[str, list[ValidationError]] = {}

    def collect(exc: ValidationError) -> None:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)

    if qualification.school_id and "major_code" not in unchanged:
        try:
            qualification.major_name = major_name(qualification.school, qualification.major_code)
        except ValidationError as exc:
            collect(exc)
    try:
        qualification.full_clean(
            exclude=[
                "certificate_number",
                "province",
                "status",
                "major_name",
                *(f.removesuffix("_id") for f in unchanged if f.endswith("_id")),
            ],
            validate_unique=False,
        )
    except ValidationError as exc:
        collect(exc)
    try:
        qualification.id_number = validate_identity(
            id_type=qualification.id_type,
            id_number=qualification.id_number,
            birth_date=qualification.birth_date,
            gender=qualification.gender,
        )
    except ValidationError as exc:
        collect(exc)
    start, end = qualification.start_date, qualification.graduation_date
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end <= start:
        errors.setdefault("graduation_date", []).append(ValidationError(DATES_ORDER, code="order"))
    birth = qualification.birth_date
    if isinstance(birth, datetime.date) and isinstance(start, datetime.date) and start <= birth:
        errors.setdefault("start_date", []).append(
            ValidationError(BIRTH_BEFORE_STUDY, code="order")
        )
    if isinstance(end, datetime.date) and qualification.school_id:
        cert = certificate_errors(
            qualification.certificate_number,
            school_code=qualification.school_id,
            education_type=qualification.education_type,
            issue_year=end.year,
            level=qualification.level,
        )
        if cert:
            errors.setdefault("certificate_number", []).extend(cert)
    taken = "certificate_number" not in unchanged and (
        Qualification.objects.filter(certificate_number=qualification.certificate_number)
        .exclude(pk=qualification.pk)
        .exists()
    )
    if taken:
        errors.setdefault("certificate_number", []).append(
            ValidationError(CERT_TAKEN, code="unique")
        )
    loaded = qualification._loaded_content or {}
    if (
        changed is not None
        and "graduation_result" in changed
        and loaded.get("graduation_result") == GraduationResult.COMPLETED
        and qualification.graduation_result == GraduationResult.GRADUATED
    ):
        errors.setdefault("graduation_result", []).append(
            ValidationError(REISSUE_NEEDED, code="reissue_needed")
        )
    if errors:
        raise ValidationError(errors)


def visible_qualifications(user: Any) -> QuerySet[Qualification]:
    """The qualifications ``user`` may see: a student's own, an officer's school's, a
    provincial administrator's province's; a draft only by its school's officers (issue 11:
    drafts are never listed outside the school)."""
    seen = scope(user, codenames.VIEW, Qualification.objects.all())
    schools = granted_ids(user, codenames.VIEW_SCHOOL_RECORDS) if user else frozenset()
    if schools is None:  # every school's (a superuser)
        return seen
    published = ~Q(status=QualificationStatus.DRAFT)
    return seen.filter(published | Q(school_id__in=schools) if schools else published)


@transaction.atomic
def qualification_create(*, acting_user: User | None = None, **fields: Any) -> Qualification:
    """A draft qualification from its fields; the province follows the school."""
    qualification: Qualification = Qualification(**fields)
    if qualification.school_id:
        qualification.province_id = qualification.school.province_id
    validate_qualification(qualification)
    qualification.save()
    audit_append(subject=qualification, action="qualification.created", actor=acting_user)
    return qualification


def _revision(
    qualification: Qualification,
    *,
    changed: list[str],
    reason: str,
    approved_by: User | None,
    correction_id: int | None,
) -> QualificationRevision:
    last = qualification.revisions.order_by("-number").values_list("number", flat=True).first()
    content = qualification.content()
    return QualificationRevision.objects.create(
        qualification=qualification,
        number=(last or 0) + 1,
        content={
            k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in content.items()
        },
        changed_fields=changed,
        reason=reason,
        approved_by=approved_by,
        correction_id=correction_id,
        created=timezone.now(),
    )


@transaction.atomic
def qualification_register(
    *, qualification: Qualification, acting_user: User | None
) -> Qualification:
    """Register a draft: it becomes public on its graduation date and immutable from now on.
    Only an officer of its school (or the system: ``acting_user`` ``None``)."""
    _require(acting_user, codenames.REVIEW_SCHOOL, qualification, MAY_NOT_REGISTER)
    if qualification.status != QualificationStatus.DRAFT:
        raise ValidationError({"status": ValidationError(NOT_DRAFT, code="not_draft")})
    validate_qualification(qualification)
    qualification.register(at=timezone.now())
    qualification.save()
    revision = _revision(
        qualification, changed=[], reason="", approved_by=acting_user, correction_id=None
    )
    audit_append(
        subject=qualification,
        action="qualification.registered",
        actor=acting_user,
        data={"revision": revision.number, "certificate_number": qualification.certificate_number},
    )
    return qualification


@service
def qualification_amend(
    *,
    qualification: Qualification,
    changes: dict[str, Any],
    approved_by: User,
    reason: str,
    correction_id: int | None,
    locked: bool = False,
) -> QualificationRevision:
    """Apply an approved correction: validate the new content, save, revision, audit.

    The only path that changes a registered qualification's content, approved by an
    administrator of its province. ``locked``: the caller holds the qualification's row lock
    (``select_for_update``) and has checked the old values.
    """
    _require(approved_by, codenames.SIGNOFF_PROVINCE, qualification, MAY_NOT_AMEND)
    if qualification.status != QualificationStatus.REGISTERED:
        raise ValidationError({"status": ValidationError(NOT_REGISTERED, code="not_registered")})
    before = qualification.content()
    for field, value in changes.items():
        setattr(qualification, field, value)
    validate_qualification(qualification, changed=set(changes))
    changed = [f for f, v in qualification.content().items() if before[f] != v]
    with writes():
        qualification._amendment_allowed = True
        try:
            with pgtrigger.ignore("records.Qualification:registered_immutable"):
                qualification.save()
        finally:
            qualification._amendment_allowed = False
        revision = _revision(
            qualification,
            changed=changed,
            reason=reason,
            approved_by=approved_by,
            correction_id=correction_id,
        )
        audit_append(
            subject=qualification,
            subject_locked=locked,
            action="qualification.amended",
            actor=approved_by,
            data={
                "revision": revision.number,
                "correction": correction_id,
                "fields": changed,
            },
        )
    return revision


@transaction.atomic
def qualification_revoke(
    *, qualification: Qualification, acting_user: User, reason: str
) -> Qualification:
    """Revoke a registered qualification: it stays, marked revoked, and never changes again.
    Only an administrator of its province."""
    _require(acting_user, codenames.SIGNOFF_PROVINCE, qualification, MAY_NOT_REVOKE)
    if qualification.status != QualificationStatus.REGISTERED:
        raise ValidationError({"status": ValidationError(NOT_REGISTERED, code="not_registered")})
    qualification.revoke(at=timezone.now(), reason=reason)
    qualification.save()
    audit_append(
        subject=qualification,
        action="qualification.revoked",
        actor=acting_user,
        data={"reason": reason},
    )
    return qualification
