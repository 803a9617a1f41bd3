from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from records.reference import load_reference_data


class Command(BaseCommand):
    help = "Load provinces, schools, majors and ethnic groups from records/data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for count in load_reference_data():
            self.stdout.write(
                f"{count.model}: {count.created} created, {count.updated} updated, "
                f"{count.unchanged} unchanged"
            )
