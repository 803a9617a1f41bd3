"""An email at every step: who receives it, in which language, saying what, and never an ID."""

from __future__ import annotations

import pytest
from django.core import mail
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from tests import factories
from workflows import work
from workflows.flows import correction as services
from workflows.flows.correction import CorrectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj = places.bj
    pku = places.pku
    login = factories.user("student_a", email="a@stu.example", language="zh-hans")
    person = factories.student("王小明", login=login)
    return {
        "student": login,
        "person": person,
        "q": factories.qualification(person, pku),
        "officer": factories.officer(pku, "officer_10001", email="o1@pku.example", language="en"),
        "officer2": factories.officer(pku, "officer_10001b", email="o2@pku.example"),
        "province": factories.provincial_admin(bj, "province_11", email="p@bj.example"),
    }


def _by_recipient():
    return {m.to[0]: m for m in mail.outbox}


def _task(request, node):
    return Task.objects.get(
        process__correctionprocess__request=request, flow_task=node, status=STATUS.NEW
    )


def _assert_no_id(world):
    for message in mail.outbox:
        html = str(message.alternatives[0][0])  # type: ignore[union-attr]
        body = f"{message.body}{html}{message.subject}"
        assert world["person"].id_number not in body


def test_emails_along_the_happy_path(world, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=world["student"],
        )
    sent = _by_recipient()
    assert set(sent) == {"a@stu.example", "o1@pku.example", "o2@pku.example"}
    assert sent["a@stu.example"].subject == f"[学籍] 已收到您的学历信息更正申请 #{request.pk}"
    assert sent["o1@pku.example"].subject == f"[Xueji] To review: correction request #{request.pk}"
    assert "Fields: name" in sent["o1@pku.example"].body
    assert "更正项目：姓名" in sent["a@stu.example"].body
    # The step it waits for, named as the pages name it (the glossary), in each language.
    assert "状态：已提交（待学校审核）" in sent["a@stu.example"].body
    assert "State: Submitted (next: School review)" in sent["o1@pku.example"].body
    assert f"/corrections/{request.pk}/" in sent["a@stu.example"].body
    _assert_no_id(world)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        work.decide(
            task_pk=_task(request, CorrectionFlow.school_review).pk,
            user=world["officer"],
            decision="approve",
        )
    assert [m.to for m in mail.outbox] == [["p@bj.example"]]
    assert "待审批" in mail.outbox[0].subject
    assert "（待省级审批）" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        work.decide(
            task_pk=_task(request, CorrectionFlow.province_signoff).pk,
            user=world["province"],
            decision="approve",
            comment="同意更正",
        )
    assert [m.to for m in mail.outbox] == [["a@stu.example"]]
    assert "已批准" in mail.outbox[0].subject
    assert "意见：同意更正" in mail.outbox[0].body
    _assert_no_id(world)


def test_officer_filing_on_behalf_mails_the_officer_and_the_student(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=world["officer2"],
        )
    receipts = [
        m
        for m in mail.outbox
        if "#" in m.subject and ("收到" in m.subject or "received" in m.subject)
    ]
    assert sorted(m.to[0] for m in receipts) == ["a@stu.example", "o2@pku.example"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        work.decide(
            task_pk=_task(request, CorrectionFlow.school_review).pk,
            user=world["officer"],
            decision="return",
            comment="请附证明",
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["a@stu.example", "o2@pku.example"]


def test_returned_twice_mails_twice_and_rejection_mails(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=world["student"],
        )
    for _ in range(2):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            work.decide(
                task_pk=_task(request, CorrectionFlow.school_review).pk,
                user=world["officer"],
                decision="return",
                comment="请附证明",
            )
        assert [m.to for m in mail.outbox] == [["a@stu.example"]]
        assert "退回" in mail.outbox[0].subject
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.correction_resubmit(
                request=request, changes={"name": "王晓明"}, reason="已附", user=world["student"]
            )
        assert sorted(m.to[0] for m in mail.outbox) == ["o1@pku.example", "o2@pku.example"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        work.decide(
            task_pk=_task(request, CorrectionFlow.school_review).pk,
            user=world["officer"],
            decision="reject",
            comment="非学校原因",
        )
    assert [m.to for m in mail.outbox] == [["a@stu.example"]]
    assert "未获批准" in mail.outbox[0].subject
    assert Notification.objects.filter(event="correction_returned").count() == 2


def test_withdrawal_mails_whoever_holds_the_task(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=world["student"],
        )
    review = _task(request, CorrectionFlow.school_review)
    with review.activation() as activation:
        activation.assign(world["officer"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_withdraw(request=request, user=world["student"])
    assert [m.to for m in mail.outbox] == [["o1@pku.example"]]
    assert mail.outbox[0].subject == f"[Xueji] Correction request #{request.pk} withdrawn"


def test_unclaimed_withdrawal_mails_every_officer(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=world["student"],
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_withdraw(request=request, user=world["student"])
    assert sorted(m.to[0] for m in mail.outbox) == ["o1@pku.example", "o2@pku.example"]


def test_an_id_number_correction_mails_no_id_number(world, django_capture_on_commit_callbacks):
    person = world["person"]
    new_id = factories.resident_id(person.birth_date, person.gender, region="310101")
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_start(
            qualification=world["q"],
            changes={"id_number": new_id},
            reason="录入错误",
            requester=world["student"],
        )
    assert mail.outbox
    for message in mail.outbox:
        assert new_id not in message.body
        assert person.id_number not in message.body


def test_one_notice_per_step_speaks_each_recipients_language(
    world, django_capture_on_commit_callbacks
):
    """A step's recipients share one notify() call; each still reads their own language,
    their own name, and the field labels joined the way their language joins them."""
    with django_capture_on_commit_callbacks(execute=True):
        services.correction_start(
            qualification=world["q"],
            changes={"name": "王晓明", "start_date": "2020-09-02"},
            reason="录入错误",
            requester=world["student"],
        )
    sent = _by_recipient()
    assert sent["o1@pku.example"].body.startswith("Dear officer_10001,")
    assert "Fields: name, study start date" in sent["o1@pku.example"].body
    assert sent["o2@pku.example"].body.startswith("officer_10001b，您好")
    assert "更正项目：姓名、入学日期" in sent["o2@pku.example"].body
    assert sent["a@stu.example"].body.startswith("王小明，您好")
