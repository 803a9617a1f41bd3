from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser

from records.audit import verify_chains
from records.checkpoints import CheckpointError
from records.checkpoints import checkpoint_break
from records.checkpoints import checkpoint_read


class Command(BaseCommand):
    help = (
        "Recompute every audit hash chain and hold it against its head; with --checkpoint, "
        "first check that every chain still holds the signed checkpoint's rows. Name the "
        "first break and exit non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="a file written by `audit_checkpoint` (repeatable); its signature is checked "
            "with AUDIT_CHECKPOINT_PUBLIC_KEY, or the key of AUDIT_CHECKPOINT_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["checkpoint"]:
            try:
                checkpoint = checkpoint_read(path)
            except CheckpointError as exc:
                raise CommandError(str(exc)) from exc
            broken = checkpoint_break(checkpoint)
            if broken is not None:
                raise CommandError(
                    f"Audit chain broken at {broken} (checkpoint {path} of {checkpoint.created})"
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"checkpoint {path} of {checkpoint.created}: "
                    f"{len(checkpoint.heads)} chains still hold it"
                )
            )
        result = verify_chains()
        if result.first_break is not None:
            raise CommandError(f"Audit chain broken at {result.first_break}")
        self.stdout.write(
            self.style.SUCCESS(f"{result.chains} chains, {result.events} events: all intact")
        )
