"""The demo data of ``manage.py seed_demo``: who exists, their names, where they act, which
person they are.

Every demo user logs in with ``settings.DEMO_PASSWORD``. A student's login carries their
person's name, split into family and given name; officers and administrators have names of
their own.

Besides, a 2026 cohort of 北京大学 (``DEMO_FRESHMEN``), imported from a generated CSV file by
the admission import itself: freshmen with no login yet, whose first (``DEMO_FRESHMAN``, named
in the README) claims an account at ``/accounts/claim/``.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from stdnum.cn import ric

from permissions import roles
from permissions.services import ensure_roles
from permissions.services import grant_role
from records.admissions.imports import queue_import
from records.admissions.imports import run_import
from records.admissions.numbering import expected_graduation
from records.choices import AdmissionState
from records.choices import EducationType
from records.choices import Gender
from records.choices import GraduationResult
from records.choices import IdType
from records.choices import ImportMode
from records.choices import ImportState
from records.choices import LearningForm
from records.choices import Level
from records.models import AdmissionRecord
from records.models import Ethnicity
from records.models import MajorCutoff
from records.models import Province
from records.models import Qualification
from records.models import School
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.names import split_name
from records.qualifications import qualification_create
from records.qualifications import qualification_register
from records.services import student_create

PRINCIPALS = {"10001": "龚旗煌", "10003": "李路明", "10246": "金力"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope: str  # school or province code; empty for roles without a scope
    name: str = ""  # a student's is their person's (``DEMO_PEOPLE``)
    language: str = "zh-hans"
    superuser: bool = False  # staff and superuser: the administration at /admin/


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    gender: str
    birth_date: datetime.date
    region: str  # the 6-digit administrative division of the ID number
    serial: int  # the 3-digit sequence number, whose parity the gender sets
    ethnicity: str
    school: str
    major_code: str
    start: datetime.date
    graduation: datetime.date
    study_length: str
    serial_in_school: int

    @property
    def certificate_number(self) -> str:
        """Regular education (1), bachelor level (05), as DOMAIN.md §3.3 lays it out."""
        return f"{self.school}1{self.graduation:%Y}05{self.serial_in_school:06d}"


DEMO_ACCOUNTS = (
    DemoUser("officer_10001", roles.SCHOOL_OFFICER, "10001", "张伟"),
    # A second officer of 北京大学: one of them reviews what the other files for a student.
    DemoUser("officer_10001b", roles.SCHOOL_OFFICER, "10001", "欧阳婷"),
    DemoUser("officer_10003", roles.SCHOOL_OFFICER, "10003", "陈静"),
    DemoUser("officer_10246", roles.SCHOOL_OFFICER, "10246", "黄磊"),
    DemoUser("province_11", roles.PROVINCIAL_ADMIN, "11", "赵敏"),
    DemoUser("province_31", roles.PROVINCIAL_ADMIN, "31", "孙丽"),
    DemoUser("admin", roles.PLATFORM_ADMIN, "", "吴刚", superuser=True),
    DemoUser("student_a", roles.STUDENT, ""),
    DemoUser("student_b", roles.STUDENT, "", language="en"),
    DemoUser("student_c", roles.STUDENT, ""),
    # Enrolled students (``DEMO_ENROLLED``), who file status changes.
    DemoUser("student_d", roles.STUDENT, ""),
    DemoUser("student_e", roles.STUDENT, "", language="en"),
)
DEMO_PEOPLE = (
    DemoPerson(
        username="student_a",
        name="王小明",
        gender=Gender.MALE,
        birth_date=datetime.date(2002, 3, 14),
        region="110108",
        serial=31,
        ethnicity="01",
        school="10001",
        major_code="080901",
        start=datetime.date(2020, 9, 1),
        graduation=datetime.date(2024, 7, 1),
        study_length="4",
        serial_in_school=101,
    ),
    DemoPerson(
        username="student_b",
        name="李娜",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2001, 11, 2),
        region="320102",
        serial=42,
        ethnicity="01",
        school="10001",
        major_code="020101",
        start=datetime.date(2019, 9, 1),
        graduation=datetime.date(2023, 7, 1),
        study_length="4",
        serial_in_school=2317,
    ),
    DemoPerson(
        username="student_c",
        name="阿依古丽·买买提",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2002, 7, 9),
        region="650102",
        serial=18,
        ethnicity="05",
        school="10246",
        major_code="030101K",
        start=datetime.date(2020, 9, 1),
        graduation=datetime.date(2024, 6, 30),
        study_length="4",
        serial_in_school=88,
    ),
)
DEMO_USERS = tuple(account.username for account in DEMO_ACCOUNTS)


@dataclass(frozen=True)
class DemoEnrolled:
    """An enrolled student of the demo: a person, a login and a current student status."""

    username: str
    name: str
    gender: str
    birth_date: datetime.date
    region: str
    serial: int
    ethnicity: str
    school: str
    student_number: str
    major_code: str
    major_name: str
    entry_date: datetime.date
    study_length: str


DEMO_ENROLLED = (
    DemoEnrolled(
        username="student_d",
        name="刘子轩",
        gender=Gender.MALE,
        birth_date=datetime.date(2005, 4, 18),
        region="110102",
        serial=73,
        ethnicity="01",
        school="10001",
        student_number="2024000101",
        major_code="080901",
        major_name="计算机科学与技术",
        entry_date=datetime.date(2024, 9, 1),
        study_length="4",
    ),
    DemoEnrolled(
        username="student_e",
        name="周雨桐",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2005, 10, 6),
        region="310104",
        serial=52,
        ethnicity="01",
        school="10246",
        student_number="24300100021",
        major_code="020101",
        major_name="经济学",
        entry_date=datetime.date(2024, 9, 1),
        study_length="4",
    ),
)
# The receiving schools' cut-offs a demo transfer is checked against (the transfer ban
# ``transfer_below_cutoff``): (school, major, origin province, year, score). student_d (北京大学,
# 计算机科学与技术, entered 2024, no admission record: origin 北京市) may transfer to 复旦大学.
DEMO_CUTOFFS = (
    ("10246", "080901", "11", 2024, Decimal("650")),
    ("10001", "020101", "31", 2024, Decimal("660")),
)
# Named in the README: the demo school that records no 留级, 降级 or 跳级.
CREDIT_SYSTEM_SCHOOL = "10246"


@dataclass(frozen=True)
class DemoFreshman:
    """A row of the demo cohort's admission file."""

    candidate_number: str  # 26 (the year), the origin province, ten digits
    name: str
    gender: str
    birth_date: datetime.date
    region: str
    serial: int
    ethnicity: str
    major_code: str
    major_name: str
    study_length: str
    admission_type: str = ""  # a code of records/data/admission_types.csv

    @property
    def origin_province(self) -> str:
        return self.candidate_number[2:4]


DEMO_COHORT_SCHOOL = "10001"
DEMO_COHORT_YEAR = 2026
DEMO_FRESHMEN = (
    DemoFreshman(
        candidate_number="26110108100023",
        name="林晓雨",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2007, 8, 21),
        region="110108",
        serial=126,
        ethnicity="01",
        major_code="080901",
        major_name="计算机科学与技术",
        study_length="4",
    ),
    DemoFreshman(
        candidate_number="26520102200017",
        name="陈浩然",
        gender=Gender.MALE,
        birth_date=datetime.date(2007, 5, 3),
        region="520102",
        serial=57,
        ethnicity="01",
        major_code="020101",
        major_name="经济学",
        study_length="4",
        admission_type="national_special_plan",
    ),
    DemoFreshman(
        candidate_number="26110105300045",
        name="王梓涵",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2008, 1, 12),
        region="110105",
        serial=204,
        ethnicity="01",
        major_code="050101",
        major_name="汉语言文学",
        study_length="4",
    ),
    DemoFreshman(
        candidate_number="26370102400008",
        name="赵一鸣",
        gender=Gender.MALE,
        birth_date=datetime.date(2007, 11, 30),
        region="370102",
        serial=311,
        ethnicity="01",
        major_code="070101",
        major_name="数学与应用数学",
        study_length="4",
    ),
    DemoFreshman(
        candidate_number="26650102500031",
        name="古丽娜尔·艾买提",
        gender=Gender.FEMALE,
        birth_date=datetime.date(2007, 4, 2),
        region="650102",
        serial=88,
        ethnicity="05",
        major_code="100201K",
        major_name="临床医学",
        study_length="5",
    ),
)
# Named in the README: the freshman who claims an account in the demo.
DEMO_FRESHMAN = DEMO_FRESHMEN[0]


def demo_id_number(person: DemoPerson | DemoFreshman | DemoEnrolled) -> str:
    body = f"{person.region}{person.birth_date:%Y%m%d}{person.serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def _demo_name(account: DemoUser, user: User) -> str:
    """An officer's or administrator's own name; a student's is their person's, as corrected
    since (or as it will be created)."""
    if account.name:
        return account.name
    person = Student.objects.filter(user=user).only("name").first()
    if person is not None:
        return person.name
    people: tuple[DemoPerson | DemoEnrolled, ...] = (*DEMO_PEOPLE, *DEMO_ENROLLED)
    return next(p.name for p in people if p.username == account.username)


@transaction.atomic
def seed_demo() -> list[str]:
    """Create or refresh the demo schools' details, users, grants and people. Idempotent.

    Returns one line per login: user name, role, full name and where they act."""
    ensure_roles()
    for code, principal in PRINCIPALS.items():
        School.objects.filter(pk=code).update(principal_name=principal)
    School.objects.filter(pk=CREDIT_SYSTEM_SCHOOL).update(credit_system=True)
    lines = []
    school_of = {person.username: person.school for person in (*DEMO_PEOPLE, *DEMO_ENROLLED)}
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "email": f"{account.username}@demo.xueji.local",
                "language": account.language,
            },
        )
        user.set_password(settings.DEMO_PASSWORD)
        user.last_name, user.first_name = split_name(_demo_name(account, user))
        user.is_staff = user.is_superuser = account.superuser
        user.save()
        scope_object: School | Province | None = None
        if account.role == roles.SCHOOL_OFFICER:
            scope_object = School.objects.get(pk=account.scope)
        elif account.role == roles.PROVINCIAL_ADMIN:
            scope_object = Province.objects.get(pk=account.scope)
        grant_role(user, account.role, scope_object)
        studies_at = school_of.get(account.username)  # a student's school: shown, not granted
        shown = scope_object or (School.objects.get(pk=studies_at) if studies_at else None)
        where = f" ({shown})" if shown else ""
        kept = "" if created else " [kept]"
        lines.append(
            f"{account.username:<15} {account.role:<17} {user.get_full_name()}{where}{kept}"
        )
    for person in DEMO_PEOPLE:
        user = User.objects.get(username=person.username)
        student = Student.objects.filter(user=user).first() or student_create(
            name=person.name,
            gender=person.gender,
            birth_date=person.birth_date,
            id_type=IdType.RESIDENT_ID,
            id_number=demo_id_number(person),
            ethnicity=Ethnicity.objects.get(pk=person.ethnicity),
            email=user.email,
            user=user,
        )
        if not Qualification.objects.filter(certificate_number=person.certificate_number).exists():
            _demo_qualification(person, student)
    for enrolled in DEMO_ENROLLED:
        _demo_status(enrolled)
    for cutoff in DEMO_CUTOFFS:
        MajorCutoff.objects.update_or_create(
            school_id=cutoff[0],
            major_code=cutoff[1],
            origin_province_id=cutoff[2],
            year=cutoff[3],
            defaults={"score": cutoff[4]},
        )
    _demo_cohort()
    return lines


def cohort_file() -> bytes:
    """The demo cohort's admission file: CSV in UTF-8 with the Chinese headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["考生号", "姓名", "性别", "出生日期", "证件类型", "证件号码", "学校代码", "专业代码",
         "专业名称", "层次", "学制", "学习形式", "特殊招生类型", "入学年份", "生源地", "民族"]
    )  # fmt: skip
    for freshman in DEMO_FRESHMEN:
        writer.writerow(
            [
                freshman.candidate_number,
                freshman.name,
                "男" if freshman.gender == Gender.MALE else "女",
                freshman.birth_date.isoformat(),
                "",  # the resident ID card, by default
                demo_id_number(freshman),
                DEMO_COHORT_SCHOOL,
                freshman.major_code,
                freshman.major_name,
                "本科",
                freshman.study_length,
                "普通全日制",
                freshman.admission_type,
                str(DEMO_COHORT_YEAR),
                freshman.origin_province,
                freshman.ethnicity,
            ]
        )
    return out.getvalue().encode("utf-8")


def _demo_cohort() -> None:
    """Import the demo cohort through the admission import, unless every row is in already
    (so seeding again writes nothing, not even an import that finds only duplicates)."""
    recorded = AdmissionRecord.objects.filter(
        admission_year=DEMO_COHORT_YEAR,
        candidate_number__in=[freshman.candidate_number for freshman in DEMO_FRESHMEN],
    ).count()
    if recorded == len(DEMO_FRESHMEN):
        return
    batch = queue_import(
        upload=ContentFile(cohort_file()),
        name=f"demo-{DEMO_COHORT_SCHOOL}-{DEMO_COHORT_YEAR}.csv",
        user=None,
        mode=ImportMode.ALL_OR_NOTHING,
        school=School.objects.get(pk=DEMO_COHORT_SCHOOL),
    )
    batch = run_import(batch.pk)
    if batch.state != ImportState.DONE or batch.invalid:
        problems = "; ".join(str(error) for error in batch.errors.all()[:5])
        raise RuntimeError(f"the demo cohort did not import: {batch.failure or problems}")


def demo_cohort_lines() -> list[str]:
    """What ``seed_demo`` prints of the cohort: its size and the freshman to claim with."""
    admitted = AdmissionRecord.objects.filter(
        school_id=DEMO_COHORT_SCHOOL, admission_year=DEMO_COHORT_YEAR
    )
    freshman = DEMO_FRESHMAN
    claimed = admitted.filter(
        candidate_number=freshman.candidate_number, student__user__isnull=False
    ).exists()
    return [
        f"{admitted.count()} admissions of {DEMO_COHORT_YEAR} at {DEMO_COHORT_SCHOOL} "
        f"({admitted.filter(state=AdmissionState.ADMITTED).count()} admitted)",
        f"claim at /accounts/claim/: candidate number {freshman.candidate_number}, "
        f"ID number {demo_id_number(freshman)}, name {freshman.name}"
        + (" [claimed]" if claimed else ""),
    ]


def _demo_qualification(person: DemoPerson, student: Student) -> Qualification:
    school = School.objects.get(pk=person.school)
    qualification = qualification_create(
        student=student,
        school=school,
        name=student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number=student.id_number,
        education_type=EducationType.REGULAR,
        start_date=person.start,
        graduation_date=person.graduation,
        major_code=person.major_code,
        level=Level.BACHELOR,
        study_length=person.study_length,
        learning_form=LearningForm.FULL_TIME,
        graduation_result=GraduationResult.GRADUATED,
        principal_name=school.principal_name,
        certificate_number=person.certificate_number,
    )
    return qualification_register(qualification=qualification, acting_user=None)


def _demo_status(enrolled: DemoEnrolled) -> StudentStatus:
    """The enrolled student's person and current status (kept when seeded before)."""
    user = User.objects.get(username=enrolled.username)
    student = Student.objects.filter(user=user).first() or student_create(
        name=enrolled.name,
        gender=enrolled.gender,
        birth_date=enrolled.birth_date,
        id_type=IdType.RESIDENT_ID,
        id_number=demo_id_number(enrolled),
        ethnicity=Ethnicity.objects.get(pk=enrolled.ethnicity),
        email=user.email,
        user=user,
    )
    school = School.objects.get(pk=enrolled.school)
    status: StudentStatus
    moved: StudentStatus | None = StudentStatus.objects.filter(student=student).first()
    if moved is not None:  # kept, wherever a transfer has taken it
        return moved
    status, _created = StudentStatus.objects.get_or_create(
        school=school,
        student_number=enrolled.student_number,
        defaults={
            "student": student,
            "province_id": school.province_id,
            "level": Level.BACHELOR,
            "major_code": enrolled.major_code,
            "major_name": enrolled.major_name,
            "learning_form": LearningForm.FULL_TIME,
            "study_length": enrolled.study_length,
            "entry_date": enrolled.entry_date,
            "expected_graduation": expected_graduation(enrolled.entry_date, enrolled.study_length),
        },
    )
    return status
