"""Who hears of a student's academic-year registration, and what the emails say. The student
hears when they have an account (``Student.user``): a short notice that they are registered
for the year (what they would check on CHSI), or that their registration is deferred, with
the reason. An email names the registration by school, academic year, student number and
major, never by an ID number; a reason typed by an officer has anything that looks like one
masked. The round's deadline reminds the school's officers and tells the province's
administrators when it passes with students still unregistered."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from notifications.services import Announcement
from notifications.services import Recipient
from notifications.services import notify_many
from records import notices
from records.models import YearRegistrationRound
from records.validators import mask_id_numbers_in
from records.years.window import label


def site_url() -> str:
    return str(settings.SITE_URL).rstrip("/") + "/"


def context(
    *, school: str, academic_year: int, student_number: str, major: str, reason: str = ""
) -> dict[str, Any]:
    """What a student's registration email says (``year_registered``, ``year_deferred``)."""
    return {
        "school": school,
        "academic_year": label(academic_year),
        "student_number": student_number,
        "major": major,
        "reason": mask_id_numbers_in(reason),
        "url": site_url(),
    }


def announce(told: Sequence[tuple[str, str, Iterable[Recipient], dict[str, Any]]]) -> None:
    """Each ``(event, object key, recipients, context)`` in one statement. A registration is
    announced once per state it reaches, so it is keyed on itself
    (``records.yearregistration:<pk>``): a bulk chunk has one audit event for a thousand
    students, not one per student to key on."""
    notify_many([Announcement(*row) for row in told])


def round_officers(year_round: YearRegistrationRound) -> list[Recipient]:
    return notices.school_officers(year_round.school)


def round_context(year_round: YearRegistrationRound, unregistered: int) -> dict[str, Any]:
    """What the round's reminders and escalation say of it."""
    return {
        "academic_year": label(year_round.academic_year),
        "opens": year_round.opens,
        "closes": year_round.closes,
        "unregistered": unregistered,
        "deferred": year_round.deferred_count,
    }
