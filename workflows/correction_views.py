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

from permissions import codenames
from permissions.checks import may
from permissions.checks import scope
from records import corrections
from records.choices import CorrectionState
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CORRECTABLE_FIELDS
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from workflows import services
from workflows.flows import CorrectionFlow
from workflows.templatetags.xueji import field_label
from workflows.views import page
from workflows.views import visible_corrections

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


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in corrections.Decision.choices if value in allowed
        ]


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


def _attach(request: HttpRequest, correction: CorrectionRequest, form: CorrectionForm) -> None:
    for upload in request.FILES.getlist("evidence"):
        corrections.correction_add_evidence(
            request=correction, upload=upload, acting_user=_user(request)
        )


def qualification_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A qualification, every value it ever had, its corrections, and the form to file one."""
    user = _user(request)
    qualification = get_object_or_404(_visible_qualifications(user), pk=pk)
    may_file = qualification.student.user_id == user.pk or may(
        user, codenames.REVIEW_SCHOOL, qualification
    )
    form = CorrectionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_file:
            raise PermissionDenied
        if form.is_valid():
            try:
                correction = services.correction_start(
                    qualification=qualification,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    requester=user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
            else:
                try:
                    _attach(request, correction, form)
                except ValidationError as exc:
                    messages.warning(request, " ".join(exc.messages))
                messages.success(request, _("Your correction request was filed."))
                return redirect("corrections:detail", pk=correction.pk)
    context = {
        "qualification": qualification,
        "current": _current_values(qualification),
        "revisions": qualification.revisions.select_related("approved_by").order_by("-number"),
        "corrections": visible_corrections(user).filter(qualification=qualification),
        "form": form if may_file else None,
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
            initial[f"value_{row}"] = corrections.value_label(change["field"], change["new"])
        form = CorrectionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw":
                services.correction_withdraw(request=correction, user=user)
                messages.success(request, _("The request was withdrawn."))
                return redirect("corrections:detail", pk=pk)
            if action == "resubmit" and form is not None and form.is_valid():
                services.correction_resubmit(
                    request=correction,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    user=user,
                )
                _attach(request, correction, form)
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
        "history": corrections.correction_history(correction),
        "evidence": correction.evidence.all(),
        "is_requester": is_requester,
        "form": form,
    }
    return page(request, "workflows/corrections/detail.html", context)


def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, for those who may see its request only (never a public URL)."""
    item = get_object_or_404(CorrectionEvidence.objects.select_related("request"), pk=pk)
    if not may(_user(request), codenames.VIEW, item.request):
        raise Http404
    return FileResponse(item.file.open("rb"), filename=item.original_name, as_attachment=True)


def task_list(request: HttpRequest) -> HttpResponse:
    """The corrections page: the open tasks the user may decide, then the latest requests the
    user may see (a student's own, a school's, a province's)."""
    user = _user(request)
    tasks = list(services.open_tasks(user)[:100])
    summaries = services.task_summaries(tasks)
    rows = [(task, summaries[task.pk]) for task in tasks]
    requests = visible_corrections(user).order_by("-created")[:50]
    return page(
        request, "workflows/corrections/tasks.html", {"rows": rows, "corrections": requests}
    )


def task(request: HttpRequest, task_pk: int) -> HttpResponse:
    """A task: old → new side by side, evidence, history, and the decision form."""
    user = _user(request)
    try:
        the_task = services.task_for(user, task_pk)
    except NotVisibleError as exc:
        raise Http404 from exc
    correction = services.step_process(the_task).request
    school_step = the_task.flow_task == CorrectionFlow.school_review
    allowed = (
        (corrections.Decision.APPROVE, corrections.Decision.REJECT, corrections.Decision.RETURN)
        if school_step
        else (corrections.Decision.APPROVE, corrections.Decision.REJECT)
    )
    form = DecisionForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_decide(
                task_pk=task_pk,
                user=user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(key if key in form.fields else None, error)
        except ConflictError as exc:
            form.add_error(None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You may not decide this request."))
        else:
            messages.success(request, _("Your decision was recorded."))
            return redirect("corrections:index")
    context = {
        "task": the_task,
        "is_open": the_task.status in services.OPEN_TASK_STATES,
        "correction": correction,
        "step_title": the_task.flow_task.task_title,
        "history": corrections.correction_history(correction),
        "evidence": correction.evidence.all(),
        "form": form,
    }
    return page(request, "workflows/corrections/task.html", context)


def task_page(request: HttpRequest, *, task_pk: int) -> HttpResponse:
    """The flow nodes' view: the task page."""
    return redirect("corrections:task", task_pk=task_pk)
