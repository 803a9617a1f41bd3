"""Web pages of admissions: the admission list with its counts, filters and search; the
import of an admission file with its progress and error report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models import QuerySet
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import scope
from records.admissions.imports import allowed_schools
from records.admissions.imports import error_report_response
from records.admissions.imports import importer_schools
from records.admissions.imports import queue_import
from records.admissions.imports import visible_imports
from records.admissions.search import search
from records.choices import AdmissionState
from records.choices import ImportMode
from records.choices import ImportState
from records.models import AdmissionImport
from records.models import AdmissionRecord
from records.models import AdmissionType
from records.models import School
from records.models import User
from records.tasks import queue_admission_import
from records.validators import mask_id_number
from workflows.pages.shell import page

PAGE_SIZE = 50
ERRORS_SHOWN = 50


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
    return int(value) if value and value.isdigit() and len(value) <= 4 else None  # noqa: PLR2004


def index(request: HttpRequest) -> TemplateResponse:
    """The admissions the user may see: counts per state, filters, search, 50 a page."""
    user = _user(request)
    visible = scope(user, codenames.VIEW, AdmissionRecord.objects.all())
    schools = School.objects.filter(code__in=visible.values("school_id").distinct()).order_by(
        "code"
    )
    years = sorted(set(visible.values_list("admission_year", flat=True).distinct()), reverse=True)
    params = request.GET
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
    records = records.select_related("student", "school", "admission_type", "status").order_by(
        "candidate_number", "pk"
    )
    listing = Paginator(records, PAGE_SIZE).get_page(params.get("page"))
    rows = [
        {"record": record, "id_number": mask_id_number(record.student.id_number)}
        for record in listing
    ]
    return page(
        request,
        "workflows/admissions/index.html",
        {
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
            "counts": [
                (code, label, counts.get(code, 0)) for code, label in AdmissionState.choices
            ],
            "total": sum(counts.values()),
            "may_import": allowed_schools(user) != frozenset(),
        },
    )
