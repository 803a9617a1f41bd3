"""Benchmark of qualification registration (issue 11 item 1). Run with ``make bench``, or:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_bench .venv/bin/python -m pytest \
        -o addopts="" -p no:cacheprovider --create-db -s tests/benchmarks/test_graduation_bench.py

(r) registering a graduating cohort of 5,000 (``workflows.flows.graduation.cohort_register``:
    every check of every draft against its status and person, read and locked; the
    qualifications registered with their first revisions; the statuses graduated; an audit
    event a chunk on the cohort's chain naming each; the emails of the tenth with an account;
    the school's task decided) against ``COPY`` of the same 5,000 qualification rows into the
    same table: time ratio ≤ 5. The drafts are prepared (``prepare_all``), copied out,
    deleted and vacuumed away, then written back by the timed ``COPY`` (triggers and foreign
    keys checked as for any insert), and those very rows are what registration registers.
"""

from __future__ import annotations

import datetime
import io
import time

import pytest
from django.db import connection
from django.urls import reverse

from config import celery_app
from notifications.models import Notification
from records.choices import LearningForm
from records.choices import Level
from records.choices import QualificationStatus
from records.choices import StatusState
from records.graduation import services
from records.models import AuditEvent
from records.models import Qualification
from records.models import Student
from records.models import StudentStatus
from records.models import User
from tests import factories
from tests.celery_worker import celery_configured
from workflows.flows import graduation as flow

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]

COHORT = 5_000
ACCOUNTS_EVERY = 10
REGISTER_LIMIT = 5.0
GRADUATION = datetime.date(2027, 6, 30)
ENTERED = datetime.date(2023, 9, 1)


def _birth(n: int) -> datetime.date:
    return datetime.date(2005, 1, 1) + datetime.timedelta(days=n % 365)


def _graduands(school: object) -> None:
    """``COHORT`` enrolled statuses of 10001 due to graduate in 2027, their persons with a
    photo, every ``ACCOUNTS_EVERY``-th with a login (so an email)."""
    people = Student.objects.bulk_create(
        [
            Student(
                name=f"学{chr(0x4E00 + n % 20000)}{chr(0x4E00 + n // 20000)}",
                gender="男" if n % 2 else "女",
                birth_date=_birth(n),
                id_number=factories.resident_id(
                    _birth(n), "男" if n % 2 else "女", serial=n // 365
                ),
                photo=f"photos/students/2027/{n}.jpg",
            )
            for n in range(COHORT)
        ],
        batch_size=1000,
    )
    StudentStatus.objects.bulk_create(
        [
            StudentStatus(
                student=person,
                school=school,
                province_id="11",
                student_number=f"2023{n:06d}",
                level=Level.BACHELOR,
                major_code="080901",
                major_name="计算机科学与技术",
                learning_form=LearningForm.FULL_TIME,
                study_length="4",
                entry_date=ENTERED,
                expected_graduation=datetime.date(2027, 7, 1),
            )
            for n, person in enumerate(people)
        ],
        batch_size=1000,
    )
    chosen = people[::ACCOUNTS_EVERY]
    logins = User.objects.bulk_create(
        [
            User(username=f"graduate{p.pk}", email=f"g{p.pk}@stu.example", language="zh-hans")
            for p in chosen
        ]
    )
    for person, login in zip(chosen, logins, strict=True):
        person.user = login
    Student.objects.bulk_update(chosen, ["user"], batch_size=1000)


def _columns() -> str:
    return ", ".join(
        f'"{f.column}"' for f in Qualification._meta.concrete_fields if f.column != "id"
    )


def _drafts_copied_back() -> float:
    """The floor: the prepared drafts (every column but the id) copied out, deleted and
    vacuumed away, then written back by ``COPY``, timed (its own transaction)."""
    columns = _columns()
    rows = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY (SELECT {columns} FROM records_qualification ORDER BY id) TO STDOUT"
        ) as copy:
            for data in copy:
                rows.write(data)
        cursor.execute("DELETE FROM records_qualification")
        cursor.execute("VACUUM ANALYZE records_qualification")
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY records_qualification ({columns}) FROM STDIN") as copy,
    ):
        copy.write(rows.getvalue())
    return time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_cohort_registration_against_copy(places, capsys):
    factories.major()
    officer = factories.officer(places.pku)
    _graduands(places.pku)
    cohort, _created = flow.cohort_open(
        school=places.pku, graduation_date=GRADUATION, principal_name="龚旗煌", user=officer
    )
    assert services.prepare_all(cohort_pk=cohort.pk, acting_user=officer) == COHORT
    copy_time = _drafts_copied_back()
    assert Qualification.objects.filter(status=QualificationStatus.DRAFT).count() == COHORT
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    # The request that registers has routed itself: the URLs the emails name are loaded.
    reverse("workflows_api:graduation-list")
    # Delivery is a worker's job in production: publish to an in-memory broker, don't send.
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        started = time.perf_counter()
        result = flow.cohort_register(cohort=cohort, user=officer)
        register_time = time.perf_counter() - started
    assert (result.registered, result.held, result.errors) == (COHORT, 0, [])
    assert Qualification.objects.filter(status=QualificationStatus.REGISTERED).count() == COHORT
    assert StudentStatus.objects.filter(state=StatusState.GRADUATED).count() == COHORT
    assert Notification.objects.count() == COHORT // ACCOUNTS_EVERY
    registered = AuditEvent.objects.filter(action="graduation.registered")
    assert sum(e.data["count"] for e in registered) == COHORT
    ratio = register_time / copy_time
    with capsys.disabled():
        print(
            f"\n(r) a graduating cohort of {COHORT:,} ({COHORT // ACCOUNTS_EVERY:,} with an "
            f"account, so an email each): registration {register_time:.2f} s, COPY of the same "
            f"{COHORT:,} qualification rows into the same table {copy_time:.2f} s: ratio "
            f"{ratio:.2f} (limit {REGISTER_LIMIT})"
        )
    assert ratio <= REGISTER_LIMIT
