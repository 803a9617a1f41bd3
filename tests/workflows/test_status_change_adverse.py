"""Adverse decisions (取消学籍, 退学 by the school, 开除学籍): the legality review and the
hearing at filing, the written decision, its delivery, and the appeal period under time
travel: no appeal (the change applies when the window ends), an appeal to the school's
committee upholding or cancelling it, an appeal to the province, a late appeal refused."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.utils import translation
from viewflow.workflow.status import PROCESS

from notifications.models import Notification
from records.choices import AppealStage
from records.choices import StatusChangeState
from records.choices import StatusState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.status_changes import appeals
from records.status_changes.types import TYPES
from tests import status_changes as sc
from workflows import work
from workflows.flows import status_change as flow
from workflows.flows.status_change import StatusChangeFlow
from workflows.models import StatusChangeProcess

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
ADVERSE = {
    "legality_review": "done",
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师、李老师",
    "hearing_summary": "学生陈述了考试情况，承认携带资料。",
    "basis": "《普通高等学校学生管理规定》第五十二条",
}
TARGET = {
    "withdrawal_by_school": StatusState.WITHDRAWN,
    "cancellation": StatusState.CANCELLED,
    "expulsion": StatusState.EXPELLED,
}


@pytest.fixture
def w(places):
    return sc.world(places)


def at(day: str, hour: int = 10):
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)
    return time_machine.travel(moment, tick=False)


def _issue(w, type_key="expulsion"):
    """Filed by officer_10001 on 2026-11-30, decided by officer_10001b: issued, in appeal."""
    with at("2026-11-30"):
        request = sc.file(w, type_key, ADVERSE, by=w.officer)
        _decide(request, "school_review", w.officer_b, "approve", comment="")
    return StatusChangeRequest.objects.get(pk=request.pk)


def _deliver(w, request, day="2026-12-01", **kw):
    with at(day, 15):
        return appeals.status_change_deliver(
            request=request,
            delivered_on=datetime.date.fromisoformat(day),
            method=kw.get("method", "in_person"),
            evidence=None,
            acting_user=kw.get("by", w.officer),
        )


def _appeal(w, request, day, reason="程序不当，请求复查"):
    with at(day):
        return flow.status_change_appeal(request=request, reason=reason, user=w.student)


def _close(day: str) -> int:
    with at(day, 0):
        return flow.appeal_windows_close()


def _decide(request, step, user, decision, comment="复查意见"):
    item = work.open_item_of(flow.FLOW_KEY, request.pk, step=step)
    assert item is not None, step
    return work.decide(task_pk=item.pk, user=user, decision=decision, comment=comment)


def _status(w):
    return StudentStatus.objects.get(pk=w.status.pk)


def _to(event: str) -> set[str]:
    return set(Notification.objects.filter(event=event).values_list("recipient_email", flat=True))


def test_every_adverse_type_has_a_happy_path():
    assert set(TARGET) == {key for key, kind in TYPES.items() if kind.adverse}
    assert all(TYPES[key].available for key in TARGET)


@pytest.mark.parametrize("type_key", sorted(TARGET))
def test_adverse_decision_applies_when_the_window_ends_without_appeal(w, type_key):
    request = _issue(w, type_key)
    assert request.state == StatusChangeState.IN_APPEAL
    assert request.appeal == AppealStage.WINDOW
    assert request.appeal_deadline is None  # counted from the delivery
    assert "学生申诉处理委员会" in request.decision_text
    assert "10日内" in request.decision_text
    assert ADVERSE["hearing_by"] in request.decision_text
    assert _status(w).state == StatusState.ENROLLED
    assert _to("adverse_decision_issued") == {w.student.email, w.officer.email}
    issued = Notification.objects.filter(
        event="adverse_decision_issued", recipient_email=w.student.email
    ).get()
    assert "学生申诉处理委员会" in issued.body_text
    assert request.decision_text in issued.body_text

    delivered = _deliver(w, request)
    assert delivered.appeal_deadline == datetime.date(2026, 12, 11)
    assert delivered.delivery_method == "in_person"
    assert _to("adverse_delivered") == {w.student.email, w.officer.email}
    assert "2026年12月11日" in Notification.objects.filter(event="adverse_delivered")[0].body_text

    assert _close("2026-12-11") == 0  # the last day to appeal
    assert _status(w).state == StatusState.ENROLLED
    assert _close("2026-12-12") == 1
    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    assert request.appeal == AppealStage.CLOSED
    assert request.after == {"state": TARGET[type_key]}
    assert _status(w).state == TARGET[type_key]
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert _to("adverse_decision_effective") == {w.student.email, w.officer.email}
    assert _close("2026-12-13") == 0  # once


def test_no_window_end_before_delivery(w):
    request = _issue(w)
    assert _close("2027-03-01") == 0
    request.refresh_from_db()
    assert request.state == StatusChangeState.IN_APPEAL


@pytest.mark.parametrize(
    ("missing", "rule", "article"),
    [
        ("legality_review", "legality_review", "第56条"),
        ("hearing_date", "hearing_record", "第55条"),
        ("hearing_by", "hearing_record", "第55条"),
        ("hearing_summary", "hearing_record", "第55条"),
    ],
)
def test_filing_without_legality_review_or_hearing_is_refused(w, missing, rule, article):
    fields = {k: v for k, v in ADVERSE.items() if k != missing}
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        sc.file(w, "cancellation", fields, by=w.officer)
    errors = refused.value.message_dict
    assert list(errors) == [f"fields.{missing}"]
    assert rule in errors[f"fields.{missing}"][0]
    assert article in errors[f"fields.{missing}"][0]
    assert not StatusChangeRequest.objects.exists()


def test_a_student_cannot_file_an_adverse_decision(w):
    with pytest.raises(PermissionDenied):
        sc.file(w, "expulsion", ADVERSE, by=w.student)


def test_an_appeal_holds_the_change_until_the_committee_upholds_it(w):
    request = _issue(w)
    _deliver(w, request)
    appealed = _appeal(w, request, "2026-12-05")
    assert appealed.appeal == AppealStage.SCHOOL
    assert appealed.appeal_reason == "程序不当，请求复查"
    assert _close("2026-12-20") == 0  # held: the window no longer runs
    assert _status(w).state == StatusState.ENROLLED
    assert _to("adverse_appeal_received") == {w.student.email}
    assert _to("adverse_appeal_filed") == {w.officer_b.email, w.officer_c.email}
    # The requester never decides the appeal; another officer of the school does.
    item = work.open_item_of(flow.FLOW_KEY, request.pk, step="school_appeal")
    assert item is not None
    assert item.pk not in [i.pk for i in work.open_items(w.officer)]
    assert item.pk in [i.pk for i in work.open_items(w.officer_b)]
    assert list(work.open_items(w.foreign_officer)) == []
    with pytest.raises(ValidationError):  # the committee writes its conclusion
        _decide(request, "school_appeal", w.officer_b, "confirm", comment="")

    with at("2026-12-20"):
        done = _decide(request, "school_appeal", w.officer_c, "confirm")
    assert done.state == StatusChangeState.IN_APPEAL
    request.refresh_from_db()
    assert request.appeal == AppealStage.PROVINCE_WINDOW
    assert request.appeal_deadline == datetime.date(2027, 1, 4)
    assert _to("adverse_appeal_upheld") == {w.student.email, w.officer.email}
    assert _close("2027-01-04") == 0
    assert _close("2027-01-05") == 1
    request.refresh_from_db()
    assert request.state == StatusChangeState.APPROVED
    assert _status(w).state == StatusState.EXPELLED


def test_the_committee_cancels_the_decision(w):
    request = _issue(w, "cancellation")
    _deliver(w, request)
    _appeal(w, request, "2026-12-11")  # the last day
    with at("2026-12-15"):
        done = _decide(request, "school_appeal", w.officer_b, "cancel")
    assert done.state == StatusChangeState.OVERTURNED
    request.refresh_from_db()
    assert request.appeal == AppealStage.CLOSED
    assert _status(w).state == StatusState.ENROLLED
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert _to("adverse_overturned") == {w.student.email, w.officer.email}
    assert _close("2027-06-01") == 0
    assert _status(w).state == StatusState.ENROLLED


def test_an_appeal_after_the_window_is_refused(w):
    request = _issue(w)
    _deliver(w, request)
    with pytest.raises(ConflictError) as refused:
        _appeal(w, request, "2026-12-12")
    assert refused.value.code == "appeal_window_closed"
    request.refresh_from_db()
    assert request.appeal == AppealStage.WINDOW
    assert request.appeal_reason == ""


def test_only_the_student_appeals_and_only_officers_deliver(w):
    request = _issue(w)
    with pytest.raises(PermissionDenied):
        _deliver(w, request, by=w.student)
    with pytest.raises(NotVisibleError):
        _deliver(w, request, by=w.foreign_officer)
    _deliver(w, request)
    with pytest.raises(ConflictError) as twice:
        _deliver(w, request, day="2026-12-02")
    assert twice.value.code == "not_awaiting_delivery"
    with at("2026-12-03"), pytest.raises(PermissionDenied):
        flow.status_change_appeal(request=request, reason="x", user=w.officer_b)
    with at("2026-12-03"), pytest.raises(NotVisibleError):
        flow.status_change_appeal(request=request, reason="x", user=w.stranger)


def test_the_province_decides_a_further_appeal(w):
    request = _issue(w, "withdrawal_by_school")
    _deliver(w, request)
    _appeal(w, request, "2026-12-02")
    with at("2026-12-10"):
        _decide(request, "school_appeal", w.officer_b, "confirm")
    request.refresh_from_db()
    appealed = _appeal(w, request, "2026-12-24", reason="学校复查未听取我的意见")
    assert appealed.appeal == AppealStage.PROVINCE
    assert appealed.province_appeal_reason == "学校复查未听取我的意见"
    item = work.open_item_of(flow.FLOW_KEY, request.pk, step="province_appeal")
    assert item is not None
    assert [i.pk for i in work.open_items(w.province)] == [item.pk]
    assert list(work.open_items(w.foreign_province)) == []
    assert list(work.open_items(w.officer_b)) == []
    assert _close("2027-02-01") == 0

    with at("2027-01-20"):
        done = _decide(request, "province_appeal", w.province, "confirm")
    assert done.state == StatusChangeState.APPROVED
    assert _status(w).state == StatusState.WITHDRAWN
    assert StatusChangeProcess.objects.get(request=request).status == PROCESS.DONE


def test_the_province_cancels_the_decision(w):
    request = _issue(w)
    _deliver(w, request)
    _appeal(w, request, "2026-12-02")
    with at("2026-12-10"):
        _decide(request, "school_appeal", w.officer_b, "confirm")
    _appeal(w, request, "2026-12-25")  # the province's last day
    with at("2027-01-20"):
        done = _decide(request, "province_appeal", w.province, "cancel")
    assert done.state == StatusChangeState.OVERTURNED
    assert _status(w).state == StatusState.ENROLLED


def test_an_issued_decision_is_not_withdrawn(w):
    request = _issue(w)
    with pytest.raises(ConflictError) as refused:
        flow.status_change_withdraw(request=request, user=w.officer)
    assert refused.value.code == "decision_issued"
    request.refresh_from_db()
    assert request.state == StatusChangeState.IN_APPEAL


def test_two_level_school_issues_at_its_second_level(w):
    type(w.status.school).objects.filter(pk=w.status.school_id).update(status_change_levels=2)
    with at("2026-11-30"):
        request = sc.file(w, "cancellation", ADVERSE, by=w.officer)
        _decide(request, "school_review", w.officer_b, "approve", comment="")
        request.refresh_from_db()
        assert request.state == StatusChangeState.DEPARTMENT_APPROVED
        _decide(request, "school_final", w.officer_c, "approve", comment="")
    request.refresh_from_db()
    assert request.state == StatusChangeState.IN_APPEAL
    assert sc.task(request, StatusChangeFlow.appeal_window) is not None
