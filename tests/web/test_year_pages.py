"""The academic-year registration's pages: the rounds' list (a province's administrators see
every school's, with counts and what is overdue), a round's page for its officers (counts,
"register everyone enrolled", its students by registration state with check boxes to defer
with a reason or register), the round's task in the work list, and the student's
registrations on their home page; in Chinese and in English."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from records.choices import StatusState
from records.models import YearRegistration
from records.models import YearRegistrationRound
from tests.workflows import years as y

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _states(*statuses):
    found = dict(
        YearRegistration.objects.filter(status__in=[s.pk for s in statuses]).values_list(
            "status_id", "state"
        )
    )
    return [found.get(s.pk, "unregistered") for s in statuses]


def test_the_province_sees_every_schools_round_with_its_counts_and_whats_overdue(places):
    w = y.world(places)
    (a, _b) = y.enrolled(2)
    y.enrolled(3, school="10003")
    y.enrolled(1, school="10246")
    mine = y.open_round()
    theirs = y.open_round("10003")
    y.open_round("10246")
    y.record(w.officer, mine, y.outcome(a, "deferred", "欠费"))

    with time_machine.travel(y.DEADLINE + datetime.timedelta(days=1), tick=False):
        html = _client(w.admin).get("/years/").content.decode()

    assert "北京大学" in html
    assert "清华大学" in html
    assert "复旦大学" not in html  # another province
    assert f'href="/years/{mine.pk}/"' in html
    assert f'href="/years/{theirs.pk}/?state=unregistered">3</a>' in html
    assert html.count('class="xj-row--overdue"') == 2
    assert 'name="action" value="open"' not in html  # administrators open nothing
    w.admin.language = "en"
    w.admin.save(update_fields=["language"])
    english = _client(w.admin).get("/years/").content.decode()
    assert "Neither registered nor deferred" in english
    assert "Academic-year registration" in english
    assert _client(w.fdu_officer).get(f"/years/{mine.pk}/").status_code == 404


def test_an_officer_opens_their_schools_round_early(places):
    w = y.world(places)
    with time_machine.travel(datetime.datetime(2027, 8, 20, 9, tzinfo=y.SHANGHAI), tick=False):
        officer = _client(w.officer)
        html = officer.get("/years/").content.decode()
        assert "开启北京大学 2027–2028 学年注册" in html
        opened = officer.post("/years/", {"action": "open", "school": "10001", "year": "2027"})
    year_round = YearRegistrationRound.objects.get()
    assert opened["Location"] == f"/years/{year_round.pk}/"
    assert (year_round.school_id, year_round.academic_year) == ("10001", 2027)
    refused = _client(w.thu_officer).post(
        "/years/", {"action": "open", "school": "10001", "year": "2027"}
    )
    assert refused.status_code == 404


def test_checked_students_are_deferred_with_a_reason_named_in_the_result(places):
    w = y.world(places)
    a, b, c = y.enrolled(3)
    year_round = y.open_round()
    officer = _client(w.officer)
    page = officer.get(f"/years/{year_round.pk}/").content.decode()
    assert f'name="statuses" value="{a.pk}"' in page
    assert "为全体在籍学生注册" in page
    assert a.student.id_number not in page

    done = officer.post(
        f"/years/{year_round.pk}/?state=unregistered",
        {
            "action": "outcomes",
            "statuses": [a.pk, b.pk],
            "outcome": "deferred",
            "reason": "未缴学费",
        },
    )

    assert done.status_code == 302
    assert done["Location"] == f"/years/{year_round.pk}/?state=unregistered"
    assert _states(a, b, c) == ["deferred", "deferred", "unregistered"]
    shown = officer.get(done["Location"]).content.decode()
    assert f"{a.student.name} ({a.student_number}): 暂缓注册" in shown
    assert f'name="statuses" value="{a.pk}"' not in shown  # the list shows the unregistered
    assert f'name="statuses" value="{c.pk}"' in shown
    again = officer.get(done["Location"]).content.decode()
    assert 'id="results"' not in again  # said once
    deferred = officer.get(f"/years/{year_round.pk}/?state=deferred").content.decode()
    assert "未缴学费" in deferred
    assert f'name="statuses" value="{a.pk}"' in deferred  # a deferred student may be registered

    later = officer.post(
        f"/years/{year_round.pk}/?state=deferred",
        {"action": "outcomes", "statuses": [a.pk], "outcome": "registered"},
    )
    assert later.status_code == 302
    assert _states(a, b, c) == ["registered", "deferred", "unregistered"]


def test_a_missing_reason_is_said_at_the_field_and_keeps_the_rows_checked(places):
    w = y.world(places)
    a, b = y.enrolled(2)
    year_round = y.open_round()
    w.officer.language = "en"
    w.officer.save(update_fields=["language"])

    response = _client(w.officer).post(
        f"/years/{year_round.pk}/",
        {"action": "outcomes", "statuses": [a.pk, b.pk], "outcome": "deferred", "reason": " "},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert "Give the reason for deferring the registration." in html
    label = f"{a.student.name} {a.student_number}"
    assert f'value="{a.pk}" id="pick-{a.pk}" aria-label="{label}" checked' in html
    assert _states(a, b) == ["unregistered", "unregistered"]
    nothing = _client(w.officer).post(
        f"/years/{year_round.pk}/", {"action": "outcomes", "outcome": "registered"}
    )
    assert "Check at least one student." in nothing.content.decode()


def test_register_everyone_enrolled_and_the_result_said_once(places):
    w = y.world(places)
    statuses = y.enrolled(3)
    suspended = y.status(state=StatusState.SUSPENDED)
    year_round = y.open_round()
    officer = _client(w.officer)

    done = officer.post(f"/years/{year_round.pk}/", {"action": "register"})

    assert done.status_code == 302
    assert _states(*statuses, suspended) == ["registered"] * 3 + ["unregistered"]
    html = officer.get(done["Location"]).content.decode()
    assert "已为 3 名学生办理学年注册。" in html
    assert "已完成" in html
    assert 'value="register"' not in html  # nobody is left to register
    assert "已为 3 名学生" not in officer.get(done["Location"]).content.decode()


def test_the_province_looks_without_acting_and_other_schools_get_404(places):
    w = y.world(places)
    (a,) = y.enrolled(1)
    year_round = y.open_round()

    admin = _client(w.admin)
    html = admin.get(f"/years/{year_round.pk}/").content.decode()
    assert a.student.name in html
    assert 'name="statuses"' not in html
    assert 'value="register"' not in html
    assert admin.post(f"/years/{year_round.pk}/", {"action": "register"}).status_code == 403
    outcomes = {"action": "outcomes", "statuses": [a.pk], "outcome": "registered"}
    assert admin.post(f"/years/{year_round.pk}/", outcomes).status_code == 403
    for stranger in (w.thu_officer, w.admin_sh):
        assert _client(stranger).get(f"/years/{year_round.pk}/").status_code == 404
        assert _client(stranger).post(f"/years/{year_round.pk}/", outcomes).status_code == 404
    assert _states(a) == ["unregistered"]


def test_past_the_deadline_the_officers_see_who_is_left(places):
    w = y.world(places)
    a, b = y.enrolled(2)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(a, "registered"))

    with time_machine.travel(y.DEADLINE + datetime.timedelta(hours=1), tick=False):
        html = (
            _client(w.officer).get(f"/years/{year_round.pk}/?state=unregistered").content.decode()
        )

    assert "已过截止时间：仍有 1 名在籍学生既未注册也未暂缓注册" in html
    assert b.student.name in html
    assert a.student.name not in html


def test_the_rounds_task_shows_its_counts_and_registers_from_the_work_list(places):
    w = y.world(places)
    y.enrolled(2)
    year_round = y.open_round()
    item = y.task_item(year_round)
    officer = _client(w.officer)

    assert f"/work/{item.pk}/" in officer.get("/work/").content.decode()
    html = officer.get(f"/work/{item.pk}/").content.decode()
    assert "2027–2028 学年" in html
    assert "有 2 名在籍学生既未注册也未暂缓注册" in html
    assert "为全体在籍学生注册" in html  # the step's one decision
    assert f'href="/years/{year_round.pk}/"' in html
    done = officer.post(f"/work/{item.pk}/", {"decision": "register", "comment": ""})
    assert done.status_code == 302
    assert YearRegistration.objects.filter(state="registered").count() == 2
    year_round.refresh_from_db()
    assert year_round.state == "completed"


def test_the_student_sees_their_registrations_on_their_home_page(places):
    w = y.world(places)
    mine, other = y.enrolled(2)
    login = y.with_account(mine, "stu_a")
    first = y.open_round()
    y.record(w.officer, first, y.outcome(mine, "registered"), y.outcome(other, "deferred", "欠费"))
    second = y.open_round(year=2028, at=y.OPENED.replace(year=2028))
    y.record(w.officer, second, y.outcome(mine, "deferred", "逾期未报到且未请假"))

    html = _client(login).get("/home/").content.decode()

    assert "2027–2028 学年注册" in html
    assert "2028–2029 学年注册" in html
    assert html.index("2028–2029 学年注册") < html.index("2027–2028 学年注册")  # newest first
    assert "逾期未报到且未请假" in html
    assert "符合注册条件后，学校将为您办理注册。" in html
    assert "欠费" not in html  # someone else's
    login.language = "en"
    login.save(update_fields=["language"])
    english = _client(login).get("/home/").content.decode()
    assert "Registration 2027–2028" in english
