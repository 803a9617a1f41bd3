"""Academic-year registration (学年注册) of a school's enrolled students, one academic year at a
time (DOMAIN.md §2.2).

One process per round (``YearRegistrationRound``: a school and an academic year), opened when
the school's window opens (``rounds_open_due``, run by Celery beat and by ``manage.py
open_year_registrations``) or by an officer:

```
start ──▶ registration (View: the round, due at the end of its window; reminded 7 and 2 days
                        before; completed by registering everyone enrolled) ──▶ end
```

The outcomes of single students (a deferral with its reason, the later registration of a
deferred student) are record transitions inside the round, written together
(``records.years.services``), never a process per student. Past the deadline with students
neither registered nor deferred, the province's administrators are told; the officers see
those students on the round's page and in ``/api/v1/year-registrations/{id}/students/``.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records import glossary
from records.choices import StatusState
from records.choices import YearRoundState
from records.decisions import Choice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.models import YearRegistrationRound
from records.notices import page_url
from records.years import notices as year_notices
from records.years import services
from records.years.window import label
from records.years.window import window_of
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import YearRegistrationProcess
from workflows.steps import Deadline
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration
from workflows.steps import Timing

logger = logging.getLogger(__name__)

FLOW_KEY = "year_registration"
# Days before the end of the window the school's officers are reminded.
REMIND_DAYS_BEFORE = (7, 2)


def _school_of(process: Any) -> School:
    """The step's scope object, built from the id the process holds (see
    ``workflows.flows.correction._school_of``)."""
    return School(pk=process.coerced.school_id)


class YearRegistrationFlow(flow.Flow):
    """Registration of a school's enrolled students for one academic year."""

    process_class = YearRegistrationProcess
    process_title = _("Academic-year registration")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.registration)
    registration = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["registration"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, year_round: YearRegistrationRound) -> Any:
        process = activation.process
        process.round = year_round
        process.school_id = year_round.school_id
        process.province_id = year_round.province_id
        steps.remember_subject(process, year_round)  # the task's work item reads it
        return process


# --- the human step -------------------------------------------------------------------------


def _round_deadline(year_round: YearRegistrationRound) -> Deadline:
    due = year_round.deadline
    return Deadline(due, tuple(due - datetime.timedelta(days=days) for days in REMIND_DAYS_BEFORE))


def _round_timing_context(year_round: YearRegistrationRound) -> dict[str, Any]:
    return year_notices.round_context(year_round, services.unregistered_count(year_round))


REGISTRATION = HumanStep(
    key="registration",
    label=glossary.STEPS["registration"],
    node=YearRegistrationFlow.registration,
    scope="school",
    due_days=0,  # its own deadline: ``timing``
    timing=Timing(
        deadline=_round_deadline,
        remind_event="year_registration_due_soon",
        overdue_event="year_registration_overdue",
        context=_round_timing_context,
        # Escalated only with students still neither registered nor deferred.
        escalate_if=lambda year_round: services.unregistered_count(year_round) > 0,
    ),
    assignees=year_notices.round_officers,
    subject_model=YearRegistrationRound,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(YearRoundState.OPEN,),
    requester_field=None,
    related=("school",),
    choices=(
        Choice(
            glossary.REGISTER,
            glossary.YEAR_DECISIONS[glossary.REGISTER],
            services.round_completed,
            Outcome("completed", "year_round.completed"),
        ),
    ),
)


def _facts(year_round: YearRegistrationRound) -> Facts:
    return Facts(
        student_name="",
        school_id=year_round.school_id,
        province_id=year_round.province_id,
        reference=str(year_round.academic_year),
        summary=(f"year:{year_round.academic_year}",),
    )


def _summary_label(key: str) -> Any:
    return glossary.YEAR_SUMMARY % {"year": label(int(key.removeprefix("year:")))}


def _panel(year_round: YearRegistrationRound, user: User) -> dict[str, Any]:
    """The task page's panel: the round's window and counts."""
    return {"round": year_round, "unregistered": services.unregistered_count(year_round)}


def round_url(year_round: YearRegistrationRound) -> str:
    """Where an email about the round leads: the round's page, or its row of the API where
    the web pages are not mounted."""
    return page_url(
        "years:round", {"pk": year_round.pk}, f"/api/v1/year-registrations/{year_round.pk}/"
    )


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=YearRegistrationFlow,
        process_model=YearRegistrationProcess,
        subject_field="round",
        describe=_facts,
        summary_label=_summary_label,
        panel_template="workflows/years/_task_panel.html",
        panel_context=_panel,
        subject_url=round_url,
        steps=(REGISTRATION,),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def round_open(*, school_id: str, academic_year: int) -> YearRegistrationRound:
    """The school's round of ``academic_year`` with its process running: the round and its
    process are created together if new (under the round's row lock, so two openings at
    once start one process)."""
    with transaction.atomic():
        opened, _created = services.round_open(school_id=school_id, academic_year=academic_year)
        locked: YearRegistrationRound = (
            YearRegistrationRound.objects.select_for_update(of=("self",))
            .select_related("school")
            .get(pk=opened.pk)
        )
        if not YearRegistrationProcess.objects.filter(round=locked).exists():
            YearRegistrationFlow.start.run(year_round=locked)
    return locked


def may_open(user: User, school: School) -> bool:
    """Whether ``user`` acts for ``school`` (opens its rounds, registers its students)."""
    return may(user, codenames.REVIEW_SCHOOL, school)


def round_open_for(*, school: School, academic_year: int, user: User) -> YearRegistrationRound:
    """An officer opens their school's round (before its window opens, or a year the beat
    did not open): 404 for a school they may not see, 403 without the review grant."""
    services.check_officer(school, user)
    return round_open(school_id=school.pk, academic_year=academic_year)


def current_year(school: School, today: datetime.date) -> int | None:
    """The academic year whose window has opened at ``school`` by ``today`` this calendar
    year, else ``None`` (before the opening day, last year's round is the current one)."""
    dates = window_of(
        entry_day=school.entry_day,
        opens=school.year_registration_opens,
        closes=school.year_registration_closes,
        academic_year=today.year,
    )
    return today.year if today >= dates.opens else None


def rounds_open_due(*, today: datetime.date | None = None) -> list[YearRegistrationRound]:
    """Open the round of every school whose window has opened this calendar year and that
    has students to register (enrolled, entered before the academic year), one transaction
    each: what Celery beat runs daily. Idempotent; a school whose round is open already is
    skipped by one query."""
    today = today or timezone.localdate()
    opened_already = YearRegistrationRound.objects.filter(academic_year=today.year).values(
        "school_id"
    )
    candidates = (
        School.objects.filter(
            models.Exists(
                StudentStatus.objects.filter(
                    school=models.OuterRef("pk"), state=StatusState.ENROLLED
                )
            )
        )
        .exclude(pk__in=opened_already)
        .order_by("code")
    )
    opened = []
    for school in candidates:
        year = current_year(school, today)
        if year is None:
            continue
        starts = window_of(
            entry_day=school.entry_day,
            opens=school.year_registration_opens,
            closes=school.year_registration_closes,
            academic_year=year,
        ).starts
        if not StudentStatus.objects.filter(
            school=school, state=StatusState.ENROLLED, entry_date__lt=starts
        ).exists():
            continue  # only freshmen: the cohort's registration covers them
        try:
            opened.append(round_open(school_id=school.pk, academic_year=year))
        except Exception:
            logger.exception("year registration: the round of %s failed to open", school.pk)
    return opened


def visible_rounds(user: User) -> models.QuerySet[YearRegistrationRound]:
    """The rounds ``user`` may see, the newest academic year first."""
    return scope(
        user, codenames.VIEW, YearRegistrationRound.objects.select_related("school")
    ).order_by("-academic_year", "school_id", "pk")


def register_all(*, year_round: YearRegistrationRound, user: User) -> int:
    """Register everyone enrolled in the round (``records.years.services.register_all``:
    chunks, one transaction each), then complete its ``registration`` task, which ends its
    deadline. A round completed before (a student enrolled again since) has no open task:
    its students are registered all the same. How many were registered."""
    registered = services.register_all(round_pk=year_round.pk, acting_user=user)
    item = work.open_item_of(FLOW_KEY, year_round.pk, step=REGISTRATION.key)
    if item is not None:
        try:
            work.decide(task_pk=item.pk, user=user, decision=glossary.REGISTER)
        except ConflictError as exc:
            if exc.code != "already_decided":  # two officers registering at once
                raise
    return registered
