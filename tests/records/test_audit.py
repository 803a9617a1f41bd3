from __future__ import annotations

import threading

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db import connection
from django.db import transaction

from records.audit import GENESIS_HASH
from records.audit import audit_append
from records.audit import verify_chains
from records.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects():
    return factories.student("甲"), factories.student("乙")


def test_each_subject_has_its_own_chain(subjects):
    a, b = subjects
    actor = factories.user("auditor")
    a1 = audit_append(subject=a, action="x", actor=actor, data={"n": 1})
    b1 = audit_append(subject=b, action="x", actor=None)
    a2 = audit_append(subject=a, action="y", actor=actor, data={"when": a.birth_date})
    assert (a1.seq, a1.prev_hash) == (1, GENESIS_HASH)
    assert (b1.seq, b1.prev_hash) == (1, GENESIS_HASH)
    assert (a2.seq, a2.prev_hash) == (2, a1.hash)
    assert a2.data == {"when": a.birth_date.isoformat()}
    result = verify_chains()
    assert (result.chains, result.events, result.first_break) == (2, 3, None)


def test_verify_audit_command_reports_intact_chains(subjects, capsys):
    audit_append(subject=subjects[0], action="x", actor=None)
    call_command("verify_audit")
    assert "1 chains, 1 events: all intact" in capsys.readouterr().out


def _tamper(**changes):
    """Rewrite rows behind the application's back, as a database superuser could."""
    with pgtrigger.ignore("records.AuditEvent:append_only"):
        AuditEvent.objects.filter(seq=2).update(**changes)


def test_a_tampered_row_is_named(subjects):
    for action in ("a", "b", "c"):
        audit_append(subject=subjects[0], action=action, actor=None, data={"v": action})
    _tamper(data={"v": "forged"})
    forged = AuditEvent.objects.get(seq=2)
    result = verify_chains()
    assert result.first_break is not None
    assert (result.first_break.event_id, result.first_break.seq) == (forged.pk, 2)
    assert "hash does not match" in result.first_break.reason
    with pytest.raises(CommandError, match=f"id={forged.pk}"):
        call_command("verify_audit")


def test_a_deleted_row_is_detected(subjects):
    for action in ("a", "b", "c"):
        audit_append(subject=subjects[0], action=action, actor=None)
    with pgtrigger.ignore("records.AuditEvent:append_only"):
        AuditEvent.objects.filter(seq=2).delete()
    result = verify_chains()
    assert result.first_break is not None
    assert result.first_break.seq == 3
    assert "missing" in result.first_break.reason


def test_the_model_refuses_update_and_delete(subjects):
    event = audit_append(subject=subjects[0], action="a", actor=None)
    event.action = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete(subjects):
    audit_append(subject=subjects[0], action="a", actor=None)
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        AuditEvent.objects.update(action="changed")
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "a"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_of_other_subjects_never_wait():
    """A writer holding subject A's lock blocks A's chain only, not B's."""
    a, b = factories.student("甲"), factories.student("乙")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_a() -> None:
        try:
            with transaction.atomic():
                audit_append(subject=a, action="slow", actor=None)
                holding.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_a)
    thread.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        audit_append(subject=b, action="fast", actor=None)  # would time out if it waited
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with pytest.raises(DatabaseError, match="lock timeout"), transaction.atomic():
            audit_append(subject=a, action="blocked", actor=None)
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert not errors
    assert verify_chains().first_break is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_subject_never_fork_the_chain():
    person = factories.student("甲")
    barrier = threading.Barrier(6)

    def append(n: int) -> None:
        try:
            barrier.wait(10)
            audit_append(subject=person, action=f"w{n}", actor=None)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    seqs = sorted(AuditEvent.objects.filter(action__startswith="w").values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert verify_chains().first_break is None
