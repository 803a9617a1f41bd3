"""Web pages of verification reports: the student's (create, read the code, link, QR code,
expiry and access log, extend, revoke: through ``records.verification.reports``) and the
public page of a code (no login), with its QR code image."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from records.choices import EducationType
from records.choices import Gender
from records.choices import GraduationResult
from records.choices import LearningForm
from records.choices import Level
from records.choices import QualificationStatus
from records.choices import StatusState
from records.choices import StudyLength
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.logins import client_ip
from records.models import Qualification
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.models import VerificationReport
from records.verification.content import report_content
from records.verification.reports import MAX_MONTHS
from records.verification.reports import MIN_MONTHS
from records.verification.reports import ReportGoneError
from records.verification.reports import is_public
from records.verification.reports import normalised_code
from records.verification.reports import own_reports
from records.verification.reports import report_access
from records.verification.reports import report_create
from records.verification.reports import report_extend
from records.verification.reports import report_revoke
from records.verification.throttle import FailedLookups
from records.verification.throttle import LookupThrottledError
from workflows.pages.shell import page

MONTH_CHOICES = list(range(MIN_MONTHS, MAX_MONTHS + 1))


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _choices(person: Student | None) -> dict[str, Any]:
    if person is None:
        return {"qualifications": [], "statuses": []}
    qualifications = [
        q
        for q in Qualification.objects.filter(student=person).select_related("school")
        if is_public(q)
    ]
    statuses = list(StudentStatus.objects.filter(student=person).select_related("school"))
    return {"qualifications": qualifications, "statuses": statuses}


def qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode("utf-8")


def index(request: HttpRequest) -> HttpResponse:
    """The student's reports and the form that creates one (a qualification or a status, and
    the months)."""
    user = _user(request)
    person = Student.objects.filter(user=user).first()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        subject = request.POST.get("subject", "")
        kind, _sep, pk = subject.partition(":")
        try:
            report = report_create(
                user=user,
                qualification=pk if kind == "qualification" else None,
                status=pk if kind == "status" else None,
                months=request.POST.get("months"),
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, _("Your verification report was created."))
            return redirect("verification:detail", pk=report.pk)
    reports = (
        own_reports(user)
        .select_related("qualification__school", "status__school")
        .order_by("-created", "-pk")
    )
    chosen = request.POST.get("subject", request.GET.get("subject", ""))
    return page(
        request,
        "workflows/verification/index.html",
        {
            "person": person,
            "reports": reports,
            "errors": errors,
            "months": MONTH_CHOICES,
            "chosen_kind": chosen.partition(":")[0],
            "chosen_pk": chosen.partition(":")[2],
            "chosen_months": request.POST.get("months", "3"),
            **_choices(person),
        },
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the student's reports: code, link, QR code, expiry, accesses; extend, revoke."""
    user = _user(request)
    report = (
        own_reports(user)
        .select_related("qualification__school", "status__school")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "extend":
                report_extend(user=user, pk=pk, months=request.POST.get("months"))
                messages.success(request, _("The report was extended."))
            elif action == "revoke":
                report_revoke(user=user, pk=pk)
                messages.success(request, _("The report was revoked."))
            return redirect("verification:detail", pk=pk)
        except ValidationError as error:
            errors = error.message_dict
        except ConflictError as error:
            messages.error(request, error.message)
            return redirect("verification:detail", pk=pk)
    url = request.build_absolute_uri(reverse("verify-page", args=[report.code]))
    return page(
        request,
        "workflows/verification/detail.html",
        {
            "report": report,
            "url": url,
            "qr": qr_svg(url),
            "accesses": report.accesses.order_by("-at", "-pk")[:200],
            "months": MONTH_CHOICES,
            "errors": errors,
        },
    )


# --- The public page ----------------------------------------------------------------------------

_LABELS: dict[str, Any] = {
    "gender": Gender,
    "education_type": EducationType,
    "level": Level,
    "study_length": StudyLength,
    "learning_form": LearningForm,
    "graduation_result": GraduationResult,
    "status": QualificationStatus,
    "state": StatusState,
}
_QUALIFICATION_ROWS = [
    ("name", _("Name")),
    ("gender", _("Gender")),
    ("birth_date", _("Birth date")),
    ("school_name", _("School")),
    ("level", _("Level")),
    ("major_name", _("Major")),
    ("study_length", _("Study length")),
    ("learning_form", _("Learning form")),
    ("education_type", _("Education type")),
    ("start_date", _("Study start date")),
    ("graduation_date", _("Graduation date")),
    ("graduation_result", _("Graduation result")),
    ("principal_name", _("Principal's name")),
    ("certificate_number", _("Certificate number")),
    ("minor_note", _("Minor")),
    ("updated", _("Last updated")),
]
_STATUS_ROWS = [
    ("name", _("Name")),
    ("gender", _("Gender")),
    ("birth_date", _("Birth date")),
    ("ethnicity", _("Ethnic group")),
    ("school_name", _("School")),
    ("level", _("Level")),
    ("major_name", _("Major")),
    ("student_number", _("Student number")),
    ("study_length", _("Study length")),
    ("learning_form", _("Learning form")),
    ("entry_date", _("Entry date")),
    ("expected_graduation", _("Expected graduation date")),
    ("state", _("Status")),
    ("updated", _("Last updated")),
]


def _shown(field: str, value: Any) -> Any:
    choices = _LABELS.get(field)
    if choices is not None and value in choices.values:
        return choices(value).label
    return value


def _rows(values: dict[str, Any], rows: list[tuple[str, Any]]) -> list[tuple[Any, Any]]:
    return [(label, _shown(field, values.get(field))) for field, label in rows]


def _public(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = TemplateResponse(request, "workflows/verification/public.html", context)
    response.status_code = status
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@require_GET
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """``/verify/{code}``: the report's live record, or why there is none (404 unknown, 410
    expired or revoked, 429 too many look-ups that found nothing). Logged like the API's."""
    address = client_ip(request)
    attempts = FailedLookups(address)
    context: dict[str, Any] = {"code": normalised_code(code)[:32]}
    try:
        attempts.check()
    except LookupThrottledError as refused:
        response = _public(request, {**context, "problem": "throttled"}, 429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    try:
        report = report_access(code, address)
    except NotVisibleError:
        attempts.failed()
        return _public(request, {**context, "problem": "unknown"}, 404)
    except ReportGoneError as gone:
        problem = "revoked" if gone.code == "report_revoked" else "expired"
        return _public(request, {**context, "problem": problem}, 410)
    content = report_content(report)
    if "qualification" in content:
        values = content["qualification"]
        rows = _rows(values, _QUALIFICATION_ROWS)
    else:
        values = content["status"]
        rows = _rows(values, _STATUS_ROWS)
    return _public(
        request,
        {
            **context,
            "report": report,
            "content": content,
            "values": values,
            "rows": rows,
            "headline": _shown("state", values.get("state")),
            "signed_url": reverse("verify:signed", args=[report.code]),
        },
    )


@login_not_required
@require_GET
def qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code (SVG) of a valid report's public page; 404 otherwise. Not an access of the
    report (it shows nothing of it), but an unknown code counts as a failed look-up."""
    attempts = FailedLookups(client_ip(request))
    try:
        attempts.check()
    except LookupThrottledError as refused:
        response = HttpResponse(status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    report = VerificationReport.objects.filter(code=normalised_code(code)[:32]).first()
    if report is None:
        attempts.failed()
        raise Http404
    if not report.is_valid:
        raise Http404
    url = request.build_absolute_uri(reverse("verify-page", args=[report.code]))
    return HttpResponse(qr_svg(url), content_type="image/svg+xml")
