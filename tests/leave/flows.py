from __future__ import annotations

from typing import Any

from django.db import transaction
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock

from permissions import codenames
from records import notices
from records.decisions import Choice
from records.decisions import Decided
from records.decisions import Outcome
from records.models import School
from records.models import User
from tests.leave.models import LeaveProcess
from tests.leave.models import LeaveRequest
from workflows import nodes
from workflows import work
from workflows.steps import Facts
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration


class LeaveFlow(flow.Flow):
    process_class = LeaveProcess
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.review)
    review = (
        flow.View(nodes.task_view)
        .Permission(codenames.REVIEW_SCHOOL, obj=lambda p: School(pk=p.coerced.school_id))
        .Next(this.end)
    )
    end = flow.End()

    def start_process(self, activation: Any, *, request: LeaveRequest) -> Any:
        activation.process.request = request
        activation.process.school_id = request.school_id
        activation.process.province_id = request.province_id
        return activation.process


def _to(state: str) -> Any:
    def apply(request: LeaveRequest, decided: Decided) -> None:
        request.state = state

    return apply


REVIEW = HumanStep(
    key="review",
    label="Leave review",
    node=LeaveFlow.review,
    scope="school",
    due_days=3,
    assignees=lambda request: notices.school_officers(request.school),
    subject_model=LeaveRequest,
    perm=codenames.REVIEW_SCHOOL,
    waits_in=("submitted",),
    related=("school", "student"),
    choices=(
        Choice("approve", "Grant", _to("approved"), Outcome("granted", "leave.granted")),
        Choice(
            "reject",
            "Refuse",
            _to("rejected"),
            Outcome("refused", "leave.refused"),
            needs_comment=True,
        ),
    ),
)


def _facts(request: LeaveRequest) -> Facts:
    return Facts(
        student_name=request.student.name,
        school_id=request.school_id,
        province_id=request.province_id,
        requester_id=request.requester_id,
        summary=(f"{request.days}",),
    )


DECLARATION = work.register(
    ProcessDeclaration(
        key="leave",
        label="Leave",
        flow_class=LeaveFlow,
        process_model=LeaveProcess,
        subject_field="request",
        describe=_facts,
        summary_label=lambda days: f"{days} days",
        steps=(REVIEW,),
    )
)


def leave_start(*, student: Any, days: int, requester: User) -> LeaveRequest:
    with transaction.atomic():
        request = LeaveRequest.objects.create(
            student=student,
            school=student.qualifications.first().school,
            province_id=student.qualifications.first().province_id,
            requester=requester,
            days=days,
        )
        LeaveFlow.start.run(request=request)
    return request
