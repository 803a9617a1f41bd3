"""The shared process layer: step declarations, the work list with its filters, search and
counts, single and bulk decisions, for corrections and for the test-only leave process
(``tests/leave``), which plugs in by its declaration alone."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from permissions import roles
from permissions.services import grant_role
from records.choices import CorrectionState
from records.errors import ConflictError
from records.models import CorrectionRequest
from records.models import School
from records.models import User
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.leave.flows import leave_start
from tests.leave.models import LeaveRequest
from workflows import steps
from workflows import work
from workflows.deadlines import add_working_days
from workflows.deadlines import due_times
from workflows.flows import correction as flow
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj = places.bj
    pku = places.pku
    fdu = places.fdu
    people = {}
    for username, name in (("student_a", "王小明"), ("student_b", "李娜"), ("student_d", "王芳")):
        login = factories.user(username)
        people[username] = factories.student(name, login=login)
        factories.qualification(people[username], pku)
    return {
        "people": people,
        "officer": factories.officer(pku, "officer_10001"),
        "officer_b": factories.officer(pku, "officer_10001b"),
        "foreign_officer": factories.officer(fdu, "officer_10246"),
        "province": factories.provincial_admin(bj, "province_11"),
    }


def _correction(world, who="student_a", requester=None):
    person = world["people"][who]
    return flow.correction_start(
        qualification=person.qualifications.get(),
        changes={"name": person.name + "甲"},
        reason="录入错误",
        requester=requester or person.user,
    )


def _item(subject_id, flow_key="correction"):
    return WorkItem.objects.get(flow=flow_key, subject_id=subject_id, closed__isnull=True)


def test_both_flows_are_declared_with_stable_keys():
    assert {d.key for d in steps.declarations()} >= {"correction", "leave"}
    school_review = steps.step("correction.school_review")
    assert school_review is not None
    assert school_review.perm == "records.review_school"
    leave_review = steps.step("leave.review")
    assert leave_review is not None
    assert leave_review.due_period() == 3


def test_the_test_only_flow_is_listed_counted_and_decided_through_the_api(world):
    people = world["people"]
    leaves = [
        leave_start(student=people[who], days=3, requester=people[who].user)
        for who in ("student_a", "student_b", "student_d")
    ]
    api = token_client(world["officer"])
    rows = api.get("/api/v1/tasks/?flow=leave").json()["results"]
    assert [(r["flow"], r["step"], r["summary"]) for r in rows] == [
        ("leave", "review", "3 days")
    ] * 3
    assert rows[0]["subject"]["title"] == f"Leave #{leaves[-1].pk}"
    counts = api.get("/api/v1/tasks/counts/").json()["results"]
    assert {"flow": "leave", "step": "review", "open": 3, "overdue": 0} in counts

    one = api.post(f"/api/v1/tasks/{rows[0]['id']}/decide/", {"decision": "approve"}, format="json")
    assert one.status_code == 200, one.content
    bulk = api.post(
        "/api/v1/tasks/decide/",
        {"tasks": [rows[1]["id"], rows[2]["id"], rows[0]["id"]], "decision": "approve"},
        format="json",
    )
    assert bulk.status_code == 200, bulk.content
    results = bulk.json()["results"]
    assert results[:2] == [
        {"task": rows[1]["id"], "ok": True, "state": "approved"},
        {"task": rows[2]["id"], "ok": True, "state": "approved"},
    ]
    assert results[2]["ok"] is False
    assert results[2]["code"] == "already_decided"
    assert set(LeaveRequest.objects.values_list("state", flat=True)) == {"approved"}
    assert api.get("/api/v1/tasks/counts/").json()["results"][-1]["open"] == 0


def test_task_rows_say_what_the_task_is_and_filter(world):
    a = _correction(world, "student_a")
    b = _correction(world, "student_b")
    d = _correction(world, "student_d")
    api = token_client(world["officer"])

    def ids(query=""):
        return [r["subject"]["id"] for r in api.get(f"/api/v1/tasks/{query}").json()["results"]]

    assert ids() == [d.pk, b.pk, a.pk]
    assert ids("?ordering=created") == [a.pk, b.pk, d.pk]
    assert ids("?q=王") == [d.pk, a.pk]  # the start of a name
    assert ids("?q=李娜") == [b.pk]
    assert ids(f"?q=%23{b.pk}") == [b.pk]  # a request number
    cert = world["people"]["student_d"].qualifications.get().certificate_number
    assert ids(f"?q={cert}") == [d.pk]
    assert ids("?school=10246") == []
    assert ids("?step=province_signoff") == []
    assert ids("?flow=leave") == []
    assert work.mark_overdue(_item(a.pk), at=timezone.now())
    assert not work.mark_overdue(_item(a.pk), at=timezone.now())  # once
    assert ids("?overdue=true") == [a.pk]
    counts = api.get("/api/v1/tasks/counts/?school=10001").json()["results"]
    assert {"flow": "correction", "step": "school_review", "open": 3, "overdue": 1} in counts


def test_a_filter_value_the_list_does_not_take_names_the_filter(world):
    api = token_client(world["officer"])
    body = assert_error(api.get("/api/v1/tasks/?ordering=due"), 400, "invalid")
    assert list(body["fields"]) == ["ordering"]
    body = assert_error(api.get("/api/v1/tasks/?overdue=maybe"), 400, "invalid")
    assert list(body["fields"]) == ["overdue"]
    assert api.get("/api/v1/tasks/?overdue=false&ordering=created").status_code == 200


def test_the_requester_never_sees_their_own_request_in_their_queue(world):
    filed = _correction(world, "student_a", requester=world["officer"])
    assert filed.requester == world["officer"]
    assert list(work.open_items(world["officer"])) == []
    assert [i.subject_id for i in work.open_items(world["officer_b"])] == [filed.pk]


def test_an_officer_alone_at_the_school_cannot_file_on_a_students_behalf(world):
    world["officer_b"].delete()
    api = token_client(world["officer"])
    person = world["people"]["student_a"]
    response = api.post(
        "/api/v1/corrections/",
        {
            "qualification": person.qualifications.get().pk,
            "changes": {"name": "王晓明"},
            "reason": "录入错误",
        },
        format="json",
    )
    assert_error(response, 409, "no_other_reviewer")
    assert not CorrectionRequest.objects.exists()


def test_the_province_returns_a_request_to_the_school_with_its_comment(world):
    request = _correction(world)
    work.decide(task_pk=_item(request.pk).pk, user=world["officer"], decision="approve")
    signoff = _item(request.pk)
    with pytest.raises(ValidationError) as refused:  # a return needs a comment
        work.decide(task_pk=signoff.pk, user=world["province"], decision="return")
    assert list(refused.value.message_dict) == ["comment"]
    work.decide(
        task_pk=signoff.pk, user=world["province"], decision="return", comment="请补充户口本"
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
    again = _item(request.pk)
    assert again.step == "school_review"
    page = factories_client(world["officer"]).get(f"/work/{again.pk}/").content.decode()
    assert "请补充户口本" in page
    assert "省级退回学校重审" in page.split('id="timeline"')[1]  # the step in the glossary's words


def factories_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_bulk_refusals_never_undo_the_others(world):
    good = _correction(world, "student_a")
    done = _correction(world, "student_b")
    foreign = _correction(world, "student_d")
    work.decide(task_pk=_item(done.pk).pk, user=world["officer"], decision="approve")
    done_task = WorkItem.objects.get(subject_id=done.pk, step="school_review").pk
    results = work.decide_many(
        task_pks=[_item(good.pk).pk, done_task, _item(foreign.pk).pk, 999999],
        user=world["officer"],
        decision="reject",
        comment="",
    )
    assert [(r.ok, r.code) for r in results] == [
        (False, "invalid"),
        (False, "already_decided"),
        (False, "invalid"),
        (False, "not_found"),
    ]
    results = work.decide_many(
        task_pks=[_item(good.pk).pk, done_task, _item(foreign.pk).pk],
        user=world["officer"],
        decision="reject",
        comment="证据不足",
    )
    assert [(r.ok, r.state or r.code) for r in results] == [
        (True, "rejected"),
        (False, "already_decided"),
        (True, "rejected"),
    ]
    outsider = work.decide_many(
        task_pks=[_item(done.pk).pk], user=world["foreign_officer"], decision="approve"
    )
    assert [(r.ok, r.code) for r in outsider] == [(False, "not_found")]


def test_a_bulk_decision_takes_at_most_1000_tasks(world):
    api = token_client(world["officer"])
    response = api.post(
        "/api/v1/tasks/decide/",
        {"tasks": list(range(1, 1002)), "decision": "approve"},
        format="json",
    )
    assert_error(response, 400, "invalid")
    # 1,000 are taken, each answered on its own (none of these exists).
    response = api.post(
        "/api/v1/tasks/decide/",
        {"tasks": list(range(10**6, 10**6 + 1000)), "decision": "approve"},
        format="json",
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 1000
    assert {r["code"] for r in results} == {"not_found"}


def test_statements_per_task_of_a_bulk_decision_do_not_grow_with_the_tasks(world):
    school = world["people"]["student_a"].qualifications.get().school

    def statements(n):
        tasks: list[int] = []
        for _ in range(n):
            person = factories.student("赵" + "一二三四五六七八"[len(tasks)], login=None)
            factories.qualification(person, school)
            request = flow.correction_start(
                qualification=person.qualifications.get(),
                changes={"name": person.name + "乙"},
                reason="录入错误",
                requester=world["officer_b"],
            )
            tasks.append(_item(request.pk).pk)
        officer = User.objects.get(pk=world["officer"].pk)  # its grants not yet read
        with CaptureQueriesContext(connection) as queries:
            results = work.decide_many(task_pks=tasks, user=officer, decision="approve")
        assert all(r.ok for r in results)
        return len(queries)

    two, four, six = statements(2), statements(4), statements(6)
    # Linear: the same statements for every task, and a constant (the user's grants, read
    # once) besides.
    assert six - four == four - two
    assert (four - two) / 2 < 30


def test_due_times_count_working_days():
    tz = timezone.get_current_timezone()
    before_national_day = datetime.datetime(2026, 9, 30, 10, 0, tzinfo=tz)
    # 1-7 October 2026 are the National Day holidays; Saturday 10 October is a make-up
    # working day (the State Council's 2026 plan).
    assert add_working_days(before_national_day, 1).date() == datetime.date(2026, 10, 8)
    due, remind = due_times(before_national_day, 5)
    assert (due.date(), due.hour) == (datetime.date(2026, 10, 13), 10)
    assert remind.date() == datetime.date(2026, 10, 10)
    # A year chinese-calendar does not know yet: Monday to Friday.
    friday = datetime.datetime(2027, 3, 5, 9, 0, tzinfo=tz)
    assert add_working_days(friday, 1).date() == datetime.date(2027, 3, 8)


def test_a_conflict_names_its_code(world):
    request = _correction(world)
    item = _item(request.pk)
    work.decide(task_pk=item.pk, user=world["officer"], decision="approve")
    with pytest.raises(ConflictError) as exc:
        work.decide(task_pk=item.pk, user=world["officer"], decision="approve")
    assert exc.value.code == "already_decided"


def test_the_kept_counts_follow_every_change_of_the_items(world):
    a = _correction(world, "student_a")
    b = _correction(world, "student_b")
    d = _correction(world, "student_d")
    leave_start(student=world["people"]["student_a"], days=2, requester=world["officer_b"])
    work.mark_overdue(_item(a.pk), at=timezone.now())
    work.decide(task_pk=_item(a.pk).pk, user=world["officer"], decision="approve")  # overdue
    work.decide(task_pk=_item(b.pk).pk, user=world["officer"], decision="approve")
    work.mark_overdue(_item(b.pk), at=timezone.now())  # now at the province
    flow.correction_withdraw(request=d, user=world["people"]["student_d"].user)
    assert work.kept_counts() == [
        {k: row[k] for k in ("flow", "step", "school_id", "open", "overdue")}
        for row in work.recount()
    ]
    schools = work.with_counts(School.objects.filter(pk__in=["10001", "10246"]))
    annotated = [(s.code, s.open_tasks, s.overdue_tasks) for s in schools]  # type: ignore[attr-defined]
    assert annotated == [
        ("10001", 3, 1),
        ("10246", 0, 0),
    ]
    assert {"flow": "correction", "step": "province_signoff", "open": 2, "overdue": 1} in (
        work.counts(world["province"])
    )


def test_a_provincial_administrators_home_shows_each_schools_open_and_overdue_work(world):
    request = _correction(world, "student_a")
    _correction(world, "student_b")
    work.mark_overdue(_item(request.pk), at=timezone.now())
    page = factories_client(world["province"]).get("/home/").content.decode()
    row = page.split('id="schools"')[1].split("北京大学")[1].split("</tr>")[0]
    assert "<td>2</td>" in row
    assert 'class="xj-overdue">1<' in row


def test_the_work_list_page_decides_the_checked_tasks_and_names_only_what_it_may_show(world):
    mine = [_correction(world, who) for who in ("student_a", "student_b")]
    foreign_login = factories.user("student_f")
    foreign_person = factories.student("赵六", login=foreign_login)
    factories.qualification(foreign_person, factories.school("10246", "复旦大学", "31"))
    foreign = flow.correction_start(
        qualification=foreign_person.qualifications.get(),
        changes={"name": "赵陆"},
        reason="录入错误",
        requester=foreign_login,
    )
    client = factories_client(world["officer"])
    tasks = [_item(r.pk).pk for r in mine]
    response = client.post(
        "/work/?ordering=created",
        {"tasks": [*tasks, _item(foreign.pk).pk], "decision": "approve", "comment": ""},
    )
    assert response.status_code == 302  # a reload of the result decides nothing
    assert response["Location"] == "/work/?ordering=created"
    page = client.get(response["Location"]).content.decode()
    results = page.split('id="results"')[1].split("</div>")[0]
    assert results.count("已办结") == 2
    assert f"#{_item(foreign.pk).pk}" in results
    assert "赵六" not in results  # not the officer's to see
    assert "王小明" in results
    assert 'id="results"' not in client.get("/work/").content.decode()  # shown once
    empty = client.post("/work/", {"decision": "approve"})
    assert "请至少勾选一项待办。" in empty.content.decode()


def test_a_chunk_that_fails_whole_is_decided_one_at_a_time(world):
    """Forwarded requests signed off in bulk: one would give its person someone else's ID
    number, which the record service refuses only once the chunk has started writing. The
    chunk is rolled back and each task decided on its own: that one is refused, the others
    approved, and nothing of the refused one is written."""
    a = _correction(world, "student_a")
    b = _correction(world, "student_b")
    person_d = world["people"]["student_d"]
    other = factories.student("赵七", birth=person_d.birth_date, gender=person_d.gender)
    d = flow.correction_start(
        qualification=person_d.qualifications.get(),
        changes={"id_number": other.id_number},
        reason="录入错误",
        requester=person_d.user,
    )
    work.decide_many(
        task_pks=[_item(r.pk).pk for r in (a, b, d)], user=world["officer"], decision="approve"
    )
    results = work.decide_many(
        task_pks=[_item(r.pk).pk for r in (a, d, b)], user=world["province"], decision="approve"
    )
    assert [(r.ok, r.state or r.code) for r in results] == [
        (True, "approved"),
        (False, "invalid"),
        (True, "approved"),
    ]
    d.refresh_from_db()
    assert d.state == CorrectionState.SCHOOL_APPROVED
    assert _item(d.pk).step == "province_signoff"
    assert work.kept_counts() == [
        {k: row[k] for k in ("flow", "step", "school_id", "open", "overdue")}
        for row in work.recount()
    ]


def test_a_bulk_decision_writes_its_audit_events_and_emails_for_each_task(
    world, django_capture_on_commit_callbacks
):
    from django.core import mail

    from records.audit import verify_chains

    requests = [_correction(world, who) for who in ("student_a", "student_b", "student_d")]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        work.decide_many(
            task_pks=[_item(r.pk).pk for r in requests],
            user=world["officer"],
            decision="return",
            comment="请补充材料",
        )
    for request in requests:
        request.refresh_from_db()
        assert request.state == CorrectionState.RETURNED
    assert verify_chains().first_break is None
    returned = [m for m in mail.outbox if "退回" in m.subject or "returned" in m.subject]
    assert len(returned) == 3  # each student hears of their own request


def test_the_provinces_step_is_never_decided_by_whoever_decided_the_schools(world, places):
    """One user holding both grants decides the school's review; the province's sign-off
    leaves them out of its work list and refuses them, single and in bulk, and another
    administrator signs off."""
    both = world["officer"]
    grant_role(both, roles.PROVINCIAL_ADMIN, places.bj)
    both = User.objects.get(pk=both.pk)
    first, second = _correction(world), _correction(world, "student_b")
    for request in (first, second):
        work.decide(task_pk=_item(request.pk).pk, user=both, decision="approve")
    signoffs = [_item(first.pk), _item(second.pk)]
    assert {i.step for i in signoffs} == {"province_signoff"}
    assert {i.excluded_id for i in signoffs} == {both.pk}
    assert not work.open_items(both).filter(pk__in=[i.pk for i in signoffs]).exists()
    assert work.may_decide(both, "correction", first.pk) is False
    assert work.may_decide(world["province"], "correction", first.pk) is True

    with pytest.raises(PermissionDenied):
        work.decide(task_pk=signoffs[0].pk, user=both, decision="approve")
    results = work.decide_many(task_pks=[signoffs[1].pk], user=both, decision="approve")
    assert [(r.ok, r.code) for r in results] == [(False, "permission_denied")]
    api = token_client(both)
    response = api.post(
        f"/api/v1/tasks/{signoffs[0].pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert CorrectionRequest.objects.get(pk=first.pk).state == CorrectionState.SCHOOL_APPROVED

    work.decide(task_pk=signoffs[0].pk, user=world["province"], decision="approve")
    assert CorrectionRequest.objects.get(pk=first.pk).state == CorrectionState.APPROVED
