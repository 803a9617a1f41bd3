from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from records.models import School
from workflows.flows.year_registration import round_open
from workflows.flows.year_registration import rounds_open_due


class Command(BaseCommand):
    help = (
        "Open the academic-year registration (学年注册) of every school whose window has opened "
        "(what Celery beat runs every hour), or with --school and --year the round of one "
        "school and academic year (2027 for 2027–2028), whenever its window opens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="a school code")
        parser.add_argument("--year", type=int, help="an academic year, e.g. 2027")
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, help="as on this day (YYYY-MM-DD)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["school"] or options["year"]:
            if not (options["school"] and options["year"]):
                raise CommandError("--school and --year go together")
            if not School.objects.filter(pk=options["school"]).exists():
                raise CommandError(f"no school has the code {options['school']}")
            opened = round_open(school_id=options["school"], academic_year=options["year"])
            self.stdout.write(f"{opened}: {opened.opens} to {opened.closes} ({opened.state})")
            return
        rounds = rounds_open_due(today=options["today"])
        self.stdout.write(f"opened {len(rounds)} round(s)")
        for opened in rounds:
            self.stdout.write(f"  {opened}: {opened.opens} to {opened.closes}")
