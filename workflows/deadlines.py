"""Working days (chinese-calendar: weekends, public holidays and the make-up working days
the State Council announces each year) and the due times of human steps.

chinese-calendar knows each year once the State Council has published its holiday plan (its
1.11 release: up to 2026). For a later year it knows nothing: there, Monday to Friday count as
working days (and a warning is logged once per year) until the package is updated.
"""

from __future__ import annotations

import datetime
import functools
import logging

import chinese_calendar

logger = logging.getLogger(__name__)


@functools.cache
def _warn_unknown_year(year: int) -> None:
    logger.warning(
        "chinese-calendar has no holiday data for %s: counting Monday to Friday as working "
        "days; update chinese-calendar",
        year,
    )


def is_working_day(day: datetime.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the installed release does not know yet
        _warn_unknown_year(day.year)
        return day.weekday() < 5  # noqa: PLR2004  (Saturday is 5)


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """The same local time of day, ``days`` working days after ``start``'s day (before it
    when ``days`` is negative)."""
    step = 1 if days >= 0 else -1
    day = start.date()
    remaining = abs(days)
    while remaining:
        day += datetime.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return start.replace(year=day.year, month=day.month, day=day.day)


REMIND_BEFORE = 2  # working days before the due time, the assignees are reminded


def due_times(
    opened: datetime.datetime, period: int
) -> tuple[datetime.datetime, datetime.datetime]:
    """When a task opened at ``opened`` with ``period`` working days is due, and when its
    assignees are reminded (two working days before, or at once for a shorter period)."""
    due = add_working_days(opened, period)
    remind = add_working_days(due, -REMIND_BEFORE) if period > REMIND_BEFORE else opened
    return due, remind
