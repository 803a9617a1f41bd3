"""Checking one row of an admission file: every field by its rule, each problem with its
column, a stable code and a message naming the rule (``records.admissions.imports`` runs
these and the checks that need other rows or the database)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from records.choices import Gender
from records.choices import IdType
from records.choices import LearningForm
from records.choices import Level
from records.choices import StudyLength
from records.models import AdmissionType
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import School
from records.models import SchoolMajor
from records.validators import validate_identity
from records.validators import validate_person_name

CANDIDATE_NUMBER = re.compile(r"[0-9]{14}")
FIRST_YEAR = 1990

REQUIRED = _("This column must not be empty.")
CANDIDATE_FORMAT = _("A candidate number (考生号) is 14 digits.")
CANDIDATE_YEAR = _(
    "The candidate number starts with %(given)s, but its first two digits are the year of "
    "admission (%(expected)s)."
)
CANDIDATE_PROVINCE = _(
    "Digits 3-4 of the candidate number (%(given)s) are the origin province's code (%(expected)s)."
)
NOT_A_CHOICE = _("“%(value)s” is not one of: %(choices)s.")
BAD_DATE = _("“%(value)s” is not a date (YYYY-MM-DD or YYYYMMDD).")
BAD_YEAR = _("The admission year must be a year from %(first)d to %(last)d.")
UNKNOWN_SCHOOL = _("No school has the code %(code)s in the Ministry's list.")
SCHOOL_OUT_OF_SCOPE = _("You may not import admissions for school %(code)s.")
SCHOOL_NOT_CHOSEN = _("This import is for school %(chosen)s only, not %(code)s.")
UNKNOWN_MAJOR = _(
    "The major code %(code)s is neither in the Ministry's catalogue nor one of school "
    "%(school)s's own majors."
)
MAJOR_NAME_MISMATCH = _("The major %(code)s is named “%(expected)s”, not “%(given)s”.")
UNKNOWN_PROVINCE = _("“%(value)s” is neither the code nor the name of a province.")
UNKNOWN_ADMISSION_TYPE = _("“%(value)s” is not a special admission type of the list.")
RETIRED_ADMISSION_TYPE = _("“%(value)s” is no longer admitted.")
UNKNOWN_ETHNICITY = _("“%(value)s” is neither the code nor the name of an ethnic group.")

# Spellings the provinces' files use besides our labels (both languages) and codes.
_ALIASES: dict[str, dict[str, str]] = {
    "gender": {"1": Gender.MALE, "2": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE},
    "level": {
        "专科": Level.JUNIOR_COLLEGE,
        "高职": Level.JUNIOR_COLLEGE,
        "专科(高职)": Level.JUNIOR_COLLEGE,
        "博士": Level.DOCTOR,
        "硕士": Level.MASTER,
        "第二学士": Level.SECOND_BACHELOR,
    },
    "learning_form": {"全日制": LearningForm.FULL_TIME, "业余": LearningForm.SPARE_TIME},
    "id_type": {"身份证": IdType.RESIDENT_ID},
}
_CHOICES = {
    "gender": Gender,
    "level": Level,
    "learning_form": LearningForm,
    "study_length": StudyLength,
    "id_type": IdType,
}


def _choice_lookup(column: str) -> dict[str, str]:
    choices = _CHOICES[column]
    found = {str(code).casefold(): str(code) for code in choices.values}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found.update({str(label).casefold(): str(code) for code, label in choices.choices})
    found.update({alias.casefold(): str(code) for alias, code in _ALIASES.get(column, {}).items()})
    return found


def _by_code_and_name(rows: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for row in rows:
        found[str(row.pk).casefold()] = row
        found[row.name.casefold()] = row
    return found


@dataclass
class Lookups:
    """The reference data a file's rows are checked against, read once per import."""

    schools: dict[str, School]
    allowed_schools: frozenset[str] | None  # None: every school
    chosen_school: str | None
    catalogue: dict[str, str]
    own_majors: dict[tuple[str, str], str]
    provinces: dict[str, Province]
    admission_types: dict[str, AdmissionType]
    ethnicities: dict[str, Ethnicity]
    choices: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, allowed_schools: frozenset[str] | None, chosen_school: str | None) -> Lookups:
        return cls(
            schools={school.code: school for school in School.objects.all()},
            allowed_schools=allowed_schools,
            chosen_school=chosen_school,
            catalogue=dict(Major.objects.values_list("code", "name")),
            own_majors={
                (school, code): name
                for school, code, name in SchoolMajor.objects.values_list(
                    "school_id", "code", "name"
                )
            },
            provinces=_by_code_and_name(Province.objects.all()),
            admission_types=_by_code_and_name(AdmissionType.objects.all()),
            ethnicities=_by_code_and_name(Ethnicity.objects.all()),
            choices={column: _choice_lookup(column) for column in _CHOICES},
        )


@dataclass(frozen=True)
class Problem:
    column: str  # the English name; the report shows the file's own header
    code: str
    message: str


class _Row:
    """One row being checked: its values, the problems found so far, what it became."""

    def __init__(self, values: dict[str, str], lookups: Lookups) -> None:
        self.values = values
        self.lookups = lookups
        self.problems: list[Problem] = []
        self.clean: dict[str, Any] = {}

    def problem(self, column: str, error_code: str, message: Any, /, **params: Any) -> None:
        text = str(message % params if params else message)
        self.problems.append(Problem(column, error_code, text))

    def text(self, column: str, *, required: bool = True) -> str:
        value = self.values.get(column, "").strip()
        if not value and required:
            self.problem(column, "required", REQUIRED)
        return value

    def choice(self, column: str, *, default: str | None = None) -> str | None:
        value = self.text(column, required=default is None)
        if not value:
            return default
        code = self.lookups.choices[column].get(value.casefold())
        if code is None:
            labels = "、".join(str(label) for label in _CHOICES[column].labels)
            self.problem(column, "invalid_choice", NOT_A_CHOICE, value=value, choices=labels)
        return code

    def date(self, column: str) -> datetime.date | None:
        value = self.text(column)
        if not value:
            return None
        for pattern in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"):
            try:
                return datetime.datetime.strptime(value, pattern).date()  # noqa: DTZ007
            except ValueError:
                continue
        self.problem(column, "invalid_date", BAD_DATE, value=value)
        return None


def check_row(values: dict[str, str], lookups: Lookups) -> tuple[dict[str, Any], list[Problem]]:
    """The row's clean values (meaningful only without problems) and its problems."""
    row = _Row(values, lookups)
    clean = row.clean

    name = row.text("name")
    if name:
        try:
            validate_person_name(name)
        except ValidationError as error:
            row.problem("name", "name", error.messages[0])
    clean["name"] = name
    clean["gender"] = row.choice("gender")
    clean["birth_date"] = row.date("birth_date")
    clean["id_type"] = row.choice("id_type", default=IdType.RESIDENT_ID)
    id_number = row.text("id_number")
    clean["id_number"] = id_number
    if id_number and clean["id_type"]:
        try:
            clean["id_number"] = validate_identity(
                id_type=clean["id_type"],
                id_number=id_number,
                birth_date=clean["birth_date"],
                gender=clean["gender"],
            )
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                codes = [e.code for e in error.error_dict[column]]
                for message, code in zip(messages, codes, strict=True):
                    row.problem(column, code or "invalid", message)

    _check_year_and_candidate(row)
    school = _check_school(row)
    _check_major(row, school)
    clean["level"] = row.choice("level")
    clean["learning_form"] = row.choice("learning_form")
    clean["study_length"] = row.choice("study_length")
    _check_admission_type(row)
    ethnicity = row.text("ethnicity", required=False)
    clean["ethnicity"] = None
    if ethnicity:
        found = lookups.ethnicities.get(ethnicity.casefold())
        if found is None:
            row.problem("ethnicity", "unknown", UNKNOWN_ETHNICITY, value=ethnicity)
        clean["ethnicity"] = found
    return clean, row.problems


def _check_year_and_candidate(row: _Row) -> None:
    last = timezone.localdate().year + 1
    year_text = row.text("admission_year")
    year = int(year_text) if year_text.isdigit() else None
    if year_text and (year is None or not FIRST_YEAR <= year <= last):
        row.problem("admission_year", "invalid_year", BAD_YEAR, first=FIRST_YEAR, last=last)
        year = None
    row.clean["admission_year"] = year

    origin = row.text("origin_province")
    province = row.lookups.provinces.get(origin.casefold()) if origin else None
    if origin and province is None:
        row.problem("origin_province", "unknown", UNKNOWN_PROVINCE, value=origin)
    row.clean["origin_province"] = province

    number = row.text("candidate_number")
    row.clean["candidate_number"] = number
    if not number:
        return
    if not CANDIDATE_NUMBER.fullmatch(number):
        row.problem("candidate_number", "format", CANDIDATE_FORMAT)
        return
    if year is not None and number[:2] != f"{year % 100:02d}":
        row.problem(
            "candidate_number",
            "candidate_year",
            CANDIDATE_YEAR,
            given=number[:2],
            expected=f"{year % 100:02d}",
        )
    if province is not None and number[2:4] != province.code:
        row.problem(
            "candidate_number",
            "candidate_province",
            CANDIDATE_PROVINCE,
            given=number[2:4],
            expected=province.code,
        )


def _check_school(row: _Row) -> School | None:
    code = row.text("school_code")
    row.clean["school"] = None
    school: School | None = None
    if not code:
        return None
    lookups = row.lookups
    found = lookups.schools.get(code)
    if found is None:
        row.problem("school_code", "unknown", UNKNOWN_SCHOOL, code=code)
    elif lookups.chosen_school is not None and code != lookups.chosen_school:
        row.problem(
            "school_code",
            "other_school",
            SCHOOL_NOT_CHOSEN,
            chosen=lookups.chosen_school,
            code=code,
        )
    elif lookups.allowed_schools is not None and code not in lookups.allowed_schools:
        row.problem("school_code", "out_of_scope", SCHOOL_OUT_OF_SCOPE, code=code)
    else:
        school = row.clean["school"] = found
    return school


def _check_major(row: _Row, school: School | None) -> None:
    code = row.text("major_code").upper()
    given_name = row.text("major_name", required=False)
    row.clean["major_code"], row.clean["major_name"] = code, given_name
    if not code or school is None:
        return
    name = row.lookups.catalogue.get(code) or row.lookups.own_majors.get((school.code, code))
    if name is None:
        row.problem("major_code", "unknown", UNKNOWN_MAJOR, code=code, school=school.code)
    elif given_name and given_name != name:
        row.problem(
            "major_name",
            "mismatch",
            MAJOR_NAME_MISMATCH,
            code=code,
            expected=name,
            given=given_name,
        )
    else:
        row.clean["major_name"] = name


def _check_admission_type(row: _Row) -> None:
    value = row.text("admission_type", required=False)
    row.clean["admission_type"] = None
    if not value:
        return
    found = row.lookups.admission_types.get(value.casefold())
    if found is None:
        row.problem("admission_type", "unknown", UNKNOWN_ADMISSION_TYPE, value=value)
    elif not found.active:
        row.problem("admission_type", "retired", RETIRED_ADMISSION_TYPE, value=value)
    else:
        row.clean["admission_type"] = found
