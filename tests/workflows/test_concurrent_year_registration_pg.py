"""Academic-year registration on PostgreSQL while others write: two registrations of one round
register each student once; deferrals recorded meanwhile are kept (never overwritten by a
registration) and the round's kept counts stay the rows' counts; a student suspended while a
chunk waits is not registered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db import transaction

from records.audit import verify_chains
from records.choices import StatusState
from records.models import StudentStatus
from records.models import YearRegistration
from records.years import services
from tests import factories
from tests.conftest import Places
from tests.workflows import years as y
from workflows.flows import year_registration as flow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w() -> y.World:
    places = Places(
        bj=factories.province("11", "北京市"),
        sh=factories.province("31", "上海市"),
        pku=factories.school("10001", "北京大学", "11"),
        thu=factories.school("10003", "清华大学", "11"),
        fdu=factories.school("10246", "复旦大学", "31"),
    )
    return y.world(places)


def _at_once(*calls: Callable[[], object]) -> list[Any]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _kept_counts_hold(year_round) -> None:
    year_round.refresh_from_db()
    rows = YearRegistration.objects.filter(round=year_round)
    assert year_round.registered_count == rows.filter(state="registered").count()
    assert year_round.deferred_count == rows.filter(state="deferred").count()


def test_two_registrations_and_deferrals_at_once_register_each_student_once(w, monkeypatch):
    monkeypatch.setattr(services, "REGISTER_CHUNK", 7)
    statuses = y.enrolled(60)
    year_round = y.open_round()
    deferred = statuses[::10]

    results = _at_once(
        lambda: flow.register_all(year_round=year_round, user=w.officer),
        lambda: flow.register_all(year_round=year_round, user=w.officer_b),
        lambda: y.record(
            w.officer, year_round, *[y.outcome(s, "deferred", "欠费") for s in deferred]
        ),
    )

    assert not any(isinstance(r, Exception) for r in results), results
    registered, registered_b, deferrals = results
    assert registered + registered_b + sum(1 for r in deferrals if r["ok"]) == 60
    assert YearRegistration.objects.count() == 60
    # Each deferral either came first (kept) or found its student registered (refused).
    for result in deferrals:
        state = YearRegistration.objects.get(status_id=result["status"]).state
        assert state == ("deferred" if result["ok"] else "registered")
        assert result["ok"] or result["code"] == "already_registered"
    _kept_counts_hold(year_round)
    year_round.refresh_from_db()
    assert year_round.state == "completed"
    assert verify_chains().first_break is None


def test_a_student_suspended_while_the_chunk_waits_is_not_registered(w):
    a, b = y.enrolled(2)
    year_round = y.open_round()
    locked = threading.Event()
    release = threading.Event()

    def suspend() -> None:
        # What a suspension does to the status: its row locked and moved, in one transaction.
        with transaction.atomic():
            StudentStatus.objects.select_for_update().get(pk=a.pk)
            locked.set()
            release.wait(10)
            StudentStatus.objects.filter(pk=a.pk).update(state=StatusState.SUSPENDED)
        connection.close()

    def register() -> object:
        locked.wait(10)
        threading.Timer(0.5, release.set).start()
        started = time.monotonic()
        done = services.register_all(round_pk=year_round.pk, acting_user=w.officer)
        connection.close()
        return done, time.monotonic() - started

    suspender = threading.Thread(target=suspend)
    suspender.start()
    (result,) = _at_once(register)
    suspender.join(20)

    registered, waited = result
    assert waited >= 0.4  # the chunk waited for the status's lock
    assert registered == 1
    assert list(YearRegistration.objects.values_list("status_id", flat=True)) == [b.pk]
    _kept_counts_hold(year_round)
