"""One module per flow: the viewflow ``Flow``, its human steps' declarations, and their
registration with the work list. Importing this package registers every flow (the app's
``ready`` does)."""

from __future__ import annotations

from workflows.flows import admission
from workflows.flows import certificate_proof
from workflows.flows import correction
from workflows.flows import graduation
from workflows.flows import identity_change
from workflows.flows import revocation
from workflows.flows import status_change
from workflows.flows import year_registration

__all__ = [
    "admission",
    "certificate_proof",
    "correction",
    "graduation",
    "identity_change",
    "revocation",
    "status_change",
    "year_registration",
]
