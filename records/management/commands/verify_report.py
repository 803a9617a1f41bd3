"""``manage.py verify_report FILE --public-key PEMFILE``: check a signed verification report
offline, without the database. Exit status 0 when valid, 1 otherwise, with the reason."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from records.verification.signing import load_public_key
from records.verification.signing import verify_signed


class Command(BaseCommand):
    help = "Check a signed verification report (GET /api/v1/verify/{code}/signed/) offline."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the signed report (JSON), as downloaded")
        parser.add_argument(
            "--public-key",
            required=True,
            help="the platform's public key (PEM), from GET /api/v1/verify/public-key/",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"INVALID: cannot read the report: {error}", returncode=1) from None
        try:
            key = load_public_key(Path(options["public_key"]).read_bytes())
        except (OSError, ValueError) as error:
            raise CommandError(
                f"INVALID: cannot read an Ed25519 public key (PEM) from "
                f"{options['public_key']}: {error}",
                returncode=1,
            ) from None
        checked = verify_signed(document, key)
        if not checked.valid:
            raise CommandError(f"INVALID: {checked.message}", returncode=1)
        report = checked.report or {}
        subject = report.get("qualification") or report.get("status") or {}
        self.stdout.write(
            f"VALID: {checked.message}. Report {report.get('code')} ({report.get('kind')}) of "
            f"{subject.get('name')}, checked at {report.get('checked_at')}."
        )
        sys.stdout.flush()
