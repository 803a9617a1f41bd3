"""The student's reports: create, extend, revoke (each audited), and their public look-up.

Validity: the student chooses 1 to 6 months (DOMAIN.md §5, CHSI's rule). Extending sets the
expiry to ``months`` from *now*, not from the current expiry, so a report is never valid for
more than six months ahead however often it is extended; only a report still valid can be
extended (an expired or revoked one stays so: the student creates a new one, with a new
code). Revoking is final.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import secrets
import string
from typing import Any
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import InterfaceError
from django.db import OperationalError
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from records.audit import audit_append
from records.choices import QualificationStatus
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AccessOutcome
from records.models import CertificateCheck
from records.models import Ethnicity
from records.models import Qualification
from records.models import ReportAccess
from records.models import School
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.models import VerificationReport
from records.models.verification import CODE_LENGTH
from records.transactions import service
from records.transactions import writes

_M = TypeVar("_M", bound=models.Model)

MIN_MONTHS = 1
MAX_MONTHS = 6
CODE_ALPHABET = string.ascii_uppercase + string.digits


def new_code() -> str:
    """16 upper-case letters and digits from the operating system's random source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """``moment`` plus calendar months, the day clamped to the month's last (31 Jan + 1 month
    is 28 or 29 Feb)."""
    local = timezone.localtime(moment)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def parse_months(value: Any) -> int:
    """``months``: a whole number from 1 to 6, else a field error naming the rule."""
    rule = _("Choose a validity of %(min)d to %(max)d months (a whole number).") % {
        "min": MIN_MONTHS,
        "max": MAX_MONTHS,
    }
    if isinstance(value, int) and not isinstance(value, bool):
        months = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        months = int(value.strip()) if len(value.strip()) < 3 else 0  # noqa: PLR2004
    else:
        raise ValidationError({"months": rule}, code="months")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationError({"months": rule}, code="months")
    return months


def is_public(qualification: Qualification, today: datetime.date | None = None) -> bool:
    """A qualification verifiers may see: registered (or revoked, shown as such) and issued,
    i.e. its issue date (the graduation date) is today or past, in Beijing time (issue 11
    item 2). Drafts never are."""
    today = today or timezone.localdate()
    return (
        qualification.status in (QualificationStatus.REGISTERED, QualificationStatus.REVOKED)
        and qualification.graduation_date <= today
    )


def public_qualifications() -> QuerySet[Qualification]:
    found: QuerySet[Qualification] = Qualification.objects.filter(
        status__in=[QualificationStatus.REGISTERED, QualificationStatus.REVOKED],
        graduation_date__lte=timezone.localdate(),
    )
    return found


def own_reports(user: Any) -> QuerySet[VerificationReport]:
    """The reports of the user's own person; nobody else's (a student's reports are theirs
    alone: officers of the school do not list them)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return VerificationReport.objects.none()
    return VerificationReport.objects.filter(student__user=user)


def _person(user: User) -> Student:
    person = Student.objects.filter(user=user).first()
    if person is None:
        raise ValidationError(
            _("Only a student can create a verification report of their own records."),
            code="not_a_student",
        )
    return person


def _object_id(value: Any) -> int:
    """An object number as the API's URLs take them (1 to 2**63 - 1), else 0 (none)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        text = value.strip()
        number = int(text) if len(text) <= 19 else 0  # noqa: PLR2004
    else:
        return 0
    return number if 0 < number < 2**63 else 0


def _subject(
    person: Student, qualification_id: Any, status_id: Any
) -> tuple[Qualification | None, StudentStatus | None]:
    both = qualification_id not in (None, "") and status_id not in (None, "")
    neither = qualification_id in (None, "") and status_id in (None, "")
    if both or neither:
        message = _("Give exactly one of qualification or status: what the report shows.")
        raise ValidationError({"qualification": message, "status": message}, code="subject")
    if qualification_id not in (None, ""):
        pk = _object_id(qualification_id)
        found = Qualification.objects.filter(pk=pk, student=person).first() if pk > 0 else None
        if found is None:
            raise ValidationError(
                {"qualification": _("This is not one of your qualifications.")},
                code="not_yours",
            )
        if found.status == QualificationStatus.DRAFT:
            raise ValidationError(
                {
                    "qualification": _(
                        "This qualification is not registered yet: a report can show only a "
                        "registered qualification."
                    )
                },
                code="draft",
            )
        if not is_public(found):
            raise ValidationError(
                {
                    "qualification": _(
                        "This qualification is not public yet: it becomes verifiable on its "
                        "issue date, %(date)s."
                    )
                    % {"date": found.graduation_date.isoformat()}
                },
                code="not_yet_public",
            )
        return found, None
    pk = _object_id(status_id)
    status = StudentStatus.objects.filter(pk=pk, student=person).first() if pk > 0 else None
    if status is None:
        raise ValidationError(
            {"status": _("This is not one of your student statuses.")}, code="not_yours"
        )
    return None, status


@service
def report_create(
    *, user: User, qualification: Any = None, status: Any = None, months: Any
) -> VerificationReport:
    """A new report with a fresh code, valid ``months`` from now; audited."""
    person = _person(user)
    errors: dict[str, list[str]] = {}
    chosen_months = 0
    subject: tuple[Qualification | None, StudentStatus | None] = (None, None)
    try:
        chosen_months = parse_months(months)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        subject = _subject(person, qualification, status)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    for _attempt in range(5):  # 36**16 codes: a clash is a freak, but never a 500
        try:
            with transaction.atomic():
                report = VerificationReport.objects.create(
                    student=person,
                    qualification=subject[0],
                    status=subject[1],
                    code=new_code(),
                    months=chosen_months,
                    expires=add_months(now, chosen_months),
                )
        except IntegrityError:
            continue
        break
    else:  # pragma: no cover
        raise ConflictError(_("Could not issue a unique code; try again."))
    with writes():
        audit_append(
            subject=report,
            action="verification_report.created",
            actor=user,
            data={
                "qualification": report.qualification_id,
                "status": report.status_id,
                "months": chosen_months,
                "expires": report.expires.isoformat(),
            },
            subject_locked=True,
        )
    return report


def _locked_own(user: User, pk: int) -> VerificationReport:
    report = own_reports(user).select_for_update().filter(pk=pk).first()
    if report is None:
        raise NotVisibleError
    return report


@service
def report_extend(*, user: User, pk: int, months: Any) -> VerificationReport:
    """Valid ``months`` (1 to 6) from now; only while the report is still valid."""
    chosen = parse_months(months)
    report = _locked_own(user, pk)  # checked before writing: a refusal leaves no trace
    if report.is_revoked:
        raise ConflictError(_("This report was revoked; create a new one."), code="report_revoked")
    if report.is_expired:
        raise ConflictError(_("This report has expired; create a new one."), code="report_expired")
    with writes():
        before = report.expires
        report.months = chosen
        report.expires = add_months(timezone.now(), chosen)
        report.save(update_fields=["months", "expires"])
        audit_append(
            subject=report,
            action="verification_report.extended",
            actor=user,
            data={
                "months": chosen,
                "expires_before": before.isoformat(),
                "expires": report.expires.isoformat(),
            },
            subject_locked=True,
        )
    return report


@service
def report_revoke(*, user: User, pk: int) -> VerificationReport:
    """Revoked for good: the code answers 410 from now on."""
    report = _locked_own(user, pk)
    if report.is_revoked:
        raise ConflictError(_("This report is already revoked."), code="report_revoked")
    with writes():
        report.revoked_at = timezone.now()
        report.save(update_fields=["revoked_at"])
        audit_append(
            subject=report,
            action="verification_report.revoked",
            actor=user,
            data={"revoked_at": report.revoked_at.isoformat()},
            subject_locked=True,
        )
    return report


class ReportGoneError(Exception):
    """The code exists but the report expired or was revoked (answered 410)."""

    def __init__(self, report: VerificationReport, outcome: str) -> None:
        self.report = report
        self.outcome = outcome
        self.code = "report_revoked" if outcome == AccessOutcome.REVOKED else "report_expired"
        self.message = (
            _("The student revoked this verification report.")
            if outcome == AccessOutcome.REVOKED
            else _("This verification report has expired.")
        )
        super().__init__(self.message)


def normalised_code(code: str) -> str:
    """What a verifier types: spaces and dashes dropped, any case."""
    return "".join(ch for ch in code if ch not in " -").upper()


def _log_access(report: VerificationReport, address: str | None, outcome: str) -> None:
    ReportAccess.objects.create(
        report=report, at=timezone.now(), address=address or None, outcome=outcome
    )


def _outcome(report: VerificationReport, *, signed: bool) -> str:
    if report.is_revoked:
        return AccessOutcome.REVOKED
    if report.is_expired:
        return AccessOutcome.EXPIRED
    return AccessOutcome.SIGNED if signed else AccessOutcome.SHOWN


def report_access(code: str, address: str | None, *, signed: bool = False) -> VerificationReport:
    """The valid report of ``code``, its access logged; ``NotVisibleError`` for an unknown
    code (or one whose subject is no longer public), ``ReportGoneError`` for an expired or
    revoked one (logged too).

    On PostgreSQL this is one statement (``_LOOKUP``): the report with its subject, and the
    access row, written without waiting for the disk. Elsewhere (SQLite) the ORM's two."""
    text = normalised_code(code)
    if len(text) != CODE_LENGTH or not text.isalnum() or not text.isascii():
        raise NotVisibleError
    if connection.vendor == "postgresql":
        report, outcome = _access_in_one_statement(text, address, signed=signed)
    else:
        found = (
            VerificationReport.objects.select_related(
                "qualification__school", "status__school", "status__student__ethnicity"
            )
            .filter(code=text)
            .first()
        )
        if found is None or (found.qualification and not is_public(found.qualification)):
            raise NotVisibleError
        report, outcome = found, _outcome(found, signed=signed)
        _log_access(report, address, outcome)
    if outcome in (AccessOutcome.REVOKED, AccessOutcome.EXPIRED):
        raise ReportGoneError(report, outcome)
    return report


# --- The look-up in one statement (PostgreSQL) ----------------------------------------------------
# The report, its qualification and school, or its status, school, person and ethnic group:
# every column the content reads (all of each model's but the ID number and photos), then the
# access row inserted by the same statement, committed with ``synchronous_commit`` off for
# that transaction only (a crash may lose the last fraction of a second of access rows, never
# corrupt anything; a look-up does not wait for an fsync, most of its time on a busy disk).
_HIDDEN = frozenset({"id_number", "photo"})


def _fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if f.name not in _HIDDEN]


def _parts() -> list[tuple[str, type[models.Model], str]]:
    """(alias, model, join) of each table of the look-up, the report first."""
    return [
        ("r", VerificationReport, ""),
        ("q", Qualification, "LEFT JOIN {t} q ON q.id = r.qualification_id"),
        ("qs", School, "LEFT JOIN {t} qs ON qs.code = q.school_id"),
        ("s", StudentStatus, "LEFT JOIN {t} s ON s.id = r.status_id"),
        ("ss", School, "LEFT JOIN {t} ss ON ss.code = s.school_id"),
        ("p", Student, "LEFT JOIN {t} p ON p.id = s.student_id"),
        ("e", Ethnicity, "LEFT JOIN {t} e ON e.code = p.ethnicity_id"),
    ]


@functools.cache
def _lookup_sql() -> str:
    quote = connection.ops.quote_name
    columns, joins = [], []
    for alias, model, join in _parts():
        columns += [
            f"{alias}.{quote(f.column)} AS {quote(f'{alias}__{f.attname}')}" for f in _fields(model)
        ]
        if join:
            joins.append(join.format(t=quote(model._meta.db_table)))
    report_table = quote(VerificationReport._meta.db_table)
    access_table = quote(ReportAccess._meta.db_table)
    # Table and column names from the models, every value a parameter.
    found = f"SELECT {', '.join(columns)} FROM {report_table} r {' '.join(joins)}"  # noqa: S608
    return (
        f"WITH found AS ({found} WHERE r.code = %(code)s), "  # noqa: S608
        "quick AS (SELECT set_config('synchronous_commit', 'off', true)), "
        f"logged AS (INSERT INTO {access_table} (report_id, at, address, outcome) "
        'SELECT found."r__id", %(at)s::timestamptz, %(address)s::inet, '
        "CASE WHEN found.\"r__revoked_at\" IS NOT NULL THEN 'revoked' "
        "WHEN found.\"r__expires\" <= %(at)s::timestamptz THEN 'expired' "
        "ELSE %(shown)s END FROM found, quick "
        'WHERE found."r__qualification_id" IS NULL OR (found."q__status" = ANY(%(public)s) '
        'AND found."q__graduation_date" <= %(today)s::date) RETURNING outcome) '
        "SELECT found.*, (SELECT outcome FROM logged) AS outcome FROM found"
    )


# The look-up is a server-side prepared statement, prepared once per database connection:
# PostgreSQL spent three times as long planning its hundred columns and four joins as running
# them (0.85 ms against 0.26 ms, EXPLAIN ANALYZE), on every look-up, since Django's psycopg
# cursors bind parameters on the client and so never prepare. A prepared statement survives
# a rolled-back transaction; a new connection (``CONN_MAX_AGE``, a reconnect) prepares it
# again. (A transaction-pooling proxy in front of PostgreSQL would not keep it: none is used.)
_PREPARED = "xueji_verify_lookup"
_PARAMETERS = (
    ("code", "text"),
    ("at", "timestamptz"),
    ("address", "inet"),
    ("shown", "text"),
    ("public", "text[]"),
    ("today", "date"),
)


@functools.cache
def _prepare_sql() -> str:
    sql = _lookup_sql()
    for number, (name, _type) in enumerate(_PARAMETERS, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    types = ", ".join(kind for _name, kind in _PARAMETERS)
    return f"PREPARE {_PREPARED} ({types}) AS {sql}"


def _execute_lookup(cursor: Any, params: dict[str, Any]) -> None:
    raw = connection.connection
    if getattr(connection, "_xueji_lookup_prepared_on", None) is not raw:
        cursor.execute(_prepare_sql())
        connection._xueji_lookup_prepared_on = raw  # type: ignore[attr-defined]
    placeholders = ", ".join(["%s"] * len(_PARAMETERS))
    cursor.execute(
        f"EXECUTE {_PREPARED} ({placeholders})", [params[name] for name, _type in _PARAMETERS]
    )


@functools.cache
def _lookup_names() -> list[str]:
    """The look-up's columns in order, as it names them: read from the models once, not from
    each answer's description (a hundred column objects a look-up)."""
    names = [f"{alias}__{f.attname}" for alias, model, _join in _parts() for f in _fields(model)]
    return [*names, "outcome"]


@functools.cache
def _columns(model: type[models.Model], alias: str) -> tuple[tuple[str, str], ...]:
    """(attribute, column of the look-up) of each field of ``model`` it reads, listed once."""
    return tuple((f.attname, f"{alias}__{f.attname}") for f in _fields(model))


def _instance(model: type[_M], alias: str, row: dict[str, Any]) -> _M:
    return model(**{attname: row[column] for attname, column in _columns(model, alias)})


def _fetch_lookup(params: dict[str, Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        _execute_lookup(cursor, params)
        found: tuple[Any, ...] | None = cursor.fetchone()
        return found


def _lookup_row(params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The look-up's row, the statement being its own health check.

    Django checks a kept connection (``CONN_HEALTH_CHECKS``) with a ``SELECT 1`` before the
    first statement of every request: a round trip to PostgreSQL as long as the look-up's own
    on a busy machine, each waiting for two processes to be scheduled. Here the look-up goes
    first; if the server closed the kept connection meanwhile (a restart, an idle time-out)
    the statement fails, the connection is closed and the statement runs once more on a new
    one (a statement that failed on a connection that still works is raised as it is). Only
    outside a transaction: inside one, a failure is the transaction's. Should the connection
    break after the statement committed but before its answer came back, the access is
    logged twice (where the health check would have answered 500 with it logged once)."""
    kept = connection.connection is not None and not connection.in_atomic_block
    if kept:
        connection.health_check_done = True  # type: ignore[attr-defined]
    try:
        return _fetch_lookup(params)
    except (OperationalError, InterfaceError):
        if not kept or connection.is_usable():
            raise
    connection.close()
    return _fetch_lookup(params)


def _access_in_one_statement(
    code: str, address: str | None, *, signed: bool
) -> tuple[VerificationReport, str]:
    params: dict[str, Any] = {
        "code": code,
        "at": timezone.now(),
        "address": address or None,
        "shown": AccessOutcome.SIGNED if signed else AccessOutcome.SHOWN,
        "public": [QualificationStatus.REGISTERED, QualificationStatus.REVOKED],
        "today": timezone.localdate(),
    }
    found = _lookup_row(params)
    names = _lookup_names()
    if found is None:
        raise NotVisibleError
    row = dict(zip(names, found, strict=True))
    if row["outcome"] is None:  # a qualification that is not public (not logged either)
        raise NotVisibleError
    report = _instance(VerificationReport, "r", row)
    if report.qualification_id is not None:
        qualification = _instance(Qualification, "q", row)
        qualification.school = _instance(School, "qs", row)
        report.qualification = qualification
    else:
        status = _instance(StudentStatus, "s", row)
        status.school = _instance(School, "ss", row)
        person = _instance(Student, "p", row)
        person.ethnicity = _instance(Ethnicity, "e", row) if person.ethnicity_id else None
        status.student = person
        report.status = status
    return report, str(row["outcome"])


def certificate_check(number: str, name: str, address: str | None) -> Qualification:
    """The public qualification with this certificate number and name (零散查询), the check
    logged; ``NotVisibleError`` when none matches (a draft, a future issue date, another
    name)."""
    number, name = number.strip(), " ".join(name.split())
    if not number or not name or len(number) > 18 or len(name) > 40:  # noqa: PLR2004
        raise NotVisibleError
    found = (
        public_qualifications()
        .select_related("school")
        .filter(certificate_number=number, name=name)
        .first()
    )
    if found is None:
        raise NotVisibleError
    CertificateCheck.objects.create(qualification=found, at=timezone.now(), address=address or None)
    return found
