"""CorrectionFlow driven through workflows.services, as the API and the pages drive it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS
from viewflow.workflow.status import STATUS

from records.choices import CorrectionState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import Qualification
from records.qualifications import qualification_amend
from tests import factories
from workflows import work
from workflows.flows import correction as services
from workflows.flows.correction import CorrectionFlow
from workflows.models import CorrectionProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj, sh = places.bj, places.sh
    pku = places.pku
    fdu = places.fdu
    login = factories.user("student_a")
    person = factories.student("王小明", login=login)
    return {
        "student": login,
        "q": factories.qualification(person, pku),
        "officer": factories.officer(pku, "officer_10001"),
        "officer_b": factories.officer(pku, "officer_10001b"),
        "foreign_officer": factories.officer(fdu, "officer_10246"),
        "province": factories.provincial_admin(bj, "province_11"),
        "foreign_province": factories.provincial_admin(sh, "province_31"),
    }


def _file(world, changes=None):
    return services.correction_start(
        qualification=world["q"],
        changes=changes or {"name": "王晓明"},
        reason="录入错误",
        requester=world["student"],
    )


def _task(request, node):
    return Task.objects.get(
        process__correctionprocess__request=request, flow_task=node, status=STATUS.NEW
    )


def _nodes(request):
    process = CorrectionProcess.objects.get(request=request)
    return [t.flow_task.name for t in process.task_set.order_by("pk")]


def test_happy_path(world):
    request = _file(world)
    review = _task(request, CorrectionFlow.school_review)
    assert [i.pk for i in work.open_items(world["officer"])] == [review.pk]
    assert list(work.open_items(world["province"])) == []
    work.decide(task_pk=review.pk, user=world["officer"], decision="approve")
    signoff = _task(request, CorrectionFlow.province_signoff)
    assert [i.pk for i in work.open_items(world["province"])] == [signoff.pk]
    assert list(work.open_items(world["officer"])) == []
    work.decide(task_pk=signoff.pk, user=world["province"], decision="approve", comment="同意")
    request.refresh_from_db()
    assert request.state == CorrectionState.APPROVED
    assert Qualification.objects.get(pk=world["q"].pk).name == "王晓明"
    process = CorrectionProcess.objects.get(request=request)
    assert process.status == PROCESS.DONE
    assert _nodes(request) == [
        "start",
        "school_review",
        "after_school_review",
        "province_signoff",
        "after_signoff",
        "end",
    ]


def test_school_rejects(world):
    request = _file(world)
    work.decide(
        task_pk=_task(request, CorrectionFlow.school_review).pk,
        user=world["officer"],
        decision="reject",
        comment="证据不足",
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.REJECTED
    assert CorrectionProcess.objects.get(request=request).status == PROCESS.DONE


def test_province_rejects(world):
    request = _file(world)
    work.decide(
        task_pk=_task(request, CorrectionFlow.school_review).pk,
        user=world["officer"],
        decision="approve",
    )
    work.decide(
        task_pk=_task(request, CorrectionFlow.province_signoff).pk,
        user=world["province"],
        decision="reject",
        comment="非学校原因",
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.REJECTED
    assert Qualification.objects.get(pk=world["q"].pk).name == "王小明"


def test_return_then_resubmit_goes_to_school_review_again(world):
    request = _file(world)
    work.decide(
        task_pk=_task(request, CorrectionFlow.school_review).pk,
        user=world["officer"],
        decision="return",
        comment="请附户口本",
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.RETURNED
    assert list(work.open_items(world["officer"])) == []
    services.correction_resubmit(
        request=request, changes={"name": "王晓明"}, reason="已附", user=world["student"]
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
    second_review = _task(request, CorrectionFlow.school_review)
    assert [i.pk for i in work.open_items(world["officer"])] == [second_review.pk]
    assert _nodes(request)[-2:] == ["revise", "school_review"]


def test_withdraw_cancels_the_process(world):
    request = _file(world)
    services.correction_withdraw(request=request, user=world["student"])
    request.refresh_from_db()
    assert request.state == CorrectionState.WITHDRAWN
    assert CorrectionProcess.objects.get(request=request).status == PROCESS.CANCELED
    assert list(work.open_items(world["officer"])) == []


def test_withdraw_by_someone_else_is_refused_and_changes_nothing(world):
    request = _file(world)
    with pytest.raises(PermissionDenied):
        services.correction_withdraw(request=request, user=world["officer"])
    assert CorrectionProcess.objects.get(request=request).status == PROCESS.NEW


def test_stale_approval_returns_to_school_review(world):
    request = _file(world)
    work.decide(
        task_pk=_task(request, CorrectionFlow.school_review).pk,
        user=world["officer"],
        decision="approve",
    )
    qualification_amend(
        qualification=world["q"],
        changes={"name": "王小名"},
        approved_by=world["province"],
        reason="x",
        correction_id=None,
    )
    work.decide(
        task_pk=_task(request, CorrectionFlow.province_signoff).pk,
        user=world["province"],
        decision="approve",
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
    assert _task(request, CorrectionFlow.school_review)
    assert Qualification.objects.get(pk=world["q"].pk).name == "王小名"


def test_a_decided_task_answers_conflict(world):
    request = _file(world)
    review = _task(request, CorrectionFlow.school_review)
    work.decide(task_pk=review.pk, user=world["officer"], decision="approve")
    with pytest.raises(ConflictError) as exc:
        work.decide(task_pk=review.pk, user=world["officer_b"], decision="approve")
    assert exc.value.code == "already_decided"


def test_a_task_held_by_someone_else_answers_conflict(world):
    request = _file(world)
    review = _task(request, CorrectionFlow.school_review)
    with review.activation() as activation:
        activation.assign(world["officer_b"])  # viewflow's claim; our services never leave one
    with pytest.raises(ConflictError) as exc:
        work.decide(task_pk=review.pk, user=world["officer"], decision="approve")
    assert exc.value.code == "held_by_other"


def test_foreign_users_do_not_see_the_task(world):
    request = _file(world)
    review = _task(request, CorrectionFlow.school_review)
    for who in ("foreign_officer", "foreign_province", "student"):
        assert list(work.open_items(world[who])) == []
        with pytest.raises(NotVisibleError):
            work.decide(task_pk=review.pk, user=world[who], decision="approve")


def test_a_refused_decision_writes_nothing(world):
    request = _file(world)
    review = _task(request, CorrectionFlow.school_review)
    with pytest.raises(Exception, match="comment"):
        work.decide(task_pk=review.pk, user=world["officer"], decision="reject")
    review.refresh_from_db()
    assert (review.status, review.owner_id) == (STATUS.NEW, None)
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
