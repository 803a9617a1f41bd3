from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from workflows.timers import timers_fire


# Not ``workflow_timers``: that is viewflow's command firing its own ``flow.Timer`` nodes.
class Command(BaseCommand):
    help = (
        "Remind whoever may take a task two working days before it is due, mark due tasks "
        "overdue and tell the province's administrators once (what Celery beat runs every "
        "five minutes)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = timers_fire()
        self.stdout.write(
            f"reminded {counts.reminded}, overdue {counts.overdue}, escalated {counts.escalated}"
        )
        if counts.failed:
            raise CommandError(
                f"{counts.failed} work item(s) failed (see the log); they are tried again next run"
            )
