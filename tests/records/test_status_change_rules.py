"""Each type's fields and rules at filing (``records.status_changes.services``), each error
naming its field, its rule and the article it comes from; who may file; the maximum study
period; the declarations themselves."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from records.errors import NotVisibleError
from records.models import AdmissionType
from records.models import School
from records.models import SchoolMajor
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import identity_writes
from records.status_changes import services
from records.status_changes.periods import add_months
from records.status_changes.periods import max_study_end
from records.status_changes.periods import past_max_study_period
from records.status_changes.types import TYPES
from tests import factories
from tests import status_changes as sc

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def w(places):
    world = sc.world(places)
    factories.major("080902", "软件工程")
    return world


def _file(w, key, fields, *, by=None, status=None, reason="个人原因"):
    return services.status_change_file(
        status=status or w.status,
        type_key=key,
        fields=fields,
        reason=reason,
        requester=by or w.student,
    )


def _refused(w, key, fields, **kw) -> dict[str, list[str]]:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        _file(w, key, fields, **kw)
    assert not StatusChangeRequest.objects.exists()
    return refused.value.message_dict


def _status(w, **fields):
    # The setup writes a programme as it may stand (the identity guard's way in).
    with transaction.atomic(), identity_writes("test setup"):
        StudentStatus.objects.filter(pk=w.status.pk).update(**fields)
    w.status.refresh_from_db()


# (type, status changes, filer, fields, error key, rule code, article or "")
RULES = [
    (
        "suspension",
        {"state": "suspended"},
        "student",
        sc.SUSPENSION,
        "status",
        "only_enrolled",
        "第25条",
    ),
    (
        "suspension",
        {},
        "student",
        {"from": "2025-03-01", "until": "2025-01-01"},
        "fields.until",
        "until_after_from",
        "",
    ),
    (
        "suspension",
        {},
        "student",
        {"from": "2025-03-01", "until": "2031-01-01"},
        "fields.until",
        "max_study_period",
        "第28条",
    ),
    (
        "resumption",
        {},
        "student",
        {"from": "2026-03-01"},
        "status",
        "resumption_only_from_suspended",
        "第29条",
    ),
    (
        "reservation",
        {"state": "suspended"},
        "student",
        {"kind": "military", "from": "2025-03-01", "until": "2026-01-01"},
        "status",
        "only_enrolled",
        "第27条",
    ),
    (
        "reservation",
        {},
        "student",
        {"kind": "military", "from": "2025-03-01", "until": "2031-01-01"},
        "fields.until",
        "max_study_period",
        "第28条",
    ),
    (
        "reservation_end",
        {},
        "student",
        {"from": "2026-03-01"},
        "status",
        "return_only_from_reserved",
        "第29条",
    ),
    (
        "major_change",
        {"major_code": "080902"},
        "student",
        {"major_code": "080902"},
        "fields.major_code",
        "same_major",
        "",
    ),
    (
        "major_change",
        {"admission_type_id": "directed"},
        "student",
        {"major_code": "080902"},
        "status",
        "major_change_barred",
        "第21条",
    ),
    (
        "major_change",
        {"state": "reserved"},
        "student",
        {"major_code": "080902"},
        "status",
        "only_enrolled",
        "第21条",
    ),
    (
        "repetition",
        {},
        "officer",
        {"expected_graduation": "2028-01-01"},
        "fields.expected_graduation",
        "graduation_later",
        "",
    ),
    (
        "repetition",
        {},
        "officer",
        {"expected_graduation": "2031-07-01"},
        "fields.expected_graduation",
        "max_study_period",
        "第28条",
    ),
    (
        "demotion",
        {"state": "suspended"},
        "officer",
        {"expected_graduation": "2029-07-01"},
        "status",
        "only_enrolled",
        "",
    ),
    (
        "skip",
        {"state": "reserved"},
        "officer",
        {"expected_graduation": "2027-07-01"},
        "status",
        "only_enrolled",
        "",
    ),
    (
        "repetition",
        {"state": "reserved"},
        "officer",
        {"expected_graduation": "2029-07-01"},
        "status",
        "only_enrolled",
        "",
    ),
    (
        "reservation",
        {},
        "student",
        {"kind": "other", "from": "2025-03-01", "until": "2025-03-01"},
        "fields.until",
        "until_after_from",
        "",
    ),
    (
        "demotion",
        {},
        "officer",
        {"expected_graduation": "2027-07-01"},
        "fields.expected_graduation",
        "graduation_later",
        "",
    ),
    (
        "demotion",
        {},
        "officer",
        {"expected_graduation": "2031-07-01"},
        "fields.expected_graduation",
        "max_study_period",
        "第28条",
    ),
    (
        "skip",
        {},
        "officer",
        {"expected_graduation": "2029-07-01"},
        "fields.expected_graduation",
        "graduation_earlier",
        "",
    ),
    (
        "withdrawal",
        {},
        "student",
        {"date": "2024-01-01"},
        "fields.date",
        "date_after_entry",
        "第30条",
    ),
    ("death", {}, "officer", {"date": "2999-01-01"}, "fields.date", "date_not_future", ""),
    (
        "early_graduation",
        {},
        "student",
        {"expected_graduation": "2029-07-01"},
        "fields.expected_graduation",
        "graduation_earlier",
        "第32条",
    ),
    (
        "early_graduation",
        {},
        "student",
        {"expected_graduation": "2025-07-01"},
        "fields.expected_graduation",
        "not_in_the_past",
        "",
    ),
    (
        "early_graduation",
        {"state": "suspended"},
        "student",
        {"expected_graduation": "2027-07-01"},
        "status",
        "only_enrolled",
        "第32条",
    ),
    (
        "deferred_graduation",
        {"state": "suspended"},
        "student",
        {"expected_graduation": "2029-07-01"},
        "status",
        "only_enrolled",
        "第32条",
    ),
    (
        "deferred_graduation",
        {},
        "student",
        {"expected_graduation": "2027-07-01"},
        "fields.expected_graduation",
        "graduation_later",
        "第32条",
    ),
    (
        "deferred_graduation",
        {},
        "student",
        {"expected_graduation": "2030-12-01"},
        "fields.expected_graduation",
        "max_study_period",
        "第28条",
    ),
]


# The adverse decisions' rules: the legality review (第56条) and the hearing (第55条).
ADVERSE = {
    "legality_review": "done",
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师",
    "hearing_summary": "学生陈述了情况。",
    "basis": "第五十二条",
}
for _key in ("withdrawal_by_school", "cancellation", "expulsion"):
    RULES += [
        (
            _key,
            {},
            "officer",
            {**ADVERSE, "legality_review": ""},
            "fields.legality_review",
            "legality_review",
            "第56条",
        ),
        (
            _key,
            {},
            "officer",
            {**ADVERSE, "hearing_summary": ""},
            "fields.hearing_summary",
            "hearing_record",
            "第55条",
        ),
        (
            _key,
            {},
            "officer",
            {**ADVERSE, "hearing_date": "2099-01-01"},
            "fields.hearing_date",
            "hearing_not_future",
            "第55条",
        ),
    ]

# A transfer to 复旦大学 (which keeps no cut-off in this world: ``transfer_below_cutoff`` fails
# too, as each case only looks for its own rule's message). Today is the real clock's: the
# status entered on 2024-09-01 and graduates on 2028-07-01.
TRANSFER = {"target_school": "10246", "target_major": "080901", "score": "600", "ground": "illness"}
_TODAY = timezone.localdate()
RULES += [
    ("transfer", {"state": "suspended"}, "student", TRANSFER, "status", "only_enrolled", "第22条"),
    (
        "transfer",
        {},
        "student",
        {**TRANSFER, "target_school": "10001"},
        "fields.target_school",
        "transfer_same_school",
        "",
    ),
    (
        "transfer",
        {"entry_date": str(_TODAY - datetime.timedelta(days=60))},
        "student",
        TRANSFER,
        "status",
        "transfer_first_term",
        "第22条",
    ),
    (
        "transfer",
        {"expected_graduation": str(_TODAY + datetime.timedelta(days=200))},
        "student",
        TRANSFER,
        "status",
        "transfer_final_year",
        "第22条",
    ),
    (
        "transfer",
        {"admission_type_id": "directed"},
        "student",
        TRANSFER,
        "status",
        "transfer_directed",
        "第22条",
    ),
    ("transfer", {}, "student", TRANSFER, "fields.score", "transfer_below_cutoff", "第22条"),
    (
        "transfer",
        {},
        "student",
        {**TRANSFER, "ground": ""},
        "fields.ground",
        "transfer_no_reason",
        "第22条",
    ),
    (
        "transfer",
        {"level": "junior_college"},
        "student",
        TRANSFER,
        "fields.target_school",
        "transfer_level_up",
        "第22条",
    ),
]


@pytest.fixture(autouse=True)
def _receiving_school_is_undergraduate(places):
    School.objects.filter(pk="10246").update(level="本科")


def test_a_transfer_keeps_the_student_number_unique_at_the_receiving_school(w, places):
    sc.student_status(places.fdu, student_number=w.status.student_number)
    errors = _refused(w, "transfer", TRANSFER)
    assert any("transfer_number_taken" in m for m in errors["fields.target_school"])


@pytest.mark.parametrize("case", RULES, ids=[f"{r[0]}-{r[5]}" for r in RULES])
def test_each_rule_refuses_with_its_field_rule_and_article(w, case):
    key, changes, filer, fields, error_key, code, source = case
    AdmissionType.objects.get_or_create(
        code="directed", defaults={"name": "定向生", "name_en": "Directed"}
    )
    _status(w, **changes)
    errors = _refused(w, key, fields, by=w.student if filer == "student" else w.officer)
    assert error_key in errors, errors
    [message] = [m for m in errors[error_key] if f"规则 {code}" in m]
    if source:
        assert source in message
        assert "《普通高等学校学生管理规定》" in message


def test_every_rule_of_every_type_is_tested():
    tested = {(r[0], r[5]) for r in RULES}
    tested |= {(k, "credit_system") for k in CREDIT_TYPES}  # below
    tested |= {("transfer", "transfer_number_taken")}  # above
    declared = {(k, rule.code) for k, kind in TYPES.items() for rule in kind.rules}
    assert declared == tested


CREDIT_TYPES = ("repetition", "demotion", "skip")


@pytest.mark.parametrize("key", CREDIT_TYPES)
def test_a_credit_system_school_records_no_repetition_demotion_or_skip(w, key):
    School.objects.filter(pk="10001").update(credit_system=True)
    w.status.school.refresh_from_db()
    graduation = "2027-07-01" if key == "skip" else "2029-07-01"
    errors = _refused(w, key, {"expected_graduation": graduation}, by=w.officer)
    [message] = errors["type"]
    assert "规则 credit_system" in message
    assert "学分制" in message
    assert "第15条" in message


def test_field_errors_come_together_with_the_reason(w):
    errors = _refused(w, "suspension", {"until": "2025-13-01", "color": "red"}, reason=" ")
    assert set(errors) == {"reason", "fields.from", "fields.until", "fields.color"}


def test_a_choice_and_a_major_are_checked(w):
    errors = _refused(w, "reservation", {"kind": "holiday", "from": "2025-03-01", "until": "x"})
    assert set(errors) == {"fields.kind", "fields.until"}
    errors = _refused(w, "major_change", {"major_code": "999999"})
    assert "999999" in errors["fields.major_code"][0]


def test_a_school_s_own_major_is_accepted(w):
    SchoolMajor.objects.create(school_id="10001", code="0809X1", name="智能计算")
    request = _file(w, "major_change", {"major_code": "0809X1"})
    assert request.fields == {"major_code": "0809X1"}


def test_the_stored_fields_are_the_parsed_ones(w):
    request = _file(w, "suspension", {"from": " 2025-03-01 ", "until": "2026-02-28"})
    assert request.fields == {"from": "2025-03-01", "until": "2026-02-28"}
    assert request.reason == "个人原因"
    assert request.school_id == "10001"
    assert request.province_id == "11"


def test_unknown_types(w):
    with pytest.raises(ValidationError) as unknown:
        _file(w, "holiday", {})
    assert "suspension" in unknown.value.message_dict["type"][0]
    # Every type of DOMAIN.md §2.3 is available: no slot is left.
    assert all(kind.available for kind in TYPES.values())


def test_who_may_file(w):
    # An officer's type, filed by the student.
    with pytest.raises(PermissionDenied, match="学校工作人员"):
        _file(w, "repetition", {"expected_graduation": "2029-07-01"})
    # The student's own withdrawal, filed by an officer.
    with pytest.raises(PermissionDenied):
        _file(w, "withdrawal", {"date": "2026-06-30"}, by=w.officer)
    # Someone who may not see the status: 404, whatever the type.
    for user in (w.stranger, w.foreign_officer):
        with pytest.raises(NotVisibleError):
            _file(w, "suspension", sc.SUSPENSION, by=user)
    # A provincial administrator sees it, but files nothing.
    with pytest.raises(PermissionDenied):
        _file(w, "suspension", sc.SUSPENSION, by=w.province)
    assert not StatusChangeRequest.objects.exists()


def test_the_maximum_study_period(w):
    assert max_study_end(w.status) == datetime.date(2030, 9, 1)
    School.objects.filter(pk="10001").update(max_extension_years=3)
    w.status.school.refresh_from_db()
    assert max_study_end(w.status) == datetime.date(2031, 9, 1)
    _status(w, study_length="4.5")
    assert max_study_end(w.status) == datetime.date(2032, 3, 1)
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add_months(datetime.date(2024, 3, 31), -13) == datetime.date(2023, 2, 28)


def test_statuses_past_their_maximum_period_are_listed_for_a_withdrawal_review(places):
    old = sc.student_status(places.pku, entry_date=datetime.date(2018, 9, 1))
    sc.student_status(places.pku)  # 2024: within
    sc.student_status(places.pku, entry_date=datetime.date(2017, 9, 1), state="withdrawn")
    longer = sc.student_status(places.fdu, entry_date=datetime.date(2018, 9, 1))
    School.objects.filter(pk="10246").update(max_extension_years=5)  # until 2027-09-01
    today = datetime.date(2026, 11, 30)
    found = set(past_max_study_period(StudentStatus.objects.all(), today))
    assert found == {old}
    School.objects.filter(pk="10246").update(max_extension_years=2)
    found = set(past_max_study_period(StudentStatus.objects.all(), today))
    assert found == {old, longer}


def test_no_type_is_named_outside_its_declaration():
    """Adding a type is a declaration: no code outside ``types.py`` compares a type's key."""
    pattern = re.compile(r"""(\.type|type_key|kind\.key)\s*(==|!=|in)\s*["'(\[{]""")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("records", "workflows")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "types.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_every_effect_names_a_transition_of_the_status():
    for kind in TYPES.values():
        if kind.effect.transition:
            assert callable(getattr(StudentStatus, kind.effect.transition))
            assert kind.effect.target()
