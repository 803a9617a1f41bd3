"""Academic-year registration (学年注册, DOMAIN.md §2.2): a school registers every enrolled
student each academic year, with the exceptions deferred (暂缓注册) with a reason.

- ``round_open``: the school's round of an academic year, with its window from the school's
  settings (``records.years.window``); idempotent.
- ``register_all``: every student of the round not yet registered nor deferred becomes
  ``registered``, in chunks of ``REGISTER_CHUNK`` statuses, one transaction each.
- ``outcomes_record``: for many students at once, ``deferred`` (with a reason) or
  ``registered`` (a deferred student who now meets the conditions, or one named alone);
  each item is answered on its own.
- ``round_completed``: the record service of the round's task (``register``): registers what
  is left and completes the round.

Who is registered: a status of the round's school that is ``enrolled`` and entered before
the academic year's first day (its freshmen are registered with their cohort). Every write
locks the round's row first (``FOR NO KEY UPDATE``), so the writers of one round never race
(its kept counts move with them) and a registration is never written twice; then the
statuses concerned (``FOR NO KEY UPDATE``, the lock a status change's update waits for), so
that a status suspended meanwhile is not registered as enrolled.

Each checks the actor's permission (``records.review_school`` on the school: 404 for a round
one may not see, 403 for one one may only see), writes audit events (a bulk chunk: one event
on the round's chain naming its statuses; an outcome: one event on each registration's own
chain) and the students' emails in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import connection
from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import may
from records import notices
from records.audit import audit_append
from records.audit import audit_together
from records.choices import StatusState
from records.choices import YearOutcome
from records.choices import YearRegistrationState
from records.decisions import Decided
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.models import YearRegistration
from records.models import YearRegistrationRound
from records.transactions import service
from records.transactions import writes
from records.years import notices as year_notices
from records.years.window import label
from records.years.window import window_of

REGISTER_CHUNK = 1000
OUTCOMES_MAX = 500

MAY_NOT_REGISTER = _("You may not register this school's students.")
REASON_REQUIRED = _("Give the reason for deferring the registration.")
BAD_OUTCOME = _("The outcome must be one of: %(choices)s.")
NOT_ENROLLED = _("Only an enrolled student is registered; this student status is “%(state)s”.")
NOT_YET = _(
    "This student entered on %(entry)s, at the start of academic year %(year)s or later: the "
    "freshman registration covers their first year."
)
ALREADY_REGISTERED = _(
    "This student is registered for %(year)s already (%(at)s); a registration is not deferred "
    "afterwards."
)
ALREADY_DEFERRED = _(
    "This student's registration for %(year)s is deferred already (%(at)s): register them once "
    "they meet the conditions."
)
REPEATED = _("This student is named earlier in the request.")


# --- rounds ---------------------------------------------------------------------------------


@service
def round_open(*, school_id: str, academic_year: int) -> tuple[YearRegistrationRound, bool]:
    """The round of ``school_id``'s registration of ``academic_year``, created with its window
    from the school's settings if it is new: ``(round, created)``. Idempotent, also when two
    openings race (the unique ``(school, academic_year)`` decides)."""
    found = YearRegistrationRound.objects.filter(
        school_id=school_id, academic_year=academic_year
    ).first()
    if found is not None:
        return found, False
    school = School.objects.get(pk=school_id)
    dates = window_of(
        entry_day=school.entry_day,
        opens=school.year_registration_opens,
        closes=school.year_registration_closes,
        academic_year=academic_year,
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent opening wins the constraint
            opened = YearRegistrationRound.objects.create(
                school=school,
                province_id=school.province_id,
                academic_year=academic_year,
                starts=dates.starts,
                opens=dates.opens,
                closes=dates.closes,
            )
    except IntegrityError:
        return YearRegistrationRound.objects.get(
            school_id=school_id, academic_year=academic_year
        ), False
    audit_append(
        subject=opened,
        action="year_round.opened",
        actor=None,
        data={
            "school": school_id,
            "academic_year": academic_year,
            "starts": dates.starts,
            "opens": dates.opens,
            "closes": dates.closes,
        },
        subject_locked=True,
    )
    return opened, True


def check_officer(obj: models.Model, user: User) -> None:
    """404 when ``user`` may not see ``obj`` (a round, a status), 403 when they may not act
    for its school."""
    if not may(user, codenames.VIEW, obj):
        raise NotVisibleError(obj.pk)
    if not may(user, codenames.REVIEW_SCHOOL, obj):
        raise PermissionDenied(MAY_NOT_REGISTER)


def _lock_round(round_pk: int) -> YearRegistrationRound:
    """The round as of now, its row locked: ``FOR NO KEY UPDATE``, so a registration's
    foreign key (``KEY SHARE``) never waits for it."""
    found: YearRegistrationRound | None = (
        YearRegistrationRound.objects.select_for_update(of=("self",), no_key=True)
        .select_related("school")
        .filter(pk=round_pk)
        .first()
    )
    if found is None:
        raise NotVisibleError(round_pk)
    return found


def _registration_of_year(year_round: YearRegistrationRound) -> models.QuerySet[YearRegistration]:
    found: models.QuerySet[YearRegistration] = YearRegistration.objects.filter(
        status=models.OuterRef("pk"), academic_year=year_round.academic_year
    )
    return found


def round_statuses(year_round: YearRegistrationRound) -> models.QuerySet[StudentStatus]:
    """The statuses a round is about: its school's, entered before its academic year."""
    found: models.QuerySet[StudentStatus] = StudentStatus.objects.filter(
        school_id=year_round.school_id, entry_date__lt=year_round.starts
    )
    return found


def unregistered(year_round: YearRegistrationRound) -> models.QuerySet[StudentStatus]:
    """The round's enrolled students neither registered nor deferred: what registering the
    round registers, and what its officers are shown past the deadline."""
    return (
        round_statuses(year_round)
        .filter(state=StatusState.ENROLLED)
        .exclude(models.Exists(_registration_of_year(year_round)))
    )


def unregistered_count(year_round: YearRegistrationRound) -> int:
    return unregistered(year_round).count()


def unregistered_counts(rounds: Sequence[YearRegistrationRound]) -> dict[int, int]:
    """Each round's students neither registered nor deferred: one query per academic year
    among ``rounds`` (a page of a province's rounds is usually one), grouped by school."""
    counts = {r.pk: 0 for r in rounds}
    by_year: dict[int, list[YearRegistrationRound]] = {}
    for r in rounds:
        by_year.setdefault(r.academic_year, []).append(r)
    for year, group in by_year.items():
        within = models.Q(pk__in=[])
        for r in group:
            within |= models.Q(school_id=r.school_id, entry_date__lt=r.starts)
        rows = (
            StudentStatus.objects.filter(within, state=StatusState.ENROLLED)
            .exclude(
                models.Exists(
                    YearRegistration.objects.filter(
                        status=models.OuterRef("pk"), academic_year=year
                    )
                )
            )
            .order_by()
            .values_list("school_id")
            .annotate(n=models.Count("pk"))
        )
        found = dict(rows)
        for r in group:
            counts[r.pk] = found.get(r.school_id, 0)
    return counts


def round_students(
    year_round: YearRegistrationRound, state: str = ""
) -> models.QuerySet[StudentStatus]:
    """The round's students in a registration state: ``unregistered`` (enrolled, neither
    registered nor deferred), ``registered``, ``deferred``, or every one of them (those
    enrolled, and those registered or deferred since, whatever their status now)."""
    registration = _registration_of_year(year_round)
    statuses = round_statuses(year_round)
    if state == "unregistered":
        return unregistered(year_round)
    if state in YearRegistrationState.values:
        return statuses.filter(models.Exists(registration.filter(state=state)))
    return statuses.filter(models.Q(state=StatusState.ENROLLED) | models.Exists(registration))


def registrations_of(
    year_round: YearRegistrationRound, statuses: Sequence[StudentStatus]
) -> dict[int, YearRegistration]:
    """The registrations of ``statuses`` (a page of a list) in the round's year, by status."""
    return {
        r.status_id: r
        for r in YearRegistration.objects.filter(
            status_id__in=[s.pk for s in statuses], academic_year=year_round.academic_year
        ).select_related("registered_by", "deferred_by")
    }


# --- registering everyone -------------------------------------------------------------------


def register_all(*, round_pk: int, acting_user: User) -> int:
    """Register every student of the round neither registered nor deferred, in chunks of
    ``REGISTER_CHUNK`` statuses, one transaction each (run outside a transaction, so that a
    school's 30,000 students never hold their rows to the end and finished chunks stay).
    How many were registered."""
    found = YearRegistrationRound.objects.filter(pk=round_pk).first()
    if found is None:
        raise NotVisibleError(round_pk)
    check_officer(found, acting_user)
    registered = 0
    after = 0
    while True:
        with transaction.atomic():
            locked = _lock_round(round_pk)
            done, last = register_chunk(locked, acting_user, after)
        registered += done
        if last is None:
            return registered
        after = last


def register_remaining(year_round: YearRegistrationRound, acting_user: User) -> int:
    """Register what is left of a round locked by the caller, in the caller's transaction
    (the task's ``register`` decision taken from the work list)."""
    registered = 0
    after = 0
    while True:
        done, last = register_chunk(year_round, acting_user, after)
        registered += done
        if last is None:
            return registered
        after = last


# Every column of a registration, written by the database from the status (``_insert``).
_INSERT = (
    "INSERT INTO {table} (status_id, round_id, academic_year, student_id, school_id, "
    "province_id, state, reason, registered_at, registered_by_id, deferred_at, deferred_by_id, "
    "created, updated) "
    "SELECT s.id, %s, %s, s.student_id, s.school_id, s.province_id, %s, '', %s, %s, NULL, "
    "NULL, %s, %s FROM {statuses} s WHERE s.id IN ({ids}) "
    "RETURNING id, status_id"
)


def register_chunk(
    year_round: YearRegistrationRound, user: User, after: int
) -> tuple[int, int | None]:
    """Register the next ``REGISTER_CHUNK`` unregistered students of the round (locked by the
    caller) after the status ``after``: ``(registered, last status seen)``, the last ``None``
    when none was left. The same statements whatever the chunk's size: the chunk's statuses
    read and locked, the registrations inserted from them by the database, the round's
    counts, its audit event (the head read, the event; SQLite: the head's upsert), and when
    some students have a login, those logins and their emails."""
    chunk = list(
        unregistered(year_round)
        .filter(pk__gt=after)
        .select_for_update(of=("self",), no_key=True)
        .order_by("pk")
        .values_list("pk", "student__user_id", "student__name", "student_number", "major_name")[
            :REGISTER_CHUNK
        ]
    )
    if not chunk:
        return 0, None
    now = timezone.now()
    with writes():
        created = _insert(year_round, user, [row[0] for row in chunk], now)
        year_round.registered_count += len(created)
        YearRegistrationRound.objects.filter(pk=year_round.pk).update(
            registered_count=year_round.registered_count
        )
        audit_append(
            subject=year_round,
            action="year_registration.registered",
            actor=user,
            data={"statuses": [row[0] for row in chunk], "count": len(created)},
            subject_locked=True,
        )
        logins = {row[1] for row in chunk if row[1] is not None}
        if logins:
            _announce_registered(year_round, chunk, created, logins)
    return len(created), chunk[-1][0]


def _insert(
    year_round: YearRegistrationRound, user: User, status_ids: list[int], now: datetime.datetime
) -> dict[int, int]:
    """The registrations of ``status_ids``, ``registered`` by ``user`` at ``now``, in one
    ``INSERT … SELECT`` from the locked statuses (no Python row per student): the new
    registrations' keys by status."""
    moment = YearRegistration._meta.get_field("created").get_db_prep_save(now, connection)
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(YearRegistration._meta.db_table),
        statuses=quote(StudentStatus._meta.db_table),
        ids=", ".join(["%s"] * len(status_ids)),
    )
    params = [
        year_round.pk,
        year_round.academic_year,
        YearRegistrationState.REGISTERED.value,
        moment,
        user.pk,
        moment,
        moment,
        *status_ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {status_id: pk for pk, status_id in cursor.fetchall()}


def _announce_registered(
    year_round: YearRegistrationRound,
    chunk: list[tuple[Any, ...]],
    created: dict[int, int],
    logins: set[int],
) -> None:
    users = {u.pk: u for u in User.objects.filter(pk__in=logins)}
    school = year_round.school.name
    year_notices.announce(
        [
            (
                "year_registered",
                f"records.yearregistration:{created[status_id]}",
                [notices.recipient_of(users[login], name)],
                year_notices.context(
                    school=school,
                    academic_year=year_round.academic_year,
                    student_number=number,
                    major=major,
                ),
            )
            for status_id, login, name, number, major in chunk
            if login in users and status_id in created
        ]
    )


# --- outcomes of single students ------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeItem:
    """One outcome asked for: the status, ``deferred`` (with a reason) or ``registered``."""

    status: int
    outcome: str
    reason: str = ""


@dataclass(frozen=True)
class ItemResult:
    """What became of one item: done (the registration's state, and whether this call
    changed it) or refused (a code and why)."""

    status: int
    ok: bool
    state: str = ""
    changed: bool = False
    code: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        if not self.ok:
            return {"status": self.status, "ok": False, "code": self.code, "detail": self.detail}
        return {"status": self.status, "ok": True, "state": self.state, "changed": self.changed}


def refused(status: int, exc: Exception) -> ItemResult:
    """The result of one item refused by ``exc``."""
    if isinstance(exc, NotVisibleError):
        return ItemResult(status, ok=False, code="not_found", detail=str(_("Not found.")))
    if isinstance(exc, PermissionDenied):
        detail = str(exc) or str(MAY_NOT_REGISTER)
        return ItemResult(status, ok=False, code="permission_denied", detail=detail)
    if isinstance(exc, ConflictError):
        return ItemResult(status, ok=False, code=exc.code, detail=exc.message)
    assert isinstance(exc, ValidationError)  # noqa: S101
    if hasattr(exc, "error_dict"):
        detail = "; ".join(
            f"{name}: {' '.join(str(m) for m in ValidationError(errors).messages)}"
            for name, errors in exc.error_dict.items()
        )
    else:
        detail = " ".join(exc.messages)
    return ItemResult(status, ok=False, code="invalid", detail=detail)


def _check_fields(item: OutcomeItem) -> None:
    if item.outcome not in YearOutcome.values:
        raise ValidationError(
            {
                "outcome": ValidationError(
                    BAD_OUTCOME, params={"choices": ", ".join(YearOutcome.values)}
                )
            }
        )
    if item.outcome == YearOutcome.DEFERRED and not item.reason.strip():
        raise ValidationError({"reason": ValidationError(REASON_REQUIRED, code="required")})


def _day(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""


def _check_allowed(
    year_round: YearRegistrationRound,
    status: StudentStatus,
    item: OutcomeItem,
    existing: YearRegistration | None,
) -> bool:
    """Whether the item changes anything (registering a registered student changes nothing);
    a ``ConflictError`` when its rules refuse it."""
    year = year_round.label
    if existing is not None and existing.state == YearRegistrationState.REGISTERED:
        if item.outcome == YearOutcome.REGISTERED:
            return False
        message = ALREADY_REGISTERED % {"year": year, "at": _day(existing.registered_at)}
        raise ConflictError(str(message), code="already_registered")
    if existing is not None and item.outcome == YearOutcome.DEFERRED:
        message = ALREADY_DEFERRED % {"year": year, "at": _day(existing.deferred_at)}
        raise ConflictError(str(message), code="already_deferred")
    if status.state != StatusState.ENROLLED:
        message = NOT_ENROLLED % {"state": status.get_state_display()}
        raise ConflictError(str(message), code="not_enrolled")
    if status.entry_date >= year_round.starts:
        message = NOT_YET % {"entry": status.entry_date.isoformat(), "year": year}
        raise ConflictError(str(message), code="not_eligible")
    return True


@service
def outcomes_record(
    *, round_pk: int, items: Sequence[OutcomeItem], acting_user: User
) -> list[ItemResult]:
    """Record the outcome of each item for the round's students, in the caller's transaction.

    The round answers for the whole request (404 when not visible, 403 without the review
    grant); then each item is checked on its own (a status of another school or not visible,
    named twice, a deferral without a reason, a student not enrolled or entered this year, a
    deferral of a registered or deferred student) and refused alone; registering a registered
    student changes nothing. The others are written together: their new registrations in one
    insert, the deferred ones registered in one update, their audit events and emails in one
    statement each. Results in the order given."""
    year_round = _lock_round(round_pk)
    check_officer(year_round, acting_user)
    ids = [item.status for item in items]
    statuses = {
        s.pk: s
        for s in StudentStatus.objects.select_for_update(of=("self",), no_key=True)
        .select_related("student__user")
        .filter(pk__in=ids, school_id=year_round.school_id)
        .order_by("pk")
    }
    existing = {
        r.status_id: r
        for r in YearRegistration.objects.filter(
            status_id__in=list(statuses), academic_year=year_round.academic_year
        )
    }
    results: dict[int, ItemResult] = {}
    accepted: list[tuple[OutcomeItem, StudentStatus]] = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        status = statuses.get(item.status)
        try:
            if status is None or not may(acting_user, codenames.VIEW, status):
                raise NotVisibleError(item.status)
            if item.status in seen:
                raise ConflictError(str(REPEATED), code="repeated")
            seen.add(item.status)
            _check_fields(item)
            changes = _check_allowed(year_round, status, item, existing.get(status.pk))
        except (NotVisibleError, ConflictError, ValidationError) as exc:
            results[index] = refused(item.status, exc)
            continue
        if changes:
            accepted.append((item, status))
        else:
            results[index] = ItemResult(item.status, ok=True, state=item.outcome)
    _write_outcomes(year_round, accepted, existing, acting_user)
    position = {id(item): index for index, item in enumerate(items)}
    for item, status in accepted:
        results[position[id(item)]] = ItemResult(
            status.pk, ok=True, state=item.outcome, changed=True
        )
    return [results[index] for index in range(len(items))]


def _write_outcomes(
    year_round: YearRegistrationRound,
    accepted: list[tuple[OutcomeItem, StudentStatus]],
    existing: dict[int, YearRegistration],
    user: User,
) -> None:
    if not accepted:
        return
    now = timezone.now()
    new: list[YearRegistration] = []
    moved: list[YearRegistration] = []
    for item, status in accepted:
        found = existing.get(status.pk)
        if found is not None:  # deferred, now registered
            found.register(by=user, at=now)
            moved.append(found)
            continue
        deferred = item.outcome == YearOutcome.DEFERRED
        new.append(
            YearRegistration(
                status=status,
                round=year_round,
                academic_year=year_round.academic_year,
                student_id=status.student_id,
                school_id=status.school_id,
                province_id=status.province_id,
                state=item.outcome,
                reason=item.reason.strip() if deferred else "",
                registered_at=None if deferred else now,
                registered_by=None if deferred else user,
                deferred_at=now if deferred else None,
                deferred_by=user if deferred else None,
            )
        )
    newly_deferred = sum(1 for r in new if r.state == YearRegistrationState.DEFERRED)
    year_round.registered_count += len(new) - newly_deferred + len(moved)
    year_round.deferred_count += newly_deferred - len(moved)
    with writes():
        YearRegistration.objects.bulk_create(new)
        YearRegistration.objects.filter(pk__in=[r.pk for r in moved]).update(
            state=YearRegistrationState.REGISTERED,
            registered_at=now,
            registered_by=user,
            updated=now,
        )
        YearRegistrationRound.objects.filter(pk=year_round.pk).update(
            registered_count=year_round.registered_count, deferred_count=year_round.deferred_count
        )
        by_status = {s.pk: s for _item, s in accepted}
        with audit_together():
            for registration in [*new, *moved]:
                audit_append(
                    subject=registration,
                    action=f"year_registration.{registration.state}",
                    actor=user,
                    data={
                        "round": year_round.pk,
                        "status": registration.status_id,
                        "reason": registration.reason,
                    },
                    subject_locked=True,
                )
        told = []
        for registration in [*new, *moved]:
            status = by_status[registration.status_id]
            login = status.student.user
            if login is None:
                continue
            told.append(
                (
                    f"year_{registration.state}",
                    f"records.yearregistration:{registration.pk}",
                    [notices.recipient_of(login, status.student.name)],
                    year_notices.context(
                        school=year_round.school.name,
                        academic_year=year_round.academic_year,
                        student_number=status.student_number,
                        major=status.major_name,
                        reason=registration.reason,
                    ),
                )
            )
        year_notices.announce(told)


# --- the round's task -----------------------------------------------------------------------


def round_completed(year_round: YearRegistrationRound, decided: Decided) -> Mapping[str, Any]:
    """The record service of the round's ``register`` decision: registers what is left of the
    locked round (normally nothing: ``register_all`` ran first) and completes it."""
    registered = register_remaining(year_round, decided.acting_user)
    year_round.complete(by=decided.acting_user, at=decided.at)
    return {"registered": registered, "academic_year": label(year_round.academic_year)}
