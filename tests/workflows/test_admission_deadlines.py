"""The re-examination's deadline under time travel: three months from the entry date, the
school's officers reminded 14 and 3 days before, the province's administrators told when it
passes with admissions still unexamined; and the confirmation's own working-day deadline."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from notifications.models import Notification
from tests.workflows import cohorts as c
from workflows import work
from workflows.deadlines import add_working_days
from workflows.flows import admission as flow
from workflows.models import WorkItem
from workflows.timers import TimerCounts
from workflows.timers import timers_fire

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)
NOTHING = TimerCounts()


@pytest.fixture
def w(places):
    return c.world(places)


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    """Run the timers at ``at``, their emails delivered (after commit) to ``mail.outbox``."""

    def run(at, **kwargs):
        mail.outbox.clear()
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return timers_fire(**kwargs)

    return run


def _mails():
    return {m.to[0]: m for m in mail.outbox}


def _html(message):
    return str(message.alternatives[0][0])


def _no_id_numbers(admissions):
    for message in mail.outbox:
        text = f"{message.subject}{message.body}{_html(message)}"
        for admission in admissions:
            assert admission.student.id_number not in text


def test_officers_are_reminded_14_and_3_days_before_and_the_province_told_after(w, fire):
    admissions = c.admit(w.officer, range(1, 5))
    c.record(w.officer, c.outcome(admissions[0], "gave_up"))
    item = c.review_item(c.cohort())

    assert fire(c.FIRST_REMINDER - SECOND) == NOTHING
    assert fire(c.FIRST_REMINDER) == TimerCounts(reminded=1)
    mails = _mails()
    assert sorted(mails) == ["o1@pku.example", "o2@pku.example"]
    zh, en = mails["o1@pku.example"], mails["o2@pku.example"]
    assert zh.subject == "[学籍] 入学复查将于12月1日到期：北京大学 2026级新生"
    assert "将于 2026年12月1日 00:00 到期" in zh.body
    assert "尚未复查或注册：3 人" in zh.body
    assert "入学日期：2026年9月1日" in zh.body
    assert en.subject == (
        "[Xueji] Due on 1 December: re-examination of the 2026 freshmen of 北京大学"
    )
    assert "Not yet examined or registered: 3" in en.body
    _no_id_numbers(admissions)
    item.refresh_from_db()
    assert (item.remind_at, item.reminded_at) == (c.SECOND_REMINDER, None)

    assert fire(c.FIRST_REMINDER + DAY) == NOTHING
    assert fire(c.SECOND_REMINDER - SECOND) == NOTHING
    assert fire(c.SECOND_REMINDER) == TimerCounts(reminded=1)
    assert sorted(_mails()) == ["o1@pku.example", "o2@pku.example"]
    assert "将于 2026年12月1日 00:00 到期" in _mails()["o1@pku.example"].body
    item.refresh_from_db()
    assert item.reminded_at == c.SECOND_REMINDER
    keys = set(
        Notification.objects.filter(event="admission_review_due_soon").values_list(
            "object_key", flat=True
        )
    )
    assert keys == {
        f"workflows.workitem:{item.pk}:20261116T1600",
        f"workflows.workitem:{item.pk}:20261127T1600",
    }

    assert fire(c.DEADLINE - SECOND) == NOTHING
    assert fire(c.DEADLINE) == TimerCounts(overdue=1, escalated=1)
    (told,) = mail.outbox
    assert told.to == ["p@bj.example"]  # not 上海市's
    assert told.subject == "[学籍] 超期督办：北京大学 2026级新生入学复查"
    assert "仍有 3 名新生尚未复查或注册" in told.body
    assert f"/admissions/cohorts/{item.subject_id}/" in told.body
    _no_id_numbers(admissions)
    item.refresh_from_db()
    assert (item.overdue_at, item.escalated_at) == (c.DEADLINE, c.DEADLINE)
    assert fire(c.DEADLINE + DAY) == NOTHING
    assert work.recount() == work.kept_counts()


def test_a_registered_cohort_is_neither_reminded_nor_escalated(w, fire):
    c.admit(w.officer, range(1, 3))
    with time_machine.travel(c.FIRST_REMINDER - DAY, tick=False):
        flow.cohort_register(cohort=c.cohort(), user=w.officer)

    assert fire(c.FIRST_REMINDER) == NOTHING
    assert fire(c.DEADLINE + DAY) == NOTHING
    assert mail.outbox == []


def test_nothing_left_to_examine_is_not_escalated_until_late_admissions_come(w, fire):
    admissions = c.admit(w.officer, range(1, 3))
    c.record(w.officer, *[c.outcome(a, "gave_up") for a in admissions])
    fire(c.SECOND_REMINDER)
    item = c.review_item(c.cohort())

    assert fire(c.DEADLINE) == TimerCounts(overdue=1)
    assert fire(c.DEADLINE + DAY) == NOTHING  # asked again, still nothing to examine
    assert mail.outbox == []
    assert WorkItem.objects.get(pk=item.pk).escalated_at is None

    c.admit(w.officer, [3], at=c.DEADLINE + 2 * DAY)  # imported late
    assert fire(c.DEADLINE + 3 * DAY) == TimerCounts(escalated=1)
    assert [m.to for m in mail.outbox] == [["p@bj.example"]]
    assert "仍有 1 名新生" in mail.outbox[0].body


def test_items_not_escalated_yet_never_hold_the_timers_in_a_loop(w, fire):
    for school, officer, numbers in (
        ("10001", w.officer, range(1, 3)),
        ("10003", w.thu_officer, range(3, 5)),
    ):
        admissions = c.admit(officer, numbers, school_code=school)
        c.record(officer, *[c.outcome(a, "gave_up") for a in admissions])
    fire(c.SECOND_REMINDER, chunk=1)

    assert fire(c.DEADLINE, chunk=1) == TimerCounts(overdue=2)
    assert fire(c.DEADLINE + DAY, chunk=1) == NOTHING


@pytest.mark.parametrize(
    ("imported", "expected"),
    [
        # After the first reminder's time: it is sent at once, the second still to come.
        (
            datetime.datetime(2026, 11, 20, 9, tzinfo=c.SHANGHAI),
            (False, c.SECOND_REMINDER, TimerCounts(reminded=1)),
        ),
        # After both: one reminder, then none.
        (
            datetime.datetime(2026, 11, 29, 9, tzinfo=c.SHANGHAI),
            (True, c.FIRST_REMINDER, TimerCounts(reminded=1)),
        ),
        # After the deadline: reminded (past due), marked overdue and escalated at once.
        (
            datetime.datetime(2026, 12, 5, 9, tzinfo=c.SHANGHAI),
            (True, c.FIRST_REMINDER, TimerCounts(reminded=1, overdue=1, escalated=1)),
        ),
    ],
    ids=["after-the-first", "after-both", "after-the-deadline"],
)
def test_a_cohort_imported_late_is_reminded_once_at_once(w, fire, imported, expected):
    reminded, next_reminder, counts = expected
    c.admit(w.officer, [1], at=imported)
    item = c.review_item(c.cohort())
    assert (item.due, item.remind_at) == (c.DEADLINE, c.FIRST_REMINDER)
    at = imported + datetime.timedelta(minutes=5)

    assert fire(at) == counts

    item.refresh_from_db()
    assert item.remind_at == next_reminder
    assert item.reminded_at == (at if reminded else None)
    due_soon = _mails()
    assert {"o1@pku.example", "o2@pku.example"} <= set(due_soon)  # once to each officer
    past_due = imported > c.DEADLINE
    assert ("已超过期限" in due_soon["o1@pku.example"].subject) is past_due
    assert due_soon["o2@pku.example"].subject.startswith("[Xueji] Past due") is past_due


def test_due_days_cannot_name_the_review_but_may_name_the_confirmation(settings):
    settings.WORKFLOW_DUE_DAYS = {"admission_review.review": 10}
    with pytest.raises(SystemCheckError, match=r"steps whose deadline is their own: admission"):
        call_command("check")
    settings.WORKFLOW_DUE_DAYS = {"admission_review.confirm_cancellation": 3}
    call_command("check")


def test_a_confirmation_is_due_in_five_working_days_and_reminded_before(w, fire):
    (a,) = c.admit(w.officer, [1])
    requested = datetime.datetime(2026, 11, 3, 10, tzinfo=c.SHANGHAI)  # a Tuesday
    with time_machine.travel(requested, tick=False):
        (result,) = c.record(w.officer, c.outcome(a, "cancelled", reason="材料不符"))
    item = c.confirmation_item(result["cancellation"])
    due = add_working_days(requested, 5)
    assert item.due == due
    assert item.remind_at == add_working_days(due, -2)

    assert fire(item.remind_at) == TimerCounts(reminded=1)
    # The requester never confirms it: only the other officer is reminded.
    assert [m.to for m in mail.outbox] == [["o2@pku.example"]]
    assert mail.outbox[0].subject.startswith("[Xueji] Due on 10 November: Cancellation of")
    assert fire(due) == TimerCounts(overdue=1, escalated=1)
    assert [m.to for m in mail.outbox] == [["p@bj.example"]]


def test_a_cohort_reopened_by_late_admissions_is_reminded_and_escalated_again(w, fire):
    c.admit(w.officer, [1, 2])
    with time_machine.travel(c.IMPORTED + DAY, tick=False):
        flow.cohort_register(cohort=c.cohort(), user=w.officer)
    c.admit(w.officer, [3], at=c.IMPORTED + 10 * DAY)  # after the registration
    item = c.review_item_open(c.cohort())
    assert (item.due, item.remind_at) == (c.DEADLINE, c.FIRST_REMINDER)

    assert fire(c.FIRST_REMINDER) == TimerCounts(reminded=1)
    assert sorted(_mails()) == ["o1@pku.example", "o2@pku.example"]
    assert "尚未复查或注册：1 人" in _mails()["o1@pku.example"].body
    assert fire(c.SECOND_REMINDER) == TimerCounts(reminded=1)
    assert fire(c.DEADLINE) == TimerCounts(overdue=1, escalated=1)
    (told,) = mail.outbox
    assert told.to == ["p@bj.example"]
    assert "仍有 1 名新生尚未复查或注册" in told.body
    assert work.recount() == work.kept_counts()


def test_admissions_imported_after_the_deadline_reopen_a_review_past_due(
    w, fire, django_capture_on_commit_callbacks
):
    c.admit(w.officer, [1])
    with time_machine.travel(c.IMPORTED + DAY, tick=False):
        flow.cohort_register(cohort=c.cohort(), user=w.officer)
    imported = c.DEADLINE + 5 * DAY
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        c.admit(w.officer, [2], at=imported)
    reopened = _mails()
    assert reopened["o1@pku.example"].subject == (
        "[学籍] 入学复查重新开启（已超过期限）：北京大学 2026级新生"
    )
    assert "且已超过复查期限" in reopened["o1@pku.example"].body
    assert reopened["o2@pku.example"].subject.startswith("[Xueji] Re-examination open again and")

    # The province hears of it at once: an admission still unexamined after the deadline.
    assert fire(imported + 5 * SECOND) == TimerCounts(reminded=1, overdue=1, escalated=1)
    assert "p@bj.example" in _mails()
    with time_machine.travel(imported + DAY, tick=False):
        flow.cohort_register(cohort=c.cohort(), user=w.officer)
    assert fire(imported + 2 * DAY) == NOTHING
