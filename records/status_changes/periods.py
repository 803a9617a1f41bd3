"""The maximum study period (DOMAIN.md §4 item 12; 《普通高等学校学生管理规定》第28条): the
study length plus the school's extension (``School.max_extension_years``), counted from the
entry date with suspension and reservation inside it, not added to it."""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal
from typing import Any

from django.db import models

from records.choices import OPEN_STATUS_STATES
from records.choices import StudyLength
from records.models import School
from records.models import StudentStatus

MONTHS_A_YEAR = 12


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by ``months`` (negative: back), kept within the month (31 Jan + 1 month
    is 28 or 29 Feb)."""
    index = day.year * MONTHS_A_YEAR + day.month - 1 + months
    year, month = divmod(index, MONTHS_A_YEAR)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def _months(study_length: str, extension_years: int) -> int:
    return int(Decimal(study_length) * MONTHS_A_YEAR) + extension_years * MONTHS_A_YEAR


def max_study_end(status: StudentStatus) -> datetime.date:
    """The last day of the status's maximum study period."""
    months = _months(status.study_length, status.school.max_extension_years)
    return add_months(status.entry_date, months)


def past_max_study_period(
    statuses: models.QuerySet[Any], today: datetime.date
) -> models.QuerySet[Any]:
    """The current statuses of ``statuses`` whose maximum study period ended before
    ``today``: listed for a withdrawal review (退学, 第30条). One condition per school
    extension in use and study length, on the entry date, so the database compares a column
    with a constant."""
    extensions = School.objects.order_by().values_list("max_extension_years", flat=True).distinct()
    past = models.Q(pk__in=[])
    for extension in extensions:
        for length in StudyLength.values:
            cutoff = add_months(today, -_months(length, extension))
            past |= models.Q(
                school__max_extension_years=extension,
                study_length=length,
                entry_date__lt=cutoff,
            )
    return statuses.filter(past, state__in=[str(s) for s in OPEN_STATUS_STATES])
