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
# Status change events share one layout (notifications/status_change/<lang>/base.*): the
# request's number, school, student (by name) and type (``change``, its label), its state
# and the step it now waits for, the decider's comment, and a link.
STATUS_CHANGE_CONTEXT = (
    "request_id",
    "school",
    "student",
    "change",
    "state",
    "waiting_for",
    "comment",
    "url",
)
# Certificate proof events share one layout (notifications/certificate_proof/<lang>/base.*):
# the application's number, school, student (by name), the last six characters of the
# certificate number it replaces (never 18 digits: they would look like an ID number), why
# (``loss``: lost or damaged), the proof's number once issued, its state and the step it now
# waits for, the decider's comment, and a link.
CERTIFICATE_PROOF_CONTEXT = (
    "request_id",
    "school",
    "student",
    "certificate_ending",
    "loss",
    "proof_number",
    "state",
    "waiting_for",
    "comment",
    "url",
)
# An adverse decision's events (a status change of an adverse type, an admission's
# cancellation; layout notifications/adverse/<lang>/base.*) say what a status change's say
# (``change``: what is decided) and what its appeal period says: the written decision, its
# delivery date, the appeal's stage, the deadline of the open window, the days to appeal at
# the school and at the province.
ADVERSE_CONTEXT = (
    *STATUS_CHANGE_CONTEXT,
    "decision_text",
    "delivered_on",
    "appeal",
    "appeal_deadline",
    "school_days",
    "province_days",
)
# A transfer's own events add its receiving school and the end of its public notice.
TRANSFER_CONTEXT = (*STATUS_CHANGE_CONTEXT, "target_school", "notice_ends")
# Deadline events share one layout too (notifications/task/<lang>/base.*): the task's title and
# step, whose subject it is (student, school), when it is due, and a link.
TASK_CONTEXT = ("title", "step", "student", "school", "due", "url")
# Identity change events share one layout (notifications/identity_change/<lang>/base.*): the
# request's number, school, student (by name), the changed fields' labels (never their
# values), its state and the step it now waits for, the decider's comment, and a link.
IDENTITY_CHANGE_CONTEXT = (
    "request_id",
    "school",
    "student",
    "fields",
    "state",
    "waiting_for",
    "comment",
    "url",
)
# Admission events share one layout (notifications/admission/<lang>/base.*): the admission by
# its school, year, programme and candidate number (never the ID number), the outcome's reason
# (``until`` when retained), how many days the student has to appeal, and a link.
ADMISSION_CONTEXT = (
    "school",
    "year",
    "major",
    "level",
    "learning_form",
    "candidate_number",
    "reason",
    "until",
    "appeal_days",
    "url",
)
# The re-examination's deadline emails (notifications/admission_review/<lang>/base.*): the
# task's context, the cohort's year and entry date, and how many are still unexamined.
ADMISSION_REVIEW_CONTEXT = (*TASK_CONTEXT, "year", "entry_date", "unexamined")
# A student's academic-year registration (notifications/year/<lang>/base.*): the school, the
# academic year ("2027–2028"), the student number and major (never the ID number), a
# deferral's reason, and a link.
YEAR_CONTEXT = ("school", "academic_year", "student_number", "major", "reason", "url")
# The round's deadline emails (notifications/year_registration/<lang>/base.*): the task's
# context, the academic year, its window, and how many are neither registered nor deferred.
YEAR_ROUND_CONTEXT = (*TASK_CONTEXT, "academic_year", "opens", "closes", "unregistered", "deferred")

# Qualification registration's re-check events share one layout
# (notifications/graduation/<lang>/base.*): the school, the graduation date, the graduate by
# name, student number and major (never an ID number), the photo comparison's result, the
# school's finding, and a link to the cohort.
GRADUATION_RECHECK_CONTEXT = (
    "school",
    "graduation_date",
    "student",
    "student_number",
    "major",
    "identity_check",
    "finding",
    "url",
)

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
        *(
            Event(slug, description, required=STATUS_CHANGE_CONTEXT)
            for slug, description in (
                ("status_change_received", "Receipt to the requester and student: filed."),
                (
                    "status_change_review_needed",
                    "To the school's officers who may take its next school step.",
                ),
                ("status_change_forwarded", "To the province's administrators: to confirm."),
                ("status_change_returned", "To the requester and student: returned."),
                ("status_change_rejected", "To the requester and student: rejected."),
                ("status_change_approved", "To the requester and student: approved, applied."),
                ("status_change_withdrawn", "To whoever could take the open task: withdrawn."),
            )
        ),
        *(
            Event(slug, description, required=CERTIFICATE_PROOF_CONTEXT)
            for slug, description in (
                ("certificate_proof_received", "Receipt to the requester and student: filed."),
                (
                    "certificate_proof_review_needed",
                    "To the school's officers (never the requester): an application to decide.",
                ),
                ("certificate_proof_returned", "To the requester and student: returned."),
                ("certificate_proof_rejected", "To the requester and student: rejected."),
                (
                    "certificate_proof_approved",
                    "To the requester and student: the proof is issued, with its number; the "
                    "certificate is marked lost.",
                ),
                ("certificate_proof_withdrawn", "To whoever could take the open task: withdrawn."),
            )
        ),
        *(
            Event(slug, description, required=ADVERSE_CONTEXT)
            for slug, description in (
                (
                    "adverse_decision_issued",
                    "To the requester and student: the written decision, with the appeal route.",
                ),
                (
                    "adverse_delivered",
                    "To the requester and student: delivered; the appeal deadline.",
                ),
                ("adverse_appeal_received", "Receipt to the student: an appeal filed."),
                (
                    "adverse_appeal_filed",
                    "To the school's officers or the province's administrators: an appeal.",
                ),
                (
                    "adverse_appeal_upheld",
                    "To the requester and student: upheld by the school; the province's route.",
                ),
                ("adverse_overturned", "To the requester and student: cancelled on appeal."),
                (
                    "adverse_decision_effective",
                    "To the requester and student: the decision took effect.",
                ),
            )
        ),
        *(
            Event(slug, description, required=STATUS_CHANGE_CONTEXT)
            for slug, description in (
                (
                    "revocation_review_needed",
                    "A revocation, to the school's officers (never the requester): to decide.",
                ),
                ("revocation_rejected", "A revocation, to the requester and student: rejected."),
                (
                    "revocation_confirm_needed",
                    "A revocation, to the province's administrators: the appeal period is over.",
                ),
                (
                    "revocation_revoked",
                    "A revocation, to the requester and student: the qualification is revoked.",
                ),
                ("revocation_refused", "A revocation, to the requester and student: refused."),
            )
        ),
        *(
            Event(slug, description, required=TRANSFER_CONTEXT)
            for slug, description in (
                (
                    "status_change_transfer_sent",
                    "A transfer, to the student and both schools' officers: the sending school "
                    "approved, the receiving school decides.",
                ),
                (
                    "status_change_in_notice",
                    "A transfer, to the student and both schools' officers: accepted, in "
                    "public notice until ``notice_ends``.",
                ),
                (
                    "status_change_notice_ended",
                    "A transfer, to the provinces' administrators, the student and both "
                    "schools' officers: the notice ended, the provinces confirm.",
                ),
                (
                    "status_change_province_confirmed",
                    "A cross-province transfer, to the provinces, the student and both "
                    "schools: one province confirmed.",
                ),
            )
        ),
        *(
            Event(slug, description, required=IDENTITY_CHANGE_CONTEXT)
            for slug, description in (
                ("identity_change_received", "Receipt to the requester and student: filed."),
                ("identity_change_review_needed", "To the school's officers: to review."),
                ("identity_change_forwarded", "To the province's administrators: to review."),
                ("identity_change_returned", "To the requester and student: returned."),
                ("identity_change_rejected", "To the requester and student: rejected."),
                ("identity_change_approved", "To the requester and student: approved, applied."),
                ("identity_change_withdrawn", "To whoever could take the open task: withdrawn."),
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
        Event(
            "admission_registered",
            "To the student: the admission is registered, with the student number.",
            required=(*ADMISSION_CONTEXT, "student_number", "entry_date", "expected_graduation"),
        ),
        Event(
            "admission_gave_up",
            "To the student: giving up the admission is recorded.",
            required=ADMISSION_CONTEXT,
        ),
        Event(
            "admission_retained",
            "To the student: the admission is retained until ``until``.",
            required=ADMISSION_CONTEXT,
        ),
        Event(
            "admission_cancellation_refused",
            "To the officer who asked: a second officer refused the cancellation.",
            required=(*ADMISSION_CONTEXT, "comment", "cancellation_id", "student"),
        ),
        Event(
            "admission_review_due_soon",
            "To the school's officers: the cohort's re-examination ends in 14 or 3 days "
            "(``past_due``: it already has).",
            required=(*ADMISSION_REVIEW_CONTEXT, "past_due"),
        ),
        Event(
            "admission_review_reopened",
            "To the school's officers: admissions were imported into the cohort after its "
            "registration, so its re-examination is open again (``past_due``: its deadline "
            "has passed).",
            required=(*ADMISSION_REVIEW_CONTEXT, "past_due"),
        ),
        Event(
            "admission_review_overdue",
            "To the province's administrators: a cohort's re-examination is past its "
            "three-month deadline with admissions still unexamined.",
            required=ADMISSION_REVIEW_CONTEXT,
        ),
        Event(
            "year_registered",
            "To the student: they are registered for the academic year.",
            required=YEAR_CONTEXT,
        ),
        Event(
            "year_deferred",
            "To the student: their registration for the academic year is deferred (暂缓注册), "
            "with the reason.",
            required=YEAR_CONTEXT,
        ),
        Event(
            "year_registration_due_soon",
            "To the school's officers: the academic year's registration closes in 7 or 2 days "
            "(``past_due``: it already has).",
            required=(*YEAR_ROUND_CONTEXT, "past_due"),
        ),
        Event(
            "qualification_registered",
            "To the graduate: their qualification is registered, public from its issue date.",
            required=(
                "school",
                "graduation_date",
                "result",
                "level",
                "major",
                "certificate_number",
                "student_number",
                "url",
            ),
        ),
        Event(
            "graduation_recheck_filed",
            "To the province's administrators: a school filed its re-check of a graduate held "
            "by the photo comparison.",
            required=GRADUATION_RECHECK_CONTEXT,
        ),
        Event(
            "graduation_recheck_approved",
            "To the officer who filed it: the province approved the re-check (同意备案); the "
            "graduate can be registered.",
            required=(*GRADUATION_RECHECK_CONTEXT, "comment"),
        ),
        Event(
            "graduation_recheck_refused",
            "To the officer who filed it: the province refused the re-check, with its reason.",
            required=(*GRADUATION_RECHECK_CONTEXT, "comment"),
        ),
        Event(
            "year_registration_overdue",
            "To the province's administrators: a school's academic-year registration is past "
            "its deadline with students neither registered nor deferred.",
            required=YEAR_ROUND_CONTEXT,
        ),
    )
}


def get_event(slug: str) -> Event:
    try:
        return EVENTS[slug]
    except KeyError:
        raise ValueError(UNKNOWN_EVENT.format(event=slug)) from None
