"""Benchmark of a correction filing while the broker is down (issue 8, item 5). Run with
``make bench``.

(f) ``correction_start`` (the filing service: its transaction, commit and the enqueueing of
    its emails after commit) with the broker unreachable (a closed port: refused) against the
    same filing with a real Redis broker up (``XUEJI_TEST_REDIS_URL``, default
    ``redis://127.0.0.1:6379/12``, on a private queue): median time ratio ≤ 1.5, measured in
    alternating blocks in one run. Printed beside it: the first filing of the outage (the one
    whose attempt fails and opens the breaker), and the same two for a broker that never
    answers (a port whose connections time out).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection

from config import celery_app
from notifications.models import Notification
from tests.benchmarks.world import World
from tests.celery_worker import blackhole
from tests.celery_worker import celery_configured
from tests.celery_worker import closed_port
from tests.celery_worker import private_queue
from workflows.flows import correction as services

pytestmark = [pytest.mark.postgres, pytest.mark.benchmark, pytest.mark.redis]

BROKER_UP = os.environ.get("XUEJI_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
LIMIT = 1.5
BLOCKS, RUNS = 4, 15


def _filing(world: World) -> Callable[[], float]:
    """Seconds of one filing through the service (a new qualification each time, not timed)."""

    def measure() -> float:
        qualification, login = world.qualification()
        started = time.perf_counter()
        services.correction_start(
            qualification=qualification,
            changes={"name": "王晓明"},
            reason="录入错误",
            requester=login,
        )
        return time.perf_counter() - started

    return measure


@contextmanager
def _broker(url: str, queued: list[int] | None = None) -> Iterator[None]:
    """The app publishing to ``url`` on a private queue; ``queued`` gets how many messages the
    queue of a reachable broker holds at the end."""
    queue = f"xueji-bench-{uuid.uuid4().hex[:8]}"
    with celery_configured(
        celery_app, task_always_eager=False, broker_url=url, task_default_queue=queue
    ):
        if queued is None:
            yield
            return
        with private_queue(celery_app, queue):
            yield
            with celery_app.connection_for_write() as conn:
                channel: Any = conn.default_channel  # the redis transport's: a redis client
                queued.append(channel.client.llen(queue))


@pytest.mark.django_db(transaction=True)
def test_filing_with_the_broker_down_costs_no_more_than_with_it_up(capsys):
    world = World()
    world.officer.refresh_from_db()
    file = _filing(world)
    up: list[float] = []
    down: list[float] = []
    opening: list[float] = []
    queued: list[int] = []
    down_url = f"redis://127.0.0.1:{closed_port()}/0"
    for _ in range(BLOCKS):
        with _broker(BROKER_UP, queued):
            file()  # the pool's connection, as a running process has it
            up += [file() for _ in range(RUNS)]
        with _broker(down_url):  # each block a new outage: the breaker starts closed
            opening.append(file())
            down += [file() for _ in range(RUNS)]
    with blackhole() as port, _broker(f"redis://127.0.0.1:{port}/0"):
        silent_opening = file()
        silent = statistics.median(file() for _ in range(RUNS))

    filings = BLOCKS * (2 * RUNS + 2) + RUNS + 1
    emails = Notification.objects.count()
    per_filing = emails // filings
    up_median, down_median = statistics.median(up), statistics.median(down)
    ratio = down_median / up_median
    with capsys.disabled():
        print(f"\n--- a correction filing while the broker is down ({connection.vendor}) ---")
        print(
            f"(f) median of {len(up)} filings: broker up (Redis, {BROKER_UP}) "
            f"{up_median * 1000:.1f} ms, broker down (closed port) {down_median * 1000:.1f} ms: "
            f"ratio {ratio:.2f} (limit {LIMIT})"
        )
        print(
            "    the filing that opens the breaker (closed port): "
            f"{', '.join(f'{t * 1000:.1f}' for t in opening)} ms; a broker that never answers: "
            f"opening {silent_opening * 1000:.1f} ms, then median {silent * 1000:.1f} ms"
        )
        print(
            f"    {emails} outbox rows from {filings} filings; queued while the broker was up: "
            f"{sum(queued)} messages"
        )
    assert emails == per_filing * filings
    assert queued == [per_filing * (RUNS + 1)] * BLOCKS  # up: every email queued at once
    assert ratio <= LIMIT
