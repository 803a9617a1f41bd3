"""Celery tasks of the workflows: thin wrappers around services, primitive arguments only."""

from __future__ import annotations

import dataclasses

from celery import shared_task

from workflows.flows.admission import cancellation_windows_close
from workflows.flows.revocation import revocation_windows_close
from workflows.flows.status_change import appeal_windows_close
from workflows.flows.year_registration import rounds_open_due
from workflows.timers import timers_fire
from workflows.timers import viewflow_timers_fire


@shared_task
def workflow_timers() -> dict[str, int]:
    """Reminders, overdue marks and escalations of work items, and viewflow's own due timers:
    run by celery beat every five minutes. A run that overlaps another shares the work
    (``timers_fire``)."""
    return {**dataclasses.asdict(timers_fire()), **viewflow_timers_fire()}


@shared_task
def year_registration_open() -> int:
    """Open the academic-year registration of every school whose window has opened today
    (``workflows.flows.year_registration.rounds_open_due``): run by celery beat every hour,
    idempotent. How many rounds it opened."""
    return len(rounds_open_due())


@shared_task
def status_change_appeal_windows() -> int:
    """Apply the adverse decisions whose appeal window ended with no appeal: status changes
    (``workflows.flows.status_change.appeal_windows_close``) and admissions' cancellations
    (``workflows.flows.admission.cancellation_windows_close``), and revocations, which go
    to the province's confirmation (``workflows.flows.revocation.revocation_windows_close``);
    run by celery beat every fifteen minutes, idempotent. How many took effect."""
    return appeal_windows_close() + cancellation_windows_close() + revocation_windows_close()
