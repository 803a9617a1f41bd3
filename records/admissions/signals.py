"""``admissions_added``: sent by ``records`` when admissions were written, so that the
workflows open each cohort's review (``workflows.flows.admission`` listens) without
``records`` knowing of them. Sent once an import has finished, outside its transactions: a
receiver's failure is logged and never undoes the import (the cohort is opened again the
next time its admissions are imported or an outcome is recorded for one of them)."""

from __future__ import annotations

import logging

from django.dispatch import Signal

from records.models import AdmissionImport
from records.models import AdmissionRecord

logger = logging.getLogger(__name__)

# kwargs: ``cohorts``, a sorted list of ``(school code, admission year)``.
admissions_added = Signal()


def announce_import(batch: AdmissionImport) -> None:
    """Send ``admissions_added`` for the cohorts an import wrote admissions to, if any."""
    if not batch.imported:
        return
    cohorts = sorted(
        set(
            AdmissionRecord.objects.filter(batch=batch)
            .order_by()
            .values_list("school_id", "admission_year")
            .distinct()
        )
    )
    announce(cohorts)


def announce(cohorts: list[tuple[str, int]]) -> None:
    """Send ``admissions_added`` for ``cohorts`` (any writer of admissions other than the
    import calls this too, e.g. a seed)."""
    if not cohorts:
        return
    for receiver, response in admissions_added.send_robust(sender=AdmissionRecord, cohorts=cohorts):
        if isinstance(response, Exception):
            logger.error(
                "admissions_added: %r failed for %s",
                receiver,
                cohorts,
                exc_info=(type(response), response, response.__traceback__),
            )
