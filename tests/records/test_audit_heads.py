"""Each audit chain's head, kept with every append: what ``verify_chains`` sees with it, and
what PostgreSQL refuses."""

from __future__ import annotations

import importlib
import pkgutil

import pgtrigger
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.db import connection
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import records.migrations
from records import audit
from records.audit import audit_append
from records.audit import audit_together
from records.audit import verify_chains
from records.models import AuditEvent
from records.models import AuditHead
from tests import factories
from tests.records.tampering import chain_of
from tests.records.tampering import superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects():
    return factories.student("甲"), factories.student("乙")


def _heads() -> dict[tuple[int, str], tuple[int, str]]:
    return {
        (t, s): (seq, h)
        for t, s, seq, h in AuditHead.objects.values_list(
            "subject_type_id", "subject_id", "seq", "hash"
        )
    }


def _last_rows() -> dict[tuple[int, str], tuple[int, str]]:
    last: dict[tuple[int, str], tuple[int, str]] = {}
    for t, s, seq, h in AuditEvent.objects.order_by("seq").values_list(
        "subject_type_id", "subject_id", "seq", "hash"
    ):
        last[(t, s)] = (seq, h)
    return last


def test_every_append_moves_its_chain_head(subjects):
    a, b = subjects
    audit_append(subject=a, action="one", actor=None)
    with transaction.atomic(), audit_together():
        audit_append(subject=a, action="two", actor=None, subject_locked=True)
        audit_append(subject=b, action="one", actor=None, subject_locked=True)
        audit_append(subject=a, action="three", actor=None, subject_locked=True)
    assert _heads() == _last_rows()
    assert AuditHead.objects.get(**chain_of(a)).seq == 3
    result = verify_chains()
    assert (result.chains, result.events, result.heads, result.first_break) == (2, 4, 2, None)


def _three(subject):
    return [audit_append(subject=subject, action=a, actor=None) for a in ("a", "b", "c")]


def test_a_removed_last_row_is_detected(subjects):
    _three(subjects[0])
    with superuser():
        AuditEvent.objects.filter(**chain_of(subjects[0]), seq=3).delete()
    broken = verify_chains().first_break
    assert broken is not None
    assert (broken.event_id, broken.subject, broken.seq) == (
        None,
        f"records.student:{subjects[0].pk}",
        3,
    )
    assert "ends at seq 2" in broken.reason
    with pytest.raises(CommandError, match="its last rows were removed"):
        call_command("verify_audit")


def test_an_append_after_a_removal_cannot_cover_it(subjects):
    """The next event follows the head, not the last row left: the gap stays visible."""
    _three(subjects[0])
    with superuser():
        AuditEvent.objects.filter(**chain_of(subjects[0]), seq=3).delete()
    event = audit_append(subject=subjects[0], action="d", actor=None)
    assert event.seq == 4
    broken = verify_chains().first_break
    assert broken is not None
    assert (broken.event_id, broken.seq) == (event.pk, 4)
    assert "expected seq 3" in broken.reason


def test_a_removed_chain_leaves_its_head(subjects):
    _three(subjects[0])
    audit_append(subject=subjects[1], action="x", actor=None)
    with superuser():
        AuditEvent.objects.filter(**chain_of(subjects[0])).delete()
    broken = verify_chains().first_break
    assert broken is not None
    assert (broken.subject, broken.seq) == (f"records.student:{subjects[0].pk}", 3)
    assert "has a head but no rows" in broken.reason


def test_rows_without_a_head_are_detected(subjects):
    _three(subjects[0])
    with superuser():
        AuditHead.objects.filter(**chain_of(subjects[0])).delete()
    broken = verify_chains().first_break
    assert broken is not None
    assert broken.seq == 1
    assert "rows but no head" in broken.reason


def test_a_row_past_its_head_is_detected(subjects):
    _, second, third = _three(subjects[0])
    with superuser():
        AuditHead.objects.filter(**chain_of(subjects[0])).update(seq=2, hash=second.hash)
    broken = verify_chains().first_break
    assert broken is not None
    assert (broken.event_id, broken.seq) == (third.pk, 3)
    assert "past its chain's head" in broken.reason


def test_the_migration_backfills_heads_from_the_events(subjects):
    _three(subjects[0])
    audit_append(subject=subjects[1], action="x", actor=None)
    expected = _last_rows()
    with superuser():
        AuditHead.objects.all().delete()
        (name,) = [
            m.name
            for m in pkgutil.iter_modules(records.migrations.__path__)
            if "audit_heads" in m.name
        ]
        migration = importlib.import_module(f"records.migrations.{name}")
        migration.backfill_heads(apps, None)
    assert _heads() == expected
    assert verify_chains().first_break is None


def test_a_batch_costs_one_statement_more_on_sqlite_and_none_on_postgresql(
    subjects, django_assert_num_queries
):
    """The heads read (one query) and the events' insert (one statement); on PostgreSQL the
    insert moves the heads, elsewhere one upsert does."""
    audit_append(subject=subjects[0], action="first", actor=None)
    expected = 2 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(expected):
        audit_append(subject=subjects[0], action="locked", actor=None, subject_locked=True)
    with django_assert_num_queries(expected), audit_together():
        for subject in (*subjects, subjects[0]):
            audit_append(subject=subject, action="together", actor=None, subject_locked=True)
    assert _heads() == _last_rows()


def test_a_batch_of_many_events_is_written_in_one_go(subjects):
    """A batch of ``COPY_FROM`` events or more (a chunk of a bulk decision): the heads read,
    then on PostgreSQL the events' ids and their ``COPY``, whose one statement moves the
    heads of every chain, several events of one chain included."""
    people = [*subjects, *(factories.student(name) for name in ("丙", "丁", "戊"))]
    audit_append(subject=people[0], action="first", actor=None)
    count = audit.COPY_FROM + 5
    with CaptureQueriesContext(connection) as written, transaction.atomic(), audit_together():
        events = [
            audit_append(
                subject=people[n % len(people)], action="many", actor=None, subject_locked=True
            )
            for n in range(count)
        ]
    if connection.vendor == "postgresql":
        statements = [q["sql"].split()[0] for q in written.captured_queries]
        assert statements == ["SAVEPOINT", "SELECT", "SELECT", "COPY", "RELEASE"], statements
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in events]).count() == count
    assert _heads() == _last_rows()
    assert AuditHead.objects.get(**chain_of(people[0])).seq == 1 + count // len(people)
    result = verify_chains()
    assert (result.events, result.first_break) == (count + 1, None)


def test_the_model_never_writes_a_head(subjects):
    audit_append(subject=subjects[0], action="a", actor=None)
    head = AuditHead.objects.get()
    head.seq = 9
    with pytest.raises(ValidationError, match="move only when an audit event is appended"):
        head.save()
    with pytest.raises(ValidationError, match="move only when an audit event is appended"):
        head.delete()
    assert AuditHead.objects.values_list("seq", flat=True).get() == 1


def _check_deferred_constraints_now() -> None:
    """TRUNCATE waits for no deferred foreign-key check of this transaction (the test's,
    which inserted the rows); a real one runs in a transaction of its own."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["records_auditevent", "records_audithead"])
def test_postgres_refuses_truncate(subjects, table):
    audit_append(subject=subjects[0], action="a", actor=None)
    _check_deferred_constraints_now()
    with (
        pytest.raises(DatabaseError, match="Cannot truncate"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == AuditHead.objects.count() == 1


@pytest.mark.postgres
def test_postgres_refuses_truncate_by_cascade(subjects):
    audit_append(subject=subjects[0], action="a", actor=None)
    _check_deferred_constraints_now()
    with (
        pytest.raises(DatabaseError, match="Cannot truncate"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE django_content_type CASCADE")
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
def test_postgres_refuses_any_write_of_a_head_but_an_append(subjects):
    event = audit_append(subject=subjects[0], action="a", actor=None)
    chain = chain_of(subjects[0])
    with pytest.raises(DatabaseError, match="heads move only"), transaction.atomic():
        AuditHead.objects.filter(**chain).update(seq=7)
    with pytest.raises(DatabaseError, match="heads move only"), transaction.atomic():
        AuditHead.objects.bulk_create(
            [AuditHead(subject_type=chain["subject_type"], subject_id="999", seq=1, hash="f")]
        )
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        AuditHead.objects.all().delete()
    assert AuditHead.objects.values_list("seq", "hash").get() == (1, event.hash)


def _keep_head_function() -> str:
    ((model, trigger),) = pgtrigger.registered("records.AuditEvent:keep_head")
    return trigger.get_pgid(model)


@pytest.mark.postgres
def test_postgres_keep_head_plans_its_statements_for_each_insert():
    """Migration 0009's setting, which a new version of the trigger (CREATE OR REPLACE
    FUNCTION) would drop: plans cached for the session, costed while the heads were few,
    made each append read every head of its subject type."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = %s",
            [_keep_head_function()],
        )
        (config,) = cursor.fetchone()
    assert "plan_cache_mode=force_custom_plan" in (config or [])


def test_the_heads_are_found_by_their_chain_alone():
    """The heads' one index leading with the subject type is the unique (type, id): one on
    the type alone drew the planner to read every head of the type for each append."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "records_audithead")
    leading = [
        c["columns"]
        for c in constraints.values()
        if c["columns"][0] == "subject_type_id" and not c["foreign_key"]
    ]
    assert leading == [["subject_type_id", "subject_id"]]


def _insert_two(*rows: tuple[int | str, ...]) -> None:
    """Two events written by SQL of one's own, in one statement (``subject_type_id,
    subject_id, seq, prev_hash, hash`` each)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_auditevent "
            "(subject_type_id, subject_id, seq, action, data, created, prev_hash, hash) "
            "VALUES (%s, %s, %s, 'raw', '{}', now(), %s, %s), "
            "(%s, %s, %s, 'raw', '{}', now(), %s, %s)",
            [value for row in rows for value in row],
        )


@pytest.mark.postgres
def test_postgres_checks_every_event_of_a_statement_against_the_one_before(subjects):
    first = audit_append(subject=subjects[0], action="a", actor=None)
    chain = chain_of(subjects[0])
    type_id, subject_id = chain["subject_type"].pk, chain["subject_id"]
    # The second event of the statement does not follow the first: nothing is written.
    with (
        pytest.raises(DatabaseError, match=r"audit event 3 of .* does not follow"),
        transaction.atomic(),
    ):
        _insert_two(
            (type_id, subject_id, 2, first.hash, "2" * 64),
            (type_id, subject_id, 3, first.hash, "3" * 64),
        )
    assert AuditEvent.objects.count() == 1
    # Each following the one before, the first following the head: the head moves to the last.
    _insert_two(
        (type_id, subject_id, 3, "2" * 64, "3" * 64),
        (type_id, subject_id, 2, first.hash, "2" * 64),
    )
    assert AuditHead.objects.values_list("seq", "hash").get(**chain) == (3, "3" * 64)


@pytest.mark.postgres
def test_postgres_refuses_an_event_that_does_not_follow_its_head(subjects):
    first = audit_append(subject=subjects[0], action="a", actor=None)
    chain = chain_of(subjects[0])
    for seq, prev in ((3, first.hash), (2, "0" * 64)):
        forged = AuditEvent(**chain, seq=seq, action="forged", created=timezone.now())
        forged.prev_hash, forged.hash = prev, f"{seq:064x}"
        with (
            pytest.raises(DatabaseError, match="does not follow its chain's head"),
            transaction.atomic(),
        ):
            forged.save()
    assert AuditEvent.objects.count() == 1
