"""Web pages of qualification registration (学历注册): the graduating cohorts a user may see
(a province's administrators: every school's, filtered by school and year, with counts) with
the officer's form to open a cohort, and a cohort's page for its officers: counts, "prepare
every student due to graduate", the graduates with their checks and the photo gate, check
boxes for one decision on many, the re-check of a held graduate, and "register the cohort"
with what it did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permissions import codenames
from permissions.checks import granted_ids
from records.choices import GraduateResult
from records.choices import IdentityCheck
from records.choices import QualificationStatus
from records.choices import RecheckState
from records.converters import object_ids
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.graduation import services
from records.graduation.services import Graduate
from records.graduation.services import ItemResult
from records.graduation.services import PrepareItem
from records.graduation.services import Registration
from records.models import GraduationCohort
from records.models import Qualification
from records.models import School
from records.models import StudentStatus
from records.models import User
from workflows.flows import graduation as flow
from workflows.pages.shell import page

PAGE_SIZE = 50
RESULTS_KEY = "xueji_graduation_results"
REGISTERED_KEY = "xueji_graduation_registered"
PREPARED_KEY = "xueji_graduation_prepared"
SCHOOLS_SHOWN = 20

# The tabs of a cohort's graduates: the drafts by what their checks say, then the registered.
HELD, PROBLEMS, READY, REGISTERED = "held", "problems", "ready", "registered"
TABS: tuple[tuple[str, Any], ...] = (
    (PROBLEMS, _("With problems")),
    (HELD, _("Held by the photo comparison")),
    (READY, _("Ready to register")),
    (REGISTERED, pgettext_lazy("graduation", "Registered")),
)
# One decision for the checked graduates: 毕业, 结业, not now, or the photo comparison.
CHECK_PREFIX = "check:"
DECISIONS: tuple[tuple[str, Any], ...] = (
    *GraduateResult.choices,
    (f"{CHECK_PREFIX}{IdentityCheck.PASSED}", _("Photo comparison passed")),
    (f"{CHECK_PREFIX}{IdentityCheck.FAILED}", _("Photo comparison failed")),
    (f"{CHECK_PREFIX}{IdentityCheck.UNCERTAIN}", _("Photo comparison uncertain")),
)
# The photo comparison's results as the graduates' table says them ("Failed" alone reads as
# an email's failure in Chinese).
PHOTO_LABELS = {
    IdentityCheck.PASSED: pgettext_lazy("photo comparison", "Passed"),
    IdentityCheck.FAILED: pgettext_lazy("photo comparison", "Failed"),
    IdentityCheck.UNCERTAIN: pgettext_lazy("photo comparison", "Uncertain"),
}
_PICK_ERRORS = {
    "required": _("Check at least one graduate."),
    "invalid_choice": _("A graduate checked is not on this page any more; check again."),
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) == 4 else None  # noqa: PLR2004


def _acting_schools(user: User) -> models.QuerySet[School]:
    """The schools ``user`` opens cohorts for (an officer's; none for an administrator)."""
    ids = granted_ids(user, codenames.REVIEW_SCHOOL)
    if ids is None:  # every school: a superuser acts for none in particular
        return School.objects.none()
    return School.objects.filter(pk__in=[str(pk) for pk in ids]).order_by("code")


# --- the cohorts ----------------------------------------------------------------------------


class OpenForm(forms.Form):
    """A school's cohort of one graduation date, opened through ``flow.cohort_open``."""

    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), empty_label=None
    )
    graduation_date = forms.DateField(
        label=_("Graduation date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Also the issue date, and the day the record becomes publicly searchable."),
    )
    principal_name = forms.CharField(
        label=_("Principal's name"),
        max_length=40,
        help_text=_("As the certificates print it."),
    )

    def __init__(self, *args: Any, schools: models.QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        field.queryset = schools  # type: ignore[attr-defined]
        first = schools.first()
        if first is not None and not self.is_bound:
            field.initial = first
            self.fields["principal_name"].initial = first.principal_name
        if schools.count() == 1:
            field.widget = forms.HiddenInput()


def cohort_counts(cohorts: Sequence[GraduationCohort]) -> dict[int, dict[str, int]]:
    """``services.counts`` of a page of cohorts: the qualifications' in one query, the
    statuses due without a draft one query a cohort."""
    found: dict[int, dict[str, int]] = {
        c.pk: {"registered": 0, "drafts": 0, "held": 0, "unprepared": 0} for c in cohorts
    }
    held = models.Q(
        status=QualificationStatus.DRAFT,
        identity_check__in=[IdentityCheck.FAILED, IdentityCheck.UNCERTAIN],
        identity_cleared_at__isnull=True,
    )
    rows = (
        Qualification.objects.filter(cohort_id__in=list(found))
        .order_by()
        .values("cohort_id")
        .annotate(
            registered=Count("pk", filter=models.Q(status=QualificationStatus.REGISTERED)),
            drafts=Count("pk", filter=models.Q(status=QualificationStatus.DRAFT)),
            held=Count("pk", filter=held),
        )
    )
    for row in rows:
        found[row["cohort_id"]].update(
            registered=row["registered"], drafts=row["drafts"], held=row["held"]
        )
    for cohort in cohorts:
        found[cohort.pk]["unprepared"] = services.due_statuses(cohort).count()
    return found


def index(request: HttpRequest) -> HttpResponse:
    """The cohorts the user may see, the latest graduation date first, 50 a page, filtered by
    school (name or code) and year, each with its counts; an officer opens a cohort here."""
    user = _user(request)
    schools = _acting_schools(user)
    posted = request.method == "POST" and request.POST.get("action") == "open"
    form = OpenForm(request.POST if posted else None, schools=schools)
    if posted and form.is_valid():
        try:
            cohort, _created = flow.cohort_open(
                school=form.cleaned_data["school"],
                graduation_date=form.cleaned_data["graduation_date"],
                principal_name=form.cleaned_data["principal_name"],
                user=user,
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            return redirect("graduation:cohort", pk=cohort.pk)
    shown = flow.visible_cohorts(user)
    years = sorted(
        {d.year for d in shown.values_list("graduation_date", flat=True).distinct()}, reverse=True
    )
    year = _int(request.GET.get("year"))
    if year:
        shown = shown.filter(graduation_date__year=year)
    q = (request.GET.get("q") or "").strip()
    if q:
        shown = shown.filter(models.Q(school__name__contains=q) | models.Q(school_id=q))
    listing = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    page_cohorts = list(listing)
    counts = cohort_counts(page_cohorts)
    today = timezone.now()
    rows = [
        {
            "cohort": c,
            "counts": counts[c.pk],
            "overdue": c.deadline <= today and counts[c.pk]["drafts"] > 0,
        }
        for c in page_cohorts
    ]
    return page(
        request,
        "workflows/graduation/index.html",
        {
            "rows": rows,
            "listing": listing,
            "years": years,
            "year": year,
            "q": q,
            "form": form if schools.exists() else None,
        },
    )


# --- a cohort -------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    """One decision for the graduates checked in the list (``services.prepare`` answers for
    each)."""

    statuses = forms.TypedMultipleChoiceField(coerce=int, error_messages=_PICK_ERRORS)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=DECISIONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision.")},
    )

    def __init__(self, *args: Any, pickable: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["statuses"].choices = [(pk, pk) for pk in pickable]  # type: ignore[attr-defined]

    def items(self, results: dict[int, str]) -> list[PrepareItem]:
        """The decision for each checked status; ``results`` are their drafts' 毕业/结业 (a
        photo comparison keeps it)."""
        decision: str = self.cleaned_data["decision"]
        statuses: list[int] = self.cleaned_data["statuses"]
        if decision.startswith(CHECK_PREFIX):
            check = decision.removeprefix(CHECK_PREFIX)
            return [
                PrepareItem(status=pk, result=results[pk], identity_check=check) for pk in statuses
            ]
        return [PrepareItem(status=pk, result=decision) for pk in statuses]


def _results_said(results: Sequence[ItemResult]) -> list[dict[str, Any]]:
    """What the page says of each graduate of a bulk decision, by name and student number."""
    shown = {
        s.pk: s
        for s in StudentStatus.objects.filter(pk__in=[r.status for r in results]).select_related(
            "student"
        )
    }
    rows = []
    for result in results:
        found = shown.get(result.status)
        rows.append(
            {
                "status": result.status,
                "ok": result.ok,
                "name": found.student.name if found else f"#{result.status}",
                "student_number": found.student_number if found else "",
                "said": str(_("Recorded")) if result.ok else result.detail,
            }
        )
    return rows


def _registration_said(result: Registration) -> dict[str, Any]:
    return {
        "registered": result.registered,
        "held": result.held,
        "errors": [
            {
                "qualification": e.qualification,
                "name": e.name,
                "student_number": e.student_number,
                "problems": [p.message for p in e.problems],
            }
            for e in result.errors
        ],
    }


def _tab_of(graduate: Graduate) -> str:
    if graduate.problems:
        return PROBLEMS
    return HELD if graduate.held else READY


def _graduates(cohort: GraduationCohort) -> list[Graduate]:
    """Every draft of the cohort with its checks and latest re-check, by student number."""
    rows = services.draft_values(
        services.drafts(cohort).order_by("student_status__student_number", "pk")
    )
    return services.graduates(cohort, rows)


def _act(
    request: HttpRequest, cohort: GraduationCohort, action: str, graduates: list[Graduate]
) -> HttpResponse | dict[str, Any]:
    """A POST of the cohort's page: the redirect to the same page when it was done, or what
    the page shows again (a form's errors at their place)."""
    user = _user(request)
    if action == "prepare_all":
        request.session[PREPARED_KEY] = services.prepare_all(cohort_pk=cohort.pk, acting_user=user)
        return redirect(request.get_full_path())
    if action == "register":
        request.session[REGISTERED_KEY] = _registration_said(
            flow.cohort_register(cohort=cohort, user=user)
        )
        return redirect(request.get_full_path())
    if action == "recheck":
        qualification = request.POST.get("qualification", "")
        if not (qualification.isascii() and qualification.isdigit()) or not any(
            g.values["pk"] == int(qualification) for g in graduates
        ):
            raise Http404
        finding = request.POST.get("finding", "")
        try:
            flow.recheck_file(qualification_pk=int(qualification), finding=finding, user=user)
        except ValidationError as exc:
            return {"recheck_errors": {int(qualification): exc.messages}, "finding": finding}
        except ConflictError as exc:
            return {"recheck_errors": {int(qualification): [str(exc)]}, "finding": finding}
        return redirect(request.get_full_path())
    raise Http404


def cohort_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A cohort: its graduation date, principal, state, deadline and counts, "prepare every
    student due to graduate", "register the cohort", and its graduates (50 a page, by tab:
    with problems, held, ready, registered) with check boxes for one decision when the user
    acts for the school, and the re-check of a held graduate. A POST acts, then returns to
    the same page, where the result is said once at its rows."""
    user = _user(request)
    cohort = flow.visible_cohorts(user).filter(pk=pk).first()
    if cohort is None:
        raise Http404
    may_act = flow.may_act(user, cohort.school)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action and not may_act:
        raise PermissionDenied(services.MAY_NOT_REGISTER)
    graduates = _graduates(cohort)
    shown_again: dict[str, Any] = {}
    form = DecisionForm(None, pickable=[])
    if action == "decide":
        results = {g.values["student_status_id"]: g.values["graduation_result"] for g in graduates}
        form = DecisionForm(request.POST, pickable=list(results))
        if form.is_valid():
            done = services.prepare(
                cohort_pk=cohort.pk, items=form.items(results), acting_user=user
            )
            request.session[RESULTS_KEY] = _results_said(done)
            return redirect(request.get_full_path())
    elif action:
        try:
            acted = _act(request, cohort, action, graduates)
        except NotVisibleError as exc:
            raise Http404 from exc
        if isinstance(acted, HttpResponse):
            return acted
        shown_again = acted
    return page(
        request,
        "workflows/graduation/cohort.html",
        _cohort_context(request, cohort, graduates, form, may_act=may_act, **shown_again),
    )


def _cohort_context(
    request: HttpRequest,
    cohort: GraduationCohort,
    graduates: list[Graduate],
    form: DecisionForm,
    *,
    may_act: bool,
    recheck_errors: dict[int, list[str]] | None = None,
    finding: str = "",
) -> dict[str, Any]:
    tab = request.GET.get("show", "")
    if tab not in dict(TABS):
        tab = ""
    by_tab: dict[str, list[Graduate]] = {PROBLEMS: [], HELD: [], READY: []}
    for graduate in graduates:
        by_tab[_tab_of(graduate)].append(graduate)
    registered = Qualification.objects.filter(
        cohort_id=cohort.pk, status=QualificationStatus.REGISTERED
    ).select_related("student_status")
    counts = services.counts(cohort)
    tab_counts = {**{k: len(v) for k, v in by_tab.items()}, REGISTERED: counts["registered"]}
    listed: Any = by_tab.get(tab, graduates)
    if tab == REGISTERED:
        listed = registered.order_by("student_status__student_number", "pk")
    listing = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    get = request.method == "GET"
    said = request.session.pop(RESULTS_KEY, []) if get else []
    registration = request.session.pop(REGISTERED_KEY, None) if get else None
    row_said = {r["status"]: r for r in said}
    refused = {e["qualification"]: e for e in (registration or {}).get("errors", [])}
    checked = set(object_ids(request.POST.getlist("statuses")))
    rows = (
        [
            _row(
                g,
                row_said=row_said,
                refused=refused,
                checked=checked,
                recheck_errors=recheck_errors or {},
                finding=finding,
                may_act=may_act,
            )
            for g in listing
        ]
        if tab != REGISTERED
        else []
    )
    return {
        "cohort": cohort,
        "counts": counts,
        "tabs": [(code, name, tab_counts[code]) for code, name in TABS],
        "total": len(graduates),
        "ready": len(by_tab[READY]),
        "tab": tab,
        "rows": rows,
        "registered_rows": list(listing) if tab == REGISTERED else [],
        "listing": listing,
        "form": form,
        "may_act": may_act,
        "may_decide": may_act and bool(graduates) and tab != REGISTERED,
        "may_register": may_act and bool(by_tab[READY]),
        "overdue": bool(graduates) and cohort.deadline <= timezone.now(),
        "results": said,
        "failed_results": [r for r in said if not r["ok"]],
        "registration": registration,
        "prepared": request.session.pop(PREPARED_KEY, None) if get else None,
        "recheck_errors": recheck_errors or {},
    }


def _row(
    graduate: Graduate,
    *,
    row_said: dict[int, dict[str, Any]],
    refused: dict[int, dict[str, Any]],
    checked: set[int],
    recheck_errors: dict[int, list[str]],
    finding: str,
    may_act: bool,
) -> dict[str, Any]:
    values = graduate.values
    recheck = graduate.recheck
    pending = recheck is not None and recheck.state == RecheckState.PENDING
    said = row_said.get(values["student_status_id"])
    return {
        "pk": values["pk"],
        "status": values["student_status_id"],
        "name": values["name"],
        "student_number": graduate.student_number,
        "major": values["major_name"],
        "level": Qualification(level=values["level"]).get_level_display(),
        "result": Qualification(
            graduation_result=values["graduation_result"]
        ).get_graduation_result_display(),
        "certificate_number": values["certificate_number"],
        "identity_check": PHOTO_LABELS.get(values["identity_check"], ""),
        "cleared": values["identity_cleared_at"] is not None,
        "held": graduate.held,
        "problems": [p.message for p in graduate.problems],
        "recheck": recheck,
        "may_recheck": may_act and graduate.held and not pending,
        "recheck_errors": recheck_errors.get(values["pk"], []),
        "finding": finding if values["pk"] in recheck_errors else "",
        "refused": values["pk"] in refused,
        "said": said,
        "checked": values["student_status_id"] in checked,
    }
