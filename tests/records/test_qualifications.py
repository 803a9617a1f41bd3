from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db import transaction

from records.choices import EducationType
from records.choices import GraduationResult
from records.choices import Level
from records.choices import QualificationStatus
from records.models import AuditEvent
from records.models import Qualification
from records.models import User
from records.qualifications import certificate_errors
from records.qualifications import qualification_amend
from records.qualifications import qualification_revoke
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = "100011202405000101"


def _codes(number: str, **kw: object) -> list[str | None]:
    args: dict[str, object] = {
        "school_code": "10001",
        "education_type": EducationType.REGULAR,
        "issue_year": 2024,
        "level": Level.BACHELOR,
    }
    args.update(kw)
    return [e.code for e in certificate_errors(number, **args)]  # type: ignore[arg-type]


def test_certificate_number_structure():
    assert _codes(GOOD) == []
    assert _codes("10001120240500010") == ["format"]
    assert _codes("10001120240500010A") == ["format"]
    assert _codes(GOOD, school_code="10003") == ["school"]
    assert _codes(GOOD, education_type=EducationType.ADULT) == ["education_type"]
    assert _codes(GOOD, issue_year=2023) == ["year"]
    assert _codes(GOOD, level=Level.MASTER) == ["level"]
    # The documented example of DOMAIN.md §3.3.
    assert _codes("104461201905004220", school_code="10446", issue_year=2019) == []


def test_legacy_certificate_numbers_follow_the_rules_of_their_year():
    # 2001: 17 digits starting with the school's code, the rest opaque.
    assert _codes("10001200105000123", issue_year=2001) == []
    assert _codes("10003200105000123", issue_year=2001) == ["school"]
    assert _codes("100012001050001X3", issue_year=2001) == ["format"]
    assert _codes("100011200105000123", issue_year=2001) == ["format"]  # 18 only from 2002
    # 2002: either.
    assert _codes("10001200205000123", issue_year=2002) == []
    assert _codes("100011200205000123", issue_year=2002) == []
    # From 2003: 18 digits only.
    assert _codes("10001200305000123", issue_year=2003) == ["format"]
    # Before 2001: an opaque key of letters and digits.
    assert _codes("BJ1998-0042", issue_year=1998) == ["format"]
    assert _codes("BJ19980042", issue_year=1998) == []
    assert _codes("", issue_year=1998) == ["format"]


def test_a_legacy_record_is_registered_and_its_number_corrected_with_its_year():
    """A 2001 record whose graduation year was typed as 2002: the year and the number it
    encodes are corrected together, signed off by the province."""
    person = factories.student("李华", birth=datetime.date(1979, 3, 2))
    q = factories.qualification(
        person,
        graduation_date=datetime.date(2002, 7, 1),
        start_date=datetime.date(1997, 9, 1),
        certificate_number="10001200205000123",
        id_number="110105790302001",  # the first-generation card the graduate then held
    )
    assert q.id_number == "110105790302001"
    admin = _province_admin(q)
    with pytest.raises(ValidationError) as exc:  # the year alone: a 17-digit number in 2003
        qualification_amend(
            qualification=q,
            changes={"graduation_date": datetime.date(2003, 7, 1)},
            approved_by=admin,
            reason="",
            correction_id=None,
        )
    assert [e.code for e in exc.value.error_dict["certificate_number"]] == ["format"]
    qualification_amend(
        qualification=q,
        changes={
            "graduation_date": datetime.date(2001, 7, 1),
            "certificate_number": "10001200105000123",
        },
        approved_by=admin,
        reason="毕业年份与证书编号录入错误",
        correction_id=None,
    )
    fresh = Qualification.objects.get(pk=q.pk)
    assert fresh.certificate_number == "10001200105000123"
    assert fresh.revisions.get(number=1).content["certificate_number"] == "10001200205000123"


def test_register_keeps_revision_one_and_audits():
    q = factories.qualification()
    assert q.status == QualificationStatus.REGISTERED
    assert q.province_id == q.school.province_id
    assert q.major_name == "计算机科学与技术"
    revision = q.revisions.get()
    assert revision.number == 1
    assert revision.content["name"] == q.name
    assert revision.content["graduation_date"] == "2024-07-01"
    actions = list(
        AuditEvent.objects.filter(subject_id=str(q.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["qualification.created", "qualification.registered"]


def test_bad_values_name_each_field_and_save_nothing():
    person = factories.student()
    with pytest.raises(ValidationError) as exc:
        factories.qualification(
            person,
            birth_date=datetime.date(1990, 1, 1),
            major_code="999999",
            certificate_number="100011202305000001",
        )
    fields = exc.value.message_dict
    assert set(fields) == {"birth_date", "major_code", "certificate_number"}
    assert "2024" in fields["certificate_number"][0]
    assert not Qualification.objects.exists()


def test_certificate_numbers_are_unique():
    q = factories.qualification()
    with pytest.raises(ValidationError) as exc:
        factories.qualification(certificate_number=q.certificate_number)
    assert "certificate_number" in exc.value.message_dict


def test_a_registered_qualification_refuses_a_direct_change():
    q = factories.qualification()
    q.name = "改名"
    with pytest.raises(ValidationError) as exc:
        q.save()
    assert exc.value.code == "registered_immutable"
    assert Qualification.objects.get(pk=q.pk).name != "改名"


def test_status_cannot_be_set_directly():
    q = factories.qualification()
    with pytest.raises(AttributeError):
        q.status = QualificationStatus.DRAFT


def _province_admin(q):
    found = User.objects.filter(username=f"province_{q.province_id}").first()
    return found or factories.provincial_admin(q.province, f"province_{q.province_id}")


def test_amend_changes_the_content_with_a_new_revision():
    q = factories.qualification()
    approver = _province_admin(q)
    revision = qualification_amend(
        qualification=q,
        changes={"name": "王晓明"},
        approved_by=approver,
        reason="typo",
        correction_id=7,
    )
    q.refresh_from_db()
    assert q.name == "王晓明"
    assert (revision.number, revision.changed_fields) == (2, ["name"])
    assert revision.approved_by == approver
    assert [r.content["name"] for r in q.revisions.order_by("number")] == [
        q.revisions.get(number=1).content["name"],
        "王晓明",
    ]
    assert AuditEvent.objects.filter(subject_id=str(q.pk), action="qualification.amended").exists()


def test_an_invalid_amendment_changes_nothing():
    q = factories.qualification()
    with pytest.raises(ValidationError) as exc:
        qualification_amend(
            qualification=q,
            changes={"gender": "female"},
            approved_by=_province_admin(q),
            reason="",
            correction_id=None,
        )
    assert "gender" in exc.value.message_dict
    fresh = Qualification.objects.get(pk=q.pk)
    assert fresh.gender == "male"
    assert fresh.revisions.count() == 1


def test_revoke():
    q = factories.qualification()
    admin = _province_admin(q)
    qualification_revoke(qualification=q, acting_user=admin, reason="fraud")
    assert Qualification.objects.get(pk=q.pk).status == QualificationStatus.REVOKED
    with pytest.raises(ValidationError):
        qualification_amend(
            qualification=q,
            changes={"name": "X"},
            approved_by=admin,
            reason="",
            correction_id=None,
        )


def test_a_revoked_qualification_is_as_immutable_as_a_registered_one():
    q = factories.qualification()
    admin = _province_admin(q)
    qualification_revoke(qualification=q, acting_user=admin, reason="fraud")
    revoked = Qualification.objects.get(pk=q.pk)
    revoked.name = "改名"
    with pytest.raises(ValidationError) as exc:
        revoked.save()
    assert exc.value.code == "registered_immutable"
    revoked._amendment_allowed = True  # not even the amendment path changes a revoked one
    with pytest.raises(ValidationError):
        revoked.save()
    assert Qualification.objects.get(pk=q.pk).name == q.name


def test_a_qualification_is_never_created_registered():
    q = factories.qualification(registered=False)
    fields = {f.attname: getattr(q, f.attname) for f in Qualification._meta.concrete_fields}
    fields.update(id=None, status=QualificationStatus.REGISTERED, certificate_number="1" * 18)
    with pytest.raises(ValidationError) as exc:
        Qualification(**fields).save()
    assert exc.value.code == "created_as_draft"
    assert Qualification.objects.filter(certificate_number="1" * 18).exists() is False


def test_registering_amending_and_revoking_check_the_actors_permission():
    from records.qualifications import qualification_register

    draft = factories.qualification(registered=False)
    q = factories.qualification()
    student = factories.user("someone")
    officer = factories.officer(q.school, "officer_x")
    foreign = factories.provincial_admin(factories.province("31", "上海市"), "province_31")
    with pytest.raises(PermissionDenied):
        qualification_register(qualification=draft, acting_user=student)
    with pytest.raises(PermissionDenied):
        qualification_register(qualification=draft, acting_user=foreign)
    assert Qualification.objects.get(pk=draft.pk).status == QualificationStatus.DRAFT
    for user in (student, officer, foreign):
        with pytest.raises(PermissionDenied):
            qualification_amend(
                qualification=q,
                changes={"name": "王晓明"},
                approved_by=user,
                reason="",
                correction_id=None,
            )
        with pytest.raises(PermissionDenied):
            qualification_revoke(qualification=q, acting_user=user, reason="x")
    fresh = Qualification.objects.get(pk=q.pk)
    assert (fresh.name, fresh.status) == (q.name, QualificationStatus.REGISTERED)
    registered = qualification_register(qualification=draft, acting_user=officer)
    assert registered.status == QualificationStatus.REGISTERED


def test_a_completed_qualification_is_not_corrected_to_graduated():
    q = factories.qualification(graduation_result=GraduationResult.COMPLETED)
    with pytest.raises(ValidationError) as exc:
        qualification_amend(
            qualification=q,
            changes={"graduation_result": GraduationResult.GRADUATED},
            approved_by=_province_admin(q),
            reason="",
            correction_id=None,
        )
    assert [e.code for e in exc.value.error_dict["graduation_result"]] == ["reissue_needed"]
    assert Qualification.objects.get(pk=q.pk).graduation_result == GraduationResult.COMPLETED
    # The other way (a 毕业 record wrongly registered) is a correction like any other.
    other = factories.qualification()
    qualification_amend(
        qualification=other,
        changes={"graduation_result": GraduationResult.COMPLETED},
        approved_by=_province_admin(other),
        reason="",
        correction_id=None,
    )


@pytest.mark.postgres
def test_postgres_keeps_published_rows_published_below_the_model():
    """A revoked row changes no more than a registered one, no published row goes back to
    draft, and no row is inserted other than as a draft."""
    q = factories.qualification()
    admin = _province_admin(q)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).update(status=QualificationStatus.DRAFT)
    qualification_revoke(qualification=q, acting_user=admin, reason="fraud")
    for change in (
        {"name": "改名"},
        {"status": QualificationStatus.REGISTERED},
        {"status": QualificationStatus.DRAFT},
        {"revoke_reason": "none"},
    ):
        with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
            Qualification.objects.filter(pk=q.pk).update(**change)
    fresh = Qualification.objects.get(pk=q.pk)
    assert (fresh.name, fresh.status, fresh.revoke_reason) == (q.name, "revoked", "fraud")
    draft = factories.qualification(registered=False)
    fields = {f.attname: getattr(draft, f.attname) for f in Qualification._meta.concrete_fields}
    fields.update(id=None, status=QualificationStatus.REGISTERED, certificate_number="1" * 18)
    with pytest.raises(DatabaseError, match="Cannot insert"), transaction.atomic():
        Qualification.objects.bulk_create([Qualification(**fields)])


@pytest.mark.postgres
def test_postgres_refuses_changes_to_a_registered_row_that_bypass_the_model():
    q = factories.qualification()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).update(name="改名")
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        Qualification.objects.filter(pk=q.pk).delete()
    draft = factories.qualification(registered=False)
    Qualification.objects.filter(pk=draft.pk).update(minor_note="辅修：数学")  # drafts may change
    assert Qualification.objects.get(pk=q.pk).name == q.name
