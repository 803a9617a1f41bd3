"""Celery tasks of the records: thin wrappers around services, primitive arguments only."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.broker import publish
from records.admissions.imports import run_import
from records.checkpoints import checkpoint_write
from records.choices import ImportState
from records.models import AdmissionImport

logger = logging.getLogger(__name__)


@shared_task
def audit_checkpoint() -> str | None:
    """Sign the audit chains' heads into ``AUDIT_CHECKPOINT_DIR`` (celery beat, every
    ``AUDIT_CHECKPOINT_HOURS``); skipped, with one log line, while no key is configured."""
    if not settings.AUDIT_CHECKPOINT_KEY.strip():
        logger.info("audit checkpoint skipped: AUDIT_CHECKPOINT_KEY is not set")
        return None
    path = checkpoint_write()
    logger.info("audit checkpoint written to %s", path)
    return str(path)


@shared_task(acks_late=True)
def admission_import_run(batch_pk: int) -> str:
    """Run a queued admission import (``records.admissions.imports.run_import``)."""
    return str(run_import(batch_pk).state)


def queue_admission_import(batch_pk: int) -> None:
    """After the caller's commit: hand the import to a worker (or run it here, eagerly).
    With the broker down it stays ``queued`` and ``admission_import_sweep`` queues it later."""
    transaction.on_commit(lambda: publish(admission_import_run, [(batch_pk,)]))


@shared_task
def admission_import_sweep() -> int:
    """Queue again the imports nobody took (the broker was down when they were uploaded)."""
    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        AdmissionImport.objects.filter(state=ImportState.QUEUED, created__lt=stale).values_list(
            "pk", flat=True
        )
    )
    return publish(admission_import_run, [(pk,) for pk in ids], probe=True)
