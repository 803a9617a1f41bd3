"""Transfers (转学, DOMAIN.md §2.3, 教育部令第41号 arts 22–24) through StatusChangeFlow: the
sending school, the receiving school's acceptance, the public notice of 5 working days
(chinese-calendar, under time travel), then the province, or both provinces in parallel
(Split/Join), within the 3-month filing deadline; refusals, scope and emails."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from viewflow.workflow.status import PROCESS
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from records.audit import verify_chains
from records.choices import Level
from records.choices import StatusChangeState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AdmissionType
from records.models import MajorCutoff
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import identity_writes
from records.status_changes.history import status_history
from tests import factories
from tests import status_changes as sc
from workflows import work
from workflows.flows import status_change as flow
from workflows.flows.status_change import StatusChangeFlow
from workflows.models import OPEN
from workflows.models import StatusChangeProcess
from workflows.models import WorkItem
from workflows.timers import timers_fire
from workflows.timers import viewflow_timers_fire

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
# Accepted on Tuesday 29 September 2026: the National Day holiday (1–7 October) does not
# count, Saturday 10 October is an adjusted working day, so the 5 working days are 30
# September, 8, 9, 10 and 12 October (Monday to Friday alone would end on 6 October).
ACCEPTED = datetime.datetime(2026, 9, 29, 10, 0, tzinfo=BEIJING)
NOTICE_ENDS = datetime.datetime(2026, 10, 12, 10, 0, tzinfo=BEIJING)
FILED = datetime.datetime(2026, 9, 28, 9, 0, tzinfo=BEIJING)


@pytest.fixture
def w(places):
    world = sc.world(places)
    MajorCutoff.objects.create(
        school=places.fdu, major_code="080901", origin_province=places.bj, year=2024, score=650
    )
    MajorCutoff.objects.create(
        school=places.thu, major_code="080901", origin_province=places.bj, year=2024, score=680
    )
    return world


@pytest.fixture
def thu_officer(places):
    return factories.officer(places.thu, "officer_10003")


def _fields(target="10246", score="660", **extra):
    return {"target_school": target, "target_major": "080901", "score": score,
            "ground": "illness", **extra}  # fmt: skip


def _file(w, **kw):
    return sc.file(w, "transfer", _fields(**kw))


def _decide(request, node, user, decision="approve", comment=""):
    return work.decide(
        task_pk=sc.task(request, node).pk, user=user, decision=decision, comment=comment
    )


def _fire(at):
    with time_machine.travel(at, tick=False):
        timers_fire()
        viewflow_timers_fire()


def _to_notice(w, receiving_officer, **kw):
    with time_machine.travel(FILED, tick=False):
        request = _file(w, **kw)
        _decide(request, StatusChangeFlow.school_review, w.officer)
    with time_machine.travel(ACCEPTED, tick=False):
        _decide(request, StatusChangeFlow.target_accept, receiving_officer)
    request.refresh_from_db()
    return request


def _told(event):
    return set(Notification.objects.filter(event=event).values_list("recipient_email", flat=True))


def _nodes(request):
    process = StatusChangeProcess.objects.get(request=request)
    return [t.flow_task.name for t in process.task_set.order_by("pk")]


def test_across_provinces_the_receiving_school_then_the_notice(w):
    with time_machine.travel(FILED, tick=False):
        request = _file(w)
    assert request.target_school_id == "10246"
    assert request.target_province_id == "31"
    # The receiving school and its province see the request from the start.
    assert StatusChangeRequest.objects.filter(pk=request.pk).exists()
    assert [i.subject_id for i in work.open_items(w.officer)] == [request.pk]
    assert list(work.open_items(w.foreign_officer)) == []
    # The receipt: the student and the receiving school; the sending school is asked to review.
    assert _told("status_change_received") == {w.student.email, w.foreign_officer.email}
    assert w.officer.email in _told("status_change_review_needed")

    with time_machine.travel(FILED, tick=False):
        _decide(request, StatusChangeFlow.school_review, w.officer)
    request.refresh_from_db()
    assert request.state == StatusChangeState.TARGET_REVIEW
    accept = sc.task(request, StatusChangeFlow.target_accept)
    assert [i.pk for i in work.open_items(w.foreign_officer)] == [accept.pk]
    assert list(work.open_items(w.officer)) == []

    assert {w.student.email, w.officer.email, w.foreign_officer.email} <= _told(
        "status_change_transfer_sent"
    )
    with time_machine.travel(ACCEPTED, tick=False):
        _decide(request, StatusChangeFlow.target_accept, w.foreign_officer)
    request.refresh_from_db()
    assert request.state == StatusChangeState.IN_NOTICE
    assert request.notice_ends == NOTICE_ENDS
    # The student and both schools' officers hear of it.
    assert {w.student.email, w.officer.email, w.foreign_officer.email} <= _told(
        "status_change_in_notice"
    )

    _fire(datetime.datetime(2026, 10, 9, 18, 0, tzinfo=BEIJING))
    request.refresh_from_db()
    assert request.state == StatusChangeState.IN_NOTICE  # a weekday count would have ended it
    assert list(work.open_items(w.province)) == []

    _fire(NOTICE_ENDS)
    request.refresh_from_db()
    assert request.state == StatusChangeState.NOTICE_ENDED
    assert {w.province.email, w.foreign_province.email, w.student.email} <= _told(
        "status_change_notice_ended"
    )


def test_across_provinces_both_provinces_confirm_in_parallel(w):
    request = _to_notice(w, w.foreign_officer)
    _fire(NOTICE_ENDS)
    source = sc.task(request, StatusChangeFlow.source_province_confirm)
    target = sc.task(request, StatusChangeFlow.target_province_confirm)
    assert [i.pk for i in work.open_items(w.province)] == [source.pk]
    assert [i.pk for i in work.open_items(w.foreign_province)] == [target.pk]
    # Filed with the province within three months of the acceptance.
    assert WorkItem.objects.get(task=source).due == datetime.datetime(
        2026, 12, 29, 10, 0, tzinfo=BEIJING
    )

    later = datetime.datetime(2026, 10, 13, 9, 0, tzinfo=BEIJING)
    with time_machine.travel(later, tick=False):
        result = work.decide(task_pk=target.pk, user=w.foreign_province, decision="approve")
    assert result.outcome == "province_confirmed"
    assert w.province.email in _told("status_change_province_confirmed")
    request.refresh_from_db()
    assert request.state == StatusChangeState.NOTICE_ENDED
    assert StudentStatus.objects.get(pk=w.status.pk).school_id == "10001"

    with time_machine.travel(later, tick=False):
        result = work.decide(task_pk=source.pk, user=w.province, decision="approve")
    assert result.outcome == "transferred"
    assert {w.student.email, w.officer.email, w.foreign_officer.email, w.province.email} <= _told(
        "status_change_approved"
    )
    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    status = StudentStatus.objects.get(pk=w.status.pk)
    assert (status.school_id, status.province_id, status.state) == ("10246", "31", "enrolled")
    assert status.student_number == w.status.student_number
    assert request.before["school_id"] == "10001"
    assert request.after["school_id"] == "10246"
    [change] = status_history(status)
    assert change.data["before"]["province_id"] == "11"
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert "provinces_joined" in _nodes(request)
    assert not WorkItem.objects.filter(OPEN, process__statuschangeprocess__request=request)
    verify_chains()


def test_within_a_province_the_province_confirms(w, places, thu_officer):
    request = _to_notice(w, thu_officer, target="10003", score="690")
    assert request.target_province_id == "11"
    _fire(NOTICE_ENDS)
    confirm = sc.task(request, StatusChangeFlow.province_confirm)
    assert [i.pk for i in work.open_items(w.province)] == [confirm.pk]
    assert list(work.open_items(w.foreign_province)) == []
    assert WorkItem.objects.get(task=confirm).due.date() == datetime.date(2026, 12, 29)
    with time_machine.travel(NOTICE_ENDS, tick=False):
        result = work.decide(task_pk=confirm.pk, user=w.province, decision="approve")
    assert result.outcome == "transferred"
    status = StudentStatus.objects.get(pk=w.status.pk)
    assert (status.school_id, status.province_id) == ("10003", "11")
    assert "source_province_confirm" not in _nodes(request)


def test_two_level_sending_school(w, places):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    with time_machine.travel(FILED, tick=False):
        request = _file(w)
        _decide(request, StatusChangeFlow.school_review, w.officer)
        _decide(request, StatusChangeFlow.school_final, w.officer_b)
    request.refresh_from_db()
    assert request.state == StatusChangeState.TARGET_REVIEW


def test_the_receiving_school_refusing_rejects(w):
    with time_machine.travel(FILED, tick=False):
        request = _file(w)
        _decide(request, StatusChangeFlow.school_review, w.officer)
        with pytest.raises(ValidationError):  # refusing needs a comment
            _decide(request, StatusChangeFlow.target_accept, w.foreign_officer, "reject")
        _decide(request, StatusChangeFlow.target_accept, w.foreign_officer, "reject", "名额已满")
    request.refresh_from_db()
    assert request.state == StatusChangeState.REJECTED
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert {w.student.email, w.officer.email, w.foreign_officer.email} <= _told(
        "status_change_rejected"
    )
    assert StudentStatus.objects.get(pk=w.status.pk).school_id == "10001"


def test_the_sending_school_decides_only_its_step_and_the_receiving_only_its(w):
    with time_machine.travel(FILED, tick=False):
        request = _file(w)
        review = sc.task(request, StatusChangeFlow.school_review)
        with pytest.raises(NotVisibleError):
            work.decide(task_pk=review.pk, user=w.foreign_officer, decision="approve")
        _decide(request, StatusChangeFlow.school_review, w.officer)
        accept = sc.task(request, StatusChangeFlow.target_accept)
        with pytest.raises(NotVisibleError):
            work.decide(task_pk=accept.pk, user=w.officer_b, decision="approve")


def test_one_province_rejecting_ends_the_other_branch(w):
    request = _to_notice(w, w.foreign_officer)
    _fire(NOTICE_ENDS)
    target = sc.task(request, StatusChangeFlow.target_province_confirm)
    with time_machine.travel(NOTICE_ENDS, tick=False):
        _decide(request, StatusChangeFlow.source_province_confirm, w.province, "reject", "不符合")
    request.refresh_from_db()
    assert request.state == StatusChangeState.REJECTED
    target.refresh_from_db()
    assert target.status == STATUS.CANCELED
    assert not WorkItem.objects.filter(OPEN, task=target).exists()
    assert list(work.open_items(w.foreign_province)) == []
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert StudentStatus.objects.get(pk=w.status.pk).school_id == "10001"


def test_no_approval_before_the_notice_ends(w):
    request = _to_notice(w, w.foreign_officer)
    # Nothing to decide in the notice: no province task exists before it ends.
    assert not WorkItem.objects.filter(OPEN, process__statuschangeprocess__request=request)
    # And the record service refuses an approval while it runs.
    from records.decisions import decide

    StatusChangeRequest.objects.filter(pk=request.pk).update(state=StatusChangeState.NOTICE_ENDED)
    with time_machine.travel(ACCEPTED, tick=False), pytest.raises(ConflictError) as refused:
        decide(
            rule=flow.SOURCE_PROVINCE_CONFIRM,
            subject_pk=request.pk,
            decision="approve",
            comment="",
            acting_user=w.province,
        )
    assert refused.value.code == "in_notice"


def test_the_province_returns_a_transfer_to_the_sending_school(w, thu_officer):
    request = _to_notice(w, thu_officer, target="10003", score="690")
    _fire(NOTICE_ENDS)
    with time_machine.travel(NOTICE_ENDS, tick=False):
        _decide(request, StatusChangeFlow.province_confirm, w.province, "return", "补充材料")
    request.refresh_from_db()
    assert request.state == StatusChangeState.SUBMITTED
    assert request.notice_ends is None
    assert sc.task(request, StatusChangeFlow.school_review)


def test_withdrawn_in_notice_cancels_the_timer(w):
    request = _to_notice(w, w.foreign_officer)
    flow.status_change_withdraw(request=request, user=w.student)
    request.refresh_from_db()
    assert request.state == StatusChangeState.WITHDRAWN
    _fire(NOTICE_ENDS)
    request.refresh_from_db()
    assert request.state == StatusChangeState.WITHDRAWN


def test_the_filing_deadline_reminds_and_escalates(w):
    request = _to_notice(w, w.foreign_officer)
    _fire(NOTICE_ENDS)
    source = sc.task(request, StatusChangeFlow.source_province_confirm)
    item = WorkItem.objects.get(task=source)
    assert item.remind_at == datetime.datetime(2026, 12, 15, 10, 0, tzinfo=BEIJING)
    _fire(datetime.datetime(2026, 12, 15, 10, 1, tzinfo=BEIJING))
    assert w.province.email in _told("task_due_soon")
    item.refresh_from_db()
    assert item.overdue_at is None
    _fire(datetime.datetime(2026, 12, 29, 10, 1, tzinfo=BEIJING))
    item.refresh_from_db()
    assert item.overdue_at is not None


def test_scope_of_the_request(w, places):
    with time_machine.travel(FILED, tick=False):
        request = _file(w)
    from permissions import codenames
    from permissions.checks import may
    from permissions.checks import scope

    for user in (w.officer, w.foreign_officer, w.province, w.foreign_province, w.student):
        assert may(user, codenames.VIEW, request)
        assert list(scope(user, codenames.VIEW, StatusChangeRequest.objects.all())) == [request]
    outsider = factories.officer(places.thu, "officer_10003")
    assert not may(outsider, codenames.VIEW, request)
    assert list(scope(outsider, codenames.VIEW, StatusChangeRequest.objects.all())) == []
    # The receiving school sees the request, not the status before it moves.
    assert not may(w.foreign_officer, codenames.VIEW, w.status)


# --- the bans of article 22 -------------------------------------------------------------------


def _refused(w, status=None, at=FILED, **kw):
    with time_machine.travel(at, tick=False), pytest.raises(ValidationError) as refused:
        sc.file(w, "transfer", _fields(**kw), status=status)
    assert not StatusChangeRequest.objects.exists()
    return " ".join(m for ms in refused.value.message_dict.values() for m in ms)


def test_ban_less_than_one_term(w):
    message = _refused(w, at=datetime.datetime(2025, 1, 15, tzinfo=BEIJING))
    assert "transfer_first_term" in message
    assert "第22条" in message


def test_ban_final_year(w):
    assert "transfer_final_year" in _refused(w, at=datetime.datetime(2027, 7, 2, tzinfo=BEIJING))


def test_ban_moving_up_a_level(w, places):
    School.objects.filter(pk="10246").update(level="本科")
    with transaction.atomic(), identity_writes("test setup"):  # a programme field
        StudentStatus.objects.filter(pk=w.status.pk).update(level=Level.JUNIOR_COLLEGE)
    w.status.refresh_from_db()
    assert "transfer_level_up" in _refused(w)
    # Down a level, or at the same level, is no ban.
    School.objects.filter(pk="10246").update(level="专科")
    with time_machine.travel(FILED, tick=False):
        assert _file(w).state == StatusChangeState.SUBMITTED


def test_ban_directed_admission(w, places):
    AdmissionType.objects.get_or_create(
        code="directed", defaults={"name": "定向生", "name_en": "Directed"}
    )
    StudentStatus.objects.filter(pk=w.status.pk).update(admission_type_id="directed")
    w.status.refresh_from_db()
    assert "transfer_directed" in _refused(w)


def test_ban_score_below_the_cutoff(w):
    assert "transfer_below_cutoff" in _refused(w, score="649.5")
    # A major the receiving school keeps no cut-off for.
    MajorCutoff.objects.all().delete()
    assert "transfer_below_cutoff" in _refused(w, score="700")


def test_ban_no_reason(w):
    message = _refused(w, ground="")
    assert "transfer_no_reason" in message


def test_bad_fields_name_their_field(w):
    with pytest.raises(ValidationError) as refused:
        sc.file(w, "transfer", {"target_school": "清华", "target_major": "999999", "score": "x"})
    assert set(refused.value.message_dict) >= {
        "fields.target_school",
        "fields.target_major",
        "fields.score",
    }
    with time_machine.travel(FILED, tick=False):
        assert "transfer_same_school" in _refused(w, target="北京大学")


def test_the_target_school_by_name_and_the_score_as_stored(w):
    with time_machine.travel(FILED, tick=False):
        request = sc.file(w, "transfer", _fields(target="复旦大学", score="650"))
    assert request.fields["target_school"] == "10246"
    assert request.fields["score"] == "650.0"
    assert Decimal(request.fields["score"]) == 650
