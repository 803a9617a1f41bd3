"""IdentityChangeFlow driven through its services and the shared work list, as the API and
the pages drive it: school review then the province, the change applied with the old values
kept (the person's history, the status's chain, the request), each rule and validation error
naming its field, returns, withdrawal, emails."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from viewflow.workflow.status import PROCESS

from records.audit import verify_chains
from records.choices import CorrectionState
from records.choices import Gender
from records.choices import StatusState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import IdentityChangeRequest
from records.models import Student
from records.models import StudentStatus
from records.models import identity_writes
from records.people import person_history
from records.status_changes.history import status_history
from tests import factories
from tests import identity_changes as ic
from workflows import work
from workflows.flows import identity_change as flow
from workflows.flows.identity_change import IdentityChangeFlow
from workflows.models import IdentityChangeProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return ic.world(places)


def _decide(request, node, user, decision="approve", comment=""):
    return work.decide(
        task_pk=ic.task(request, node).pk, user=user, decision=decision, comment=comment
    )


def _nodes(request):
    process = IdentityChangeProcess.objects.get(request=request)
    return [t.flow_task.name for t in process.task_set.order_by("pk")]


def test_a_name_change_passes_the_school_and_the_province_and_keeps_the_old_name(w):
    old_id = w.status.student.id_number
    request = ic.file(w)
    assert request.state == CorrectionState.SUBMITTED
    assert request.changes == [{"field": "name", "old": "王小明", "new": "王晓明"}]
    assert [e.original_name for e in request.evidence.all()] == ["派出所证明.pdf"]
    review = ic.task(request, IdentityChangeFlow.school_review)
    assert [i.pk for i in work.open_items(w.officer)] == [review.pk]
    assert list(work.open_items(w.province)) == []

    forwarded = work.decide(task_pk=review.pk, user=w.officer, decision="approve")
    assert forwarded.state == CorrectionState.SCHOOL_APPROVED
    assert Student.objects.get(pk=w.status.student_id).name == "王小明"  # not yet
    confirm = ic.task(request, IdentityChangeFlow.province_confirm)
    assert [i.pk for i in work.open_items(w.province)] == [confirm.pk]
    assert list(work.open_items(w.foreign_province)) == []

    done = work.decide(task_pk=confirm.pk, user=w.province, decision="approve")

    assert done.state == CorrectionState.APPROVED
    person = Student.objects.get(pk=w.status.student_id)
    assert person.name == "王晓明"
    assert person.id_number == old_id
    assert person.user is not None
    person.user.refresh_from_db()
    assert person.user.get_full_name() == "王晓明"  # the login is renamed too
    request.refresh_from_db()
    assert request.before == {"name": "王小明"}
    assert request.after == {"name": "王晓明"}
    # The person's history keeps the old name, with the request that changed it.
    [change] = person_history(person)
    assert (change.field, change.old, change.new) == ("name", "王小明", "王晓明")
    assert change.identity_change_id == request.pk
    assert change.correction_id is None
    # The status's own chain too.
    [entry] = [e for e in status_history(w.status) if e.action == "identity_changed"]
    assert entry.data["request"] == request.pk
    assert entry.data["before"] == {"name": "王小明"}
    assert entry.data["after"] == {"name": "王晓明"}
    assert IdentityChangeProcess.objects.get(request=request).status == PROCESS.DONE
    assert _nodes(request) == [
        "start",
        "school_review",
        "after_school_review",
        "province_confirm",
        "after_province",
        "end",
    ]
    assert verify_chains().first_break is None


def test_an_id_number_and_programme_change_keeps_every_old_value(w):
    factories.major("080902", "软件工程")
    person = w.status.student
    new_birth = datetime.date(2003, 6, 1)
    new_id = factories.resident_id(new_birth, Gender.MALE, serial=77)
    request = ic.file(
        w,
        {
            "birth_date": new_birth.isoformat(),
            "id_number": new_id.lower(),
            "major_code": "080902",
            "study_length": "5",
            "level": "junior_college",
        },
    )
    _decide(request, IdentityChangeFlow.school_review, w.officer)
    _decide(request, IdentityChangeFlow.province_confirm, w.province)

    person = Student.objects.get(pk=person.pk)
    status = StudentStatus.objects.get(pk=w.status.pk)
    assert (person.birth_date, person.id_number) == (new_birth, new_id.upper())
    assert (status.major_code, status.major_name) == ("080902", "软件工程")
    assert (status.study_length, status.level) == ("5", "junior_college")
    request.refresh_from_db()
    assert request.before is not None
    assert request.before["major_code"] == "080901"
    assert request.before["id_number"] == w.status.student.id_number
    fields = {c.field: c for c in person_history(person)}
    assert set(fields) == {"birth_date", "id_number"}
    assert fields["birth_date"].old == "2003-05-17"
    assert "*" in fields["id_number"].old  # masked where it is shown
    [entry] = [e for e in status_history(status) if e.action == "identity_changed"]
    assert entry.data["before"]["major_code"] == "080901"
    assert "*" in entry.data["before"]["id_number"]  # the status's chain never holds it in full


def test_the_school_cannot_approve_without_proof(w):
    request = ic.file(w, evidence=False)
    with pytest.raises(ConflictError) as refused:
        _decide(request, IdentityChangeFlow.school_review, w.officer)
    assert refused.value.code == "evidence_required"
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED


@pytest.mark.parametrize(
    ("fields", "key", "code"),
    [
        ({}, "fields", "required"),
        ({"name": "王小明"}, "fields.name", "unchanged"),
        ({"name": "王2"}, "fields.name", "name"),
        ({"student_number": "1"}, "fields.student_number", "not_changeable"),
        ({"gender": "other"}, "fields.gender", "invalid_choice"),
        ({"birth_date": "2003-13-01"}, "fields.birth_date", "invalid_date"),
        ({"birth_date": "2003-06-01"}, "fields.birth_date", "birth_date_mismatch"),
        ({"gender": "female"}, "fields.gender", "gender_mismatch"),
        ({"id_number": "110105200305170010"}, "fields.id_number", "checksum"),
        ({"ethnicity": "99"}, "fields.ethnicity", "unknown"),
        ({"major_code": "999999"}, "fields.major_code", "unknown_major"),
        ({"study_length": "9"}, "fields.study_length", "invalid_choice"),
        ({"level": ""}, "fields.level", "required"),
    ],
)
def test_each_validation_error_names_its_field(w, fields, key, code):
    with pytest.raises(ValidationError) as refused:
        ic.file(w, fields)
    codes = {k: [e.code for e in errors] for k, errors in refused.value.error_dict.items()}
    assert key in codes, codes
    if code != "checksum":
        assert code in codes[key], codes
    assert not IdentityChangeRequest.objects.exists()


def test_another_persons_id_number_is_refused(w):
    other = factories.student("李四")
    with pytest.raises(ValidationError) as refused:
        ic.file(w, {"id_number": other.id_number})
    assert [e.code for e in refused.value.error_dict["fields.id_number"]] == ["taken"]


def test_the_reason_is_required(w):
    with pytest.raises(ValidationError) as refused:
        flow.identity_change_start(
            status=w.status, fields=ic.NEW_NAME, reason=" ", requester=w.student
        )
    assert "reason" in refused.value.error_dict


def test_one_open_request_per_status_and_none_for_an_ended_status(w):
    first = ic.file(w)
    with pytest.raises(ConflictError) as refused:
        ic.file(w, {"gender": "female"})
    assert refused.value.code == "open_request_exists"
    work.decide(
        task_pk=ic.task(first, IdentityChangeFlow.school_review).pk,
        user=w.officer,
        decision="reject",
        comment="证明不足",
    )
    ended = ic.student_status(w.status.school, state=StatusState.WITHDRAWN)
    with pytest.raises(ConflictError) as refused:
        ic.file(w, status=ended, by=w.officer)
    assert refused.value.code == "status_ended"


def test_strangers_and_other_schools_cannot_file(w):
    with pytest.raises(NotVisibleError):
        ic.file(w, by=w.stranger)
    with pytest.raises(NotVisibleError):
        ic.file(w, by=w.foreign_officer)
    with pytest.raises(PermissionDenied):
        ic.file(w, by=w.province)


def test_an_officer_files_and_another_officer_reviews(w):
    request = ic.file(w, by=w.officer)
    assert list(work.open_items(w.officer)) == []  # never the requester's own
    assert [i.task_id for i in work.open_items(w.officer_b)] == [
        ic.task(request, IdentityChangeFlow.school_review).pk
    ]


def test_returned_revised_and_returned_to_school(w):
    request = ic.file(w)
    _decide(request, IdentityChangeFlow.school_review, w.officer, "return", "请核对姓名")
    request.refresh_from_db()
    assert request.state == CorrectionState.RETURNED
    flow.identity_change_resubmit(
        request=request, fields={"name": "王晓敏"}, reason="更正", user=w.student
    )
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
    assert request.changes == [{"field": "name", "old": "王小明", "new": "王晓敏"}]
    _decide(request, IdentityChangeFlow.school_review, w.officer)
    _decide(request, IdentityChangeFlow.province_confirm, w.province, "return", "请学校复核")
    request.refresh_from_db()
    assert request.state == CorrectionState.SUBMITTED
    _decide(request, IdentityChangeFlow.school_review, w.officer)
    _decide(request, IdentityChangeFlow.province_confirm, w.province)
    assert Student.objects.get(pk=w.status.student_id).name == "王晓敏"


def test_withdrawn_by_the_requester_only(w, django_capture_on_commit_callbacks):
    request = ic.file(w)
    with pytest.raises(PermissionDenied):
        flow.identity_change_withdraw(request=request, user=w.officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = flow.identity_change_withdraw(request=request, user=w.student)
    assert done.state == CorrectionState.WITHDRAWN
    assert IdentityChangeProcess.objects.get(request=request).status == PROCESS.CANCELED
    assert list(work.open_items(w.officer)) == []
    assert {m.to[0] for m in mail.outbox} == {w.officer.email, w.officer_b.email, w.officer_c.email}


def test_a_value_changed_since_filing_stops_the_approval(w):
    request = ic.file(w, {"study_length": "5"})
    _decide(request, IdentityChangeFlow.school_review, w.officer)
    with transaction.atomic(), identity_writes("status_change:0"):  # another flow changed it
        StudentStatus.objects.filter(pk=w.status.pk).update(study_length="3")
    with pytest.raises(ConflictError) as refused:
        _decide(request, IdentityChangeFlow.province_confirm, w.province)
    assert refused.value.code == "values_changed"


def test_an_email_at_every_step_in_each_recipients_language(w, django_capture_on_commit_callbacks):
    w.student.language = "en"
    w.student.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = ic.file(w)
    subjects = sorted(m.subject for m in mail.outbox)
    assert any("received" in s for s in subjects), subjects  # the student, in English
    assert any("待审核" in s for s in subjects), subjects  # the officers, in Chinese
    assert all(w.status.student.id_number not in m.body for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(request, IdentityChangeFlow.school_review, w.officer)
    assert {m.to[0] for m in mail.outbox} == {w.province.email}
    assert "省级" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(request, IdentityChangeFlow.province_confirm, w.province)
    [approved] = mail.outbox
    assert approved.to == [w.student.email]
    assert "approved" in approved.subject
    assert "Changes: name" in approved.body  # the field's label, never its value
    assert approved.body.startswith("Dear 王晓明")  # the new name
    assert "王小明" not in approved.body


def test_an_ethnic_group_change_keeps_the_old_one(w):
    factories.ethnicity("05", "回族")
    request = ic.file(w, {"ethnicity": "05"})
    _decide(request, IdentityChangeFlow.school_review, w.officer)
    _decide(request, IdentityChangeFlow.province_confirm, w.province)
    person = Student.objects.get(pk=w.status.student_id)
    assert person.ethnicity_id == "05"
    [change] = person_history(person)
    assert (change.field, change.old, change.new) == ("ethnicity", "01", "05")


def test_a_second_current_full_time_status_is_refused(w, places):
    part_time = ic.student_status(places.pku, learning_form="part_time")
    ic.student_status(places.thu, student=part_time.student)  # full-time, elsewhere
    with pytest.raises(ValidationError) as refused:
        ic.file(w, {"learning_form": "full_time"}, by=w.officer, status=part_time)
    assert refused.value.error_dict["fields.learning_form"][0].code == "one_full_time_status"
