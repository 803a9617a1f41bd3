"""Admission files for the tests: rows that pass every check, and the files that carry them
(CSV in UTF-8, UTF-8 with BOM or GBK; XLSX)."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from typing import Any

from django.core.files.base import ContentFile

from records.admissions.imports import queue_import
from records.admissions.imports import run_import
from records.choices import Gender
from records.models import AdmissionImport
from records.models import AdmissionType
from records.models import User
from tests import factories

ENGLISH = [
    "candidate_number",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "school_code",
    "major_code",
    "major_name",
    "level",
    "study_length",
    "learning_form",
    "admission_type",
    "admission_year",
    "origin_province",
]
CHINESE = [
    "考生号",
    "姓名",
    "性别",
    "出生日期",
    "证件类型",
    "证件号码",
    "学校代码",
    "专业代码",
    "专业名称",
    "层次",
    "学制",
    "学习形式",
    "特殊招生类型",
    "入学年份",
    "生源地",
]


def reference() -> None:
    """What the rows name: the major and two admission types (one no longer admitted)."""
    factories.major("080901", "计算机科学与技术")
    AdmissionType.objects.get_or_create(
        code="national_special_plan", defaults={"name": "国家专项计划", "name_en": "National"}
    )
    AdmissionType.objects.get_or_create(
        code="national_defense",
        defaults={"name": "国防生", "name_en": "National defence", "active": False},
    )


def row(n: int, **overrides: Any) -> dict[str, str]:
    """The n-th freshman: a valid row of school 10001, from 北京市, admitted in 2026."""
    gender = Gender.MALE if n % 2 else Gender.FEMALE
    birth = datetime.date(2007, 1, 1) + datetime.timedelta(days=n % 300)
    values = {
        "candidate_number": f"2611{n:010d}",
        "name": f"学生{chr(0x4E00 + n % 500)}{chr(0x4E00 + n // 500 % 500)}",
        "gender": "男" if gender == Gender.MALE else "女",
        "birth_date": birth.isoformat(),
        "id_type": "",
        "id_number": factories.resident_id(birth, gender, serial=n % 499 + 1, region="110108"),
        "school_code": "10001",
        "major_code": "080901",
        "major_name": "计算机科学与技术",
        "level": "本科",
        "study_length": "4",
        "learning_form": "普通全日制",
        "admission_type": "",
        "admission_year": "2026",
        "origin_province": "11",
    }
    values.update(overrides)
    return values


def csv_bytes(
    rows: list[dict[str, str]], *, encoding: str = "utf-8", chinese: bool = False
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CHINESE if chinese else ENGLISH)
    for values in rows:
        writer.writerow([values.get(column, "") for column in ENGLISH])
    text = out.getvalue()
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode(encoding)


def xlsx_bytes(rows: list[dict[str, str]], *, chinese: bool = True) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CHINESE if chinese else ENGLISH)
    for values in rows:
        cells: list[Any] = [values.get(column, "") for column in ENGLISH]
        cells[ENGLISH.index("admission_year")] = int(values["admission_year"] or 0) or ""
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def imported(
    content: bytes, user: User | None, *, mode: str = "skip_invalid", name: str = "freshmen.csv"
) -> AdmissionImport:
    batch = queue_import(upload=ContentFile(content), name=name, user=user, mode=mode)
    return run_import(batch.pk)


def errors_of(batch: AdmissionImport) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.code) for e in batch.errors.all()]
