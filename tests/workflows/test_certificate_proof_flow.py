"""CertificateProofFlow driven through its services and the shared work list, as the API and
the pages drive it: the student's and the officer's application, the proof's number and the
lost mark, one proof per certificate, drafts and revoked qualifications refused, one open
application, the requester never decides, returns and withdrawals, emails."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS
from viewflow.workflow.status import STATUS

from records.audit import verify_chains
from records.choices import CertificateProofState
from records.choices import QualificationStatus
from records.decisions import decide
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CertificateProof
from records.models import Qualification
from records.models import User
from records.proofs.services import next_number
from records.qualifications import qualification_revoke
from tests import factories
from workflows import work
from workflows.flows import certificate_proof as flow
from workflows.flows.certificate_proof import CertificateProofFlow
from workflows.models import CertificateProofProcess

pytestmark = pytest.mark.django_db

NOW = "2026-11-30 10:00 +08:00"


@dataclass
class World:
    qualification: Qualification
    student: User
    officer: User
    officer_b: User
    foreign_officer: User
    province: User
    stranger: User


@pytest.fixture
def w(places):
    login = factories.user("student_a")
    person = factories.student("李四", login=login)
    return World(
        qualification=factories.qualification(person, places.pku),
        student=login,
        officer=factories.officer(places.pku, "officer_10001"),
        officer_b=factories.officer(places.pku, "officer_10001b"),
        foreign_officer=factories.officer(places.fdu, "officer_10246"),
        province=factories.provincial_admin(places.bj, "province_11"),
        stranger=factories.user("student_x"),
    )


def _apply(w, by=None, qualification=None, reason="lost", note="2026年10月搬家时遗失"):
    return flow.proof_start(
        qualification=qualification or w.qualification,
        reason=reason,
        note=note,
        requester=by or w.student,
    )


def _task(proof, node=CertificateProofFlow.school_review):
    return Task.objects.get(
        process__certificateproofprocess__request=proof, flow_task=node, status=STATUS.NEW
    )


def _decide(proof, user, decision="approve", comment=""):
    return work.decide(task_pk=_task(proof).pk, user=user, decision=decision, comment=comment)


@time_machine.travel(NOW, tick=False)
def test_the_student_applies_and_the_school_issues_the_proof(w):
    proof = _apply(w)
    assert proof.state == CertificateProofState.SUBMITTED
    review = _task(proof)
    assert [i.pk for i in work.open_items(w.officer)] == [review.pk]
    assert list(work.open_items(w.foreign_officer)) == []
    assert list(work.open_items(w.student)) == []

    done = _decide(proof, w.officer)

    assert done.state == CertificateProofState.APPROVED
    proof.refresh_from_db()
    assert proof.number == "10001202600001"
    assert proof.original_certificate_number == w.qualification.certificate_number
    assert proof.issued_at is not None
    q = Qualification.objects.get(pk=w.qualification.pk)
    assert q.status == QualificationStatus.REGISTERED  # content and state untouched
    assert q.content() == w.qualification.content()
    assert (q.lost_at, q.lost_proof_id) == (proof.issued_at, proof.pk)
    assert q.is_lost
    assert CertificateProofProcess.objects.get(request=proof).status == PROCESS.DONE
    actions = list(q_actions(q))
    assert actions[-1] == "qualification.marked_lost"
    assert verify_chains().first_break is None


def q_actions(q):
    from django.contrib.contenttypes.models import ContentType

    from records.models import AuditEvent

    content_type = ContentType.objects.get_for_model(Qualification)
    return AuditEvent.objects.filter(subject_type=content_type, subject_id=str(q.pk)).values_list(
        "action", flat=True
    )


@time_machine.travel(NOW, tick=False)
def test_an_officer_applies_for_the_student_and_another_decides(w, places):
    proof = _apply(w, by=w.officer, reason="damaged", note="证书被水浸泡损毁")
    assert proof.requester_id == w.officer.pk
    assert list(work.open_items(w.officer)) == []  # never the requester's own task
    with pytest.raises(PermissionDenied):
        _decide(proof, w.officer)
    assert CertificateProof.objects.get(pk=proof.pk).state == CertificateProofState.SUBMITTED
    _decide(proof, w.officer_b)
    assert CertificateProof.objects.get(pk=proof.pk).number == "10001202600001"
    # Numbers continue within the school and year.
    other = factories.qualification(factories.student("赵六"), places.pku)
    second = _apply(w, by=w.officer, qualification=other)
    _decide(second, w.officer_b)
    assert CertificateProof.objects.get(pk=second.pk).number == "10001202600002"


def test_the_student_never_decides_and_strangers_see_nothing(w):
    proof = _apply(w)
    with pytest.raises(NotVisibleError):  # the task is not theirs to see
        _decide(proof, w.student)
    with pytest.raises(PermissionDenied):  # and the record's skeleton refuses them too
        decide(
            rule=flow.SCHOOL_REVIEW,
            subject_pk=proof.pk,
            decision="approve",
            comment="",
            acting_user=w.student,
        )
    with pytest.raises((PermissionDenied, NotVisibleError)):
        _decide(proof, w.foreign_officer)
    with pytest.raises((PermissionDenied, NotVisibleError)):
        _decide(proof, w.province)
    with pytest.raises(NotVisibleError):
        _apply(w, by=w.stranger)
    with pytest.raises(PermissionDenied):  # sees the province's records, applies for nobody
        _apply(w, by=w.province)
    assert CertificateProof.objects.get(pk=proof.pk).state == CertificateProofState.SUBMITTED


def test_a_second_proof_for_the_same_certificate_is_refused(w):
    proof = _apply(w)
    _decide(proof, w.officer)
    with pytest.raises(ConflictError) as exc:
        _apply(w)
    assert exc.value.code == "proof_exists"
    assert "one_proof_per_certificate" in str(exc.value)
    assert CertificateProof.objects.get(pk=proof.pk).number in str(exc.value)
    assert CertificateProof.objects.count() == 1


def test_the_database_refuses_a_second_issued_proof(w):
    proof = _apply(w)
    _decide(proof, w.officer)
    fields = {
        "qualification": w.qualification,
        "student": w.qualification.student,
        "school_id": w.qualification.school_id,
        "province_id": w.qualification.province_id,
        "requester": w.student,
        "reason": "lost",
        "note": "x",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateProof.objects.create(state=CertificateProofState.APPROVED, **fields)
    CertificateProof.objects.create(state=CertificateProofState.REJECTED, **fields)


def test_one_open_application_per_qualification(w):
    first = _apply(w)
    with pytest.raises(ConflictError) as exc:
        _apply(w, by=w.officer)
    assert exc.value.code == "open_application_exists"
    assert f"#{first.pk}" in str(exc.value)
    fields = {
        "qualification": w.qualification,
        "student": w.qualification.student,
        "school_id": w.qualification.school_id,
        "province_id": w.qualification.province_id,
        "requester": w.student,
        "reason": "lost",
        "note": "x",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificateProof.objects.create(**fields)
    # Once decided, the qualification takes a new application.
    _decide(first, w.officer, "reject", "请先登报声明遗失")
    again = _apply(w)
    assert again.state == CertificateProofState.SUBMITTED


def test_drafts_and_revoked_qualifications_get_no_proof(w, places):
    draft = factories.qualification(factories.student("钱七"), places.pku, registered=False)
    with pytest.raises(ConflictError) as exc:
        _apply(w, by=w.officer, qualification=draft)
    assert exc.value.code == "not_registered"
    assert "registered_only" in str(exc.value)
    qualification_revoke(qualification=w.qualification, acting_user=w.province, reason="舞弊")
    with pytest.raises(ConflictError) as exc:
        _apply(w)
    assert exc.value.code == "not_registered"
    assert CertificateProof.objects.count() == 0


def test_a_qualification_revoked_while_the_application_waits_is_not_marked(w):
    proof = _apply(w)
    qualification_revoke(qualification=w.qualification, acting_user=w.province, reason="舞弊")
    with pytest.raises(ConflictError) as exc:
        _decide(proof, w.officer)
    assert exc.value.code == "not_registered"
    fresh = Qualification.objects.get(pk=w.qualification.pk)
    assert fresh.lost_at is None
    assert CertificateProof.objects.get(pk=proof.pk).state == CertificateProofState.SUBMITTED
    # It can still be rejected.
    _decide(proof, w.officer, "reject", "学历已注销")


def test_bad_input_names_each_field(w):
    with pytest.raises(ValidationError) as exc:
        _apply(w, reason="stolen", note=" ")
    assert set(exc.value.message_dict) == {"reason", "note"}
    assert CertificateProof.objects.count() == 0


def test_an_officer_alone_at_the_school_may_not_apply(w, places):
    alone = factories.officer(places.thu, "officer_10003")
    q = factories.qualification(factories.student("孙八"), places.thu)
    with pytest.raises(ConflictError) as exc:
        _apply(w, by=alone, qualification=q)
    assert exc.value.code == "no_other_reviewer"


def test_returned_revised_and_approved(w):
    proof = _apply(w)
    _decide(proof, w.officer, "return", "请补充遗失声明")
    proof.refresh_from_db()
    assert proof.state == CertificateProofState.RETURNED
    assert list(work.open_items(w.officer)) == []
    with pytest.raises(PermissionDenied):
        flow.proof_resubmit(proof=proof, reason="lost", note="x", user=w.officer)
    flow.proof_resubmit(proof=proof, reason="lost", note="已于2026年11月登报声明", user=w.student)
    proof.refresh_from_db()
    assert (proof.state, proof.note) == (CertificateProofState.SUBMITTED, "已于2026年11月登报声明")
    _decide(proof, w.officer)
    assert CertificateProof.objects.get(pk=proof.pk).state == CertificateProofState.APPROVED


def test_withdrawal_cancels_the_process(w):
    proof = _apply(w)
    with pytest.raises(PermissionDenied):
        flow.proof_withdraw(proof=proof, user=w.officer)
    flow.proof_withdraw(proof=proof, user=w.student)
    assert CertificateProof.objects.get(pk=proof.pk).state == CertificateProofState.WITHDRAWN
    assert CertificateProofProcess.objects.get(request=proof).status == PROCESS.CANCELED
    assert list(work.open_items(w.officer)) == []
    assert work.kept_counts() == work.recount()
    with pytest.raises(ConflictError):
        flow.proof_withdraw(proof=proof, user=w.student)


def test_bulk_decision_numbers_each_proof(w, places):
    proofs = [_apply(w)]
    for name in ("周九", "吴十"):
        q = factories.qualification(factories.student(name), places.pku)
        proofs.append(_apply(w, by=w.officer, qualification=q))
    results = work.decide_many(
        task_pks=[_task(p).pk for p in proofs], user=w.officer_b, decision="approve"
    )
    assert [r.ok for r in results] == [True, True, True]
    numbers = sorted(CertificateProof.objects.values_list("number", flat=True))
    year = numbers[0][5:9]
    assert numbers == [f"10001{year}0000{i}" for i in (1, 2, 3)]
    assert Qualification.objects.filter(lost_at__isnull=False).count() == 3


@time_machine.travel("2026-12-31 23:30 +08:00", tick=False)
def test_the_number_takes_the_year_in_beijing(w):
    from django.utils import timezone

    assert next_number("10001", timezone.now()) == "10001202600001"


def test_emails_at_every_step(w, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        proof = _apply(w)
    sent = {m.to[0]: m.subject for m in mail.outbox}
    assert "已收到学历证明书申请" in sent[w.student.email]
    assert "待审核" in sent[w.officer.email]
    assert "待审核" in sent[w.officer_b.email]
    assert w.province.email not in sent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(proof, w.officer, "return", "请补充遗失声明")
    assert [m.to[0] for m in mail.outbox] == [w.student.email]
    assert "退回" in mail.outbox[0].subject
    assert "请补充遗失声明" in mail.outbox[0].body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flow.proof_resubmit(proof=proof, reason="lost", note="已登报", user=w.student)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([w.officer.email, w.officer_b.email])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(proof, w.officer)
    [approved] = mail.outbox
    number = CertificateProof.objects.get(pk=proof.pk).number
    assert approved.to == [w.student.email]
    assert number in approved.subject
    assert w.qualification.certificate_number[-6:] in approved.body
    assert w.qualification.id_number not in approved.body


def test_emails_of_rejection_and_withdrawal_in_english(w, django_capture_on_commit_callbacks):
    User.objects.filter(pk=w.student.pk).update(language="en")
    proof = _apply(w)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(proof, w.officer, "reject", "No loss notice")
    [rejected] = mail.outbox
    assert rejected.subject == f"[Xueji] Certificate proof application #{proof.pk} rejected"
    again = _apply(w)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flow.proof_withdraw(proof=again, user=w.student)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([w.officer.email, w.officer_b.email])
    assert all("已撤回" in m.subject for m in mail.outbox)
