"""The school's outcomes for its admissions, and the registration of a cohort.

- ``outcomes_record``: for many admissions at once, ``gave_up`` (放弃入学资格), ``retained``
  (保留入学资格, with a reason and an end date), ``registered`` for a retained admission whose
  student returns (DOMAIN.md §2.1 item 5: registered with a later year's cohort, by the same
  code as a cohort's registration), or a *request* to cancel (取消入学资格, with a reason): the
  admission stays as it is until a second officer of the school confirms it
  (``cancellation_confirm``, the record service of the workflow's ``confirm_cancellation``
  step, or ``cancellation_refuse``).
- ``cohort_register``: every ``admitted`` admission of a cohort with no pending cancellation
  becomes ``registered`` and gets its student status (学籍), in chunks of ``REGISTER_CHUNK``,
  one transaction each; a person who already holds a current full-time status is left
  ``admitted`` with an error naming the other school.
- ``cohort_reopen``: admissions imported into a registered cohort put it back under
  re-examination, and its officers are told.

Each checks the actor's permission (``records.review_school`` on the school; anything they
may not see is not found), audits every transition in the admission's chain (the events of a
chunk written together) and writes the students' emails in the same transaction. The workflow
(``workflows.flows.admission``) opens each cohort's review and drives the confirmations.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import NamedTuple
from typing import cast

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from notifications.models import Notification
from notifications.services import Announcement
from notifications.services import render_many
from notifications.services import write_rendered
from permissions import codenames
from permissions.checks import holders
from permissions.checks import may
from permissions.checks import scope
from records import glossary
from records import notices
from records.admissions import notices as admission_notices
from records.admissions.numbering import Pattern
from records.admissions.numbering import entry_date
from records.admissions.numbering import expected_graduation
from records.admissions.numbering import parse_pattern
from records.admissions.written import written_cancellation
from records.audit import audit_append
from records.audit import audit_together
from records.choices import OPEN_STATUS_STATES
from records.choices import UNDECIDED_CANCELLATION_STATES
from records.choices import AdmissionOutcome
from records.choices import AdmissionState
from records.choices import LearningForm
from records.choices import StatusState
from records.decisions import Decided
from records.decisions import Diverted
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import School
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.status_changes.types import ADVERSE_RULES
from records.status_changes.types import Check
from records.transactions import service
from records.transactions import writes

logger = logging.getLogger(__name__)

REGISTER_CHUNK = 2500
OUTCOMES_MAX = 500

MAY_NOT_REVIEW = _("You may not record the outcomes of this school's admissions.")
REASON_REQUIRED = _("Give the reason for this outcome.")
UNTIL_REQUIRED = _("Give the date until which the admission is retained (YYYY-MM-DD).")
UNTIL_NOT_LATER = _("An admission is retained until a day after today.")
NOT_ALLOWED = _("“%(outcome)s” is not possible for an admission in the state “%(state)s”.")
CANCELLATION_PENDING = _(
    "A cancellation of this admission (#%(id)s) awaits confirmation by a second officer: it "
    "is confirmed or refused first."
)
REPEATED = _("This admission is named earlier in the request.")
NO_OTHER_OFFICER = _(
    "No other officer of the school could confirm this cancellation: the officer who asks "
    "for a cancellation never confirms it."
)
NOT_CANCELLABLE = _("This admission can no longer be cancelled: it is “%(state)s”.")
STATUS_ELSEWHERE = _(
    "%(name)s already holds a current full-time student status at %(school)s (%(code)s, "
    "student number %(number)s): a person has one ordinary full-time status at a time."
)
NUMBERS_EXHAUSTED = _(
    "The school's student number pattern has no number left for this cohort; give the "
    "school a pattern with a longer sequence."
)
REGISTERED_WITH_COHORT = _(
    "An admitted admission is registered with its cohort (“register the cohort”); only a "
    "retained admission is registered on its own."
)
ADMISSION_CHANGED = _("The admission changed meanwhile; try again.")
YEAR_RANGE = _(
    "Give the year of the cohort the student joins: after the admission's year "
    "(%(admission_year)s) and at most %(latest)s."
)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeItem:
    """One outcome asked for: the admission, ``gave_up`` | ``retained`` | ``cancelled`` |
    ``registered`` (a retained admission; ``year``: the cohort it joins, by default this
    year's or, when that is not later than the admission's, the next one)."""

    admission: int
    outcome: str
    reason: str = ""
    until: datetime.date | None = None
    year: int | None = None
    # A cancellation is an adverse decision: the school's legality review and the record of
    # the student's hearing (arts 55–56), checked by the status changes' declared rules.
    legality_review: bool = False
    hearing_date: datetime.date | None = None
    hearing_by: str = ""
    hearing_summary: str = ""


@dataclass(frozen=True)
class ItemResult:
    """What became of one item: done (with the admission's state, and the pending
    cancellation a ``cancelled`` outcome asked for) or refused (a code and why)."""

    admission: int
    ok: bool
    state: str = ""
    code: str = ""
    detail: str = ""
    cancellation: AdmissionCancellation | None = None
    status: StudentStatus | None = None  # created by ``registered``

    def as_dict(self) -> dict[str, Any]:
        if not self.ok:
            return {
                "admission": self.admission,
                "ok": False,
                "code": self.code,
                "detail": self.detail,
            }
        row: dict[str, Any] = {"admission": self.admission, "ok": True, "state": self.state}
        if self.cancellation is not None:
            row["cancellation"] = self.cancellation.pk
        if self.status is not None:
            row["student_number"] = self.status.student_number
        return row


def refused(admission: int, exc: Exception) -> ItemResult:
    """The result of one item refused by ``exc`` (as ``decide`` would have refused it)."""
    if isinstance(exc, NotVisibleError):
        return ItemResult(admission, ok=False, code="not_found", detail=str(_("Not found.")))
    if isinstance(exc, PermissionDenied):
        return ItemResult(
            admission, ok=False, code="permission_denied", detail=str(exc) or str(MAY_NOT_REVIEW)
        )
    if isinstance(exc, ConflictError):
        return ItemResult(admission, ok=False, code=exc.code, detail=exc.message)
    assert isinstance(exc, ValidationError)  # noqa: S101
    if hasattr(exc, "error_dict"):
        detail = "; ".join(
            f"{name}: {' '.join(str(m) for m in ValidationError(errors).messages)}"
            for name, errors in exc.error_dict.items()
        )
    else:
        detail = " ".join(exc.messages)
    return ItemResult(admission, ok=False, code="invalid", detail=detail)


def check_officer(obj: models.Model, user: User) -> None:
    """404 when ``user`` may not see ``obj`` (an admission, a cohort), 403 when they may not
    act for its school."""
    if not may(user, codenames.VIEW, obj):
        raise NotVisibleError(obj.pk)
    if not may(user, codenames.REVIEW_SCHOOL, obj):
        raise PermissionDenied(MAY_NOT_REVIEW)


# --- cohorts --------------------------------------------------------------------------------


@service
def cohort_open(*, school_id: str, year: int) -> tuple[AdmissionCohort, bool]:
    """The cohort of ``school_id``'s admissions of ``year``, created (with its entry date from
    the school's entry day) if it is new: ``(cohort, created)``. Idempotent, also when two
    imports finish at once (the unique ``(school, year)`` decides)."""
    found = AdmissionCohort.objects.filter(school_id=school_id, year=year).first()
    if found is not None:
        return found, False
    school = School.objects.get(pk=school_id)
    try:
        with transaction.atomic():  # a savepoint: a concurrent opening wins the constraint
            cohort = AdmissionCohort.objects.create(
                school=school,
                province_id=school.province_id,
                year=year,
                entry_date=entry_date(school.entry_day, year),
            )
    except IntegrityError:
        return AdmissionCohort.objects.get(school_id=school_id, year=year), False
    audit_append(
        subject=cohort,
        action="cohort.opened",
        actor=None,
        data={"school": school_id, "year": year, "entry_date": cohort.entry_date},
        subject_locked=True,
    )
    return cohort, True


def unexamined(cohort: AdmissionCohort) -> int:
    """How many of the cohort's admissions are ``admitted`` with no cancellation pending: what
    registering it would register."""
    return _registrable(cohort).count()


REVIEW_REOPENED = "admission_review_reopened"


@service
def cohort_reopen(*, cohort: AdmissionCohort, url: str) -> AuditEvent:
    """Admissions were written to the registered ``cohort`` (locked by the caller, loaded
    with its school): it is re-examined again, for them (``reviewing``), and the school's
    officers are told how many wait, until when, and where (``url``). The workflow opens the
    new review task in the cohort's process.

    The deadline stays the cohort's (three months after its entry date): the late
    admissions' statuses take the cohort's entry date, and an admission still unexamined
    after it is what the province is told of, whenever it came."""
    waiting = unexamined(cohort)
    cohort.reopen()
    with writes():
        cohort.save()
        event = audit_append(
            subject=cohort,
            action="cohort.reopened",
            actor=None,
            data={"unexamined": waiting},
            subject_locked=True,
        )
        context = {
            **admission_notices.cohort_context(cohort, waiting),
            "title": format_lazy("{} #{}", glossary.PROCESSES["admission_review"], cohort.pk),
            "step": glossary.STEPS["review"],
            "student": "",
            "school": cohort.school.name,
            "due": cohort.deadline,
            "past_due": cohort.deadline <= timezone.now(),
            "url": url,
        }
        notices.announce_many(
            [(REVIEW_REOPENED, event, admission_notices.cohort_officers(cohort), context)]
        )
    return event


def _pending_cancellation() -> models.Exists:
    return models.Exists(
        AdmissionCancellation.objects.filter(
            admission=models.OuterRef("pk"), state__in=UNDECIDED_CANCELLATION_STATES
        )
    )


def _registrable(cohort: AdmissionCohort) -> models.QuerySet[AdmissionRecord]:
    return (
        cohort.admissions().filter(state=AdmissionState.ADMITTED).exclude(_pending_cancellation())
    )


# --- outcomes -------------------------------------------------------------------------------

_TRANSITIONS: dict[str, str] = {
    AdmissionOutcome.GAVE_UP: "give_up",
    AdmissionOutcome.RETAINED: "retain",
    AdmissionOutcome.CANCELLED: "cancel",
    AdmissionOutcome.REGISTERED: "register",
}
_NEEDS_REASON = (AdmissionOutcome.RETAINED, AdmissionOutcome.CANCELLED)


def _check_fields(item: OutcomeItem, today: datetime.date) -> None:
    errors: dict[str, ValidationError] = {}
    if item.outcome not in _TRANSITIONS:
        choices = ", ".join(_TRANSITIONS)
        errors["outcome"] = ValidationError(
            _("The outcome must be one of: %(choices)s."), params={"choices": choices}
        )
    if item.outcome in _NEEDS_REASON and not item.reason.strip():
        errors["reason"] = ValidationError(REASON_REQUIRED, code="required")
    if item.outcome == AdmissionOutcome.RETAINED:
        if item.until is None:
            errors["until"] = ValidationError(UNTIL_REQUIRED, code="required")
        elif item.until <= today:
            errors["until"] = ValidationError(UNTIL_NOT_LATER, code="invalid")
    if item.outcome == AdmissionOutcome.CANCELLED:
        errors.update(hearing_errors(item, today))
    if errors:
        raise ValidationError(errors)


def hearing_errors(item: OutcomeItem, today: datetime.date) -> dict[str, ValidationError]:
    """The adverse decisions' rules (``ADVERSE_RULES``: the legality review, 第56条; the
    hearing, 第55条), each error on its field, naming the rule and the article."""
    values = {
        "legality_review": "done" if item.legality_review else None,
        "hearing_date": item.hearing_date,
        "hearing_by": item.hearing_by.strip() or None,
        "hearing_summary": item.hearing_summary.strip() or None,
    }
    check = Check(cast(StudentStatus, None), values, today)  # these rules read no status
    errors: dict[str, ValidationError] = {}
    for rule in ADVERSE_RULES:
        if rule.field not in errors and not rule.holds(check):
            errors[rule.field] = ValidationError(rule.error(), code=rule.code)
    return errors


def _check_allowed(admission: AdmissionRecord, item: OutcomeItem, pending: int | None) -> None:
    if pending is not None:
        raise ConflictError(
            str(CANCELLATION_PENDING % {"id": pending}), code="cancellation_pending"
        )
    if item.outcome == AdmissionOutcome.REGISTERED and admission.state == AdmissionState.ADMITTED:
        raise ConflictError(str(REGISTERED_WITH_COHORT), code="not_allowed")
    if not can_proceed(getattr(admission, _TRANSITIONS[item.outcome])):
        message = NOT_ALLOWED % {
            "state": admission.get_state_display(),
            "outcome": AdmissionOutcome(item.outcome).label,
        }
        raise ConflictError(str(message), code="not_allowed")


def _check_other_officer(
    admission: AdmissionRecord, requester: User, kept: dict[str, bool]
) -> None:
    """A cancellation is confirmed by another officer of the school: there must be one."""
    if admission.school_id not in kept:
        others = holders(codenames.REVIEW_SCHOOL, admission.school).exclude(pk=requester.pk)
        kept[admission.school_id] = others.exists()
    if not kept[admission.school_id]:
        raise ConflictError(str(NO_OTHER_OFFICER), code="no_other_reviewer")


def _joined_year(item: OutcomeItem, admission_year: int, today: datetime.date) -> int:
    """The year of the cohort a returning retained admission joins (DOMAIN.md §2.1 item 5:
    "enrolled with a later cohort"): the one asked for, or this year's, or the next one when
    this year is the admission's own; never the admission's year, at most next year."""
    latest = today.year + 1
    year = item.year if item.year is not None else max(today.year, admission_year + 1)
    if not admission_year < year <= latest:
        message = YEAR_RANGE % {"admission_year": admission_year, "latest": latest}
        raise ValidationError({"year": ValidationError(str(message), code="invalid")})
    return year


def _lock_joined_cohorts(
    items: Sequence[OutcomeItem], user: User, today: datetime.date
) -> dict[tuple[str, int], AdmissionCohort]:
    """The cohorts the retained admissions registered by ``items`` join, opened if new and
    locked (``FOR NO KEY UPDATE``, as a cohort's registration locks them: their student
    numbers continue the cohort's sequence) before the admissions are, the order of every
    path. Only for admissions the user may act on (nothing is opened at another school)."""
    wanted: dict[int, OutcomeItem] = {}
    for item in items:
        if item.outcome == AdmissionOutcome.REGISTERED:
            wanted.setdefault(item.admission, item)
    if not wanted:
        return {}
    retained = scope(
        user,
        codenames.REVIEW_SCHOOL,
        AdmissionRecord.objects.filter(pk__in=wanted, state=AdmissionState.RETAINED).exclude(
            _pending_cancellation()
        ),
    ).values_list("pk", "school_id", "admission_year")
    keys = set()
    for pk, school_id, admission_year in retained:
        try:
            keys.add((school_id, _joined_year(wanted[pk], admission_year, today)))
        except ValidationError:
            continue  # refused with the item
    opened = [cohort_open(school_id=school_id, year=year)[0].pk for school_id, year in sorted(keys)]
    return {
        (cohort.school_id, cohort.year): cohort
        for cohort in AdmissionCohort.objects.select_for_update(of=("self",), no_key=True)
        .select_related("school")
        .filter(pk__in=opened)
        .order_by("pk")
    }


def _joined_cohort(
    joined: dict[tuple[str, int], AdmissionCohort],
    admission: AdmissionRecord,
    item: OutcomeItem,
    today: datetime.date,
) -> AdmissionCohort:
    year = _joined_year(item, admission.admission_year, today)
    cohort = joined.get((admission.school_id, year))
    if cohort is None:  # retained after the cohorts were locked: asked again, it is found
        raise ConflictError(str(ADMISSION_CHANGED), code="busy")
    return cohort


@service
def outcomes_record(*, items: Sequence[OutcomeItem], acting_user: User) -> list[ItemResult]:
    """Record the outcome of each item, in the caller's transaction: each item is checked on
    its own (not visible, not permitted, a field missing, a transition the admission's state
    does not allow, a cancellation pending) and refused alone; the others are written
    together: one update of their rows, their cancellation requests in one statement, their
    audit events and emails in one statement each; the returning retained admissions
    (``registered``) through the registration of a cohort's chunk, for each cohort they join.
    Results in the order given."""
    today = timezone.localdate()
    ids = [item.admission for item in items]
    joined = _lock_joined_cohorts(items, acting_user, today)
    admissions = {
        a.pk: a
        for a in AdmissionRecord.objects.select_for_update(of=("self",))
        .select_related("student__user", "school")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    pending = dict(
        AdmissionCancellation.objects.filter(
            admission_id__in=ids, state__in=UNDECIDED_CANCELLATION_STATES
        ).values_list("admission_id", "pk")
    )
    results: dict[int, ItemResult] = {}
    accepted: list[tuple[OutcomeItem, AdmissionRecord]] = []
    returning: list[tuple[int, AdmissionRecord, AdmissionCohort]] = []
    seen: set[int] = set()
    others_kept: dict[str, bool] = {}
    for index, item in enumerate(items):
        admission = admissions.get(item.admission)
        try:
            if admission is None:
                raise NotVisibleError(item.admission)
            check_officer(admission, acting_user)
            if item.admission in seen:
                raise ConflictError(str(REPEATED), code="repeated")
            seen.add(item.admission)
            _check_fields(item, today)
            _check_allowed(admission, item, pending.get(admission.pk))
            if item.outcome == AdmissionOutcome.CANCELLED:
                _check_other_officer(admission, acting_user, others_kept)
            if item.outcome == AdmissionOutcome.REGISTERED:
                cohort = _joined_cohort(joined, admission, item, today)
        except (NotVisibleError, PermissionDenied, ConflictError, ValidationError) as exc:
            results[index] = refused(item.admission, exc)
        else:
            if item.outcome == AdmissionOutcome.REGISTERED:
                returning.append((index, admission, cohort))
            else:
                accepted.append((item, admission))
    done = _write_outcomes(accepted, acting_user)
    position = {id(item): index for index, item in enumerate(items)}
    for item, result in done:
        results[position[id(item)]] = result
    results.update(_register_returning(returning, acting_user))
    return [results[index] for index in range(len(items))]


def _register_returning(
    returning: list[tuple[int, AdmissionRecord, AdmissionCohort]], user: User
) -> dict[int, ItemResult]:
    """Register returning retained admissions (locked, checked) with the cohorts they join
    (locked): the rules and writes of a cohort's registration (``_register_chunk``): a person
    with a current full-time status elsewhere is refused naming it, the student numbers
    continue the joined cohort's sequence (refused when its pattern runs out), the status
    takes the joined cohort's entry date, and the student's email is the registration's."""
    results: dict[int, ItemResult] = {}
    held = _current_full_time([admission for _index, admission, _cohort in returning])
    by_cohort: dict[int, tuple[AdmissionCohort, list[tuple[int, AdmissionRecord]]]] = {}
    for index, admission, cohort in returning:
        other = held.get(admission.student_id)
        if other is not None and admission.learning_form == LearningForm.FULL_TIME:
            detail = STATUS_ELSEWHERE % {"name": admission.student.name, **other}
            results[index] = ItemResult(
                admission.pk, ok=False, code="status_elsewhere", detail=str(detail)
            )
        else:
            by_cohort.setdefault(cohort.pk, (cohort, []))[1].append((index, admission))
    for cohort, group in by_cohort.values():
        numbers = _allocate(cohort, parse_pattern(cohort.school.student_number_pattern), len(group))
        for index, admission in group[len(numbers) :]:
            results[index] = ItemResult(
                admission.pk, ok=False, code="numbers_exhausted", detail=str(NUMBERS_EXHAUSTED)
            )
        placed = group[: len(numbers)]
        rows = [
            Registering(
                admission.pk,
                admission.student_id,
                number,
                expected_graduation(cohort.entry_date, admission.study_length),
            )
            for (_index, admission), number in zip(placed, numbers, strict=True)
        ]
        created = _write_registrations(cohort, user, rows)
        statuses = StudentStatus.objects.in_bulk(list(created.values()))
        for index, admission in placed:
            admission.register()  # the transition's rule, in memory: the row moved with it
            results[index] = ItemResult(
                admission.pk,
                ok=True,
                state=str(admission.state),
                status=statuses[created[admission.pk]],
            )
    return results


def _write_outcomes(
    accepted: list[tuple[OutcomeItem, AdmissionRecord]], user: User
) -> list[tuple[OutcomeItem, ItemResult]]:
    if not accepted:
        return []
    now = timezone.now()
    moved = []
    requests = []
    for item, admission in accepted:
        reason = item.reason.strip()
        if item.outcome == AdmissionOutcome.CANCELLED:
            cohort, _created = cohort_open(
                school_id=admission.school_id, year=admission.admission_year
            )
            requests.append(
                AdmissionCancellation(
                    admission=admission,
                    cohort=cohort,
                    school_id=admission.school_id,
                    province_id=admission.province_id,
                    requester=user,
                    reason=reason,
                    legality_reviewed=item.legality_review,
                    hearing_date=item.hearing_date,
                    hearing_by=item.hearing_by.strip(),
                    hearing_summary=item.hearing_summary.strip(),
                )
            )
            continue
        getattr(admission, _TRANSITIONS[item.outcome])()
        admission.reason = reason
        admission.retained_until = item.until if item.outcome == AdmissionOutcome.RETAINED else None
        admission.updated = now
        moved.append(admission)
    with writes():
        AdmissionRecord.objects.bulk_update(moved, ["state", "reason", "retained_until", "updated"])
        AdmissionCancellation.objects.bulk_create(requests)
        by_admission = {request.admission_id: request for request in requests}
        events = []
        with audit_together():
            for item, admission in accepted:
                request = by_admission.get(admission.pk)
                data: dict[str, Any] = {"reason": item.reason.strip()}
                if request is not None:
                    action, data["cancellation"] = "admission.cancellation_requested", request.pk
                else:
                    action = f"admission.{item.outcome}"
                    if item.until is not None:
                        data["until"] = item.until
                event = audit_append(
                    subject=admission, action=action, actor=user, data=data, subject_locked=True
                )
                events.append((admission, event))
        told = []  # the student hears of a request only once it is confirmed
        for admission, event in events:
            recipients = admission_notices.student(admission)
            if admission.pk not in by_admission and recipients:
                name = admission_notices.OUTCOME_EVENTS[admission.state]
                told.append((name, event, recipients, admission_notices.context(admission)))
        notices.announce_many(told)
    return [
        (
            item,
            ItemResult(
                admission.pk,
                ok=True,
                state=str(admission.state),
                cancellation=by_admission.get(admission.pk),
            ),
        )
        for item, admission in accepted
    ]


# --- the record services of the confirmation's decisions ------------------------------------


def cancellation_confirm(cancellation: AdmissionCancellation, decided: Decided) -> Diverted:
    """A second officer confirms: the school's decision, an adverse one. The written
    decision is issued (stored, mailed with the appeal route); the admission is cancelled
    only when the appeal period ends (``cancellation_take_effect``)."""
    admission = cancellation.admission
    if not can_proceed(admission.cancel):
        raise ConflictError(
            str(NOT_CANCELLABLE % {"state": admission.get_state_display()}), code="not_allowed"
        )
    cancellation.issue_decision(at=decided.at, text=written_cancellation(cancellation, decided))
    return Diverted("decision_issued", {"decision": cancellation.decision_text})


def cancellation_take_effect(
    cancellation: AdmissionCancellation, *, actor: User | None, at: datetime.datetime
) -> Mapping[str, Any]:
    """The decision takes effect (its appeal period ended, or the province upheld it): the
    admission is cancelled with the request's reason (locked with the request)."""
    admission = cancellation.admission
    if not can_proceed(admission.cancel):
        raise ConflictError(
            str(NOT_CANCELLABLE % {"state": admission.get_state_display()}), code="not_allowed"
        )
    cancellation.confirm(at=at)
    admission.cancel()
    admission.reason = cancellation.reason
    admission.save()
    audit_append(
        subject=admission,
        action="admission.cancelled",
        actor=actor,
        data={
            "cancellation": cancellation.pk,
            "reason": cancellation.reason,
            "requested_by": cancellation.requester_id,
        },
        subject_locked=True,
    )
    return {"admission": admission.pk}


def cancellation_refuse(cancellation: AdmissionCancellation, decided: Decided) -> None:
    """A second officer refuses: the admission stays as it is."""
    cancellation.refuse(at=decided.at)


# --- registering a cohort -------------------------------------------------------------------


@dataclass(frozen=True)
class ItemError:
    admission: int
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"admission": self.admission, "code": self.code, "detail": self.detail}


@dataclass
class Registration:
    """What registering a cohort did: how many were registered, the admissions left
    ``admitted`` for a pending cancellation (``waiting``), and each refused one."""

    registered: int = 0
    waiting: int = 0
    errors: list[ItemError] = field(default_factory=list)


def cohort_register(*, cohort_pk: int, acting_user: User) -> Registration:
    """Register every ``admitted`` admission of the cohort with no pending cancellation, in
    chunks of ``REGISTER_CHUNK`` admissions, one transaction each (run outside a
    transaction, so that a large cohort's finished chunks stay and its rows are not held
    locked to the end). The cohort's row lock orders the chunks of two registrations of one
    cohort; the student numbers continue its sequence."""
    cohort = AdmissionCohort.objects.filter(pk=cohort_pk).first()
    if cohort is None:
        raise NotVisibleError(cohort_pk)
    check_officer(cohort, acting_user)
    result = Registration()
    after: int | None = 0
    while after is not None:
        after = _retrying(
            functools.partial(_top_level_chunk, cohort_pk, acting_user, after, result)
        )
    result.waiting = (
        cohort.admissions()
        .filter(state=AdmissionState.ADMITTED)
        .filter(_pending_cancellation())
        .count()
    )
    return result


def _top_level_chunk(cohort_pk: int, user: User, after: int, result: Registration) -> int | None:
    with transaction.atomic():
        # FOR NO KEY UPDATE: two registrations of the cohort wait for each other, while a
        # cancellation request inserted meanwhile (its foreign key takes a KEY SHARE lock on
        # the cohort) does not wait for the registration that waits for its admissions.
        locked: AdmissionCohort = (
            AdmissionCohort.objects.select_for_update(of=("self",), no_key=True)
            .select_related("school")
            .get(pk=cohort_pk)
        )
        return _register_chunk(locked, user, after, result)


def register_remaining(cohort: AdmissionCohort, acting_user: User) -> Registration:
    """Register what is left of a cohort locked by the caller, in the caller's transaction
    (the review step's ``register`` decision taken from the work list)."""
    result = Registration()
    after = 0
    while (last := register_chunk(cohort, acting_user, after, result)) is not None:
        after = last
    return result


ATTEMPTS = 3


def _retrying(chunk: Callable[[], int | None]) -> int | None:
    """Run a chunk (a transaction or a savepoint of its own) again when it met a concurrent
    write: the same person registered elsewhere meanwhile (``status_one_current_full_time``)
    or a student number taken meanwhile. Its checks then see the other write; as they come
    first, that is rare."""
    for attempt in range(ATTEMPTS):
        try:
            return chunk()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
            logger.info("registration: a chunk met a concurrent write; checked again")
    return None  # pragma: no cover  (the loop returns or raises)


def register_chunk(
    cohort: AdmissionCohort, user: User, after: int, result: Registration
) -> int | None:
    """Register the next chunk of the ``cohort`` locked by the caller after the admission
    ``after``, in a savepoint of the caller's transaction; the key of its last admission, or
    ``None`` when none is left."""

    def chunk() -> int | None:
        sequence = cohort.last_sequence
        try:
            with transaction.atomic():
                return _register_chunk(cohort, user, after, result)
        except IntegrityError:
            cohort.last_sequence = sequence
            raise

    return _retrying(chunk)


def _register_chunk(
    cohort: AdmissionCohort, user: User, after: int, result: Registration
) -> int | None:
    """The next ``REGISTER_CHUNK`` admitted admissions of the cohort after ``after``, locked
    and registered by set-based statements: no model instance per admission (building them,
    and the per-admission audit events, were most of registration's time)."""
    pattern = parse_pattern(cohort.school.student_number_pattern)
    # The chunk's rows locked in key order by a statement of their own, their own columns
    # only: locked together with their persons and logins, PostgreSQL joined every admission
    # left in the cohort before sorting them and keeping a chunk.
    chunk = list(
        cohort.admissions()
        .filter(state=AdmissionState.ADMITTED, pk__gt=after)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "student_id", "learning_form", "study_length")[:REGISTER_CHUNK]
    )
    if not chunk:
        return None
    last = chunk[-1][0]
    # Read after the rows are locked, so that a request committed while this waited for
    # them is seen (a cancellation request locks its admission before it is written).
    waiting = set(
        AdmissionCancellation.objects.filter(
            _among(AdmissionCancellation, "admission", [pk for pk, *_rest in chunk]),
            state__in=UNDECIDED_CANCELLATION_STATES,
        ).values_list("admission_id", flat=True)
    )
    held = _current_full_time_of(
        [student for _pk, student, form, _length in chunk if form == LearningForm.FULL_TIME]
    )
    errors: list[ItemError] = []
    accepted: list[tuple[int, int, str]] = []
    elsewhere: list[tuple[int, int]] = []
    for pk, student_id, learning_form, study_length in chunk:
        if pk in waiting:
            continue  # registered once its cancellation is refused
        if student_id in held and learning_form == LearningForm.FULL_TIME:
            elsewhere.append((pk, student_id))
        else:
            accepted.append((pk, student_id, study_length))
    if elsewhere:
        names = dict(
            AdmissionRecord.objects.filter(pk__in=[pk for pk, _s in elsewhere]).values_list(
                "pk", "student__name"
            )
        )
        errors += [
            ItemError(
                pk,
                "status_elsewhere",
                str(STATUS_ELSEWHERE % {"name": names[pk], **held[student_id]}),
            )
            for pk, student_id in elsewhere
        ]
    numbers = _allocate(cohort, pattern, len(accepted))
    errors += [
        ItemError(pk, "numbers_exhausted", str(NUMBERS_EXHAUSTED))
        for pk, _student, _length in accepted[len(numbers) :]
    ]
    accepted = accepted[: len(numbers)]
    graduation: dict[str, datetime.date] = {}
    for _pk, _student, length in accepted:
        if length not in graduation:
            graduation[length] = expected_graduation(cohort.entry_date, length)
    _write_registrations(
        cohort,
        user,
        [
            Registering(pk, student, number, graduation[length])
            for (pk, student, length), number in zip(accepted, numbers, strict=True)
        ],
    )
    result.registered += len(accepted)
    result.errors += errors
    return last


def _among(model: type[models.Model], field: str, keys: list[int]) -> Any:
    """A filter: ``field`` (a key or a foreign key) of ``model`` is one of ``keys``. On
    PostgreSQL one array parameter (``= ANY``), sent as one string: a list of a thousand
    parameters cost more to build and send than the database spent on the query, and a list
    as an array parameter is quoted by the client one element at a time."""
    found = model._meta.get_field(field)
    assert isinstance(found, models.Field)  # noqa: S101  (a concrete column, by its callers)
    column = str(found.column)
    if connection.vendor != "postgresql":
        return models.Q(**{f"{column}__in": keys})
    quote = connection.ops.quote_name
    # Names from the model's metadata; the keys are a parameter.
    return RawSQL(  # noqa: S611
        f"{quote(model._meta.db_table)}.{quote(column)} = ANY(string_to_array(%s, ',')::bigint[])",
        [",".join(map(str, keys))],
        output_field=models.BooleanField(),
    )


def _current_full_time(chunk: list[AdmissionRecord]) -> dict[int, dict[str, str]]:
    """The current full-time status held by each person of the chunk who holds one."""
    return _current_full_time_of(
        [a.student_id for a in chunk if a.learning_form == LearningForm.FULL_TIME]
    )


def _current_full_time_of(people: list[int]) -> dict[int, dict[str, str]]:
    """The current full-time status held by each of ``people`` who holds one (by their keys:
    a subquery over the chunk's admissions was planned as a scan for each status when the
    tables' statistics were older than the rows)."""
    if not people:
        return {}
    return {
        row["student_id"]: {
            "school": row["school__name"],
            "code": row["school_id"],
            "number": row["student_number"],
        }
        for row in StudentStatus.objects.filter(
            _among(StudentStatus, "student", people),
            learning_form=LearningForm.FULL_TIME,
            state__in=[str(state) for state in OPEN_STATUS_STATES],
        ).values("student_id", "school_id", "school__name", "student_number")
    }


def _allocate(cohort: AdmissionCohort, pattern: Pattern, count: int) -> list[str]:
    """The next ``count`` student numbers of the cohort by the school's pattern (fewer when
    the pattern runs out), skipping any the school has given already; moves the cohort's
    sequence past them."""
    numbers: list[str] = []
    sequence = cohort.last_sequence
    while len(numbers) < count and sequence < pattern.capacity:
        batch: list[str] = []
        while len(batch) < count - len(numbers) and sequence < pattern.capacity:
            sequence += 1
            batch.append(
                pattern.number(year=cohort.year, school=cohort.school_id, sequence=sequence)
            )
        taken = _taken_numbers(cohort.school_id, batch)
        numbers += [number for number in batch if number not in taken]
    cohort.last_sequence = sequence
    return numbers


def _taken_numbers(school_id: str, numbers: list[str]) -> set[str]:
    """Which of ``numbers`` the school has given already (on PostgreSQL one array
    parameter, sent as one string: a student number is letters, digits and hyphens; a list
    of a thousand parameters cost more to send than to look up)."""
    if connection.vendor != "postgresql":
        return set(
            StudentStatus.objects.filter(
                school_id=school_id, student_number__in=numbers
            ).values_list("student_number", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(_TAKEN, [school_id, ",".join(numbers)])
        return {number for (number,) in cursor.fetchall()}


_TAKEN = (
    f"SELECT student_number FROM {StudentStatus._meta.db_table} "  # noqa: S608  (model metadata)
    "WHERE school_id = %s AND student_number = ANY(string_to_array(%s, ','))"
)

# The status of each admission of ``_write_registrations`` and the admission's move to
# ``registered``, in one statement: the values come from the admission's row (no Python row
# per student), the student number and expected graduation date from the arrays.
_STATUS_COLUMNS = (
    "student_id, admission_id, school_id, province_id, student_number, candidate_number, "
    "level, major_code, major_name, learning_form, study_length, admission_type_id, "
    "entry_date, expected_graduation, state, created, updated"
)
# Table names from the models' metadata; every value is a parameter.
_REGISTER = (
    "WITH chunk (id, number, graduation) AS ("  # noqa: S608
    "SELECT * FROM unnest(string_to_array(%(ids)s, ',')::bigint[], "
    "string_to_array(%(numbers)s, ','), string_to_array(%(graduations)s, ',')::date[])"
    "), moved AS ("
    "UPDATE {admissions} a SET state = %(registered)s, updated = %(now)s FROM chunk "
    "WHERE a.id = chunk.id "
    "RETURNING a.id, a.student_id, a.school_id, a.province_id, a.candidate_number, a.level, "
    "a.major_code, a.major_name, a.learning_form, a.study_length, a.admission_type_id, "
    "chunk.number, chunk.graduation"
    ") "
    "INSERT INTO {statuses} (" + _STATUS_COLUMNS + ") "
    "SELECT student_id, id, school_id, province_id, number, candidate_number, level, "
    "major_code, major_name, learning_form, study_length, admission_type_id, %(entry)s, "
    "graduation, %(enrolled)s, %(now)s, %(now)s FROM moved ORDER BY id "
    "RETURNING id, admission_id"
).format(admissions=AdmissionRecord._meta.db_table, statuses=StudentStatus._meta.db_table)


class Registering(NamedTuple):
    """An admission to register: its person, its student number, its status's expected
    graduation date."""

    admission: int
    student: int
    number: str
    graduation: datetime.date


def _write_registrations(
    cohort: AdmissionCohort, user: User, rows: list[Registering]
) -> dict[int, int]:
    """Register the admissions ``rows`` (each with its person, student number and expected
    graduation date), locked and checked by the caller) in ``cohort`` (locked by the caller): their
    statuses, with its entry date, and the admissions moved to ``registered``; the cohort's
    sequence; one audit event on the cohort's chain naming every admission, status and
    number (``cohort.admissions_registered``); the emails of the students with an account
    (keyed on their admissions).
    The key of each admission's new status."""
    if not rows:
        return {}
    now = timezone.now()
    told = _told(rows)
    # The emails are rendered in a thread of their own while the statuses are written: the
    # rendering reads nothing from the database and the writing waits on it, so the two
    # overlap (rendering was a third of a registration's time in Python).
    with writes(), ThreadPoolExecutor(max_workers=1) as pool:
        rendering = pool.submit(_registered_emails, cohort, rows, told)
        statuses = _insert_statuses(cohort, rows, now)
        AdmissionCohort.objects.filter(pk=cohort.pk).update(last_sequence=cohort.last_sequence)
        audit_append(
            subject=cohort,
            action=ADMISSIONS_REGISTERED,
            actor=user,
            data={
                "count": len(rows),
                "registered": [[r.admission, statuses[r.admission], r.number] for r in rows],
            },
            subject_locked=True,
        )
        write_rendered(rendering.result())
    return statuses


def _registered_emails(
    cohort: AdmissionCohort, rows: list[Registering], told: list[tuple[Any, ...]]
) -> list[Notification]:
    return render_many(_registered_announcements(cohort, rows, told), plain=_REGISTERED_PLAIN)


# The event of a cohort's chain that records a registration's admissions, each with its
# status and student number (``records.status_changes.history`` reads it back for a status).
ADMISSIONS_REGISTERED = "cohort.admissions_registered"


def _insert_statuses(
    cohort: AdmissionCohort, rows: list[Registering], now: datetime.datetime
) -> dict[int, int]:
    """The statuses of ``rows`` and their admissions' move; the key of each new status by
    its admission. PostgreSQL: one statement (``_REGISTER``); elsewhere an update and an
    insert of instances built from the admissions' values."""
    ids = [row.admission for row in rows]
    if connection.vendor == "postgresql":
        # Each array as one string (a student number is letters, digits and hyphens): the
        # client quoted a list's elements one by one, longer than the statement took.
        params: dict[str, Any] = {
            "ids": ",".join(map(str, ids)),
            "numbers": ",".join(row.number for row in rows),
            "graduations": ",".join(row.graduation.isoformat() for row in rows),
            "registered": AdmissionState.REGISTERED.value,
            "now": now,
            "entry": cohort.entry_date,
            "enrolled": StatusState.ENROLLED.value,
        }
        with connection.cursor() as cursor:
            cursor.execute(_REGISTER, params)
            return {admission: pk for pk, admission in cursor.fetchall()}
    values = {
        row[0]: row
        for row in AdmissionRecord.objects.filter(pk__in=ids).values_list(
            "pk",
            "student_id",
            "school_id",
            "province_id",
            "candidate_number",
            "level",
            "major_code",
            "major_name",
            "learning_form",
            "study_length",
            "admission_type_id",
        )
    }
    AdmissionRecord.objects.filter(pk__in=ids).update(state=AdmissionState.REGISTERED, updated=now)
    statuses = []
    for pk, _student, number, graduation in rows:
        _pk, student, school, province, candidate, level, code, name, form, length, kind = values[
            pk
        ]
        statuses.append(
            StudentStatus(
                student_id=student,
                admission_id=pk,
                school_id=school,
                province_id=province,
                student_number=number,
                candidate_number=candidate,
                level=level,
                major_code=code,
                major_name=name,
                learning_form=form,
                study_length=length,
                admission_type_id=kind,
                entry_date=cohort.entry_date,
                expected_graduation=graduation,
            )
        )
    StudentStatus.objects.bulk_create(statuses)
    return {status.admission_id: status.pk for status in statuses}


def _told(rows: list[Registering]) -> list[tuple[Any, ...]]:
    """The admissions of ``rows`` whose students have an account, with what their email
    reads of them (``_EMAIL_VALUES``), in key order. Those admissions are found by their
    persons' keys first, then only they are read with their persons and logins (filtered
    through the join, PostgreSQL planned a scan of the persons for each admission when the
    statistics were older than the rows)."""
    students = {row.student: row.admission for row in rows}
    with_login = Student.objects.filter(
        _among(Student, "id", list(students)), user__isnull=False
    ).values_list("pk", flat=True)
    told_ids = [students[student] for student in with_login]
    if not told_ids:
        return []
    return list(
        AdmissionRecord.objects.filter(pk__in=told_ids).order_by("pk").values_list(*_EMAIL_VALUES)
    )


def _registered_announcements(
    cohort: AdmissionCohort, rows: list[Registering], told: list[tuple[Any, ...]]
) -> list[Announcement]:
    """The ``admission_registered`` email of each admission ``told`` (``_told``) about its
    admission: built from the values read, no query (run in the rendering's thread), the
    instances the emails' functions read made here rather than by the query (making them was
    most of a chunk's time in Python outside the statements)."""
    by_admission = {row.admission: row for row in rows}
    announcements = []
    for values in told:
        admission_fields = dict(zip(_EMAIL_VALUES, values, strict=True))
        login = User(**{name: admission_fields.pop(f"student__user__{name}") for name in _LOGIN})
        student = Student(
            pk=admission_fields.pop("student_id"), name=admission_fields.pop("student__name")
        )
        student.user = login
        # The cohort's school: one row read, not one a student's.
        admission = AdmissionRecord(**admission_fields, student=student, school=cohort.school)
        row = by_admission[admission.pk]
        status = StudentStatus(
            student_number=row.number,
            entry_date=cohort.entry_date,
            expected_graduation=row.graduation,
        )
        announcements.append(
            Announcement(
                "admission_registered",
                f"records.admissionrecord:{admission.pk}",
                admission_notices.student(admission),
                admission_notices.registered_context(admission, status),
            )
        )
    return announcements


# What differs from one registration email to the next and the templates only print: they
# are rendered once for the students of a major, level, form and graduation date, then each
# email is that text with its own values (``notifications.services.render_many``).
_REGISTERED_PLAIN = (
    "recipient.name",
    "recipient.email",
    "recipient.user_id",
    "candidate_number",
    "student_number",
)

# What a registration's email reads of an admission, its person and the person's login.
_LOGIN = ("id", "username", "first_name", "last_name", "email", "language")
_EMAIL_VALUES = (
    "id",
    "candidate_number",
    "admission_year",
    "major_name",
    "level",
    "learning_form",
    "reason",
    "retained_until",
    "state",
    "student_id",
    "student__name",
    *(f"student__user__{name}" for name in _LOGIN),
)


def cohort_registered(cohort: AdmissionCohort, decided: Decided) -> Mapping[str, Any]:
    """The record service of the review step's ``register`` decision: registers what is left
    of the locked cohort (normally nothing: ``cohort_register`` ran first) and closes its
    re-examination."""
    left = register_remaining(cohort, decided.acting_user)
    cohort.register(by=decided.acting_user, at=decided.at)
    return {
        "registered": left.registered,
        "refused": [error.as_dict() for error in left.errors],
    }


def state_counts(cohorts: Sequence[AdmissionCohort]) -> dict[int, dict[str, int]]:
    """Each cohort's admissions per state (every state, zeros included), in one query."""
    if not cohorts:
        return {}
    by_key = {(c.school_id, c.year): c.pk for c in cohorts}
    within = models.Q(pk__in=[])
    for school_id, year in by_key:
        within |= models.Q(school_id=school_id, admission_year=year)
    counts = {c.pk: dict.fromkeys(AdmissionState.values, 0) for c in cohorts}
    rows = (
        AdmissionRecord.objects.filter(within)
        .order_by()
        .values_list("school_id", "admission_year", "state")
        .annotate(n=models.Count("pk"))
    )
    for school_id, year, state, n in rows:
        counts[by_key[(school_id, year)]][state] = n
    return counts


def pending_counts(cohorts: Sequence[AdmissionCohort]) -> dict[int, int]:
    """Each cohort's cancellations waiting for a second officer."""
    rows = (
        AdmissionCancellation.objects.filter(
            cohort__in=[c.pk for c in cohorts], state__in=UNDECIDED_CANCELLATION_STATES
        )
        .order_by()
        .values_list("cohort_id")
        .annotate(n=models.Count("pk"))
    )
    found = dict(rows)
    return {c.pk: found.get(c.pk, 0) for c in cohorts}
