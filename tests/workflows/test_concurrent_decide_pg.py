"""20 officers' clients deciding one task at once: one wins, the others get 409."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.errors import ConflictError
from records.models import AuditEvent
from records.models import QualificationRevision
from tests import factories
from workflows import work
from workflows.flows import correction as services
from workflows.flows.correction import CorrectionFlow

CALLERS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_decisions_give_exactly_one_success():
    bj = factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    login = factories.user("student_a")
    qualification = factories.qualification(factories.student("王小明", login=login), pku)
    officer = factories.officer(pku, "officer_10001")
    admins = [factories.provincial_admin(bj, f"province_11_{n}") for n in range(4)]
    request = services.correction_start(
        qualification=qualification, changes={"name": "王晓明"}, reason="录入错误", requester=login
    )
    review = Task.objects.get(flow_task=CorrectionFlow.school_review, status=STATUS.NEW)
    work.decide(task_pk=review.pk, user=officer, decision="approve")
    signoff = Task.objects.get(flow_task=CorrectionFlow.province_signoff, status=STATUS.NEW)

    barrier = threading.Barrier(CALLERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(n: int) -> None:
        try:
            barrier.wait(10)
            work.decide(task_pk=signoff.pk, user=admins[n % 4], decision="approve")
            outcome = "ok"
        except ConflictError as exc:
            outcome = f"409:{exc.code}"
        except Exception as exc:
            outcome = f"error:{type(exc).__name__}:{exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert outcomes.count("ok") == 1, outcomes
    assert all(o.startswith("409:") for o in outcomes if o != "ok"), outcomes
    assert QualificationRevision.objects.filter(qualification=qualification).count() == 2
    assert AuditEvent.objects.filter(action="qualification.amended").count() == 1
    assert AuditEvent.objects.filter(action="correction.approved").count() == 1
    request.refresh_from_db()
    assert request.state == "approved"
