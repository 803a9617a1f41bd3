"""The work list of every flow: work items opened and closed with their tasks, the list a user
may act on with its filters and search, counts per step, and single and bulk decisions.

Everything here reads the step declarations (``workflows.steps``) and names no flow. The
pages and the API call these functions; they check permissions first (viewflow does not), run
the declared record service and the task transition in one transaction under the process
lock, and map contention to ``ConflictError`` (HTTP 409).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from permissions.checks import granted_ids
from records import decisions
from records import notices
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import School
from records.models import User
from records.notices import page_url
from workflows import steps
from workflows.models import OPEN
from workflows.models import WorkCount
from workflows.models import WorkItem
from workflows.steps import HumanStep
from workflows.steps import ProcessDeclaration

ALREADY_DECIDED = _("This task has already been decided.")
HELD_BY_OTHER = _("This task is held by another user.")
DECIDED_AT_OTHER_LEVEL = _(
    "You decided a step of this request at another level (the school's or the province's); "
    "someone else must decide this one."
)
BUSY = _("Someone else is acting on this request right now; try again.")
OPEN_TASK_STATES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL SQLSTATE
# The most tasks one bulk decision takes: 1,000 (issue 10's benchmark (s) approves 1,000
# suspensions in one request; 10-25 s on two shared cores, inside the Procfile's timeout).
BULK_MAX = 1_000


# --- declarations and work items ------------------------------------------------------------


def register(declaration: ProcessDeclaration) -> ProcessDeclaration:
    """Add a flow's declaration to the work list: each of its steps' nodes opens a work item
    when viewflow creates the step's task."""
    for step in declaration.steps:
        step.node.onCreate(open_item)
    return steps.add(declaration)


def open_item(activation: Any) -> WorkItem:
    """viewflow's ``onCreate`` of every declared step: the task's work item, with its
    subject's facts and its due times."""
    task = activation.task
    step = steps.step_of_node(task.flow_task)
    assert step is not None, task.flow_task  # noqa: S101  (registered nodes only)
    declaration = steps.declaration(step.flow)
    process = activation.process
    if not isinstance(process, declaration.process_model):
        process = process.coerced
    if step.subject_of is not None:  # one task per request inside the process
        subject = step.subject_of(activation)
        subject_id = subject.pk
    else:
        subject_id = getattr(process, f"{declaration.subject_field}_id")
        subject = steps.remembered_subject(process, subject_id)
    if subject is None:
        field = process._meta.get_field(declaration.subject_field)
        cached = field.get_cached_value(process, None) if field.is_cached(process) else None
        subject = cached or step.subject_model._default_manager.select_related(*step.related).get(
            pk=subject_id
        )
    facts = declaration.describe(subject)
    opened = timezone.localtime(task.created or timezone.now())
    deadline = step.deadline(subject, opened)
    due = deadline.due
    remind = deadline.reminders[0] if deadline.reminders else due
    item: WorkItem = WorkItem.objects.create(
        task=task,
        process_id=process.pk,
        flow=step.flow,
        step=step.key,
        scope_id=str(getattr(process, f"{step.scope}_id")),
        school_id=facts.school_id,
        province_id=facts.province_id,
        subject_id=subject_id,
        student_name=facts.student_name,
        reference=facts.reference,
        requester_id=facts.requester_id,
        excluded_id=_decider_at_other_level(process.pk, step) or facts.excluded_id,
        summary=list(facts.summary),
        created=opened,
        due=due,
        remind_at=remind,
    )
    adjust_counts(item, opened=1)
    return item


def _decider_at_other_level(process_id: Any, step: HumanStep) -> int | None:
    """Who last decided a step of the process at another level than ``step`` (another
    permission: the school's review before the province's sign-off), left out of the new
    item's work list. ``decided_at_other_level`` refuses all of them."""
    rows = (
        WorkItem.objects.filter(process_id=process_id, decided_by__isnull=False)
        .order_by("-closed", "-pk")
        .values_list("flow", "step", "decided_by_id")
    )
    for flow, key, decider in rows:
        if _at_other_level(flow, key, step):
            return int(decider)
    return None


def decided_at_other_level(user: User, step: HumanStep, process_ids: Sequence[Any]) -> set[Any]:
    """The processes among ``process_ids`` in which ``user`` decided a step at another level
    than ``step``: the province's step is never decided by whoever decided the school's, even
    one user holding both grants (and the other way round, after a return)."""
    rows = WorkItem.objects.filter(process_id__in=process_ids, decided_by=user).values_list(
        "process_id", "flow", "step"
    )
    return {process_id for process_id, flow, key in rows if _at_other_level(flow, key, step)}


def _at_other_level(flow: str, key: str, step: HumanStep) -> bool:
    """Whether the declared step ``<flow>.<key>`` is of another level than ``step``: another
    permission (the school's review, the province's sign-off)."""
    earlier = steps.step(f"{flow}.{key}")
    return earlier is not None and earlier.perm != step.perm


# Count changes of one decision (the closed item, the next step's new one), written together.
_PENDING: ContextVar[dict[tuple[str, str, str], list[Any]] | None] = ContextVar(
    "xueji_work_counts", default=None
)


@contextmanager
def _counts_together() -> Iterator[None]:
    """Collect the count changes made inside, and write them in one statement at its end."""
    pending: dict[tuple[str, str, str], list[Any]] = {}
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    _write_counts(pending)


def adjust_counts(item: WorkItem, *, opened: int = 0, overdue: int = 0) -> None:
    """Add to the counts of the item's step at its school (``WorkCount``), in the caller's
    transaction: one upsert statement (or part of one, inside ``_counts_together``)."""
    key = (item.flow, item.step, item.school_id)
    pending = _PENDING.get()
    if pending is None:
        _write_counts({key: [item.province_id, item.scope_id, opened, overdue]})
        return
    row = pending.setdefault(key, [item.province_id, item.scope_id, 0, 0])
    row[2] += opened
    row[3] += overdue


def _write_counts(pending: dict[tuple[str, str, str], list[Any]]) -> None:
    # Sorted, so two transactions touching the same rows always lock them in one order.
    rows = [(*key, *values) for key, values in sorted(pending.items()) if values[2] or values[3]]
    if not rows:
        return
    table = connection.ops.quote_name(WorkCount._meta.db_table)
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (flow, step, school_id, province_id, scope_id, open, overdue)"  # noqa: S608
            f" VALUES {placeholders}"
            " ON CONFLICT (flow, step, school_id) DO UPDATE SET"
            f" open = {table}.open + excluded.open,"
            f" overdue = {table}.overdue + excluded.overdue",
            [value for row in rows for value in row],
        )


def close_item(item: WorkItem, *, decided_by: User | None = None, decision: str = "") -> bool:
    """Close an open item (decided, or its process cancelled) and take it off the counts;
    ``False`` when it was closed already."""
    return bool(close_items([item], decided_by=decided_by, decision=decision))


def close_items(
    items: Sequence[WorkItem], *, decided_by: User | None = None, decision: str = ""
) -> int:
    """Close open items and take them off the counts, in one statement; how many were still
    open. The update locks their rows, so a timer marking one overdue at the same moment is
    either seen here or skips it."""
    if not items:
        return 0
    table = connection.ops.quote_name(WorkItem._meta.db_table)
    by_pk = {item.pk: item for item in items}
    placeholders = ", ".join(["%s"] * len(items))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET closed = %s, decided_by_id = %s, decision = %s"  # noqa: S608
            f" WHERE task_id IN ({placeholders}) AND closed IS NULL"
            " RETURNING task_id, overdue_at",
            [timezone.now(), decided_by.pk if decided_by else None, decision, *by_pk],
        )
        rows = cursor.fetchall()
    for pk, overdue_at in rows:
        adjust_counts(by_pk[pk], opened=-1, overdue=-1 if overdue_at is not None else 0)
    return len(rows)


def close_items_of(process_pk: Any) -> None:
    """Close the open items of a cancelled process."""
    close_items(list(WorkItem.objects.filter(OPEN, process_id=process_pk)))


def mark_overdue(item: WorkItem, *, at: datetime.datetime) -> bool:
    """Mark an open item overdue (once) and count it; ``False`` when it was marked or closed
    already."""
    marked = WorkItem.objects.filter(OPEN, pk=item.pk, overdue_at__isnull=True).update(
        overdue_at=at
    )
    if marked:
        adjust_counts(item, overdue=1)
    return bool(marked)


# --- what a user may act on -----------------------------------------------------------------


def _scope_ids(user: User, step: HumanStep) -> list[str] | None:
    """The scope keys on which ``user`` may take ``step``; ``None``: every one."""
    ids = granted_ids(user, step.perm)
    return None if ids is None else sorted(str(pk) for pk in ids)


def may_act(user: User, step: HumanStep, scope_id: str) -> bool:
    ids = _scope_ids(user, step)
    return ids is None or scope_id in ids


def step_of(item: WorkItem) -> HumanStep | None:
    """The declared step of a work item (``None`` for a step no flow declares any more)."""
    return steps.step(f"{item.flow}.{item.step}")


@dataclass(frozen=True)
class Shown:
    """What the work list, the task page and the task API say of a work item."""

    title: str  # "学历信息更正 #12"
    step_label: str
    summary: str  # what it is about, in the active language (a correction: its fields)


def shown(item: WorkItem) -> Shown:
    declaration = steps.declaration(item.flow)
    step = step_of(item)
    labels = [str(declaration.summary_label(key)) for key in item.summary]
    separator = "、" if translation.get_language() == "zh-hans" else ", "
    return Shown(
        title=declaration.title(item.subject_id, step),
        step_label=str(step.label) if step else item.step,
        summary=separator.join(labels),
    )


def actionable_steps(user: User) -> list[HumanStep]:
    """The declared steps ``user`` may take somewhere."""
    return [s for s in steps.steps() if _scope_ids(user, s) != []]


def _in_scope(user: User) -> models.Q:
    """For each declared step, its rows whose scope key is among the user's grants of the
    step's permission (a literal ``IN`` list, which the rows' scope indexes serve)."""
    condition = models.Q(pk__in=[])
    for step in steps.steps():
        ids = _scope_ids(user, step)
        if ids == []:
            continue
        q = models.Q(flow=step.flow, step=step.key)
        if ids is not None:
            q &= models.Q(scope_id__in=ids)
        condition |= q
    return condition


def open_items(user: User) -> models.QuerySet[WorkItem]:
    """The open work items ``user`` may act on, for every flow, never the user's own
    requests nor those they are excluded from (``workitem_open_scope`` serves them in
    waiting order)."""
    items: models.QuerySet[WorkItem] = (
        WorkItem.objects.filter(OPEN)
        .filter(_in_scope(user))
        .exclude(requester_id=user.pk)
        .exclude(excluded_id=user.pk)
    )
    return items


@dataclass(frozen=True)
class Filters:
    """The work list's filters (all optional)."""

    flow: str = ""
    step: str = ""
    school: str = ""
    overdue: bool = False
    q: str = ""


def filtered(items: models.QuerySet[WorkItem], filters: Filters) -> models.QuerySet[WorkItem]:
    """``q`` matches the start of the student's name, a reference (certificate number) in
    full, or the request's number (``12`` or ``#12``)."""
    if filters.flow:
        items = items.filter(flow=filters.flow)
    if filters.step:
        items = items.filter(step=filters.step)
    if filters.school:
        items = items.filter(school_id=filters.school)
    if filters.overdue:
        items = items.filter(overdue_at__isnull=False)
    q = filters.q.strip()
    if q:
        match = models.Q(student_name__startswith=q) | models.Q(reference=q)
        number = q.removeprefix("#")
        if number.isascii() and number.isdigit() and len(number) <= 18:  # noqa: PLR2004
            match |= models.Q(subject_id=int(number))
        items = items.filter(match)
    return items


def _scoped_counts(user: User) -> models.QuerySet[WorkCount]:
    """The count rows of the steps and scopes ``user`` may take (as ``open_items``)."""
    return WorkCount.objects.filter(_in_scope(user))


def counts(user: User, *, school: str = "") -> list[dict[str, Any]]:
    """Open and overdue items per step the user may take, zeros included, from the kept
    counts (``WorkCount``): their cost does not grow with the number of items. The user's
    own requests are counted too (a count cannot tell them apart; the list leaves them out)."""
    rows = _scoped_counts(user)
    if school:
        rows = rows.filter(school_id=school)
    found = {
        (row["flow"], row["step"]): row
        for row in rows.order_by()
        .values("flow", "step")
        .annotate(open_sum=models.Sum("open"), overdue_sum=models.Sum("overdue"))
    }
    results = []
    for step in actionable_steps(user):
        row = found.get((step.flow, step.key), {})
        results.append(
            {
                "flow": step.flow,
                "step": step.key,
                "open": row.get("open_sum") or 0,
                "overdue": row.get("overdue_sum") or 0,
            }
        )
    return results


def with_counts(schools: models.QuerySet[School]) -> models.QuerySet[School]:
    """Each school with its open and overdue tasks of every step (``open_tasks``,
    ``overdue_tasks``, from the kept counts), those that need attention first: what a
    provincial administrator watches over a hundred schools."""

    def total(column: str) -> Coalesce:
        rows = (
            WorkCount.objects.filter(school=models.OuterRef("pk"))
            .order_by()
            .values("school")
            .annotate(total=models.Sum(column))
            .values("total")
        )
        return Coalesce(models.Subquery(rows), 0)

    return schools.annotate(open_tasks=total("open"), overdue_tasks=total("overdue")).order_by(
        "-overdue_tasks", "-open_tasks", "code"
    )


def recount() -> list[dict[str, Any]]:
    """The counts as the items say (a check of the kept counts: tests and operators)."""
    return list(
        WorkItem.objects.filter(OPEN)
        .order_by()
        .values("flow", "step", "school_id")
        .annotate(
            open=models.Count("pk"),
            overdue=models.Count("pk", filter=models.Q(overdue_at__isnull=False)),
        )
        .order_by("flow", "step", "school_id")
    )


def kept_counts() -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in WorkCount.objects.exclude(open=0, overdue=0)
        .values("flow", "step", "school_id", "open", "overdue")
        .order_by("flow", "step", "school_id")
    ]


# --- one item -------------------------------------------------------------------------------


def item_for(user: User, task_pk: int) -> tuple[WorkItem, HumanStep]:
    """A work item (open or closed) ``user`` may act on or has acted on, with its step; else
    ``NotVisibleError``."""
    item = WorkItem.objects.filter(pk=task_pk).first()
    step = step_of(item) if item else None
    if item is None or step is None:
        raise NotVisibleError(task_pk)
    if not may_act(user, step, item.scope_id) and item.decided_by_id != user.pk:
        raise NotVisibleError(task_pk)
    return item, step


def task_url(item: WorkItem) -> str:
    """The absolute link to a task's page, for emails (the task API when the web pages are
    not mounted, an API-only deployment)."""
    return page_url("work:task", {"task_pk": item.pk}, "/api/v1/tasks/")


def subject_of(item: WorkItem) -> Any:
    step = step_of(item)
    assert step is not None  # noqa: S101
    return step.subject_model._default_manager.get(pk=item.subject_id)


def open_item_of(flow: str, subject_id: Any, step: str = "") -> WorkItem | None:
    """The open work item of a subject (of ``step``, in a flow whose steps decide subjects of
    several kinds), if one waits for a decision."""
    items = WorkItem.objects.filter(OPEN, flow=flow, subject_id=subject_id)
    if step:
        items = items.filter(step=step)
    return items.order_by("-pk").first()


def open_item_for(user: User, flow: str, subject_id: Any) -> WorkItem | None:
    """The open work item of a subject that ``user`` may act on (a cross-province transfer
    waits for two provinces at once), if any."""
    items = WorkItem.objects.filter(OPEN, flow=flow, subject_id=subject_id).select_related("task")
    for item in items.order_by("-pk"):
        step = step_of(item)
        if step is not None and may_act(user, step, item.scope_id):
            return item
    return None


def may_decide(user: User, flow: str, subject_id: Any) -> bool:
    """Whether ``user`` may decide the subject's open task now: its step is theirs to take in
    its scope, they did not file the subject, and nobody else holds the task (what ``decide``
    checks before it writes, short of the subject's own rules)."""
    item = open_item_for(user, flow, subject_id)  # of a transfer's two provinces', theirs
    step = step_of(item) if item else None
    if item is None or step is None or user.pk in (item.requester_id, item.excluded_id):
        return False
    if item.task.owner_id is not None and item.task.owner_id != user.pk:
        return False
    if not may_act(user, step, item.scope_id):
        return False
    return not decided_at_other_level(user, step, [item.process_id])


# --- deciding -------------------------------------------------------------------------------


@contextmanager
def flow_contention() -> Iterator[None]:
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


@dataclass(frozen=True)
class Decision:
    task: int
    state: str
    outcome: str


def _tasks(declaration: ProcessDeclaration) -> models.QuerySet[Task]:
    """Tasks with their concrete process, in one query (instead of the task, its base
    process and the coerced process)."""
    tasks: models.QuerySet[Task] = Task.objects.select_related(
        f"process__{declaration.process_model._meta.model_name}"
    )
    return tasks


def _not_takeable(task: Task, user: User) -> ConflictError | None:
    """Why ``user`` cannot complete ``task`` now: decided already, or held by someone else."""
    if task.status not in OPEN_TASK_STATES:
        return ConflictError(str(ALREADY_DECIDED), code="already_decided")
    if task.owner_id is not None and task.owner_id != user.pk:
        return ConflictError(str(HELD_BY_OTHER), code="held_by_other")
    return None


def _complete(task: Task, subject: Any, user: User) -> None:
    """Claim and complete the task whose subject was just decided; the next nodes read the
    decided subject rather than load it again."""
    activation = task.flow_task.activation_class(task)
    steps.remember_subject(activation.process, subject)
    if task.status == STATUS.NEW:
        activation.assign(user)
    if task.status == STATUS.ASSIGNED:
        activation.start(None)
    activation.execute()


def decide(*, task_pk: int, user: User, decision: str, comment: str = "") -> Decision:
    """Claim the task and complete it with ``decision``, running the step's declared record
    service (``records.decisions.decide``) in the task's transaction.

    404 when the user may not act on it; 409 (``ConflictError``) when it was already decided,
    is held by someone else, or another decision holds the lock. Nothing is written when a
    rule refuses the decision.
    """
    item, step = item_for(user, task_pk)
    declaration = steps.declaration(item.flow)
    with flow_contention(), step.node.flow_class.lock(item.process_id):
        # What ``Task.activation()`` does under the lock (the task as of now, then its
        # activation), reading the task with its concrete process in one query instead of
        # three (the task, its base process, the coerced process).
        task = _tasks(declaration).get(pk=item.pk)
        refusal = _not_takeable(task, user)
        if refusal is not None:
            raise refusal
        if decided_at_other_level(user, step, [item.process_id]):
            raise PermissionDenied(DECIDED_AT_OTHER_LEVEL)
        result = decisions.decide(
            rule=step,
            subject_pk=item.subject_id,
            decision=decision,
            comment=comment,
            acting_user=user,
        )
        # This item's close and the next step's item; closed first, so the next item knows
        # who decided this one (``_decider_at_other_level``).
        with _counts_together():
            close_item(item, decided_by=user, decision=decision)
            _complete(task, result.subject, user)
    return Decision(task=item.pk, state=result.state, outcome=result.outcome)


@dataclass(frozen=True)
class BulkResult:
    task: int
    ok: bool
    state: str = ""
    code: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"task": self.task, "ok": True, "state": self.state}
        return {"task": self.task, "ok": False, "code": self.code, "detail": self.detail}


def _refusal(task_pk: int, exc: Exception) -> BulkResult:
    if isinstance(exc, NotVisibleError):
        return BulkResult(task_pk, ok=False, code="not_found", detail=str(_("Not found.")))
    if isinstance(exc, PermissionDenied):
        detail = str(exc) or str(decisions.MAY_NOT_DECIDE)
        return BulkResult(task_pk, ok=False, code="permission_denied", detail=detail)
    if isinstance(exc, ConflictError):
        return BulkResult(task_pk, ok=False, code=exc.code, detail=exc.message)
    assert isinstance(exc, ValidationError)  # noqa: S101
    return BulkResult(task_pk, ok=False, code="invalid", detail=" ".join(exc.messages))


BULK_CHUNK = 50


def decide_many(
    *, task_pks: Sequence[int], user: User, decision: str, comment: str = ""
) -> list[BulkResult]:
    """One decision for many tasks; results in the order given, each task once.

    Each task is checked on its own, as ``decide`` checks it: one refusal (not visible,
    already decided, not permitted, stale) never undoes the others. The tasks of one step are
    decided in chunks of ``BULK_CHUNK``, one transaction each, whose shared writes (the
    subjects' lock, audit events, emails, work items, counts) take one statement for the
    chunk instead of one per task; viewflow's own writes stay per task. A chunk that cannot be
    taken whole (a process locked by someone else, an error in a record service) is rolled
    back and decided one task at a time, each in its own transaction, as ``decide`` does.
    """
    ordered = list(dict.fromkeys(task_pks))
    items = {item.pk: item for item in WorkItem.objects.filter(pk__in=ordered)}
    results: dict[int, BulkResult] = {}
    by_step: dict[str, list[WorkItem]] = {}
    for pk in ordered:
        item = items.get(pk)
        step = step_of(item) if item else None
        if item is None or step is None or not may_act(user, step, item.scope_id):
            results[pk] = _refusal(pk, NotVisibleError(pk))
        else:
            by_step.setdefault(step.ref, []).append(item)
    with notices.holders_kept():
        for ref, group in by_step.items():
            step = steps.step(ref)
            assert step is not None  # noqa: S101  (grouped by declared steps)
            for start in range(0, len(group), BULK_CHUNK):
                chunk = group[start : start + BULK_CHUNK]
                try:
                    results.update(_decide_chunk(step, chunk, user, decision, comment))
                except (ValidationError, ConflictError, DatabaseError, FlowLockFailed):
                    for item in chunk:  # one at a time: each answers for itself
                        results[item.pk] = _decide_one(item.pk, user, decision, comment)
    return [results[pk] for pk in ordered]


def _decide_one(task_pk: int, user: User, decision: str, comment: str) -> BulkResult:
    try:
        done = decide(task_pk=task_pk, user=user, decision=decision, comment=comment)
    except (NotVisibleError, PermissionDenied, ConflictError, ValidationError) as exc:
        return _refusal(task_pk, exc)
    return BulkResult(task_pk, ok=True, state=done.state)


def _decide_chunk(
    step: HumanStep, chunk: list[WorkItem], user: User, decision: str, comment: str
) -> dict[int, BulkResult]:
    """Decide a chunk of one step's tasks in one transaction (see ``decide_many``)."""
    declaration = steps.declaration(step.flow)
    results: dict[int, BulkResult] = {}
    with transaction.atomic():
        # The processes' rows, locked as viewflow's lock does (FOR UPDATE NOWAIT): a busy one
        # sends the chunk to the one-at-a-time path, where viewflow retries.
        locked = set(
            step.node.flow_class.process_class._default_manager.select_for_update(nowait=True)
            .filter(pk__in=[item.process_id for item in chunk])
            .values_list("pk", flat=True)
        )
        tasks = {
            task.pk: task for task in _tasks(declaration).filter(pk__in=[item.pk for item in chunk])
        }
        waiting = []
        elsewhere = decided_at_other_level(user, step, [item.process_id for item in chunk])
        for item in chunk:
            task = tasks.get(item.pk)
            if item.process_id not in locked or task is None:
                results[item.pk] = _refusal(item.pk, NotVisibleError(item.pk))
            elif (refusal := _not_takeable(task, user)) is not None:
                results[item.pk] = _refusal(item.pk, refusal)
            elif item.process_id in elsewhere:
                results[item.pk] = _refusal(item.pk, PermissionDenied(DECIDED_AT_OTHER_LEVEL))
            else:
                waiting.append(item)
        outcomes = decisions.decide_many(
            rule=step,
            subject_pks=[item.subject_id for item in waiting],
            decision=decision,
            comment=comment,
            acting_user=user,
        )
        decided = []
        for item in waiting:
            outcome = outcomes[item.subject_id]
            if isinstance(outcome, decisions.DecisionResult):
                decided.append((item, outcome))
            else:
                results[item.pk] = _refusal(item.pk, outcome)
        with _counts_together():
            # Closed first, so the next steps' items know who decided these.
            close_items([item for item, _outcome in decided], decided_by=user, decision=decision)
            for item, outcome in decided:
                _complete(tasks[item.pk], outcome.subject, user)
                results[item.pk] = BulkResult(item.pk, ok=True, state=outcome.state)
    return results
