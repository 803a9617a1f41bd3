"""``manage.py signing_key``: write a development Ed25519 key where ``VERIFY_SIGNING_KEY``
points, unless one is there already (``make seed`` runs it). A key given as PEM in the
setting, or an existing file, is left alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from records.verification.signing import PEM_BEGIN
from records.verification.signing import new_private_key_pem


class Command(BaseCommand):
    help = "Write a development key for signed verification reports if none is configured."

    def handle(self, *args: Any, **options: Any) -> None:
        setting = str(settings.VERIFY_SIGNING_KEY).strip()
        if setting.startswith(PEM_BEGIN):
            self.stdout.write("VERIFY_SIGNING_KEY holds a key: nothing to do.")
            return
        path = Path(setting)
        if path.exists():
            self.stdout.write(f"{path}: a key is there already.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(new_private_key_pem())
        self.stdout.write(f"{path}: a new development signing key (keep it out of git).")
