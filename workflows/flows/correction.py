"""Correction of a registered qualification: school review, then provincial sign-off.

The flow says who acts in what order; the step declarations below say what each human step
offers (decisions, comments, the record service each calls, its email and recipients) and when
it is due. Records change only in the ``records.corrections`` services.
"""

from __future__ import annotations

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
from records.choices import CorrectionState
from records.corrections import notices
from records.corrections import services
from records.corrections.history import correction_history
from records.corrections.services import RELATED
from records.corrections.shown import Disclosure
from records.corrections.shown import shown_changes
from records.corrections.shown import shown_history
from records.corrections.shown import shown_text
from records.decisions import Choice
from records.decisions import Notice
from records.decisions import Outcome
from records.errors import ConflictError
from records.models import CorrectionRequest
from records.models import Province
from records.models import Qualification
from records.models import School
from records.models import User
from records.notices import recipient_of
from workflows import nodes
from workflows import steps
from workflows import work
from workflows.models import CorrectionProcess
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration

FLOW_KEY = "correction"


def _school_of(process: Any) -> School:
    """The scope object of the school review. viewflow stores only its content type and key,
    so it is built from the id the process holds rather than loaded. can_assign() passes the
    base Process (task.process), create() the subclass."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _state_is(state: str) -> Any:
    def condition(activation: Any) -> bool:
        pk = activation.process.request_id
        request = steps.remembered_subject(activation.process, pk)
        if request is None:
            request = CorrectionRequest.objects.only("state").get(pk=pk)
        return bool(request.state == state)

    return condition


class CorrectionFlow(flow.Flow):
    """Correction of a registered qualification: school review, then provincial sign-off.

    A returned request waits in ``revise`` for the requester's resubmission, then goes to school
    review again; the province may return it to school review, and a stale approval (the record
    changed since filing) goes back there too. Withdrawal cancels the process.
    """

    process_class = CorrectionProcess
    process_title = _("Qualification correction")
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
        .Case(this.province_signoff, _state_is(CorrectionState.SCHOOL_APPROVED))
        .Case(this.revise, _state_is(CorrectionState.RETURNED))
        .Default(this.end)
    )
    revise = (
        flow.Handle(this.do_revise)
        .Annotation(title=glossary.STEPS["revise"])
        .Next(this.school_review)
    )
    province_signoff = (
        flow.View(nodes.task_view)
        .Annotation(title=glossary.STEPS["province_signoff"])
        .Permission(codenames.SIGNOFF_PROVINCE, obj=_province_of)
        .Next(this.after_signoff)
    )
    after_signoff = (
        flow.Switch()
        .Case(this.school_review, _state_is(CorrectionState.SUBMITTED))
        .Default(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: CorrectionRequest) -> Any:
        process = activation.process
        process.request = request
        process.school_id = request.school_id
        process.province_id = request.province_id
        return process

    def do_revise(self, activation: Any, *, resubmit: Any) -> Any:
        """Run the requester's resubmission inside the task's lock and transaction."""
        return resubmit()


# --- the human steps ------------------------------------------------------------------------

# Both steps may reject, alike: the requester and the student hear of it.
_REJECT = Choice(
    glossary.REJECT,
    glossary.DECISIONS[glossary.REJECT],
    services.reject,
    Outcome(
        "rejected",
        "correction.rejected",
        Notice("correction_rejected", notices.requester_and_student),
    ),
    needs_comment=True,
)

SCHOOL_REVIEW = HumanStep(
    key="school_review",
    label=glossary.STEPS["school_review"],
    node=CorrectionFlow.school_review,
    scope="school",
    due_days=5,
    assignees=notices.school_officers,
    subject_model=CorrectionRequest,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=(CorrectionState.SUBMITTED,),
    related=RELATED,
    notice_context=notices.context,
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.FORWARD_LABEL,
            services.forward,
            Outcome(
                "forwarded",
                "correction.forwarded",
                Notice("correction_forwarded", notices.provincial_admins),
            ),
        ),
        _REJECT,
        Choice(
            glossary.RETURN,
            glossary.DECISIONS[glossary.RETURN],
            services.send_back,
            Outcome(
                "returned",
                "correction.returned",
                Notice("correction_returned", notices.requester_and_student),
            ),
            needs_comment=True,
        ),
    ),
)

PROVINCE_SIGNOFF = HumanStep(
    key="province_signoff",
    label=glossary.STEPS["province_signoff"],
    node=CorrectionFlow.province_signoff,
    scope="province",
    due_days=10,
    assignees=notices.provincial_admins,
    subject_model=CorrectionRequest,
    perm=codenames.SIGNOFF_PROVINCE,
    waits_in=(CorrectionState.SCHOOL_APPROVED,),
    related=RELATED,
    lock_related=("qualification", "student"),  # approval amends them
    notice_context=notices.context,
    choices=(
        Choice(
            glossary.APPROVE,
            glossary.DECISIONS[glossary.APPROVE],
            services.approve,
            Outcome(
                "approved",
                "correction.approved",
                Notice("correction_approved", notices.requester_and_student),
            ),
        ),
        _REJECT,
        Choice(
            glossary.RETURN,
            glossary.RETURN_TO_SCHOOL_LABEL,
            services.return_to_school,
            Outcome(
                "returned_to_school",
                "correction.returned_to_school",
                Notice("correction_review_needed", notices.school_officers),
            ),
            needs_comment=True,
        ),
    ),
    outcomes=(
        Outcome(
            "stale",
            "correction.stale",
            Notice("correction_review_needed", notices.school_officers),
        ),
    ),
)


def _facts(request: CorrectionRequest) -> Facts:
    return Facts(
        student_name=request.student.name,
        school_id=request.school_id,
        province_id=request.province_id,
        reference=request.qualification.certificate_number,
        requester_id=request.requester_id,
        summary=tuple(request.requested_fields),
    )


def _field_label(field: str) -> Any:
    return Qualification._meta.get_field(field).verbose_name


def disclosure_for(request: CorrectionRequest, user: User) -> Disclosure:
    """Who sees a request's values in full (docs/architecture.md, "Sensitive values"): whoever
    may decide its open task now sees the values at filing and the requested ones; the
    requester sees the values they typed (and the returned request's form is filled with
    them). Everyone else, the student included when someone else filed, sees ID numbers
    masked, as every list does."""
    deciding = work.may_decide(user, FLOW_KEY, request.pk)
    return Disclosure(old=deciding, new=deciding or request.requester_id == user.pk)


def _panel(request: CorrectionRequest, user: User) -> dict[str, Any]:
    disclosure = disclosure_for(request, user)
    return {
        "correction": request,
        "changes": shown_changes(request.changes, disclosure),
        "reason": shown_text(request.reason, disclosure),
        "history": shown_history(correction_history(request), disclosure),
        "evidence": request.evidence.all(),
        "in_full": disclosure.in_full,
    }


DECLARATION = work.register(
    ProcessDeclaration(
        key=FLOW_KEY,
        label=glossary.PROCESSES[FLOW_KEY],
        flow_class=CorrectionFlow,
        process_model=CorrectionProcess,
        subject_field="request",
        describe=_facts,
        summary_label=_field_label,
        panel_template="workflows/corrections/_task_panel.html",
        panel_context=_panel,
        subject_url=notices.correction_url,
        steps=(SCHOOL_REVIEW, PROVINCE_SIGNOFF),
    )
)


# --- driving the flow -----------------------------------------------------------------------


def correction_start(
    *,
    qualification: Qualification,
    changes: dict[str, Any],
    reason: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> CorrectionRequest:
    """File a correction with its evidence and start its flow, in one transaction."""
    with transaction.atomic():  # the start callback runs before viewflow's own transaction
        request = services.correction_file(
            qualification=qualification,
            changes=changes,
            reason=reason,
            requester=requester,
            evidence=evidence,
        )
        CorrectionFlow.start.run(request=request)
    return request


def correction_resubmit(
    *,
    request: CorrectionRequest,
    changes: dict[str, Any],
    reason: str,
    user: User,
    evidence: Sequence[UploadedFile] = (),
) -> CorrectionRequest:
    """The requester revises a returned request; the flow goes back to school review."""
    task = Task.objects.filter(
        process__correctionprocess__request=request,
        flow_task=CorrectionFlow.revise,
        status__in=work.OPEN_TASK_STATES,
    ).first()
    if task is None:
        raise ConflictError(str(services.NOT_RETURNED), code="not_returned")

    def resubmit() -> CorrectionRequest:
        return services.correction_resubmit(
            request=request, changes=changes, reason=reason, acting_user=user, evidence=evidence
        )

    with work.flow_contention():
        result: CorrectionRequest = CorrectionFlow.revise.run(task, resubmit=resubmit)
    return result


def correction_withdraw(*, request: CorrectionRequest, user: User) -> CorrectionRequest:
    """The requester withdraws an open request; its process is cancelled, and whoever could
    take its open step hears of it."""
    process = CorrectionProcess.objects.get(request=request)
    with work.flow_contention(), CorrectionFlow.lock(process.pk), transaction.atomic():
        item = work.open_item_of(FLOW_KEY, request.pk)
        waiting_on: list[Recipient] = []
        if item is not None:
            holder = item.task.owner  # a task claimed through viewflow: only its holder
            step = next(s for s in DECLARATION.steps if s.key == item.step)
            waiting_on = [recipient_of(holder)] if holder else step.assignees(request)
        withdrawn = services.correction_withdraw(
            request=request, acting_user=user, waiting_on=waiting_on
        )
        CorrectionFlow.instance.cancel(process)
        work.close_items_of(process.pk)
    return withdrawn
