"""The lost mark (遗失作废) of a qualification: not content, set once on a registered row by
the certificate proof's approval, refused on a draft and on a revoked row, never changed
afterwards; in the model's ``save`` and, on PostgreSQL, by the ``registered_immutable``
trigger."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db import IntegrityError
from django.db import transaction
from django.utils import timezone

from records.choices import CertificateProofState
from records.models import CertificateProof
from records.models import Qualification
from records.qualifications import qualification_amend
from records.qualifications import qualification_revoke
from tests import factories

pytestmark = pytest.mark.django_db


def _proof(q: Qualification, state: str = CertificateProofState.SUBMITTED) -> CertificateProof:
    requester = factories.user()
    proof: CertificateProof = CertificateProof.objects.create(
        qualification=q,
        student=q.student,
        school_id=q.school_id,
        province_id=q.province_id,
        requester=requester,
        reason="lost",
        note="遗失",
        state=state,
    )
    return proof


def _mark(q: Qualification, proof: CertificateProof, *, allowed: bool = True) -> None:
    q.mark_lost(at=timezone.now(), proof_id=proof.pk)
    q._lost_mark_allowed = allowed
    try:
        q.save()
    finally:
        q._lost_mark_allowed = False


def _admin(q: Qualification):
    return factories.provincial_admin(q.province)


def test_a_registered_qualification_is_marked_lost_by_the_service_path_only():
    q = factories.qualification()
    proof = _proof(q)
    direct = Qualification.objects.get(pk=q.pk)
    direct.lost_at, direct.lost_proof_id = timezone.now(), proof.pk
    with pytest.raises(ValidationError) as exc:
        direct.save()  # not through the proof's approval
    assert exc.value.code == "lost_mark"
    fresh = Qualification.objects.get(pk=q.pk)
    _mark(fresh, proof)
    marked = Qualification.objects.get(pk=q.pk)
    assert marked.is_lost
    assert marked.lost_proof_id == proof.pk
    assert marked.content() == q.content()
    # Never changed or cleared afterwards, not even by the service path.
    marked.lost_at = None
    marked.lost_proof_id = None
    marked._lost_mark_allowed = True
    with pytest.raises(ValidationError):
        marked.save()
    again = Qualification.objects.get(pk=q.pk)
    with pytest.raises(ValidationError):
        _mark(again, _proof(factories.qualification()))
    # A lost qualification's content is still corrected as any registered one, and it may
    # still be revoked, keeping its mark.
    admin = _admin(q)
    qualification_amend(
        qualification=Qualification.objects.get(pk=q.pk),
        changes={"name": "王晓明"},
        approved_by=admin,
        reason="",
        correction_id=None,
    )
    qualification_revoke(
        qualification=Qualification.objects.get(pk=q.pk), acting_user=admin, reason="x"
    )
    assert Qualification.objects.get(pk=q.pk).lost_proof_id == proof.pk


def test_the_lost_mark_is_refused_on_a_revoked_or_draft_qualification():
    q = factories.qualification()
    proof = _proof(q)
    qualification_revoke(qualification=q, acting_user=_admin(q), reason="舞弊")
    revoked = Qualification.objects.get(pk=q.pk)
    with pytest.raises(ValidationError) as exc:
        _mark(revoked, proof)
    assert exc.value.code == "lost_mark"
    revoked = Qualification.objects.get(pk=q.pk)
    revoked.lost_at, revoked.lost_proof_id = timezone.now(), proof.pk
    revoked._lost_mark_allowed = True
    with pytest.raises(ValidationError):
        revoked.save()
    draft = factories.qualification(registered=False)
    with pytest.raises(ValidationError):
        _mark(draft, _proof(draft))
    assert Qualification.objects.filter(lost_at__isnull=False).count() == 0


def test_the_mark_is_whole_in_the_database():
    q = factories.qualification()
    with pytest.raises(IntegrityError), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).update(lost_at=timezone.now())


@pytest.mark.postgres
def test_postgres_allows_the_mark_on_a_registered_row_once():
    q = factories.qualification()
    proof = _proof(q)
    Qualification.objects.filter(pk=q.pk).update(lost_at=timezone.now(), lost_proof=proof)
    other = _proof(factories.qualification())
    for change in ({"lost_at": timezone.now()}, {"lost_proof": other}):
        with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
            Qualification.objects.filter(pk=q.pk).update(**change)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).update(lost_at=None, lost_proof=None)
    assert Qualification.objects.get(pk=q.pk).lost_proof_id == proof.pk


@pytest.mark.postgres
def test_postgres_refuses_the_mark_on_a_revoked_or_draft_row():
    q = factories.qualification()
    proof = _proof(q)
    qualification_revoke(qualification=q, acting_user=_admin(q), reason="舞弊")
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).update(lost_at=timezone.now(), lost_proof=proof)
    draft = factories.qualification(registered=False)
    draft_proof = _proof(draft)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Qualification.objects.filter(pk=draft.pk).update(
            lost_at=timezone.now(), lost_proof=draft_proof
        )
    assert Qualification.objects.filter(lost_at__isnull=False).count() == 0
