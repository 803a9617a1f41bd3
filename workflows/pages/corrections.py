"""Web pages of the correction process. They drive the flow only through
the correction flow's services (``workflows.flows.correction``) and read only through
``scope``: anything a user may not see is 404."""

from __future__ import annotations

import datetime
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
from django.utils.cache import add_never_cache_headers
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import may
from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.corrections import changes as correction_changes
from records.corrections.history import correction_history
from records.corrections.services import may_file
from records.corrections.shown import shown_changes
from records.corrections.shown import shown_history
from records.corrections.shown import shown_text
from records.errors import ConflictError
from records.models import CORRECTABLE_FIELDS
from records.models import CorrectionEvidence
from records.models import Major
from records.models import Qualification
from records.models import School
from records.models import User
from records.qualifications import visible_qualifications
from records.validators import masked_value
from workflows.flows import correction as flow
from workflows.pages.proof_cards import qualification_proofs
from workflows.pages.revocations import qualification_revocations
from workflows.pages.shell import page
from workflows.pages.shell import visible_corrections
from workflows.templatetags.xueji import field_label

CHANGE_ROWS = 4

FIELD_LABELS = {"major_code": _("Major (name or code)")}  # the picker takes either
VALUE_MISSING = _("Enter the new value.")
FIELD_MISSING = _("Choose the field this value is for.")
FIELD_TWICE = _("This field is already chosen in another row.")
# The certificate number encodes the issue year and the level: a correction of either that
# contradicts it is refused on the certificate number; its error goes next to that row.
CERTIFICATE_PARTS = {"year": "graduation_date", "level": "level"}
LABELLED_ERROR = _("%(label)s: %(error)s")
SUMMARY_LABELS = {"evidence": _("Evidence")}  # its label is a rule of its own
FIELD_OF_ROW = _("Field, row %(row)s")
VALUE_OF_ROW = _("New value, row %(row)s")


def _field_choices() -> list[tuple[str, Any]]:
    fields = [
        (f, FIELD_LABELS.get(f) or capfirst(Qualification._meta.get_field(f).verbose_name))
        for f in CORRECTABLE_FIELDS
    ]
    return [("", "—"), *fields]


def _labelled(label: Any, error: Any) -> str:
    return str(LABELLED_ERROR % {"label": label, "error": error})


class ChoiceValueSelect(forms.Select):
    """The options of a choice field; a label typed without JavaScript (``Female``, 女) is shown
    selected as its code."""

    def __init__(self, field: str) -> None:
        self.field = field
        choices = Qualification._meta.get_field(field).choices or []
        super().__init__(attrs={"data-value": ""}, choices=[("", "—"), *choices])

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        try:
            return [
                correction_changes.parse_choice(self.field, v)
                for v in super().format_value(value)
                if v
            ]
        except ValidationError:
            return []


def _is_iso_date(value: Any) -> bool:
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def value_widget(field: str, value: Any = None) -> forms.Widget:
    """The input for a new value of ``field`` ("" when none is picked yet): a select of the
    choices in the page's language, a date picker, the majors' list, or text. A date typed
    wrong without JavaScript stays in a text input, where it can be seen and mended."""
    if field in correction_changes.DATE_FIELDS and (not value or _is_iso_date(value)):
        return forms.DateInput(attrs={"type": "date", "data-value": ""}, format="%Y-%m-%d")
    if field == "major_code":
        return forms.TextInput(attrs={"list": "majors", "autocomplete": "off", "data-value": ""})
    if field and Qualification._meta.get_field(field).choices:
        return ChoiceValueSelect(field)
    return forms.TextInput(attrs={"data-value": ""})


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


class FocusBoundField(forms.BoundField):
    """The first input in error takes the focus when the page loads."""

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        form = self.form
        if isinstance(form, CorrectionForm) and form.first_error() == self.name:
            attrs["autofocus"] = True
        return attrs


class CorrectionForm(forms.Form):
    """Up to four fields with their new values, a reason, evidence files. Each row's value
    input follows its picked field (see ``value_widget``); the records service parses labels,
    ISO dates and majors by name either way."""

    bound_field_class = FocusBoundField

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(
        label=_("Evidence (PDF, JPEG or PNG, at most 5 MB each)"), required=False
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        fields: dict[str, forms.Field] = {}
        given = self.data if self.is_bound else self.initial
        for row in range(CHANGE_ROWS):
            picked, value = given.get(f"field_{row}"), given.get(f"value_{row}")
            fields[f"field_{row}"] = forms.ChoiceField(
                label=FIELD_OF_ROW % {"row": row + 1},
                choices=_field_choices(),
                required=False,
                widget=forms.Select(attrs={"data-picker": ""}),
            )
            fields[f"value_{row}"] = forms.CharField(
                label=VALUE_OF_ROW % {"row": row + 1},
                required=False,
                widget=value_widget(picked if picked in CORRECTABLE_FIELDS else "", value),
            )
        # Row by row, before the reason: the order of the page, of the summary, of the focus.
        self.fields = {**fields, **self.fields}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        seen: set[str] = set()
        for row in range(CHANGE_ROWS):
            field, value = cleaned.get(f"field_{row}"), cleaned.get(f"value_{row}")
            if field and not value:
                self.add_error(f"value_{row}", _labelled(field_label(field), VALUE_MISSING))
            elif value and not field and f"field_{row}" not in self.errors:
                self.add_error(f"field_{row}", FIELD_MISSING)
            elif field in seen:
                self.add_error(f"field_{row}", FIELD_TWICE)
            if field:
                seen.add(field)
        return cleaned

    def changes(self) -> dict[str, str]:
        picked: dict[str, str] = {}
        for row in range(CHANGE_ROWS):
            field = self.cleaned_data.get(f"field_{row}")
            if field:
                picked[field] = self.cleaned_data.get(f"value_{row}", "")
        return picked

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"field_{r}"], self[f"value_{r}"]) for r in range(CHANGE_ROWS)]

    def value_widgets(self) -> list[str]:
        """One value input per kind of field, for the script that swaps a row's input when
        its field changes (``data-for``: the field, "" for text)."""
        kinds = ["", *CORRECTABLE_FIELDS]
        return [value_widget(f).render("", None, attrs={"data-for": f}) for f in kinds]

    def majors(self) -> list[tuple[str, str]]:
        """The catalogue's majors and the school's own, as (name, code), for the value input's
        list: people know their major by name."""
        own = self.school.own_majors.values_list("name", "code")
        return [*Major.objects.order_by("code").values_list("name", "code"), *own]

    def first_error(self) -> str | None:
        """The name of the first input in error, in the order of the page."""
        return next((name for name in self.fields if name in self.errors), None)

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error as (the id of its input, or "" for the form's own, text), in the order
        of the page, for the summary above the form."""
        summary = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            bound = self[name]
            for error in bound.errors:
                # Row errors already name their field; the others get their input's label.
                label = SUMMARY_LABELS.get(name, bound.label)
                text = error if name.startswith("value_") else _labelled(label, error)
                summary.append((bound.id_for_label, str(text)))
        return summary

    def _row_of(self, field: str) -> int | None:
        picked = (r for r in range(CHANGE_ROWS) if self.cleaned_data.get(f"field_{r}") == field)
        return next(picked, None)

    def _target_of(self, key: str, code: str | None) -> tuple[str | None, Any]:
        """Where a service's error goes: (the input, or None for the form; the label to name
        it with, or None)."""
        if key.startswith("changes."):
            field = key.removeprefix("changes.")
            row = self._row_of(field)
            if row is None and field == "certificate_number" and code in CERTIFICATE_PARTS:
                row = self._row_of(CERTIFICATE_PARTS[code])
            return (f"value_{row}" if row is not None else None), field_label(field)
        if key == "changes":
            return "field_0", None
        return (key if key in self.fields else None), None

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put each error of a service next to its input; ``changes.<field>`` errors go to the
        row that names the field (or the form when no row does), a missing change to the first
        row."""
        error_dict = getattr(exc, "error_dict", {None: [exc]})
        for key, errors in error_dict.items():
            for error in errors:
                target, label = self._target_of(key or "", error.code)
                for message in error:  # with its params filled in
                    self.add_error(target, _labelled(label, message) if label else message)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _visible_qualifications(user: User) -> QuerySet[Qualification]:
    return visible_qualifications(user).select_related("school", "student")


def _current_values(qualification: Qualification) -> list[tuple[Any, str]]:
    rows = []
    for field in CORRECTABLE_FIELDS:
        model_field = Qualification._meta.get_field(field)
        display = getattr(qualification, f"get_{field}_display", None)
        value = display() if callable(display) else getattr(qualification, field)
        rows.append((model_field.verbose_name, masked_value(field, value)))
        if field == "major_code":  # the code alone says little
            major = Qualification._meta.get_field("major_name")
            rows.append((major.verbose_name, qualification.major_name))
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
    form = CorrectionForm(request.POST or None, request.FILES or None, school=qualification.school)
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
        **qualification_proofs(user, qualification),
        **qualification_revocations(user, qualification),
    }
    response = page(request, "workflows/corrections/qualification.html", context)
    if form.is_bound:  # the form shows again what was typed, which may be an ID number
        add_never_cache_headers(response)
    return response


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request: state, changes, evidence, timeline; the requester's withdraw (confirmed on a
    second step) and resubmit."""
    user = _user(request)
    correction = get_object_or_404(visible_corrections(user), pk=pk)
    is_requester = correction.requester_id == user.pk
    form = None
    confirm_withdraw = False
    if is_requester and correction.state == CorrectionState.RETURNED:
        initial: dict[str, Any] = {"reason": correction.reason}
        for row, change in enumerate(correction.changes[:CHANGE_ROWS]):
            initial[f"field_{row}"] = change["field"]
            initial[f"value_{row}"] = change["new"]  # as stored: a code, an ISO date
        resubmitting = request.POST.get("action") == "resubmit"
        form = CorrectionForm(
            request.POST if resubmitting else None,
            (request.FILES or None) if resubmitting else None,
            initial=initial,
            school=correction.school,
        )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw" and request.POST.get("confirm") != "yes":
                confirm_withdraw = is_requester and correction.is_open
            elif action == "withdraw":
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
    disclosure = flow.disclosure_for(correction, user)
    context = {
        "correction": correction,
        "changes": shown_changes(correction.changes, disclosure),
        "reason": shown_text(correction.reason, disclosure),
        "history": shown_history(correction_history(correction), disclosure),
        "evidence": correction.evidence.all(),
        "is_requester": is_requester,
        "form": form,
        "confirm_withdraw": confirm_withdraw,
    }
    response = page(request, "workflows/corrections/detail.html", context)
    if disclosure.in_full:
        add_never_cache_headers(response)
    return response


# Evidence is served only here, after the login and the scope check, with the type it was
# checked as: never sniffed (nosniff), never a page of its own (a sandboxed document that may
# load nothing), never cached. A download is an attachment that no page may frame; the task
# page's preview (``?inline=1``: ``<img>`` for an image, ``<iframe>`` for a PDF, which the
# browser's PDF viewer shows in the sandbox too) is inline and framed by our pages only.
EVIDENCE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
EVIDENCE_DOWNLOAD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
    "X-Frame-Options": "DENY",
}
EVIDENCE_PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
}


def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, for those who may see its request only (never a public URL):
    downloaded, or shown inline with ``?inline=1`` (the task page's preview)."""
    item = get_object_or_404(CorrectionEvidence.objects.select_related("request"), pk=pk)
    if not may(_user(request), codenames.VIEW, item.request):
        raise Http404
    inline = request.GET.get("inline") == "1"
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not inline,
        filename=item.download_name,
        content_type=item.content_type,  # as checked by content, never from a name
    )
    headers = EVIDENCE_PREVIEW_HEADERS if inline else EVIDENCE_DOWNLOAD_HEADERS
    for name, value in (EVIDENCE_HEADERS | headers).items():
        response[name] = value
    return response


def index(request: HttpRequest) -> HttpResponse:
    """The corrections page: the latest requests the user may see (a student's own, a
    school's, a province's). Tasks are in the work list."""
    requests = visible_corrections(_user(request)).order_by("-created")[:50]
    return page(request, "workflows/corrections/index.html", {"corrections": requests})
