from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from records.converters import ObjectIdConverter


def create_cache_table(*, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: the table of the database cache (``CACHE_URL`` unset, see
    config/settings.py), which no migration creates. Does nothing when it exists or when the
    cache is Redis."""
    call_command("createcachetable", database=using, verbosity=0)


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Student records")

    def ready(self) -> None:
        register_converter(ObjectIdConverter, "id")  # before any URLconf is loaded
        post_migrate.connect(create_cache_table, sender=self)
