from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from workflows.timers import timers_fire
from workflows.timers import viewflow_timers_fire


# It takes the place of viewflow's command of the same name (``workflows`` is listed before
# ``viewflow`` in INSTALLED_APPS for it) and does what that one does too: fire viewflow's own
# timers, scheduled starts and conditions.
class Command(BaseCommand):
    help = (
        "Remind whoever may take a task two working days before it is due, mark due tasks "
        "overdue and tell the province's administrators once, and fire viewflow's due timers "
        "(what Celery beat runs every five minutes)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = timers_fire()
        fired = viewflow_timers_fire()
        self.stdout.write(
            f"reminded {counts.reminded}, overdue {counts.overdue}, escalated {counts.escalated}; "
            f"viewflow: {fired['timers']} timer(s), {fired['starts']} start(s), "
            f"{fired['conditions']} condition(s)"
        )
        if counts.failed:
            raise CommandError(
                f"{counts.failed} work item(s) failed (see the log); they are tried again next run"
            )
