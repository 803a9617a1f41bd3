"""Academic-year registration (学年注册): a round per school and academic year with its process,
the bulk registration of everyone enrolled (only enrolled students of the school who entered
before the year), deferrals with a reason and their later registration, every rule answered
per item, the task decided from the work list, the window from the school's settings, rounds
opened when it opens, audit and emails, and scope."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError
from django.db import connection
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_fsm import TransitionNotAllowed

from notifications.models import Notification
from records.audit import verify_chains
from records.choices import StatusState
from records.errors import NotVisibleError
from records.models import AuditEvent
from records.models import School
from records.models import StudentStatus
from records.models import YearRegistration
from records.models import YearRegistrationRound
from records.years import services
from tests.workflows import years as y
from workflows import work
from workflows.flows import year_registration as flow
from workflows.models import WorkItem
from workflows.models import YearRegistrationProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return y.world(places)


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run ``fn`` with its emails delivered (after commit) to ``mail.outbox``."""

    def run(fn, *args, **kwargs):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _states(*statuses):
    found = dict(
        YearRegistration.objects.filter(
            status__in=[s.pk for s in statuses], academic_year=y.YEAR
        ).values_list("status_id", "state")
    )
    return [found.get(s.pk, "unregistered") for s in statuses]


def _html(message):
    return str(message.alternatives[0][0])


def _counts(round_obj):
    round_obj.refresh_from_db()
    return (
        round_obj.registered_count,
        round_obj.deferred_count,
        services.unregistered_count(round_obj),
    )


# --- the round and its process --------------------------------------------------------------


def test_a_round_opens_once_with_its_process_and_a_task_due_when_its_window_closes(w):
    year_round = y.open_round()
    assert (year_round.state, year_round.label) == ("open", "2027–2028")
    assert (year_round.starts, year_round.opens, year_round.closes) == (
        datetime.date(2027, 9, 1),
        datetime.date(2027, 9, 1),
        datetime.date(2027, 9, 30),
    )
    assert year_round.deadline == y.DEADLINE
    process = YearRegistrationProcess.objects.get(round=year_round)
    assert (process.school_id, process.province_id) == ("10001", "11")
    item = y.task_item(year_round)
    assert (item.due, item.remind_at) == (y.DEADLINE, y.FIRST_REMINDER)
    assert (item.flow, item.step, item.scope_id, item.reference) == (
        "year_registration",
        "registration",
        "10001",
        "2027",
    )
    assert y.open_round() == year_round  # idempotent
    assert YearRegistrationRound.objects.count() == 1
    assert YearRegistrationProcess.objects.count() == 1
    assert WorkItem.objects.filter(flow="year_registration").count() == 1
    opened = AuditEvent.objects.get(subject_type__model="yearregistrationround")
    assert (opened.action, opened.data["closes"]) == ("year_round.opened", "2027-09-30")


def test_the_window_is_the_schools_and_may_close_in_the_next_calendar_year(w):
    School.objects.filter(pk="10001").update(
        entry_day="08-28", year_registration_opens="09-15", year_registration_closes="01-10"
    )
    year_round = y.open_round()
    assert (year_round.starts, year_round.opens, year_round.closes) == (
        datetime.date(2027, 8, 28),
        datetime.date(2027, 9, 15),
        datetime.date(2028, 1, 10),
    )
    assert year_round.deadline == datetime.datetime(2028, 1, 11, tzinfo=y.SHANGHAI)
    assert y.task_item(year_round).due == year_round.deadline


@pytest.mark.parametrize("day", ["9-1", "13-01", "02-30", "02-29", "09-31", ""])
def test_a_bad_window_day_is_refused(places, day):
    school = School.objects.get(pk="10001")
    school.year_registration_closes = day
    with pytest.raises(ValidationError) as refused:
        school.full_clean()
    assert "year_registration_closes" in refused.value.message_dict


def test_the_window_is_edited_in_the_admin(places, admin_client):
    html = admin_client.get("/admin/records/school/10001/change/").content.decode()
    assert 'name="year_registration_opens" value="09-01"' in html
    assert 'name="year_registration_closes" value="09-30"' in html


def test_rounds_and_registrations_are_read_only_in_the_admin(w, admin_client):
    (one,) = y.enrolled(1)
    year_round = y.open_round()
    flow.register_all(year_round=year_round, user=w.officer)
    listed = admin_client.get("/admin/records/yearregistrationround/")
    assert listed.status_code == 200
    assert "北京大学" in listed.content.decode()
    assert admin_client.get("/admin/records/yearregistration/").status_code == 200
    assert admin_client.get("/admin/records/yearregistration/add/").status_code == 403
    row = YearRegistration.objects.get(status=one)
    shown = admin_client.get(f"/admin/records/yearregistration/{row.pk}/change/")
    assert shown.status_code == 200
    assert 'name="state"' not in shown.content.decode()


# --- registering everyone -------------------------------------------------------------------


def test_everyone_enrolled_who_entered_before_the_year_is_registered_and_no_one_else(w, mailed):
    two, three = y.enrolled(2), y.enrolled(1, entry=datetime.date(2025, 9, 1))
    freshman = y.status(entry=datetime.date(2027, 9, 1))  # the cohort's registration covers it
    suspended = y.status(state=StatusState.SUSPENDED)
    withdrawn = y.status(state=StatusState.WITHDRAWN)
    elsewhere = y.status("10003")
    year_round = y.open_round()
    assert _counts(year_round) == (0, 0, 3)

    registered = mailed(flow.register_all, year_round=year_round, user=w.officer)

    assert registered == 3
    assert _states(*two, *three) == ["registered"] * 3
    assert _states(freshman, suspended, withdrawn, elsewhere) == ["unregistered"] * 4
    assert _counts(year_round) == (3, 0, 0)
    row = YearRegistration.objects.get(status=two[0])
    assert (row.round, row.school_id, row.province_id, row.student_id) == (
        year_round,
        "10001",
        "11",
        two[0].student_id,
    )
    assert (row.registered_by, row.reason, row.deferred_at) == (w.officer, "", None)
    # The round is completed with its task, one audit event naming the chunk's statuses.
    year_round.refresh_from_db()
    assert (year_round.state, year_round.completed_by) == ("completed", w.officer)
    assert y.task_item(year_round).closed is not None
    chunk = AuditEvent.objects.get(action="year_registration.registered")
    assert chunk.data == {"statuses": sorted(s.pk for s in (*two, *three)), "count": 3}
    assert AuditEvent.objects.filter(action="year_round.completed").count() == 1
    assert verify_chains().first_break is None
    assert mail.outbox == []  # nobody here has an account
    assert work.recount() == work.kept_counts()


def test_registering_again_changes_nothing_and_takes_students_enrolled_since(w):
    first = y.enrolled(2)
    year_round = y.open_round()
    assert flow.register_all(year_round=year_round, user=w.officer) == 2
    before = list(YearRegistration.objects.values_list("pk", "registered_at"))

    assert flow.register_all(year_round=year_round, user=w.officer_b) == 0
    assert list(YearRegistration.objects.values_list("pk", "registered_at")) == before
    assert y.record(w.officer, year_round, y.outcome(first[0], "registered")) == [
        {"status": first[0].pk, "ok": True, "state": "registered", "changed": False}
    ]

    late = y.status()  # e.g. resumed after a suspension
    assert flow.register_all(year_round=year_round, user=w.officer_b) == 1
    assert _states(late) == ["registered"]
    year_round.refresh_from_db()
    assert year_round.completed_by == w.officer  # the first registration completed it
    assert _counts(year_round) == (3, 0, 0)


def test_one_registration_per_status_and_year_in_the_database(w):
    (one,) = y.enrolled(1)
    year_round = y.open_round()
    flow.register_all(year_round=year_round, user=w.officer)
    row = YearRegistration.objects.get(status=one)
    with pytest.raises(IntegrityError), transaction.atomic():
        YearRegistration.objects.create(
            status=one,
            round=year_round,
            academic_year=y.YEAR,
            student_id=one.student_id,
            school_id=one.school_id,
            province_id=one.province_id,
            state="deferred",
            reason="重复",
        )
    # The next year is a registration of its own.
    next_round = y.open_round(year=y.YEAR + 1, at=y.OPENED.replace(year=2028))
    flow.register_all(year_round=next_round, user=w.officer)
    assert YearRegistration.objects.filter(status=one).count() == 2
    assert YearRegistration.objects.get(pk=row.pk).academic_year == y.YEAR


def test_a_registration_is_never_deferred_afterwards_by_its_transition(w):
    (one,) = y.enrolled(1)
    year_round = y.open_round()
    flow.register_all(year_round=year_round, user=w.officer)
    row = YearRegistration.objects.get(status=one)
    with pytest.raises(TransitionNotAllowed):
        row.register(by=w.officer, at=row.registered_at)
    assert YearRegistration.objects.get(pk=row.pk).state == "registered"


def test_a_large_round_is_registered_in_chunks_of_constant_statements(w, monkeypatch):
    y.enrolled(7)
    year_round = y.open_round()
    monkeypatch.setattr(services, "REGISTER_CHUNK", 3)
    assert list(flow.visible_rounds(w.officer)) == [year_round]  # the grants, read once

    with CaptureQueriesContext(connection) as small:
        assert services.register_all(round_pk=year_round.pk, acting_user=w.officer) == 7

    assert AuditEvent.objects.filter(action="year_registration.registered").count() == 3
    assert [e.data["count"] for e in AuditEvent.objects.filter(action__endswith="registered")] == [
        3,
        3,
        1,
    ]
    y.enrolled(30)
    monkeypatch.setattr(services, "REGISTER_CHUNK", 30)
    with CaptureQueriesContext(connection) as large:
        assert services.register_all(round_pk=year_round.pk, acting_user=w.officer) == 30
    # The same statements for a chunk of 30 as for one of 3: per chunk, its transaction (here
    # a savepoint and its release), the round's lock, the chunk's statuses, the insert, the
    # counts, the audit head and event (SQLite: and the head's upsert; PostgreSQL moves it by
    # trigger).
    per_chunk = (len(small) - len(large)) / 2
    assert per_chunk == (9 if connection.vendor == "sqlite" else 8), per_chunk
    assert verify_chains().first_break is None


def test_the_task_registers_everyone_from_the_work_list_too(w):
    statuses = y.enrolled(3)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(statuses[0], "deferred", "未缴学费"))
    item = y.task_item(year_round)

    done = work.decide(task_pk=item.pk, user=w.officer_b, decision="register")

    assert (done.state, done.outcome) == ("completed", "completed")
    assert _states(*statuses) == ["deferred", "registered", "registered"]
    assert _counts(year_round) == (2, 1, 0)
    event = AuditEvent.objects.get(action="year_round.completed")
    assert (event.data["registered"], event.data["academic_year"]) == (2, "2027–2028")


# --- deferrals and later registration -------------------------------------------------------


def test_deferred_with_a_reason_then_registered_later_audited_and_told(w, mailed):
    a, b, c = y.enrolled(3)
    y.with_account(a, "stu_a")
    y.with_account(b, "stu_b", language="en")
    year_round = y.open_round()

    results = mailed(
        y.record,
        w.officer,
        year_round,
        y.outcome(a, "deferred", "未缴学费，身份证 110105200305170031"),
        y.outcome(b, "deferred", "  迟到未请假 "),
    )

    assert results == [
        {"status": a.pk, "ok": True, "state": "deferred", "changed": True},
        {"status": b.pk, "ok": True, "state": "deferred", "changed": True},
    ]
    assert _states(a, b, c) == ["deferred", "deferred", "unregistered"]
    row = YearRegistration.objects.get(status=b)
    assert (row.reason, row.deferred_by, row.registered_at) == ("迟到未请假", w.officer, None)
    assert _counts(year_round) == (0, 2, 1)
    mails = {m.to[0]: m for m in mail.outbox}
    assert sorted(mails) == ["stu_a@stu.example", "stu_b@stu.example"]
    zh, en = mails["stu_a@stu.example"], mails["stu_b@stu.example"]
    assert zh.subject == "[学籍] 暂缓注册：北京大学 2027–2028学年"
    assert "原因：未缴学费，身份证 1101**********0031" in zh.body
    assert "110105200305170031" not in zh.body + _html(zh)
    assert f"学号：{a.student_number}" in zh.body
    assert en.subject == "[Xueji] Your registration for 2027–2028 is deferred: 北京大学"
    assert "Reason: 迟到未请假" in en.body

    # Everyone else is registered; the deferred stay deferred.
    mailed(flow.register_all, year_round=year_round, user=w.officer)
    assert _states(a, b, c) == ["deferred", "deferred", "registered"]
    assert mail.outbox == []  # c has no account

    # Once the conditions are met, a deferred student is registered.
    (result,) = mailed(y.record, w.officer_b, year_round, y.outcome(a, "registered"))
    assert result == {"status": a.pk, "ok": True, "state": "registered", "changed": True}
    row = YearRegistration.objects.get(status=a)
    assert (row.state, row.registered_by, row.deferred_by) == ("registered", w.officer_b, w.officer)
    assert row.reason.startswith("未缴学费")  # the deferral's reason is kept
    assert _counts(year_round) == (2, 1, 0)
    (told,) = mail.outbox
    assert told.to == ["stu_a@stu.example"]
    assert told.subject == "[学籍] 学年注册已完成：北京大学 2027–2028学年"
    assert "学校已为您办理 2027–2028 学年的学年注册。" in told.body
    actions = list(
        AuditEvent.objects.filter(
            subject_type__model="yearregistration", subject_id=str(row.pk)
        ).values_list("action", "seq")
    )
    assert actions == [("year_registration.deferred", 1), ("year_registration.registered", 2)]
    assert verify_chains().first_break is None


def test_the_registration_email_of_a_bulk_registration_goes_to_students_with_an_account(w, mailed):
    a, _b = y.enrolled(2)
    y.with_account(a, "stu_a", language="en")
    year_round = y.open_round()

    mailed(flow.register_all, year_round=year_round, user=w.officer)

    (told,) = mail.outbox
    assert told.to == ["stu_a@stu.example"]
    assert told.subject == "[Xueji] You are registered for the academic year 2027–2028: 北京大学"
    assert "Your school has registered you for the academic year 2027–2028." in told.body
    assert a.student.id_number not in told.body
    key = Notification.objects.get(event="year_registered").object_key
    assert key == f"records.yearregistration:{YearRegistration.objects.get(status=a).pk}"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_deferral_needs_a_reason(w, reason):
    (a,) = y.enrolled(1)
    year_round = y.open_round()
    (result,) = y.record(w.officer, year_round, y.outcome(a, "deferred", reason))
    assert (result["ok"], result["code"]) == (False, "invalid")
    assert result["detail"].startswith("reason: ")
    assert _states(a) == ["unregistered"]


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        ("registered", "deferred", "already_registered"),
        ("deferred", "deferred", "already_deferred"),
    ],
)
def test_a_registration_is_not_deferred_twice_nor_after_registration(w, first, then, code):
    (a,) = y.enrolled(1)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(a, first, "第一次"))

    with translation.override("en"):
        (result,) = y.record(w.officer, year_round, y.outcome(a, then, "第二次"))

    assert (result["ok"], result["code"]) == (False, code)
    assert "2027–2028" in result["detail"]
    assert _states(a) == [first]
    assert YearRegistration.objects.get(status=a).reason == (
        "第一次" if first == "deferred" else ""
    )


@pytest.mark.parametrize("state", ["suspended", "reserved", "withdrawn", "graduated"])
def test_only_an_enrolled_student_is_registered_or_deferred(w, state):
    other = y.status(state=state)
    year_round = y.open_round()
    results = y.record(
        w.officer,
        year_round,
        y.outcome(other, "registered"),
    )
    results += y.record(w.officer, year_round, y.outcome(other, "deferred", "欠费"))
    assert [(r["ok"], r["code"]) for r in results] == [(False, "not_enrolled")] * 2
    assert not YearRegistration.objects.exists()


def test_a_deferred_student_suspended_since_is_not_registered(w):
    (a,) = y.enrolled(1)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(a, "deferred", "欠费"))
    StudentStatus.objects.filter(pk=a.pk).update(state=StatusState.SUSPENDED)  # 休学 meanwhile

    (result,) = y.record(w.officer, year_round, y.outcome(a, "registered"))

    assert (result["ok"], result["code"]) == (False, "not_enrolled")
    assert _states(a) == ["deferred"]


def test_a_freshman_of_the_year_is_not_registered_by_the_round(w):
    freshman = y.status(entry=datetime.date(2027, 9, 1))
    year_round = y.open_round()
    (result,) = y.record(w.officer, year_round, y.outcome(freshman, "registered"))
    assert (result["ok"], result["code"]) == (False, "not_eligible")
    assert "2027-09-01" in result["detail"]
    assert "2027–2028" in result["detail"]


def test_one_refusal_never_undoes_the_others_and_a_repeat_is_refused(w):
    a, b = y.enrolled(2)
    elsewhere = y.status("10003")
    year_round = y.open_round()

    results = y.record(
        w.officer,
        year_round,
        y.outcome(a, "deferred", "欠费"),
        y.outcome(a, "registered"),
        y.outcome(elsewhere, "registered"),
        y.outcome(987654, "registered"),
        y.outcome(b, "postponed"),
        y.outcome(b, "registered"),
    )

    assert [(r["status"], r["ok"], r.get("code")) for r in results] == [
        (a.pk, True, None),
        (a.pk, False, "repeated"),
        (elsewhere.pk, False, "not_found"),
        (987654, False, "not_found"),
        (b.pk, False, "invalid"),
        (b.pk, False, "repeated"),
    ]
    assert _states(a, b, elsewhere) == ["deferred", "unregistered", "unregistered"]


# --- scope ----------------------------------------------------------------------------------


def test_another_schools_round_is_not_found_and_the_province_may_only_look(w):
    (a,) = y.enrolled(1)
    year_round = y.open_round()
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        with pytest.raises(NotVisibleError):
            y.record(stranger, year_round, y.outcome(a, "registered"))
        with pytest.raises(NotVisibleError):
            services.register_all(round_pk=year_round.pk, acting_user=stranger)
        assert list(flow.visible_rounds(stranger)) == []
    with pytest.raises(PermissionDenied):
        y.record(w.admin, year_round, y.outcome(a, "registered"))
    with pytest.raises(PermissionDenied):
        services.register_all(round_pk=year_round.pk, acting_user=w.admin)
    assert list(flow.visible_rounds(w.admin)) == [year_round]
    assert _states(a) == ["unregistered"]
    with pytest.raises(NotVisibleError):
        flow.round_open_for(
            school=School.objects.get(pk="10003"), academic_year=y.YEAR, user=w.officer
        )
    with pytest.raises(PermissionDenied):
        flow.round_open_for(school=School.objects.get(pk="10001"), academic_year=2028, user=w.admin)


def test_the_round_lists_its_students_by_registration_state(w):
    a, b, c = y.enrolled(3)
    suspended_registered = y.status()
    y.status(state=StatusState.SUSPENDED)  # never registered: not the round's
    y.status(entry=datetime.date(2027, 9, 1))  # a freshman: not the round's
    year_round = y.open_round()
    y.record(
        w.officer,
        year_round,
        y.outcome(a, "deferred", "欠费"),
        y.outcome(b, "registered"),
        y.outcome(suspended_registered, "registered"),
    )
    StudentStatus.objects.filter(pk=suspended_registered.pk).update(state=StatusState.SUSPENDED)

    def listed(state=""):
        return sorted(services.round_students(year_round, state).values_list("pk", flat=True))

    assert listed("unregistered") == [c.pk]
    assert listed("deferred") == [a.pk]
    assert listed("registered") == sorted([b.pk, suspended_registered.pk])
    assert listed() == sorted([a.pk, b.pk, c.pk, suspended_registered.pk])
    assert services.unregistered_counts([year_round]) == {year_round.pk: 1}


# --- rounds opened when the window opens ----------------------------------------------------


def test_rounds_open_on_the_first_day_of_each_schools_window(w):
    y.enrolled(2)  # 10001: default window, from 1 September
    y.enrolled(1, school="10003")
    School.objects.filter(pk="10003").update(year_registration_opens="09-10")
    y.status("10246", entry=datetime.date(2027, 9, 1))  # only freshmen: nothing to register

    assert flow.rounds_open_due(today=datetime.date(2027, 8, 31)) == []
    opened = flow.rounds_open_due(today=datetime.date(2027, 9, 1))
    assert [(r.school_id, r.academic_year) for r in opened] == [("10001", 2027)]
    assert flow.rounds_open_due(today=datetime.date(2027, 9, 5)) == []  # opened already
    opened = flow.rounds_open_due(today=datetime.date(2027, 9, 10))
    assert [(r.school_id, r.academic_year) for r in opened] == [("10003", 2027)]
    assert YearRegistrationProcess.objects.count() == 2
    assert not YearRegistrationRound.objects.filter(school_id="10246").exists()


def test_the_command_opens_due_rounds_or_one_named(w, capsys):
    y.enrolled(1)
    call_command("open_year_registrations", "--today", "2027-09-02")
    assert "opened 1 round(s)" in capsys.readouterr().out
    call_command("open_year_registrations", "--school", "10003", "--year", "2028")
    assert "10003 2028–2029: 2028-09-01 to 2028-09-30 (open)" in capsys.readouterr().out
    assert YearRegistrationRound.objects.count() == 2
