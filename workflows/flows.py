"""The flows: who acts, in what order, with which approvals. They never write record fields;
record changes happen in ``records`` services, called by ``workflows.services`` inside the
task's lock and transaction."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock

from permissions import codenames
from records.choices import CorrectionState
from records.models import CorrectionRequest
from records.models import Province
from records.models import School
from workflows.models import CorrectionProcess


def _school_of(process: Any) -> School:
    """The scope object of the school review. viewflow stores only its content type and key,
    so it is built from the id the process holds rather than loaded. can_assign() passes the
    base Process (task.process), create() the subclass."""
    return School(pk=process.coerced.school_id)


def _province_of(process: Any) -> Province:
    return Province(pk=process.coerced.province_id)


def _state_is(state: str) -> Any:
    def condition(activation: Any) -> bool:
        request = CorrectionRequest.objects.only("state").get(pk=activation.process.request_id)
        return bool(request.state == state)

    return condition


class CorrectionFlow(flow.Flow):
    """Correction of a registered qualification: school review, then provincial sign-off.

    A returned request waits in ``revise`` for the requester's resubmission, then goes to school
    review again; a stale approval (the record changed since filing) also goes back to school
    review. Withdrawal cancels the process.
    """

    process_class = CorrectionProcess
    process_title = _("Qualification correction")
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.school_review)
    school_review = (
        flow.View(this.task_view)
        .Annotation(title=_("School review"))
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
        .Annotation(title=_("Revision by the requester"))
        .Next(this.school_review)
    )
    province_signoff = (
        flow.View(this.task_view)
        .Annotation(title=_("Provincial sign-off"))
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

    def task_view(self, request: Any, **kwargs: Any) -> Any:
        from workflows.correction_views import task_page  # noqa: PLC0415  (views import flows)

        return task_page(request, task_pk=kwargs["task_pk"])
