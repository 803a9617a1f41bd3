"""Celery tasks of the records: thin wrappers around services, primitive arguments only."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from records.checkpoints import checkpoint_write

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
