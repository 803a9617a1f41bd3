"""A retained admission's return (DOMAIN.md §2.1 item 5): the outcome ``registered`` registers
it with a later year's cohort, by the code of a cohort's registration (the student number of
that year, its entry date, the one-current-full-time rule, the student's email), and refuses
what registration refuses."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from records.audit import verify_chains
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import School
from records.models import StudentStatus
from records.status_changes.history import status_history
from tests.workflows import cohorts as c
from workflows.flows import admission as flow

pytestmark = pytest.mark.django_db

# The student returns the next autumn, a few days after the 2027 entry day.
RETURNED = datetime.datetime(2027, 9, 5, 10, tzinfo=c.SHANGHAI)


@pytest.fixture
def w(places):
    return c.world(places)


def _retain(w, *admissions):
    with time_machine.travel(c.IMPORTED, tick=False):
        results = c.record(
            w.officer,
            *[
                c.outcome(a, "retained", reason="应征入伍", until=datetime.date(2027, 9, 1))
                for a in admissions
            ],
        )
    assert all(r["ok"] for r in results), results


def _record_at(at, user, *items):
    with time_machine.travel(at, tick=False):
        return c.record(user, *items)


def _state(admission):
    return AdmissionRecord.objects.get(pk=admission.pk).state


def test_a_returning_retained_admission_is_registered_with_the_later_cohort(
    w, django_capture_on_commit_callbacks
):
    back, stays = c.admit(w.officer, [1, 2])
    c.with_account(back, "fresh_back")
    _retain(w, back)
    with time_machine.travel(c.IMPORTED + datetime.timedelta(days=1), tick=False):
        flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert StudentStatus.objects.get(admission=stays).student_number == "2026000001"
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        (result,) = _record_at(RETURNED, w.officer_b, c.outcome(back, "registered"))

    assert result == {
        "admission": back.pk,
        "ok": True,
        "state": "registered",
        "student_number": "2027000001",
    }
    assert _state(back) == "registered"
    joined = c.cohort(year=2027)  # opened for it, numbering from its own sequence
    assert (joined.entry_date, joined.last_sequence) == (datetime.date(2027, 9, 1), 1)
    status = StudentStatus.objects.get(admission=back)
    assert (status.state, status.school_id, status.student_id) == (
        "enrolled",
        "10001",
        back.student_id,
    )
    assert (status.entry_date, status.expected_graduation) == (
        datetime.date(2027, 9, 1),
        datetime.date(2031, 7, 1),
    )
    assert (status.major_code, status.level, status.learning_form, status.study_length) == (
        back.major_code,
        back.level,
        back.learning_form,
        back.study_length,
    )
    event = AuditEvent.objects.get(
        subject_type__model="admissioncohort",
        subject_id=str(joined.pk),
        action="cohort.admissions_registered",
    )
    assert (event.actor, event.data) == (
        w.officer_b,
        {"count": 1, "registered": [[back.pk, status.pk, "2027000001"]]},
    )
    (entry,) = status_history(status)
    assert (entry.action, entry.data) == (
        "registered",
        {"cohort": joined.pk, "admission": back.pk, "student_number": "2027000001"},
    )
    # The student's email is the registration's, naming the year they enter.
    (message,) = mail.outbox
    assert message.to == ["fresh_back@stu.example"]
    assert message.subject == "[学籍] 您的学籍已注册：北京大学"
    assert "学号：2027000001" in message.body
    assert "入学年份：2027" in message.body
    assert "入学日期：2027年9月1日" in message.body
    assert back.student.id_number not in message.body
    # The 2027 freshmen imported later continue that cohort's numbers; the 2026 cohort keeps
    # its state and sequence.
    c.admit(w.officer, [3], admission_year="2027", at=RETURNED)
    flow.cohort_register(cohort=c.cohort(year=2027), user=w.officer)
    assert StudentStatus.objects.get(
        admission__candidate_number="27110000000003"
    ).student_number == ("2027000002")
    old = c.cohort()
    assert (old.state, old.last_sequence) == ("registered", 1)
    assert verify_chains().first_break is None


def test_the_joined_cohort_is_this_years_or_the_one_asked_for(w):
    early, asked = c.admit(w.officer, [1, 2])
    _retain(w, early, asked)
    # Still in the admission's year: the next year's cohort.
    november = datetime.datetime(2026, 11, 20, 9, tzinfo=c.SHANGHAI)
    (first,) = _record_at(november, w.officer, c.outcome(early, "registered"))
    assert first["student_number"] == "2027000001"
    # Catching up in 2028 on a return of autumn 2027: the 2027 cohort, asked for.
    later = datetime.datetime(2028, 1, 10, 9, tzinfo=c.SHANGHAI)
    (second,) = _record_at(later, w.officer, c.outcome(asked, "registered", year=2027))
    assert second["student_number"] == "2027000002"
    assert StudentStatus.objects.get(admission=asked).entry_date == datetime.date(2027, 9, 1)
    assert sorted(AdmissionCohort.objects.values_list("year", flat=True)) == [2026, 2027]


@pytest.mark.parametrize("year", [2025, 2026, 2029])
def test_a_cohort_year_not_after_the_admission_or_beyond_next_year_is_refused(w, year):
    (a,) = c.admit(w.officer, [1])
    _retain(w, a)

    (result,) = _record_at(RETURNED, w.officer, c.outcome(a, "registered", year=year))

    assert (result["ok"], result["code"]) == (False, "invalid")
    assert result["detail"].startswith("year: ")
    assert "2026" in result["detail"]
    assert "2028" in result["detail"]
    assert _state(a) == "retained"
    assert not StudentStatus.objects.exists()
    assert list(AdmissionCohort.objects.values_list("year", flat=True)) == [2026]


def test_only_a_retained_admission_is_registered_on_its_own(w):
    admitted, given_up = c.admit(w.officer, [1, 2])
    c.record(w.officer, c.outcome(given_up, "gave_up"))

    with translation.override("en"):
        results = _record_at(
            RETURNED,
            w.officer,
            c.outcome(admitted, "registered"),
            c.outcome(given_up, "registered"),
        )

    assert [(r["ok"], r["code"]) for r in results] == [
        (False, "not_allowed"),
        (False, "not_allowed"),
    ]
    assert "register the cohort" in results[0]["detail"]
    assert "Gave up the admission" in results[1]["detail"]
    assert (_state(admitted), _state(given_up)) == ("admitted", "gave_up")
    assert not StudentStatus.objects.exists()
    assert not AdmissionCohort.objects.filter(year=2027).exists()


def test_a_returning_student_with_a_status_elsewhere_is_refused_naming_it(w, places):
    back, other = c.admit(w.officer, [1, 2])
    _retain(w, back, other)
    StudentStatus.objects.create(
        student_id=back.student_id,
        school=places.thu,
        province=places.bj,
        student_number="2026000077",
        level="bachelor",
        major_code="080901",
        major_name="计算机科学与技术",
        learning_form="full_time",
        study_length="4",
        entry_date="2026-09-01",
        expected_graduation="2030-07-01",
    )

    results = _record_at(
        RETURNED,
        w.officer,
        c.outcome(back, "registered"),
        c.outcome(other, "registered"),
    )

    assert (results[0]["ok"], results[0]["code"]) == (False, "status_elsewhere")
    assert "清华大学" in results[0]["detail"]
    assert "2026000077" in results[0]["detail"]
    assert (results[1]["ok"], results[1]["student_number"]) == (True, "2027000001")
    assert (_state(back), _state(other)) == ("retained", "registered")


def test_a_pattern_run_out_in_the_joined_cohort_is_refused(w):
    School.objects.filter(pk="10001").update(student_number_pattern="{year}{seq:1}")
    a, b = c.admit(w.officer, [1, 2])
    _retain(w, a, b)
    c.admit(w.officer, range(3, 11), admission_year="2027", at=RETURNED)  # eight 2027 freshmen
    flow.cohort_register(cohort=c.cohort(year=2027), user=w.officer)

    results = _record_at(
        RETURNED, w.officer, c.outcome(a, "registered"), c.outcome(b, "registered")
    )

    assert (results[0]["ok"], results[0]["student_number"]) == (True, "20279")
    assert (results[1]["ok"], results[1]["code"]) == (False, "numbers_exhausted")
    assert _state(b) == "retained"


def test_a_pending_cancellation_holds_the_return(w):
    (a,) = c.admit(w.officer, [1])
    _retain(w, a)
    (asked,) = c.record(w.officer, c.outcome(a, "cancelled", reason="体检不合格"))
    assert asked["ok"]

    (result,) = _record_at(RETURNED, w.officer, c.outcome(a, "registered"))

    assert (result["ok"], result["code"]) == (False, "cancellation_pending")
    assert _state(a) == "retained"
    assert not AdmissionCohort.objects.filter(year=2027).exists()


def test_another_schools_retained_admission_is_not_found_and_opens_no_cohort(w):
    (a,) = c.admit(w.officer, [1])
    _retain(w, a)
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        (result,) = _record_at(RETURNED, stranger, c.outcome(a, "registered"))
        assert (result["ok"], result["code"]) == (False, "not_found")
    (result,) = _record_at(RETURNED, w.admin, c.outcome(a, "registered"))
    assert (result["ok"], result["code"]) == (False, "permission_denied")
    assert _state(a) == "retained"
    assert list(AdmissionCohort.objects.values_list("year", flat=True)) == [2026]
    # The school's own officer may.
    (result,) = _record_at(RETURNED, w.officer, c.outcome(a, "registered"))
    assert (result["ok"], result["state"]) == (True, "registered")


def test_returns_are_recorded_with_other_outcomes_in_one_call(w):
    back, plain = c.admit(w.officer, [1, 2])
    _retain(w, back)

    results = _record_at(
        RETURNED,
        w.officer,
        c.outcome(plain, "gave_up"),
        c.outcome(back, "registered"),
        c.outcome(back, "gave_up"),
    )

    assert [(r["ok"], r.get("state"), r.get("code")) for r in results] == [
        (True, "gave_up", None),
        (True, "registered", None),
        (False, None, "repeated"),
    ]
