"""StatusChangeFlow driven through its services and the shared work list, as the API and the
pages drive it: every type's happy path, one and two school levels, the province where a type
says so, segregation of duties, one open request per type, ended statuses, emails."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db import transaction
from viewflow.workflow.status import PROCESS

from records.audit import verify_chains
from records.choices import StatusChangeState
from records.choices import StatusState
from records.errors import ConflictError
from records.models import AuditEvent
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.status_changes.history import status_history
from records.status_changes.types import TYPES
from tests import factories
from tests import status_changes as sc
from workflows import work
from workflows.flows import status_change as flow
from workflows.flows.status_change import StatusChangeFlow
from workflows.models import StatusChangeProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return sc.world(places)


def _nodes(request):
    process = StatusChangeProcess.objects.get(request=request)
    return [t.flow_task.name for t in process.task_set.order_by("pk")]


def _decide(request, node, user, decision="approve", comment=""):
    return work.decide(
        task_pk=sc.task(request, node).pk, user=user, decision=decision, comment=comment
    )


def test_suspension_at_a_one_level_school(w):
    request = sc.file(w, "suspension", sc.SUSPENSION)
    review = sc.task(request, StatusChangeFlow.school_review)
    assert [i.pk for i in work.open_items(w.officer)] == [review.pk]
    assert list(work.open_items(w.foreign_officer)) == []
    assert list(work.open_items(w.province)) == []

    done = work.decide(task_pk=review.pk, user=w.officer, decision="approve")

    assert done.state == StatusChangeState.APPROVED
    request.refresh_from_db()
    status = StudentStatus.objects.get(pk=w.status.pk)
    assert status.state == StatusState.SUSPENDED
    assert request.before == {"state": "enrolled"}
    assert request.after == {"state": "suspended"}
    assert request.fields == {"from": "2025-03-01", "until": "2026-02-28"}
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert _nodes(request) == ["start", "school_review", "after_school_review", "end"]
    # The status keeps its history in its own audit chain.
    [change] = [e for e in status_history(status) if e.action == "changed"]
    assert change.data["type"] == "suspension"
    assert change.data["request"] == request.pk
    assert change.data["after"] == {"state": "suspended"}


# Each available type: the status's state before, who files, the fields, and what the
# status looks like after approval.
HAPPY: dict[str, tuple[str, str, dict[str, str], dict[str, object]]] = {
    "suspension": ("enrolled", "student", sc.SUSPENSION, {"state": "suspended"}),
    "resumption": ("suspended", "student", {"from": "2026-03-01"}, {"state": "enrolled"}),
    "reservation": (
        "enrolled",
        "student",
        {"kind": "military", "from": "2025-03-01", "until": "2027-02-28"},
        {"state": "reserved"},
    ),
    "reservation_end": ("reserved", "student", {"from": "2027-03-01"}, {"state": "enrolled"}),
    "major_change": (
        "enrolled",
        "student",
        {"major_code": "080902"},
        {"major_code": "080902", "major_name": "软件工程"},
    ),
    "repetition": (
        "enrolled",
        "officer",
        {"expected_graduation": "2029-07-01"},
        {"expected_graduation": datetime.date(2029, 7, 1)},
    ),
    "demotion": (
        "enrolled",
        "officer",
        {"expected_graduation": "2029-07-01"},
        {"expected_graduation": datetime.date(2029, 7, 1)},
    ),
    "skip": (
        "enrolled",
        "officer",
        {"expected_graduation": "2027-07-01"},
        {"expected_graduation": datetime.date(2027, 7, 1)},
    ),
    "withdrawal": ("enrolled", "student", {"date": "2026-06-30"}, {"state": "withdrawn"}),
    "death": ("suspended", "officer", {"date": "2026-01-05"}, {"state": "deceased"}),
    "early_graduation": (
        "enrolled",
        "student",
        {"expected_graduation": "2027-07-01"},
        {"expected_graduation": datetime.date(2027, 7, 1)},
    ),
    "deferred_graduation": (
        "enrolled",
        "student",
        {"expected_graduation": "2029-07-01"},
        {"expected_graduation": datetime.date(2029, 7, 1)},
    ),
}


def test_every_available_type_has_a_happy_path():
    # Adverse decisions' happy paths, through their appeal period: test_status_change_adverse;
    # a transfer's chain goes on after the school: tests/workflows/test_transfer_flow.py.
    assert set(HAPPY) | {"transfer"} == {
        key for key, kind in TYPES.items() if kind.available and not kind.adverse
    }


@pytest.mark.parametrize("key", sorted(HAPPY))
def test_happy_path_of_each_type(places, key):
    state, filer, fields, expected = HAPPY[key]
    login = factories.user("student_d")
    status = sc.student_status(places.pku, login, state=state)
    factories.major("080902", "软件工程")
    officer = factories.officer(places.pku, "officer_10001")
    other = factories.officer(places.pku, "officer_10001b")
    requester = login if filer == "student" else officer
    request = flow.status_change_start(
        status=status, type_key=key, fields=fields, reason="个人原因", requester=requester
    )
    decider = other if filer == "officer" else officer
    _decide(request, StatusChangeFlow.school_review, decider)
    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    status.refresh_from_db()
    for name, value in expected.items():
        assert getattr(status, name) == value
    assert request.after is not None
    assert request.after["state"] == status.state


def test_two_levels_need_two_officers(w, places):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    _decide(request, StatusChangeFlow.school_review, w.officer)
    request.refresh_from_db()
    assert request.state == StatusChangeState.DEPARTMENT_APPROVED
    assert request.first_decided_by == w.officer
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.ENROLLED
    final = sc.task(request, StatusChangeFlow.school_final)
    # The first level's decider neither sees nor decides the second.
    assert final.pk not in [i.pk for i in work.open_items(w.officer)]
    assert final.pk in [i.pk for i in work.open_items(w.officer_b)]
    assert not work.may_decide(w.officer, "status_change", request.pk)
    with pytest.raises(PermissionDenied):
        work.decide(task_pk=final.pk, user=w.officer, decision="approve")

    work.decide(task_pk=final.pk, user=w.officer_b, decision="approve")

    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.SUSPENDED
    assert _nodes(request) == [
        "start",
        "school_review",
        "after_school_review",
        "school_final",
        "after_school_final",
        "end",
    ]


def test_second_level_may_return_and_the_revision_starts_again_at_the_first(w, places):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    _decide(request, StatusChangeFlow.school_review, w.officer)
    _decide(request, StatusChangeFlow.school_final, w.officer_b, "return", "日期有误")
    request.refresh_from_db()
    assert request.state == StatusChangeState.RETURNED
    assert request.first_decided_by is None
    flow.status_change_resubmit(
        request=request,
        fields={"from": "2025-03-01", "until": "2026-01-31"},
        reason="改期",
        user=w.student,
    )
    request.refresh_from_db()
    assert request.state == StatusChangeState.SUBMITTED
    assert request.fields["until"] == "2026-01-31"
    # The one who returned it may now decide the first level; someone else the second.
    _decide(request, StatusChangeFlow.school_review, w.officer_b)
    _decide(request, StatusChangeFlow.school_final, w.officer)
    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED


@pytest.fixture
def provincial_type(monkeypatch):
    """A type the province confirms (as transfers will be): a declaration, nothing else."""
    kind = dataclasses.replace(TYPES["suspension"], key="provincial_suspension", province=True)
    monkeypatch.setitem(TYPES, kind.key, kind)
    return kind


@pytest.mark.parametrize("levels", [1, 2])
def test_the_province_confirms_where_the_type_says_so(w, places, provincial_type, levels):
    School.objects.filter(pk="10001").update(status_change_levels=levels)
    request = sc.file(w, provincial_type.key, sc.SUSPENSION)
    _decide(request, StatusChangeFlow.school_review, w.officer)
    if levels == 2:
        _decide(request, StatusChangeFlow.school_final, w.officer_b)
    request.refresh_from_db()
    assert request.state == StatusChangeState.SCHOOL_APPROVED
    confirm = sc.task(request, StatusChangeFlow.province_confirm)
    assert [i.pk for i in work.open_items(w.province)] == [confirm.pk]
    assert list(work.open_items(w.foreign_province)) == []
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.ENROLLED

    work.decide(task_pk=confirm.pk, user=w.province, decision="approve")

    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.SUSPENDED


def test_the_province_may_return_to_the_school(w, provincial_type):
    request = sc.file(w, provincial_type.key, sc.SUSPENSION)
    _decide(request, StatusChangeFlow.school_review, w.officer)
    _decide(request, StatusChangeFlow.province_confirm, w.province, "return", "补充材料")
    request.refresh_from_db()
    assert request.state == StatusChangeState.SUBMITTED
    assert sc.task(request, StatusChangeFlow.school_review)


def test_the_requester_never_decides(w):
    request = sc.file(w, "suspension", sc.SUSPENSION, by=w.officer)
    review = sc.task(request, StatusChangeFlow.school_review)
    assert review.pk not in [i.pk for i in work.open_items(w.officer)]
    with pytest.raises(PermissionDenied):
        work.decide(task_pk=review.pk, user=w.officer, decision="approve")
    work.decide(task_pk=review.pk, user=w.officer_b, decision="approve")
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.SUSPENDED


def test_an_officer_alone_cannot_file_what_nobody_else_could_decide(places):
    status = sc.student_status(places.thu)
    officer = factories.officer(places.thu, "officer_10003")
    with pytest.raises(ConflictError) as refused:
        flow.status_change_start(
            status=status,
            type_key="death",
            fields={"date": "2026-01-05"},
            reason="病故",
            requester=officer,
        )
    assert refused.value.code == "no_other_reviewer"
    assert not StatusChangeRequest.objects.exists()


def test_two_levels_need_two_officers_besides_the_requester(w, places):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    w.officer_c.delete()
    with pytest.raises(ConflictError) as refused:
        sc.file(w, "death", {"date": "2026-01-05"}, by=w.officer)
    assert refused.value.code == "no_other_reviewer"


def test_one_open_request_of_a_type_per_status(w):
    first = sc.file(w, "suspension", sc.SUSPENSION)
    with pytest.raises(ConflictError) as refused:
        sc.file(w, "suspension", sc.SUSPENSION)
    assert refused.value.code == "open_request_exists"
    assert str(first.pk) in refused.value.message
    # Another type is its own request.
    factories.major("080902", "软件工程")
    sc.file(w, "major_change", {"major_code": "080902"})
    # And the database says the same, whatever writes the rows.
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusChangeRequest.objects.create(
            status=w.status,
            student=w.status.student,
            school_id="10001",
            province_id="11",
            type="suspension",
            fields={},
            reason="x",
            requester=w.student,
        )


def test_a_closed_request_frees_its_type(w):
    first = sc.file(w, "suspension", sc.SUSPENSION)
    flow.status_change_withdraw(request=first, user=w.student)
    second = sc.file(w, "suspension", sc.SUSPENSION)
    assert second.pk != first.pk


@pytest.mark.parametrize("state", ["withdrawn", "deceased", "graduated", "expelled"])
def test_an_ended_status_takes_no_request(places, state):
    login = factories.user("student_d")
    status = sc.student_status(places.pku, login, state=state)
    factories.officer(places.pku, "officer_10001")
    with pytest.raises(ConflictError) as refused:
        flow.status_change_start(
            status=status,
            type_key="resumption",
            fields={"from": "2026-03-01"},
            reason="x",
            requester=login,
        )
    assert refused.value.code == "status_ended"
    assert not StatusChangeRequest.objects.exists()


def test_an_approval_checks_the_rules_again(w):
    """A status that ended meanwhile (death approved while a suspension waited) takes no
    change: the approval answers 409 and writes nothing."""
    suspension = sc.file(w, "suspension", sc.SUSPENSION)
    death = sc.file(w, "death", {"date": "2026-01-05"}, by=w.officer_b)
    _decide(death, StatusChangeFlow.school_review, w.officer)
    with pytest.raises(ConflictError) as refused:
        _decide(suspension, StatusChangeFlow.school_review, w.officer)
    assert refused.value.code == "status_ended"
    suspension.refresh_from_db()
    assert suspension.state == StatusChangeState.SUBMITTED
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.DECEASED


def test_reject_needs_a_comment_and_ends_the_process(w):
    request = sc.file(w, "suspension", sc.SUSPENSION)
    with pytest.raises(Exception, match="comment"):
        _decide(request, StatusChangeFlow.school_review, w.officer, "reject")
    _decide(request, StatusChangeFlow.school_review, w.officer, "reject", "材料不全")
    request.refresh_from_db()
    assert request.state == StatusChangeState.REJECTED
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert StudentStatus.objects.get(pk=w.status.pk).state == StatusState.ENROLLED


def test_withdraw_cancels_the_process_and_closes_the_item(w):
    request = sc.file(w, "suspension", sc.SUSPENSION)
    flow.status_change_withdraw(request=request, user=w.student)
    request.refresh_from_db()
    assert request.state == StatusChangeState.WITHDRAWN
    assert list(work.open_items(w.officer)) == []
    assert work.kept_counts() == work.recount()
    with pytest.raises(PermissionDenied):
        flow.status_change_withdraw(request=request, user=w.officer)


def test_bulk_decisions_decide_status_changes(places):
    officer = factories.officer(places.pku, "officer_10001")
    factories.officer(places.pku, "officer_10001b")
    requests = []
    for n in range(3):
        login = factories.user(f"student_{n}")
        status = sc.student_status(places.pku, login)
        requests.append(
            flow.status_change_start(
                status=status,
                type_key="suspension",
                fields=sc.SUSPENSION,
                reason="x",
                requester=login,
            )
        )
    tasks = [sc.task(r, StatusChangeFlow.school_review).pk for r in requests]
    results = work.decide_many(task_pks=tasks, user=officer, decision="approve")
    assert [r.ok for r in results] == [True, True, True]
    assert set(StudentStatus.objects.values_list("state", flat=True)) == {"suspended"}
    assert work.kept_counts() == work.recount()


def test_emails_at_every_step(w, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = sc.file(w, "suspension", sc.SUSPENSION)
    sent = {m.to[0]: m.subject for m in mail.outbox}
    assert "学籍异动申请" in sent[w.student.email]  # the receipt
    assert "待审核" in sent[w.officer.email]
    assert "待审核" in sent[w.officer_b.email]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(request, StatusChangeFlow.school_review, w.officer)
    assert [m.to[0] for m in mail.outbox] == [w.student.email]
    assert "已批准" in mail.outbox[0].subject
    assert w.status.student.id_number not in mail.outbox[0].body


def test_emails_of_a_two_level_chain_skip_the_first_decider(
    w, places, django_capture_on_commit_callbacks
):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(request, StatusChangeFlow.school_review, w.officer)
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted([w.officer_b.email, w.officer_c.email])


def test_every_decision_is_audited_on_the_request(w):
    request = sc.file(w, "suspension", sc.SUSPENSION)
    _decide(request, StatusChangeFlow.school_review, w.officer)
    actions = list(
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(StatusChangeRequest),
            subject_id=str(request.pk),
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["status_change.filed", "status_change.approved"]
    # The request's chain and the status's, written in one decision, both hold.
    result = verify_chains()
    assert result.first_break is None
    assert result.chains == 2


def test_emails_of_return_rejection_withdrawal_and_the_province(
    w, provincial_type, django_capture_on_commit_callbacks
):
    w.student.language = "en"
    w.student.save()
    returned = sc.file(w, "suspension", sc.SUSPENSION)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(returned, StatusChangeFlow.school_review, w.officer, "return", "日期有误")
    [message] = mail.outbox
    assert message.to == [w.student.email]
    assert message.subject.startswith("[Xueji] Status change request")
    assert "returned" in message.subject
    assert "日期有误" in message.body
    assert "Suspension of studies" in message.body  # the type, in the recipient's language

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flow.status_change_withdraw(request=returned, user=w.student)
    assert mail.outbox == []  # it waited for the requester alone
    waiting = sc.file(w, "suspension", sc.SUSPENSION)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flow.status_change_withdraw(request=waiting, user=w.student)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for u in (w.officer, w.officer_b, w.officer_c)
    )
    assert all("撤回" in m.subject for m in mail.outbox)

    forwarded = sc.file(w, provincial_type.key, sc.SUSPENSION)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(forwarded, StatusChangeFlow.school_review, w.officer)
    assert [m.to[0] for m in mail.outbox] == [w.province.email]
    assert "待确认" in mail.outbox[0].subject

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(forwarded, StatusChangeFlow.province_confirm, w.province, "reject", "不符合条件")
    assert [m.to[0] for m in mail.outbox] == [w.student.email]
    assert "rejected" in mail.outbox[0].subject
