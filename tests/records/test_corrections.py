"""The rules of a correction request, at the records service level."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation
from PIL import Image

from notifications.models import Notification
from records.choices import CorrectionState
from records.choices import GraduationResult
from records.corrections.evidence import correction_add_evidence
from records.corrections.history import correction_history
from records.corrections.services import correction_file
from records.corrections.services import correction_resubmit
from records.corrections.services import correction_withdraw
from records.decisions import decide
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import SchoolMajor
from records.models import Student
from records.models import User
from records.people import person_history
from records.qualifications import qualification_amend
from records.qualifications import qualification_revoke
from tests import evidence_files
from tests import factories
from workflows.flows.correction import PROVINCE_SIGNOFF
from workflows.flows.correction import SCHOOL_REVIEW

pytestmark = pytest.mark.django_db


def correction_school_decide(*, request, decision, comment, acting_user):
    """The school review's declared decisions, through the one decision skeleton."""
    return decide(
        rule=SCHOOL_REVIEW,
        subject_pk=request.pk,
        decision=decision,
        comment=comment,
        acting_user=acting_user,
    ).state


def correction_province_decide(*, request, decision, comment, acting_user):
    return decide(
        rule=PROVINCE_SIGNOFF,
        subject_pk=request.pk,
        decision=decision,
        comment=comment,
        acting_user=acting_user,
    )


@pytest.fixture
def world(places):
    bj = places.bj
    pku = places.pku
    thu = places.thu
    login = factories.user("student_a")
    person = factories.student("王小明", login=login)
    return {
        "pku": pku,
        "thu": thu,
        "student": login,
        "person": person,
        "q": factories.qualification(person, pku),
        "officer": factories.officer(pku, "officer_10001"),
        "officer2": factories.officer(pku, "officer_10001b"),
        "foreign_officer": factories.officer(thu, "officer_10003"),
        "province": factories.provincial_admin(bj, "province_11"),
    }


def _file(world, changes=None, user="student", reason="录入错误"):
    return correction_file(
        qualification=world["q"],
        changes=changes or {"name": "王晓明"},
        reason=reason,
        requester=world[user],
    )


def _errors(exc):
    return exc.value.message_dict


def test_happy_path_amends_with_a_revision(world):
    request = _file(world)
    assert request.changes == [{"field": "name", "old": "王小明", "new": "王晓明"}]
    assert (
        correction_school_decide(
            request=request, decision="approve", comment="", acting_user=world["officer"]
        )
        == CorrectionState.SCHOOL_APPROVED
    )
    result = correction_province_decide(
        request=request, decision="approve", comment="同意", acting_user=world["province"]
    )
    assert result.state == CorrectionState.APPROVED
    q = Qualification.objects.get(pk=world["q"].pk)
    assert q.name == "王晓明"
    revision = q.revisions.get(number=2)
    assert (revision.approved_by, revision.correction_id) == (world["province"], request.pk)
    assert [h.action for h in correction_history(request)] == ["filed", "forwarded", "approved"]


def test_only_registered_qualifications_can_be_corrected(world):
    qualification_revoke(qualification=world["q"], acting_user=world["province"], reason="x")
    with pytest.raises(ValidationError) as exc:
        _file(world)
    assert "qualification" in _errors(exc)


def test_one_open_correction_per_qualification(world):
    first = _file(world)
    with pytest.raises(ConflictError) as exc:
        _file(world, {"gender": "female"})
    assert exc.value.code == "open_correction_exists"
    assert str(first.pk) in exc.value.message
    correction_withdraw(request=first, acting_user=world["student"])
    assert _file(world).state == CorrectionState.SUBMITTED  # withdrawn is no longer open


@pytest.mark.parametrize("field", ["certificate_number", "school", "major_name", "status", "photo"])
def test_only_correctable_fields(world, field):
    with pytest.raises(ValidationError) as exc:
        _file(world, {field: "x"})
    assert f"changes.{field}" in _errors(exc)


def test_new_values_are_validated_like_registration(world):
    with pytest.raises(ValidationError) as exc:
        _file(world, {"birth_date": "2002-13-01", "major_code": "999999"})
    errors = _errors(exc)
    assert "YYYY-MM-DD" in errors["changes.birth_date"][0]
    with pytest.raises(ValidationError) as exc:
        _file(world, {"major_code": "999999"})
    assert "changes.major_code" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        _file(world, {"level": "kindergarten"})
    assert "changes.level" in _errors(exc)


@pytest.mark.parametrize("given", ["correspondence", "函授", "CORRESPONDENCE", " Correspondence "])
def test_a_choice_is_given_by_its_code_or_as_the_pages_show_it(world, given):
    request = _file(world, {"learning_form": given})
    assert request.changes == [
        {"field": "learning_form", "old": "full_time", "new": "correspondence"}
    ]


def test_an_unknown_choice_names_the_choices_in_the_users_language(world):
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as exc:
            _file(world, {"graduation_result": "肄业"})
        assert _errors(exc)["changes.graduation_result"] == ["请从以下选项中选择：毕业、结业。"]
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            _file(world, {"graduation_result": "dropped out"})
        assert _errors(exc)["changes.graduation_result"] == [
            "Choose one of: Graduated, Completed without graduating."
        ]


@pytest.mark.parametrize(
    ("given", "code"),
    [("080902", "080902"), ("软件工程", "080902"), (" 宗教学 ", "010103K"), ("010103k", "010103K")],
)
def test_a_major_is_given_by_its_code_or_its_exact_name(world, given, code):
    factories.major("080902", "软件工程")
    factories.major("010103K", "宗教学")
    request = _file(world, {"major_code": given})
    assert request.changes == [{"field": "major_code", "old": "080901", "new": code}]


def test_a_schools_own_major_is_found_by_its_name_and_the_name_follows_the_code(world):
    SchoolMajor.objects.create(school=world["pku"], code="99J001", name="古典文献学（强基）")
    request = _file(world, {"major_code": "古典文献学（强基）"})
    assert request.changes[0]["new"] == "99J001"
    correction_school_decide(
        request=request, decision="approve", comment="", acting_user=world["officer"]
    )
    correction_province_decide(
        request=request, decision="approve", comment="", acting_user=world["province"]
    )
    q = Qualification.objects.get(pk=world["q"].pk)
    assert (q.major_code, q.major_name) == ("99J001", "古典文献学（强基）")


def test_an_unknown_major_names_the_value_and_the_rule(world):
    SchoolMajor.objects.create(school=world["thu"], code="99T001", name="清华自设专业")
    for given in ("软件工", "清华自设专业"):  # a part of a name; another school's own major
        with translation.override("en"):
            with pytest.raises(ValidationError) as exc:
                _file(world, {"major_code": given})
            assert _errors(exc)["changes.major_code"] == [
                f"“{given}” is neither the code nor the exact name of a major in the Ministry's "
                "catalogue or among school 10001's own majors."
            ]


def test_an_id_change_must_agree_with_birth_date_and_gender_after_the_change(world):
    person = world["person"]
    other_birth = datetime.date(2001, 1, 2)
    new_id = factories.resident_id(other_birth, person.gender, serial=77)
    with pytest.raises(ValidationError) as exc:
        _file(world, {"id_number": new_id})
    assert "changes.birth_date" in _errors(exc)
    request = _file(world, {"id_number": new_id.lower(), "birth_date": other_birth.isoformat()})
    assert {c["field"]: c["new"] for c in request.changes} == {
        "id_number": new_id,
        "birth_date": "2001-01-02",
    }


def test_gender_change_alone_contradicts_the_id_number(world):
    with pytest.raises(ValidationError) as exc:
        _file(world, {"gender": "female"})
    assert "changes.gender" in _errors(exc)


def test_new_value_must_differ(world):
    with pytest.raises(ValidationError) as exc:
        _file(world, {"name": world["q"].name})
    assert "changes.name" in _errors(exc)


def test_reason_and_changes_are_required(world):
    with pytest.raises(ValidationError) as exc:
        _file(world, reason="  ")
    assert "reason" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        correction_file(
            qualification=world["q"], changes={}, reason="x", requester=world["student"]
        )
    assert "changes" in _errors(exc)


def test_who_may_file(world):
    assert _file(world, user="officer").requester == world["officer"]  # on the student's behalf
    with pytest.raises(NotVisibleError):
        _file(world, user="foreign_officer")
    with pytest.raises(PermissionDenied):
        _file(world, user="province")


def test_the_requester_never_decides(world):
    request = _file(world, user="officer")
    with pytest.raises(PermissionDenied):
        correction_school_decide(
            request=request, decision="approve", comment="", acting_user=world["officer"]
        )
    correction_school_decide(
        request=request, decision="approve", comment="", acting_user=world["officer2"]
    )


def test_only_the_right_level_decides(world):
    request = _file(world)
    with pytest.raises(PermissionDenied):
        correction_school_decide(
            request=request, decision="approve", comment="", acting_user=world["province"]
        )
    with pytest.raises(NotVisibleError):
        correction_school_decide(
            request=request, decision="approve", comment="", acting_user=world["foreign_officer"]
        )
    with pytest.raises(ConflictError):  # not yet forwarded
        correction_province_decide(
            request=request, decision="approve", comment="", acting_user=world["province"]
        )


def test_reject_and_return_need_a_comment(world):
    request = _file(world)
    for decision in ("reject", "return"):
        with pytest.raises(ValidationError) as exc:
            correction_school_decide(
                request=request, decision=decision, comment=" ", acting_user=world["officer"]
            )
        assert "comment" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        correction_school_decide(
            request=request, decision="maybe", comment="", acting_user=world["officer"]
        )
    assert "decision" in _errors(exc)


def test_return_and_resubmit(world):
    request = _file(world)
    correction_school_decide(
        request=request, decision="return", comment="请附户口本", acting_user=world["officer"]
    )
    with pytest.raises(PermissionDenied):
        correction_resubmit(
            request=request, changes={"name": "王晓明"}, reason="x", acting_user=world["officer"]
        )
    request = correction_resubmit(
        request=request,
        changes={"name": "王晓鸣"},
        reason="已附户口本",
        acting_user=world["student"],
    )
    assert (request.state, request.changes[0]["new"]) == (CorrectionState.SUBMITTED, "王晓鸣")
    assert [h.action for h in correction_history(request)] == ["filed", "returned", "resubmitted"]
    assert correction_history(request)[1].comment == "请附户口本"


def test_a_stale_change_is_refused_and_goes_back_to_school_review(world):
    request = _file(world, {"name": "王晓明"})
    correction_school_decide(
        request=request, decision="approve", comment="", acting_user=world["officer"]
    )
    qualification_amend(  # the record moved on in the meantime
        qualification=world["q"],
        changes={"name": "王小名"},
        approved_by=world["province"],
        reason="other",
        correction_id=None,
    )
    result = correction_province_decide(
        request=request, decision="approve", comment="", acting_user=world["province"]
    )
    assert (result.state, result.outcome) == (CorrectionState.SUBMITTED, "stale")
    assert result.event.data["fields"] == ["name"]
    request.refresh_from_db()
    assert request.changes == [{"field": "name", "old": "王小名", "new": "王晓明"}]
    q = Qualification.objects.get(pk=world["q"].pk)
    assert q.name == "王小名"
    assert q.revisions.count() == 2


def test_withdraw_only_by_the_requester_and_only_while_open(world):
    request = _file(world)
    with pytest.raises(PermissionDenied):
        correction_withdraw(request=request, acting_user=world["officer"])
    correction_withdraw(request=request, acting_user=world["student"])
    with pytest.raises(ConflictError):
        correction_withdraw(request=request, acting_user=world["student"])


def _png(name="scan.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def test_evidence_types_are_checked_by_content(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request = _file(world)
    png = correction_add_evidence(
        request=request, upload=_png("户口本.pdf"), acting_user=world["student"]
    )
    assert (png.content_type, png.original_name) == ("image/png", "户口本.pdf")
    pdf = SimpleUploadedFile("proof.pdf", evidence_files.real_pdf(), content_type="application/pdf")
    assert (
        correction_add_evidence(
            request=request, upload=pdf, acting_user=world["student"]
        ).content_type
        == "application/pdf"
    )
    fake = SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        correction_add_evidence(request=request, upload=fake, acting_user=world["student"])
    assert [e.code for e in exc.value.error_dict["file"]] == ["type"]
    broken_png = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(ValidationError):
        correction_add_evidence(request=request, upload=broken_png, acting_user=world["student"])
    assert request.evidence.count() == 2


def test_evidence_size_limit(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request = _file(world)
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), content_type="application/pdf"
    )
    with pytest.raises(ValidationError) as exc:
        correction_add_evidence(request=request, upload=big, acting_user=world["student"])
    assert [e.code for e in exc.value.error_dict["file"]] == ["too_large"]
    assert not request.evidence.exists()


def test_who_may_add_evidence(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request = _file(world)
    with pytest.raises(NotVisibleError):
        correction_add_evidence(
            request=request, upload=_png(), acting_user=world["foreign_officer"]
        )
    with pytest.raises(PermissionDenied):
        correction_add_evidence(request=request, upload=_png(), acting_user=world["officer"])
    correction_withdraw(request=request, acting_user=world["student"])
    with pytest.raises(PermissionDenied):
        correction_add_evidence(request=request, upload=_png(), acting_user=world["student"])


# --- an approved correction of the identity corrects the person too -------------------------


def _approve(world, request):
    correction_school_decide(
        request=request, decision="approve", comment="", acting_user=world["officer"]
    )
    return correction_province_decide(
        request=request, decision="approve", comment="同意", acting_user=world["province"]
    )


def test_an_approved_name_correction_corrects_the_person_and_greets_them_by_it(world):
    province = world["province"]
    province.last_name, province.first_name = "赵", "敏"
    province.save()
    request = _file(world, {"name": "王晓明", "study_length": "5"})

    _approve(world, request)

    person = Student.objects.get(pk=world["person"].pk)
    assert person.name == "王晓明"
    assert User.objects.get(pk=world["student"].pk).get_full_name() == "王晓明"
    (change,) = person_history(person)
    assert (change.field, change.old, change.new, change.by, change.correction_id) == (
        "name",
        "王小明",
        "王晓明",
        "赵敏",
        request.pk,
    )
    approved = Notification.objects.get(
        event="correction_approved", recipient_user_id=world["student"].pk
    )
    assert approved.body_text.startswith("王晓明，您好")
    forwarded = Notification.objects.get(
        event="correction_forwarded", recipient_user_id=province.pk
    )
    assert forwarded.body_text.startswith("赵敏，您好")  # every recipient is greeted by name


def test_an_approved_correction_of_study_data_leaves_the_person_alone(world):
    _approve(world, _file(world, {"study_length": "5"}))

    assert person_history(world["person"]) == []
    assert Student.objects.get(pk=world["person"].pk).name == "王小明"


def test_an_approved_id_correction_corrects_the_person_and_masks_it_in_the_history(world):
    person = world["person"]
    old_id = person.id_number
    new_birth = datetime.date(2001, 1, 2)
    new_id = factories.resident_id(new_birth, person.gender, serial=77)
    request = _file(world, {"id_number": new_id, "birth_date": new_birth.isoformat()})

    _approve(world, request)

    person.refresh_from_db()
    assert (person.id_number, person.birth_date) == (new_id, new_birth)
    history = {change.field: change for change in person_history(person)}
    assert (history["birth_date"].old, history["birth_date"].new) == ("2003-05-17", "2001-01-02")
    assert history["id_number"].old == old_id[:4] + "*" * 10 + old_id[-4:]
    assert history["id_number"].new == new_id[:4] + "*" * 10 + new_id[-4:]


def test_an_approval_that_would_give_the_person_someone_elses_id_changes_nothing(world):
    other = factories.student("李娜", birth=world["person"].birth_date)  # same birth, gender
    request = _file(world, {"id_number": other.id_number})
    correction_school_decide(
        request=request, decision="approve", comment="", acting_user=world["officer"]
    )

    with pytest.raises(ValidationError) as exc, transaction.atomic():  # the caller's transaction
        correction_province_decide(
            request=request, decision="approve", comment="", acting_user=world["province"]
        )

    assert "__all__" in _errors(exc)  # the person's ID number is unique

    request.refresh_from_db()
    assert request.state == CorrectionState.SCHOOL_APPROVED
    assert Qualification.objects.get(pk=world["q"].pk).id_number == world["person"].id_number
    assert person_history(world["person"]) == []


def test_a_completed_qualification_is_not_corrected_to_graduated(world, places):
    world["q"] = factories.qualification(
        world["person"], places.pku, graduation_result=GraduationResult.COMPLETED
    )
    with pytest.raises(ValidationError) as exc:
        _file(world, {"graduation_result": GraduationResult.GRADUATED})
    codes = [e.code for e in exc.value.error_dict["changes.graduation_result"]]
    assert codes == ["reissue_needed"]
    assert not CorrectionRequest.objects.filter(qualification=world["q"]).exists()
