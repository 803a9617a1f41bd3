"""What the benchmarks share: timing helpers, and a world of 200 real schools with a
population of open corrections cloned from one made by the services."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.models import CorrectionRequest
from records.models import Qualification
from records.models import School
from records.models import User
from records.reference import load_reference_data
from tests import factories
from tests.benchmarks.population import clone_corrections
from workflows import work
from workflows.flows import correction as services
from workflows.flows.correction import CorrectionFlow
from workflows.models import OPEN
from workflows.models import WorkItem

SMALL, LARGE, SCHOOLS = 1_000, 100_000, 200


def median_seconds(
    action: Callable[[Any], Any],
    runs: int,
    warmup: int = 3,
    setup: Callable[[], Any] = lambda: None,
) -> float:
    """Median wall time of ``action(setup())``; ``setup`` is not timed."""
    for _ in range(warmup):
        action(setup())
    times = []
    for _ in range(runs):
        prepared = setup()
        start = time.perf_counter()
        action(prepared)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh(user: User) -> User:
    """A new user object, as each request loads one (so no grant cache carries over)."""
    return User.objects.get(pk=user.pk)


def open_task(request: Any, node: Any) -> int:
    pk: int = Task.objects.get(
        process__correctionprocess__request=request, flow_task=node, status=STATUS.NEW
    ).pk
    return pk


def best_seconds(action: Callable[[Any], Any], runs: int, warmup: int = 3) -> float:
    """The fastest of ``runs`` timings of ``action(None)``: the cost of the work itself, as
    far as this shared machine lets it show (its medians wander by half from run to run)."""
    for _ in range(warmup):
        action(None)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action(None)
        times.append(time.perf_counter() - start)
    return min(times)


def median(measure: Callable[[], float], runs: int, warmup: int = 2) -> float:
    """Median of ``measure()``, which times its own essential part."""
    for _ in range(warmup):
        measure()
    return statistics.median(measure() for _ in range(runs))


class World:
    def __init__(self) -> None:
        load_reference_data()
        # Half of the schools in one province (北京市 has 92 regular institutions, so its
        # neighbours' make up the half), so that a provincial administrator watches a hundred.
        home = list(School.objects.filter(province_id__in=["11", "12"]).order_by("code"))
        home = home[: SCHOOLS // 2]
        others = School.objects.exclude(province_id__in=["11", "12"]).order_by("code")
        self.schools = home + list(others[: SCHOOLS - len(home)])
        self.school = self.schools[0]
        self.officer = factories.officer(self.school, "bench_officer")
        self.province = factories.provincial_admin(self.school.province, "bench_province")
        self.serial = 0

    def qualification(self) -> tuple[Qualification, User]:
        self.serial += 1
        login = factories.user(f"bench_student_{self.serial}")
        person = factories.student("王小明", login=login)
        return factories.qualification(person, self.school), login

    def lifecycle(
        self, prepared: tuple[Qualification, User] | None = None
    ) -> tuple[tuple[int, int, int], float]:
        """File, school approval, provincial approval through the services: the queries of
        each step, and the seconds spent in the three service calls. The look-ups between the
        steps (a caller has the task's id, and its user from authentication) are not timed."""
        qualification, login = prepared or self.qualification()
        requester, officer, province = fresh(login), fresh(self.officer), fresh(self.province)
        with CaptureQueriesContext(connection) as filed:
            started = time.perf_counter()
            request = services.correction_start(
                qualification=qualification,
                changes={"name": "王晓明"},
                reason="录入错误",
                requester=requester,
            )
            elapsed = time.perf_counter() - started
        review = open_task(request, CorrectionFlow.school_review)
        with CaptureQueriesContext(connection) as forwarded:
            started = time.perf_counter()
            work.decide(task_pk=review, user=officer, decision="approve")
            elapsed += time.perf_counter() - started
        signoff = open_task(request, CorrectionFlow.province_signoff)
        with CaptureQueriesContext(connection) as approved:
            started = time.perf_counter()
            work.decide(task_pk=signoff, user=province, decision="approve")
            elapsed += time.perf_counter() - started
        return (len(filed), len(forwarded), len(approved)), elapsed

    def populate(self, total: int) -> None:
        """Open correction requests up to ``total``, spread over the 200 schools."""
        existing = WorkItem.objects.filter(OPEN, flow="correction").count()
        if existing == 0:
            qualification, login = self.qualification()
            services.correction_start(
                qualification=qualification,
                changes={"name": "王晓明"},
                reason="录入错误",
                requester=login,
            )
            existing = 1
        template = Task.objects.filter(
            flow_task=CorrectionFlow.school_review, status=STATUS.NEW
        ).first()
        assert template is not None
        request = template.process.correctionprocess.request
        clone_corrections(
            template=request,
            schools=[(s.code, s.province_id) for s in self.schools],
            start=existing + 1,
            count=total - existing,
        )

    def own_school_tasks(self, count: int) -> list[int]:
        """``count`` new open school-review tasks at the officer's school (their work items'
        keys, which are the tasks')."""
        first = WorkItem.objects.filter(flow="correction").count() + 10_000_000
        template = WorkItem.objects.filter(OPEN, step="school_review").order_by("task_id").first()
        assert template is not None
        clone_corrections(
            template=CorrectionRequest.objects.get(pk=template.subject_id),
            schools=[(self.school.code, self.school.province_id)],
            start=first,
            count=count,
            to_province=False,
        )
        return list(
            WorkItem.objects.filter(OPEN, step="school_review", school_id=self.school.code)
            .order_by("-task_id")
            .values_list("pk", flat=True)[:count]
        )

    def tasks_page_seconds(self) -> float:
        token, _ = Token.objects.get_or_create(user=self.officer)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

        def get(_: object) -> None:
            response = client.get("/api/v1/tasks/")
            assert response.status_code == 200
            assert response.json()["results"]

        return best_seconds(get, runs=100, warmup=10)


class Statements:
    """Counts the SQL statements run while installed (``connection.execute_wrapper``); unlike
    ``CaptureQueriesContext`` it has no cap (Django keeps at most 9,000 queries)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
