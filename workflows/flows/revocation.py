"""Revocation of a registered qualification (issue 11 item 6; DOMAIN.md §2.7, §4 item 11): a
school officer proposes it with the decision of the school's leadership; a second officer
issues the written decision; the adverse-decision appeal period runs (delivery, the
student's appeal to the school's committee, then to the province; the window closed by the
beat task); then the province confirms and the qualification is revoked.

The flow says who acts in what order; the step declarations below say what each step
offers. Records change only in the ``records.revocations`` services.
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

from permissions import codenames
from records import glossary
from records.choices import AppealStage
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import Province
from records.models import Qualification
from records.models import RevocationRequest
from records.models import School
from records.models import User
from records.models.revocations import RevocationState
from records.revocations import notices
from records.revocations import services
from records.validators import mask_id_numbers_in
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import RevocationProcess
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration

logger = logging.getLogger(__name__)

FLOW_KEY = "revocation"


def _school_of(process: Any) -> School:
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _field_is(name: str, value: str) -> Any:
    def condition(activation: Any) -> bool:
        pk = activation.process.request_id
        request = steps.remembered_subject(activation.process, pk)
        if request is None:  # a list of values: a model with deferred FSM fields recurses
            found = RevocationRequest.objects.filter(pk=pk).values_list(name, flat=True)
            return bool(found.get() == value)
        return bool(getattr(request, name) == value)

    return condition


def _state_is(state: str) -> Any:
    return _field_is("state", state)


def _appeal_is(stage: str) -> Any:
    return _field_is("appeal", stage)


class RevocationFlow(flow.Flow):
    """A revocation: the school's review issues the decision; the appeal period (the window,
    the school's committee, the province's review of an appeal); the province confirms."""

    process_class = RevocationProcess
    process_title = _("Revocation of a qualification")
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
        .Case(this.appeal_window, _state_is(RevocationState.IN_APPEAL))
        .Default(this.end)
    )
    appeal_window = (
        flow.Handle(this.do_appeal_window)
        .Annotation(title=_("Appeal period"))
        .Next(this.after_appeal_window)
    )
    after_appeal_window = (
        flow.Switch()
        .Case(this.school_appeal, _appeal_is(AppealStage.SCHOOL))
        .Case(this.province_appeal, _appeal_is(AppealStage.PROVINCE))
        .Case(this.province_confirm, _state_is(RevocationState.CONFIRMING))
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
        .Next(this.after_province_appeal)
    )
    after_province_appeal = (
        flow.Switch()
        .Case(this.province_confirm, _state_is(RevocationState.CONFIRMING))
        .Default(this.end)
    )
    province_confirm = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["province_confirm"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: RevocationRequest) -> Any:
        process = activation.process
        process.request = request
        process.school_id = request.school_id
        process.province_id = request.province_id
        return process

    def do_appeal_window(self, activation: Any, *, act: Any) -> Any:
        """Run the student's appeal, or the window's end, inside the task's lock and
        transaction."""
        return act()


# --- the human steps ----------------------------------------------------------------------

_SUBJECT: Mapping[str, Any] = {
    "subject_model": RevocationRequest,
    "related": services.RELATED,
    # The province's confirmation revokes the qualification: it is locked with the request.
    "lock_related": ("qualification",),
    "notice_context": notices.context,
}

_OVERTURNED = Outcome(
    "overturned",
    "revocation.overturned",
    Notice("adverse_overturned", notices.requester_and_student),
)

SCHOOL_REVIEW = HumanStep(
    key="school_review",
    label=glossary.STEPS["school_review"],
    node=RevocationFlow.school_review,
    scope="school",
    due_days=10,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(RevocationState.SUBMITTED,),
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.DECISIONS[glossary.APPROVE],
            services.approve,
            # The written decision, mailed with the appeal route.
            Outcome(
                "decision_issued",
                "revocation.decision_issued",
                Notice("adverse_decision_issued", notices.requester_and_student),
            ),
        ),
        Choice(
            glossary.REJECT,
            glossary.DECISIONS[glossary.REJECT],
            services.reject,
            Outcome(
                "rejected",
                "revocation.rejected",
                Notice("revocation_rejected", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)

# The school's student appeal committee: the officer who filed never decides its appeal.
SCHOOL_APPEAL = HumanStep(
    key="school_appeal",
    label=glossary.STEPS["school_appeal"],
    node=RevocationFlow.school_appeal,
    scope="school",
    due_days=10,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(RevocationState.IN_APPEAL,),
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            services.school_uphold,
            Outcome(
                "appeal_upheld",
                "revocation.appeal_upheld",
                Notice("adverse_appeal_upheld", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            services.school_cancel,
            _OVERTURNED,
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)

PROVINCE_APPEAL = HumanStep(
    key="province_appeal",
    label=glossary.STEPS["province_appeal"],
    node=RevocationFlow.province_appeal,
    scope="province",
    due_days=30,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(RevocationState.IN_APPEAL,),
    choices=(
        Choice(
            glossary.CONFIRM,
            glossary.APPEAL_DECISIONS[glossary.CONFIRM],
            services.province_uphold,
            Outcome(
                "appeal_dismissed",
                "revocation.appeal_dismissed",
                Notice("revocation_confirm_needed", notices.provincial_admins),
            ),
            needs_comment=True,
        ),
        Choice(
            glossary.CANCEL,
            glossary.APPEAL_DECISIONS[glossary.CANCEL],
            services.province_cancel,
            _OVERTURNED,
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)

# The province confirms the revocation: the qualification becomes ``revoked``.
PROVINCE_CONFIRM = HumanStep(
    key="province_confirm",
    label=glossary.STEPS["province_confirm"],
    node=RevocationFlow.province_confirm,
    scope="province",
    due_days=10,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(RevocationState.CONFIRMING,),
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.DECISIONS[glossary.APPROVE],
            services.confirm,
            Outcome(
                "revoked",
                "revocation.revoked",
                Notice("revocation_revoked", notices.requester_and_student),
            ),
        ),
        Choice(
            glossary.REJECT,
            glossary.DECISIONS[glossary.REJECT],
            services.refuse,
            Outcome(
                "refused",
                "revocation.refused",
                Notice("revocation_refused", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)


def _facts(request: RevocationRequest) -> Facts:
    return Facts(
        student_name=request.student.name,
        school_id=request.school_id,
        province_id=request.province_id,
        reference=request.qualification.certificate_number,
        requester_id=request.requester_id,
        summary=(FLOW_KEY,),
    )


def _summary_label(key: str) -> Any:
    return glossary.PROCESSES.get(key, key)


def _panel(request: RevocationRequest, user: User) -> dict[str, Any]:
    return {
        "revocation": request,
        "qualification": request.qualification,
        "reason": mask_id_numbers_in(request.reason),
    }


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=RevocationFlow,
        process_model=RevocationProcess,
        subject_field="request",
        describe=_facts,
        summary_label=_summary_label,
        panel_template="workflows/revocations/_task_panel.html",
        panel_context=_panel,
        subject_url=notices.request_url,
        steps=(SCHOOL_REVIEW, SCHOOL_APPEAL, PROVINCE_APPEAL, PROVINCE_CONFIRM),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def revocation_start(
    *, qualification: Qualification, values: Mapping[str, Any], requester: User
) -> RevocationRequest:
    """Propose a revocation and start its flow, in one transaction."""
    with transaction.atomic():
        request = services.revocation_file(
            qualification=qualification, values=values, requester=requester
        )
        RevocationFlow.start.run(request=request)
    return request


def _window_task(request: RevocationRequest) -> Task | None:
    return Task.objects.filter(
        process__revocationprocess__request=request,
        flow_task=RevocationFlow.appeal_window,
        status__in=work.OPEN_TASK_STATES,
    ).first()


def revocation_appeal(*, request: RevocationRequest, reason: str, user: User) -> RevocationRequest:
    """The student appeals in a window: the flow opens the committee's (or province's) step."""
    task = _window_task(request)
    if task is None:
        return services.revocation_appeal(request=request, reason=reason, acting_user=user)

    def act() -> RevocationRequest:
        return services.revocation_appeal(request=request, reason=reason, acting_user=user)

    with work.flow_contention():
        result: RevocationRequest = RevocationFlow.appeal_window.run(task, act=act)
    return result


def revocation_windows_close(*, today: datetime.date | None = None) -> int:
    """Send every revocation whose appeal window ended before ``today`` with no appeal to the
    province's confirmation (beat's ``workflows.tasks.status_change_appeal_windows``); each
    in its own transaction. How many."""
    today = today or timezone.localdate()
    ended = RevocationRequest.objects.filter(
        state=RevocationState.IN_APPEAL,
        appeal__in=(AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW),
        appeal_deadline__lt=today,
    ).order_by("pk")
    closed = 0
    for request in ended:
        task = _window_task(request)
        if task is None:
            continue

        def act(request: RevocationRequest = request) -> RevocationRequest:
            return services.window_close(request=request, today=today)

        try:
            with work.flow_contention():
                RevocationFlow.appeal_window.run(task, act=act)
            closed += 1
        except ConflictError:
            continue
        except Exception:
            logger.exception("appeal window of revocation %s: not closed", request.pk)
    return closed
