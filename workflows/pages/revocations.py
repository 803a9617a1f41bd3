"""Web pages of revocations: an officer proposes one from the qualification's page
(``new/?qualification=<id>``); the revocation's page shows it to the officers and
administrators who see it and to its student, with the written decision and the appeal period
(the shared adverse card: the officer's delivery form, the student's appeal form). Filing,
delivery and appeal go through the revocation flow's services; anything a user may not see
is 404. Decisions are taken on the work list."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records.choices import QualificationStatus
from records.errors import ConflictError
from records.models import Qualification
from records.models import RevocationRequest
from records.models import User
from records.models.revocations import OPEN_REVOCATION_STATES
from records.revocations import services
from workflows import work
from workflows.flows import revocation as flow
from workflows.pages import adverse as adverse_page
from workflows.pages.shell import page

ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
LABELS = {
    "reason": _("Reason"),
    "basis": _("Basis"),
    "leadership_decision_date": _("Date of the leadership's decision"),
    "leadership_decision": _("Leadership decision (reference or summary)"),
    "legality_review": _("Legality review"),
    "hearing_date": _("Hearing date"),
    "hearing_by": _("Heard by"),
    "hearing_summary": _("Hearing summary"),
}
FIELDS = (
    "reason",
    "basis",
    "leadership_decision_date",
    "leadership_decision",
    "hearing_date",
    "hearing_by",
    "hearing_summary",
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def qualification_revocations(user: User, qualification: Qualification) -> dict[str, Any]:
    """What a qualification's page shows of its revocations: those the user sees, and
    whether they may propose one (an officer of its school, none open, registered)."""
    found = list(
        scope(user, codenames.VIEW, RevocationRequest.objects)
        .filter(qualification=qualification)
        .order_by("-created")
    )
    return {
        "revocations": found,
        "may_revoke": qualification.status == QualificationStatus.REGISTERED
        and not any(r.state in OPEN_REVOCATION_STATES for r in found)
        and may(user, codenames.REVIEW_SCHOOL, qualification),
    }


def index(request: HttpRequest) -> HttpResponse:
    """The revocations the user sees, newest first."""
    found = scope(
        _user(request),
        codenames.VIEW,
        RevocationRequest.objects.select_related("qualification", "student", "school"),
    ).order_by("-created", "-pk")[:200]
    return page(request, "workflows/revocations/index.html", {"revocations": found})


def new(request: HttpRequest) -> HttpResponse:
    """``?qualification=<id>``: the officer's proposal; filing redirects to its page, an
    error shows the form again with what was typed and each error on its field."""
    user = _user(request)
    raw = request.GET.get("qualification", "")
    if not ID_PATTERN.fullmatch(raw):
        raise Http404
    visible = scope(user, codenames.VIEW, Qualification.objects.select_related("school"))
    qualification = get_object_or_404(visible, pk=int(raw))
    errors: list[str] = []
    values: dict[str, Any] = dict.fromkeys(FIELDS, "")
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in FIELDS}
        values["legality_review"] = request.POST.get("legality_review") == "on"
        try:
            created = flow.revocation_start(
                qualification=qualification, values=values, requester=user
            )
        except ValidationError as exc:
            errors = [
                f"{LABELS.get(field, field)}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
        except (PermissionDenied, ConflictError) as exc:
            errors = [str(exc)]
        else:
            messages.success(request, _("The revocation was proposed."))
            return redirect("revocations:detail", pk=created.pk)
    context = {"qualification": qualification, "values": values, "errors": errors}
    response = page(request, "workflows/revocations/new.html", context)
    if request.method == "POST":
        add_never_cache_headers(response)
    return response


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A revocation, with its written decision and appeal period once issued."""
    user = _user(request)
    found = (
        scope(
            user,
            codenames.VIEW,
            RevocationRequest.objects.select_related(
                "qualification", "student", "school", "requester"
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    shown = adverse_page.shown(found, user, student_user_id=found.student.user_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in adverse_page.ACTIONS and shown:
        try:
            adverse_page.act(
                request,
                action,
                appeal=lambda reason: flow.revocation_appeal(
                    request=found, reason=reason, user=user
                ),
                deliver=lambda **kw: services.revocation_deliver(
                    request=found, acting_user=user, **kw
                ),
            )
        except ValidationError as exc:
            shown["errors"] = [
                f"{key}: {message}"
                for key, errors in exc.message_dict.items()
                for message in errors
            ]
        except (PermissionDenied, ConflictError) as exc:
            messages.error(request, str(exc))
            return redirect("revocations:detail", pk=pk)
        else:
            return redirect("revocations:detail", pk=pk)
    item = work.open_item_of(flow.FLOW_KEY, found.pk)
    context = {
        "revocation": found,
        "qualification": found.qualification,
        "adverse": shown,
        "open_task": item
        if item is not None and work.may_decide(user, flow.FLOW_KEY, pk)
        else None,
    }
    return page(request, "workflows/revocations/detail.html", context)
