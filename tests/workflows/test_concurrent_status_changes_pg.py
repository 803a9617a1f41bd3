"""Status changes under contention on PostgreSQL: concurrent filings of one type on one
status give one request; two approvals that both end a status apply one."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from records.errors import ConflictError
from records.models import AuditEvent
from records.models import StatusChangeRequest
from records.models import StudentStatus
from tests import factories
from tests import status_changes as sc
from workflows import work
from workflows.flows import status_change as flow
from workflows.flows.status_change import StatusChangeFlow

CALLERS = 10


def _race(calls: list[Callable[[], object]]) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(10)
            call()
            outcome = "ok"
        except ConflictError as exc:
            outcome = f"409:{exc.code}"
        except Exception as exc:
            outcome = f"error:{type(exc).__name__}:{exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _world():
    province = factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", province.code)
    login = factories.user("student_d")
    officers = [factories.officer(pku, f"officer_10001_{n}") for n in range(3)]
    return sc.student_status(pku, login), login, officers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_of_one_type_give_one_request():
    status, login, _officers = _world()

    def file() -> object:
        return flow.status_change_start(
            status=status, type_key="suspension", fields=sc.SUSPENSION, reason="x", requester=login
        )

    outcomes = _race([file] * CALLERS)

    assert outcomes.count("ok") == 1, outcomes
    assert sorted(set(outcomes) - {"ok"}) == ["409:open_request_exists"], outcomes
    assert StatusChangeRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="status_change.filed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvals_that_end_a_status_apply_one():
    status, login, officers = _world()
    withdrawal = flow.status_change_start(
        status=status, type_key="withdrawal", fields={"date": "2026-06-30"}, reason="x",
        requester=login,
    )  # fmt: skip
    death = flow.status_change_start(
        status=status, type_key="death", fields={"date": "2026-01-05"}, reason="x",
        requester=officers[0],
    )  # fmt: skip
    tasks = [
        sc.task(withdrawal, StatusChangeFlow.school_review).pk,
        sc.task(death, StatusChangeFlow.school_review).pk,
    ]

    def decide(task: int) -> Callable[[], object]:
        return lambda: work.decide(task_pk=task, user=officers[1], decision="approve")

    outcomes = _race([decide(task) for task in tasks])

    assert sorted(outcomes) == ["409:status_ended", "ok"], outcomes
    assert StudentStatus.objects.get(pk=status.pk).state in ("withdrawn", "deceased")
    assert StatusChangeRequest.objects.filter(state="approved").count() == 1
    assert AuditEvent.objects.filter(action="status.changed").count() == 1
