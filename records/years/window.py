"""A school's window for its academic-year registration (学年注册): the settings of the school
(``School.year_registration_opens``, ``School.year_registration_closes``, as MM-DD) and the
dates an academic year takes from them.

DOMAIN.md §2.2: the registration happens in the first term of each academic year, the
platform's window is set yearly and schools finish early in the autumn term; the defaults
open on 1 September and close on 30 September. A closing day earlier in the calendar than
the opening day falls in the next calendar year (09-15 to 01-10 is a window over the new
year), so a window can cover the whole first term.

An academic year is named by the calendar year it starts in: 2027 is 2027–2028. Its first day
is the school's entry day of that year (``School.entry_day``): the freshmen who enter then
are registered with their cohort (DOMAIN.md §2.2, "the first year is covered by the freshman
registration"), so a round registers the students who entered before it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from records.admissions.numbering import entry_date

DEFAULT_OPENS = "09-01"
DEFAULT_CLOSES = "09-30"

_DAY = re.compile(r"^(\d{2})-(\d{2})$")

DAY_RULE = _("A day of the window is a month and day as MM-DD (e.g. 09-30) that every year has.")


def day_in(text: str, year: int) -> datetime.date:
    """The day ``text`` (MM-DD, never 02-29) of ``year``."""
    match = _DAY.match(text or "")
    if match is None or (match.group(1), match.group(2)) == ("02", "29"):
        raise ValidationError(DAY_RULE, code="invalid")
    try:
        return datetime.date(year, int(match.group(1)), int(match.group(2)))
    except ValueError as exc:
        raise ValidationError(DAY_RULE, code="invalid") from exc


def validate_day(text: str) -> None:
    day_in(text, 2027)


@dataclass(frozen=True)
class Window:
    """The dates of one academic year's registration at a school."""

    academic_year: int
    starts: datetime.date  # the academic year's first day: who entered before it registers
    opens: datetime.date
    closes: datetime.date  # the last day of the window (inclusive)

    @property
    def deadline(self) -> datetime.datetime:
        """The end of the window: the start of the day after its last day, in the site's time
        zone (closes 30 September → 1 October, 00:00)."""
        return deadline_after(self.closes)


def deadline_after(closes: datetime.date) -> datetime.datetime:
    day = closes + datetime.timedelta(days=1)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE))


def window_of(*, entry_day: str, opens: str, closes: str, academic_year: int) -> Window:
    """The window of ``academic_year`` by a school's settings."""
    opening = day_in(opens, academic_year)
    closing = day_in(closes, academic_year)
    if closing < opening:
        closing = day_in(closes, academic_year + 1)
    return Window(
        academic_year=academic_year,
        starts=entry_date(entry_day, academic_year),
        opens=opening,
        closes=closing,
    )


def label(academic_year: int) -> str:
    """``2027–2028``: how pages, emails and the API name an academic year."""
    return f"{academic_year}–{academic_year + 1}"
