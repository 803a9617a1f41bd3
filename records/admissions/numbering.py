"""A school's rules for its freshmen: the pattern of its student numbers (学号) and its entry
day, both settings of the school (``School.student_number_pattern``, ``School.entry_day``),
and the dates a registration derives from them.

A pattern is literal letters, digits and hyphens with these fields:

- ``{year}``: the entry year (``2026``), ``{yy}``: its last two digits (``26``);
- ``{school}``: the five-digit school code;
- ``{seq:N}``: the cohort's sequence number, zero-padded to N digits (1 to 9).

It holds exactly one ``{seq:N}`` and the year (``{year}`` or ``{yy}``), so two cohorts of a
school never share a number. The default, ``{year}{seq:6}``, gives ``2026000001``. Fields are
replaced by these rules, never by ``str.format`` (a pattern is typed by an administrator).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from notifications.rendering import RESIDENT_ID_LIKE

DEFAULT_PATTERN = "{year}{seq:6}"
DEFAULT_ENTRY_DAY = "09-01"
STUDENT_NUMBER_MAX = 20  # records.models.admissions.STUDENT_NUMBER_MAX (not imported: a cycle)

_TOKEN = re.compile(r"\{(year|yy|school|seq:([1-9]))\}|([A-Za-z0-9-])")
_ENTRY_DAY = re.compile(r"^(\d{2})-(\d{2})$")

PATTERN_CHARACTERS = _(
    "A student number pattern holds letters, digits, hyphens and the fields {year}, {yy}, "
    "{school} and {seq:N} (N from 1 to 9); this one has something else at position %(at)d."
)
PATTERN_ONE_SEQUENCE = _("A student number pattern has exactly one {seq:N} field.")
PATTERN_YEAR = _(
    "A student number pattern holds the year ({year} or {yy}), so that two years never share "
    "a number."
)
PATTERN_TOO_LONG = _("This pattern gives student numbers of %(length)d characters; at most 20.")
PATTERN_LIKE_ID = _(
    "This pattern gives student numbers of 18 digits, which emails would take for ID numbers; "
    "make the sequence longer or shorter."
)
ENTRY_DAY_RULE = _(
    "The entry day is a month and day as MM-DD (e.g. 09-01) that every year has (not 02-29)."
)


@dataclass(frozen=True)
class Pattern:
    """A parsed student number pattern."""

    parts: tuple[str, ...]  # literal text, or "{year}", "{yy}", "{school}", "{seq}"
    digits: int  # of the sequence

    @property
    def capacity(self) -> int:
        """The largest sequence number the pattern can hold."""
        return int(10**self.digits) - 1

    def number(self, *, year: int, school: str, sequence: int) -> str:
        values = {
            "{year}": f"{year:04d}",
            "{yy}": f"{year % 100:02d}",
            "{school}": school,
            "{seq}": f"{sequence:0{self.digits}d}",
        }
        return "".join(values.get(part, part) for part in self.parts)


def parse_pattern(text: str) -> Pattern:
    """The pattern ``text``, or ``ValidationError`` naming the rule it breaks."""
    parts: list[str] = []
    digits = 0
    sequences = 0
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValidationError(PATTERN_CHARACTERS, code="invalid", params={"at": position + 1})
        field, width, literal = match.groups()
        if literal:
            parts.append(literal)
        elif width:
            sequences += 1
            digits = int(width)
            parts.append("{seq}")
        else:
            parts.append("{" + field + "}")
        position = match.end()
    if sequences != 1:
        raise ValidationError(PATTERN_ONE_SEQUENCE, code="invalid")
    if "{year}" not in parts and "{yy}" not in parts:
        raise ValidationError(PATTERN_YEAR, code="invalid")
    pattern = Pattern(tuple(parts), digits)
    sample = pattern.number(year=2026, school="10001", sequence=pattern.capacity)
    if len(sample) > STUDENT_NUMBER_MAX:
        raise ValidationError(PATTERN_TOO_LONG, code="invalid", params={"length": len(sample)})
    if RESIDENT_ID_LIKE.search(sample):
        raise ValidationError(PATTERN_LIKE_ID, code="invalid")
    return pattern


def validate_pattern(text: str) -> None:
    parse_pattern(text)


def entry_date(entry_day: str, year: int) -> datetime.date:
    """The entry date of ``year`` by a school's entry day (``MM-DD``)."""
    match = _ENTRY_DAY.match(entry_day or "")
    if match is None:
        raise ValidationError(ENTRY_DAY_RULE, code="invalid")
    month, day = int(match.group(1)), int(match.group(2))
    if (month, day) == (2, 29):
        raise ValidationError(ENTRY_DAY_RULE, code="invalid")
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ValidationError(ENTRY_DAY_RULE, code="invalid") from exc


def validate_entry_day(text: str) -> None:
    entry_date(text, 2026)


def expected_graduation(entry: datetime.date, study_length: str) -> datetime.date:
    """1 July of the entry year plus the study length; a half year ends on 1 January instead
    (4 years from 2026 → 2030-07-01; 3.5 years → 2030-01-01)."""
    length = Decimal(study_length)
    whole = int(length)
    if length == whole:
        return datetime.date(entry.year + whole, 7, 1)
    return datetime.date(entry.year + whole + 1, 1, 1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter
    (31 August + 3 months = 30 November)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)  # noqa: PLR2004
    last = (following - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))
