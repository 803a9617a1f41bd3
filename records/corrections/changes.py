"""What a correction changes: parsing and checking the requested values against the
qualification, and showing them as the pages do."""

from __future__ import annotations

import copy
import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from records.models import CORRECTABLE_FIELDS
from records.models import Major
from records.models import Qualification
from records.models import School
from records.models import SchoolMajor
from records.qualifications import validate_qualification

NO_CHANGES = _("Name at least one field to correct.")
FIELD_NOT_CORRECTABLE = _(
    "%(field)s cannot be corrected: only identity fields, study dates, major, level, learning "
    "form, study length, graduation result and certificate number can."
)
UNCHANGED = _("The new value is the same as the current one.")
BAD_DATE = _("Enter a date as YYYY-MM-DD.")
NOT_A_CHOICE = _("Choose one of: %(choices)s.")
UNKNOWN_MAJOR = _(
    "“%(value)s” is neither the code nor the exact name of a major in the Ministry's catalogue "
    "or among school %(school)s's own majors."
)

DATE_FIELDS = frozenset({"birth_date", "start_date", "graduation_date"})


def display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def value_label(field: str, value: Any) -> Any:
    """A stored value of a correctable field as the pages show it: a choice's label in the
    active language (``female`` → 女), anything else as it is."""
    field_object = Qualification._meta.get_field(field)
    return dict(field_object.choices or []).get(value, value)


def parse_choice(field: str, value: str) -> str:
    """A choice field's code, given as the code (``female``) or as its label in any of the
    site's languages (``女``, ``Female``), as the pages show it."""
    choices = Qualification._meta.get_field(field).choices or []
    codes = [str(code) for code, _label in choices]
    if value in codes:
        return value
    wanted = value.casefold()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in choices:
                if str(label).casefold() == wanted:
                    return str(code)
    separator = "、" if translation.get_language() == "zh-hans" else ", "
    labels = separator.join(str(label) for _code, label in choices)
    raise ValidationError(
        {
            f"changes.{field}": ValidationError(
                NOT_A_CHOICE, code="invalid_choice", params={"choices": labels}
            )
        }
    )


def parse_value(field: str, raw: Any) -> Any:
    value = str(raw).strip() if raw is not None else ""
    if field in DATE_FIELDS:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({f"changes.{field}": ValidationError(BAD_DATE)}) from exc
    if Qualification._meta.get_field(field).choices:
        return parse_choice(field, value)
    return value


def parse_major(school: School, value: str) -> str:
    """A major's code, given as the code (``080901``) or as its exact name (计算机科学与技术):
    the Ministry's catalogue first, then the school's own majors."""
    for given in dict.fromkeys((value, value.upper())):  # codes end in capitals: 010103K
        if Major.objects.filter(pk=given).exists() or school.own_majors.filter(code=given).exists():
            return given
    code = (
        Major.objects.filter(name=value).values_list("code", flat=True).first()
        or SchoolMajor.objects.filter(school=school, name=value)
        .values_list("code", flat=True)
        .first()
    )
    if code is None:
        raise ValidationError(
            {
                "changes.major_code": ValidationError(
                    UNKNOWN_MAJOR, code="unknown", params={"value": value, "school": school.code}
                )
            }
        )
    return code


def parse_changes(qualification: Qualification, raw: dict[str, Any]) -> list[dict[str, str]]:
    """Validate requested changes against the qualification as it is now.

    Returns ``[{"field", "old", "new"}]``. Each new value must differ from the current one and
    the qualification must satisfy every registration rule after all changes (an ID number
    change must agree with the birth date and gender after the change). Errors are keyed
    ``changes.<field>``.
    """
    if not isinstance(raw, dict) or not raw:
        raise ValidationError({"changes": ValidationError(NO_CHANGES, code="required")})
    errors: dict[str, list[ValidationError]] = {}
    candidate = copy.copy(qualification)
    parsed: list[dict[str, str]] = []
    for field, raw_value in raw.items():
        if field not in CORRECTABLE_FIELDS:
            errors.setdefault(f"changes.{field}", []).append(
                ValidationError(
                    FIELD_NOT_CORRECTABLE, code="not_correctable", params={"field": field}
                )
            )
            continue
        try:
            value = parse_value(field, raw_value)
            if field == "major_code":
                value = parse_major(qualification.school, value)
        except ValidationError as exc:
            for key, errs in exc.error_dict.items():
                errors.setdefault(key, []).extend(errs)
            continue
        old = getattr(qualification, field)
        if display(value) == display(old):
            errors.setdefault(f"changes.{field}", []).append(
                ValidationError(UNCHANGED, code="unchanged")
            )
            continue
        setattr(candidate, field, value)
        parsed.append({"field": field, "old": display(old), "new": display(value)})
    if not errors:
        try:
            validate_qualification(candidate, changed={c["field"] for c in parsed})
        except ValidationError as exc:
            for key, errs in exc.error_dict.items():
                errors.setdefault(f"changes.{key}", []).extend(errs)
    if errors:
        raise ValidationError(errors)
    for change in parsed:  # the ID number as normalized by its validator
        change["new"] = display(getattr(candidate, change["field"]))
    return parsed
