"""What a qualification's page shows of its certificate proofs (学历证明书), apart from the
proofs' own pages so the qualification's page can read it without importing them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from permissions import codenames
from permissions.checks import scope
from records.choices import QualificationStatus
from records.models import CertificateProof
from records.models import Qualification
from records.models import User
from records.proofs.services import filer_role


def visible_proofs(user: User) -> QuerySet[CertificateProof]:
    """The applications ``user`` may see, newest first: the API's visibility."""
    return scope(
        user,
        codenames.VIEW,
        CertificateProof.objects.select_related("requester", "student", "school", "qualification"),
    ).order_by("-created", "-pk")


def may_apply(user: User, qualification: Qualification) -> bool:
    """Whether the qualification's page offers ``user`` the application: its student or an
    officer of its school, a registered qualification not marked lost."""
    return (
        qualification.status == QualificationStatus.REGISTERED
        and not qualification.is_lost
        and filer_role(user, qualification) is not None
    )


def qualification_proofs(user: User, qualification: Qualification) -> dict[str, Any]:
    """What the qualification's page shows of its proofs: the applications ``user`` may see,
    the open one, and whether a new one is offered."""
    proofs = list(visible_proofs(user).filter(qualification=qualification))
    open_proof = next((p for p in proofs if p.is_open), None)
    return {
        "proofs": proofs,
        "open_proof": open_proof,
        "may_apply_proof": open_proof is None and may_apply(user, qualification),
    }
