"""An admission's cancellation (取消入学资格) as an adverse decision: filed with the legality
review and the hearing, confirmed into a written decision, delivered, and the appeal period
under time travel: no appeal (the admission is cancelled when the window ends), an appeal
the committee cancels (the admission stays and registers with its cohort), an appeal to the
province, a late appeal refused, who sees and does what."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import translation

from notifications.models import Notification
from records.admissions import appeals
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AdmissionCancellation
from records.models import AdmissionRecord
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.workflows import cohorts as c
from workflows import work
from workflows.flows import admission as flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return c.world(places)


def at(day: str, hour: int = 10):
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=c.SHANGHAI)
    return time_machine.travel(moment, tick=False)


def _confirmed(w, *, account: bool = True):
    """Admission 1, its cancellation asked on 2026-10-10 and confirmed by a second officer."""
    (a,) = c.admit(w.officer, [1])
    student = c.with_account(a, "fresh_a") if account else None
    with at("2026-10-10"):
        (result,) = c.record(w.officer, c.outcome(a, "cancelled", reason="材料与录取信息不符"))
        assert result["ok"], result
        item = c.confirmation_item(result["cancellation"])
        done = work.decide(task_pk=item.pk, user=w.officer_b, decision="confirm")
    assert (done.state, done.outcome) == ("in_appeal", "decision_issued")
    return a, AdmissionCancellation.objects.get(pk=result["cancellation"]), student


def _deliver(w, cancellation, day="2026-10-12"):
    with at(day, 15):
        return appeals.cancellation_deliver(
            cancellation=cancellation,
            delivered_on=datetime.date.fromisoformat(day),
            method="post",
            evidence=None,
            acting_user=w.officer,
        )


def _appeal(cancellation, student, day, reason="材料属实，请求复查"):
    with at(day):
        return flow.cancellation_appeal(cancellation=cancellation, reason=reason, user=student)


def _close(day: str) -> int:
    with at(day, 0):
        return flow.cancellation_windows_close()


def _decide(cancellation, step, user, decision, comment="复查意见"):
    item = work.open_item_of(flow.FLOW_KEY, cancellation.pk, step=step)
    assert item is not None, step
    return work.decide(task_pk=item.pk, user=user, decision=decision, comment=comment)


def _state(admission):
    return AdmissionRecord.objects.get(pk=admission.pk).state


def _to(event):
    return set(Notification.objects.filter(event=event).values_list("recipient_email", flat=True))


@pytest.mark.parametrize(
    ("missing", "rule", "article"),
    [
        ("legality_review", "legality_review", "第56条"),
        ("hearing_date", "hearing_record", "第55条"),
        ("hearing_by", "hearing_record", "第55条"),
        ("hearing_summary", "hearing_record", "第55条"),
    ],
)
def test_a_cancellation_without_legality_review_or_hearing_is_refused(w, missing, rule, article):
    (a,) = c.admit(w.officer, [1])
    empty = {"legality_review": False, "hearing_date": None}.get(missing, "")
    with translation.override("zh-hans"):
        (result,) = c.record(
            w.officer, c.outcome(a, "cancelled", reason="不符", **{missing: empty})
        )
    assert result["ok"] is False
    assert result["detail"].startswith(f"{missing}: ")
    assert f"规则 {rule}" in result["detail"]
    assert article in result["detail"]
    assert not AdmissionCancellation.objects.exists()


def test_without_appeal_the_admission_is_cancelled_when_the_window_ends(w):
    a, cancellation, _student = _confirmed(w)
    assert _state(a) == "admitted"
    assert "学生申诉处理委员会" in cancellation.decision_text
    assert _to("adverse_decision_issued") == {"fresh_a@stu.example", "o1@pku.example"}
    assert _close("2027-03-01") == 0  # not delivered: no window runs

    delivered = _deliver(w, cancellation)
    assert delivered.appeal_deadline == datetime.date(2026, 10, 22)
    assert _to("adverse_delivered") == {"fresh_a@stu.example", "o1@pku.example"}
    assert _close("2026-10-22") == 0
    assert _close("2026-10-23") == 1
    assert _state(a) == "cancelled"
    assert AdmissionCancellation.objects.get(pk=cancellation.pk).state == "confirmed"
    assert _to("adverse_decision_effective") == {"fresh_a@stu.example", "o1@pku.example"}


def test_the_registration_waits_for_a_cancellation_in_its_appeal_period(w):
    a, cancellation, student = _confirmed(w)
    with at("2026-10-15"):
        result = flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert (result.registered, result.waiting) == (0, 1)
    _deliver(w, cancellation)
    _appeal(cancellation, student, "2026-10-20")
    with at("2026-10-25"):
        done = _decide(cancellation, "cancellation_school_appeal", w.officer_b, "cancel")
    assert done.state == "overturned"
    assert _state(a) == "admitted"
    assert _to("adverse_overturned") == {"fresh_a@stu.example", "o1@pku.example"}
    with at("2026-10-26"):
        assert flow.cohort_register(cohort=c.cohort(), user=w.officer).registered == 1
    assert _state(a) == "registered"


def test_an_appeal_to_the_province_decides_it(w):
    a, cancellation, student = _confirmed(w)
    _deliver(w, cancellation)
    _appeal(cancellation, student, "2026-10-22")  # the last day
    assert _close("2026-11-30") == 0  # held
    item = work.open_item_of(flow.FLOW_KEY, cancellation.pk, step="cancellation_school_appeal")
    assert item is not None
    assert item.pk not in [i.pk for i in work.open_items(w.officer)]  # the requester
    with pytest.raises(PermissionDenied):
        _decide(cancellation, "cancellation_school_appeal", w.officer, "confirm")
    from django.test import Client

    committee = Client()
    committee.force_login(w.officer_b)
    with at("2026-10-25"):
        task_page = committee.get(f"/work/{item.pk}/").content.decode()
    assert "材料属实，请求复查" in task_page
    assert "学生申诉处理委员会" in task_page
    assert c.HEARING["hearing_by"] in task_page
    with at("2026-10-30"):
        _decide(cancellation, "cancellation_school_appeal", w.officer_b, "confirm")
    cancellation.refresh_from_db()
    assert (cancellation.appeal, cancellation.appeal_deadline) == (
        "province_window",
        datetime.date(2026, 11, 14),
    )
    _appeal(cancellation, student, "2026-11-10", reason="学校复查有误")
    province_item = work.open_item_of(
        flow.FLOW_KEY, cancellation.pk, step="cancellation_province_appeal"
    )
    assert province_item is not None
    assert province_item.pk in [i.pk for i in work.open_items(w.admin)]
    assert list(work.open_items(w.admin_sh)) == []
    assert _to("adverse_appeal_filed") >= {"p@bj.example"}
    with at("2026-11-20"):
        done = _decide(cancellation, "cancellation_province_appeal", w.admin, "confirm")
    assert done.state == "confirmed"
    assert _state(a) == "cancelled"


def test_a_late_appeal_and_the_wrong_people_are_refused_over_the_api(w):
    _a, cancellation, student = _confirmed(w)
    url = f"/api/v1/admission-cancellations/{cancellation.pk}/"
    shown = token_client(student).get(url)
    assert shown.status_code == 200
    assert shown.json()["state"] == "in_appeal"
    assert shown.json()["hearing_by"] == c.HEARING["hearing_by"]
    assert token_client(w.thu_officer).get(url).status_code == 404
    with at("2026-10-12", 15):
        assert_error(
            token_client(student).post(
                url + "delivery/", {"delivered_on": "2026-10-12", "method": "post"}
            ),
            403,
            "permission_denied",
        )
        delivered = token_client(w.officer).post(
            url + "delivery/", {"delivered_on": "2026-10-12", "method": "post"}, format="json"
        )
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["appeal_deadline"] == "2026-10-22"
    with at("2026-10-20"):
        assert_error(
            token_client(w.officer_b).post(url + "appeal/", {"reason": "x"}, format="json"),
            403,
            "permission_denied",
        )
    with at("2026-10-23"):
        late = token_client(student).post(url + "appeal/", {"reason": "晚了"}, format="json")
    assert_error(late, 409, "appeal_window_closed")
    with at("2026-10-21"):
        filed = token_client(student).post(url + "appeal/", {"reason": "请复查"}, format="json")
    assert filed.status_code == 200, filed.content
    assert filed.json()["appeal"] == "school"
    assert filed.json()["open_task"]["step"] == "cancellation_school_appeal"


def test_services_refuse_outsiders(w):
    _a, cancellation, student = _confirmed(w)
    with pytest.raises(NotVisibleError):
        _deliver_as(w.fdu_officer, cancellation)
    _deliver(w, cancellation)
    with pytest.raises(ConflictError):
        _deliver(w, cancellation, day="2026-10-13")
    with pytest.raises(NotVisibleError), at("2026-10-14"):
        flow.cancellation_appeal(cancellation=cancellation, reason="x", user=w.fdu_officer)
    assert student is not None


def _deliver_as(user, cancellation):
    with at("2026-10-12", 15):
        appeals.cancellation_deliver(
            cancellation=cancellation,
            delivered_on=datetime.date(2026, 10, 12),
            method="post",
            evidence=None,
            acting_user=user,
        )


def test_the_student_appeals_from_the_cancellation_page(w):
    from django.test import Client

    a, cancellation, student = _confirmed(w)
    _deliver(w, cancellation)
    client = Client()
    client.force_login(student)
    url = f"/home/cancellations/{cancellation.pk}/"
    with at("2026-10-15"):
        home = client.get("/home/").content.decode()
        assert f'href="{url}"' in home
        page = client.get(url).content.decode()
        assert "学生申诉处理委员会" in page
        assert 'id="appeal-form"' in page
        assert 'id="delivery-form"' not in page
        client.post(url, {"action": "appeal", "reason": "材料属实"})
    cancellation.refresh_from_db()
    assert (cancellation.appeal, cancellation.appeal_reason) == ("school", "材料属实")
    other = Client()
    other.force_login(w.fdu_officer)
    assert other.get(url).status_code == 404
    assert _state(a) == "admitted"
