"""Registering on PostgreSQL while others write: two registrations of one cohort number each
student once; one person registered by two schools at once gets one status; cancellation
requests and registrations of one cohort at once never deadlock."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from records.admissions import services
from records.audit import verify_chains
from records.models import AdmissionCancellation
from records.models import AdmissionRecord
from records.models import StudentStatus
from tests import factories
from tests.conftest import Places
from tests.workflows import cohorts as c
from workflows.flows import admission as flow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w() -> c.World:
    places = Places(
        bj=factories.province("11", "北京市"),
        sh=factories.province("31", "上海市"),
        pku=factories.school("10001", "北京大学", "11"),
        thu=factories.school("10003", "清华大学", "11"),
        fdu=factories.school("10246", "复旦大学", "31"),
    )
    return c.world(places)


def _at_once(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

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


def test_two_registrations_of_one_cohort_number_each_student_once(w, monkeypatch):
    monkeypatch.setattr(services, "REGISTER_CHUNK", 7)
    c.admit(w.officer, range(1, 61))
    cohort = c.cohort()

    results = _at_once(
        lambda: flow.cohort_register(cohort=cohort, user=w.officer),
        lambda: flow.cohort_register(cohort=cohort, user=w.officer_b),
    )

    assert all(isinstance(r, services.Registration) for r in results), results
    assert sum(r.registered for r in results) == 60  # type: ignore[attr-defined]
    numbers = sorted(StudentStatus.objects.values_list("student_number", flat=True))
    assert numbers == [f"2026{n:06d}" for n in range(1, 61)]
    assert set(AdmissionRecord.objects.values_list("state", flat=True)) == {"registered"}
    assert c.cohort().state == "registered"
    assert verify_chains().first_break is None


def test_one_person_registered_by_two_schools_at_once_gets_one_status(w):
    # The same person, admitted by 北京大学 in 2025 and by 清华大学 in 2026.
    (at_pku,) = c.admit(w.officer, [1], admission_year="2025")
    (at_thu,) = c.admit(w.thu_officer, [1], school_code="10003")
    assert at_pku.student_id == at_thu.student_id

    results = _at_once(
        lambda: flow.cohort_register(cohort=c.cohort("10001", 2025), user=w.officer),
        lambda: flow.cohort_register(cohort=c.cohort("10003", 2026), user=w.thu_officer),
    )

    assert all(isinstance(r, services.Registration) for r in results), results
    assert sorted(r.registered for r in results) == [0, 1]  # type: ignore[attr-defined]
    (refused,) = [e for r in results for e in r.errors]  # type: ignore[attr-defined]
    assert refused.code == "status_elsewhere"
    assert StudentStatus.objects.filter(student_id=at_pku.student_id).count() == 1
    other = StudentStatus.objects.get(student_id=at_pku.student_id).school.name
    assert other in refused.detail


def test_cancellation_requests_and_a_registration_at_once_never_deadlock(w, monkeypatch):
    monkeypatch.setattr(services, "REGISTER_CHUNK", 5)
    admissions = c.admit(w.officer, range(1, 41))
    cohort = c.cohort()
    asked = admissions[::4]

    results = _at_once(
        lambda: flow.cohort_register(cohort=cohort, user=w.officer_b),
        lambda: c.record(w.officer, *[c.outcome(a, "cancelled", reason="材料不符") for a in asked]),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = results[1]
    assert isinstance(outcomes, list)
    states = dict(AdmissionRecord.objects.values_list("pk", "state"))
    pending = set(
        AdmissionCancellation.objects.filter(state="pending").values_list("admission_id", flat=True)
    )
    for admission, result in zip(asked, outcomes, strict=True):
        # Asked before its chunk was registered: pending and admitted; after: refused.
        if result["ok"]:
            assert (states[admission.pk], admission.pk in pending) == ("admitted", True)
        else:
            assert (result["code"], states[admission.pk]) == ("not_allowed", "registered")
    assert len(pending) + StudentStatus.objects.count() == 40


def test_returning_retained_admissions_and_their_new_cohorts_registration_at_once(w, monkeypatch):
    """The returns lock the cohort they join before their admissions, as a registration
    does: numbers stay unique and contiguous, and a chunk of outcomes that also touches the
    new cohort's admissions never deadlocks with its registration."""
    monkeypatch.setattr(services, "REGISTER_CHUNK", 5)
    retained = c.admit(w.officer, range(1, 11))
    until = datetime.date(2027, 9, 1)
    assert all(
        r["ok"]
        for r in c.record(
            w.officer, *[c.outcome(a, "retained", reason="病", until=until) for a in retained]
        )
    )
    joining = c.admit(w.officer, range(11, 41), admission_year="2027")
    given_up = joining[-1]
    joined = c.cohort(year=2027)

    results = _at_once(
        lambda: flow.cohort_register(cohort=joined, user=w.officer_b),
        lambda: c.record(
            w.officer,
            c.outcome(given_up, "gave_up"),
            *[c.outcome(a, "registered", year=2027) for a in retained],
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    outcomes = results[1]
    assert isinstance(outcomes, list)
    assert all(r["ok"] for r in outcomes[1:]), outcomes
    registered = StudentStatus.objects.filter(school_id="10001")
    expected = 10 + 29 + (0 if outcomes[0]["ok"] else 1)
    numbers = sorted(registered.values_list("student_number", flat=True))
    assert numbers == [f"2027{n:06d}" for n in range(1, expected + 1)]
    assert c.cohort(year=2027).last_sequence == expected
    assert verify_chains().first_break is None
