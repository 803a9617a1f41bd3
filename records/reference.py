"""Loading the public reference data shipped in ``records/data`` (see its README.md)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from records.models import AdmissionType
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import School
from records.models import SchoolMajor

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


@dataclass
class LoadCount:
    model: str
    created: int
    updated: int
    unchanged: int


def _upsert(model: type[models.Model], rows: Sequence[Mapping[str, object]]) -> LoadCount:
    """Insert new rows, update changed ones, leave the rest: safe to run again and again."""
    pk_name = model._meta.pk.name
    existing = {obj.pk: obj for obj in model._default_manager.all()}
    fields = [k for k in rows[0] if k != pk_name] if rows else []
    to_create, to_update = [], []
    for row in rows:
        obj = existing.get(row[pk_name])
        if obj is None:
            to_create.append(model(**row))
        elif any(getattr(obj, f) != row[f] for f in fields):
            for field, value in row.items():
                setattr(obj, field, value)
            to_update.append(obj)
    model._default_manager.bulk_create(to_create, batch_size=1000)
    if to_update:
        model._default_manager.bulk_update(to_update, fields, batch_size=1000)
    unchanged = len(rows) - len(to_create) - len(to_update)
    return LoadCount(model._meta.verbose_name_plural, len(to_create), len(to_update), unchanged)  # type: ignore[arg-type]


@transaction.atomic
def load_reference_data() -> list[LoadCount]:
    provinces = [
        {"code": r["code"], "name": r["name"], "note": r["note"]} for r in _rows("provinces.csv")
    ]
    schools = [
        {
            "code": r["code"],
            "identifier": r["identifier"],
            "name": r["name"],
            "province_id": r["province_code"],
            "department": r["department"],
            "level": r["level"],
            "remarks": r["remarks"],
        }
        for r in _rows("schools.csv")
    ]
    majors = [
        {
            "code": r["code"],
            "name": r["name"],
            "discipline": r["discipline"],
            "class_code": r["class_code"],
            "class_name": r["class_name"],
            "note": r["note"],
        }
        for r in _rows("majors_undergraduate.csv")
    ]
    ethnicities = [
        {"code": r["code"], "name": r["name"], "note": r["note"]}
        for r in _rows("ethnic_groups.csv")
    ]
    admission_types = [
        {
            "code": r["code"],
            "name": r["name"],
            "name_en": r["name_en"],
            "active": r["active"] == "true",
            "note": r["note"],
        }
        for r in _rows("admission_types.csv")
    ]
    return [
        _upsert(Province, provinces),
        _upsert(School, schools),
        _upsert(Major, majors),
        _upsert(Ethnicity, ethnicities),
        _upsert(AdmissionType, admission_types),
    ]


UNKNOWN_SCHOOL = _("No school has the code %(code)s in the Ministry's list.")
UNKNOWN_MAJOR = _(
    "The major code %(code)s is neither in the Ministry's catalogue nor one of school "
    "%(school)s's own majors."
)
UNKNOWN_ETHNICITY = _("No ethnic group has the code %(code)s (GB/T 3304).")


def school_by_code(code: str, *, field: str = "school") -> School:
    """The school with this code, or a ``ValidationError`` on ``field``."""
    school = School.objects.filter(pk=code).first()
    if school is None:
        raise ValidationError(
            {field: ValidationError(UNKNOWN_SCHOOL, code="unknown", params={"code": code})}
        )
    return school


def major_name(school: School, code: str, *, field: str = "major_code") -> str:
    """The name of a major the school may award: the catalogue's, or the school's own."""
    name = (
        Major.objects.filter(pk=code).values_list("name", flat=True).first()
        or SchoolMajor.objects.filter(school=school, code=code)
        .values_list("name", flat=True)
        .first()
    )
    if name is None:
        raise ValidationError(
            {
                field: ValidationError(
                    UNKNOWN_MAJOR, code="unknown", params={"code": code, "school": school.code}
                )
            }
        )
    return name


def ethnicity_by_code(code: str, *, field: str = "ethnicity") -> Ethnicity:
    ethnicity = Ethnicity.objects.filter(pk=code).first()
    if ethnicity is None:
        raise ValidationError(
            {field: ValidationError(UNKNOWN_ETHNICITY, code="unknown", params={"code": code})}
        )
    return ethnicity
