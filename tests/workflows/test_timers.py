"""Deadlines: the due period per step and its override, the reminder before a task is due, the
overdue mark at its due time and the escalation to the province, each once."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client
from viewflow.workflow.models import Task

from notifications.models import Notification
from tests import factories
from tests.api.helpers import token_client
from workflows import work
from workflows.deadlines import add_working_days
from workflows.flows import correction as flow
from workflows.models import WorkItem
from workflows.tasks import workflow_timers
from workflows.timers import TimerCounts
from workflows.timers import timers_fire

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday without holidays around it: five working days later is Tuesday 10 November, and
# the reminder two working days before that is Friday 6 November.
FILED = datetime.datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)
REMIND = datetime.datetime(2026, 11, 6, 10, 0, tzinfo=SHANGHAI)
DUE = datetime.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
SECOND = datetime.timedelta(seconds=1)
NOTHING = TimerCounts()


def _settings_with(due_days: str) -> subprocess.CompletedProcess[str]:
    """Load the real settings in a fresh interpreter with ``WORKFLOW_DUE_DAYS=due_days``."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["WORKFLOW_DUE_DAYS"] = due_days
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(sorted(settings.WORKFLOW_DUE_DAYS.items()))",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_due_days_are_read_from_the_environment():
    loaded = _settings_with("correction.school_review=3, correction.province_signoff=8")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (
        "[('correction.province_signoff', 8), ('correction.school_review', 3)]"
    )
    assert _settings_with("").stdout.strip() == "[]"


@pytest.mark.parametrize(
    "value",
    [
        "correction.school_review",
        "correction.school_review=three",
        "correction.school_review=0",
        "correction.school_review=-2",
        "correction.school_review=2.5",
        "school_review=3",
        "correction.school_review=３",  # a full-width digit
    ],
)
def test_bad_due_days_stop_the_start_up_naming_the_variable_and_the_format(value):
    loaded = _settings_with(value)
    assert loaded.returncode != 0
    assert "ImproperlyConfigured: WORKFLOW_DUE_DAYS: cannot read" in loaded.stderr
    assert repr(value) in loaded.stderr
    assert "<flow>.<step>=<working days>" in loaded.stderr
    assert "e.g. WORKFLOW_DUE_DAYS=correction.school_review=3" in loaded.stderr


def test_a_step_given_twice_is_refused():
    loaded = _settings_with("correction.school_review=3,correction.school_review=4")
    assert loaded.returncode != 0
    assert "'correction.school_review' is given twice" in loaded.stderr


def test_a_step_no_flow_declares_fails_the_system_check(settings):
    settings.WORKFLOW_DUE_DAYS = {"correction.school_reveiw": 3}
    with pytest.raises(SystemCheckError, match=r"names steps that no flow declares: correction"):
        call_command("check")
    settings.WORKFLOW_DUE_DAYS = {"correction.school_review": 3, "leave.review": 1}
    call_command("check")


# --- reminders, overdue marks and escalations -----------------------------------------------


@pytest.fixture
def world(places):
    bj = places.bj
    sh = places.sh
    pku = places.pku
    login = factories.user("student_a", email="a@stu.example")
    person = factories.student("王小明", login=login)
    factories.qualification(person, pku)
    return {
        "person": person,
        "student": login,
        "officer": factories.officer(pku, "officer_10001", email="o1@pku.example"),
        "officer_en": factories.officer(
            pku, "officer_10001b", email="o2@pku.example", language="en"
        ),
        "admin": factories.provincial_admin(bj, "province_11", email="p1@bj.example"),
        "admin_en": factories.provincial_admin(
            bj, "province_11b", email="p2@bj.example", language="en"
        ),
        "foreign_admin": factories.provincial_admin(sh, "province_31", email="p@sh.example"),
    }


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    """Run the timers at ``at``, delivering their emails (after commit) to ``mail.outbox``."""

    def run(at, **kwargs):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return timers_fire(**kwargs)

    return run


def _file(world, *, at=FILED, person=None):
    """A correction filed at ``at`` (its own emails are never delivered: no commit here)."""
    person = person or world["person"]
    with time_machine.travel(at, tick=False):
        return flow.correction_start(
            qualification=person.qualifications.get(),
            changes={"name": person.name + "甲"},
            reason="录入错误",
            requester=person.user,
        )


def _item(request, step="school_review"):
    return WorkItem.objects.get(flow="correction", subject_id=request.pk, step=step)


def _mails():
    return {m.to[0]: m for m in mail.outbox}


def _html(message):
    return str(message.alternatives[0][0])


def _path(url):
    assert url.startswith(django_settings.SITE_URL)
    return url.removeprefix(django_settings.SITE_URL.rstrip("/"))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _assert_no_id_number(world):
    for message in mail.outbox:
        assert world["person"].id_number not in f"{message.subject}{message.body}{_html(message)}"


def test_the_reminder_goes_to_the_schools_officers_at_remind_at_once(world, fire):
    request = _file(world)
    item = _item(request)
    assert (item.remind_at, item.due) == (REMIND, DUE)
    mail.outbox.clear()

    assert fire(REMIND - SECOND) == NOTHING
    assert mail.outbox == []
    assert fire(REMIND) == TimerCounts(reminded=1)
    assert fire(REMIND + SECOND) == NOTHING
    assert fire(DUE - SECOND) == NOTHING

    mails = _mails()
    assert len(mail.outbox) == 2
    assert sorted(mails) == ["o1@pku.example", "o2@pku.example"]
    zh, en = mails["o1@pku.example"], mails["o2@pku.example"]
    assert zh.subject == f"[学籍] 办理提醒：学历信息更正 #{request.pk}（学校审核）将于11月10日到期"
    assert "以下待办事项将于 2026年11月10日 10:00 到期" in zh.body
    assert "学生：王小明\n学校：北京大学\n" in zh.body
    assert en.subject == (
        f"[Xueji] Due on 10 November: Qualification correction #{request.pk} (School review)"
    )
    assert "The task below is due on 10 November 2026, 10:00." in en.body
    task_url = f"{django_settings.SITE_URL}/work/{item.pk}/"
    assert f"前往办理：{task_url}" in zh.body
    assert f'href="{task_url}"' in _html(en)
    assert _client(world["officer"]).get(_path(task_url)).status_code == 200
    _assert_no_id_number(world)
    item.refresh_from_db()
    assert (item.reminded_at, item.overdue_at, item.escalated_at) == (REMIND, None, None)
    assert (
        list(
            Notification.objects.filter(event="task_due_soon").values_list("object_key", flat=True)
        )
        == [f"workflows.workitem:{item.pk}"] * 2
    )


def test_the_outbox_key_keeps_a_reminder_single_even_if_the_item_is_chosen_again(world, fire):
    item = _item(_file(world))
    fire(REMIND)
    WorkItem.objects.filter(pk=item.pk).update(reminded_at=None)  # as if the mark were lost
    mail.outbox.clear()
    assert fire(REMIND + SECOND) == TimerCounts(reminded=1)
    assert mail.outbox == []


def test_a_claimed_task_reminds_only_its_holder(world, fire):
    item = _item(_file(world))
    with Task.objects.get(pk=item.pk).activation() as activation:
        activation.assign(world["officer_en"])
    fire(REMIND)
    assert sorted(_mails()) == ["o2@pku.example"]


def test_overdue_at_the_due_time_listed_and_counted(world, fire):
    request = _file(world)
    item = _item(request)
    fire(REMIND)
    assert fire(DUE - SECOND) == NOTHING
    item.refresh_from_db()
    assert item.overdue_at is None

    assert fire(DUE) == TimerCounts(overdue=1, escalated=1)
    marked = WorkItem.objects.get(pk=item.pk)
    assert (marked.overdue_at, marked.escalated_at) == (DUE, DUE)
    api = token_client(world["officer"])
    listed = api.get("/api/v1/tasks/?overdue=true").json()["results"]
    assert [(row["id"], row["subject"]["id"]) for row in listed] == [(item.pk, request.pk)]
    counts = api.get("/api/v1/tasks/counts/").json()["results"]
    assert {"flow": "correction", "step": "school_review", "open": 1, "overdue": 1} in counts
    # The kept counts follow: deciding the overdue task takes it off both counts.
    with time_machine.travel(DUE + SECOND, tick=False):
        work.decide(task_pk=item.pk, user=world["officer"], decision="approve")
    assert work.kept_counts() == [
        {k: row[k] for k in ("flow", "step", "school_id", "open", "overdue")}
        for row in work.recount()
    ]


def test_escalation_mails_the_provinces_administrators_once(world, fire):
    request = _file(world)
    item = _item(request)
    fire(REMIND)
    mail.outbox.clear()

    assert fire(DUE) == TimerCounts(overdue=1, escalated=1)
    assert fire(DUE + datetime.timedelta(days=3)) == NOTHING
    mails = _mails()
    assert len(mail.outbox) == 2
    assert sorted(mails) == ["p1@bj.example", "p2@bj.example"]  # not Shanghai's, not officers
    zh, en = mails["p1@bj.example"], mails["p2@bj.example"]
    assert zh.subject == f"[学籍] 超期督办：学历信息更正 #{request.pk}（学校审核）"
    assert "以下待办事项已超过办理期限，目前仍未办理完毕。" in zh.body
    assert "办理期限：2026年11月10日 10:00（UTC+0800）" in zh.body
    assert en.subject == (
        f"[Xueji] Overdue, please follow up: Qualification correction #{request.pk} (School review)"
    )
    # A school's task page is not the province's to open: they are sent to the request.
    request_url = f"{django_settings.SITE_URL}/corrections/{request.pk}/"
    assert f"查看详情：{request_url}" in zh.body
    assert _client(world["admin"]).get(_path(request_url)).status_code == 200
    assert _client(world["admin"]).get(f"/work/{item.pk}/").status_code == 404
    _assert_no_id_number(world)


def test_an_overdue_provincial_sign_off_sends_the_province_to_the_task(world, fire):
    request = _file(world)
    with time_machine.travel(FILED, tick=False):
        work.decide(task_pk=_item(request).pk, user=world["officer"], decision="approve")
    signoff = _item(request, "province_signoff")
    assert signoff.due == add_working_days(FILED, 10)
    mail.outbox.clear()

    assert fire(signoff.due) == TimerCounts(reminded=1, overdue=1, escalated=1)
    escalations = [m for m in mail.outbox if "超期督办" in m.subject or "Overdue" in m.subject]
    assert sorted(m.to[0] for m in escalations) == ["p1@bj.example", "p2@bj.example"]
    task_url = f"{django_settings.SITE_URL}/work/{signoff.pk}/"
    assert all(task_url in m.body for m in escalations)
    assert _client(world["admin"]).get(_path(task_url)).status_code == 200


def test_an_item_first_seen_after_its_due_time_is_reminded_as_past_due(world, fire):
    request = _file(world)
    assert fire(DUE + datetime.timedelta(days=1)) == TimerCounts(reminded=1, overdue=1, escalated=1)
    reminder = _mails()["o1@pku.example"]
    assert (
        reminder.subject == f"[学籍] 办理提醒：学历信息更正 #{request.pk}（学校审核）已超过办理期限"
    )
    assert "以下待办事项已超过办理期限，目前尚未办理完毕，请尽快办理。" in reminder.body
    assert _mails()["o2@pku.example"].subject.startswith("[Xueji] Past due: ")


def test_decided_and_withdrawn_tasks_get_nothing(world, fire):
    rejected = _file(world)
    login = factories.user("student_b")
    other = factories.student("李娜", login=login)
    factories.qualification(other, world["person"].qualifications.get().school)
    withdrawn = _file(world, person=other)
    with time_machine.travel(FILED + datetime.timedelta(hours=1), tick=False):
        work.decide(
            task_pk=_item(rejected).pk,
            user=world["officer"],
            decision="reject",
            comment="证据不足",
        )
        flow.correction_withdraw(request=withdrawn, user=login)
    mail.outbox.clear()

    assert fire(DUE + datetime.timedelta(days=30)) == NOTHING
    assert mail.outbox == []
    assert not WorkItem.objects.filter(reminded_at__isnull=False).exists()


def test_a_settings_override_changes_the_due_time(world, fire, settings):
    settings.WORKFLOW_DUE_DAYS = {"correction.school_review": 3}
    item = _item(_file(world))
    # Three working days after Tuesday 3 November: Friday 6 November; reminded on Wednesday.
    assert item.due == datetime.datetime(2026, 11, 6, 10, 0, tzinfo=SHANGHAI)
    assert item.remind_at == datetime.datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI)
    assert fire(item.remind_at - SECOND) == NOTHING
    assert fire(item.remind_at) == TimerCounts(reminded=1)
    assert fire(item.due) == TimerCounts(overdue=1, escalated=1)


def test_one_failing_item_is_logged_and_never_stops_the_others(world, fire, caplog):
    broken = _item(_file(world))
    other = factories.student("李娜", login=factories.user("student_b"))
    factories.qualification(other, world["person"].qualifications.get().school)
    fine = _item(_file(world, person=other))
    WorkItem.objects.filter(pk=broken.pk).update(step="retired_step")  # no flow declares it

    assert fire(REMIND, chunk=1) == TimerCounts(reminded=1, failed=1)
    assert f"work item {broken.pk} failed" in caplog.text
    assert WorkItem.objects.get(pk=fine.pk).reminded_at == REMIND
    assert WorkItem.objects.get(pk=broken.pk).reminded_at is None
    with time_machine.travel(REMIND, tick=False), pytest.raises(CommandError, match="1 work item"):
        call_command("workflow_timers", stdout=io.StringIO())


def test_a_chunk_holds_at_least_one_item():
    with pytest.raises(ValueError, match="chunk must be at least 1"):
        timers_fire(chunk=0)


def test_the_command_prints_its_counts(world):
    _file(world)
    out = io.StringIO()
    with time_machine.travel(DUE, tick=False):
        call_command("workflow_timers", stdout=out)
        call_command("workflow_timers", stdout=out)
    assert out.getvalue().splitlines() == [
        "reminded 1, overdue 1, escalated 1; viewflow: 0 timer(s), 0 start(s), 0 condition(s)",
        "reminded 0, overdue 0, escalated 0; viewflow: 0 timer(s), 0 start(s), 0 condition(s)",
    ]


def test_the_celery_task_runs_the_timers_and_beat_runs_it_every_five_minutes(world):
    _file(world)
    with time_machine.travel(REMIND, tick=False):
        result = workflow_timers.apply().get()
    assert result == {
        "reminded": 1,
        "overdue": 0,
        "escalated": 0,
        "failed": 0,
        "timers": 0,
        "starts": 0,
        "conditions": 0,
    }
    entry = django_settings.CELERY_BEAT_SCHEDULE["workflow-timers"]
    assert entry["task"] == workflow_timers.name
    assert entry["schedule"] == datetime.timedelta(minutes=5)


RUNNERS = 4
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
ITEMS = len(SURNAMES)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runners_share_the_items_and_never_double_them(places):
    bj = places.bj
    pku = places.pku
    factories.officer(pku, "officer_10001")
    factories.provincial_admin(bj, "province_11")
    for n, surname in enumerate(SURNAMES):
        login = factories.user(f"student_{n}")
        person = factories.student(surname + "明", login=login)
        factories.qualification(person, pku)
        with time_machine.travel(FILED, tick=False):
            flow.correction_start(
                qualification=person.qualifications.get(),
                changes={"name": person.name + "甲"},
                reason="录入错误",
                requester=login,
            )
    Notification.objects.all().delete()
    barrier = threading.Barrier(RUNNERS)
    results: list[TimerCounts | str] = []

    def run() -> None:
        try:
            barrier.wait(10)
            outcome: TimerCounts | str = timers_fire(now=DUE, chunk=3)
        except Exception as exc:
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(RUNNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert all(isinstance(r, TimerCounts) for r in results), results
    counts = [r for r in results if isinstance(r, TimerCounts)]
    assert sum(c.reminded for c in counts) == ITEMS
    assert sum(c.overdue for c in counts) == ITEMS
    assert sum(c.escalated for c in counts) == ITEMS
    assert Notification.objects.filter(event="task_due_soon").count() == ITEMS
    assert Notification.objects.filter(event="task_overdue").count() == ITEMS
    assert not WorkItem.objects.filter(escalated_at__isnull=True).exists()
