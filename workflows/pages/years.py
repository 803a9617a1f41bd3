"""Web pages of academic-year registration (学年注册): the rounds a user may see (a province's
administrators: every school's, with its counts and whether it is overdue), and a round's page
for its officers: its window and counts, "register everyone enrolled", and its students by
registration state with check boxes to defer (with a reason) or register the checked ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permissions import codenames
from permissions.checks import granted_ids
from records.admissions.search import search
from records.choices import UNREGISTERED
from records.choices import StatusState
from records.choices import YearOutcome
from records.choices import YearRegistrationState
from records.converters import object_ids
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.models import YearRegistrationRound
from records.years import services
from records.years.services import ItemResult
from records.years.services import OutcomeItem
from records.years.window import label
from workflows.flows import year_registration as flow
from workflows.pages.shell import page

PAGE_SIZE = 50
RESULTS_KEY = "xueji_year_results"
REGISTERED_KEY = "xueji_year_registered"
_PICK_ERRORS = {
    "required": _("Check at least one student."),
    "invalid_choice": _("A student checked is not on this page any more; check again."),
}
# The tabs of a round's students: every one, then by registration state.
STATES: tuple[tuple[str, Any], ...] = (
    (UNREGISTERED, _("Neither registered nor deferred")),
    *YearRegistrationState.choices,
)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) == 4 else None  # noqa: PLR2004


def _overdue(year_round: YearRegistrationRound, unregistered: int) -> bool:
    return unregistered > 0 and year_round.deadline <= timezone.now()


def _openable(user: User, shown: models.QuerySet[YearRegistrationRound]) -> list[dict[str, Any]]:
    """The schools ``user`` acts for whose round of this calendar year's academic year is not
    open yet: an officer may open it before the window opens it (or after a deployment in
    the middle of the window's year)."""
    year = timezone.localdate().year
    opened = set(shown.filter(academic_year=year).values_list("school_id", flat=True))
    schools = School.objects.filter(pk__in=_acting_schools(user)).exclude(pk__in=opened)
    return [
        {"school": school, "year": year, "label": label(year)}
        for school in schools.order_by("code")[:20]
    ]


def _acting_schools(user: User) -> list[str]:
    ids = granted_ids(user, codenames.REVIEW_SCHOOL)
    return [] if ids is None else sorted(str(pk) for pk in ids)


def rounds(request: HttpRequest) -> HttpResponse:
    """The rounds the user may see, the newest academic year first, 50 a page, each with its
    window, counts and whether it is overdue; an officer may open their school's round of the
    current academic year before its window opens it."""
    user = _user(request)
    shown = flow.visible_rounds(user)
    if request.method == "POST" and request.POST.get("action") == "open":
        school = School.objects.filter(pk=request.POST.get("school", "")).first()
        year = _int(request.POST.get("year"))
        if school is None or year is None or not flow.may_open(user, school):
            raise Http404
        opened = flow.round_open_for(school=school, academic_year=year, user=user)
        return redirect("years:round", pk=opened.pk)
    years = sorted(set(shown.values_list("academic_year", flat=True)), reverse=True)
    year = _int(request.GET.get("year")) or (years[0] if years else None)
    listed = shown.filter(academic_year=year) if year else shown
    q = (request.GET.get("q") or "").strip()
    if q:
        listed = listed.filter(models.Q(school__name__contains=q) | models.Q(school_id=q))
    listing = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    page_rounds = list(listing)
    unregistered = services.unregistered_counts(page_rounds)
    rows = [
        {
            "round": r,
            "unregistered": unregistered[r.pk],
            "overdue": _overdue(r, unregistered[r.pk]),
        }
        for r in page_rounds
    ]
    return page(
        request,
        "workflows/years/rounds.html",
        {
            "rows": rows,
            "listing": listing,
            "years": [(y, label(y)) for y in years],
            "year": year,
            "q": q,
            "openable": _openable(user, shown),
        },
    )


class OutcomesForm(forms.Form):
    """One outcome for the students checked in the list (``outcomes_record`` answers for
    each); the reason of a deferral is asked here, once, rather than refused per row."""

    statuses = forms.TypedMultipleChoiceField(coerce=int, error_messages=_PICK_ERRORS)
    outcome = forms.ChoiceField(
        label=pgettext_lazy("year registration", "Outcome"),
        choices=[
            (YearOutcome.DEFERRED, _("Defer their registration (暂缓注册)")),
            (YearOutcome.REGISTERED, _("Register them")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to defer; the student reads it (e.g. tuition not paid yet)."),
    )

    def __init__(self, *args: Any, pickable: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["statuses"].choices = [(pk, pk) for pk in pickable]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == YearOutcome.DEFERRED and not (data.get("reason") or "").strip():
            self.add_error("reason", services.REASON_REQUIRED)
        return data

    def items(self) -> list[OutcomeItem]:
        data = self.cleaned_data
        reason = data["reason"].strip() if data["outcome"] == YearOutcome.DEFERRED else ""
        return [
            OutcomeItem(status=pk, outcome=data["outcome"], reason=reason)
            for pk in data["statuses"]
        ]


def _results_said(user: User, results: Sequence[ItemResult]) -> list[dict[str, Any]]:
    """What the page says of each student of a bulk outcome, by name and student number."""
    shown = {
        s.pk: s
        for s in StudentStatus.objects.filter(pk__in=[r.status for r in results]).select_related(
            "student"
        )
    }
    rows = []
    for result in results:
        found = shown.get(result.status) if result.code != "not_found" else None
        rows.append(
            {
                "ok": result.ok,
                "name": found.student.name if found else f"#{result.status}",
                "student_number": found.student_number if found else "",
                "said": str(YearRegistrationState(result.state).label)
                if result.ok
                else result.detail,
            }
        )
    return rows


def round_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A round: its window, deadline and counts, "register everyone enrolled", and its
    students by registration state (50 a page, searched), with check boxes for an outcome
    when the user acts for the school. A POST registers or records, then returns to the same
    page, where the result is said once."""
    user = _user(request)
    found = flow.visible_rounds(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    may_act = flow.may_open(user, found.school)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "register":
        if not may_act:
            raise PermissionDenied(services.MAY_NOT_REGISTER)
        request.session[REGISTERED_KEY] = flow.register_all(year_round=found, user=user)
        return redirect(request.get_full_path())
    state = request.GET.get("state", "")
    if state not in dict(STATES):
        state = ""
    statuses = services.round_students(found, state).select_related("student")
    q = (request.GET.get("q") or "").strip()
    if q:
        statuses = statuses.filter(search(q, StudentStatus))
    listing = Paginator(statuses.order_by("student_number", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page_rows = list(listing)
    registrations = services.registrations_of(found, page_rows)
    pickable = [
        s.pk
        for s in page_rows
        if may_act
        and s.state == StatusState.ENROLLED
        and (
            s.pk not in registrations or registrations[s.pk].state == YearRegistrationState.DEFERRED
        )
    ]
    posted = action == "outcomes"
    if posted and not may_act:
        raise PermissionDenied(services.MAY_NOT_REGISTER)
    form = OutcomesForm(request.POST if posted else None, pickable=pickable)
    if posted and form.is_valid():
        results = services.outcomes_record(round_pk=found.pk, items=form.items(), acting_user=user)
        request.session[RESULTS_KEY] = _results_said(user, results)
        return redirect(request.get_full_path())
    checked = set(object_ids(request.POST.getlist("statuses")))
    found.refresh_from_db()
    unregistered = services.unregistered_count(found)
    counts = {
        UNREGISTERED: unregistered,
        YearRegistrationState.REGISTERED: found.registered_count,
        YearRegistrationState.DEFERRED: found.deferred_count,
    }
    return page(
        request,
        "workflows/years/round.html",
        {
            "round": found,
            "rows": [
                {
                    "status": s,
                    "registration": registrations.get(s.pk),
                    "pickable": s.pk in pickable,
                    "checked": s.pk in checked,
                }
                for s in page_rows
            ],
            "listing": listing,
            "state": state,
            "q": q,
            "tabs": [(code, name, counts[code]) for code, name in STATES],
            "total": sum(counts.values()),
            "unregistered": unregistered,
            "overdue": _overdue(found, unregistered),
            "may_register": may_act and unregistered > 0,
            "may_decide": bool(pickable),
            "form": form,
            "results": request.session.pop(RESULTS_KEY, []) if request.method == "GET" else [],
            "registered_now": request.session.pop(REGISTERED_KEY, None)
            if request.method == "GET"
            else None,
        },
    )
