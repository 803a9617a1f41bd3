"""Certificate proofs decided at once on PostgreSQL: approvals at one school number one after
the other (the school's row lock), and two applications for one qualification filed at once
give one application."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.errors import ConflictError
from records.models import CertificateProof
from records.models import Qualification
from records.models import User
from tests import factories
from workflows import work
from workflows.flows import certificate_proof as flow
from workflows.flows.certificate_proof import CertificateProofFlow

CALLERS = 6


def _at_once(calls: list[Callable[[], object]]) -> list[str]:
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
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_at_one_school_get_distinct_numbers():
    factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    officers = [factories.officer(pku, f"officer_10001_{n}") for n in range(CALLERS)]
    requester = factories.officer(pku, "officer_10001")
    tasks = []
    for _ in range(CALLERS):
        q = factories.qualification(factories.student("王小明"), pku)
        proof = flow.proof_start(qualification=q, reason="lost", note="遗失", requester=requester)
        tasks.append(
            Task.objects.get(
                process__certificateproofprocess__request=proof,
                flow_task=CertificateProofFlow.school_review,
                status=STATUS.NEW,
            )
        )

    def approve(n: int) -> Callable[[], object]:
        return lambda: work.decide(task_pk=tasks[n].pk, user=officers[n], decision="approve")

    assert _at_once([approve(n) for n in range(CALLERS)]) == ["ok"] * CALLERS
    numbers = sorted(CertificateProof.objects.values_list("number", flat=True))
    assert len(set(numbers)) == CALLERS
    assert [int(number[-5:]) for number in numbers] == list(range(1, CALLERS + 1))
    assert Qualification.objects.filter(lost_at__isnull=False).count() == CALLERS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_for_one_qualification_give_one():
    factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    login = factories.user("student_a")
    q = factories.qualification(factories.student("李四", login=login), pku)
    factories.officer(pku, "officer_10001")
    officer_b = factories.officer(pku, "officer_10001b")

    def apply(user: User) -> Callable[[], object]:
        return lambda: flow.proof_start(qualification=q, reason="lost", note="遗失", requester=user)

    outcomes = _at_once([apply(login), apply(officer_b), apply(login), apply(officer_b)])
    assert outcomes == ["409:open_application_exists"] * 3 + ["ok"]
    assert CertificateProof.objects.count() == 1
