"""Qualification registration (学历注册) from the student status: a school's graduating cohort,
its qualifications prepared as drafts from the enrolled statuses, the photo gate and its
re-checks, and the registration in chunks (DOMAIN.md §2.4).

- ``cohort_open``: a school's cohort of one graduation date (the issue date of every
  certificate, the day they become searchable) with the principal's name they print.
- ``prepare_all``: a draft 毕业 qualification for every enrolled status of the school due to
  graduate by the cohort's year that has none of its level, copied from the status and its
  person, with the next certificate numbers; ``prepare``: per student, 毕业 or 结业 or not
  graduating (the draft discarded), a certificate number of the school's own, the photo
  comparison's result (``identity_check``) and a minor's note.
- ``cohort_register``: every draft of the cohort that passes its checks
  (``records.graduation.checks``) and is not held by the photo gate is registered: in chunks
  of ``CHUNK``, one transaction each, the qualifications move to ``registered`` with their
  first revision, the statuses to ``graduated`` or ``completed``, one audit event a chunk on
  the cohort's chain names them, and each graduate with an account is emailed.
- ``recheck_file``: the school's re-check of a held graduate, filed with the province, whose
  approval (``recheck_approve``, a step of the flow) releases the draft.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Announcement
from notifications.services import Recipient
from notifications.services import notify_many
from notifications.services import render_many
from notifications.services import write_rendered
from permissions import codenames
from permissions.checks import may
from records.audit import audit_append
from records.choices import EDUCATION_TYPE_DIGITS
from records.choices import LEVEL_CODES
from records.choices import GraduateResult
from records.choices import GraduationResult
from records.choices import IdentityCheck
from records.choices import QualificationStatus
from records.choices import RecheckState
from records.choices import StatusState
from records.decisions import Decided
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.graduation import checks
from records.graduation import notices as graduation_notices
from records.models import QUALIFICATION_CONTENT_FIELDS
from records.models import GraduationCohort
from records.models import PhotoRecheck
from records.models import Qualification
from records.models import QualificationRevision
from records.models import School
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.qualifications import CERT_TAKEN
from records.qualifications import certificate_errors
from records.transactions import service
from records.transactions import writes
from records.validators import validate_person_name

logger = logging.getLogger(__name__)

CHUNK = 1000
PREPARE_MAX = 1000
ATTEMPTS = 3

MAY_NOT_REGISTER = _("You may not register this school's qualifications.")
# Registration from the status begins with the 18-digit certificate numbers (DOMAIN.md §3.3).
FIRST_YEAR = 2002
DATE_RANGE = _(
    "A graduating cohort's graduation date falls in a year from %(first)s to %(last)s "
    "(next year's at the latest)."
)
PRINCIPAL_REQUIRED = _("Give the principal's name, as the certificates print it.")
NOT_FOUND = _("No student status of this school has this number.")
NOT_ENROLLED = _("The student status is “%(state)s”: only an enrolled student graduates.")
SECOND = _(
    "The student status already has a %(state)s qualification of this level (a minor is a "
    "note on the major's qualification)."
)
ELSEWHERE = _("The student is prepared in the cohort of %(date)s.")
REPEATED = _("This student status is named earlier in the request.")
NO_NUMBERS = _("The school has given every certificate number of this year and level.")
NO_LEVEL_CODE = _("Certificate numbers of this level cannot be given automatically.")
RECHECK_PENDING = _("The identity re-check of this graduate is with the province; wait for it.")
NOT_HELD = _("Only a graduate held by the photo comparison is re-checked.")
FINDING_REQUIRED = _("Say what the school checked and what it found.")
NOT_A_DRAFT = _("Only a prepared qualification not yet registered can be re-checked.")


def check_officer(obj: models.Model, user: User) -> None:
    """404 when ``user`` may not see ``obj`` (a cohort, a qualification), 403 when they may
    not act for its school."""
    if not may(user, codenames.VIEW, obj):
        raise NotVisibleError(obj.pk)
    if not may(user, codenames.REVIEW_SCHOOL, obj):
        raise PermissionDenied(MAY_NOT_REGISTER)


# --- the cohort -----------------------------------------------------------------------------


@service
def cohort_open(
    *,
    school: School,
    graduation_date: datetime.date,
    principal_name: str,
    acting_user: User | None,
    education_type: str = "",
) -> tuple[GraduationCohort, bool]:
    """The school's cohort of ``graduation_date``, created if new (the principal's name
    checked as a person's name); whether it was created. An officer of the school (or the
    system, ``None``)."""
    if acting_user is not None and not may(acting_user, codenames.REVIEW_SCHOOL, school):
        raise PermissionDenied(MAY_NOT_REGISTER)
    this_year = timezone.localdate().year
    if not FIRST_YEAR <= graduation_date.year <= this_year + 1:
        raise ValidationError(
            {
                "graduation_date": ValidationError(
                    DATE_RANGE, code="range", params={"first": FIRST_YEAR, "last": this_year + 1}
                )
            }
        )
    principal_name = (principal_name or "").strip()
    if not principal_name:
        raise ValidationError(
            {"principal_name": ValidationError(PRINCIPAL_REQUIRED, code="required")}
        )
    try:
        validate_person_name(principal_name)
    except ValidationError as exc:
        raise ValidationError({"principal_name": exc.error_list}) from exc
    found = GraduationCohort.objects.filter(school=school, graduation_date=graduation_date).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():  # two officers opening it at once: one creates it
            cohort = GraduationCohort.objects.create(
                school=school,
                province_id=school.province_id,
                graduation_date=graduation_date,
                principal_name=principal_name,
                **({"education_type": education_type} if education_type else {}),
            )
    except IntegrityError:
        return GraduationCohort.objects.get(school=school, graduation_date=graduation_date), False
    audit_append(
        subject=cohort,
        action="graduation.opened",
        actor=acting_user,
        data={"graduation_date": graduation_date, "principal_name": principal_name},
        subject_locked=True,
    )
    return cohort, True


def _locked(cohort_pk: int) -> GraduationCohort:
    cohort: GraduationCohort = (
        GraduationCohort.objects.select_for_update(of=("self",), no_key=True)
        .select_related("school")
        .get(pk=cohort_pk)
    )
    return cohort


def _visible(cohort_pk: int, user: User | None) -> GraduationCohort:
    cohort: GraduationCohort | None = GraduationCohort.objects.filter(pk=cohort_pk).first()
    if cohort is None:
        raise NotVisibleError(cohort_pk)
    if user is not None:
        check_officer(cohort, user)
    return cohort


def due_statuses(cohort: GraduationCohort) -> models.QuerySet[StudentStatus]:
    """The statuses ``prepare_all`` prepares: enrolled at the school, due to graduate by the
    end of the cohort's year, with no qualification of their level (draft or registered)."""
    found: models.QuerySet[StudentStatus] = StudentStatus.objects.filter(
        school_id=cohort.school_id,
        state=StatusState.ENROLLED,
        expected_graduation__lte=datetime.date(cohort.year, 12, 31),
    ).exclude(
        models.Exists(
            Qualification.objects.filter(
                student_status=models.OuterRef("pk"),
                level=models.OuterRef("level"),
                status__in=[QualificationStatus.DRAFT, QualificationStatus.REGISTERED],
            )
        )
    )
    return found


# --- certificate numbers --------------------------------------------------------------------


def _prefix(cohort: GraduationCohort, level: str) -> str | None:
    """School (5) + education type (1) + year (4) + level (2): the first 12 of 18 digits."""
    digit, code = EDUCATION_TYPE_DIGITS.get(cohort.education_type), LEVEL_CODES.get(level)
    if digit is None or code is None:
        return None
    return f"{cohort.school_id}{digit}{cohort.year:04d}{code}"


SEQUENCE_DIGITS = 6


def _numbers(cohort: GraduationCohort, level: str, count: int) -> list[str]:
    """The next ``count`` certificate numbers of the cohort's school, year and level after
    the highest given (fewer when the six digits run out)."""
    prefix = _prefix(cohort, level)
    if prefix is None:
        return []
    highest = (
        Qualification.objects.annotate(length=Length("certificate_number"))
        .filter(certificate_number__startswith=prefix, length=len(prefix) + SEQUENCE_DIGITS)
        .order_by("-certificate_number")
        .values_list("certificate_number", flat=True)
        .first()
    )
    start = int(highest[len(prefix) :]) + 1 if highest and highest[len(prefix) :].isdigit() else 1
    last = min(start + count, 10**SEQUENCE_DIGITS)
    return [f"{prefix}{sequence:06d}" for sequence in range(start, last)]


# --- preparing the drafts -------------------------------------------------------------------

# What a draft copies from its status and the status's person.
_STATUS_VALUES = (
    "pk",
    "student_id",
    "school_id",
    "province_id",
    "state",
    "student_number",
    "major_code",
    "major_name",
    "level",
    "study_length",
    "learning_form",
    "entry_date",
    "student__name",
    "student__gender",
    "student__birth_date",
    "student__id_type",
    "student__id_number",
    "student__photo",
)


def _draft_of(
    cohort: GraduationCohort, status: dict[str, Any], result: str, number: str
) -> Qualification:
    draft: Qualification = Qualification(
        student_id=status["student_id"],
        student_status_id=status["pk"],
        cohort_id=cohort.pk,
        school_id=cohort.school_id,
        province_id=cohort.province_id,
        name=status["student__name"],
        gender=status["student__gender"],
        birth_date=status["student__birth_date"],
        id_type=status["student__id_type"],
        id_number=status["student__id_number"],
        photo=status["student__photo"] or "",
        education_type=cohort.education_type,
        start_date=status["entry_date"],
        graduation_date=cohort.graduation_date,
        major_code=status["major_code"],
        major_name=status["major_name"],
        level=status["level"],
        study_length=status["study_length"],
        learning_form=status["learning_form"],
        graduation_result=result,
        principal_name=cohort.principal_name,
        certificate_number=number,
    )
    return draft


def prepare_all(*, cohort_pk: int, acting_user: User | None) -> int:
    """A draft 毕业 qualification for every status of ``due_statuses``, in chunks of
    ``CHUNK``, one transaction each under the cohort's row lock; how many were prepared.
    A status whose level has no certificate numbers left is skipped (``prepare`` with a
    number of the school's own takes it)."""
    _visible(cohort_pk, acting_user)
    prepared = 0
    while True:
        done = _retrying(lambda: _prepare_chunk(cohort_pk, acting_user))
        if not done:
            return prepared
        prepared += done


def _retrying(chunk: Any) -> Any:
    """Run a chunk again when another cohort of the school took the same certificate numbers
    meanwhile (the unique constraint refused them; the next attempt reads them)."""
    for attempt in range(ATTEMPTS):
        try:
            return chunk()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
            logger.info("graduation: a chunk met a concurrent write; prepared again")
    return None  # pragma: no cover


def _prepare_chunk(cohort_pk: int, user: User | None) -> int:
    with transaction.atomic():
        cohort = _locked(cohort_pk)
        statuses = list(
            due_statuses(cohort).order_by("level", "student_number").values(*_STATUS_VALUES)[:CHUNK]
        )
        by_level: dict[str, list[dict[str, Any]]] = {}
        for status in statuses:
            by_level.setdefault(status["level"], []).append(status)
        drafts = []
        for level, rows in by_level.items():
            numbers = _numbers(cohort, level, len(rows))
            drafts += [
                _draft_of(cohort, row, GraduationResult.GRADUATED, number)
                for row, number in zip(rows, numbers, strict=False)
            ]
        if not drafts:
            return 0
        Qualification.objects.bulk_create(drafts)
        _audit_prepared(cohort, user, drafts, [])
        return len(drafts)


def _audit_prepared(
    cohort: GraduationCohort,
    user: User | None,
    drafts: Sequence[Qualification],
    discarded: Sequence[int],
) -> None:
    audit_append(
        subject=cohort,
        action="graduation.prepared",
        actor=user,
        data={
            "prepared": [
                [d.student_status_id, d.pk, d.graduation_result, d.certificate_number]
                for d in drafts
            ],
            "discarded": list(discarded),
        },
        subject_locked=True,
    )


@dataclass(frozen=True)
class PrepareItem:
    """One student's decision: ``result`` (``GraduateResult``); the certificate number of the
    school's own (blank: kept, or the next one given); the photo comparison (``None``:
    unchanged, ``""``: not compared); the minor's note (``None``: unchanged)."""

    status: int
    result: str
    certificate_number: str = ""
    identity_check: str | None = None
    minor_note: str | None = None


@dataclass
class ItemResult:
    status: int
    ok: bool
    qualification: int | None = None
    code: str = ""
    detail: str = ""
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"status": self.status, "ok": True, "qualification": self.qualification}
        return {
            "status": self.status,
            "ok": False,
            "code": self.code,
            "field": self.field,
            "detail": self.detail,
        }


def _refused(status: int, code: str, message: Any, field: str = "status", **params: Any) -> Any:
    return ItemResult(status, ok=False, code=code, field=field, detail=str(message % params))


def prepare(
    *, cohort_pk: int, items: Sequence[PrepareItem], acting_user: User | None
) -> list[ItemResult]:
    """Record each student's decision (at most ``PREPARE_MAX``), in one transaction under the
    cohort's row lock; one refusal never undoes the others. Results in the order given."""
    _visible(cohort_pk, acting_user)
    with transaction.atomic():
        cohort = _locked(cohort_pk)
        status_ids = [item.status for item in items]
        statuses = {
            row["pk"]: row
            for row in StudentStatus.objects.filter(
                pk__in=status_ids, school_id=cohort.school_id
            ).values(*_STATUS_VALUES)
        }
        existing = {
            (q.student_status_id, q.level): q
            for q in Qualification.objects.filter(
                student_status_id__in=list(statuses),
                status__in=[QualificationStatus.DRAFT, QualificationStatus.REGISTERED],
            ).select_for_update(of=("self",))
        }
        seen: set[int] = set()
        results, prepared, discarded = [], [], []
        for item in items:
            if item.status in seen:
                results.append(_refused(item.status, "repeated", REPEATED))
                continue
            seen.add(item.status)
            status = statuses.get(item.status)
            if status is None:
                results.append(_refused(item.status, "not_found", NOT_FOUND))
                continue
            draft = existing.get((status["pk"], status["level"]))
            try:
                with transaction.atomic():
                    result = _prepare_one(cohort, item, status, draft)
            except ValidationError as exc:
                field, message = next(iter(exc.message_dict.items()))
                results.append(
                    ItemResult(
                        item.status, ok=False, code=_code(exc), field=field, detail=message[0]
                    )
                )
                continue
            except ConflictError as exc:
                results.append(ItemResult(item.status, ok=False, code=exc.code, detail=str(exc)))
                continue
            if result is None:
                discarded.append(item.status)
                results.append(ItemResult(item.status, ok=True))
            else:
                prepared.append(result)
                results.append(ItemResult(item.status, ok=True, qualification=result.pk))
        if prepared or discarded:
            _audit_prepared(cohort, acting_user, prepared, discarded)
    return results


def _code(exc: ValidationError) -> str:
    for errors in exc.error_dict.values():
        for error in errors:
            return str(error.code or "invalid")
    return "invalid"


def _prepare_one(
    cohort: GraduationCohort,
    item: PrepareItem,
    status: dict[str, Any],
    draft: Qualification | None,
) -> Qualification | None:
    """One student's decision on the locked cohort: the draft prepared or changed, or
    ``None`` when discarded (or none to discard)."""
    if draft is not None and draft.status != QualificationStatus.DRAFT:
        raise ConflictError(
            str(SECOND % {"state": QualificationStatus(draft.status).label}),
            code="second_qualification",
        )
    if draft is not None and draft.cohort_id != cohort.pk:
        other = draft.cohort
        when = other.graduation_date.isoformat() if other is not None else "—"
        raise ConflictError(str(ELSEWHERE % {"date": when}), code="prepared_elsewhere")
    if item.result == GraduateResult.NONE:
        if draft is not None:
            if draft.rechecks.filter(state=RecheckState.PENDING).exists():
                raise ConflictError(str(RECHECK_PENDING), code="recheck_pending")
            draft.delete()
        return None
    if status["state"] != StatusState.ENROLLED:
        raise ConflictError(
            str(NOT_ENROLLED % {"state": StatusState(status["state"]).label}),
            code="not_enrolled",
        )
    number = (item.certificate_number or "").strip()
    if draft is None:
        draft = _draft_of(cohort, status, item.result, number or _next_number(cohort, status))
        _check_number(cohort, draft, draft.certificate_number)
    else:
        draft.graduation_result = item.result
        if number and number != draft.certificate_number:
            _check_number(cohort, draft, number)
            draft.certificate_number = number
    if item.identity_check is not None and item.identity_check != draft.identity_check:
        draft.identity_check = item.identity_check
        draft.identity_cleared_at = None
    if item.minor_note is not None:
        draft.minor_note = item.minor_note.strip()
    draft.save()
    return draft


def _next_number(cohort: GraduationCohort, status: dict[str, Any]) -> str:
    given = _numbers(cohort, status["level"], 1)
    if not given:
        code, message = (
            ("no_level_code", NO_LEVEL_CODE)
            if _prefix(cohort, status["level"]) is None
            else ("numbers_exhausted", NO_NUMBERS)
        )
        raise ValidationError({"certificate_number": ValidationError(message, code=code)})
    return given[0]


def _check_number(cohort: GraduationCohort, draft: Qualification, number: str) -> None:
    errors = certificate_errors(
        number,
        school_code=cohort.school_id,
        education_type=cohort.education_type,
        issue_year=cohort.year,
        level=draft.level,
    )
    if (
        not errors
        and Qualification.objects.filter(certificate_number=number).exclude(pk=draft.pk).exists()
    ):
        errors = [ValidationError(CERT_TAKEN, code="unique")]
    if errors:
        raise ValidationError({"certificate_number": errors})


# --- the graduates and their checks ---------------------------------------------------------


@dataclass
class Graduate:
    """A draft of the cohort as its page and the API list it: its values, its status's
    student number, whether the photo gate holds it, and its failed checks."""

    values: dict[str, Any]
    student_number: str
    held: bool
    problems: list[checks.Problem]
    recheck: PhotoRecheck | None = None


def _labels() -> dict[str, dict[str, Any]]:
    return {
        name: dict(Qualification._meta.get_field(name).choices or [])
        for name in ("gender", "id_type", "level", "study_length", "learning_form")
    }


_STATUS_CHECKED = (
    "pk",
    "student_id",
    "school_id",
    "state",
    "student_number",
    "level",
    "major_code",
    "major_name",
    "study_length",
    "learning_form",
    "entry_date",
)


_PERSON_CHECKED = tuple(f"student__{field}" for field in checks.IDENTITY_FIELDS)


def examine(
    cohort: GraduationCohort, rows: Sequence[dict[str, Any]], *, lock: bool = False
) -> list[Graduate]:
    """The checks of the drafts ``rows`` (their values: ``checks.DRAFT_FIELDS`` and more):
    their statuses with their persons read in one query. With ``lock`` the statuses are
    locked, so that nothing changes them before the registration's writes; a person's
    identity changes only with their status locked first (``records.identity_changes``),
    so their persons are not locked too."""
    status_ids = [row["student_status_id"] for row in rows if row["student_status_id"]]
    found = StudentStatus.objects.filter(pk__in=status_ids)
    if lock:
        found = found.select_for_update(of=("self",))
    statuses = {}
    people = {}
    for row in found.values(*_STATUS_CHECKED, *_PERSON_CHECKED):
        statuses[row["pk"]] = row
        people[row["student_id"]] = {
            field: row[f"student__{field}"] for field in checks.IDENTITY_FIELDS
        }
    labels = _labels()
    graduates = []
    for row in rows:
        status = statuses.get(row["student_status_id"])
        person = people.get(status["student_id"]) if status is not None else None
        graduates.append(
            Graduate(
                values=row,
                student_number=status["student_number"] if status else "",
                held=checks.is_held(row["identity_check"], row["identity_cleared_at"]),
                problems=checks.check(
                    row,
                    status=status,
                    person=person,
                    school_id=cohort.school_id,
                    graduation_date=cohort.graduation_date,
                    labels=labels,
                ),
            )
        )
    return graduates


# Every value a registration reads of a draft: its checks' and its first revision's.
_DRAFT_VALUES = tuple(dict.fromkeys((*checks.DRAFT_FIELDS, *QUALIFICATION_CONTENT_FIELDS)))


def drafts(cohort: GraduationCohort) -> models.QuerySet[Qualification]:
    found: models.QuerySet[Qualification] = Qualification.objects.filter(
        cohort_id=cohort.pk, status=QualificationStatus.DRAFT
    )
    return found


def graduates(cohort: GraduationCohort, rows: Sequence[dict[str, Any]]) -> list[Graduate]:
    """``examine`` for a page of drafts, with each one's latest re-check."""
    found = examine(cohort, rows)
    latest: dict[int, PhotoRecheck] = {}
    for recheck in PhotoRecheck.objects.filter(
        qualification_id__in=[row["pk"] for row in rows]
    ).order_by("pk"):
        assert recheck.qualification_id is not None  # noqa: S101  (filtered on it)
        latest[recheck.qualification_id] = recheck
    for graduate in found:
        graduate.recheck = latest.get(graduate.values["pk"])
    return found


def draft_values(queryset: models.QuerySet[Qualification]) -> list[dict[str, Any]]:
    return list(queryset.values(*_DRAFT_VALUES))


def counts(cohort: GraduationCohort) -> dict[str, int]:
    """The cohort's qualifications: registered, drafts, drafts held by the photo gate, and
    statuses still due without a draft."""
    rows = dict(
        Qualification.objects.filter(cohort_id=cohort.pk)
        .order_by()
        .values_list("status")
        .annotate(n=models.Count("pk"))
    )
    held = (
        drafts(cohort)
        .filter(
            identity_check__in=[IdentityCheck.FAILED, IdentityCheck.UNCERTAIN],
            identity_cleared_at__isnull=True,
        )
        .count()
    )
    return {
        "registered": rows.get(QualificationStatus.REGISTERED, 0),
        "drafts": rows.get(QualificationStatus.DRAFT, 0),
        "held": held,
        "unprepared": due_statuses(cohort).count(),
    }


# --- registration ---------------------------------------------------------------------------


@dataclass
class GraduateError:
    qualification: int
    status: int | None
    student_number: str
    name: str
    problems: list[checks.Problem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "qualification": self.qualification,
            "status": self.status,
            "student_number": self.student_number,
            "name": self.name,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class Registration:
    """What registering a cohort did: how many were registered, how many the photo gate
    holds, and each draft refused by a check."""

    registered: int = 0
    held: int = 0
    errors: list[GraduateError] = field(default_factory=list)


def cohort_register(*, cohort_pk: int, acting_user: User | None) -> Registration:
    """Register every draft of the cohort that passes its checks and is not held, in chunks
    of ``CHUNK`` drafts, one transaction each (run outside a transaction, so that a large
    cohort's finished chunks stay). The cohort's row lock orders two registrations of it."""
    _visible(cohort_pk, acting_user)
    result = Registration()
    after: int | None = 0
    while after is not None:
        with transaction.atomic():
            cohort = _locked(cohort_pk)
            after = _register_chunk(cohort, acting_user, after, result)
    return result


def register_remaining(cohort: GraduationCohort, acting_user: User | None) -> Registration:
    """Register what is left of a cohort locked by the caller, in the caller's transaction."""
    result = Registration()
    after: int | None = 0
    while after is not None:
        after = _register_chunk(cohort, acting_user, after, result)
    return result


def _register_chunk(
    cohort: GraduationCohort, user: User | None, after: int, result: Registration
) -> int | None:
    """The next ``CHUNK`` drafts of the locked cohort after ``after``, locked with their
    statuses and persons, checked and registered; the key of the last, ``None`` when none
    is left."""
    rows = list(
        drafts(cohort)
        .filter(pk__gt=after)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values(*_DRAFT_VALUES)[:CHUNK]
    )
    if not rows:
        return None
    accepted = []
    for graduate in examine(cohort, rows, lock=True):
        if graduate.problems:
            result.errors.append(
                GraduateError(
                    graduate.values["pk"],
                    graduate.values["student_status_id"],
                    graduate.student_number,
                    graduate.values["name"],
                    graduate.problems,
                )
            )
        elif graduate.held:
            result.held += 1
        else:
            accepted.append(graduate)
    _write_registered(cohort, user, accepted)
    result.registered += len(accepted)
    return int(rows[-1]["pk"])


REGISTERED = "graduation.registered"


def _write_registered(
    cohort: GraduationCohort, user: User | None, accepted: Sequence[Graduate]
) -> None:
    """The writes of a chunk's checked graduates: the qualifications registered with their
    first revision, the statuses graduated or completed, one audit event on the cohort's
    chain naming each (qualification, status, certificate number), the graduates' emails
    (rendered in a thread of their own while the rows are written: the rendering reads
    nothing from the database, and the writing waits on it)."""
    if not accepted:
        return
    now = timezone.now()
    announcements = _announcements(cohort, accepted)
    with writes(), ThreadPoolExecutor(max_workers=1) as pool:
        rendering = pool.submit(render_many, announcements, plain=REGISTERED_PLAIN)
        if connection.vendor == "postgresql":
            _register_rows(accepted, user, now)
        else:
            _register_models(accepted, user, now)
        audit_append(
            subject=cohort,
            action=REGISTERED,
            actor=user,
            data={
                "count": len(accepted),
                "registered": [
                    [
                        g.values["pk"],
                        g.values["student_status_id"],
                        g.values["certificate_number"],
                    ]
                    for g in accepted
                ],
            },
            subject_locked=True,
        )
        write_rendered(rendering.result())


# What differs from one graduate's email to the next and the templates only print: they are
# rendered once for the graduates of a major, level and conclusion, then each email is that
# text with its own values (``notifications.services.render_many``).
REGISTERED_PLAIN = (
    "recipient.name",
    "recipient.email",
    "recipient.user_id",
    "certificate_number",
    "student_number",
)


# The status each conclusion moves an enrolled status to.
STATUS_MOVES = {
    GraduationResult.GRADUATED: StatusState.GRADUATED,
    GraduationResult.COMPLETED: StatusState.COMPLETED,
}


def _register_models(
    accepted: Sequence[Graduate], user: User | None, now: datetime.datetime
) -> None:
    """``_register_rows`` by the ORM (SQLite): an update, the revisions, an update a move."""
    ids = [g.values["pk"] for g in accepted]
    Qualification.objects.filter(pk__in=ids, status=QualificationStatus.DRAFT).update(
        status=QualificationStatus.REGISTERED, registered_at=now, updated=now
    )
    QualificationRevision.objects.bulk_create(
        [
            QualificationRevision(
                qualification_id=g.values["pk"],
                number=1,
                content=_content(g.values),
                changed_fields=[],
                reason="",
                approved_by=user,
                created=now,
            )
            for g in accepted
        ]
    )
    by_result: dict[str, list[int]] = {}
    for graduate in accepted:
        by_result.setdefault(graduate.values["graduation_result"], []).append(
            graduate.values["student_status_id"]
        )
    for graduation_result, status_ids in by_result.items():
        StudentStatus.objects.filter(pk__in=status_ids, state=StatusState.ENROLLED).update(
            state=STATUS_MOVES[GraduationResult(graduation_result)], updated=now
        )


def _revision_json() -> str:
    """The first revision's content built by PostgreSQL from the registered row, as
    ``Qualification.content`` gives it (dates as ISO strings, the photo's name)."""
    pairs = ", ".join(
        f"'{name}', m.{connection.ops.quote_name(Qualification._meta.get_field(name).column)}"
        for name in QUALIFICATION_CONTENT_FIELDS
    )
    return f"jsonb_build_object({pairs})"


# One statement a chunk (PostgreSQL): the drafts registered, their first revisions built
# from the rows themselves, and their statuses moved; no value per graduate crosses the
# wire but its key (sending a thousand revisions' JSON was most of the time).
_REGISTER = (
    "WITH moved AS ("
    "UPDATE {qualifications} q SET status = %(registered)s, registered_at = %(now)s, "
    "updated = %(now)s WHERE q.id = ANY(%(ids)s::bigint[]) AND q.status = %(draft)s "
    "RETURNING q.*"
    "), revisions AS ("
    "INSERT INTO {revisions} (qualification_id, number, content, changed_fields, reason, "
    "correction_id, approved_by_id, created) "
    "SELECT m.id, 1, {content}, '[]'::jsonb, '', NULL, %(user)s, %(now)s FROM moved m"
    "), concluded AS ("
    "UPDATE {statuses} s SET state = CASE m.graduation_result WHEN %(completed)s "
    "THEN %(status_completed)s ELSE %(status_graduated)s END, updated = %(now)s "
    "FROM moved m WHERE s.id = m.student_status_id AND s.state = %(enrolled)s"
    ") SELECT count(*) FROM moved"
)


@functools.cache
def _register_sql() -> str:
    return _REGISTER.format(
        qualifications=Qualification._meta.db_table,
        revisions=QualificationRevision._meta.db_table,
        statuses=StudentStatus._meta.db_table,
        content=_revision_json(),
    )


def _register_rows(accepted: Sequence[Graduate], user: User | None, now: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _register_sql(),
            {
                "ids": [g.values["pk"] for g in accepted],
                "registered": QualificationStatus.REGISTERED.value,
                "draft": QualificationStatus.DRAFT.value,
                "now": now,
                "user": user.pk if user is not None else None,
                "completed": GraduationResult.COMPLETED.value,
                "status_completed": StatusState.COMPLETED.value,
                "status_graduated": StatusState.GRADUATED.value,
                "enrolled": StatusState.ENROLLED.value,
            },
        )


def _content(values: Mapping[str, Any]) -> dict[str, Any]:
    """A draft's content as its first revision keeps it (``Qualification.content``)."""
    content = {name: values[name] for name in QUALIFICATION_CONTENT_FIELDS}
    content["photo"] = content["photo"] or ""
    return {
        name: (value.isoformat() if isinstance(value, datetime.date) else value)
        for name, value in content.items()
    }


def _announcements(cohort: GraduationCohort, accepted: Sequence[Graduate]) -> list[Announcement]:
    """The ``qualification_registered`` email of each graduate with an account."""
    logins = {
        row["pk"]: row
        for row in Student.objects.filter(
            pk__in=[g.values["student_id"] for g in accepted], user__isnull=False
        ).values("pk", "name", "user_id", "user__email", "user__language")
    }
    school_name = cohort.school.name
    url = graduation_notices.reports_url()
    announcements = []
    for graduate in accepted:
        login = logins.get(graduate.values["student_id"])
        if login is None or not login["user__email"]:
            continue
        announcements.append(
            Announcement(
                "qualification_registered",
                f"records.qualification:{graduate.values['pk']}",
                [
                    Recipient(
                        email=login["user__email"],
                        language=login["user__language"],
                        user_id=login["user_id"],
                        name=login["name"],
                    )
                ],
                graduation_notices.graduate_context(
                    cohort=cohort,
                    school_name=school_name,
                    values=graduate.values,
                    student_number=graduate.student_number,
                    url=url,
                ),
            )
        )
    return announcements


def cohort_registered(cohort: GraduationCohort, decided: Decided) -> Mapping[str, Any]:
    """The record service of the ``registration`` step's ``register`` decision: registers
    what is left of the locked cohort (normally nothing: ``cohort_register`` ran first) and
    marks the cohort registered."""
    left = register_remaining(cohort, decided.acting_user)
    cohort.register(by=decided.acting_user, at=decided.at)
    return {"registered": left.registered, "held": left.held, "refused": len(left.errors)}


# --- the photo gate's re-check --------------------------------------------------------------


@service
def recheck_file(*, qualification_pk: int, finding: str, acting_user: User) -> PhotoRecheck:
    """The school's re-check of a draft held by the photo comparison, filed with the
    province (whose approval is the flow's ``recheck_approval`` step). The caller's flow
    opens the province's task."""
    qualification = (
        Qualification.objects.select_for_update(of=("self",))
        .select_related("cohort")
        .filter(pk=qualification_pk)
        .first()
    )
    if qualification is None:
        raise NotVisibleError(qualification_pk)
    check_officer(qualification, acting_user)
    finding = (finding or "").strip()
    if not finding:
        raise ValidationError({"finding": ValidationError(FINDING_REQUIRED, code="required")})
    if qualification.status != QualificationStatus.DRAFT or qualification.cohort_id is None:
        raise ConflictError(str(NOT_A_DRAFT), code="not_draft")
    if not checks.is_held(qualification.identity_check, qualification.identity_cleared_at):
        raise ConflictError(str(NOT_HELD), code="not_held")
    if qualification.rechecks.filter(state=RecheckState.PENDING).exists():
        raise ConflictError(str(RECHECK_PENDING), code="recheck_pending")
    recheck = PhotoRecheck.objects.create(
        qualification=qualification,
        cohort_id=qualification.cohort_id,
        school_id=qualification.school_id,
        province_id=qualification.province_id,
        requester=acting_user,
        finding=finding,
    )
    audit_append(
        subject=recheck,
        action="graduation.recheck_filed",
        actor=acting_user,
        data={"qualification": qualification.pk, "identity_check": qualification.identity_check},
        subject_locked=True,
    )
    recheck = PhotoRecheck.objects.select_related(*RECHECK_RELATED).get(pk=recheck.pk)
    filed: PhotoRecheck = recheck
    notify_many(
        [
            Announcement(
                "graduation_recheck_filed",
                f"records.photorecheck:{recheck.pk}",
                graduation_notices.recheck_admins(recheck),
                graduation_notices.recheck_context(recheck),
            )
        ]
    )
    return filed


# What a re-check's step, its notices and its panel read of it.
RECHECK_RELATED = (
    "qualification__student_status",
    "cohort__school",
    "requester",
)


def recheck_approve(recheck: PhotoRecheck, decided: Decided) -> None:
    """同意备案: the re-check stands, and its draft is released from the photo gate (the
    school registers it with the cohort's next registration)."""
    recheck.approve(by=decided.acting_user, at=decided.at, comment=decided.comment)
    # The draft's own row (a pending re-check's draft is never discarded; its lock is taken
    # here, as the step's lock cannot reach the nullable side of the join).
    Qualification.objects.filter(
        pk=recheck.qualification_id, status=QualificationStatus.DRAFT
    ).update(identity_cleared_at=decided.at, updated=decided.at)


def recheck_refuse(recheck: PhotoRecheck, decided: Decided) -> None:
    """The province does not accept the re-check: the draft stays held (the school may
    re-check again, or not graduate the student now)."""
    recheck.refuse(by=decided.acting_user, at=decided.at, comment=decided.comment)
