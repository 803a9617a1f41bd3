"""Celery tasks: thin wrappers around ``notifications.delivery``, primitive arguments only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import Task
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications import broker
from notifications import delivery

DEFAULT_SWEEP_AFTER_SECONDS = 60


@shared_task(bind=True, max_retries=None)
def notification_deliver(self: Task[Any, Any], notification_id: int) -> str:
    """Send one outbox row; on a temporary error, retry with backoff.

    The row is the source of truth: it counts the attempts and decides when to give up, so
    Celery's own retry limit is off. When the task runs in the caller's process (eager mode,
    or called directly) it does not retry in place, which would ignore the backoff: the row
    stays pending with ``next_attempt_at`` set and ``notification_sweep`` sends it later.
    """
    result = delivery.deliver(notification_id)
    in_process = self.request.is_eager or self.request.called_directly
    if result.outcome is delivery.Outcome.RETRY and not in_process:
        raise self.retry(countdown=result.retry_in)
    return result.outcome.value


@shared_task
def notification_sweep() -> int:
    """Queue again what nobody is sending: run by celery beat every minute.

    Rows stuck in ``sending`` (the worker died) go back to pending; pending rows untouched
    for ``NOTIFICATIONS_SWEEP_AFTER`` seconds whose retry time has come (the broker was down
    at commit, or a retry message was lost) are queued again. Returns how many were queued.
    """
    now = timezone.now()
    after = timedelta(
        seconds=getattr(settings, "NOTIFICATIONS_SWEEP_AFTER", DEFAULT_SWEEP_AFTER_SECONDS)
    )
    ids = delivery.reset_stuck(now) + delivery.due_for_sweep(now, after)
    return enqueue_deliveries(ids, probe=True)


@shared_task
def notification_deliver_many(notification_ids: list[int]) -> dict[str, int]:
    """Send several outbox rows in turn: a bulk announcement's, queued as one message
    (``enqueue_deliveries``). Each row is delivered as ``notification_deliver`` delivers it;
    a temporary error leaves that row pending with its next attempt set, and the sweep
    queues it again when it is due (retrying the message would send the others again).
    Returns how many rows had each outcome."""
    outcomes: dict[str, int] = {}
    for pk in notification_ids:
        outcome = delivery.deliver(pk).outcome.value
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# From this many rows, deliveries are queued ``BATCH_SIZE`` rows to a message
# (``notification_deliver_many``): a cohort's registration announces a thousand rows, and
# publishing a message cost about a third of a millisecond each, in the request.
BATCH_FROM = 50
BATCH_SIZE = 100


def enqueue_deliveries(ids: Iterable[int], *, probe: bool = False) -> int:
    """Queue the delivery of each id; returns how many rows were queued: one
    ``notification_deliver`` each, or, from ``BATCH_FROM`` rows, one
    ``notification_deliver_many`` for each ``BATCH_SIZE`` of them.

    Never raises, and costs a request at most about ``NOTIFICATIONS_ENQUEUE_TIMEOUT`` when the
    broker is down (``notifications.broker``): what is not queued stays pending for the sweep.
    """
    ids = list(ids)
    if len(ids) < BATCH_FROM:
        return broker.publish(notification_deliver, [(pk,) for pk in ids], probe=probe)
    batches = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    queued = broker.publish(notification_deliver_many, [(batch,) for batch in batches], probe=probe)
    return sum(len(batch) for batch in batches[:queued])
