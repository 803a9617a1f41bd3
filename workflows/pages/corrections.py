"""Web pages of the correction process. They drive the flow only through
``workflows.services`` and read only through ``scope``: anything a user may not see is 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.corrections import changes as correction_changes
from records.corrections.history import correction_history
from records.corrections.services import may_file
from records.errors import ConflictError
from records.models import CORRECTABLE_FIELDS
from records.models import CorrectionEvidence
from records.models import Qualification
from records.models import User
from workflows.flows import correction as flow
from workflows.pages.shell import page
from workflows.pages.shell import visible_corrections
from workflows.templatetags.xueji import field_label

CHANGE_ROWS = 4


def _field_choices() -> list[tuple[str, Any]]:
    fields = [(f, Qualification._meta.get_field(f).verbose_name) for f in CORRECTABLE_FIELDS]
    return [("", "—"), *fields]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class CorrectionForm(forms.Form):
    """Up to four fields with their new values, a reason, evidence files."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(
        label=_("Evidence (PDF, JPEG or PNG, at most 5 MB each)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(CHANGE_ROWS):
            self.fields[f"field_{row}"] = forms.ChoiceField(
                label=_("Field"), choices=_field_choices(), required=False
            )
            self.fields[f"value_{row}"] = forms.CharField(label=_("New value"), required=False)

    def changes(self) -> dict[str, str]:
        picked: dict[str, str] = {}
        for row in range(CHANGE_ROWS):
            field = self.cleaned_data.get(f"field_{row}")
            if field:
                picked[field] = self.cleaned_data.get(f"value_{row}", "")
        return picked

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"field_{r}"], self[f"value_{r}"]) for r in range(CHANGE_ROWS)]

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put each error of a service next to its input; ``changes.<field>`` errors go to the
        row that names the field (or the form when no row does)."""
        for key, errors in exc.message_dict.items():
            if key.startswith("changes."):
                field = key.removeprefix("changes.")
                label = field_label(field)
                row = next(
                    (r for r in range(CHANGE_ROWS) if self.cleaned_data.get(f"field_{r}") == field),
                    None,
                )
                target = f"value_{row}" if row is not None else None
                for error in errors:
                    self.add_error(target, f"{label}: {error}")
            elif key in self.fields:
                for error in errors:
                    self.add_error(key, error)
            else:
                for error in errors:
                    self.add_error(None, error)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _visible_qualifications(user: User) -> QuerySet[Qualification]:
    return scope(user, codenames.VIEW, Qualification.objects.select_related("school", "student"))


def _current_values(qualification: Qualification) -> list[tuple[Any, str]]:
    rows = []
    for field in CORRECTABLE_FIELDS:
        model_field = Qualification._meta.get_field(field)
        display = getattr(qualification, f"get_{field}_display", None)
        value = display() if callable(display) else getattr(qualification, field)
        rows.append((model_field.verbose_name, str(value)))
    return rows


def qualification_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A qualification, every value it ever had, its corrections, and the form to file one."""
    user = _user(request)
    qualification = get_object_or_404(_visible_qualifications(user), pk=pk)
    user_may_file = may_file(user, qualification)
    open_request = (
        visible_corrections(user)
        .filter(qualification=qualification, state__in=OPEN_CORRECTION_STATES)
        .first()
    )
    form = CorrectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not user_may_file:
            raise PermissionDenied
        if form.is_valid():
            try:
                correction = flow.correction_start(
                    qualification=qualification,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    requester=user,
                    evidence=request.FILES.getlist("evidence"),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your correction request was filed."))
                return redirect("corrections:detail", pk=correction.pk)
    context = {
        "qualification": qualification,
        "current": _current_values(qualification),
        "revisions": qualification.revisions.select_related("approved_by").order_by("-number"),
        "corrections": visible_corrections(user).filter(qualification=qualification),
        # While a request is open, no second filing is offered (a refused one shows why).
        "form": form if user_may_file and (open_request is None or form.errors) else None,
        "open_request": open_request,
    }
    return page(request, "workflows/corrections/qualification.html", context)


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request: state, changes, evidence, timeline; the requester's withdraw and resubmit."""
    user = _user(request)
    correction = get_object_or_404(visible_corrections(user), pk=pk)
    is_requester = correction.requester_id == user.pk
    form = None
    if is_requester and correction.state == CorrectionState.RETURNED:
        initial: dict[str, Any] = {"reason": correction.reason}
        for row, change in enumerate(correction.changes[:CHANGE_ROWS]):
            initial[f"field_{row}"] = change["field"]
            initial[f"value_{row}"] = correction_changes.value_label(change["field"], change["new"])
        form = CorrectionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw":
                flow.correction_withdraw(request=correction, user=user)
                messages.success(request, _("The request was withdrawn."))
                return redirect("corrections:detail", pk=pk)
            if action == "resubmit" and form is not None and form.is_valid():
                flow.correction_resubmit(
                    request=correction,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    user=user,
                    evidence=request.FILES.getlist("evidence"),
                )
                messages.success(request, _("The request was submitted again."))
                return redirect("corrections:detail", pk=pk)
        except ValidationError as exc:
            if form is None:
                raise
            form.add_service_errors(exc)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("corrections:detail", pk=pk)
    context = {
        "correction": correction,
        "history": correction_history(correction),
        "evidence": correction.evidence.all(),
        "is_requester": is_requester,
        "form": form,
    }
    return page(request, "workflows/corrections/detail.html", context)


@xframe_options_sameorigin
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, for those who may see its request only (never a public URL); shown
    inline (``?inline=1``, the task page's preview) or downloaded."""
    item = get_object_or_404(CorrectionEvidence.objects.select_related("request"), pk=pk)
    if not may(_user(request), codenames.VIEW, item.request):
        raise Http404
    inline = request.GET.get("inline") == "1"
    response = FileResponse(
        item.file.open("rb"), filename=item.original_name, as_attachment=not inline
    )
    response["Content-Type"] = item.content_type  # as checked by content, not by name
    response["X-Content-Type-Options"] = "nosniff"
    return response


def index(request: HttpRequest) -> HttpResponse:
    """The corrections page: the latest requests the user may see (a student's own, a
    school's, a province's). Tasks are in the work list."""
    requests = visible_corrections(_user(request)).order_by("-created")[:50]
    return page(request, "workflows/corrections/index.html", {"corrections": requests})
