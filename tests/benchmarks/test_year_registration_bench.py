"""Benchmark of academic-year registration (issue 10). Run with ``make bench``; it prints its
figures.

(y) registering a 30,000-student academic year of one school
    (``workflows.flows.year_registration.register_all``: what ``POST
    /api/v1/year-registrations/{id}/register/`` and the round's page call; chunks of 1,000,
    each locking the round and its statuses, writing the registrations, the round's counts and
    an audit event, then the round's task completed) against ``COPY`` of the same 30,000
    registration rows into the same table: time ratio ≤ 5. The students have no login, so no
    email is written; apart, and not held to the ratio, 3,000 students with a login: each
    one's email rendered, written to the outbox and handed to an in-memory broker (no worker
    sends it), as a request with a broker does.
"""

from __future__ import annotations

import datetime
import io
import time

import pytest
from django.db import connection
from django.utils import timezone

from config import celery_app
from records.models import Student
from records.models import StudentStatus
from records.models import YearRegistration
from records.models import YearRegistrationRound
from tests import factories
from tests.celery_worker import celery_configured
from tests.workflows import years as y
from workflows.flows import year_registration as flow

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]

STUDENTS = 30_000
WITH_LOGIN = 3_000  # all the students of the second school
LIMIT = 5.0
ENTERED = datetime.date(2026, 9, 1)


def _copy(sql: str, rows: io.StringIO) -> None:
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(rows.getvalue())


def _populate(count: int, school: str = "10001") -> None:
    """``count`` enrolled students of ``school`` who entered on 1 September 2026 (persons
    and statuses), by COPY."""
    now = "2026-11-30 00:00:00+00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM records_student")
        base = cursor.fetchone()[0] + 1
    people, statuses = io.StringIO(), io.StringIO()
    for n in range(count):
        pk = base + n
        name = f"学{chr(0x4E00 + n % 20000)}{chr(0x4E00 + n // 20000 % 20000)}"
        people.write(
            f"{pk}\t{name}\tmale\t2008-01-01\tresident_id\t{pk:018d}\t\\N\t\t\t\\N\t{now}\t{now}\n"
        )
        statuses.write(
            f"{pk}\t{school}\t11\t2026{pk:06d}\t\tbachelor\t080901\t计算机科学与技术\tfull_time\t4"
            f"\t\\N\t{ENTERED}\t2030-07-01\tenrolled\t{now}\t{now}\t\\N\n"
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
        cursor.execute("VACUUM ANALYZE records_student")
        cursor.execute("VACUUM ANALYZE records_studentstatus")


def _copy_seconds(year_round: YearRegistrationRound, user_pk: int) -> float:
    """``COPY`` of the registrations the service writes (every column, the same values) for
    the round's students: the floor."""
    now = timezone.now().isoformat()
    rows = io.StringIO()
    for status_id, student_id in (
        StudentStatus.objects.filter(school_id=year_round.school_id)
        .order_by("pk")
        .values_list("pk", "student_id")
    ):
        rows.write(
            f"{status_id}\t{year_round.pk}\t{year_round.academic_year}\t{student_id}\t"
            f"{year_round.school_id}\t{year_round.province_id}\tregistered\t\t{now}\t{user_pk}"
            f"\t\\N\t\\N\t{now}\t{now}\n"
        )
    started = time.perf_counter()
    _copy(
        "COPY records_yearregistration (status_id, round_id, academic_year, student_id, "
        "school_id, province_id, state, reason, registered_at, registered_by_id, deferred_at, "
        "deferred_by_id, created, updated) FROM STDIN",
        rows,
    )
    return time.perf_counter() - started


def _clear() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE records_yearregistration")
        cursor.execute("VACUUM ANALYZE records_yearregistration")


@pytest.mark.django_db(transaction=True)
def test_registering_a_30000_student_year_against_copy(places, capsys):
    officer = factories.officer(places.pku)
    _populate(STUDENTS)
    year_round = y.open_round()

    copy_time = _copy_seconds(year_round, officer.pk)
    assert YearRegistration.objects.count() == STUDENTS
    _clear()

    started = time.perf_counter()
    registered = flow.register_all(year_round=year_round, user=officer)
    service_time = time.perf_counter() - started

    assert registered == STUDENTS
    assert YearRegistration.objects.filter(state="registered").count() == STUDENTS
    year_round.refresh_from_db()
    assert (year_round.state, year_round.registered_count) == ("completed", STUDENTS)
    ratio = service_time / copy_time

    # Apart, not held to the ratio: a school whose students have logins writes an email each.
    second = y.open_round("10003")
    _populate(STUDENTS // 10, school="10003")
    logins = [factories.user(f"stu{n}", email=f"stu{n}@stu.example") for n in range(WITH_LOGIN)]
    people = list(Student.objects.filter(statuses__school_id="10003").order_by("pk")[:WITH_LOGIN])
    for person, login in zip(people, logins, strict=True):
        person.user = login
    Student.objects.bulk_update(people, ["user"])
    thu_officer = factories.officer(places.thu)
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        started = time.perf_counter()
        with_mail = flow.register_all(year_round=second, user=thu_officer)
        mail_time = time.perf_counter() - started
    assert with_mail == STUDENTS // 10

    with capsys.disabled():
        print(
            f"\n(y) {STUDENTS:,} enrolled students of one school: registered in "
            f"{service_time:.2f} s ({STUDENTS / service_time:,.0f} students/s, chunks of 1,000), "
            f"COPY of the same registration rows into the same table {copy_time:.2f} s: ratio "
            f"{ratio:.2f} (limit {LIMIT})"
            f"\n    apart: {WITH_LOGIN:,} students with a login registered, an email each "
            f"rendered, written and queued (in-memory broker): {mail_time:.2f} s"
        )
    assert ratio <= LIMIT
