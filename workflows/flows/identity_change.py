"""Identity changes while enrolled (DOMAIN.md §2.6): the school reviews the request and its
proof, then the province; the province's approval applies the change to the person and the
status, keeping the values it replaces.

The flow says who acts in what order; the step declarations below say what each human step
offers. Which fields may change and how their values are checked is declared in
``records.identity_changes.fields``; records change only in the ``records.identity_changes``
services.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.models import Task

from notifications.services import Recipient
from permissions import codenames
from records import glossary
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.identity_changes import notices
from records.identity_changes import services
from records.identity_changes.fields import BY_NAME
from records.identity_changes.fields import shown_changes
from records.identity_changes.history import request_history
from records.identity_changes.services import RELATED
from records.models import IdentityChangeRequest
from records.models import Province
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.models.identity_changes import IdentityChangeState
from records.notices import recipient_of
from records.validators import mask_id_numbers_in
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import IdentityChangeProcess
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration

FLOW_KEY = "identity_change"


def _school_of(process: Any) -> School:
    """The scope object of the school's step, built from the id the process holds."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _state_is(state: str) -> Any:
    def condition(activation: Any) -> bool:
        pk = activation.process.request_id
        request = steps.remembered_subject(activation.process, pk)
        if request is None:
            request = IdentityChangeRequest.objects.only("state").get(pk=pk)
        return bool(request.state == state)

    return condition


class IdentityChangeFlow(flow.Flow):
    """An identity change: the school's review, then the province's; a returned request
    waits in ``revise`` for the requester, then goes to the school again; the province may
    return it to the school; withdrawal cancels the process."""

    process_class = IdentityChangeProcess
    process_title = _("Identity change")
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
        .Case(this.province_confirm, _state_is(IdentityChangeState.SCHOOL_APPROVED))
        .Case(this.revise, _state_is(IdentityChangeState.RETURNED))
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
        .Case(this.school_review, _state_is(IdentityChangeState.SUBMITTED))
        .Default(this.end)
    )
    revise = (
        flow.Handle(this.do_revise)
        .Annotation(title=glossary.STEPS["revise"])
        .Next(this.school_review)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: IdentityChangeRequest) -> Any:
        process = activation.process
        process.request = request
        process.school_id = request.school_id
        process.province_id = request.province_id
        return process

    def do_revise(self, activation: Any, *, resubmit: Any) -> Any:
        """Run the requester's resubmission inside the task's lock and transaction."""
        return resubmit()


# --- the human steps ------------------------------------------------------------------------

_APPROVE = Choice(
    glossary.APPROVE,
    glossary.DECISIONS[glossary.APPROVE],
    services.approve,
    Outcome(
        "approved",
        "identity_change.approved",
        Notice("identity_change_approved", notices.requester_and_student),
    ),
)
_REJECT = Choice(
    glossary.REJECT,
    glossary.DECISIONS[glossary.REJECT],
    services.reject,
    Outcome(
        "rejected",
        "identity_change.rejected",
        Notice("identity_change_rejected", notices.requester_and_student),
    ),
    needs_comment=True,
)
_RETURN = Choice(
    glossary.RETURN,
    glossary.DECISIONS[glossary.RETURN],
    services.send_back,
    Outcome(
        "returned",
        "identity_change.returned",
        Notice("identity_change_returned", notices.requester_and_student),
    ),
    needs_comment=True,
)
# The province's approval applies the change, so each step locks the status too.
_SUBJECT: Mapping[str, Any] = {
    "subject_model": IdentityChangeRequest,
    "related": RELATED,
    "lock_related": ("status",),
    "notice_context": notices.context,
}

SCHOOL_REVIEW = HumanStep(
    key="school_review",
    label=glossary.STEPS["school_review"],
    node=IdentityChangeFlow.school_review,
    scope="school",
    due_days=5,
    assignees=notices.school_officers,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(IdentityChangeState.SUBMITTED,),
    choices=(_APPROVE, _REJECT, _RETURN),
    outcomes=(
        Outcome(
            "forwarded",
            "identity_change.forwarded",
            Notice("identity_change_forwarded", notices.provincial_admins),
        ),
    ),
    **_SUBJECT,
)

PROVINCE_CONFIRM = HumanStep(
    key="province_confirm",
    label=glossary.STEPS["province_confirm"],
    node=IdentityChangeFlow.province_confirm,
    scope="province",
    due_days=10,
    assignees=notices.provincial_admins,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(IdentityChangeState.SCHOOL_APPROVED,),
    choices=(
        _APPROVE,
        _REJECT,
        Choice(
            glossary.RETURN,
            glossary.RETURN_TO_SCHOOL_LABEL,
            services.return_to_school,
            Outcome(
                "returned_to_school",
                "identity_change.returned_to_school",
                Notice("identity_change_review_needed", notices.school_officers),
            ),
            needs_comment=True,
        ),
    ),
    **_SUBJECT,
)


def _facts(request: IdentityChangeRequest) -> Facts:
    return Facts(
        student_name=request.student.name,
        school_id=request.school_id,
        province_id=request.province_id,
        reference=request.status.student_number,
        requester_id=request.requester_id,
        summary=tuple(request.requested_fields),
    )


def _field_label(key: str) -> Any:
    field = BY_NAME.get(key)
    return field.label if field else key


def _panel(request: IdentityChangeRequest, user: User) -> dict[str, Any]:
    return {
        "change": request,
        "changes": shown_changes(request.changes),
        "evidence": list(request.evidence.all()),
        "reason": mask_id_numbers_in(request.reason),
        "history": [
            (glossary.IDENTITY_CHANGE_ACTIONS.get(e.action, e.action), e)
            for e in request_history(request)
        ],
        "in_full": False,
    }


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=IdentityChangeFlow,
        process_model=IdentityChangeProcess,
        subject_field="request",
        describe=_facts,
        summary_label=_field_label,
        panel_template="workflows/identity_changes/_task_panel.html",
        panel_context=_panel,
        subject_url=notices.request_url,
        steps=(SCHOOL_REVIEW, PROVINCE_CONFIRM),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def identity_change_start(
    *,
    status: StudentStatus,
    fields: Mapping[str, Any],
    reason: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> IdentityChangeRequest:
    """File an identity change and start its flow, in one transaction."""
    with transaction.atomic():  # the start callback runs before viewflow's own transaction
        request = services.identity_change_file(
            status=status, fields=fields, reason=reason, requester=requester, evidence=evidence
        )
        IdentityChangeFlow.start.run(request=request)
    return request


def identity_change_resubmit(
    *,
    request: IdentityChangeRequest,
    fields: Mapping[str, Any],
    reason: str,
    user: User,
    evidence: Sequence[UploadedFile] = (),
) -> IdentityChangeRequest:
    """The requester revises a returned request; the flow goes back to the school."""
    task = Task.objects.filter(
        process__identitychangeprocess__request=request,
        flow_task=IdentityChangeFlow.revise,
        status__in=work.OPEN_TASK_STATES,
    ).first()
    if task is None:
        raise ConflictError(str(services.NOT_RETURNED), code="not_returned")

    def resubmit() -> IdentityChangeRequest:
        return services.identity_change_resubmit(
            request=request, fields=fields, reason=reason, acting_user=user, evidence=evidence
        )

    with work.flow_contention():
        result: IdentityChangeRequest = IdentityChangeFlow.revise.run(task, resubmit=resubmit)
    return result


def identity_change_withdraw(
    *, request: IdentityChangeRequest, user: User
) -> IdentityChangeRequest:
    """The requester withdraws an open request; its process is cancelled, and whoever could
    take its open step hears of it."""
    process = IdentityChangeProcess.objects.get(request=request)
    with work.flow_contention(), IdentityChangeFlow.lock(process.pk), transaction.atomic():
        item = work.open_item_of(FLOW_KEY, request.pk)
        waiting_on: list[Recipient] = []
        if item is not None:
            holder = item.task.owner  # a task claimed through viewflow: only its holder
            step = next(s for s in DECLARATION.steps if s.key == item.step)
            waiting_on = [recipient_of(holder)] if holder else step.assignees(request)
        withdrawn = services.identity_change_withdraw(
            request=request, acting_user=user, waiting_on=waiting_on
        )
        IdentityChangeFlow.instance.cancel(process)
        work.close_items_of(process.pk)
    return withdrawn
