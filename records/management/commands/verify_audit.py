from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from records.audit import verify_chains


class Command(BaseCommand):
    help = "Recompute every audit hash chain; name the first broken row and exit non-zero."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chains()
        if result.first_break is not None:
            raise CommandError(f"Audit chain broken at {result.first_break}")
        self.stdout.write(
            self.style.SUCCESS(f"{result.chains} chains, {result.events} events: all intact")
        )
