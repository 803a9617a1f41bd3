"""System checks of the workflow settings that need the declared flows (settings load first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Error

from workflows import steps


def check_due_days(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Every step ``WORKFLOW_DUE_DAYS`` names is declared: a mistyped key would leave the
    declared period silently in force."""
    declared = sorted(step.ref for step in steps.steps() if step.timing is None)
    timed = sorted(step.ref for step in steps.steps() if step.timing is not None)
    named = set(getattr(settings, "WORKFLOW_DUE_DAYS", {}))
    unknown = sorted(named - set(declared) - set(timed))
    errors: list[CheckMessage] = []
    if unknown:
        errors.append(
            Error(
                f"WORKFLOW_DUE_DAYS names steps that no flow declares: {', '.join(unknown)}",
                hint=f"The declared steps are {', '.join(declared)}.",
                id="workflows.E001",
            )
        )
    own = sorted(named & set(timed))
    if own:
        errors.append(
            Error(
                f"WORKFLOW_DUE_DAYS names steps whose deadline is their own: {', '.join(own)}",
                hint="These steps' due times are not working days from their tasks' opening "
                "(e.g. a cohort's re-examination ends three months after its entry date).",
                id="workflows.E002",
            )
        )
    return errors
