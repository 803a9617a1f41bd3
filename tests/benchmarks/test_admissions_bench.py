"""Benchmarks of admissions (issue 9). Run with ``make bench``; each prints its figures.

(g) importing 100,000 valid rows (``records.admissions.imports``, in this process, from a CSV
    file) against ``COPY`` of the same rows into the same two tables (persons, admissions)
    without any check: time ratio ≤ 5;
(h) the peak memory of an import process for 1,000,000 rows (``manage.py import_admissions``
    in a child process: its maximum resident set): ≤ 300 MB;
(j) the admission list's first page filtered by ``q`` (the start of a name that 60 persons
    share, so a full page at both sizes) at 1,000,000 admission records against 10,000, the
    fastest of 41 requests each: ratio ≤ 1.5;
(k) registering a cohort of 10,000 admitted freshmen (``workflows.flows.admission
    .cohort_register``: statuses, admissions, the audit events on the cohort's chain naming
    every admission, the emails of the tenth with an account, the review task decided)
    against ``COPY`` of the same 10,000 statuses into the same table: time ratio ≤ 5.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from config import celery_app
from notifications.models import Notification
from records.admissions.imports import queue_import
from records.admissions.imports import run_import
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import Student
from records.models import StudentStatus
from records.models import User
from tests import factories
from tests.api.helpers import token_client
from tests.benchmarks.world import best_seconds
from tests.celery_worker import celery_configured
from tests.records.admission_files import ENGLISH
from tests.records.admission_files import reference
from workflows.flows.admission import cohort_register
from workflows.flows.admission import review_open

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]

IMPORT_ROWS = 100_000
MEMORY_ROWS = 1_000_000
LIST_SMALL, LIST_LARGE = 10_000, 1_000_000
IMPORT_LIMIT, MEMORY_LIMIT_MB, LIST_LIMIT = 5.0, 300, 1.5
ROOT = Path(__file__).resolve().parents[2]
# Districts of 北京 and 上海 that stdnum knows for births from 2006 to 2016.
REGIONS = (
    "110101",
    "110102",
    "110105",
    "110106",
    "110107",
    "110108",
    "110109",
    "110111",
    "110112",
    "110113",
    "110114",
    "110115",
    "110116",
    "110117",
    "310101",
    "310104",
    "310105",
    "310106",
    "310107",
    "310109",
    "310110",
)


def _rows(count: int, *, first: int = 0):
    """``count`` valid freshmen of 10001 from 北京市, admitted in 2026, quickly made."""
    from stdnum.cn import ric

    start = datetime.date(2006, 1, 1)
    for n in range(first, first + count):
        birth = start + datetime.timedelta(days=n % 3650)
        order = n % 1000
        gender = "男" if order % 2 else "女"
        # Birth date and order repeat every 73,000 rows: the region tells those rounds apart.
        body = f"{REGIONS[n // 73_000 % len(REGIONS)]}{birth:%Y%m%d}{order:03d}"
        yield [
            f"2611{n:010d}",
            f"学{chr(0x4E00 + n % 20000)}{chr(0x4E00 + n // 20000 % 20000)}",
            gender,
            birth.isoformat(),
            "",
            body + ric.calc_check_digit(body + "0"),
            "10001",
            "080901",
            "",
            "本科",
            "4",
            "普通全日制",
            "",
            "2026",
            "11",
        ]


def _csv(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ENGLISH)
        writer.writerows(_rows(count))
    return path


def _copy_seconds(count: int) -> float:
    """``COPY`` of ``count`` persons and their admissions, unchecked: the floor."""
    people, admissions = io.StringIO(), io.StringIO()
    now = "2026-11-30 00:00:00+00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM records_student")
        base = cursor.fetchone()[0] + 1
    for offset, values in enumerate(_rows(count, first=5_000_000)):
        pk = base + offset
        gender = "male" if values[2] == "男" else "female"
        people.write(
            f"{pk}\t{values[1]}\t{gender}\t{values[3]}\tresident_id\t{values[5]}\t\\N\t\t\t\\N\t{now}\t{now}\n"
        )
        admissions.write(
            f"{values[0]}\t2026\t080901\t计算机科学与技术\tbachelor\tfull_time\t4\tadmitted\t\t"
            f"\\N\t\\N\t{now}\t{now}\t{pk}\t10001\t11\t11\t\\N\n"
        )
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY records_student (id, name, gender, birth_date, id_type, id_number, ethnicity_id, "
            "email, photo, user_id, created, updated) FROM STDIN"
        ) as copy,
    ):
        copy.write(people.getvalue())
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY records_admissionrecord (candidate_number, admission_year, major_code, "
            "major_name, level, learning_form, study_length, state, reason, retained_until, "
            "batch_id, created, updated, student_id, school_id, province_id, origin_province_id, "
            "admission_type_id) "
            "FROM STDIN"
        ) as copy,
    ):
        copy.write(admissions.getvalue())
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval('records_student_id_seq', (SELECT max(id) FROM records_student))"
        )
    return seconds


@pytest.mark.django_db(transaction=True)
def test_import_against_copy(places, tmp_path, capsys):
    reference()
    officer = factories.officer(places.pku)
    path = _csv(tmp_path / "freshmen.csv", IMPORT_ROWS)

    copy_time = _copy_seconds(IMPORT_ROWS)
    AdmissionRecord.objects.all().delete()
    Student.objects.all().delete()
    batch = queue_import(upload=ContentFile(path.read_bytes()), name=path.name, user=officer)
    started = time.perf_counter()
    done = run_import(batch.pk)
    import_time = time.perf_counter() - started

    assert (done.state, done.imported, done.invalid) == ("done", IMPORT_ROWS, 0)
    ratio = import_time / copy_time
    with capsys.disabled():
        print(
            f"\n(g) {IMPORT_ROWS:,} rows: import {import_time:.2f} s "
            f"({IMPORT_ROWS / import_time:,.0f} rows/s), COPY of the same rows into the same "
            f"tables {copy_time:.2f} s: ratio {ratio:.2f} (limit {IMPORT_LIMIT})"
        )
    assert ratio <= IMPORT_LIMIT


@pytest.mark.django_db(transaction=True)
def test_import_memory_for_a_million_rows(places, tmp_path, capsys):
    reference()
    path = _csv(tmp_path / "million.csv", MEMORY_ROWS)
    settings_db = connection.settings_dict
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": (
            f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/"
            f"{settings_db['NAME']}"
        ),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_admissions", str(path), "--school", "10001"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"done: {MEMORY_ROWS} rows, {MEMORY_ROWS} imported" in done.stdout
    with capsys.disabled():
        print(
            f"\n(h) {MEMORY_ROWS:,} rows ({path.stat().st_size / 2**20:.0f} MB of CSV) imported "
            f"in {seconds:.0f} s by `manage.py import_admissions`: peak memory of the process "
            f"{peak_mb:.0f} MB (limit {MEMORY_LIMIT_MB}; before it, the largest child had "
            f"{before / 1024:.0f} MB)"
        )
    assert peak_mb <= MEMORY_LIMIT_MB


SOUGHT = "王小明"
SOUGHT_ROWS = 60  # a full first page (50) at both sizes


def _populate(count: int) -> None:
    """``count`` admissions of 10001 (and their persons), by COPY; 60 of the persons, spread
    over the table, are named 王小明… (the person an officer looks for)."""
    AdmissionRecord.objects.all().delete()
    Student.objects.all().delete()
    _copy_seconds(count)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_student SET name = %s || id WHERE id %% %s = 0",
            [SOUGHT, count // SOUGHT_ROWS],
        )
        cursor.execute("ANALYZE records_student; ANALYZE records_admissionrecord")


@pytest.mark.django_db(transaction=True)
def test_admission_list_searched_at_a_million_against_ten_thousand(places, capsys):
    reference()
    client = token_client(factories.officer(places.pku))
    times = {}
    for size in (LIST_SMALL, LIST_LARGE):
        _populate(size)

        def get(_: object) -> None:
            response = client.get("/api/v1/admissions/", {"q": SOUGHT, "year": "2026"})
            assert response.status_code == 200
            assert len(response.json()["results"]) == 50

        times[size] = best_seconds(get, runs=41)
    ratio = times[LIST_LARGE] / times[LIST_SMALL]
    with capsys.disabled():
        print(
            f"\n(j) GET /api/v1/admissions/?q={SOUGHT}&year=2026, first page, fastest: "
            f"{times[LIST_SMALL] * 1000:.1f} ms at {LIST_SMALL:,}, "
            f"{times[LIST_LARGE] * 1000:.1f} ms at {LIST_LARGE:,}: ratio {ratio:.2f} "
            f"(limit {LIST_LIMIT})"
        )
    assert ratio <= LIST_LIMIT


COHORT = 10_000
ACCOUNTS_EVERY = 10  # every tenth freshman has claimed an account: their email is written
REGISTER_LIMIT = 5.0
STATUS_COLUMNS = (
    "student_number, candidate_number, level, major_code, major_name, learning_form, "
    "study_length, entry_date, expected_graduation, state, created, updated, admission_id, "
    "admission_type_id, province_id, school_id, student_id"
)


def _cohort_of(count: int) -> None:
    """``count`` admitted freshmen of 10001 in 2026 (persons and admissions by COPY, as
    ``_copy_seconds`` writes them), every ``ACCOUNTS_EVERY``-th with a login (so an email)."""
    _copy_seconds(count)
    students = list(Student.objects.order_by("pk").values_list("pk", flat=True))
    logins = User.objects.bulk_create(
        [
            User(username=f"freshman{pk}", email=f"freshman{pk}@stu.example", language="zh-hans")
            for pk in students[::ACCOUNTS_EVERY]
        ]
    )
    Student.objects.bulk_update(
        [
            Student(pk=pk, user=login)
            for pk, login in zip(students[::ACCOUNTS_EVERY], logins, strict=True)
        ],
        ["user"],
        batch_size=2000,
    )


def _statuses_copied_again() -> float:
    """The floor: the statuses registration wrote (every column but the id), deleted and
    vacuumed away, so the table is as registration found it, then written again by ``COPY``
    (its own transaction, the deferred foreign keys checked at its commit)."""
    rows = io.BytesIO()
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY (SELECT {STATUS_COLUMNS} FROM records_studentstatus ORDER BY id) TO STDOUT"
        ) as copy:
            for data in copy:
                rows.write(data)
        cursor.execute("DELETE FROM records_studentstatus")
        cursor.execute("VACUUM ANALYZE records_studentstatus")
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY records_studentstatus ({STATUS_COLUMNS}) FROM STDIN") as copy,
    ):
        copy.write(rows.getvalue())
    return time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_cohort_registration_against_copy(places, capsys):
    reference()
    officer = factories.officer(places.pku)
    _cohort_of(COHORT)
    cohort = review_open(school_id="10001", year=2026)
    # Delivery is a worker's job in production: publish to an in-memory broker, don't send.
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        started = time.perf_counter()
        result = cohort_register(cohort=cohort, user=officer)
        register_time = time.perf_counter() - started
    assert (result.registered, result.errors) == (COHORT, [])
    assert Notification.objects.count() == COHORT // ACCOUNTS_EVERY
    # Every admission is audited: the cohort's chain holds an event a chunk naming each of its
    # admissions with its status and number.
    registered = AuditEvent.objects.filter(action="cohort.admissions_registered")
    assert sorted(a for e in registered for a, _status, _number in e.data["registered"]) == list(
        AdmissionRecord.objects.order_by("pk").values_list("pk", flat=True)
    )
    copy_time = _statuses_copied_again()
    assert StudentStatus.objects.count() == COHORT
    ratio = register_time / copy_time
    with capsys.disabled():
        print(
            f"\n(k) a cohort of {COHORT:,} admitted freshmen ({COHORT // ACCOUNTS_EVERY:,} with "
            f"an account, so an email each): registration {register_time:.2f} s, COPY of the "
            f"same {COHORT:,} statuses into the same table {copy_time:.2f} s: ratio {ratio:.2f} "
            f"(limit {REGISTER_LIMIT})"
        )
    assert ratio <= REGISTER_LIMIT
