from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from records.checkpoints import CheckpointError
from records.checkpoints import checkpoint_write
from records.checkpoints import generate_key


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of every audit chain's head to AUDIT_CHECKPOINT_DIR "
        "(signed with AUDIT_CHECKPOINT_KEY); --generate-key prints a new key pair instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate-key",
            action="store_true",
            help="print a new Ed25519 key pair as environment lines, and write nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_key"]:
            private, public = generate_key()
            self.stdout.write(f"AUDIT_CHECKPOINT_KEY={private}")
            self.stdout.write(f"AUDIT_CHECKPOINT_PUBLIC_KEY={public}")
            return
        try:
            path = checkpoint_write()
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"audit checkpoint written to {path}"))
