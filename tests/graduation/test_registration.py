"""Qualification registration from the student status (issue 11 item 1): a cohort opened with
its process, drafts prepared from the enrolled statuses (all at once and per student), every
check before registration as an error per student, registration in chunks (qualifications,
their first revisions, statuses graduated or completed, the audit event, the emails, the
task), and the photo gate with the province's approval of the school's re-check."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction

from records.audit import verify_chains
from records.choices import GraduateResult
from records.choices import GraduationCohortState
from records.choices import GraduationResult
from records.choices import IdentityCheck
from records.choices import QualificationStatus
from records.choices import RecheckState
from records.choices import StatusState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.graduation import services
from records.models import AuditEvent
from records.models import PhotoRecheck
from records.models import Qualification
from records.models import Student
from records.models import StudentStatus
from records.models import identity_writes
from records.qualifications import certificate_errors
from records.verification import reports
from tests import factories
from tests.graduation import cohorts as g
from workflows import work
from workflows.flows import graduation as flow
from workflows.models import QualificationRegistrationProcess
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return g.world(places)


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _register(w, cohort):
    return flow.cohort_register(cohort=cohort, user=w.officer)


def _prepared(w, cohort, *statuses, **kw):
    results = g.prepare(w.officer, cohort, *[g.item(s, **kw) for s in statuses])
    assert all(r["ok"] for r in results), results
    return [g.draft_of(s) for s in statuses]


# --- the cohort and its process -------------------------------------------------------------


def test_opening_a_cohort_starts_its_process_with_the_schools_task(w, places):
    cohort = g.open_cohort(w.officer, places.pku)
    assert (cohort.state, cohort.principal_name) == (GraduationCohortState.PREPARING, "龚旗煌")
    assert QualificationRegistrationProcess.objects.filter(cohort=cohort).count() == 1
    item = g.task_item(cohort)
    assert (item.scope_id, item.closed) == ("10001", None)
    # The task is due on the graduation date (即时注册): the start of the next day.
    assert item.due == cohort.deadline
    again, created = flow.cohort_open(
        school=places.pku, graduation_date=g.GRADUATION, principal_name="龚旗煌", user=w.officer
    )
    assert (again.pk, created) == (cohort.pk, False)
    assert QualificationRegistrationProcess.objects.count() == 1


def test_only_an_officer_of_the_school_opens_it_with_a_principals_name(w, places):
    with pytest.raises(PermissionDenied):
        g.open_cohort(w.thu_officer, places.pku)
    with pytest.raises(ValidationError) as refused:
        flow.cohort_open(
            school=places.pku, graduation_date=g.GRADUATION, principal_name=" ", user=w.officer
        )
    assert "principal_name" in refused.value.message_dict
    for date in (datetime.date(2001, 7, 1), datetime.date(9999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            flow.cohort_open(
                school=places.pku, graduation_date=date, principal_name="龚旗煌", user=w.officer
            )
        assert refused.value.message_dict["graduation_date"]


# --- preparing ------------------------------------------------------------------------------


def test_prepare_all_copies_every_due_status_into_a_draft_with_the_next_numbers(w, places):
    due = g.graduands(3)
    later = g.graduand(entry=datetime.date(2024, 9, 1))  # due in 2028
    g.graduand(state=StatusState.SUSPENDED)
    g.graduand("10003")
    cohort = g.open_cohort(w.officer, places.pku)
    assert services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer) == 3
    assert services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer) == 0
    drafts = list(Qualification.objects.filter(cohort=cohort).order_by("certificate_number"))
    assert {d.student_status_id for d in drafts} == {s.pk for s in due}
    assert not Qualification.objects.filter(student_status=later).exists()
    assert [d.certificate_number for d in drafts] == [f"100011202705{n:06d}" for n in (1, 2, 3)]
    for draft in drafts:
        status = draft.student_status
        person = status.student
        assert draft.status == QualificationStatus.DRAFT
        assert (draft.name, draft.id_number, draft.photo.name) == (
            person.name,
            person.id_number,
            person.photo.name,
        )
        assert (draft.major_code, draft.level, draft.start_date) == (
            status.major_code,
            status.level,
            status.entry_date,
        )
        assert (draft.graduation_date, draft.principal_name) == (g.GRADUATION, "龚旗煌")
        assert draft.graduation_result == GraduationResult.GRADUATED
        assert not certificate_errors(
            draft.certificate_number,
            school_code="10001",
            education_type=draft.education_type,
            issue_year=2027,
            level=draft.level,
        )
    event = AuditEvent.objects.filter(action="graduation.prepared").latest("pk")
    assert len(event.data["prepared"]) == 3
    assert verify_chains().first_break is None


def test_prepare_records_each_students_decision_on_its_own(w, places):
    a, b, c, other = [*g.graduands(3), g.graduand("10003")]
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    results = g.prepare(
        w.officer,
        cohort,
        g.item(a, GraduateResult.COMPLETED, identity_check=IdentityCheck.UNCERTAIN),
        g.item(b, GraduateResult.NONE),
        g.item(c, certificate_number="100011202705000009", minor_note="辅修：经济学"),
        g.item(other),
        g.item(a),
    )
    assert [r["ok"] for r in results] == [True, True, True, False, False]
    assert [r.get("code") for r in results[3:]] == ["not_found", "repeated"]
    assert results[1]["qualification"] is None
    draft_a, draft_c = g.draft_of(a), g.draft_of(c)
    assert (draft_a.graduation_result, draft_a.identity_check) == (
        GraduationResult.COMPLETED,
        IdentityCheck.UNCERTAIN,
    )
    assert not Qualification.objects.filter(student_status=b).exists()  # discarded
    assert (draft_c.certificate_number, draft_c.minor_note) == (
        "100011202705000009",
        "辅修：经济学",
    )


def test_a_certificate_number_must_follow_its_rules_and_be_unused(w, places):
    a, b = g.graduands(2)
    cohort = g.open_cohort(w.officer, places.pku)
    factories.qualification(
        certificate_number="100011202705000077", graduation_date=datetime.date(2027, 6, 30)
    )
    results = g.prepare(
        w.officer,
        cohort,
        g.item(a, certificate_number="100011202605000001"),  # another year
        g.item(b, certificate_number="100011202705000077"),  # taken
    )
    assert [(r["ok"], r["field"], r["code"]) for r in results] == [
        (False, "certificate_number", "year"),
        (False, "certificate_number", "unique"),
    ]
    assert "2027" in results[0]["detail"]
    assert not Qualification.objects.filter(cohort=cohort).exists()


def test_a_status_concludes_in_one_qualification_of_its_level(w, places):
    status = g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    _prepared(w, cohort, status)
    services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    with transaction.atomic(), identity_writes("test setup"):
        StudentStatus.objects.filter(pk=status.pk).update(state=StatusState.ENROLLED)
    later = g.open_cohort(w.officer, places.pku, datetime.date(2027, 12, 31))
    [result] = g.prepare(w.officer, later, g.item(status))
    assert (result["ok"], result["code"]) == (False, "second_qualification")
    # The database says so too, whatever the path.
    registered = g.draft_of(status)
    fields = {
        f.attname: getattr(registered, f.attname)
        for f in Qualification._meta.concrete_fields
        if f.attname not in ("id", "status")
    }
    fields["certificate_number"] = "100011202705000099"
    with pytest.raises(IntegrityError), transaction.atomic():
        Qualification.objects.bulk_create([Qualification(**fields)])


def test_a_status_no_longer_enrolled_is_not_prepared(w, places):
    status = g.graduand(state=StatusState.WITHDRAWN)
    cohort = g.open_cohort(w.officer, places.pku)
    [result] = g.prepare(w.officer, cohort, g.item(status))
    assert (result["ok"], result["code"]) == (False, "not_enrolled")


def test_another_schools_officer_prepares_and_registers_nothing(w, places):
    g.graduands(2)
    cohort = g.open_cohort(w.officer, places.pku)
    for act in (
        lambda: services.prepare_all(cohort_pk=cohort.pk, acting_user=w.thu_officer),
        lambda: services.cohort_register(cohort_pk=cohort.pk, acting_user=w.thu_officer),
    ):
        with pytest.raises(NotVisibleError):
            act()
    with pytest.raises(PermissionDenied):  # sees the province's cohorts, acts for no school
        services.prepare_all(cohort_pk=cohort.pk, acting_user=w.admin)
    assert not Qualification.objects.filter(cohort=cohort).exists()


# --- registering ----------------------------------------------------------------------------


def test_registering_the_cohort_concludes_each_status_and_tells_each_graduate(w, places, mailed):
    a, b, c = g.graduands(3)
    g.with_account(a, "stu_a")
    g.with_account(b, "stu_b", language="en")
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    g.prepare(w.officer, cohort, g.item(b, GraduateResult.COMPLETED))
    result = mailed(_register, w, cohort)
    assert (result.registered, result.held, result.errors) == (3, 0, [])
    states = dict(
        StudentStatus.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("pk", "state")
    )
    assert states == {
        a.pk: StatusState.GRADUATED,
        b.pk: StatusState.COMPLETED,
        c.pk: StatusState.GRADUATED,
    }
    for status in (a, b, c):
        qualification = g.draft_of(status)
        assert qualification.status == QualificationStatus.REGISTERED
        assert qualification.registered_at is not None
        [revision] = qualification.revisions.all()
        stored = {
            k: (v.isoformat() if isinstance(v, datetime.date) else v)
            for k, v in qualification.content().items()
        }
        assert (revision.number, revision.content, revision.approved_by) == (1, stored, w.officer)
    event = AuditEvent.objects.get(action="graduation.registered")
    assert event.data["count"] == 3
    assert {row[1] for row in event.data["registered"]} == {a.pk, b.pk, c.pk}
    assert verify_chains().first_break is None
    # The graduates with an account, each in their language; never an ID number.
    assert sorted(m.to[0] for m in mail.outbox) == ["stu_a@stu.example", "stu_b@stu.example"]
    english = next(m for m in mail.outbox if m.to == ["stu_b@stu.example"])
    assert "Your qualification is registered" in english.subject
    assert "Completed without graduating" in english.body
    assert "10001 1 2027 05 00000" in english.body  # the certificate number in its parts
    chinese = next(m for m in mail.outbox if m.to == ["stu_a@stu.example"])
    assert "您的学历已注册" in chinese.subject
    for message in mail.outbox:
        assert a.student.id_number not in message.body
        assert b.student.id_number not in message.body
    # The school's task is done, and the cohort registered.
    cohort.refresh_from_db()
    assert cohort.state == GraduationCohortState.REGISTERED
    assert g.task_item(cohort).closed is not None


def _problems(result, status):
    [error] = [e for e in result.errors if e.status == status.pk]
    return {(p.field, p.code) for p in error.problems}, error


def test_every_check_refuses_its_own_graduate_with_a_clear_error(w, places):
    ok, renamed, moved, withdrawn, no_photo, wrong_date, bad_number, other_level = g.graduands(8)
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    with transaction.atomic(), identity_writes("test setup"):
        Student.objects.filter(pk=renamed.student_id).update(name="改名后")
        StudentStatus.objects.filter(pk=moved.pk).update(major_code="080902", major_name="软件工程")
        StudentStatus.objects.filter(pk=withdrawn.pk).update(state=StatusState.WITHDRAWN)
        StudentStatus.objects.filter(pk=other_level.pk).update(level="master")
    drafts = Qualification.objects.filter(cohort=cohort)
    drafts.filter(student_status=no_photo).update(photo="")
    drafts.filter(student_status=wrong_date).update(graduation_date=datetime.date(2027, 7, 1))
    drafts.filter(student_status=bad_number).update(certificate_number="200011202705000001")
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert result.registered == 1
    assert g.draft_of(ok).status == QualificationStatus.REGISTERED
    expected = {
        renamed: {("name", "identity_differs")},
        moved: {("major_code", "programme_differs"), ("major_name", "programme_differs")},
        withdrawn: {("student_status", "status_state")},
        no_photo: {("photo", "photo_missing")},
        wrong_date: {("graduation_date", "issue_date")},
        bad_number: {("certificate_number", "school")},
        other_level: {("level", "status_level")},
    }
    for status, problems in expected.items():
        found, error = _problems(result, status)
        assert found == problems, (status, found)
        assert g.draft_of(status).status == QualificationStatus.DRAFT
        assert error.name
        assert error.student_number == status.student_number
    _found, renamed_error = _problems(result, renamed)
    assert "改名后" in renamed_error.problems[0].message  # the status record's value
    _found, date_error = _problems(result, wrong_date)
    assert "2027-06-30" in date_error.problems[0].message
    assert StudentStatus.objects.get(pk=withdrawn.pk).state == StatusState.WITHDRAWN


def test_a_status_of_another_school_or_person_is_refused(w, places):
    mine, theirs_status, someone = g.graduand(), g.graduand("10003"), g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    drafts = Qualification.objects.filter(cohort=cohort)
    drafts.filter(student_status=mine).update(student_status=theirs_status)
    drafts.filter(student_status=someone).update(student_id=mine.student_id)
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert result.registered == 0
    codes = {p.code for e in result.errors for p in e.problems}
    assert {"status_school", "status_person"} <= codes


def test_an_error_is_registered_once_corrected(w, places):
    status = g.graduand(photo=False)
    cohort = g.open_cohort(w.officer, places.pku)
    _prepared(w, cohort, status)
    first = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert (first.registered, len(first.errors)) == (0, 1)
    Qualification.objects.filter(student_status=status).update(photo="photos/q/1.jpg")
    again = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert (again.registered, again.errors) == (1, [])


def test_registration_goes_in_chunks_each_its_own_transaction(w, places, monkeypatch):
    statuses = g.graduands(5)
    cohort = g.open_cohort(w.officer, places.pku)
    monkeypatch.setattr(services, "CHUNK", 2)
    assert services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer) == 5
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert result.registered == 5
    events = AuditEvent.objects.filter(action="graduation.registered").order_by("pk")
    assert [e.data["count"] for e in events] == [2, 2, 1]
    assert (
        StudentStatus.objects.filter(
            pk__in=[s.pk for s in statuses], state=StatusState.GRADUATED
        ).count()
        == 5
    )


def test_a_registered_qualification_is_public_from_its_issue_date(w, places):
    status = g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    [draft] = _prepared(w, cohort, status)
    with time_machine.travel(datetime.datetime(2027, 6, 1, 12, tzinfo=datetime.UTC)):
        services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
        with pytest.raises(NotVisibleError):
            reports.certificate_check(draft.certificate_number, draft.name, "192.0.2.1")
    with time_machine.travel(datetime.datetime(2027, 6, 30, 12, tzinfo=datetime.UTC)):
        found = reports.certificate_check(draft.certificate_number, draft.name, "192.0.2.1")
        assert found.pk == draft.pk


# --- the photo gate -------------------------------------------------------------------------


def test_a_flagged_graduate_is_held_until_the_province_approves_the_schools_recheck(
    w, places, mailed
):
    _fine, flagged = g.graduands(2)
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    g.prepare(w.officer, cohort, g.item(flagged, identity_check=IdentityCheck.FAILED))
    result = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert (result.registered, result.held, result.errors) == (1, 1, [])
    draft = g.draft_of(flagged)
    assert draft.status == QualificationStatus.DRAFT
    assert services.counts(cohort)["held"] == 1
    # The school re-checks; the province's task opens, its administrators are told.
    recheck = mailed(
        flow.recheck_file,
        qualification_pk=draft.pk,
        finding="核对身份证原件并面谈，确认为本人",
        user=w.officer,
    )
    assert [m.to for m in mail.outbox] == [["p@bj.example"]]
    assert "身份复核" in mail.outbox[0].subject
    item = g.recheck_item(recheck.pk)
    assert (item.scope_id, item.student_name) == ("11", draft.name)
    # A second re-check waits for this one.
    with pytest.raises(ConflictError) as pending:
        flow.recheck_file(qualification_pk=draft.pk, finding="again", user=w.officer)
    assert pending.value.code == "recheck_pending"
    # Until the province decides, registering again registers nothing.
    assert services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer).held == 1
    # The province refuses: still held, the officer is told why.
    mailed(
        work.decide,
        task_pk=item.pk,
        user=w.admin,
        decision="refuse",
        comment="请补充公安机关证明",
    )
    assert PhotoRecheck.objects.get(pk=recheck.pk).state == RecheckState.REFUSED
    assert [m.to for m in mail.outbox] == [["o1@pku.example"]]
    assert "请补充公安机关证明" in mail.outbox[0].body
    assert services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer).held == 1
    # Re-checked again and approved (同意备案): released, then registered.
    second = flow.recheck_file(
        qualification_pk=draft.pk, finding="已补充公安机关证明", user=w.officer
    )
    mailed(work.decide, task_pk=g.recheck_item(second.pk).pk, user=w.admin, decision="approve")
    assert "同意备案" in mail.outbox[0].subject
    assert g.draft_of(flagged).identity_cleared_at is not None
    again = services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer)
    assert (again.registered, again.held) == (1, 0)
    assert StudentStatus.objects.get(pk=flagged.pk).state == StatusState.GRADUATED


def test_only_a_held_graduate_is_rechecked_and_only_by_the_province(w, places):
    fine, flagged = g.graduands(2)
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    g.prepare(w.officer, cohort, g.item(flagged, identity_check=IdentityCheck.UNCERTAIN))
    with pytest.raises(ConflictError) as not_held:
        flow.recheck_file(qualification_pk=g.draft_of(fine).pk, finding="x", user=w.officer)
    assert not_held.value.code == "not_held"
    with pytest.raises(ValidationError) as blank:
        flow.recheck_file(qualification_pk=g.draft_of(flagged).pk, finding=" ", user=w.officer)
    assert "finding" in blank.value.message_dict
    with pytest.raises(NotVisibleError):
        flow.recheck_file(qualification_pk=g.draft_of(flagged).pk, finding="x", user=w.thu_officer)
    recheck = flow.recheck_file(
        qualification_pk=g.draft_of(flagged).pk, finding="核对无误", user=w.officer
    )
    item = g.recheck_item(recheck.pk)
    for user in (w.officer, w.officer_b, w.admin_sh):  # the school, another province
        with pytest.raises((PermissionDenied, NotVisibleError)):
            work.decide(task_pk=item.pk, user=user, decision="approve")
    # A pending re-check's draft is not discarded.
    [result] = g.prepare(w.officer, cohort, g.item(flagged, GraduateResult.NONE))
    assert (result["ok"], result["code"]) == (False, "recheck_pending")


def test_changing_the_comparison_after_an_approval_holds_the_graduate_again(w, places):
    flagged = g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    _prepared(w, cohort, flagged, identity_check=IdentityCheck.FAILED)
    recheck = flow.recheck_file(
        qualification_pk=g.draft_of(flagged).pk, finding="核对无误", user=w.officer
    )
    work.decide(task_pk=g.recheck_item(recheck.pk).pk, user=w.admin, decision="approve")
    g.prepare(w.officer, cohort, g.item(flagged, identity_check=IdentityCheck.UNCERTAIN))
    assert services.cohort_register(cohort_pk=cohort.pk, acting_user=w.officer).held == 1


def test_the_registration_task_is_decided_from_the_work_list_too(w, places):
    status = g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    _prepared(w, cohort, status)
    work.decide(task_pk=g.task_item(cohort).pk, user=w.officer, decision="register")
    assert g.draft_of(status).status == QualificationStatus.REGISTERED
    cohort.refresh_from_db()
    assert cohort.state == GraduationCohortState.REGISTERED
    assert WorkItem.objects.filter(flow="qualification_registration", closed=None).count() == 0
