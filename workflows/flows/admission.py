"""Admission re-examination (入学复查) and registration of a school's freshmen of one year.

One process per cohort (``AdmissionCohort``: a school and an entry year), started when the
cohort's first admissions are imported (``records.admissions.signals.admissions_added``):

```
start ──▶ begin (Split) ──▶ review (View: the cohort, due three months after its entry
  │                     │     ▲       date; completed by registering the cohort)
  │                     │     │                 │
  │                     │     └── reopened (MessageCatch: admissions imported after the
  │                     │                      registration) ◀┘
  │                     └─▶ cancellation_requested (MessageCatch: an officer asks to cancel
  │                           an admission) ──▶ requested (Split) ──▶ confirm_cancellation
  │                                    ▲                (View: a second officer confirms or
  │                                    └──── (armed again) ◀┘ refuses) ──▶ end
```

The outcomes of single admissions (gave up, retained, a retained one's return) are record
transitions inside the cohort's review, written in chunks (``records.admissions.services``),
never a process per student; a cancellation request is the exception that needs a second
officer, so each is a task of ``confirm_cancellation`` in the work list. The process stays
open while the cohort may still receive cancellation requests (a retained admission may be
cancelled later); its re-examination ends when its ``review`` task is completed by the
registration, and begins again (``reopened``: a new ``review`` task, due on the cohort's
deadline, its officers told) when admissions are imported into the registered cohort.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any
from typing import cast

from django.db import DatabaseError
from django.db import models
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from permissions import codenames
from permissions.checks import scope
from records import glossary
from records.admissions import appeals
from records.admissions import notices as admission_notices
from records.admissions import services
from records.admissions.services import ItemResult
from records.admissions.services import OutcomeItem
from records.admissions.services import Registration
from records.admissions.signals import admissions_added
from records.choices import AdmissionOutcome
from records.choices import AdmissionState
from records.choices import AppealStage
from records.choices import CancellationState
from records.choices import CohortState
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import Province
from records.models import School
from records.models import User
from records.notices import page_url
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import AdmissionReviewProcess
from workflows.steps import Deadline
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration
from workflows.steps import Timing

logger = logging.getLogger(__name__)

FLOW_KEY = "admission_review"
# Days before the re-examination's deadline the school's officers are reminded.
REMIND_DAYS_BEFORE = (14, 3)
OUTCOMES_CHUNK = 50


def _school_of(process: Any) -> School:
    """The scope object of both steps, built from the id the process holds (see
    ``workflows.flows.correction._school_of``)."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _cancellation_is(state: str) -> Any:
    def condition(activation: Any) -> bool:
        cancellation = steps.remembered(activation.process, AdmissionCancellation)
        return bool(cancellation.state == state)

    return condition


def _appeal_is(stage: str) -> Any:
    def condition(activation: Any) -> bool:
        cancellation = steps.remembered(activation.process, AdmissionCancellation)
        return bool(cancellation.appeal == stage)

    return condition


class AdmissionReviewFlow(flow.Flow):
    """Re-examination and registration of a school's freshmen of one year; each cancellation
    requested meanwhile waits for a second officer of the school."""

    process_class = AdmissionReviewProcess
    process_title = _("Admission re-examination")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.begin)
    begin = flow.Split().Always(this.review).Always(this.cancellation_requested)
    review = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["review"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.reopened)
    )
    reopened = (
        flow.MessageCatch(this.on_reopened)
        .Annotation(title=_("Admissions imported after the registration"))
        .Next(this.review)
    )
    cancellation_requested = (
        flow.MessageCatch(this.on_cancellation_requested)
        .Annotation(title=_("A cancellation is requested"))
        .Next(this.requested)
    )
    requested = flow.Split().Always(this.confirm_cancellation).Always(this.cancellation_requested)
    confirm_cancellation = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["confirm_cancellation"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_confirmation)
    )
    # A confirmed cancellation is an adverse decision: its appeal period, one waiting task per
    # cancellation (``SubjectHandle``), run by the student's appeal or the window's end.
    after_confirmation = (
        flow.Switch()
        .Case(this.cancellation_window, _cancellation_is(CancellationState.IN_APPEAL))
        .Default(this.end)
    )
    cancellation_window = (
        nodes.SubjectHandle(this.do_cancellation_window)
        .Annotation(title=_("Appeal period"))
        .Next(this.after_cancellation_window)
    )
    after_cancellation_window = (
        flow.Switch()
        .Case(this.cancellation_school_appeal, _appeal_is(AppealStage.SCHOOL))
        .Case(this.cancellation_province_appeal, _appeal_is(AppealStage.PROVINCE))
        .Default(this.end)
    )
    cancellation_school_appeal = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["school_appeal"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_cancellation_school_appeal)
    )
    after_cancellation_school_appeal = (
        flow.Switch()
        .Case(this.cancellation_window, _appeal_is(AppealStage.PROVINCE_WINDOW))
        .Default(this.end)
    )
    cancellation_province_appeal = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["province_appeal"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, cohort: AdmissionCohort) -> Any:
        process = activation.process
        process.cohort = cohort
        process.school_id = cohort.school_id
        process.province_id = cohort.province_id
        steps.remember_subject(process, cohort)  # the review's work item reads it
        return process

    def on_reopened(self, activation: Any, *, cohort: AdmissionCohort) -> AdmissionCohort:
        """The cohort, reopened, is the subject of the ``review`` task opened next."""
        steps.remember_subject(activation.process, cohort)
        return cohort

    def do_cancellation_window(self, activation: Any, *, act: Any) -> Any:
        """Run the student's appeal or the window's end inside the task's lock and
        transaction; the cancellation it returns is the next nodes' subject."""
        cancellation = act()
        steps.remember_subject(activation.process, cancellation)
        return cancellation

    def on_cancellation_requested(
        self, activation: Any, *, cancellation: AdmissionCancellation
    ) -> AdmissionCancellation:
        """The request becomes the subject of the ``confirm_cancellation`` task opened next."""
        steps.remember_subject(activation.process, cancellation)
        return cancellation


# --- the human steps ------------------------------------------------------------------------


def _cohort_deadline(cohort: AdmissionCohort) -> Deadline:
    due = cohort.deadline
    return Deadline(due, tuple(due - datetime.timedelta(days=days) for days in REMIND_DAYS_BEFORE))


def _cohort_timing_context(cohort: AdmissionCohort) -> dict[str, Any]:
    return admission_notices.cohort_context(cohort, services.unexamined(cohort))


REVIEW = HumanStep(
    key="review",
    label=glossary.STEPS["review"],
    node=AdmissionReviewFlow.review,
    scope="school",
    due_days=0,  # its own deadline: ``timing``
    timing=Timing(
        deadline=_cohort_deadline,
        remind_event="admission_review_due_soon",
        overdue_event="admission_review_overdue",
        context=_cohort_timing_context,
        # Escalated only with admissions still admitted and unexamined.
        escalate_if=lambda cohort: services.unexamined(cohort) > 0,
    ),
    assignees=admission_notices.cohort_officers,
    subject_model=AdmissionCohort,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(CohortState.REVIEWING,),
    requester_field=None,
    related=("school",),
    choices=(
        Choice(
            glossary.REGISTER,
            glossary.ADMISSION_DECISIONS[glossary.REGISTER],
            services.cohort_registered,
            Outcome("registered", "cohort.registered"),
        ),
    ),
)

CONFIRM_CANCELLATION = HumanStep(
    key="confirm_cancellation",
    label=glossary.STEPS["confirm_cancellation"],
    node=AdmissionReviewFlow.confirm_cancellation,
    scope="school",
    due_days=5,
    assignees=admission_notices.cancellation_officers,
    subject_of=lambda activation: steps.remembered(activation.process, AdmissionCancellation),
    subject_label=glossary.CANCELLATION_SUMMARY,
    subject_model=AdmissionCancellation,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(CancellationState.PENDING,),
    requester_field="requester_id",  # the officer who asked never confirms
    related=("admission__student__user", "admission__school", "school", "requester"),
    lock_related=("admission",),
    notice_context=lambda cancellation: {
        **admission_notices.cancellation_context(cancellation),
        **admission_notices.adverse_context(cancellation),
    },
    # Confirming issues the written decision (an adverse decision): mailed with the appeal
    # route; the admission is cancelled when its appeal period ends.
    outcomes=(
        Outcome(
            "decision_issued",
            "admission.cancellation_decision_issued",
            Notice("adverse_decision_issued", admission_notices.cancellation_student_and_requester),
        ),
    ),
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.ADMISSION_DECISIONS[glossary.CONFIRM],
            services.cancellation_confirm,
            Outcome("confirmed", "admission.cancellation_confirmed"),
        ),
        Choice(
            glossary.REFUSE,
            glossary.ADMISSION_DECISIONS[glossary.REFUSE],
            services.cancellation_refuse,
            Outcome(
                "refused",
                "admission.cancellation_refused",
                Notice("admission_cancellation_refused", admission_notices.cancellation_requester),
            ),
            needs_comment=True,
        ),
    ),
)


# The committee's and the province's decisions on an appeal: on the cancellation, as the
# confirmation is; the officer who asked never decides its appeal.
_APPEAL_SUBJECT: dict[str, Any] = {
    "subject_of": lambda activation: steps.remembered(activation.process, AdmissionCancellation),
    "subject_label": glossary.CANCELLATION_SUMMARY,
    "subject_model": AdmissionCancellation,
    "waits_in": (CancellationState.IN_APPEAL,),
    "requester_field": "requester_id",
    "related": appeals.RELATED,
    "lock_related": ("admission",),
    "notice_context": admission_notices.adverse_context,
}
_OVERTURNED = Outcome(
    "overturned",
    "admission.cancellation_overturned",
    Notice("adverse_overturned", admission_notices.cancellation_student_and_requester),
)

CANCELLATION_SCHOOL_APPEAL = HumanStep(
    key="cancellation_school_appeal",
    label=glossary.STEPS["school_appeal"],
    node=AdmissionReviewFlow.cancellation_school_appeal,
    scope="school",
    due_days=10,
    assignees=admission_notices.cancellation_officers,
    perm=codenames.REVIEW_SCHOOL,
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            appeals.school_uphold,
            Outcome(
                "appeal_upheld",
                "admission.cancellation_appeal_upheld",
                Notice(
                    "adverse_appeal_upheld", admission_notices.cancellation_student_and_requester
                ),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            appeals.school_cancel,
            _OVERTURNED,
            needs_comment=True,
        ),
    ),
    **_APPEAL_SUBJECT,
)

CANCELLATION_PROVINCE_APPEAL = HumanStep(
    key="cancellation_province_appeal",
    label=glossary.STEPS["province_appeal"],
    node=AdmissionReviewFlow.cancellation_province_appeal,
    scope="province",
    due_days=30,
    assignees=admission_notices.cancellation_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            appeals.province_uphold,
            Outcome(
                "took_effect",
                "admission.cancellation_took_effect",
                Notice(
                    "adverse_decision_effective",
                    admission_notices.cancellation_student_and_requester,
                ),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            appeals.province_cancel,
            _OVERTURNED,
            needs_comment=True,
        ),
    ),
    **_APPEAL_SUBJECT,
)


def _facts(subject: AdmissionCohort | AdmissionCancellation) -> Facts:
    if isinstance(subject, AdmissionCohort):
        return Facts(
            student_name="",
            school_id=subject.school_id,
            province_id=subject.province_id,
            reference=str(subject.year),
            summary=(f"cohort:{subject.year}",),
        )
    cancellation = cast(AdmissionCancellation, subject)
    admission = cancellation.admission
    return Facts(
        student_name=admission.student.name,
        school_id=subject.school_id,
        province_id=subject.province_id,
        reference=admission.candidate_number,
        requester_id=cancellation.requester_id,
        summary=("cancellation",),
    )


def _summary_label(key: str) -> Any:
    if key.startswith("cohort:"):
        return glossary.COHORT_SUMMARY % {"year": key.removeprefix("cohort:")}
    return glossary.CANCELLATION_SUMMARY


def _panel(subject: AdmissionCohort | AdmissionCancellation, user: User) -> dict[str, Any]:
    """The task page's panel: a cohort's counts, or the admission a cancellation is about
    (never its ID number: the name, candidate number and programme identify it)."""
    if isinstance(subject, AdmissionCohort):
        return {
            "cohort": subject,
            "counts": [
                (AdmissionState(state).label, n)
                for state, n in services.state_counts([subject])[subject.pk].items()
            ],
            "pending": services.pending_counts([subject])[subject.pk],
            "unexamined": services.unexamined(subject),
        }
    cancellation = cast(AdmissionCancellation, subject)
    return {"cancellation": cancellation, "admission": cancellation.admission}


def _reviews_url(subject: AdmissionCohort | AdmissionCancellation) -> str:
    """Where an email about a task of the cohort leads: the cohort's page (its counts, its
    pending cancellations, its registration), or its row of the reviews' API where the web
    pages are not mounted."""
    cohort = (
        subject
        if isinstance(subject, AdmissionCohort)
        else cast(AdmissionCancellation, subject).cohort
    )
    return page_url(
        "admissions:cohort",
        {"pk": cohort.pk},
        f"/api/v1/admission-reviews/?school={cohort.school_id}&year={cohort.year}",
    )


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=AdmissionReviewFlow,
        process_model=AdmissionReviewProcess,
        subject_field="cohort",
        describe=_facts,
        summary_label=_summary_label,
        panel_template="workflows/admissions/_task_panel.html",
        panel_context=_panel,
        subject_url=_reviews_url,
        steps=(
            REVIEW,
            CONFIRM_CANCELLATION,
            CANCELLATION_SCHOOL_APPEAL,
            CANCELLATION_PROVINCE_APPEAL,
        ),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def review_open(*, school_id: str, year: int) -> AdmissionCohort:
    """The cohort of a school's admissions of a year with its review running: the cohort
    and its process are created together if new (under the cohort's row lock, so two
    imports finishing at once start one process); a registered cohort with admissions
    unexamined (imported after its registration) is reopened (``_reopen``). Locks the
    process first, then the cohort, the order of every path."""
    with transaction.atomic():
        cohort, _created = services.cohort_open(school_id=school_id, year=year)
        process = (
            AdmissionReviewProcess.objects.select_for_update().filter(cohort_id=cohort.pk).first()
        )
        locked: AdmissionCohort = (
            AdmissionCohort.objects.select_for_update(of=("self",))
            .select_related("school")
            .get(pk=cohort.pk)
        )
        if process is None:
            if not AdmissionReviewProcess.objects.filter(cohort=locked).exists():
                AdmissionReviewFlow.start.run(cohort=locked)
        elif locked.state == CohortState.REGISTERED and services.unexamined(locked) > 0:
            _reopen(process, locked)
    return locked


def _reopen(process: AdmissionReviewProcess, cohort: AdmissionCohort) -> None:
    """Admissions came into the registered ``cohort`` (both locked): the process's
    ``reopened`` catch, waiting since the registration, opens a new ``review`` task (its work
    item due on the cohort's deadline, reminded and escalated as the first), and the cohort
    goes back under re-examination with its officers told where the task is
    (``records.admissions.services.cohort_reopen``)."""
    task = Task.objects.get(
        process_id=process.pk, flow_task=AdmissionReviewFlow.reopened, status=STATUS.NEW
    )
    AdmissionReviewFlow.reopened.run(task, cohort=cohort)
    item = work.open_item_of(FLOW_KEY, cohort.pk, step=REVIEW.key)
    assert item is not None  # noqa: S101  (opened just now by the review's node)
    services.cohort_reopen(cohort=cohort, url=work.task_url(item))


@receiver(admissions_added, dispatch_uid="workflows.admission.open_reviews")
def _open_reviews(sender: Any, *, cohorts: Sequence[tuple[str, int]], **kwargs: Any) -> None:
    for school_id, year in cohorts:
        review_open(school_id=school_id, year=int(year))


def visible_reviews(user: User) -> models.QuerySet[AdmissionCohort]:
    """The cohorts ``user`` may see, the newest year first."""
    return scope(user, codenames.VIEW, AdmissionCohort.objects.select_related("school")).order_by(
        "-year", "school_id", "pk"
    )


def outcomes_record(*, items: Sequence[OutcomeItem], user: User) -> list[ItemResult]:
    """Record many outcomes (at most ``services.OUTCOMES_MAX``); results in the order given,
    each admission once (a repeat is refused).

    Chunks of ``OUTCOMES_CHUNK`` items, one transaction each, written together
    (``records.admissions.services.outcomes_record``); each cancellation request of a chunk
    then opens its ``confirm_cancellation`` task in its cohort's process, whose row is locked
    first (the order of every path: process, cohort, admissions). A chunk that cannot be
    taken whole (a process locked by someone else, an error) is rolled back and its items
    recorded one at a time, each answering for itself."""
    results: dict[int, ItemResult] = {}
    first: dict[int, int] = {}
    todo: list[tuple[int, OutcomeItem]] = []
    for index, item in enumerate(items):
        if item.admission in first:
            results[index] = services.refused(
                item.admission, ConflictError(str(services.REPEATED), code="repeated")
            )
        else:
            first[item.admission] = index
            todo.append((index, item))
    _open_reviews_of(user, [item for _index, item in todo])
    for start in range(0, len(todo), OUTCOMES_CHUNK):
        chunk = todo[start : start + OUTCOMES_CHUNK]
        try:
            done = _outcomes_chunk([item for _index, item in chunk], user)
        except (ConflictError, DatabaseError, FlowLockFailed):
            done = [_outcome_one(item, user) for _index, item in chunk]
        for (index, _item), result in zip(chunk, done, strict=True):
            results[index] = result
    return [results[index] for index in range(len(items))]


def _open_reviews_of(user: User, items: Sequence[OutcomeItem]) -> None:
    """The reviews of the cohorts the caller's cancellation requests go to (a cohort whose
    admissions were written without the import's signal is opened here)."""
    cancelled = [i.admission for i in items if i.outcome == AdmissionOutcome.CANCELLED]
    if not cancelled:
        return
    pairs = (
        scope(user, codenames.REVIEW_SCHOOL, AdmissionRecord.objects.filter(pk__in=cancelled))
        .order_by()
        .values_list("school_id", "admission_year")
        .distinct()
    )
    for school_id, year in sorted(set(pairs)):
        if not AdmissionReviewProcess.objects.filter(
            cohort__school_id=school_id, cohort__year=year
        ).exists():
            review_open(school_id=school_id, year=year)


def _outcome_one(item: OutcomeItem, user: User) -> ItemResult:
    try:
        return _outcomes_chunk([item], user)[0]
    except (ConflictError, FlowLockFailed) as exc:
        busy = ConflictError(str(work.BUSY), code="busy")
        return services.refused(item.admission, exc if isinstance(exc, ConflictError) else busy)
    except DatabaseError:
        logger.exception("admission outcome of %s failed", item.admission)
        return services.refused(item.admission, ConflictError(str(work.BUSY), code="busy"))


def _outcomes_chunk(chunk: Sequence[OutcomeItem], user: User) -> list[ItemResult]:
    cancelled = [i.admission for i in chunk if i.outcome == AdmissionOutcome.CANCELLED]
    with work.flow_contention(), transaction.atomic():
        processes: dict[int, AdmissionReviewProcess] = {}
        if cancelled:
            cohorts = list(
                AdmissionCohort.objects.filter(
                    _cohorts_of(AdmissionRecord.objects.filter(pk__in=cancelled))
                ).values_list("pk", flat=True)
            )
            processes = {
                p.cohort_id: p
                for p in AdmissionReviewProcess.objects.select_for_update()
                .filter(cohort_id__in=cohorts)
                .order_by("pk")
            }
        results = services.outcomes_record(items=chunk, acting_user=user)
        for result in results:
            if result.cancellation is not None:
                _request_confirmation(processes[result.cancellation.cohort_id], result.cancellation)
    return results


def _cohorts_of(admissions: models.QuerySet[AdmissionRecord]) -> models.Q:
    condition = models.Q(pk__in=[])
    for school_id, year in set(admissions.values_list("school_id", "admission_year")):
        condition |= models.Q(school_id=school_id, year=year)
    return condition


def _request_confirmation(
    process: AdmissionReviewProcess, cancellation: AdmissionCancellation
) -> None:
    """The cancellation's ``confirm_cancellation`` task, opened by the process's waiting
    catch (which is armed again for the next request)."""
    task = Task.objects.get(
        process_id=process.pk,
        flow_task=AdmissionReviewFlow.cancellation_requested,
        status=STATUS.NEW,
    )
    AdmissionReviewFlow.cancellation_requested.run(task, cancellation=cancellation)


def cohort_register(*, cohort: AdmissionCohort, user: User) -> Registration:
    """Register the cohort (``records.admissions.services.cohort_register``: chunks, one
    transaction each), then complete its ``review`` task, which ends its re-examination (a
    reopened cohort's too). A registered cohort has no open task: anything admitted left in
    it (an admission refused before, now unblocked) is registered all the same."""
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=user)
    item = work.open_item_of(FLOW_KEY, cohort.pk, step=REVIEW.key)
    if item is not None:
        try:
            work.decide(task_pk=item.pk, user=user, decision=glossary.REGISTER)
        except ConflictError as exc:
            if exc.code != "already_decided":  # two officers registering at once
                raise
    return result


# --- a cancellation's appeal period ---------------------------------------------------------


def _window_task(cancellation: AdmissionCancellation) -> Task | None:
    process = AdmissionReviewProcess.objects.filter(cohort_id=cancellation.cohort_id).first()
    if process is None:
        return None
    return nodes.waiting_task(process.pk, AdmissionReviewFlow.cancellation_window, cancellation.pk)


def cancellation_appeal(
    *, cancellation: AdmissionCancellation, reason: str, user: User
) -> AdmissionCancellation:
    """The student appeals a confirmed cancellation in its window: the flow opens the
    school committee's step (or, after the committee upheld it, the province's)."""
    task = _window_task(cancellation)
    if task is None:  # not in a window: the service says why
        return appeals.cancellation_appeal(
            cancellation=cancellation, reason=reason, acting_user=user
        )

    def act() -> AdmissionCancellation:
        return appeals.cancellation_appeal(
            cancellation=cancellation, reason=reason, acting_user=user
        )

    with work.flow_contention():
        result: AdmissionCancellation = AdmissionReviewFlow.cancellation_window.run(task, act=act)
    return result


def cancellation_windows_close(*, today: datetime.date | None = None) -> int:
    """Cancel the admissions whose cancellation's appeal window ended before ``today`` with
    no appeal (with the status changes' windows, beat's
    ``workflows.tasks.status_change_appeal_windows``); one transaction each. How many."""
    today = today or timezone.localdate()
    ended = AdmissionCancellation.objects.filter(
        state=CancellationState.IN_APPEAL,
        appeal__in=(AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW),
        appeal_deadline__lt=today,
    ).order_by("pk")
    closed = 0
    for cancellation in ended:
        task = _window_task(cancellation)
        if task is None:
            continue

        def act(cancellation: AdmissionCancellation = cancellation) -> AdmissionCancellation:
            return appeals.cancellation_window_close(cancellation=cancellation, today=today)

        try:
            with work.flow_contention():
                AdmissionReviewFlow.cancellation_window.run(task, act=act)
            closed += 1
        except ConflictError:
            continue  # appealed or busy meanwhile: seen again on the next run if still due
        except Exception:
            logger.exception("appeal window of cancellation %s: not closed", cancellation.pk)
    return closed
