"""AdmissionReviewFlow: a cohort's review opened by its import, each outcome and the
transitions it may not take, the second officer of a cancellation, the registration of a
cohort (statuses, numbers, one current full-time status per person), and scope."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.utils import translation
from django_fsm import TransitionNotAllowed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from records.admissions import numbering
from records.admissions import services
from records.audit import verify_chains
from records.choices import StatusState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import AuditEvent
from records.models import School
from records.models import StudentStatus
from tests import factories
from tests.workflows import cohorts as c
from workflows import work
from workflows.flows import admission as flow
from workflows.flows.admission import AdmissionReviewFlow
from workflows.models import OPEN
from workflows.models import AdmissionReviewProcess
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return c.world(places)


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run ``fn`` with its emails delivered (after commit) to ``mail.outbox``."""

    def run(fn, *args, **kwargs):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _events(admission, action):
    return AuditEvent.objects.filter(
        subject_type__model="admissionrecord", subject_id=str(admission.pk), action=action
    )


def _state(admission):
    return AdmissionRecord.objects.get(pk=admission.pk).state


# --- the review of a cohort -----------------------------------------------------------------


def test_an_import_opens_one_review_per_cohort_due_three_months_after_entry(w):
    first = c.admit(w.officer, range(1, 4))
    cohort = c.cohort()
    assert (cohort.state, cohort.entry_date) == ("reviewing", datetime.date(2026, 9, 1))
    assert cohort.deadline == c.DEADLINE
    process = AdmissionReviewProcess.objects.get(cohort=cohort)
    assert (process.school_id, process.province_id) == ("10001", "11")
    item = c.review_item(cohort)
    assert (item.due, item.remind_at) == (c.DEADLINE, c.FIRST_REMINDER)
    assert (item.flow, item.step, item.scope_id, item.reference) == (
        "admission_review",
        "review",
        "10001",
        "2026",
    )
    # A second import into the cohort, and the same file again, open nothing more.
    c.admit(w.officer, range(4, 6))
    assert AdmissionCohort.objects.count() == 1
    assert AdmissionReviewProcess.objects.count() == 1
    assert WorkItem.objects.filter(flow="admission_review").count() == 1
    assert cohort.admissions().count() == len(first) + 2


def test_a_re_imported_file_opens_no_second_review(w):
    from tests.records.admission_files import csv_bytes
    from tests.records.admission_files import imported
    from tests.records.admission_files import row

    content = csv_bytes([row(1), row(2)])
    imported(content, w.officer)
    batch = imported(content, w.officer)
    assert (batch.imported, batch.duplicates) == (0, 2)
    assert AdmissionReviewProcess.objects.count() == 1


def test_the_entry_day_is_the_schools(w, places):
    School.objects.filter(pk="10001").update(entry_day="08-31")
    c.admit(w.officer, [1])
    cohort = c.cohort()
    assert cohort.entry_date == datetime.date(2026, 8, 31)
    # Three months after 31 August is 30 November (the month's last day).
    assert cohort.deadline == datetime.datetime(2026, 11, 30, tzinfo=c.SHANGHAI)
    assert c.review_item(cohort).due == cohort.deadline


def test_each_school_and_year_is_a_cohort_of_its_own(w):
    c.admit(w.officer, [1, 2])
    c.admit(w.thu_officer, [3], school_code="10003")
    c.admit(w.officer, [4], admission_year="2025")
    assert sorted(AdmissionCohort.objects.values_list("school_id", "year")) == [
        ("10001", 2025),
        ("10001", 2026),
        ("10003", 2026),
    ]
    assert AdmissionReviewProcess.objects.count() == 3


# --- outcomes -------------------------------------------------------------------------------


def test_gave_up_and_retained_are_recorded_audited_and_told_to_the_student(w, mailed):
    a, b, plain = c.admit(w.officer, range(1, 4))
    c.with_account(a, "fresh_a")
    c.with_account(b, "fresh_b", language="en")
    until = datetime.date(2027, 8, 31)

    results = mailed(
        c.record,
        w.officer,
        c.outcome(a, "gave_up"),
        c.outcome(b, "retained", reason="应征入伍", until=until),
        c.outcome(plain, "gave_up", reason="未报到"),
    )

    assert results == [
        {"admission": a.pk, "ok": True, "state": "gave_up"},
        {"admission": b.pk, "ok": True, "state": "retained"},
        {"admission": plain.pk, "ok": True, "state": "gave_up"},
    ]
    retained = AdmissionRecord.objects.get(pk=b.pk)
    assert (retained.state, retained.reason, retained.retained_until) == (
        "retained",
        "应征入伍",
        until,
    )
    assert not StudentStatus.objects.exists()  # a retained admission has no status
    assert list(_events(b, "admission.retained").values_list("data", flat=True)) == [
        {"reason": "应征入伍", "until": "2027-08-31"}
    ]
    assert _events(plain, "admission.gave_up").get().actor == w.officer
    # Only students with an account hear of it, each in their own language.
    assert sorted(m.to[0] for m in mail.outbox) == ["fresh_a@stu.example", "fresh_b@stu.example"]
    by = {m.to[0]: m for m in mail.outbox}
    assert by["fresh_a@stu.example"].subject == "[学籍] 放弃入学资格已记录：北京大学"
    assert "考生号：26110000000001" in by["fresh_a@stu.example"].body
    assert by["fresh_b@stu.example"].subject == "[Xueji] Your admission is retained: 北京大学"
    assert "retained your admission until 31 August 2027" in by["fresh_b@stu.example"].body
    for message in mail.outbox:
        for admission in (a, b):
            assert admission.student.id_number not in message.body
    assert verify_chains().first_break is None


@pytest.mark.parametrize(
    ("first", "then", "state"),
    [
        ("retained", "retained", "retained"),
        ("gave_up", "retained", "gave_up"),
        ("gave_up", "gave_up", "gave_up"),
        ("gave_up", "cancelled", "gave_up"),
    ],
)
def test_an_outcome_the_state_does_not_allow_is_refused(w, first, then, state):
    (a,) = c.admit(w.officer, [1])
    kwargs = {"reason": "理由", "until": datetime.date(2027, 9, 1)}
    assert c.record(w.officer, c.outcome(a, first, **kwargs))[0]["ok"]

    (result,) = c.record(w.officer, c.outcome(a, then, **kwargs))

    assert result["ok"] is False
    assert result["code"] == "not_allowed"
    shown = AdmissionRecord.objects.get(pk=a.pk).get_state_display()
    assert str(shown) in result["detail"]
    assert _state(a) == state
    assert AdmissionCancellation.objects.count() == 0


def test_a_retained_admission_may_still_be_given_up_or_cancelled(w):
    a, b = c.admit(w.officer, [1, 2])
    until = datetime.date(2027, 9, 1)
    c.record(w.officer, c.outcome(a, "retained", reason="病", until=until))
    c.record(w.officer, c.outcome(b, "retained", reason="病", until=until))
    assert c.record(w.officer, c.outcome(a, "gave_up"))[0]["state"] == "gave_up"
    assert c.record(w.officer, c.outcome(b, "cancelled", reason="材料不符"))[0]["ok"]


def test_the_transitions_themselves_refuse_what_the_graph_forbids(w):
    a, b = c.admit(w.officer, [1, 2])
    c.record(w.officer, c.outcome(a, "gave_up"))
    given_up = AdmissionRecord.objects.get(pk=a.pk)
    for transition in (given_up.register, given_up.retain, given_up.cancel, given_up.give_up):
        with pytest.raises(TransitionNotAllowed):
            transition()
    c.record(w.officer, c.outcome(b, "retained", reason="病", until=datetime.date(2027, 9, 1)))
    with pytest.raises(TransitionNotAllowed):
        AdmissionRecord.objects.get(pk=b.pk).retain()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "cancelled", "reason": "  "}, "reason"),
        ({"outcome": "retained", "reason": "病"}, "until"),
        ({"outcome": "retained", "until": datetime.date(2027, 9, 1)}, "reason"),
        ({"outcome": "retained", "reason": "病", "until": datetime.date(2020, 1, 1)}, "until"),
        ({"outcome": "admitted"}, "outcome"),
    ],
)
def test_a_missing_or_bad_field_is_refused_naming_it(w, kwargs, field):
    (a,) = c.admit(w.officer, [1])

    (result,) = c.record(w.officer, c.outcome(a, **kwargs))

    assert (result["ok"], result["code"]) == (False, "invalid")
    assert result["detail"].startswith(f"{field}: ")
    assert _state(a) == "admitted"


def test_one_refusal_never_undoes_the_others_and_a_repeat_is_refused(w):
    a, b = c.admit(w.officer, [1, 2])
    results = c.record(
        w.officer,
        c.outcome(a, "gave_up"),
        c.outcome(999_999, "gave_up"),
        c.outcome(b, "retained", reason="病"),  # no end date
        c.outcome(a, "retained", reason="病", until=datetime.date(2027, 9, 1)),
    )
    assert [(r["ok"], r.get("code")) for r in results] == [
        (True, None),
        (False, "not_found"),
        (False, "invalid"),
        (False, "repeated"),
    ]
    assert (_state(a), _state(b)) == ("gave_up", "admitted")


# --- the second officer of a cancellation ---------------------------------------------------


def _request_cancellation(w, admission, reason="材料与录取信息不符"):
    (result,) = c.record(w.officer, c.outcome(admission, "cancelled", reason=reason))
    assert result["ok"], result
    return AdmissionCancellation.objects.get(pk=result["cancellation"])


def test_a_cancellation_waits_for_a_second_officer_in_the_work_list(w):
    a, _b = c.admit(w.officer, [1, 2])

    cancellation = _request_cancellation(w, a)

    assert (_state(a), cancellation.state, cancellation.requester) == (
        "admitted",
        "pending",
        w.officer,
    )
    item = c.confirmation_item(cancellation.pk)
    assert (item.student_name, item.reference, item.requester_id) == (
        a.student.name,
        a.candidate_number,
        w.officer.pk,
    )
    # The requester never sees it to decide; another officer of the school does.
    assert item.pk not in {i.pk for i in work.open_items(w.officer)}
    assert item.pk in {i.pk for i in work.open_items(w.officer_b)}
    assert item.pk not in {i.pk for i in work.open_items(w.thu_officer)}
    # The process waits for the next request (its catch is armed again).
    process = AdmissionReviewProcess.objects.get(cohort=cancellation.cohort)
    waiting = Task.objects.filter(
        process=process, flow_task=AdmissionReviewFlow.cancellation_requested
    )
    assert sorted(waiting.values_list("status", flat=True)) == [STATUS.DONE, STATUS.NEW]
    assert _events(a, "admission.cancellation_requested").get().data == {
        "reason": "材料与录取信息不符",
        "cancellation": cancellation.pk,
    }


def test_the_requester_cannot_confirm_and_another_school_does_not_see_it(w):
    (a,) = c.admit(w.officer, [1])
    item = c.confirmation_item(_request_cancellation(w, a).pk)

    with pytest.raises(PermissionDenied):
        work.decide(task_pk=item.pk, user=w.officer, decision="confirm")
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        with pytest.raises(NotVisibleError):
            work.decide(task_pk=item.pk, user=stranger, decision="confirm")
    assert _state(a) == "admitted"
    assert WorkItem.objects.get(pk=item.pk).closed is None


def test_a_second_officer_confirms_and_the_student_is_told_the_reason_and_appeal(w, mailed):
    (a,) = c.admit(w.officer, [1])
    c.with_account(a, "fresh_a")
    cancellation = _request_cancellation(w, a, reason="身份证件与录取信息不符")
    item = c.confirmation_item(cancellation.pk)

    done = mailed(
        work.decide, task_pk=item.pk, user=w.officer_b, decision="confirm", comment="同意"
    )

    # An adverse decision: the written decision is issued, the admission waits for the end
    # of its appeal period.
    assert (done.state, done.outcome) == ("in_appeal", "decision_issued")
    assert _state(a) == "admitted"
    issued = AdmissionCancellation.objects.get(pk=cancellation.pk)
    assert issued.appeal == "window"
    assert "身份证件与录取信息不符" in issued.decision_text
    assert "学生申诉处理委员会" in issued.decision_text
    assert "招生办 王老师" in issued.decision_text
    assert WorkItem.objects.get(pk=item.pk).decided_by == w.officer_b
    to_student = next(m for m in mail.outbox if m.to == ["fresh_a@stu.example"])
    assert "处理决定书" in to_student.subject
    assert "10日内" in to_student.body
    assert a.student.id_number not in to_student.body

    mailed(c.take_effect, cancellation.pk, w.officer_b)
    admission = AdmissionRecord.objects.get(pk=a.pk)
    assert (admission.state, admission.reason) == ("cancelled", "身份证件与录取信息不符")
    assert AdmissionCancellation.objects.get(pk=cancellation.pk).state == "confirmed"
    assert _events(a, "admission.cancelled").get().data == {
        "cancellation": cancellation.pk,
        "reason": "身份证件与录取信息不符",
        "requested_by": w.officer.pk,
    }
    assert any("已生效" in m.subject for m in mail.outbox if m.to == ["fresh_a@stu.example"])
    assert verify_chains().first_break is None


def test_a_refusal_needs_a_comment_keeps_the_admission_and_tells_the_requester(w, mailed):
    (a,) = c.admit(w.officer, [1])
    cancellation = _request_cancellation(w, a)
    item = c.confirmation_item(cancellation.pk)
    with pytest.raises(ValidationError):
        work.decide(task_pk=item.pk, user=w.officer_b, decision="refuse")

    mailed(work.decide, task_pk=item.pk, user=w.officer_b, decision="refuse", comment="材料已补")

    assert _state(a) == "admitted"
    assert AdmissionCancellation.objects.get(pk=cancellation.pk).state == "refused"
    (message,) = mail.outbox
    assert message.to == ["o1@pku.example"]
    assert f"取消入学资格申请 #{cancellation.pk} 未获确认" in message.subject
    assert "意见：材料已补" in message.body
    # Refused, it may be asked for again.
    assert _request_cancellation(w, a).pk != cancellation.pk


def test_a_pending_cancellation_holds_every_other_outcome(w):
    (a,) = c.admit(w.officer, [1])
    cancellation = _request_cancellation(w, a)

    for outcome in ("gave_up", "cancelled"):
        (result,) = c.record(w.officer_b, c.outcome(a, outcome, reason="x"))
        assert (result["ok"], result["code"]) == (False, "cancellation_pending")
        assert f"#{cancellation.pk}" in result["detail"]
    assert AdmissionCancellation.objects.filter(state="pending").count() == 1


def test_a_cancellation_needs_another_officer_of_the_school(w, places):
    factories.officer(places.fdu, "officer_10246b")  # not of 北京大学
    (a,) = c.admit(w.fdu_officer, [1], school_code="10246")
    (result,) = c.record(w.fdu_officer, c.outcome(a, "cancelled", reason="材料不符"))
    assert result["ok"]  # 复旦 has a second officer now
    (b,) = c.admit(w.thu_officer, [2], school_code="10003")  # 清华: one officer only
    (result,) = c.record(w.thu_officer, c.outcome(b, "cancelled", reason="材料不符"))
    assert (result["ok"], result["code"]) == (False, "no_other_reviewer")


def test_many_confirmations_are_decided_in_bulk(w):
    admissions = c.admit(w.officer, range(1, 6))
    results = c.record(
        w.officer, *[c.outcome(a, "cancelled", reason="材料不符") for a in admissions]
    )
    items = [c.confirmation_item(r["cancellation"]).pk for r in results]

    done = work.decide_many(task_pks=items, user=w.officer_b, decision="confirm")

    assert [(r.ok, r.state) for r in done] == [(True, "in_appeal")] * 5
    assert set(AdmissionRecord.objects.values_list("state", flat=True)) == {"admitted"}
    assert work.recount() == work.kept_counts()


# --- registering a cohort -------------------------------------------------------------------


def test_registering_creates_each_status_with_a_sequential_number(w, mailed):
    admissions = c.admit(w.officer, range(1, 6))
    c.admit(w.officer, [6], study_length="3.5", learning_form="业余", level="专科")
    c.with_account(admissions[0], "fresh_a")
    c.record(w.officer, c.outcome(admissions[1], "gave_up"))
    cancellation = _request_cancellation(w, admissions[2])
    cohort = c.cohort()

    result = mailed(flow.cohort_register, cohort=cohort, user=w.officer_b)

    assert (result.registered, result.waiting, result.errors) == (4, 1, [])
    states = dict(AdmissionRecord.objects.values_list("pk", "state"))
    assert [states[a.pk] for a in admissions] == [
        "registered",
        "gave_up",
        "admitted",  # its cancellation awaits a second officer
        "registered",
        "registered",
    ]
    statuses = list(StudentStatus.objects.order_by("student_number"))
    assert [s.student_number for s in statuses] == [
        "2026000001",
        "2026000002",
        "2026000003",
        "2026000004",
    ]
    assert [s.admission_id for s in statuses] == sorted(s.admission_id for s in statuses)
    first = statuses[0]
    assert (first.state, first.school_id, first.province_id, first.student_id) == (
        StatusState.ENROLLED,
        "10001",
        "11",
        admissions[0].student_id,
    )
    assert (first.level, first.major_code, first.learning_form, first.study_length) == (
        "bachelor",
        "080901",
        "full_time",
        "4",
    )
    assert (first.entry_date, first.expected_graduation) == (
        datetime.date(2026, 9, 1),
        datetime.date(2030, 7, 1),
    )
    last = statuses[-1]
    assert (last.level, last.learning_form, last.study_length, last.expected_graduation) == (
        "junior_college",
        "spare_time",
        "3.5",
        datetime.date(2030, 1, 1),
    )
    cohort.refresh_from_db()
    assert (cohort.state, cohort.last_sequence, cohort.registered_by) == (
        "registered",
        4,
        w.officer_b,
    )
    assert c.review_item(cohort).decided_by == w.officer_b
    assert _events(admissions[0], "admission.registered").get().data == {
        "cohort": cohort.pk,
        "status": first.pk,
        "student_number": "2026000001",
    }
    (message,) = mail.outbox
    assert message.to == ["fresh_a@stu.example"]
    assert message.subject == "[学籍] 您的学籍已注册：北京大学"
    assert "学号：2026000001" in message.body
    assert "预计毕业日期：2030年7月1日" in message.body
    # The waiting one is registered once its cancellation is refused, numbers continuing.
    item = c.confirmation_item(cancellation.pk)
    work.decide(task_pk=item.pk, user=w.officer_b, decision="refuse", comment="材料已补")
    again = flow.cohort_register(cohort=cohort, user=w.officer)
    assert (again.registered, again.waiting) == (1, 0)
    assert StudentStatus.objects.get(admission=admissions[2]).student_number == "2026000005"
    assert verify_chains().first_break is None


def test_a_gave_up_or_retained_admission_is_never_registered(w):
    a, b, d = c.admit(w.officer, [1, 2, 3])
    c.record(
        w.officer,
        c.outcome(a, "gave_up"),
        c.outcome(b, "retained", reason="病", until=datetime.date(2027, 9, 1)),
    )
    result = flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert result.registered == 1
    assert list(StudentStatus.objects.values_list("admission_id", flat=True)) == [d.pk]
    assert (_state(a), _state(b)) == ("gave_up", "retained")


def test_a_person_with_a_current_full_time_status_elsewhere_is_not_registered(w, places):
    _a, b, _d = c.admit(w.officer, [1, 2, 3])
    (part_time,) = c.admit(w.officer, [4], learning_form="业余")
    elsewhere = {
        "province": places.bj,
        "level": "bachelor",
        "major_code": "080901",
        "major_name": "计算机科学与技术",
        "study_length": "4",
        "entry_date": "2025-09-01",
        "expected_graduation": "2029-07-01",
    }
    for admission, number in ((b, "2025000007"), (part_time, "2025000008")):
        StudentStatus.objects.create(
            student_id=admission.student_id,
            school=places.thu,
            student_number=number,
            learning_form="full_time",
            **elsewhere,
        )

    result = flow.cohort_register(cohort=c.cohort(), user=w.officer)

    assert result.registered == 3  # a, d, and the part-time admission of a full-time student
    (error,) = result.errors
    assert (error.admission, error.code) == (b.pk, "status_elsewhere")
    assert "清华大学" in error.detail
    assert "10003" in error.detail
    assert "2025000007" in error.detail
    assert _state(b) == "admitted"
    assert sorted(
        StudentStatus.objects.filter(school_id="10001").values_list("student_number", flat=True)
    ) == ["2026000001", "2026000002", "2026000003"]
    assert c.cohort().state == "registered"  # the re-examination ended all the same


def test_the_database_refuses_a_second_current_full_time_status_across_schools(w, places):
    from django.db import IntegrityError
    from django.db import transaction

    (a,) = c.admit(w.officer, [1])
    flow.cohort_register(cohort=c.cohort(), user=w.officer)
    status = StudentStatus.objects.get(admission=a)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentStatus.objects.create(
            student_id=a.student_id,
            school=places.fdu,
            province=places.sh,
            student_number="X1",
            level=status.level,
            major_code=status.major_code,
            major_name=status.major_name,
            learning_form="full_time",
            study_length="4",
            entry_date=status.entry_date,
            expected_graduation=status.expected_graduation,
        )


def test_the_schools_own_pattern_numbers_its_students(w, places):
    School.objects.filter(pk="10001").update(student_number_pattern="S{yy}{school}-{seq:4}")
    c.admit(w.officer, [1, 2])
    # A number the school gave by hand meanwhile is skipped.
    (other,) = c.admit(w.officer, [3], admission_year="2025")
    StudentStatus.objects.create(
        student_id=other.student_id,
        school=places.pku,
        province=places.bj,
        student_number="S2610001-0001",
        level="bachelor",
        major_code="080901",
        major_name="x",
        learning_form="part_time",
        study_length="4",
        entry_date="2025-09-01",
        expected_graduation="2029-07-01",
    )

    flow.cohort_register(cohort=c.cohort(), user=w.officer)

    assert sorted(
        StudentStatus.objects.filter(admission__admission_year=2026).values_list(
            "student_number", flat=True
        )
    ) == ["S2610001-0002", "S2610001-0003"]


def test_a_pattern_that_runs_out_leaves_the_rest_admitted_with_the_reason(w):
    School.objects.filter(pk="10001").update(student_number_pattern="{year}{seq:1}")
    c.admit(w.officer, range(1, 12))
    result = flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert result.registered == 9
    assert {e.code for e in result.errors} == {"numbers_exhausted"}
    assert len(result.errors) == 2


def test_registering_takes_a_constant_number_of_statements_per_chunk(w, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(services, "REGISTER_CHUNK", 10)
    c.admit(w.fdu_officer, range(301, 311), school_code="10246")
    c.admit(w.officer, range(1, 41))
    c.admit(w.thu_officer, range(101, 221), school_code="10003")
    # What a process does once (content types, …) is done before counting.
    flow.cohort_register(cohort=c.cohort("10246"), user=w.fdu_officer)

    with CaptureQueriesContext(connection) as four_chunks:
        flow.cohort_register(cohort=c.cohort(), user=w.officer)
    with CaptureQueriesContext(connection) as twelve_chunks:
        flow.cohort_register(cohort=c.cohort("10003"), user=w.thu_officer)

    assert StudentStatus.objects.count() == 170
    per_chunk = (len(twelve_chunks) - len(four_chunks)) / 8
    # The cohort's lock, the chunk's rows locked, then read with their persons, their
    # pending cancellations, the statuses held elsewhere, the numbers taken, the statuses'
    # insert (PostgreSQL: their ids drawn, then COPY), the admissions' update, the cohort's
    # sequence, the audit heads, the events' insert and (SQLite) the heads' upsert, in the
    # chunk's transaction (the test's savepoint and its release).
    assert per_chunk == 14, per_chunk


def _review_items(cohort):
    return list(
        WorkItem.objects.filter(flow="admission_review", step="review", subject_id=cohort.pk)
        .order_by("pk")
        .values_list("closed", "decided_by", "due", "remind_at")
    )


def test_admissions_imported_after_registration_reopen_the_cohort_with_a_new_task(w, mailed):
    c.admit(w.officer, [1, 2])
    flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert c.cohort().state == "registered"

    late = c.IMPORTED + datetime.timedelta(days=10)
    mailed(c.admit, w.officer, [3], at=late)

    cohort = c.cohort()
    assert cohort.state == "reviewing"  # its late admission is unexamined
    assert services.unexamined(cohort) == 1
    (first, again) = _review_items(cohort)
    assert first[:2] != (None, None)  # the registration's
    # A new task in the cohort's process, due on the cohort's deadline as the first was.
    assert again == (None, None, c.DEADLINE, c.FIRST_REMINDER)
    process = AdmissionReviewProcess.objects.get(cohort=cohort)
    open_tasks = Task.objects.filter(process=process, status=STATUS.NEW)
    assert sorted(t.flow_task.name for t in open_tasks) == ["cancellation_requested", "review"]
    event = AuditEvent.objects.get(subject_type__model="admissioncohort", action="cohort.reopened")
    assert (event.data, event.actor) == ({"unexamined": 1}, None)
    # The school's officers are told, each in their language, with the task's link.
    by = {m.to[0]: m for m in mail.outbox if m.to[0] in ("o1@pku.example", "o2@pku.example")}
    zh, en = by["o1@pku.example"], by["o2@pku.example"]
    assert zh.subject == "[学籍] 入学复查重新开启：北京大学 2026级新生"
    assert "学籍注册完成后，又导入了新的录取数据" in zh.body
    assert "请在 2026年12月1日 00:00 前" in zh.body
    assert "尚未复查或注册：1 人" in zh.body
    item = c.review_item_open(cohort)
    assert f"/work/{item.pk}/" in zh.body
    assert en.subject == "[Xueji] Re-examination open again: the 2026 freshmen of 北京大学"
    assert "Not yet examined or registered: 1" in en.body
    assert work.recount() == work.kept_counts()

    # Registering again registers it and ends the re-examination again.
    result = flow.cohort_register(cohort=cohort, user=w.officer_b)
    assert (result.registered, result.errors) == (1, [])
    status = StudentStatus.objects.get(admission__candidate_number="26110000000003")
    assert status.student_number == "2026000003"
    cohort = c.cohort()
    assert (cohort.state, cohort.registered_by) == ("registered", w.officer_b)
    assert [row[:2] for row in _review_items(cohort)][1] != (None, None)
    assert WorkItem.objects.filter(OPEN, flow="admission_review", step="review").count() == 0
    assert work.recount() == work.kept_counts()
    assert verify_chains().first_break is None


def test_a_cohort_reopens_each_time_admissions_come_after_a_registration(w):
    c.admit(w.officer, [1])
    flow.cohort_register(cohort=c.cohort(), user=w.officer)
    for number in (2, 3):
        c.admit(w.officer, [number])
        assert c.cohort().state == "reviewing"
        # Decided from the work list this time: the same registration.
        item = c.review_item_open(c.cohort())
        work.decide(task_pk=item.pk, user=w.officer_b, decision="register")
        assert c.cohort().state == "registered"
    assert StudentStatus.objects.count() == 3
    assert len(_review_items(c.cohort())) == 3
    assert AuditEvent.objects.filter(action="cohort.reopened").count() == 2


def test_only_new_admissions_reopen_a_registered_cohort(w):
    from tests.records.admission_files import csv_bytes
    from tests.records.admission_files import imported
    from tests.records.admission_files import row

    content = csv_bytes([row(1), row(2)])
    imported(content, w.officer)
    a = AdmissionRecord.objects.get(candidate_number="26110000000001")
    c.record(w.officer, c.outcome(a, "retained", reason="病", until=datetime.date(2027, 9, 1)))
    flow.cohort_register(cohort=c.cohort(), user=w.officer)
    imported(content, w.officer)  # every row a duplicate: nothing written
    c.record(w.officer, c.outcome(a, "cancelled", reason="材料不符"))
    assert c.cohort().state == "registered"
    assert not AuditEvent.objects.filter(action="cohort.reopened").exists()
    assert WorkItem.objects.filter(OPEN, step="review").count() == 0
    # A file with one new row among them does.
    imported(csv_bytes([row(1), row(2), row(3)]), w.officer)
    assert c.cohort().state == "reviewing"
    assert AuditEvent.objects.filter(action="cohort.reopened").get().data == {"unexamined": 1}


def test_the_review_task_registers_from_the_work_list_too(w):
    a, b = c.admit(w.officer, [1, 2])
    item = c.review_item(c.cohort())

    done = work.decide(task_pk=item.pk, user=w.officer, decision="register")

    assert (done.state, done.outcome) == ("registered", "registered")
    assert StudentStatus.objects.count() == 2
    assert {_state(a), _state(b)} == {"registered"}
    event = AuditEvent.objects.get(
        subject_type__model="admissioncohort", action="cohort.registered"
    )
    assert event.data["registered"] == 2


# --- scope ----------------------------------------------------------------------------------


def test_another_schools_admissions_and_cohort_are_not_found(w):
    (a,) = c.admit(w.officer, [1])
    cohort = c.cohort()
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        (result,) = c.record(stranger, c.outcome(a, "gave_up"))
        assert (result["ok"], result["code"]) == (False, "not_found")
        with pytest.raises(NotVisibleError):
            services.cohort_register(cohort_pk=cohort.pk, acting_user=stranger)
    # The province's administrator sees it and may not act for the school.
    (result,) = c.record(w.admin, c.outcome(a, "gave_up"))
    assert (result["ok"], result["code"]) == (False, "permission_denied")
    with pytest.raises(PermissionDenied):
        services.cohort_register(cohort_pk=cohort.pk, acting_user=w.admin)
    assert _state(a) == "admitted"
    assert list(flow.visible_reviews(w.admin)) == [cohort]
    assert list(flow.visible_reviews(w.admin_sh)) == []
    assert list(flow.visible_reviews(w.thu_officer)) == []


def test_the_confirmation_is_one_decision_only(w):
    (a,) = c.admit(w.officer, [1])
    item = c.confirmation_item(_request_cancellation(w, a).pk)
    work.decide(task_pk=item.pk, user=w.officer_b, decision="confirm")
    third = factories.officer(School.objects.get(pk="10001"), "officer_10001c")
    with pytest.raises(ConflictError):
        work.decide(task_pk=item.pk, user=third, decision="refuse", comment="x")
    assert Notification.objects.filter(event="admission_cancellation_refused").count() == 0


# --- the school's rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{year}", "exactly one {seq:N}"),
        ("{seq:6}", "holds the year"),
        ("{year}{seq:6}{seq:2}", "exactly one {seq:N}"),
        ("{year}/{seq:6}", "position 7"),
        ("{year}{seq:0}", "position 7"),
        ("{school}{year}{seq:9}", "18 digits"),
        ("{school}{year}{seq:9}ABC", "at most 20"),
    ],
)
def test_a_bad_student_number_pattern_is_refused_naming_the_rule(places, pattern, message):
    school = School.objects.get(pk="10001")
    school.student_number_pattern = pattern
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            school.full_clean()
        said = refused.value.message_dict
    assert message in " ".join(said["student_number_pattern"])


@pytest.mark.parametrize("day", ["9-1", "13-01", "02-30", "02-29", "09-31", ""])
def test_a_bad_entry_day_is_refused(places, day):
    school = School.objects.get(pk="10001")
    school.entry_day = day
    with pytest.raises(ValidationError) as refused:
        school.full_clean()
    assert "entry_day" in refused.value.message_dict


@pytest.mark.parametrize(
    ("length", "graduation"),
    [
        ("4", datetime.date(2030, 7, 1)),
        ("3.5", datetime.date(2030, 1, 1)),
        ("1.5", datetime.date(2028, 1, 1)),
        ("8", datetime.date(2034, 7, 1)),
    ],
)
def test_the_expected_graduation_date(length, graduation):
    assert numbering.expected_graduation(datetime.date(2026, 9, 1), length) == graduation


def test_months_end_on_the_months_last_day():
    assert numbering.add_months(datetime.date(2026, 8, 31), 3) == datetime.date(2026, 11, 30)
    assert numbering.add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert numbering.add_months(datetime.date(2026, 10, 15), 3) == datetime.date(2027, 1, 15)


def test_the_schools_rules_are_edited_in_the_admin(places, admin_client):
    page = admin_client.get("/admin/records/school/10001/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="student_number_pattern" value="{year}{seq:6}"' in html
    assert 'name="entry_day" value="09-01"' in html
