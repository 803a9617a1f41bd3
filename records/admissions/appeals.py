"""An admission's cancellation after a second officer confirms it (取消入学资格, an adverse
decision), by the shared rules of ``records.adverse``: an officer of the school records the
delivery of the written decision, the student may appeal to the school's appeal committee
within its window, then to the province; a window that ends with no appeal, or the
province upholding the decision, cancels the admission (``cancellation_take_effect``); an
appeal upheld cancels the decision (``overturned``: the admission stays as it was, and is
registered with its cohort as any other)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import may
from records import adverse
from records import notices
from records.admissions import notices as admission_notices
from records.admissions.services import cancellation_take_effect
from records.audit import audit_append
from records.choices import AppealStage
from records.decisions import Decided
from records.errors import NotVisibleError
from records.models import AdmissionCancellation
from records.models import User
from records.transactions import service
from records.transactions import writes

MAY_NOT_DELIVER = _("Only an officer of the school records the delivery of its decision.")
# What the services, the steps and the emails read of a locked cancellation.
RELATED = ("admission__student__user", "admission__school", "school", "requester")


def lock(pk: int) -> AdmissionCancellation:
    """The cancellation as of now, with its admission, both row-locked (taking effect
    cancels the admission)."""
    found: AdmissionCancellation | None = (
        AdmissionCancellation.objects.select_for_update(of=("self", "admission"))
        .select_related(*RELATED)
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotVisibleError(pk)
    return found


def _step(
    cancellation: AdmissionCancellation,
    *,
    action: str,
    actor: User | None,
    data: dict[str, Any],
    told: list[tuple[str, list[Recipient]]],
) -> None:
    """Audit the step on the cancellation's chain (as its decisions are) and announce it."""
    event = audit_append(
        subject=cancellation, action=action, actor=actor, data=data, subject_locked=True
    )
    said = {**admission_notices.adverse_context(cancellation), "comment": ""}
    notices.announce_many([(name, event, people, said) for name, people in told])


@service
def cancellation_deliver(
    *,
    cancellation: AdmissionCancellation,
    delivered_on: datetime.date | None,
    method: str,
    evidence: UploadedFile | None,
    acting_user: User,
) -> AdmissionCancellation:
    """Record the delivery of the written decision (an officer of the school, once): the
    student's window to appeal to the school ends ten days later."""
    cancellation = lock(cancellation.pk)
    if not may(acting_user, codenames.VIEW, cancellation):
        raise NotVisibleError(cancellation.pk)
    if not may(acting_user, codenames.REVIEW_SCHOOL, cancellation):
        raise PermissionDenied(MAY_NOT_DELIVER)
    content_type = adverse.check_delivery(
        cancellation, delivered_on=delivered_on, method=method, evidence=evidence
    )
    assert delivered_on is not None  # noqa: S101  (checked)
    with writes():
        deadline = adverse.deliver(
            cancellation,
            delivered_on=delivered_on,
            method=method,
            evidence=evidence,
            content_type=content_type,
        )
        cancellation.save()
        _step(
            cancellation,
            action="admission.cancellation_delivered",
            actor=acting_user,
            data={
                "delivered_on": delivered_on.isoformat(),
                "method": method,
                "appeal_deadline": deadline.isoformat(),
            },
            told=[
                (
                    "adverse_delivered",
                    admission_notices.cancellation_student_and_requester(cancellation),
                )
            ],
        )
    return cancellation


@service
def cancellation_appeal(
    *, cancellation: AdmissionCancellation, reason: str, acting_user: User
) -> AdmissionCancellation:
    """The student appeals: to the school's appeal committee, then to the province."""
    cancellation = lock(cancellation.pk)
    if not may(acting_user, codenames.VIEW, cancellation):
        raise NotVisibleError(cancellation.pk)
    if cancellation.admission.student.user_id != acting_user.pk:
        raise PermissionDenied(adverse.ONLY_STUDENT_APPEALS)
    to_school = adverse.file_appeal(cancellation, reason=reason, at=timezone.now())
    deciders = (
        admission_notices.cancellation_officers(cancellation)
        if to_school
        else admission_notices.cancellation_admins(cancellation)
    )
    with writes():
        cancellation.save()
        _step(
            cancellation,
            action=(
                "admission.cancellation_appealed"
                if to_school
                else "admission.cancellation_appealed_to_province"
            ),
            actor=acting_user,
            data={"reason": reason.strip()},
            told=[
                ("adverse_appeal_received", admission_notices.cancellation_student(cancellation)),
                ("adverse_appeal_filed", deciders),
            ],
        )
    return cancellation


@service
def cancellation_window_close(
    *, cancellation: AdmissionCancellation, today: datetime.date
) -> AdmissionCancellation:
    """The appeal window ended with no appeal: the admission is cancelled (409
    ``window_open``, nothing written, when it did not)."""
    cancellation = lock(cancellation.pk)
    adverse.check_window_ended(cancellation, today)
    with writes():
        cancellation_take_effect(cancellation, actor=None, at=timezone.now())
        cancellation.save()
        _step(
            cancellation,
            action="admission.cancellation_took_effect",
            actor=None,
            data={"appeal_deadline": cancellation.appeal_deadline},
            told=[
                (
                    "adverse_decision_effective",
                    admission_notices.cancellation_student_and_requester(cancellation),
                )
            ],
        )
    return cancellation


# --- the record services of the appeal committee's and the province's decisions -------------


def school_uphold(cancellation: AdmissionCancellation, decided: Decided) -> Mapping[str, Any]:
    deadline = adverse.uphold_at_school(cancellation, decided.at)
    return {"appeal_deadline": deadline.isoformat()}


def school_cancel(cancellation: AdmissionCancellation, decided: Decided) -> None:
    adverse.check_stage(cancellation, AppealStage.SCHOOL)
    cancellation.overturn(at=decided.at)


def province_uphold(cancellation: AdmissionCancellation, decided: Decided) -> Mapping[str, Any]:
    adverse.check_stage(cancellation, AppealStage.PROVINCE)
    return cancellation_take_effect(cancellation, actor=decided.acting_user, at=decided.at)


def province_cancel(cancellation: AdmissionCancellation, decided: Decided) -> None:
    adverse.check_stage(cancellation, AppealStage.PROVINCE)
    cancellation.overturn(at=decided.at)
