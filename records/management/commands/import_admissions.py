"""``manage.py import_admissions FILE [--school CODE] [--mode skip_invalid|all_or_nothing]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from records.admissions.imports import queue_import
from records.admissions.imports import run_import
from records.choices import ImportMode
from records.choices import ImportState
from records.models import AdmissionImport
from records.models import School
from records.models import User


class Command(BaseCommand):
    help = (
        "Import an admission file (CSV in UTF-8 or GBK, or XLSX) in this process, with a "
        "progress bar; print the counts and where the error report is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--school", help="import only rows of this school (its code)")
        parser.add_argument("--mode", choices=ImportMode.values, default=ImportMode.SKIP_INVALID)
        parser.add_argument(
            "--as",
            dest="username",
            help="import as this user, within the schools they act for (default: no limit)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        school = None
        if options["school"]:
            school = School.objects.filter(pk=options["school"]).first()
            if school is None:
                raise CommandError(f"--school: no school has the code {options['school']}")
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"--as: no user {options['username']}")
        size = path.stat().st_size
        with path.open("rb") as handle:
            batch = queue_import(
                upload=File(handle), name=path.name, user=user, mode=options["mode"], school=school
            )
        done = run_import(batch.pk, progress=lambda b: self._bar(b, size))
        self.stderr.write("")
        self._report(done)
        if done.state == ImportState.FAILED:
            raise CommandError(done.failure)

    def _bar(self, batch: AdmissionImport, size: int) -> None:
        # The rows read so far, and a bar by the part of the file read (a stream's position).
        handle = batch.file.file if batch.file else None
        read = handle.tell() if handle is not None and not handle.closed else 0
        share = min(read / size, 1.0) if size else 1.0
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r[{bar:<30}] {share:4.0%} {batch.total:,} rows")
        sys.stderr.flush()

    def _report(self, batch: AdmissionImport) -> None:
        self.stdout.write(
            f"{batch.state}: {batch.total} rows, {batch.imported} imported, "
            f"{batch.duplicates} duplicates, {batch.invalid} invalid"
        )
        if batch.invalid:
            self.stdout.write("errors:")
            for error in batch.errors.all()[:20]:
                self.stdout.write(f"  row {error.row}, {error.column}: {error.message}")
            more = batch.errors.count() - 20
            if more > 0:
                self.stdout.write(f"  … and {more} more (import {batch.pk}, its error report)")
