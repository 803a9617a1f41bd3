"""Benchmarks of the correction process on PostgreSQL (issue 3). Run with ``make bench``.

Each prints its ratios, measured side by side in one run:
(a) SQL queries per flow step at 1,000 and at 100,000 existing qualifications with open
    requests: the counts must be equal;
(b) ``GET /api/v1/tasks/`` (first page) for an officer at 100,000 open requests across 200
    schools, against the same at 1,000 (the officer's school holding a full page at both):
    ratio of the fastest of 100 requests ≤ 1.5;
(c) the full lifecycle (file, school approval, provincial approval) through the services,
    against viewflow's floor (a flow of the same shape driven by the same calls that touches no
    record, audit row or email, ``floor.py``) plus a hand-written psycopg script doing the
    same essential writes (state updates, revision, audit rows, outbox rows) in three
    transactions: median time ratio ≤ 2.0 (issue 7), both printed beside it; at most 24 SQL
    statements for each of the three steps; and the decisions per second that 2 processes
    complete through the services (school approvals), beside the same for the floor flow.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from typing import Any

import pgtrigger
import psycopg
import pytest
from django.db import connection
from django.test.utils import modify_settings
from pgtrigger import runtime as pgtrigger_runtime

from config import celery_app
from records.models import Qualification
from records.models import User
from tests import factories
from tests.benchmarks import floor
from tests.benchmarks.world import LARGE
from tests.benchmarks.world import SCHOOLS
from tests.benchmarks.world import SMALL
from tests.benchmarks.world import Statements
from tests.benchmarks.world import World
from tests.benchmarks.world import median
from tests.benchmarks.world import median_seconds
from tests.celery_worker import celery_configured
from workflows import work
from workflows.models import OPEN
from workflows.models import WorkItem

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]


def _hand_written_lifecycle(
    conn: psycopg.Connection[Any],
    qualification: Qualification,
    actors: dict[str, int],
    ignore: str,
) -> None:
    """The essential writes of a correction's lifecycle, in three transactions, by hand."""

    def audit(cur: Any, subject_type: int, subject_id: int, action: str, actor: int) -> None:
        cur.execute(
            "SELECT seq, hash FROM records_auditevent WHERE subject_type_id=%s AND subject_id=%s"
            " ORDER BY seq DESC LIMIT 1",
            (subject_type, str(subject_id)),
        )
        last = cur.fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, "0" * 64)
        body = json.dumps(
            {
                "action": action,
                "seq": seq,
                "subject": f"{subject_type}:{subject_id}",
                "at": time.time_ns(),
            },
            sort_keys=True,
        )
        digest = hashlib.sha256((prev + body).encode()).hexdigest()
        cur.execute(
            "INSERT INTO records_auditevent (subject_type_id, subject_id, seq, action, actor_id,"
            " data, created, prev_hash, hash) VALUES (%s,%s,%s,%s,%s,'{}',now(),%s,%s)",
            (subject_type, str(subject_id), seq, action, actor, prev, digest),
        )

    def outbox(cur: Any, event: str, key: str, email: str) -> None:
        cur.execute(
            "INSERT INTO notifications_notification (event, object_key, recipient_email,"
            " recipient_user_id, language, subject, body_text, body_html, status, attempts,"
            " last_error, created, updated) VALUES (%s,%s,%s,NULL,'zh-hans',%s,%s,%s,'pending',0,"
            " '',now(),now())",
            (event, key, email, event, "body", "<p>body</p>"),
        )

    ct_request, ct_qualification = actors["ct_request"], actors["ct_qualification"]
    with conn.transaction(), conn.cursor() as cur:  # 1. file
        cur.execute(
            "INSERT INTO records_correctionrequest (qualification_id, student_id, school_id,"
            " province_id, requester_id, changes, reason, state, created, updated)"
            " SELECT id, student_id, school_id, province_id, %s, %s, 'x', 'submitted', now(),"
            " now() FROM records_qualification WHERE id=%s RETURNING id",
            (
                actors["student"],
                json.dumps([{"field": "name", "old": "a", "new": "b"}]),
                qualification.pk,
            ),
        )
        request_id = cur.fetchone()[0]  # type: ignore[index]
        audit(cur, ct_request, request_id, "filed", actors["student"])
        outbox(cur, "filed", f"r:{request_id}:1", "student@example.org")
        outbox(cur, "review", f"r:{request_id}:1", "officer@example.org")
    with conn.transaction(), conn.cursor() as cur:  # 2. school approval
        cur.execute(
            "UPDATE records_correctionrequest SET state='school_approved', updated=now()"
            " WHERE id=%s AND state='submitted'",
            (request_id,),
        )
        audit(cur, ct_request, request_id, "forwarded", actors["officer"])
        outbox(cur, "forwarded", f"r:{request_id}:2", "province@example.org")
    with conn.transaction(), conn.cursor() as cur:  # 3. provincial approval
        cur.execute("SELECT set_config('pgtrigger.ignore', %s, true)", (ignore,))
        cur.execute(
            "SELECT name FROM records_qualification WHERE id=%s FOR UPDATE", (qualification.pk,)
        )
        cur.execute(
            "UPDATE records_qualification SET name=%s, updated=now() WHERE id=%s",
            (f"名{request_id}", qualification.pk),
        )
        cur.execute(
            "INSERT INTO records_qualificationrevision (qualification_id, number, content,"
            " changed_fields, reason, correction_id, approved_by_id, created) SELECT %s,"
            " COALESCE(MAX(number), 0) + 1, '{}', '[\"name\"]', 'x', %s, %s, now()"
            " FROM records_qualificationrevision WHERE qualification_id=%s",
            (qualification.pk, request_id, actors["province"], qualification.pk),
        )
        cur.execute(
            "UPDATE records_correctionrequest SET state='approved', decided_at=now(),"
            " updated=now() WHERE id=%s AND state='school_approved'",
            (request_id,),
        )
        audit(cur, ct_qualification, qualification.pk, "amended", actors["province"])
        audit(cur, ct_request, request_id, "approved", actors["province"])
        outbox(cur, "approved", f"r:{request_id}:3", "student@example.org")


def _decide_all(kind: str, task_pks: list[int], user_pk: int, results: Any) -> None:
    """In a child process: decide every task, and report how many and how long it took."""
    from django.db import connections

    connections.close_all()  # a connection of its own, never the parent's socket
    user = User.objects.get(pk=user_pk)
    started = time.perf_counter()
    for pk in task_pks:
        if kind == "services":
            work.decide(task_pk=pk, user=user, decision="approve")
        else:
            floor.decide(pk, user)
    results.put((len(task_pks), time.perf_counter() - started))
    connections.close_all()


def _decisions_per_second(kind: str, task_pks: list[int], user: User) -> float:
    """Decisions per second that two processes complete, each deciding half the tasks."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connection.close()  # the children must not inherit the parent's connection
    children = [
        context.Process(target=_decide_all, args=(kind, task_pks[n::2], user.pk, results))
        for n in range(2)
    ]
    started = time.perf_counter()
    for child in children:
        child.start()
    done = [results.get(timeout=600) for _ in children]
    elapsed = time.perf_counter() - started
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    decided: int = sum(count for count, _ in done)
    return decided / elapsed


THROUGHPUT_TASKS = 400


def _floor_statements(user: User) -> tuple[int, int, int]:
    """The statements viewflow alone runs for each step of a lifecycle of the same shape."""
    counts = []
    statements = Statements()
    with connection.execute_wrapper(statements):
        process = floor.start()
    counts.append(statements.count)
    for node in (floor.FloorFlow.first, floor.FloorFlow.second):
        task = floor.open_task(process, node)
        statements = Statements()
        with connection.execute_wrapper(statements):
            floor.decide(task, user)
        counts.append(statements.count)
    return counts[0], counts[1], counts[2]


def _floor_lifecycle(user: User) -> float:
    """Seconds viewflow alone spends on a lifecycle of the correction flow's shape."""
    started = time.perf_counter()
    process = floor.start()
    elapsed = time.perf_counter() - started
    first = floor.open_task(process, floor.FloorFlow.first)
    started = time.perf_counter()
    floor.decide(first, user)
    elapsed += time.perf_counter() - started
    second = floor.open_task(process, floor.FloorFlow.second)
    started = time.perf_counter()
    floor.decide(second, user)
    return elapsed + time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_correction_benchmarks(capsys):
    from django.contrib.contenttypes.models import ContentType

    from records.models import CorrectionRequest

    # Delivery is a worker's job in production: publish to an in-memory broker, don't send.
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        world = World()
        world.populate(SMALL)
        # The officer's school holds a full first page at both sizes (see the work-list
        # benchmarks): the ratio is about the number of open requests, not the page's length.
        world.own_school_tasks(60)
        world.lifecycle()  # warm caches (content types, templates, permissions)
        small_counts, _ = world.lifecycle()
        small_page = world.tasks_page_seconds()

        world.populate(LARGE)
        large_counts, _ = world.lifecycle()
        large_page = world.tasks_page_seconds()

        open_requests = WorkItem.objects.filter(OPEN, flow="correction").count()
        officer_tasks = work.open_items(world.officer).count()

        # (c) the lifecycle through the services against the hand-written script, and
        # viewflow's own share: the same flow shape with no record, audit row or email.
        services_time = median(lambda: world.lifecycle()[1], runs=21)
        with pgtrigger.ignore("records.Qualification:registered_immutable"):
            ignore = "{" + ",".join(pgtrigger_runtime._ignore.value) + "}"
        settings_dict = connection.settings_dict
        dsn = {
            "dbname": settings_dict["NAME"],
            "user": settings_dict["USER"],
            "host": settings_dict["HOST"] or "127.0.0.1",
            "port": settings_dict["PORT"] or 5432,
        }
        actors = {
            "student": factories.user("bench_script_student").pk,
            "officer": world.officer.pk,
            "province": world.province.pk,
            "ct_request": ContentType.objects.get_for_model(CorrectionRequest).pk,
            "ct_qualification": ContentType.objects.get_for_model(Qualification).pk,
        }
        script_qualification, _ = world.qualification()
        with psycopg.connect(**dsn) as conn:  # one connection for every run, as Django keeps
            script_time = median_seconds(
                lambda _: _hand_written_lifecycle(conn, script_qualification, actors, ignore),
                runs=21,
                warmup=2,
            )
        with modify_settings(INSTALLED_APPS={"append": floor.APP}):
            floor_time = median(lambda: _floor_lifecycle(world.officer), runs=21)
            floor_counts = _floor_statements(world.officer)
            floor_tasks = [
                floor.open_task(floor.start(), floor.FloorFlow.first)
                for _ in range(THROUGHPUT_TASKS)
            ]
            floor_rate = _decisions_per_second("floor", floor_tasks, world.officer)
        service_tasks = world.own_school_tasks(THROUGHPUT_TASKS)
        service_rate = _decisions_per_second("services", service_tasks, world.officer)

    page_ratio = large_page / small_page
    lifecycle_ratio = services_time / (floor_time + script_time)
    floor_ratio = floor_time / script_time
    with capsys.disabled():
        print("\n--- correction benchmarks (PostgreSQL) ---")
        print(
            f"open requests: {SMALL:,} -> {open_requests:,} across {SCHOOLS} schools; "
            f"the officer's open tasks at the large size: {officer_tasks}"
        )
        print(
            "(a) queries per step (file, school approval, provincial approval): "
            f"{small_counts} at {SMALL:,}, {large_counts} at {LARGE:,} (at most 24 each); "
            f"viewflow's floor alone: {floor_counts}"
        )
        print(
            f"(b) GET /api/v1/tasks/ first page, fastest: {small_page * 1000:.1f} ms at "
            f"{SMALL:,}, {large_page * 1000:.1f} ms at {LARGE:,}: ratio {page_ratio:.2f} "
            "(limit 1.5)"
        )
        print(
            f"(c) lifecycle at {open_requests:,} open requests, median: services "
            f"{services_time * 1000:.1f} ms; viewflow's floor {floor_time * 1000:.1f} ms + "
            f"hand-written psycopg {script_time * 1000:.1f} ms = "
            f"{(floor_time + script_time) * 1000:.1f} ms: ratio {lifecycle_ratio:.2f} "
            f"(limit 2.0); the floor alone is {floor_ratio:.2f} x the script"
        )
        print(
            f"    decisions per second, 2 processes: services {service_rate:.1f}, "
            f"viewflow's floor {floor_rate:.1f} ({service_rate / floor_rate:.2f} of the floor)"
        )
    assert open_requests >= LARGE
    assert small_counts == large_counts
    assert page_ratio <= 1.5
    assert max(large_counts) <= 24
    assert lifecycle_ratio <= 2.0
