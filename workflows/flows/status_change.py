"""Student status changes (学籍异动): the school decides in one or two levels, then the province
where the type's declaration says so; the last approval applies the change to the status.

The flow says who acts in what order; the step declarations below say what each human step
offers. What a type asks for, its rules and its effect are declared in
``records.status_changes.types``; records change only in the ``records.status_changes``
services.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.services import Recipient
from permissions import codenames
from records import glossary
from records.admissions.numbering import add_months
from records.choices import AppealStage
from records.choices import StatusChangeState
from records.decisions import Choice
from records.decisions import Decided
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import Province
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import User
from records.notices import recipient_of
from records.status_changes import appeals
from records.status_changes import notices
from records.status_changes import services
from records.status_changes.history import request_history
from records.status_changes.services import RELATED
from records.status_changes.types import TYPES
from records.validators import mask_id_numbers_in
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.deadlines import add_working_days
from workflows.models import OPEN
from workflows.models import StatusChangeProcess
from workflows.models import WorkItem
from workflows.steps import Deadline
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration
from workflows.steps import Timing

logger = logging.getLogger(__name__)

FLOW_KEY = "status_change"
# The appeal period's node, as the types endpoint names it in an adverse type's chain.
APPEAL_WINDOW = "appeal_window"


def _school_of(process: Any) -> School:
    """The scope object of the school's steps, built from the id the process holds."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _target_school_of(process: Any) -> School:
    """The receiving school of a transfer: the scope of its acceptance."""
    return School(pk=process.coerced.target_school_id)


def _target_province_of(process: Any) -> Province:
    return Province(pk=process.coerced.target_province_id)


def _request_of(activation: Any) -> StatusChangeRequest:
    pk = activation.process.request_id
    request = steps.remembered_subject(activation.process, pk)
    if request is None:
        request = StatusChangeRequest.objects.get(pk=pk)
    return request  # type: ignore[no-any-return]


def _notice_ends(activation: Any) -> datetime.datetime:
    """When the public notice of the transfer ends (the timer's due time)."""
    ends = _request_of(activation).notice_ends
    assert ends is not None  # noqa: S101  (set by the acceptance that leads here)
    return ends


def _across_provinces(activation: Any) -> bool:
    request = _request_of(activation)
    return bool(request.target_province_id != request.province_id)


def _provinces_stopped(activation: Any, active_tasks: Any) -> bool:
    """The join goes on without the other province once one province rejected (its task is
    cancelled), or when the transfer is applied."""
    state = StatusChangeRequest.objects.values_list("state", flat=True).get(
        pk=activation.process.coerced.request_id
    )
    return bool(state != StatusChangeState.NOTICE_ENDED)


def _state_is(state: str) -> Any:
    def condition(activation: Any) -> bool:
        pk = activation.process.request_id
        request = steps.remembered_subject(activation.process, pk)
        if request is None:  # a list of values: a model with deferred FSM fields recurses
            found = StatusChangeRequest.objects.filter(pk=pk).values_list("state", flat=True)
            return bool(found.get() == state)
        return bool(request.state == state)

    return condition


def _appeal_is(stage: str) -> Any:
    def condition(activation: Any) -> bool:
        pk = activation.process.request_id
        request = steps.remembered_subject(activation.process, pk)
        if request is None:
            found = StatusChangeRequest.objects.filter(pk=pk).values_list("appeal", flat=True)
            return bool(found.get() == stage)
        return bool(request.appeal == stage)

    return condition


class StatusChangeFlow(flow.Flow):
    """A status change: the school's first level, its second at a two-level school, the
    province where the type says so; a returned request waits in ``revise`` for the
    requester, then goes to the first level again; withdrawal cancels the process."""

    process_class = StatusChangeProcess
    process_title = _("Student status change")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.school_review)
    school_review = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["school_review"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_school_review)
    )
    after_school_review = (
        flow.Switch()
        .Case(this.school_final, _state_is(StatusChangeState.DEPARTMENT_APPROVED))
        .Case(this.province_confirm, _state_is(StatusChangeState.SCHOOL_APPROVED))
        .Case(this.revise, _state_is(StatusChangeState.RETURNED))
        .Case(this.appeal_window, _state_is(StatusChangeState.IN_APPEAL))
        .Case(this.target_accept, _state_is(StatusChangeState.TARGET_REVIEW))
        .Default(this.end)
    )
    school_final = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["school_final"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_school_final)
    )
    after_school_final = (
        flow.Switch()
        .Case(this.province_confirm, _state_is(StatusChangeState.SCHOOL_APPROVED))
        .Case(this.revise, _state_is(StatusChangeState.RETURNED))
        .Case(this.appeal_window, _state_is(StatusChangeState.IN_APPEAL))
        .Case(this.target_accept, _state_is(StatusChangeState.TARGET_REVIEW))
        .Default(this.end)
    )
    province_confirm = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["province_confirm"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.after_province)
    )
    after_province = (
        flow.Switch()
        .Case(this.school_review, _state_is(StatusChangeState.SUBMITTED))
        .Default(this.end)
    )
    # A transfer (转学): the receiving school accepts, the public notice runs 5 working days,
    # then its province confirms, or both provinces in parallel.
    target_accept = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["target_accept"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_target_school_of)
        .Next(this.after_target_accept)
    )
    after_target_accept = (
        flow.Switch().Case(this.notice, _state_is(StatusChangeState.IN_NOTICE)).Default(this.end)
    )
    notice = (
        flow.Timer(_notice_ends)
        .Annotation(title=glossary.STEPS["public_notice"])
        .Next(this.notice_ended)
    )
    notice_ended = flow.Function(this.end_notice).Next(this.confirmations)
    confirmations = (
        flow.Switch().Case(this.provinces, _across_provinces).Default(this.province_confirm)
    )
    provinces = flow.Split().Next(this.source_province_confirm).Next(this.target_province_confirm)
    source_province_confirm = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["source_province_confirm"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.provinces_joined)
    )
    target_province_confirm = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["target_province_confirm"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_target_province_of)
        .Next(this.provinces_joined)
    )
    provinces_joined = flow.Join(continue_on_condition=_provinces_stopped).Next(
        this.branches_closed
    )
    branches_closed = flow.Function(this.close_branches).Next(this.end)
    revise = (
        flow.Handle(this.do_revise)
        .Annotation(title=glossary.STEPS["revise"])
        .Next(this.school_review)
    )
    # An adverse decision issued: its appeal period. The window waits for the student's
    # appeal or its end (``appeal_windows_close``); an appeal goes to the school's committee,
    # then, once the committee upholds it, the window opens again for the province.
    appeal_window = (
        flow.Handle(this.do_appeal_window)
        .Annotation(title=_("Appeal period"))
        .Next(this.after_appeal_window)
    )
    after_appeal_window = (
        flow.Switch()
        .Case(this.school_appeal, _appeal_is(AppealStage.SCHOOL))
        .Case(this.province_appeal, _appeal_is(AppealStage.PROVINCE))
        .Default(this.end)
    )
    school_appeal = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["school_appeal"])
        .Permission(codenames.REVIEW_SCHOOL, obj=_school_of)
        .Next(this.after_school_appeal)
    )
    after_school_appeal = (
        flow.Switch()
        .Case(this.appeal_window, _appeal_is(AppealStage.PROVINCE_WINDOW))
        .Default(this.end)
    )
    province_appeal = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["province_appeal"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: StatusChangeRequest) -> Any:
        process = activation.process
        process.request = request
        process.school_id = request.school_id
        process.province_id = request.province_id
        process.target_school_id = request.target_school_id
        process.target_province_id = request.target_province_id
        return process

    def do_revise(self, activation: Any, *, resubmit: Any) -> Any:
        """Run the requester's resubmission inside the task's lock and transaction."""
        return resubmit()

    def do_appeal_window(self, activation: Any, *, act: Any) -> Any:
        """Run the student's appeal, or the window's end, inside the task's lock and
        transaction."""
        return act()

    def end_notice(self, activation: Any) -> None:
        """The transfer's public notice is over (its timer fired): the provinces confirm."""
        request = services.transfer_notice_end(request_pk=activation.process.request_id)
        steps.remember_subject(activation.process, request)

    def close_branches(self, activation: Any) -> None:
        """The work item of a province's confirmation the join cancelled (the other province
        rejected the transfer) is closed."""
        work.close_items(
            list(
                WorkItem.objects.filter(
                    OPEN, process_id=activation.process.pk, task__status=STATUS.CANCELED
                )
            )
        )


# --- the human steps ------------------------------------------------------------------------

_APPROVE = Choice(
    glossary.APPROVE,
    glossary.DECISIONS[glossary.APPROVE],
    services.approve,
    Outcome(
        "approved",
        "status_change.approved",
        Notice("status_change_approved", notices.parties),
    ),
)
_REJECT = Choice(
    glossary.REJECT,
    glossary.DECISIONS[glossary.REJECT],
    services.reject,
    Outcome(
        "rejected",
        "status_change.rejected",
        Notice("status_change_rejected", notices.parties),
    ),
    needs_comment=True,
)
_RETURN = Choice(
    glossary.RETURN,
    glossary.DECISIONS[glossary.RETURN],
    services.send_back,
    Outcome(
        "returned",
        "status_change.returned",
        Notice("status_change_returned", notices.parties),
    ),
    needs_comment=True,
)
# Where an approval that is not the last one leads (``services.approve`` diverts to them).
_PASSED_ON = (
    Outcome(
        "first_level_approved",
        "status_change.first_level_approved",
        Notice("status_change_review_needed", notices.school_officers),
    ),
    Outcome(
        "forwarded",
        "status_change.forwarded",
        Notice("status_change_forwarded", notices.provincial_admins),
    ),
    # An adverse type's last school level: the written decision, mailed with the appeal route.
    Outcome(
        "decision_issued",
        "status_change.decision_issued",
        Notice("adverse_decision_issued", notices.requester_and_student),
    ),
    # A transfer's sending school approved: the receiving school decides.
    Outcome(
        "sent_to_target",
        "status_change.sent_to_target",
        Notice("status_change_transfer_sent", notices.parties),
    ),
)
# Every step may apply the change (the last one does), so each locks the status too.
_SUBJECT: Mapping[str, Any] = {
    "subject_model": StatusChangeRequest,
    "related": RELATED,
    "lock_related": ("status",),
    "notice_context": notices.context,
}

SCHOOL_REVIEW = HumanStep(
    key="school_review",
    label=glossary.STEPS["school_review"],
    node=StatusChangeFlow.school_review,
    scope="school",
    due_days=5,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(StatusChangeState.SUBMITTED,),
    choices=(_APPROVE, _REJECT, _RETURN),
    outcomes=_PASSED_ON,
    **_SUBJECT,
)

SCHOOL_FINAL = HumanStep(
    key="school_final",
    label=glossary.STEPS["school_final"],
    node=StatusChangeFlow.school_final,
    scope="school",
    due_days=5,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(StatusChangeState.DEPARTMENT_APPROVED,),
    excluded_deciders=("first_decided_by_id",),
    choices=(_APPROVE, _REJECT, _RETURN),
    outcomes=_PASSED_ON,
    **_SUBJECT,
)

# --- a transfer's steps ---------------------------------------------------------------------

NOTICE_WORKING_DAYS = 5  # the public notice (教学厅〔2015〕4号): at least 5 working days
FILING_MONTHS = 3  # filed with the province within 3 months (教育部令第41号 arts 23–24)
FILING_REMIND_DAYS_BEFORE = (14, 3)


def _filing_deadline(request: StatusChangeRequest) -> Deadline:
    """A transfer is filed with the province within three months of its acceptance by the
    receiving school (the confirmation steps' due time), reminded 14 and 3 days before. A
    request that is no transfer (none reaches the province today) gets 10 working days."""
    if request.accepted_at is None:
        due = add_working_days(timezone.localtime(), 10)
        return Deadline(due, (add_working_days(due, -2),))
    accepted = timezone.localtime(request.accepted_at)
    day = add_months(accepted.date(), FILING_MONTHS)
    due = accepted.replace(year=day.year, month=day.month, day=day.day)
    return Deadline(
        due, tuple(due - datetime.timedelta(days=days) for days in FILING_REMIND_DAYS_BEFORE)
    )


_FILING = Timing(
    deadline=_filing_deadline,
    remind_event="task_due_soon",
    overdue_event="task_overdue",
)
_TRANSFERRED = Outcome(
    "transferred",
    "status_change.approved",
    Notice("status_change_approved", notices.provinces_and_parties),
)


def _accept(request: StatusChangeRequest, decided: Decided) -> None:
    """The receiving school accepts: the public notice runs 5 working days from now."""
    ends = add_working_days(timezone.localtime(decided.at), NOTICE_WORKING_DAYS)
    services.transfer_accept(request, decided, notice_ends=ends)


_REFUSE = Choice(
    glossary.REJECT,
    glossary.TRANSFER_DECISIONS["refuse"],
    services.reject,
    Outcome(
        "refused",
        "status_change.refused",
        Notice("status_change_rejected", notices.parties),
    ),
    needs_comment=True,
)

TARGET_ACCEPT = HumanStep(
    key="target_accept",
    label=glossary.STEPS["target_accept"],
    node=StatusChangeFlow.target_accept,
    scope="target_school",
    due_days=10,
    assignees=notices.target_school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(StatusChangeState.TARGET_REVIEW,),
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.TRANSFER_DECISIONS["accept"],
            _accept,
            Outcome(
                "accepted",
                "status_change.accepted",
                Notice("status_change_in_notice", notices.parties),
            ),
        ),
        _REFUSE,
    ),
    **_SUBJECT,
)


def _confirm(side: str) -> Choice:
    def apply(request: StatusChangeRequest, decided: Decided) -> Any:
        return services.transfer_confirm(request, decided, side=side)

    return Choice(
        glossary.APPROVE,
        glossary.TRANSFER_DECISIONS["confirm"],
        apply,
        Outcome(
            "province_confirmed",
            "status_change.province_confirmed",
            Notice("status_change_province_confirmed", notices.provinces_and_parties),
        ),
    )


_PROVINCE_REJECT = Choice(
    glossary.REJECT,
    glossary.DECISIONS[glossary.REJECT],
    services.reject,
    Outcome(
        "rejected",
        "status_change.rejected",
        Notice("status_change_rejected", notices.provinces_and_parties),
    ),
    needs_comment=True,
)

SOURCE_PROVINCE_CONFIRM = HumanStep(
    key="source_province_confirm",
    label=glossary.STEPS["source_province_confirm"],
    node=StatusChangeFlow.source_province_confirm,
    scope="province",
    due_days=0,  # its own deadline: ``timing``
    timing=_FILING,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(StatusChangeState.NOTICE_ENDED,),
    excluded_deciders=("source_confirmed_by_id",),
    choices=(_confirm("source"), _PROVINCE_REJECT),
    outcomes=(_TRANSFERRED,),
    **_SUBJECT,
)

TARGET_PROVINCE_CONFIRM = HumanStep(
    key="target_province_confirm",
    label=glossary.STEPS["target_province_confirm"],
    node=StatusChangeFlow.target_province_confirm,
    scope="target_province",
    due_days=0,  # its own deadline: ``timing``
    timing=_FILING,
    assignees=notices.target_provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(StatusChangeState.NOTICE_ENDED,),
    excluded_deciders=("target_confirmed_by_id",),
    choices=(_confirm("target"), _PROVINCE_REJECT),
    outcomes=(_TRANSFERRED,),
    **_SUBJECT,
)

PROVINCE_CONFIRM = HumanStep(
    key="province_confirm",
    label=glossary.STEPS["province_confirm"],
    node=StatusChangeFlow.province_confirm,
    scope="province",
    due_days=10,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(StatusChangeState.SCHOOL_APPROVED, StatusChangeState.NOTICE_ENDED),
    timing=_FILING,
    outcomes=(_TRANSFERRED,),
    choices=(
        _APPROVE,
        _REJECT,
        Choice(
            glossary.RETURN,
            glossary.RETURN_TO_SCHOOL_LABEL,
            services.return_to_school,
            Outcome(
                "returned_to_school",
                "status_change.returned_to_school",
                Notice("status_change_review_needed", notices.school_officers),
            ),
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)


_CANCEL_ON_APPEAL = Outcome(
    "overturned",
    "status_change.overturned",
    Notice("adverse_overturned", notices.requester_and_student),
)

# The school's student appeal committee (学生申诉处理委员会, arts 59–61): decides within 15
# days (about ten working days); the officer who filed the decision never decides its appeal.
SCHOOL_APPEAL = HumanStep(
    key="school_appeal",
    label=glossary.STEPS["school_appeal"],
    node=StatusChangeFlow.school_appeal,
    scope="school",
    due_days=10,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(StatusChangeState.IN_APPEAL,),
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            appeals.school_uphold,
            Outcome(
                "appeal_upheld",
                "status_change.appeal_upheld",
                Notice("adverse_appeal_upheld", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            appeals.school_cancel,
            _CANCEL_ON_APPEAL,
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)

# The provincial education department's review of an appeal (art 62: 30 working days).
PROVINCE_APPEAL = HumanStep(
    key="province_appeal",
    label=glossary.STEPS["province_appeal"],
    node=StatusChangeFlow.province_appeal,
    scope="province",
    due_days=30,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(StatusChangeState.IN_APPEAL,),
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            appeals.province_uphold,
            Outcome(
                "took_effect",
                "status_change.took_effect",
                Notice("adverse_decision_effective", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            appeals.province_cancel,
            _CANCEL_ON_APPEAL,
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)


# The steps of each stage a type's declaration names in its ``chain`` (after the school), and
# those that take their place, in parallel, across provinces.
STAGES: dict[str, tuple[str, ...]] = {
    "target_school": (TARGET_ACCEPT.key,),
    "notice": ("public_notice",),
    "provinces": (PROVINCE_CONFIRM.key,),
}
CROSS_PROVINCE: dict[str, tuple[str, ...]] = {
    "provinces": (SOURCE_PROVINCE_CONFIRM.key, TARGET_PROVINCE_CONFIRM.key),
}


def _facts(request: StatusChangeRequest) -> Facts:
    return Facts(
        student_name=request.student.name,
        school_id=request.school_id,
        province_id=request.province_id,
        reference=request.status.student_number,
        requester_id=request.requester_id,
        excluded_id=request.first_decided_by_id,
        summary=(request.type,),
    )


def _type_label(key: str) -> Any:
    kind = TYPES.get(key)
    return kind.label if kind else key


def _panel(request: StatusChangeRequest, user: User) -> dict[str, Any]:
    kind = TYPES.get(request.type)
    return {
        "change": request,
        "change_label": _type_label(request.type),
        "values": [
            (f.label, f.shown(request.fields.get(f.name), request.status))
            for f in (kind.fields if kind else ())
        ],
        "reason": mask_id_numbers_in(request.reason),
        "history": [
            (glossary.STATUS_CHANGE_ACTIONS.get(e.action, e.action), e)
            for e in request_history(request)
        ],
        "in_full": False,
    }


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=StatusChangeFlow,
        process_model=StatusChangeProcess,
        subject_field="request",
        describe=_facts,
        summary_label=_type_label,
        panel_template="workflows/status_changes/_task_panel.html",
        panel_context=_panel,
        subject_url=notices.request_url,
        steps=(
            SCHOOL_REVIEW,
            SCHOOL_FINAL,
            PROVINCE_CONFIRM,
            TARGET_ACCEPT,
            SOURCE_PROVINCE_CONFIRM,
            TARGET_PROVINCE_CONFIRM,
            SCHOOL_APPEAL,
            PROVINCE_APPEAL,
        ),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def status_change_start(
    *,
    status: StudentStatus,
    type_key: str,
    fields: Mapping[str, Any],
    reason: str,
    requester: User,
) -> StatusChangeRequest:
    """File a status change and start its flow, in one transaction."""
    with transaction.atomic():  # the start callback runs before viewflow's own transaction
        request = services.status_change_file(
            status=status, type_key=type_key, fields=fields, reason=reason, requester=requester
        )
        StatusChangeFlow.start.run(request=request)
    return request


def status_change_resubmit(
    *,
    request: StatusChangeRequest,
    fields: Mapping[str, Any],
    reason: str,
    user: User,
) -> StatusChangeRequest:
    """The requester revises a returned request; the flow goes back to the first level."""
    task = Task.objects.filter(
        process__statuschangeprocess__request=request,
        flow_task=StatusChangeFlow.revise,
        status__in=work.OPEN_TASK_STATES,
    ).first()
    if task is None:
        raise ConflictError(str(services.NOT_RETURNED), code="not_returned")

    def resubmit() -> StatusChangeRequest:
        return services.status_change_resubmit(
            request=request, fields=fields, reason=reason, acting_user=user
        )

    with work.flow_contention():
        result: StatusChangeRequest = StatusChangeFlow.revise.run(task, resubmit=resubmit)
    return result


def status_change_withdraw(*, request: StatusChangeRequest, user: User) -> StatusChangeRequest:
    """The requester withdraws an open request; its process is cancelled, and whoever could
    take its open step hears of it."""
    process = StatusChangeProcess.objects.get(request=request)
    with work.flow_contention(), StatusChangeFlow.lock(process.pk), transaction.atomic():
        item = work.open_item_of(FLOW_KEY, request.pk)
        waiting_on: list[Recipient] = []
        if item is not None:
            holder = item.task.owner  # a task claimed through viewflow: only its holder
            step = next(s for s in DECLARATION.steps if s.key == item.step)
            waiting_on = [recipient_of(holder)] if holder else step.assignees(request)
        withdrawn = services.status_change_withdraw(
            request=request, acting_user=user, waiting_on=waiting_on
        )
        StatusChangeFlow.instance.cancel(process)
        work.close_items_of(process.pk)
    return withdrawn


# --- adverse decisions: delivery, appeals, the end of a window ------------------------------


def _window_task(request: StatusChangeRequest) -> Task | None:
    return Task.objects.filter(
        process__statuschangeprocess__request=request,
        flow_task=StatusChangeFlow.appeal_window,
        status__in=work.OPEN_TASK_STATES,
    ).first()


def status_change_appeal(
    *, request: StatusChangeRequest, reason: str, user: User
) -> StatusChangeRequest:
    """The student appeals an adverse decision in its window: the flow opens the school
    committee's step (or, after the committee upheld it, the province's)."""
    task = _window_task(request)
    if task is None:
        # Not in a window: the service says why (not visible, not the student, not open).
        return appeals.status_change_appeal(request=request, reason=reason, acting_user=user)

    def act() -> StatusChangeRequest:
        return appeals.status_change_appeal(request=request, reason=reason, acting_user=user)

    with work.flow_contention():
        result: StatusChangeRequest = StatusChangeFlow.appeal_window.run(task, act=act)
    return result


def appeal_windows_close(*, today: datetime.date | None = None) -> int:
    """Apply every adverse decision whose appeal window ended before ``today`` with no
    appeal (Celery beat's ``workflows.tasks.status_change_appeal_windows``); each in its own
    transaction, a failure logged and tried again on the next run. How many took effect."""
    today = today or timezone.localdate()
    ended = StatusChangeRequest.objects.filter(
        state=StatusChangeState.IN_APPEAL,
        appeal__in=(AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW),
        appeal_deadline__lt=today,
    ).order_by("pk")
    closed = 0
    for request in ended:
        task = _window_task(request)
        if task is None:
            continue

        def act(request: StatusChangeRequest = request) -> StatusChangeRequest:
            return appeals.window_close(request=request, today=today)

        try:
            with work.flow_contention():
                StatusChangeFlow.appeal_window.run(task, act=act)
            closed += 1
        except ConflictError:
            continue  # appealed or busy meanwhile: seen again on the next run if still due
        except Exception:
            logger.exception("appeal window of status change %s: not closed", request.pk)
    return closed
