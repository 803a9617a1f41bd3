"""What the pages of an adverse decision share (a status change of an adverse type, an
admission's cancellation): its written decision and appeal period as the reader sees them,
the student's appeal form and the officer's delivery form, each posted to its service."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import may
from records import adverse
from records import glossary
from records.choices import AppealStage
from records.choices import DeliveryMethod
from records.models import User
from records.models.adverse import AdverseDecision

ACTIONS = ("appeal", "delivery")


def shown(subject: AdverseDecision, user: User, *, student_user_id: int | None) -> dict[str, Any]:
    """The decision card's context (``workflows/includes/adverse.html``), or ``{}`` before
    the decision is issued."""
    if not subject.issued_at:
        return {}
    return {
        "stage": glossary.APPEAL_STAGES.get(subject.appeal, subject.appeal),
        "may_appeal": student_user_id == user.pk
        and adverse.appeal_open(subject, timezone.localdate()),
        "to_province": subject.appeal == AppealStage.PROVINCE_WINDOW,
        "may_deliver": getattr(subject, "state", "") == adverse.IN_APPEAL
        and subject.delivered_on is None
        and may(user, codenames.REVIEW_SCHOOL, subject),
        "methods": DeliveryMethod.choices,
        "errors": [],
    }


def act(
    request: HttpRequest,
    action: str,
    *,
    appeal: Callable[[str], Any],
    deliver: Callable[..., Any],
) -> None:
    """The student's appeal or the officer's delivery, through the subject's services (which
    check who may); their errors propagate to the page."""
    if action == "appeal":
        appeal(request.POST.get("reason", ""))
        messages.success(request, _("Your appeal was filed."))
        return
    raw = request.POST.get("delivered_on", "").strip()
    try:
        delivered_on = datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        delivered_on = None
    deliver(
        delivered_on=delivered_on,
        method=request.POST.get("method", ""),
        evidence=request.FILES.get("evidence"),
    )
    messages.success(request, _("The delivery was recorded."))
