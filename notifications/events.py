"""The events this package knows how to announce, and the context each one needs.

Adding an event (for example ``correction_approved``) takes three steps and no code elsewhere:

1. Register it below: ``Event("correction_approved", "...what happened...",
   required=("name", "request_number", "site_url"))``. The slug is the ``event`` argument of
   ``notify`` and the folder name of its templates; ``required`` lists the context keys the
   templates use (``notify`` refuses a context that lacks one).
2. Write six templates under ``notifications/templates/notifications/<slug>/``::

       zh-hans/subject.txt   zh-hans/body.txt   zh-hans/body.html
       en/subject.txt        en/body.txt        en/body.html

   ``subject.txt`` is one line. ``*.txt`` are rendered without HTML escaping; ``body.html``
   starts with ``{% extends "notifications/base.html" %}`` and fills ``{% block content %}``.
   Every template also sees ``recipient`` (a ``Recipient``) and ``language``.
3. Call it from the service that makes the change, inside its transaction::

       notify("correction_approved", object_key=f"records.correctionrequest:{req.pk}",
              recipients=[Recipient(email=u.email, language=u.language, user_id=u.pk)],
              context={"name": ..., "request_number": ..., "site_url": settings.SITE_URL})

``tests/notifications/test_events.py`` renders every registered event in both languages, so a
missing template or context key fails there first. Never put a personal ID number in a context:
``notify`` raises ``ValueError`` if anything looks like one.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_EVENT = "unknown notification event {event!r}; register it in notifications/events.py"


@dataclass(frozen=True)
class Event:
    slug: str
    description: str
    required: tuple[str, ...] = ()

    def template(self, language: str, part: str) -> str:
        """The template name of one part (``subject.txt``, ``body.txt``, ``body.html``)."""
        return f"notifications/{self.slug}/{language}/{part}"


# Correction events share one layout (notifications/correction/<lang>/base.*): each event's
# templates only set the headline. ``fields`` are the labels of the corrected fields (never
# their values, which may be ID numbers); ``state`` and ``waiting_for`` the request's state and
# the step it now waits for, in the pages' words (empty when it waits for nobody); ``url``
# links to the request.
CORRECTION_CONTEXT = (
    "request_id",
    "school",
    "fields",
    "state",
    "waiting_for",
    "comment",
    "url",
)
# Deadline events share one layout too (notifications/task/<lang>/base.*): the task's title and
# step, whose subject it is (student, school), when it is due, and a link.
TASK_CONTEXT = ("title", "step", "student", "school", "due", "url")

EVENTS: dict[str, Event] = {
    event.slug: event
    for event in (
        Event(
            "password_changed",
            "Security notice: the account's password was changed.",
            required=("name", "changed_at", "site_url"),
        ),
        Event(
            "email_change_confirm",
            "To the new address: confirm the change of the account's email (a signed link).",
            required=("name", "new_email", "requested_at", "confirm_url", "expires_at"),
        ),
        Event(
            "email_change_requested",
            "Security notice to the current address: a change of email was asked for.",
            required=("name", "new_email", "requested_at", "site_url"),
        ),
        Event(
            "account_claimed",
            "To a freshman's address: the account they claimed with their admission exists.",
            required=("name", "username", "school", "year", "claimed_at", "login_url"),
        ),
        *(
            Event(slug, description, required=CORRECTION_CONTEXT)
            for slug, description in (
                ("correction_received", "Receipt to the requester: a correction was filed."),
                (
                    "correction_review_needed",
                    "To the school's officers: a correction awaits review.",
                ),
                ("correction_forwarded", "To the province's administrators: awaits sign-off."),
                ("correction_returned", "To the requester and student: returned for revision."),
                ("correction_rejected", "To the requester and student: rejected."),
                ("correction_approved", "To the requester and student: approved and applied."),
                ("correction_withdrawn", "To whoever holds the open task: withdrawn."),
            )
        ),
        Event(
            "task_due_soon",
            "To whoever may take a task: it is due in two working days (``past_due``: it "
            "already is overdue).",
            required=(*TASK_CONTEXT, "past_due"),
        ),
        Event(
            "task_overdue",
            "To the province's administrators: a task of a school in their province is overdue.",
            required=TASK_CONTEXT,
        ),
    )
}


def get_event(slug: str) -> Event:
    try:
        return EVENTS[slug]
    except KeyError:
        raise ValueError(UNKNOWN_EVENT.format(event=slug)) from None
