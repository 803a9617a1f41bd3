"""Deadlines of work items: the reminder two working days before a task is due
(``remind_at``; a step with a ``Timing`` of its own may have several, each moving
``remind_at`` to the next), the overdue mark at its due time (``due``), and then one email to
the administrators of the school's province (for a step with a ``Timing``, once its
``escalate_if`` agrees).

``timers_fire`` runs every five minutes from Celery beat (``workflows.tasks.workflow_timers``)
and from ``manage.py workflow_timers``. Every notice is keyed on its work item
(``workflows.workitem:<task>``, with the reminder's time for a step with several), so the
outbox writes it once per recipient however often the timers run; ``reminded_at``,
``overdue_at`` and ``escalated_at`` keep an item from being chosen again. Items are read in
chunks, each in its own transaction with its rows locked and rows locked by someone else
skipped, so two runners at once share the work instead of doubling it.
Only open items are chosen, and a task being decided meanwhile holds its row: it is skipped.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from viewflow.workflow.timers import fire_due_conditions
from viewflow.workflow.timers import fire_due_start_timers
from viewflow.workflow.timers import fire_due_timers

from notifications.services import Recipient
from notifications.services import notify
from records import notices
from workflows import steps
from workflows import work
from workflows.models import OPEN
from workflows.models import WorkItem
from workflows.steps import HumanStep

logger = logging.getLogger(__name__)

CHUNK = 100


@dataclass(frozen=True)
class TimerCounts:
    """What one run did: items reminded, marked overdue and escalated, and items that failed
    (logged, and tried again on the next run)."""

    reminded: int = 0
    overdue: int = 0
    escalated: int = 0
    failed: int = 0


def timers_fire(*, now: datetime.datetime | None = None, chunk: int = CHUNK) -> TimerCounts:
    """Remind, mark overdue and escalate every open work item whose time has come at ``now``
    (by default the current time), ``chunk`` items per transaction; returns how many of each.

    An item first seen after its due time (the timers were down) is reminded with a notice
    that says it is past due, then marked overdue and escalated in the same run.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk}")
    now = now or timezone.now()
    reminded, failed_reminders = _in_chunks(
        models.Q(reminded_at__isnull=True, remind_at__lte=now),
        order="remind_at",
        size=chunk,
        handle=lambda item: _remind(item, now),
    )
    due, failed_due = _in_chunks(
        models.Q(due__lte=now)
        & (models.Q(overdue_at__isnull=True) | models.Q(escalated_at__isnull=True)),
        order="due",
        size=chunk,
        handle=lambda item: _past_due(item, now),
    )
    return TimerCounts(
        # The last reminder of an item sets ``reminded_at``; an earlier one of a step with
        # several moves ``remind_at`` to the next.
        reminded=reminded["reminded_at"] + reminded["remind_at"],
        overdue=due["overdue_at"],
        escalated=due["escalated_at"],
        failed=failed_reminders + failed_due,
    )


def _in_chunks(
    pending: models.Q,
    *,
    order: str,
    size: int,
    handle: Callable[[WorkItem], Mapping[str, datetime.datetime]],
) -> tuple[Counter[str], int]:
    """Run ``handle`` on each open item matching ``pending``, ``size`` at a time in the order
    of ``order``, and set the time fields it returns. Returns how often each field was set,
    and how many items failed. Each chunk starts after the last item of the one before, so
    an item that still matches (failed, or not escalated yet) is seen once per run."""
    marked: Counter[str] = Counter()
    failed = 0
    after: models.Q | None = None
    while True:
        with transaction.atomic():
            chosen = (
                WorkItem.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("school", "province", "task__owner")
                .filter(OPEN, pending)
            )
            if after is not None:
                chosen = chosen.filter(after)
            items = list(chosen.order_by(order, "pk")[:size])
            for item in items:
                try:
                    # A savepoint: one item's failure never undoes the others' notices.
                    with transaction.atomic():
                        fields = handle(item)
                        if "overdue_at" in fields:  # marked and counted as everywhere
                            work.mark_overdue(item, at=fields["overdue_at"])
                        others = {k: v for k, v in fields.items() if k != "overdue_at"}
                        if others:
                            WorkItem.objects.filter(pk=item.pk).update(**others)
                except Exception:
                    logger.exception(
                        "workflow timers: work item %s failed; it is tried again next run",
                        item.pk,
                    )
                    failed += 1
                else:
                    marked.update(fields.keys())
        if len(items) < size:
            return marked, failed
        last = getattr(items[-1], order)
        after = models.Q(**{f"{order}__gt": last}) | models.Q(
            **{order: last, "pk__gt": items[-1].pk}
        )


def _remind(item: WorkItem, now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Remind whoever may take the item; then wait for the step's next reminder, if it has
    one still to come, or mark the item reminded."""
    step, subject = _declared(item)
    takers = _takers(item, step, subject)
    if not takers:
        logger.warning("workflow timers: nobody may take work item %s to be reminded", item.pk)
    notify(
        step.remind_event,
        object_key=_reminder_key(item, step),
        recipients=takers,
        context={**_context(item, step, subject, work.task_url(item)), "past_due": item.due <= now},
    )
    if step.timing is not None:
        later = [
            moment
            for moment in step.deadline(subject, item.created).reminders
            if moment > now and moment > item.remind_at and moment < item.due
        ]
        if later:
            return {"remind_at": later[0]}
    return {"reminded_at": now}


def _past_due(item: WorkItem, now: datetime.datetime) -> dict[str, datetime.datetime]:
    fields = {} if item.overdue_at else {"overdue_at": now}
    if item.escalated_at is None and _escalate(item):
        fields["escalated_at"] = now
    return fields


def _escalate(item: WorkItem) -> bool:
    """Tell the administrators of the item's province: those who may take the task get its
    link, the others the subject's own page (a school's task page is not theirs to open).
    ``False`` when the step's timing says not now (asked again on the next run)."""
    step, subject = _declared(item)
    if step.timing is not None and not step.timing.escalate_if(subject):
        return False
    admins = notices.provincial_admins(item.province)
    if not admins:
        logger.warning("workflow timers: no administrator to escalate work item %s to", item.pk)
    may_take = {r.user_id for r in _takers(item, step, subject)}
    subject_url = steps.declaration(item.flow).subject_url
    others_url = subject_url(subject) if subject_url else str(settings.SITE_URL)
    for recipients, url in (
        ([r for r in admins if r.user_id in may_take], work.task_url(item)),
        ([r for r in admins if r.user_id not in may_take], others_url),
    ):
        if recipients:
            notify(
                step.overdue_event,
                object_key=_object_key(item),
                recipients=recipients,
                context=_context(item, step, subject, url),
            )
    return True


def _declared(item: WorkItem) -> tuple[HumanStep, Any]:
    """The item's step declaration and its subject, with what the step's recipients read."""
    step = work.step_of(item)
    if step is None:
        raise LookupError(f"no flow declares the step {item.flow}.{item.step}")
    subject = step.subject_model._default_manager.select_related(*step.related).get(
        pk=item.subject_id
    )
    return step, subject


def _takers(item: WorkItem, step: HumanStep, subject: Any) -> list[Recipient]:
    """Who may take the task: its holder once claimed, else the step's assignees."""
    owner = item.task.owner
    return [notices.recipient_of(owner)] if owner is not None else step.assignees(subject)


def _object_key(item: WorkItem) -> str:
    return f"workflows.workitem:{item.pk}"


def _reminder_key(item: WorkItem, step: HumanStep) -> str:
    """One reminder per item, or, for a step with several, one per reminder time."""
    if step.timing is None:
        return _object_key(item)
    return f"{_object_key(item)}:{item.remind_at.astimezone(datetime.UTC):%Y%m%dT%H%M}"


def _context(item: WorkItem, step: HumanStep, subject: Any, url: str) -> dict[str, Any]:
    """What both deadline emails say of the task (and what a step's timing adds). The title
    is lazy, like the step's label: each recipient reads it in their own language."""
    title = lazy(steps.declaration(item.flow).title, str)(item.subject_id, step)
    return {
        "title": title,
        "step": step.label,
        "student": item.student_name,
        "school": item.school.name,
        "due": item.due,
        "url": url,
        **(step.timing.context(subject) if step.timing is not None else {}),
    }


def viewflow_timers_fire() -> dict[str, int]:
    """viewflow's own due timers, scheduled starts and conditions (a transfer's public
    notice is a ``flow.Timer``; run with the deadlines, so a flow that declares them needs
    nothing more)."""
    return {
        "timers": int(fire_due_timers()),
        "starts": int(fire_due_start_timers()),
        "conditions": int(fire_due_conditions()),
    }
