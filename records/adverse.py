"""The rules every adverse decision shares after the school decides it (DOMAIN.md §2.3, §4
item 14; 教育部令第41号 arts 53–64), for any ``records.models.adverse.AdverseDecision`` (a
status change of an adverse type, an admission's cancellation): the delivery of the written
decision opens the student's window of ``SCHOOL_APPEAL_DAYS`` to appeal to the school's
appeal committee; the committee upholding it opens a window of ``PROVINCE_APPEAL_DAYS`` to
appeal to the province; a window that ends with no appeal lets the decision take effect.

These are the checks and the moves; each subject's services (``records.status_changes.
appeals``, ``records.admissions.appeals``) lock, check who acts, apply the effect, audit and
announce."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from records.choices import AppealStage
from records.choices import DeliveryMethod
from records.corrections.evidence import check_evidence
from records.corrections.evidence import clean_file_name
from records.errors import ConflictError
from records.models.adverse import AdverseDecision

# Days to appeal (arts 60, 62): to the school's appeal committee from the delivery of the
# decision, to the province from the committee's decision.
SCHOOL_APPEAL_DAYS = 10
PROVINCE_APPEAL_DAYS = 15
IN_APPEAL = "in_appeal"  # the state of every adverse decision during its appeal period

RULES_41 = _(
    "Regulations on the Administration of Students of Regular Institutions of Higher Education"
)
NOT_AWAITING_DELIVERY = _(
    "This request has no written decision waiting for its delivery (rule delivery_once)."
)
DELIVERY_DATE_REQUIRED = _("Give the date of delivery as YYYY-MM-DD.")
DELIVERY_IN_FUTURE = _("The delivery cannot be in the future (rule delivery_date).")
DELIVERY_BEFORE_ISSUE = _(
    "The delivery cannot be before the decision was issued, %(issued)s (rule delivery_date)."
)
METHOD_REQUIRED = _("Choose how the decision was delivered: %(choices)s.")
ONLY_STUDENT_APPEALS = _("Only the student concerned appeals an adverse decision.")
NOT_APPEALABLE = _("This request is not open for an appeal (rule appeal_stage).")
WINDOW_CLOSED = _(
    "The appeal period ended on %(deadline)s: an appeal is filed within %(days)s days of the "
    "delivery (rule appeal_window, %(source)s)."
)
WINDOW_OPEN = _("This request is not in an appeal window that has ended.")
APPEAL_REASON_REQUIRED = _("Give the grounds of the appeal.")
WRONG_STAGE = _("This request is not waiting for this decision.")


def article(number: int) -> StrOrPromise:
    """An article of 教育部令第41号."""
    return format_lazy(_("{regulation}, article {number}"), regulation=RULES_41, number=number)


def check_delivery(
    subject: AdverseDecision,
    *,
    delivered_on: datetime.date | None,
    method: str,
    evidence: UploadedFile | None,
) -> str:
    """409 unless the subject's decision waits for its delivery; then every field's error at
    once (``delivered_on``, ``method``, ``evidence``). The evidence's checked type."""
    if (
        getattr(subject, "state", "") != IN_APPEAL
        or subject.issued_at is None
        or subject.delivered_on is not None
    ):
        raise ConflictError(str(NOT_AWAITING_DELIVERY), code="not_awaiting_delivery")
    errors: dict[str, list[ValidationError]] = {}
    issued = timezone.localdate(subject.issued_at)
    if delivered_on is None:
        errors["delivered_on"] = [ValidationError(DELIVERY_DATE_REQUIRED, code="required")]
    elif delivered_on > timezone.localdate():
        errors["delivered_on"] = [ValidationError(DELIVERY_IN_FUTURE, code="delivery_date")]
    elif delivered_on < issued:
        errors["delivered_on"] = [
            ValidationError(
                DELIVERY_BEFORE_ISSUE, code="delivery_date", params={"issued": issued.isoformat()}
            )
        ]
    if method not in DeliveryMethod.values:
        errors["method"] = [
            ValidationError(
                METHOD_REQUIRED,
                code="invalid_choice",
                params={"choices": ", ".join(DeliveryMethod.values)},
            )
        ]
    content_type = ""
    if evidence is not None:
        try:
            content_type = check_evidence(evidence, field="evidence")
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return content_type


def deliver(
    subject: AdverseDecision,
    *,
    delivered_on: datetime.date,
    method: str,
    evidence: UploadedFile | None,
    content_type: str,
) -> datetime.date:
    """Record the checked delivery on the locked subject (not saved): the deadline to appeal
    to the school."""
    deadline = delivered_on + datetime.timedelta(days=SCHOOL_APPEAL_DAYS)
    subject.record_delivery(on=delivered_on, method=method, deadline=deadline)
    if evidence is not None:
        name = clean_file_name(evidence.name) or "evidence"
        subject.delivery_evidence.save(name, evidence, save=False)
        subject.delivery_evidence_type = content_type
    return deadline


def appeal_open(subject: AdverseDecision, today: datetime.date) -> bool:
    """Whether the student may appeal now (the stage and its deadline, inclusive)."""
    if getattr(subject, "state", "") != IN_APPEAL:
        return False
    if subject.appeal not in (AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW):
        return False
    return subject.appeal_deadline is None or today <= subject.appeal_deadline


def file_appeal(subject: AdverseDecision, *, reason: str, at: datetime.datetime) -> bool:
    """The student's appeal on the locked subject (not saved), its window checked: 409
    ``not_appealable`` or ``appeal_window_closed`` (citing the article), 400 without
    grounds. ``True`` for an appeal to the school, ``False`` to the province."""
    if getattr(subject, "state", "") != IN_APPEAL or subject.appeal not in (
        AppealStage.WINDOW,
        AppealStage.PROVINCE_WINDOW,
    ):
        raise ConflictError(str(NOT_APPEALABLE), code="not_appealable")
    to_school = bool(subject.appeal == AppealStage.WINDOW)
    if not appeal_open(subject, timezone.localdate(at)):
        message = WINDOW_CLOSED % {
            "deadline": subject.appeal_deadline,
            "days": SCHOOL_APPEAL_DAYS if to_school else PROVINCE_APPEAL_DAYS,
            "source": str(article(60 if to_school else 62)),
        }
        raise ConflictError(str(message), code="appeal_window_closed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(APPEAL_REASON_REQUIRED, code="required")})
    if to_school:
        subject.appeal_to_school(reason=reason, at=at)
    else:
        subject.appeal_to_province(reason=reason, at=at)
    return to_school


def window_ended(subject: AdverseDecision, today: datetime.date) -> bool:
    """Whether the subject's appeal window ended before ``today`` with no appeal."""
    return (
        getattr(subject, "state", "") == IN_APPEAL
        and subject.appeal in (AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW)
        and subject.appeal_deadline is not None
        and subject.appeal_deadline < today
    )


def check_window_ended(subject: AdverseDecision, today: datetime.date) -> None:
    if not window_ended(subject, today):
        raise ConflictError(str(WINDOW_OPEN), code="window_open")


def check_stage(subject: AdverseDecision, stage: str) -> None:
    """409 ``already_decided`` unless the appeal waits at ``stage`` (a step's decision)."""
    if subject.appeal != stage:
        raise ConflictError(str(WRONG_STAGE), code="already_decided")


def uphold_at_school(subject: AdverseDecision, at: datetime.datetime) -> datetime.date:
    """The committee upholds the decision: the province's window, its last day."""
    check_stage(subject, AppealStage.SCHOOL)
    deadline = timezone.localdate(at) + datetime.timedelta(days=PROVINCE_APPEAL_DAYS)
    subject.uphold_at_school(deadline=deadline)
    return deadline
