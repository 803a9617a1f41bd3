"""Benchmarks of public verification (issue 11). Run with ``make bench``, or alone:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_bench .venv/bin/python -m pytest \
        -o addopts="" -p no:cacheprovider --create-db -s tests/benchmarks/test_verification_bench.py

Both figures come from one run, served by gunicorn (2 sync workers, DEBUG off, the database
cache) on loopback against the test database:

(v1) ``GET /api/v1/verify/{code}/`` (the failed look-ups' check in the shared cache, Redis
     when ``XUEJI_TEST_REDIS_URL`` answers, else the database's table; the report, its
     qualification and the access row in one statement) in requests per second, against
     ``GET /api/v1/health/`` (a trivial JSON view) in the same server, both driven by the same
     4 client threads for the same time, the better of two rounds each: ratio ≥ 0.5;
(v2) its latency (the median of 300 requests one at a time) at 1,000,000 registered
     qualifications against 10,000 (the rows added by ``COPY``): ratio ≤ 1.5.
"""

from __future__ import annotations

import http.client
import io
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from records.models import Qualification
from records.verification.reports import report_create
from tests import factories
from tests.services import REDIS_URL
from tests.services import redis_available
from tests.verification import world

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark]

ROOT = Path(__file__).resolve().parents[2]
SMALL, LARGE = 10_000, 1_000_000
RPS_LIMIT, LATENCY_LIMIT = 0.5, 1.5
THREADS, SECONDS, LATENCY_RUNS = 4, 5.0, 300
COLUMNS = (
    "student_id, school_id, province_id, name, gender, birth_date, id_type, id_number, photo, "
    "education_type, start_date, graduation_date, major_code, major_name, level, study_length, "
    "learning_form, graduation_result, principal_name, certificate_number, minor_note, status, "
    "registered_at, revoked_at, revoke_reason, created, updated"
)


def _copy_qualifications(template: Qualification, count: int, first: int) -> None:
    """``count`` registered qualifications like ``template`` (another certificate number each),
    by ``COPY``; triggers and foreign-key checks off for the session (the rows are valid)."""
    fixed = (
        f"{template.student_id}\t{template.school_id}\t{template.province_id}\t"
        f"{template.name}\t{template.gender}\t{template.birth_date}\t{template.id_type}\t"
        f"{template.id_number}\t\t{template.education_type}\t{template.start_date}\t"
        f"{template.graduation_date}\t{template.major_code}\t{template.major_name}\t"
        f"{template.level}\t{template.study_length}\t{template.learning_form}\t"
        f"{template.graduation_result}\t{template.principal_name}\t"
    )
    day = "2024-07-01 00:00:00+00"
    tail = f"\t\tregistered\t{day}\t\\N\t\t{day}\t{day}\n"
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            for start in range(first, first + count, 200_000):
                rows = io.StringIO()
                for number in range(start, min(first + count, start + 200_000)):
                    rows.write(f"{fixed}9{number:017d}{tail}")
                with cursor.copy(f"COPY records_qualification ({COLUMNS}) FROM STDIN") as copy:
                    copy.write(rows.getvalue())
        finally:
            cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE records_qualification")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn serving the project on loopback against the test database."""

    def __init__(self) -> None:
        self.port = _free_port()
        database = connection.settings_dict
        environ = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": (
                f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
                f"{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
        }
        # The shared cache as production runs it: Redis when the tests have one, else the
        # database's table.
        environ["CACHE_URL"] = REDIS_URL if redis_available() else "dbcache://xueji_cache"
        self.cache = environ["CACHE_URL"].split(":", 1)[0]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environ,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/api/v1/health/") == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within a minute")

    def get(self, path: str) -> int:
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            client.request("GET", path)
            response = client.getresponse()
            response.read()
            return response.status
        finally:
            client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _requests_per_second(server: Server, path: str) -> float:
    """Requests answered 200 per second by ``THREADS`` clients in ``SECONDS``."""
    done = [0] * THREADS
    stop = time.perf_counter() + SECONDS
    failures: list[int] = []

    def run(index: int) -> None:
        while time.perf_counter() < stop:
            status = server.get(path)
            if status != 200:
                failures.append(status)
                return
            done[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return sum(done) / (time.perf_counter() - started)


def _median_latency(server: Server, path: str) -> float:
    for _ in range(20):
        server.get(path)
    times = []
    for _ in range(LATENCY_RUNS):
        started = time.perf_counter()
        assert server.get(path) == 200
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@pytest.mark.django_db(transaction=True)
def test_public_verification_served_by_gunicorn(places, capsys):
    w = world(places)
    report = report_create(user=w.student, qualification=w.qualification.pk, months=6)
    path = f"/api/v1/verify/{report.code}/"
    _copy_qualifications(w.qualification, SMALL - Qualification.objects.count(), first=1)
    factories.major()  # nothing else: the reference data the report reads is in place

    server = Server()
    cache = server.cache
    try:
        rounds = [
            (_requests_per_second(server, "/api/v1/health/"), _requests_per_second(server, path))
            for _ in range(2)
        ]
        health = max(trivial for trivial, _ in rounds)
        verify = max(served for _, served in rounds)
        small = _median_latency(server, path)
    finally:
        server.stop()

    _copy_qualifications(w.qualification, LARGE - SMALL, first=SMALL)
    assert Qualification.objects.count() == LARGE
    server = Server()
    try:
        large = _median_latency(server, path)
    finally:
        server.stop()

    rps_ratio, latency_ratio = verify / health, large / small
    with capsys.disabled():
        print(
            f"\n(v1) GET /api/v1/verify/{{code}}/ {verify:,.0f} requests/s against GET "
            f"/api/v1/health/ {health:,.0f} requests/s (gunicorn, 2 workers, {cache} cache, "
            f"{THREADS} client threads, {SECONDS:.0f} s, best of 2): ratio {rps_ratio:.2f} "
            f"(limit {RPS_LIMIT})"
            f"\n(v2) its median latency at {LARGE:,} qualifications {large * 1000:.2f} ms "
            f"against {small * 1000:.2f} ms at {SMALL:,}: ratio {latency_ratio:.2f} "
            f"(limit {LATENCY_LIMIT})"
        )
    assert rps_ratio >= RPS_LIMIT
    assert latency_ratio <= LATENCY_LIMIT
