from __future__ import annotations

from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from records.converters import ObjectIdConverter


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Student records")

    def ready(self) -> None:
        register_converter(ObjectIdConverter, "id")  # before any URLconf is loaded
