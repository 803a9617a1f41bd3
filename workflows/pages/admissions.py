"""Web pages of admissions: the admission list with its counts, filters and search; the
import of an admission file with its progress and error report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count
from django.db.models import QuerySet
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records.admissions import appeals
from records.admissions import services
from records.admissions.imports import allowed_schools
from records.admissions.imports import error_report_response
from records.admissions.imports import importer_schools
from records.admissions.imports import queue_import
from records.admissions.imports import visible_imports
from records.admissions.search import search
from records.admissions.services import ItemResult
from records.admissions.services import OutcomeItem
from records.admissions.services import Registration
from records.choices import UNDECIDED_CANCELLATION_STATES
from records.choices import AdmissionOutcome
from records.choices import AdmissionState
from records.choices import CohortState
from records.choices import ImportMode
from records.choices import ImportState
from records.converters import object_ids
from records.errors import ConflictError
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionImport
from records.models import AdmissionRecord
from records.models import AdmissionType
from records.models import School
from records.models import User
from records.tasks import queue_admission_import
from records.validators import mask_id_number
from workflows.flows.admission import CONFIRM_CANCELLATION
from workflows.flows.admission import FLOW_KEY
from workflows.flows.admission import cancellation_appeal
from workflows.flows.admission import cohort_register
from workflows.flows.admission import outcomes_record
from workflows.flows.admission import visible_reviews
from workflows.models import OPEN
from workflows.models import WorkItem
from workflows.pages import adverse as adverse_page
from workflows.pages.shell import page

PAGE_SIZE = 50
ERRORS_SHOWN = 50
RESULTS_KEY = "xueji_admission_results"
REGISTERED_KEY = "xueji_cohort_registered"
# The admissions an outcome may still be recorded for (the service refuses the rest).
_PICKABLE = (AdmissionState.ADMITTED, AdmissionState.RETAINED)
_NEEDS_REASON = (AdmissionOutcome.RETAINED, AdmissionOutcome.CANCELLED)
_PICK_ERRORS = {
    "required": _("Check at least one admission."),
    "invalid_choice": _("An admission checked is not on this page any more; check again."),
}
# An admission whose cancellation waits for a second officer: shown so, and not checked again.
_PENDING = models.Exists(
    AdmissionCancellation.objects.filter(
        admission=models.OuterRef("pk"), state__in=UNDECIDED_CANCELLATION_STATES
    )
)
CANCELLATION_ASKED = _("cancellation requested: it waits for a second officer")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _importer_schools(user: User) -> QuerySet[School]:
    codes = importer_schools(user)
    schools = School.objects.order_by("code")
    return schools if codes is None else schools.filter(code__in=codes)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Admission file"),
        help_text=_(
            "CSV (UTF-8 or GBK, as Excel saves it) or XLSX; the first row names the columns, "
            "in English or Chinese (考生号, 姓名, 性别, 出生日期, 证件号码, 学校代码, 专业代码, "
            "层次, 学制, 学习形式, 入学年份, 生源地; optionally 证件类型, 专业名称, "
            "特殊招生类型, 民族)."
        ),
    )
    mode = forms.ChoiceField(
        label=_("If some rows are invalid"),
        choices=ImportMode.choices,
        initial=ImportMode.SKIP_INVALID,
        widget=forms.RadioSelect,
    )
    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        field.queryset = schools  # type: ignore[attr-defined]
        if schools.count() == 1:
            field.initial = schools.first()
            field.widget = forms.HiddenInput()


def import_page(request: HttpRequest) -> HttpResponse:
    """Upload an admission file; the user's recent imports below."""
    user = _user(request)
    schools = _importer_schools(user)
    form = ImportForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = queue_import(
            upload=upload,
            name=upload.name or "admissions",
            user=user,
            mode=form.cleaned_data["mode"],
            school=form.cleaned_data["school"],
        )
        queue_admission_import(batch.pk)
        return redirect("admissions:import", pk=batch.pk)
    recent = visible_imports(user).filter(uploaded_by=user)[:10]
    return page(request, "workflows/admissions/import.html", {"form": form, "recent": recent})


def _own_import(request: HttpRequest, pk: int) -> AdmissionImport:
    batch = visible_imports(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def import_detail(request: HttpRequest, pk: int) -> TemplateResponse:
    """An import's progress (the page reloads itself while it runs) and its first errors."""
    batch = _own_import(request, pk)
    running = batch.state in (ImportState.QUEUED, ImportState.RUNNING)
    return page(
        request,
        "workflows/admissions/import_detail.html",
        {
            "batch": batch,
            "running": running,
            "errors": batch.errors.all()[:ERRORS_SHOWN],
            "more_errors": max(batch.errors.count() - ERRORS_SHOWN, 0),
        },
    )


def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The error report as CSV (UTF-8 with BOM: Excel opens it)."""
    return error_report_response(_own_import(request, pk))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 4 else None  # noqa: PLR2004


class OutcomesForm(forms.Form):
    """One outcome for the admissions checked in the list (``outcomes_record`` answers for
    each); the reason and the end date are asked here, once, rather than refused per row."""

    admissions = forms.TypedMultipleChoiceField(coerce=int, error_messages=_PICK_ERRORS)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=AdmissionOutcome.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to retain or cancel; the student reads it."),
    )
    until = forms.DateField(
        label=_("Retained until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("To retain: the day the admission is kept until."),
    )

    legality_review = forms.BooleanField(
        label=_("Legality review done"),
        required=False,
        help_text=_("To cancel: the school reviewed the decision's legality (article 56)."),
    )
    hearing_date = forms.DateField(
        label=_("Hearing date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hearing_by = forms.CharField(label=_("Heard by"), required=False, max_length=200)
    hearing_summary = forms.CharField(
        label=_("Hearing summary"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("To cancel: the student's statement and defence were heard (article 55)."),
    )

    def __init__(self, *args: Any, pickable: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["admissions"].choices = [(pk, pk) for pk in pickable]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        if outcome in _NEEDS_REASON and not (data.get("reason") or "").strip():
            self.add_error("reason", services.REASON_REQUIRED)
        if outcome == AdmissionOutcome.RETAINED and not data.get("until"):
            self.add_error("until", services.UNTIL_REQUIRED)
        if outcome == AdmissionOutcome.CANCELLED:
            item = self._item(0, data)
            for name, error in services.hearing_errors(item, timezone.localdate()).items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, error)
        return data

    def _item(self, pk: int, data: dict[str, Any]) -> OutcomeItem:
        cancelling = data.get("outcome") == AdmissionOutcome.CANCELLED
        return OutcomeItem(
            admission=pk,
            outcome=data.get("outcome") or "",
            reason=(data.get("reason") or "").strip(),
            until=data.get("until") if data.get("outcome") == AdmissionOutcome.RETAINED else None,
            legality_review=bool(data.get("legality_review")) and cancelling,
            hearing_date=data.get("hearing_date") if cancelling else None,
            hearing_by=(data.get("hearing_by") or "") if cancelling else "",
            hearing_summary=(data.get("hearing_summary") or "") if cancelling else "",
        )

    def items(self) -> list[OutcomeItem]:
        data = self.cleaned_data
        return [self._item(pk, data) for pk in data["admissions"]]


def _outcome_results(user: User, results: Sequence[ItemResult]) -> list[dict[str, Any]]:
    """What the page says of each admission of a bulk outcome, by the student's name."""
    shown = {
        record.pk: record
        for record in scope(user, codenames.VIEW, AdmissionRecord.objects.all())
        .filter(pk__in=[r.admission for r in results])
        .select_related("student")
    }
    rows = []
    for result in results:
        record = shown.get(result.admission)
        if not result.ok:
            said = result.detail
        elif result.cancellation is not None:
            said = str(CANCELLATION_ASKED)
        else:
            said = str(AdmissionState(result.state).label)
        rows.append(
            {
                "ok": result.ok,
                "name": record.student.name if record else f"#{result.admission}",
                "candidate_number": record.candidate_number if record else "",
                "said": said,
            }
        )
    return rows


def _reviewable_schools(user: User, codes: Sequence[str]) -> set[str]:
    return set(
        scope(user, codenames.REVIEW_SCHOOL, School.objects.filter(code__in=codes)).values_list(
            "code", flat=True
        )
    )


def _admission_list(
    request: HttpRequest, *, cohort: AdmissionCohort | None = None
) -> dict[str, Any] | HttpResponse:
    """The list of admissions the user may see (one cohort's on its page): counts per state,
    filters, search, 50 a page, and check boxes for one outcome when the user records the
    outcomes of the school. A POST records that outcome, then returns to the same list (the
    results shown once); a form with an error is shown again with the rows still checked."""
    user = _user(request)
    visible = scope(user, codenames.VIEW, AdmissionRecord.objects.all())
    params = request.GET
    year: int | None
    if cohort is not None:
        schools = School.objects.filter(code=cohort.school_id)
        years = [cohort.year]
        school, year = cohort.school_id, cohort.year
    else:
        schools = School.objects.filter(code__in=visible.values("school_id").distinct()).order_by(
            "code"
        )
        years = sorted(
            set(visible.values_list("admission_year", flat=True).distinct()), reverse=True
        )
        school = params.get("school") or (schools[0].code if schools.count() == 1 else "")
        year = _int(params.get("year")) or (years[0] if years else None)
    records = visible
    if school:
        records = records.filter(school_id=school)
    if year:
        records = records.filter(admission_year=year)
    counts = dict(
        records.order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    state = params.get("state", "")
    if state in AdmissionState.values:
        records = records.filter(state=state)
    admission_type = params.get("admission_type", "")
    if admission_type:
        records = records.filter(admission_type_id=admission_type)
    q = (params.get("q") or "").strip()
    if q:
        records = records.filter(search(q, AdmissionRecord))
    records = (
        records.select_related("student", "school", "admission_type", "status")
        .annotate(cancellation_pending=_PENDING)
        .order_by("candidate_number", "pk")
    )
    listing = Paginator(records, PAGE_SIZE).get_page(params.get("page"))
    page_rows = list(listing)
    reviewable = _reviewable_schools(user, sorted({r.school_id for r in page_rows}))
    pickable = [
        r.pk
        for r in page_rows
        if r.school_id in reviewable and r.state in _PICKABLE and not r.cancellation_pending
    ]
    posted = request.method == "POST" and request.POST.get("action") == "outcomes"
    form = OutcomesForm(request.POST if posted else None, pickable=pickable)
    if posted and form.is_valid():
        results = outcomes_record(items=form.items(), user=user)
        # Shown once on the page the browser is sent back to (a reload records nothing).
        request.session[RESULTS_KEY] = _outcome_results(user, results)
        return redirect(request.get_full_path())
    checked = set(object_ids(request.POST.getlist("admissions")))
    rows = [
        {
            "record": record,
            "id_number": mask_id_number(record.student.id_number),
            "pickable": record.pk in pickable,
            "checked": record.pk in checked,
        }
        for record in page_rows
    ]
    return {
        "rows": rows,
        "listing": listing,
        "schools": schools,
        "years": years,
        "school": school,
        "year": year,
        "state": state,
        "q": q,
        "admission_type": admission_type,
        "admission_types": AdmissionType.objects.all(),
        "counts": [(code, label, counts.get(code, 0)) for code, label in AdmissionState.choices],
        "total": sum(counts.values()),
        "form": form,
        "may_decide": bool(pickable),
        "results": request.session.pop(RESULTS_KEY, []) if request.method == "GET" else [],
    }


def index(request: HttpRequest) -> HttpResponse:
    """The admissions the user may see, with a link to the cohort's page when the list shows
    one school's freshmen of one year."""
    context = _admission_list(request)
    if isinstance(context, HttpResponse):
        return context
    cohort = (
        visible_reviews(_user(request))
        .filter(school_id=context["school"], year=context["year"])
        .first()
        if context["school"] and context["year"]
        else None
    )
    return page(
        request,
        "workflows/admissions/index.html",
        {
            **context,
            "cohort": cohort,
            "may_import": allowed_schools(_user(request)) != frozenset(),
        },
    )


def _overdue(cohort: AdmissionCohort, unexamined: int) -> bool:
    return cohort.state == CohortState.REVIEWING and unexamined > 0 and cohort.deadline < now()


def cohorts(request: HttpRequest) -> TemplateResponse:
    """The cohorts the user may see (a province's administrator: every school's), the newest
    year first, 50 a page, each with its counts, its deadline and whether it is overdue."""
    user = _user(request)
    shown = visible_reviews(user)
    years = sorted(set(shown.values_list("year", flat=True)), reverse=True)
    year = _int(request.GET.get("year")) or (years[0] if years else None)
    if year:
        shown = shown.filter(year=year)
    q = (request.GET.get("q") or "").strip()
    if q:
        shown = shown.filter(models.Q(school__name__contains=q) | models.Q(school_id=q))
    listing = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    page_cohorts = list(listing)
    state_counts = services.state_counts(page_cohorts)
    pending = services.pending_counts(page_cohorts)
    rows = []
    for cohort in page_cohorts:
        counts = state_counts[cohort.pk]
        unexamined = counts.get(AdmissionState.ADMITTED, 0)
        rows.append(
            {
                "cohort": cohort,
                "counts": [counts.get(code, 0) for code in AdmissionState.values],
                "pending": pending[cohort.pk],
                "overdue": _overdue(cohort, unexamined),
            }
        )
    return page(
        request,
        "workflows/admissions/cohorts.html",
        {
            "rows": rows,
            "listing": listing,
            "years": years,
            "year": year,
            "q": q,
            "states": AdmissionState.choices,
        },
    )


def cohort_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A cohort: its re-examination's deadline and counts, the pending cancellations,
    "register the cohort", and its admissions with check boxes for outcomes."""
    user = _user(request)
    cohort = visible_reviews(user).filter(pk=pk).first()
    if cohort is None:
        raise Http404
    may_register = may(user, codenames.REVIEW_SCHOOL, cohort)
    if request.method == "POST" and request.POST.get("action") == "register":
        if not may_register:
            raise PermissionDenied(services.MAY_NOT_REVIEW)
        request.session[REGISTERED_KEY] = _registration_said(
            user, cohort_register(cohort=cohort, user=user)
        )
        return redirect(request.get_full_path())
    context = _admission_list(request, cohort=cohort)
    if isinstance(context, HttpResponse):
        return context
    unexamined = services.unexamined(cohort)
    cancellations = (
        AdmissionCancellation.objects.filter(cohort=cohort, state__in=UNDECIDED_CANCELLATION_STATES)
        .select_related("admission__student", "requester")
        .order_by("created", "pk")
    )
    return page(
        request,
        "workflows/admissions/cohort.html",
        {
            **context,
            "cohort": cohort,
            "cohort_fixed": True,
            "unexamined": unexamined,
            "overdue": _overdue(cohort, unexamined),
            "cancellations": _with_tasks(list(cancellations[:PAGE_SIZE])),
            "pending": cancellations.count(),
            "may_register": may_register and unexamined > 0,
            "registration": request.session.pop(REGISTERED_KEY, None)
            if request.method == "GET"
            else None,
        },
    )


def _with_tasks(cancellations: list[AdmissionCancellation]) -> list[dict[str, Any]]:
    """Each pending cancellation with its open ``confirm_cancellation`` task (one query)."""
    tasks = dict(
        WorkItem.objects.filter(
            OPEN,
            flow=FLOW_KEY,
            step=CONFIRM_CANCELLATION.key,
            subject_id__in=[c.pk for c in cancellations],
        ).values_list("subject_id", "pk")
    )
    return [{"cancellation": c, "task": tasks.get(c.pk)} for c in cancellations]


def _registration_said(user: User, result: Registration) -> dict[str, Any]:
    """What the cohort's page says of a registration: counts and each refused admission by
    the student's name."""
    names = dict(
        scope(user, codenames.VIEW, AdmissionRecord.objects.all())
        .filter(pk__in=[e.admission for e in result.errors])
        .values_list("pk", "student__name")
    )
    return {
        "registered": result.registered,
        "waiting": result.waiting,
        "errors": [
            {"name": names.get(e.admission, f"#{e.admission}"), "detail": e.detail}
            for e in result.errors
        ],
    }


# --- a cancellation (取消入学资格) as an adverse decision -------------------------------------


def cancellation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A cancellation, to its student and to the officers and administrators who see it: the
    request (reason, legality review, hearing), its state, and once confirmed the written
    decision and its appeal period, with the officer's delivery form and the student's
    appeal form."""
    user = _user(request)
    cancellation = (
        scope(
            user,
            codenames.VIEW,
            AdmissionCancellation.objects.select_related(
                "admission__student", "admission__school", "requester", "school"
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if cancellation is None:
        raise Http404
    student_user_id = cancellation.admission.student.user_id
    shown = adverse_page.shown(cancellation, user, student_user_id=student_user_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in adverse_page.ACTIONS and shown:
        try:
            adverse_page.act(
                request,
                action,
                appeal=lambda reason: cancellation_appeal(
                    cancellation=cancellation, reason=reason, user=user
                ),
                deliver=lambda **kw: appeals.cancellation_deliver(
                    cancellation=cancellation, acting_user=user, **kw
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
            return redirect("home:cancellation", pk=pk)
        else:
            return redirect("home:cancellation", pk=pk)
    context = {"cancellation": cancellation, "admission": cancellation.admission, "adverse": shown}
    return page(request, "workflows/admissions/cancellation.html", context)
