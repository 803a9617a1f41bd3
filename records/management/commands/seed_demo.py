from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from records.demo import PRINCIPALS
from records.demo import demo_cohort_lines
from records.demo import seed_demo
from records.models import School

DEMO_SCHOOLS = tuple(PRINCIPALS)


class Command(BaseCommand):
    help = (
        "Create the demo users, grants and people, and import the demo cohort (idempotent). "
        "Needs load_reference_data."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if School.objects.filter(pk__in=DEMO_SCHOOLS).count() != len(DEMO_SCHOOLS):
            raise CommandError("Reference data missing: run `manage.py load_reference_data` first.")
        lines = seed_demo()
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD}):")
        for line in lines:
            self.stdout.write("  " + line)
        self.stdout.write("Demo cohort (admissions, no logins yet):")
        for line in demo_cohort_lines():
            self.stdout.write("  " + line)
