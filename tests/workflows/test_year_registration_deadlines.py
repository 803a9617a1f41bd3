"""The academic-year registration's deadline under time travel: the end of the school's window,
its officers reminded 7 and 2 days before, the province's administrators told when it passes
with students neither registered nor deferred (whom the officers see listed)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from notifications.models import Notification
from records.models import School
from records.years import services
from tests.workflows import years as y
from workflows import work
from workflows.flows import year_registration as flow
from workflows.models import WorkItem
from workflows.timers import TimerCounts
from workflows.timers import timers_fire

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)
DAY = datetime.timedelta(days=1)
NOTHING = TimerCounts()


@pytest.fixture
def w(places):
    return y.world(places)


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


def test_officers_are_reminded_7_and_2_days_before_and_the_province_told_after(w, fire):
    statuses = y.enrolled(4)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(statuses[0], "deferred", "未缴学费"))
    item = y.task_item(year_round)

    assert fire(y.FIRST_REMINDER - SECOND) == NOTHING
    assert fire(y.FIRST_REMINDER) == TimerCounts(reminded=1)
    mails = _mails()
    assert sorted(mails) == ["o1@pku.example", "o2@pku.example"]
    zh, en = mails["o1@pku.example"], mails["o2@pku.example"]
    assert zh.subject == "[学籍] 学年注册将于10月1日截止：北京大学 2027–2028学年"
    assert "将于 2027年10月1日 00:00 截止" in zh.body
    assert "注册时间：2027年9月1日 至 2027年9月30日" in zh.body
    assert "既未注册也未暂缓注册：3 人" in zh.body
    assert "暂缓注册：1 人" in zh.body
    assert f"/work/{item.pk}/" in zh.body
    assert en.subject == "[Xueji] Due on 1 October: registration of 北京大学 for 2027–2028"
    assert "Neither registered nor deferred: 3" in en.body
    item.refresh_from_db()
    assert (item.remind_at, item.reminded_at) == (y.SECOND_REMINDER, None)

    assert fire(y.SECOND_REMINDER - SECOND) == NOTHING
    assert fire(y.SECOND_REMINDER) == TimerCounts(reminded=1)
    assert sorted(_mails()) == ["o1@pku.example", "o2@pku.example"]
    item.refresh_from_db()
    assert item.reminded_at == y.SECOND_REMINDER
    assert Notification.objects.filter(event="year_registration_due_soon").count() == 4

    assert fire(y.DEADLINE - SECOND) == NOTHING
    assert fire(y.DEADLINE) == TimerCounts(overdue=1, escalated=1)
    (told,) = mail.outbox
    assert told.to == ["p@bj.example"]  # not 上海市's
    assert told.subject == "[学籍] 超期督办：北京大学 2027–2028学年学年注册"
    assert "仍有 3 名在籍学生既未注册也未暂缓注册" in told.body
    assert f"/years/{year_round.pk}/" in told.body  # the round's page: not the school's task
    item.refresh_from_db()
    assert (item.overdue_at, item.escalated_at) == (y.DEADLINE, y.DEADLINE)
    assert fire(y.DEADLINE + DAY) == NOTHING
    assert work.recount() == work.kept_counts()
    # The officers see who is left, past the deadline.
    assert sorted(
        services.round_students(year_round, "unregistered").values_list("pk", flat=True)
    ) == sorted(s.pk for s in statuses[1:])


def test_a_completed_round_is_neither_reminded_nor_escalated(w, fire):
    y.enrolled(2)
    year_round = y.open_round()
    with time_machine.travel(y.FIRST_REMINDER - DAY, tick=False):
        flow.register_all(year_round=year_round, user=w.officer)

    assert fire(y.FIRST_REMINDER) == NOTHING
    assert fire(y.DEADLINE + DAY) == NOTHING
    assert mail.outbox == []


def test_everyone_registered_or_deferred_is_not_escalated_until_someone_is_enrolled_again(w, fire):
    a, b = y.enrolled(2)
    year_round = y.open_round()
    y.record(
        w.officer,
        year_round,
        y.outcome(a, "deferred", "未缴学费"),
        y.outcome(b, "registered"),
    )
    fire(y.SECOND_REMINDER)
    item = y.task_item(year_round)

    assert fire(y.DEADLINE) == TimerCounts(overdue=1)  # the task is late; nobody is left
    assert fire(y.DEADLINE + DAY) == NOTHING
    assert mail.outbox == []
    assert WorkItem.objects.get(pk=item.pk).escalated_at is None

    y.status()  # enrolled again (a resumption): neither registered nor deferred
    assert fire(y.DEADLINE + 2 * DAY) == TimerCounts(escalated=1)
    assert [m.to for m in mail.outbox] == [["p@bj.example"]]
    assert "仍有 1 名在籍学生" in mail.outbox[0].body


def test_a_round_opened_after_its_deadline_is_reminded_and_escalated_at_once(w, fire):
    y.enrolled(1)
    late = datetime.datetime(2027, 10, 8, 9, tzinfo=y.SHANGHAI)
    year_round = y.open_round(at=late)
    item = y.task_item(year_round)
    assert (item.due, item.remind_at) == (y.DEADLINE, y.FIRST_REMINDER)

    assert fire(late + datetime.timedelta(minutes=5)) == TimerCounts(
        reminded=1, overdue=1, escalated=1
    )
    subjects = sorted(m.subject for m in mail.outbox)
    assert "[学籍] 学年注册已过截止时间：北京大学 2027–2028学年" in subjects
    assert "[Xueji] Past due: registration of 北京大学 for 2027–2028" in subjects


def test_the_deadline_follows_the_schools_window(w, fire):
    School.objects.filter(pk="10001").update(year_registration_closes="09-20")
    y.enrolled(1)
    year_round = y.open_round()
    due = datetime.datetime(2027, 9, 21, tzinfo=y.SHANGHAI)
    item = y.task_item(year_round)
    assert (item.due, item.remind_at) == (due, due - 7 * DAY)
    assert fire(due) == TimerCounts(reminded=1, overdue=1, escalated=1)


def test_due_days_cannot_name_the_registration(settings):
    settings.WORKFLOW_DUE_DAYS = {"year_registration.registration": 10}
    with pytest.raises(SystemCheckError, match=r"year_registration\.registration"):
        call_command("check")
