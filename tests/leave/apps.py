from __future__ import annotations

from django.apps import AppConfig


class LeaveConfig(AppConfig):
    name = "tests.leave"
    label = "leave"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tests.leave import flows  # noqa: F401  (registers the flow's steps)
