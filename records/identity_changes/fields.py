"""The fields an identity change may change (DOMAIN.md §2.6), declared once: where each lives
(the person or the status), how a given value is read and checked, and how its stored value
is shown. The API's field list, the pages' form and the services read these declarations."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from records.choices import OPEN_STATUS_STATES
from records.choices import LearningForm
from records.models import Ethnicity
from records.models import Student
from records.models import StudentStatus
from records.status_changes.types import major_name
from records.validators import masked_value
from records.validators import validate_identity
from records.validators import validate_person_name

PERSON = "person"
STATUS = "status"

NO_CHANGES = _("Name at least one field to change.")
NOT_CHANGEABLE = _(
    "%(field)s is not changed by an identity change: name, gender, birth date, ID type, ID "
    "number, ethnic group, major, level, learning form or study length."
)
UNCHANGED = _("The new value is the same as the current one.")
REQUIRED = _("Give the new value.")
NOT_A_DATE = _("Enter a date as YYYY-MM-DD.")
NOT_A_CHOICE = _("Choose one of: %(choices)s.")
UNKNOWN_ETHNICITY = _("“%(value)s” is not the code of an ethnic group (GB/T 3304).")
UNKNOWN_MAJOR = _(
    "“%(value)s” is not the code of a major in the Ministry's catalogue or among the "
    "school's own majors."
)
ID_TAKEN = _("Another person holds this ID document (rule unique_id_number).")
FULL_TIME_TAKEN = _(
    "The student already has another current full-time status (rule one_full_time_status, "
    "DOMAIN.md §4 item 1)."
)


@dataclass(frozen=True, kw_only=True)
class IdentityField:
    """One changeable field: its name in requests, the record it lives on and the model
    field (``attname`` as stored), and its kind (``text``, ``date``, ``choice``,
    ``ethnicity``, ``major``)."""

    name: str
    target: str  # PERSON or STATUS
    kind: str

    @property
    def model(self) -> type[models.Model]:
        return Student if self.target == PERSON else StudentStatus

    @property
    def model_field(self) -> Any:
        return self.model._meta.get_field(self.name)

    @property
    def label(self) -> StrOrPromise:
        label: StrOrPromise = self.model_field.verbose_name
        return label

    @property
    def attname(self) -> str:
        return str(self.model_field.attname)

    @property
    def choices(self) -> list[tuple[str, StrOrPromise]]:
        return [(str(code), label) for code, label in (self.model_field.choices or [])]

    def current(self, status: StudentStatus) -> str:
        """The value the record holds now, as stored in a request."""
        record = status.student if self.target == PERSON else status
        return stored(getattr(record, self.attname))

    def shown(self, value: str | None) -> Any:
        """A stored value as the pages show it: a choice's label, an ethnic group's name, an
        ID number masked."""
        if value in (None, ""):
            return ""
        if self.kind == "choice":
            return dict(self.choices).get(str(value), value)
        if self.kind == "ethnicity":
            name = Ethnicity.objects.filter(pk=value).values_list("name", flat=True).first()
            return name or value
        return masked_value(self.name, value)


FIELDS: tuple[IdentityField, ...] = (
    IdentityField(name="name", target=PERSON, kind="text"),
    IdentityField(name="gender", target=PERSON, kind="choice"),
    IdentityField(name="birth_date", target=PERSON, kind="date"),
    IdentityField(name="id_type", target=PERSON, kind="choice"),
    IdentityField(name="id_number", target=PERSON, kind="text"),
    IdentityField(name="ethnicity", target=PERSON, kind="ethnicity"),
    IdentityField(name="major_code", target=STATUS, kind="major"),
    IdentityField(name="level", target=STATUS, kind="choice"),
    IdentityField(name="learning_form", target=STATUS, kind="choice"),
    IdentityField(name="study_length", target=STATUS, kind="choice"),
)
BY_NAME: dict[str, IdentityField] = {f.name: f for f in FIELDS}


def stored(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _parse_one(field: IdentityField, raw: Any, status: StudentStatus) -> str:
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValidationError(REQUIRED, code="required")
    if field.kind == "date":
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(NOT_A_DATE, code="invalid_date") from None
    if field.kind == "choice":
        for code, label in field.choices:
            if text in (code, str(label)):
                return code
        codes = ", ".join(code for code, _label in field.choices)
        raise ValidationError(NOT_A_CHOICE, code="invalid_choice", params={"choices": codes})
    if field.kind == "ethnicity":
        if not Ethnicity.objects.filter(pk=text).exists():
            raise ValidationError(UNKNOWN_ETHNICITY, code="unknown", params={"value": text})
        return text
    if field.kind == "major":
        for code in dict.fromkeys((text, text.upper())):
            if major_name(status, code) is not None:
                return code
        raise ValidationError(UNKNOWN_MAJOR, code="unknown_major", params={"value": text})
    if field.name == "name":
        validate_person_name(text)
    return text


def parse_changes(status: StudentStatus, raw: Mapping[str, Any]) -> list[dict[str, str]]:
    """The requested changes of ``status`` (and its person) as ``[{"field", "old", "new"}]``,
    checked against the records as they are now: each new value differs from the current
    one, the identity as a whole holds (an ID number agrees with the birth date and gender
    after the change, python-stdnum's check of a resident ID; no one else holds the
    document), and a full-time status stays the person's only current one. Every error at
    once, keyed ``fields.<name>``."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError({"fields": ValidationError(NO_CHANGES, code="required")})
    errors: dict[str, list[ValidationError]] = {}
    parsed: list[dict[str, str]] = []
    for name, value in raw.items():
        field = BY_NAME.get(name)
        key = f"fields.{name}"
        if field is None:
            errors.setdefault(key, []).append(
                ValidationError(NOT_CHANGEABLE, code="not_changeable", params={"field": name})
            )
            continue
        try:
            new = _parse_one(field, value, status)
        except ValidationError as exc:
            errors.setdefault(key, []).extend(exc.error_list)
            continue
        old = field.current(status)
        if new == old:
            errors.setdefault(key, []).append(ValidationError(UNCHANGED, code="unchanged"))
            continue
        parsed.append({"field": name, "old": old, "new": new})
    if not errors:
        _check_whole(status, parsed, errors)
    if errors:
        raise ValidationError(errors)
    return parsed


def _check_whole(
    status: StudentStatus, parsed: list[dict[str, str]], errors: dict[str, list[ValidationError]]
) -> None:
    """The identity after the change, and the one-full-time-status rule; normalizes a new ID
    number in ``parsed``."""
    new = {c["field"]: c["new"] for c in parsed}
    person = status.student
    if {"id_type", "id_number", "birth_date", "gender"} & set(new):
        birth = new.get("birth_date")
        try:
            number = validate_identity(
                id_type=new.get("id_type", person.id_type),
                id_number=new.get("id_number", person.id_number),
                birth_date=datetime.date.fromisoformat(birth) if birth else person.birth_date,
                gender=new.get("gender", person.gender),
            )
        except ValidationError as exc:
            for name, found in exc.error_dict.items():
                errors.setdefault(f"fields.{name}", []).extend(found)
            return
        document = (new.get("id_type", person.id_type), number)
        if "id_number" in new:
            for change in parsed:
                if change["field"] == "id_number":
                    change["new"] = number
        if document != (person.id_type, person.id_number):
            taken = (
                Student.objects.filter(id_type=document[0], id_number=document[1])
                .exclude(pk=person.pk)
                .exists()
            )
            if taken:
                key = "fields.id_number" if "id_number" in new else "fields.id_type"
                errors.setdefault(key, []).append(ValidationError(ID_TAKEN, code="taken"))
    if new.get("learning_form") == LearningForm.FULL_TIME:
        other = (
            StudentStatus.objects.filter(
                student_id=status.student_id,
                learning_form=LearningForm.FULL_TIME,
                state__in=OPEN_STATUS_STATES,
            )
            .exclude(pk=status.pk)
            .exists()
        )
        if other:
            errors.setdefault("fields.learning_form", []).append(
                ValidationError(FULL_TIME_TAKEN, code="one_full_time_status")
            )


def shown_changes(changes: list[dict[str, str]]) -> list[tuple[Any, Any, Any]]:
    """``(label, old, new)`` of a request's changes as the pages and emails show them."""
    rows = []
    for change in changes:
        field = BY_NAME.get(change["field"])
        if field is None:
            continue
        rows.append((field.label, field.shown(change.get("old")), field.shown(change.get("new"))))
    return rows


def masked_changes(changes: list[dict[str, str]]) -> list[dict[str, str]]:
    """A request's changes with any ID number masked (what the API and histories show)."""
    return [
        {
            "field": c["field"],
            "old": masked_value(c["field"], c.get("old")),
            "new": masked_value(c["field"], c.get("new")),
        }
        for c in changes
    ]
