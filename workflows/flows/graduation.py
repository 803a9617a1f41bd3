"""Qualification registration (学历注册) of a school's graduates of one graduation date, with
the photo gate (DOMAIN.md §2.4, §4 items 3–5, 15).

One process per graduating cohort (``GraduationCohort``), started when an officer opens the
cohort:

```
start ──▶ begin (Split) ──▶ register_graduates (View: the cohort, due on its graduation
  │                │          date; completed by registering the cohort) ──▶ end
  │                └─▶ recheck_filed (MessageCatch: the school files a re-check of a graduate
  │                      held by the photo comparison) ──▶ filed (Split) ──▶ recheck_approval
  │                             ▲             (View: the province approves or refuses) ──▶ end
  │                             └──── (armed again) ◀┘
```

The drafts (毕业, 结业, or not graduating), their certificate numbers and photo comparisons
are record writes inside the cohort (``records.graduation.services``), never a process per
graduate; a re-check is the exception the province must approve, so each is a task of
``recheck_approval`` in the province's work list. The process stays open while re-checks may
come; the cohort's registration ends its ``register_graduates`` task, and registering again
(a released graduate) needs no task.
"""

from __future__ import annotations

import datetime
from typing import Any
from typing import cast

from django.db import models
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records import glossary
from records.choices import GraduationCohortState
from records.choices import RecheckState
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.graduation import notices as graduation_notices
from records.graduation import services
from records.graduation.services import Registration
from records.models import GraduationCohort
from records.models import PhotoRecheck
from records.models import Province
from records.models import Qualification
from records.models import School
from records.models import User
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import QualificationRegistrationProcess
from workflows.steps import Deadline
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration
from workflows.steps import Timing

FLOW_KEY = "qualification_registration"
# Days before the graduation date the school's officers are reminded.
REMIND_DAYS_BEFORE = (7, 2)


def _school_of(process: Any) -> School:
    """The scope object of the school's step, built from the id the process holds (see
    ``workflows.flows.correction._school_of``)."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


class QualificationRegistrationFlow(flow.Flow):
    """Registration of a school's graduates of one graduation date; each identity re-check
    filed meanwhile waits for the province."""

    process_class = QualificationRegistrationProcess
    process_title = _("Qualification registration")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.begin)
    begin = flow.Split().Always(this.register_graduates).Always(this.recheck_filed)
    register_graduates = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["register_graduates"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.end)
    )
    recheck_filed = (
        flow.MessageCatch(this.on_recheck_filed)
        .Annotation(title=_("An identity re-check is filed"))
        .Next(this.filed)
    )
    filed = flow.Split().Always(this.recheck_approval).Always(this.recheck_filed)
    recheck_approval = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["recheck_approval"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, cohort: GraduationCohort) -> Any:
        process = activation.process
        process.cohort = cohort
        process.school_id = cohort.school_id
        process.province_id = cohort.province_id
        steps.remember_subject(process, cohort)  # the registration's work item reads it
        return process

    def on_recheck_filed(self, activation: Any, *, recheck: PhotoRecheck) -> PhotoRecheck:
        """The re-check becomes the subject of the ``recheck_approval`` task opened next."""
        steps.remember_subject(activation.process, recheck)
        return recheck


# --- the human steps ------------------------------------------------------------------------


def _cohort_deadline(cohort: GraduationCohort) -> Deadline:
    due = cohort.deadline
    return Deadline(due, tuple(due - datetime.timedelta(days=days) for days in REMIND_DAYS_BEFORE))


REGISTER_GRADUATES = HumanStep(
    key="register_graduates",
    label=glossary.STEPS["register_graduates"],
    node=QualificationRegistrationFlow.register_graduates,
    scope="school",
    due_days=0,  # its own deadline: the graduation date (即时注册)
    timing=Timing(
        deadline=_cohort_deadline,
        remind_event="task_due_soon",
        overdue_event="task_overdue",
        # Escalated only with drafts still unregistered.
        escalate_if=lambda cohort: services.drafts(cohort).exists(),
    ),
    assignees=graduation_notices.cohort_officers,
    subject_model=GraduationCohort,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(GraduationCohortState.PREPARING,),
    requester_field=None,
    related=("school",),
    choices=(
        Choice(
            glossary.REGISTER,
            glossary.GRADUATION_DECISIONS[glossary.REGISTER],
            services.cohort_registered,
            Outcome("registered", "graduation.cohort_registered"),
        ),
    ),
)

RECHECK_APPROVAL = HumanStep(
    key="recheck_approval",
    label=glossary.STEPS["recheck_approval"],
    node=QualificationRegistrationFlow.recheck_approval,
    scope="province",
    due_days=5,
    assignees=graduation_notices.recheck_admins,
    subject_of=lambda activation: steps.remembered(activation.process, PhotoRecheck),
    subject_label=glossary.RECHECK_SUMMARY,
    subject_model=PhotoRecheck,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(RecheckState.PENDING,),
    requester_field="requester_id",
    related=services.RECHECK_RELATED,
    notice_context=graduation_notices.recheck_context,
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.GRADUATION_DECISIONS[glossary.APPROVE],
            services.recheck_approve,
            Outcome(
                "approved",
                "graduation.recheck_approved",
                Notice("graduation_recheck_approved", graduation_notices.recheck_requester),
            ),
        ),
        Choice(
            glossary.REFUSE,
            glossary.GRADUATION_DECISIONS[glossary.REFUSE],
            services.recheck_refuse,
            Outcome(
                "refused",
                "graduation.recheck_refused",
                Notice("graduation_recheck_refused", graduation_notices.recheck_requester),
            ),
            needs_comment=True,
        ),
    ),
)


def _facts(subject: GraduationCohort | PhotoRecheck) -> Facts:
    if isinstance(subject, GraduationCohort):
        return Facts(
            student_name="",
            school_id=subject.school_id,
            province_id=subject.province_id,
            reference=subject.graduation_date.isoformat(),
            summary=(f"graduates:{subject.graduation_date.isoformat()}",),
        )
    recheck = cast(PhotoRecheck, subject)
    qualification = recheck.qualification
    return Facts(
        student_name=qualification.name if qualification is not None else "",
        school_id=recheck.school_id,
        province_id=recheck.province_id,
        reference=qualification.certificate_number if qualification is not None else "",
        requester_id=recheck.requester_id,
        summary=("recheck",),
    )


def _summary_label(key: str) -> Any:
    if key.startswith("graduates:"):
        return glossary.GRADUATION_SUMMARY % {"date": key.removeprefix("graduates:")}
    return glossary.RECHECK_SUMMARY


def _panel(subject: GraduationCohort | PhotoRecheck, user: User) -> dict[str, Any]:
    """The task page's panel: a cohort's counts, or the graduate a re-check is about (never
    the ID number: the name, student number, programme and the school's finding)."""
    if isinstance(subject, GraduationCohort):
        return {"cohort": subject, "counts": services.counts(subject)}
    recheck = cast(PhotoRecheck, subject)
    return {"recheck": recheck, "qualification": recheck.qualification}


def _cohort_url(subject: GraduationCohort | PhotoRecheck) -> str:
    cohort = (
        subject if isinstance(subject, GraduationCohort) else cast(PhotoRecheck, subject).cohort
    )
    return graduation_notices.cohort_url(cohort)


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=QualificationRegistrationFlow,
        process_model=QualificationRegistrationProcess,
        subject_field="cohort",
        describe=_facts,
        summary_label=_summary_label,
        panel_template="workflows/graduation/_task_panel.html",
        panel_context=_panel,
        subject_url=_cohort_url,
        steps=(REGISTER_GRADUATES, RECHECK_APPROVAL),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def cohort_open(
    *,
    school: School,
    graduation_date: datetime.date,
    principal_name: str,
    user: User | None,
    education_type: str = "",
) -> tuple[GraduationCohort, bool]:
    """The school's cohort of ``graduation_date`` with its process running (the cohort and
    its process created together, under the cohort's row lock); whether it is new."""
    with transaction.atomic():
        cohort, created = services.cohort_open(
            school=school,
            graduation_date=graduation_date,
            principal_name=principal_name,
            acting_user=user,
            education_type=education_type,
        )
        locked: GraduationCohort = (
            GraduationCohort.objects.select_for_update(of=("self",))
            .select_related("school")
            .get(pk=cohort.pk)
        )
        if not QualificationRegistrationProcess.objects.filter(cohort=locked).exists():
            QualificationRegistrationFlow.start.run(cohort=locked)
    return locked, created


def may_act(user: User, school: School) -> bool:
    """Whether ``user`` acts for ``school`` (opens its cohorts, registers its graduates)."""
    return may(user, codenames.REVIEW_SCHOOL, school)


def visible_cohorts(user: User) -> models.QuerySet[GraduationCohort]:
    """The cohorts ``user`` may see, the latest graduation date first."""
    return scope(user, codenames.VIEW, GraduationCohort.objects.select_related("school")).order_by(
        "-graduation_date", "school_id", "pk"
    )


def cohort_register(*, cohort: GraduationCohort, user: User) -> Registration:
    """Register the cohort (``records.graduation.services.cohort_register``: chunks, one
    transaction each), then complete its ``register_graduates`` task. A registered cohort
    has no open task: a graduate released since is registered all the same."""
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=user)
    item = work.open_item_of(FLOW_KEY, cohort.pk, step=REGISTER_GRADUATES.key)
    if item is not None:
        try:
            work.decide(task_pk=item.pk, user=user, decision=glossary.REGISTER)
        except ConflictError as exc:
            if exc.code != "already_decided":  # two officers registering at once
                raise
    return result


def recheck_file(*, qualification_pk: int, finding: str, user: User) -> PhotoRecheck:
    """The school files its re-check of a held graduate: the record written
    (``records.graduation.services.recheck_file``) and the province's ``recheck_approval``
    task opened by the process's waiting catch, in one transaction, the process locked
    first (the order of every path: process, then records)."""
    with work.flow_contention(), transaction.atomic():
        cohort_id = (
            Qualification.objects.filter(pk=qualification_pk)
            .values_list("cohort_id", flat=True)
            .first()
        )
        process = (
            QualificationRegistrationProcess.objects.select_for_update()
            .filter(cohort_id=cohort_id)
            .first()
            if cohort_id is not None
            else None
        )
        recheck = services.recheck_file(
            qualification_pk=qualification_pk, finding=finding, acting_user=user
        )
        if process is None:  # a cohort opened by the records' service alone (a command)
            process = _start(recheck.cohort)
        task = Task.objects.get(
            process_id=process.pk,
            flow_task=QualificationRegistrationFlow.recheck_filed,
            status=STATUS.NEW,
        )
        QualificationRegistrationFlow.recheck_filed.run(task, recheck=recheck)
    return recheck


def _start(cohort: GraduationCohort) -> QualificationRegistrationProcess:
    QualificationRegistrationFlow.start.run(cohort=cohort)
    process: QualificationRegistrationProcess = (
        QualificationRegistrationProcess.objects.select_for_update().get(cohort=cohort)
    )
    return process
