"""Benchmarks of status changes (issue 10). Run with ``make bench``; each prints its figures,
its ratios measured side by side in one run on PostgreSQL.

(s) approving 1,000 suspension tasks in bulk in one request (``POST /api/v1/tasks/decide/``,
     the shared bulk decision ``workflows.work.decide_many``) against approving 1,000 others
     one by one (``POST /api/v1/tasks/{id}/decide/``): at least 2× faster. Both sets are filed by
     a second officer of the one-level school through ``status_change_start``, so each task
     ends its request: the status suspended, its audit event, the student's email.
(t) the SQL statements of filing a suspension (``status_change_start``) and of approving it
     (``work.decide``) with 1,000 and with 100,000 statuses of the school in the database:
     equal counts.
"""

from __future__ import annotations

import io
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config import celery_app
from records.choices import StatusState
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import User
from tests import factories
from tests import status_changes as sc
from tests.benchmarks.world import Statements
from tests.benchmarks.world import fresh
from tests.celery_worker import celery_configured
from workflows import work
from workflows.flows.status_change import StatusChangeFlow
from workflows.flows.status_change import status_change_start
from workflows.models import OPEN
from workflows.models import WorkItem

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]

BULK = 1_000
BULK_SPEEDUP = 2.0
SMALL, LARGE = 1_000, 100_000


def _copy(sql: str, rows: io.StringIO) -> None:
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(rows.getvalue())


def _populate(count: int, school: School) -> list[int]:
    """``count`` enrolled statuses of ``school`` (persons without a login, and their statuses,
    as ``tests.status_changes.student_status`` makes them), by COPY; their keys."""
    now = "2026-11-30 00:00:00+00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM records_student")
        base = cursor.fetchone()[0] + 1
    people, statuses = io.StringIO(), io.StringIO()
    for n in range(count):
        pk = base + n
        name = f"学{chr(0x4E00 + n % 20000)}{chr(0x4E00 + n // 20000 % 20000)}"
        people.write(
            f"{pk}\t{name}\tmale\t2005-01-01\tresident_id\t{pk:018d}\t\\N\t\t\t\\N\t{now}\t{now}\n"
        )
        statuses.write(
            f"{pk}\t{school.code}\t{school.province_id}\t7{pk:09d}\t\tbachelor\t080901"
            f"\t计算机科学与技术\tfull_time\t4\t\\N\t{sc.ENTRY}\t2028-07-01\tenrolled\t{now}\t{now}"
            "\t\\N\n"
        )
    _copy(
        "COPY records_student (id, name, gender, birth_date, id_type, id_number, ethnicity_id, "
        "email, photo, user_id, created, updated) FROM STDIN",
        people,
    )
    _copy(
        "COPY records_studentstatus (student_id, school_id, province_id, student_number, "
        "candidate_number, level, major_code, major_name, learning_form, study_length, "
        "admission_type_id, entry_date, expected_graduation, state, created, updated, "
        "admission_id) FROM STDIN",
        statuses,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval('records_student_id_seq', (SELECT max(id) FROM records_student))"
        )
        # As after any bulk load: statistics for the planner, and nothing left for autovacuum.
        cursor.execute("VACUUM ANALYZE records_student")
        cursor.execute("VACUUM ANALYZE records_studentstatus")
    return list(
        StudentStatus.objects.filter(student_id__gte=base)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _file_all(status_pks: list[int], filer: User) -> list[int]:
    """A suspension filed for each status; the open school-review tasks' keys."""
    for status in StudentStatus.objects.filter(pk__in=status_pks).select_related("school"):
        status_change_start(
            status=status,
            type_key="suspension",
            fields=sc.SUSPENSION,
            reason="个人原因",
            requester=filer,
        )
    return list(
        WorkItem.objects.filter(
            OPEN,
            flow="status_change",
            step="school_review",
            subject_id__in=StatusChangeRequest.objects.filter(status_id__in=status_pks).values(
                "pk"
            ),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _api(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def _lifecycle(w: sc.World, school: School) -> tuple[int, int, int]:
    """A new student's suspension filed by the student and approved by the officer through the
    services: the statuses in the database, and the statements of each step (fresh user
    objects, as each request loads them)."""
    login = factories.user()
    status = sc.student_status(school, login)
    statuses = StudentStatus.objects.count()
    filed = Statements()
    with connection.execute_wrapper(filed):
        request = status_change_start(
            status=status,
            type_key="suspension",
            fields=sc.SUSPENSION,
            reason="个人原因",
            requester=fresh(login),
        )
    review = sc.task(request, StatusChangeFlow.school_review).pk
    approved = Statements()
    with connection.execute_wrapper(approved):
        work.decide(task_pk=review, user=fresh(w.officer), decision="approve")
    assert StudentStatus.objects.get(pk=status.pk).state == StatusState.SUSPENDED
    return statuses, filed.count, approved.count


@pytest.mark.django_db(transaction=True)
def test_bulk_approval_of_1000_suspensions_against_one_by_one(places, capsys):
    w = sc.world(places)
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        statuses = _populate(2 * BULK, places.pku)
        started = time.perf_counter()
        singles = _file_all(statuses[:BULK], w.officer_b)
        filing_time = time.perf_counter() - started
        bulk = _file_all(statuses[BULK:], w.officer_b)
        assert len(singles) == len(bulk) == BULK

        api = _api(w.officer)
        started = time.perf_counter()
        for pk in singles:
            response = api.post(
                f"/api/v1/tasks/{pk}/decide/", {"decision": "approve"}, format="json"
            )
            assert response.status_code == 200, response.content
        single_time = time.perf_counter() - started

        assert work.BULK_MAX >= BULK  # one request
        started = time.perf_counter()
        response = api.post(
            "/api/v1/tasks/decide/", {"tasks": bulk, "decision": "approve"}, format="json"
        )
        bulk_time = time.perf_counter() - started
        assert response.status_code == 200, response.content
        assert all(r["ok"] for r in response.json()["results"])

    suspended = StudentStatus.objects.filter(pk__in=statuses, state=StatusState.SUSPENDED).count()
    assert suspended == 2 * BULK
    speedup = single_time / bulk_time
    with capsys.disabled():
        print(
            f"\n(s) {BULK:,} suspensions filed in {filing_time:.2f} s; approved one by one "
            f"through the API {single_time:.2f} s ({single_time / BULK * 1000:.1f} ms each), "
            f"in one bulk request {bulk_time:.2f} s "
            f"({bulk_time / BULK * 1000:.1f} ms each): "
            f"{speedup:.2f}x faster (at least {BULK_SPEEDUP})"
        )
    assert speedup >= BULK_SPEEDUP


@pytest.mark.django_db(transaction=True)
def test_statements_per_status_change_step_at_1000_and_100000_statuses(places, capsys):
    w = sc.world(places)
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        _lifecycle(w, places.pku)  # warm caches (content types, templates, permissions)
        _populate(SMALL - StudentStatus.objects.count() - 1, places.pku)
        small_count, *small = _lifecycle(w, places.pku)
        _populate(LARGE - StudentStatus.objects.count() - 1, places.pku)
        large_count, *large = _lifecycle(w, places.pku)
    with capsys.disabled():
        print(
            f"\n(t) statements (filing a suspension, approving it): {tuple(small)} at "
            f"{small_count:,} statuses, {tuple(large)} at {large_count:,}"
        )
    assert (small_count, large_count) == (SMALL, LARGE)
    assert small == large
