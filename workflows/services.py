"""The only way the web pages and the API drive flows: start, decide, resubmit, withdraw, and
list the tasks a user may act on. Each call checks permissions first (viewflow does not), runs
the record service and the task transition in one transaction under the process lock, and maps
contention to ``ConflictError`` (HTTP 409)."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from django.db import DatabaseError
from django.db import models
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from permissions import codenames
from permissions.checks import granted_ids
from permissions.checks import may
from records import corrections
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from workflows.flows import CorrectionFlow
from workflows.models import CorrectionProcess

ALREADY_DECIDED = _("This task has already been decided.")
HELD_BY_OTHER = _("This task is held by another user.")
BUSY = _("Someone else is acting on this request right now; try again.")
OPEN_TASK_STATES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL SQLSTATE


@dataclass(frozen=True)
class HumanStep:
    """A human task of a flow: which permission takes it, and which process model it has."""

    flow_class: type[Any]
    node: Any
    perm: str
    process_model: type[models.Model]  # the concrete Process subclass of the flow


HUMAN_STEPS: tuple[HumanStep, ...] = (
    HumanStep(
        CorrectionFlow,
        CorrectionFlow.school_review,
        codenames.REVIEW_SCHOOL,
        CorrectionProcess,
    ),
    HumanStep(
        CorrectionFlow,
        CorrectionFlow.province_signoff,
        codenames.SIGNOFF_PROVINCE,
        CorrectionProcess,
    ),
)


@contextmanager
def _flow_contention() -> Iterator[None]:
    try:
        yield
    except FlowLockFailed as exc:
        raise ConflictError(str(BUSY), code="busy") from exc
    except DatabaseError as exc:
        # A NOWAIT row lock refused where viewflow cannot retry (inside an outer transaction):
        # PostgreSQL's lock_not_available. Every other database error is a real error.
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise ConflictError(str(BUSY), code="busy") from exc
        raise


def _step_of(task: TaskLike) -> HumanStep | None:
    for step in HUMAN_STEPS:
        if task.flow_task == step.node:
            return step
    return None


# --- starting -------------------------------------------------------------------------------


def correction_start(
    *, qualification: Qualification, changes: dict[str, Any], reason: str, requester: User
) -> CorrectionRequest:
    """File a correction and start its flow, in one transaction."""
    with transaction.atomic():  # the start callback runs before viewflow's own transaction
        request = corrections.correction_file(
            qualification=qualification, changes=changes, reason=reason, requester=requester
        )
        CorrectionFlow.start.run(request=request)
    return request


# --- the task list --------------------------------------------------------------------------


def open_tasks(user: User) -> models.QuerySet[Task]:
    """The open human tasks ``user`` may act on, newest first, for every flow.

    Scoped like every list: the user's granted scope ids first, then a literal ``IN`` filter on
    the task's own scope key (``owner_permission_obj_pk``: the school or province viewflow
    stored from ``.Permission(obj=…)`` when it created the task). The partial index
    ``workflows_open_task_scope`` (step, scope, created) serves a page in index order, so its
    cost does not grow with the number of open tasks.
    """
    condition = models.Q(pk__in=[])
    for step in HUMAN_STEPS:
        ids = granted_ids(user, step.perm)
        if ids is not None and not ids:
            continue
        q = models.Q(flow_task=step.node)
        if ids is not None:
            q &= models.Q(owner_permission_obj_pk__in=sorted(str(pk) for pk in ids))
        condition |= q
    held_elsewhere = models.Q(owner__isnull=False) & ~models.Q(owner=user)
    tasks: models.QuerySet[Task] = (
        Task.objects.filter(condition, status__in=OPEN_TASK_STATES)
        .exclude(held_elsewhere)
        .order_by("-created", "-pk")
    )
    return tasks


@dataclass(frozen=True)
class TaskSummary:
    subject_type: str
    subject_id: int
    school: str


class TaskLike(Protocol):
    """A task, or a row of a task list (``TASK_ROW`` columns, no model instance per row)."""

    @property
    def pk(self) -> Any: ...
    @property
    def flow_task(self) -> Any: ...
    @property
    def status(self) -> Any: ...
    @property
    def created(self) -> Any: ...
    @property
    def process_id(self) -> Any: ...


TASK_ROW = ("pk", "flow_task", "status", "created", "process_id")


def task_summaries(tasks: Sequence[TaskLike]) -> dict[int, TaskSummary]:
    """What a task list shows of each task's process: one small query per process model."""
    by_model: dict[type[models.Model], list[TaskLike]] = {}
    for task in tasks:
        step = _step_of(task)
        if step is not None:
            by_model.setdefault(step.process_model, []).append(task)
    summaries: dict[int, TaskSummary] = {}
    for model, group in by_model.items():
        rows = (
            model._default_manager.filter(pk__in=[t.process_id for t in group])
            .order_by()  # no join to the base process table for its default ordering
            .values("pk", "request_id", "school_id")
        )
        processes = {row["pk"]: row for row in rows}
        for task in group:
            row = processes[task.process_id]
            summaries[task.pk] = TaskSummary("correction", row["request_id"], row["school_id"])
    return summaries


def step_process(task: Task) -> Any:
    """The concrete process of a human task (``CorrectionProcess``, …)."""
    step = _step_of(task)
    if step is None:
        raise NotVisibleError(task.pk)
    return step.process_model._default_manager.get(pk=task.process_id)


def _visible(user: User, task_pk: int) -> tuple[Task, HumanStep, CorrectionRequest]:
    task = Task.objects.filter(pk=task_pk).first()
    if task is None:
        raise NotVisibleError(task_pk)
    step = _step_of(task)
    if step is None:
        raise NotVisibleError(task_pk)
    request = step_process(task).request
    if not may(user, step.perm, request):
        raise NotVisibleError(task_pk)
    return task, step, request


def task_for(user: User, task_pk: int) -> Task:
    """A task the user may see (open or done), else ``NotVisibleError``."""
    return _visible(user, task_pk)[0]


def open_task_of(request: CorrectionRequest) -> Task | None:
    return (
        Task.objects.filter(
            process__correctionprocess__request=request, status__in=OPEN_TASK_STATES
        )
        .order_by("-pk")
        .first()
    )


# --- deciding -------------------------------------------------------------------------------


def task_decide(*, task_pk: int, user: User, decision: str, comment: str = "") -> Task:
    """Claim the task if unclaimed and complete it with ``decision``.

    409 (``ConflictError``) when it was already decided, is held by someone else, or another
    decision holds the lock. Nothing is written when a rule refuses the decision.
    """
    task, step, request = _visible(user, task_pk)
    with _flow_contention(), task.activation() as activation:
        task = activation.task
        if task.status not in OPEN_TASK_STATES:
            raise ConflictError(str(ALREADY_DECIDED), code="already_decided")
        if task.owner_id is not None and task.owner_id != user.pk:
            raise ConflictError(str(HELD_BY_OTHER), code="held_by_other")
        # The record services lock and re-read the request by its key; the copy loaded for
        # the permission check above only names it.
        if step.node == CorrectionFlow.school_review:
            corrections.correction_school_decide(
                request=request, decision=decision, comment=comment, acting_user=user
            )
        else:
            corrections.correction_province_decide(
                request=request, decision=decision, comment=comment, acting_user=user
            )
        if task.status == STATUS.NEW:
            activation.assign(user)
        if task.status == STATUS.ASSIGNED:
            activation.start(None)
        activation.execute()
    return task


# --- the requester's actions ----------------------------------------------------------------


def correction_resubmit(
    *, request: CorrectionRequest, changes: dict[str, Any], reason: str, user: User
) -> CorrectionRequest:
    """The requester revises a returned request; the flow goes back to school review."""
    task = Task.objects.filter(
        process__correctionprocess__request=request,
        flow_task=CorrectionFlow.revise,
        status__in=OPEN_TASK_STATES,
    ).first()
    if task is None:
        raise ConflictError(str(corrections.WRONG_STEP), code="not_returned")

    def resubmit() -> CorrectionRequest:
        return corrections.correction_resubmit(
            request=request, changes=changes, reason=reason, acting_user=user
        )

    with _flow_contention():
        result: CorrectionRequest = CorrectionFlow.revise.run(task, resubmit=resubmit)
    return result


def correction_withdraw(*, request: CorrectionRequest, user: User) -> CorrectionRequest:
    """The requester withdraws an open request; its process is cancelled."""
    process = CorrectionProcess.objects.get(request=request)
    with _flow_contention(), CorrectionFlow.lock(process.pk):
        task = open_task_of(request)
        holder = [task.owner] if task is not None and task.owner is not None else []
        withdrawn = corrections.correction_withdraw(
            request=request, acting_user=user, task_holders=holder
        )
        CorrectionFlow.instance.cancel(process)
    return withdrawn
