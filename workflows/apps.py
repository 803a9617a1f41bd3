from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from workflows import flows  # noqa: F401, PLC0415  (registers every flow's steps)
        from workflows.checks import check_due_days  # noqa: PLC0415

        checks.register(check_due_days)
