"""Web pages of identity changes (DOMAIN.md §2.6): the student (or an officer of the school)
files a change of the identity or programme from the status, with its proof, and follows
it; everyone lists the requests they may see. The form is built from the field declarations
(``records.identity_changes.fields``); filing, proof, resubmitting and withdrawing go through
the identity change flow's services, reads through ``scope``: anything a user may not see is
404. Officers decide on the work list."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse
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
from records import glossary
from records.errors import ConflictError
from records.identity_changes.fields import FIELDS
from records.identity_changes.fields import IdentityField
from records.identity_changes.fields import shown_changes
from records.identity_changes.history import request_history
from records.identity_changes.services import identity_change_add_evidence
from records.models import Ethnicity
from records.models import IdentityChangeEvidence
from records.models import IdentityChangeRequest
from records.models import Major
from records.models import StudentStatus
from records.models import User
from records.models.identity_changes import IdentityChangeState
from records.status_changes.services import filer_role
from records.validators import mask_id_numbers_in
from workflows.flows import identity_change as flow
from workflows.pages.corrections import EVIDENCE_DOWNLOAD_HEADERS
from workflows.pages.corrections import EVIDENCE_HEADERS
from workflows.pages.corrections import EVIDENCE_PREVIEW_HEADERS
from workflows.pages.shell import page

PAGE_SIZE = 50
ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
LABELLED_ERROR = _("%(label)s: %(error)s")
KEEP = _("(unchanged)")


def visible_identity_changes(user: User) -> QuerySet[IdentityChangeRequest]:
    """The requests ``user`` may see, newest first: the API's visibility."""
    return scope(
        user,
        codenames.VIEW,
        IdentityChangeRequest.objects.select_related("requester", "student", "status", "school"),
    ).order_by("-created", "-pk")


def _input_name(field: IdentityField) -> str:
    return f"field_{field.name}"


def _form_field(field: IdentityField, status: StudentStatus) -> forms.Field:
    """The input of a declared field, its current value as the hint; every value stays text,
    which the service parses (nothing typed is lost on an error). Empty: unchanged."""
    current = field.shown(field.current(status))
    common: dict[str, Any] = {
        "label": field.label,
        "required": False,
        "help_text": _("Now: %(value)s") % {"value": current or "—"},
    }
    if field.kind == "date":
        widget: forms.Widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    elif field.kind == "choice":
        widget = forms.Select(choices=[("", KEEP), *field.choices])
    elif field.kind == "ethnicity":
        groups = Ethnicity.objects.order_by("code").values_list("code", "name")
        widget = forms.Select(choices=[("", KEEP), *groups])
    elif field.kind == "major":
        widget = forms.TextInput(attrs={"list": "majors", "autocomplete": "off"})
    else:
        widget = forms.TextInput(attrs={"autocomplete": "off"})
    return forms.CharField(widget=widget, **common)


class IdentityChangeForm(forms.Form):
    """The changeable fields (filled in: changed), the reason and the proof. Its checks are
    the records service's: the form only carries the text and the files, and places the
    errors."""

    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        required=False,
        help_text=_("PDF, JPEG or PNG, at most 5 MB: the proof of the change."),
    )

    def __init__(self, *args: Any, status: StudentStatus, **kw: Any):
        super().__init__(*args, **kw)
        self.status = status
        declared = {_input_name(f): _form_field(f, status) for f in FIELDS}
        self.fields = {**declared, **self.fields}

    def values(self) -> dict[str, str]:
        """The fields given a value: the ones to change."""
        given = {f.name: (self.cleaned_data.get(_input_name(f)) or "").strip() for f in FIELDS}
        return {name: value for name, value in given.items() if value}

    def uploads(self) -> list[Any]:
        return self.files.getlist("evidence") if self.files else []

    def majors(self) -> list[tuple[str, str]]:
        own = self.status.school.own_majors.values_list("code", "name")
        return [*Major.objects.order_by("code").values_list("code", "name"), *own]

    def error_summary(self) -> list[tuple[str, str]]:
        summary = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            bound = self[name]
            for error in bound.errors:
                text = LABELLED_ERROR % {"label": bound.label, "error": error}
                summary.append((bound.id_for_label, str(text)))
        return summary

    def add_service_errors(self, exc: ValidationError) -> None:
        """Each error of the service next to its input: ``fields.<name>`` at the field,
        ``reason`` and ``evidence`` at theirs, the rest at the top."""
        for key, errors in getattr(exc, "error_dict", {"": [exc]}).items():
            name = f"field_{key.removeprefix('fields.')}" if key.startswith("fields.") else key
            target = name if name in self.fields else None
            for error in errors:
                for message in error:
                    self.add_error(target, message)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _status_of(request: HttpRequest, user: User) -> StudentStatus:
    raw = request.GET.get("status", "")
    if not ID_PATTERN.fullmatch(raw):
        raise Http404
    visible = scope(user, codenames.VIEW, StudentStatus.objects.select_related("school", "student"))
    found: StudentStatus = get_object_or_404(visible, pk=int(raw))
    return found


def _form_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = page(request, template, context)
    if context.get("form") is not None and context["form"].is_bound:
        add_never_cache_headers(response)  # what was typed is shown again
    return response


def new(request: HttpRequest) -> HttpResponse:
    """``?status=<id>``: the form (every changeable field with its current value, the reason
    and the proof). Filing redirects to the request's page; an error shows the form again with
    what was typed, the errors at the top and at their inputs."""
    user = _user(request)
    status = _status_of(request, user)
    may_file = filer_role(user, status) is not None and status.is_current
    form = None
    if may_file:
        form = IdentityChangeForm(request.POST or None, request.FILES or None, status=status)
        if request.method == "POST" and form.is_valid():
            try:
                created = flow.identity_change_start(
                    status=status,
                    fields=form.values(),
                    reason=form.cleaned_data["reason"],
                    requester=user,
                    evidence=form.uploads(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your identity change request was filed."))
                return redirect("identity_changes:detail", pk=created.pk)
    context = {"status": status, "form": form}
    return _form_response(request, "workflows/identity_changes/new.html", context)


def _history(request: IdentityChangeRequest) -> list[tuple[Any, Any]]:
    return [
        (glossary.IDENTITY_CHANGE_ACTIONS.get(e.action, e.action), e)
        for e in request_history(request)
    ]


def _resubmit_form(change: IdentityChangeRequest, request: HttpRequest) -> IdentityChangeForm:
    initial: dict[str, Any] = {"reason": change.reason}
    initial.update({f"field_{c['field']}": c["new"] for c in change.changes})
    resubmitting = request.POST.get("action") == "resubmit"
    return IdentityChangeForm(
        request.POST if resubmitting else None,
        request.FILES if resubmitting else None,
        initial=initial,
        status=change.status,
    )


def _act(
    request: HttpRequest, change: IdentityChangeRequest, form: IdentityChangeForm | None
) -> tuple[HttpResponse | None, bool]:
    """The requester's action posted on the page: a redirect when done, and whether the
    withdrawal waits for its confirmation."""
    user = _user(request)
    action = request.POST.get("action")
    is_requester = change.requester_id == user.pk
    if action == "withdraw" and request.POST.get("confirm") != "yes":
        return None, is_requester and change.is_open
    if action == "withdraw":
        flow.identity_change_withdraw(request=change, user=user)
        messages.success(request, _("The request was withdrawn."))
        return redirect("identity_changes:detail", pk=change.pk), False
    if action == "evidence" and "evidence" in request.FILES:
        for upload in request.FILES.getlist("evidence"):
            identity_change_add_evidence(request=change, upload=upload, acting_user=user)
        messages.success(request, _("The evidence was added."))
        return redirect("identity_changes:detail", pk=change.pk), False
    if action == "resubmit" and form is not None and form.is_valid():
        flow.identity_change_resubmit(
            request=change,
            fields=form.values(),
            reason=form.cleaned_data["reason"],
            user=user,
            evidence=form.uploads(),
        )
        messages.success(request, _("The request was submitted again."))
        return redirect("identity_changes:detail", pk=change.pk), False
    return None, False


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request: its changes (each with the value it replaces), state, proof, history; the
    requester's withdraw (confirmed on a second step), adding proof while open and, once
    returned, resubmit."""
    user = _user(request)
    change = get_object_or_404(visible_identity_changes(user), pk=pk)
    is_requester = change.requester_id == user.pk
    is_party = user.pk in (change.requester_id, change.student.user_id)
    form = None
    if is_requester and change.state == IdentityChangeState.RETURNED:
        form = _resubmit_form(change, request)
    confirm_withdraw = False
    if request.method == "POST":
        try:
            done, confirm_withdraw = _act(request, change, form)
            if done is not None:
                return done
        except ValidationError as exc:
            if form is None or request.POST.get("action") != "resubmit":
                messages.error(request, " ".join(exc.messages))
                return redirect("identity_changes:detail", pk=pk)
            form.add_service_errors(exc)
        except (ConflictError, PermissionDenied) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
            return redirect("identity_changes:detail", pk=pk)
    context = {
        "change": change,
        "changes": shown_changes(change.changes),
        "reason": mask_id_numbers_in(change.reason),
        "evidence": list(change.evidence.all()),
        "history": _history(change),
        "is_requester": is_requester,
        "may_add_evidence": is_party and change.is_open,
        "is_open": change.is_open,
        "form": form,
        "confirm_withdraw": confirm_withdraw,
    }
    return _form_response(request, "workflows/identity_changes/detail.html", context)


def index(request: HttpRequest) -> HttpResponse:
    """The requests the user may see, newest first, 50 a page. Tasks are in the work list."""
    listing = Paginator(visible_identity_changes(_user(request)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(c, shown_changes(c.changes)) for c in listing]
    return page(
        request, "workflows/identity_changes/index.html", {"listing": listing, "rows": rows}
    )


def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """A proof file, for those who may see its request only (never a public URL):
    downloaded, or shown inline with ``?inline=1``; served as a correction's evidence is."""
    item = get_object_or_404(IdentityChangeEvidence.objects.select_related("request"), pk=pk)
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
