"""Web pages of status changes (学籍异动): the student files a request from their status and
follows it; everyone lists the requests they may see. The form is built from the type's
declaration (``records.status_changes.types``), never from a type named here; filing,
resubmitting and withdrawing go through the status change flow's services, reads through
``scope``: anything a user may not see is 404. Officers decide on the work list."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models import Model
from django.db.models import QuerySet
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import scope
from permissions.checks import sees_by_grant
from records import glossary
from records.admissions.search import search
from records.choices import OPEN_STATUS_CHANGE_STATES
from records.choices import StatusChangeState
from records.errors import ConflictError
from records.models import Major
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import User
from records.status_changes import appeals
from records.status_changes.history import request_history
from records.status_changes.periods import max_study_end
from records.status_changes.periods import past_max_study_period
from records.status_changes.services import filer_role
from records.status_changes.types import TYPES
from records.status_changes.types import Field
from records.status_changes.types import StatusChangeType
from records.validators import mask_id_numbers_in
from workflows.flows import status_change as flow
from workflows.pages import adverse as adverse_page
from workflows.pages.shell import page

PAGE_SIZE = 50
ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
LABELLED_ERROR = _("%(label)s: %(error)s")
SCHOOL_HINT = _("e.g. 10246 or 复旦大学")


def visible_status_changes(user: User) -> QuerySet[StatusChangeRequest]:
    """The requests ``user`` may see (a student's own, a school's, a province's), newest
    first: the API's visibility."""
    return scope(
        user,
        codenames.VIEW,
        StatusChangeRequest.objects.select_related(
            "requester", "student", "status", "school", "target_school"
        ),
    ).order_by("-created", "-pk")


def fileable_types(user: User, status: StudentStatus) -> list[StatusChangeType]:
    """The types ``user`` may file for ``status`` as their declarations say: available ones
    whose filers include the user's role; none for a status that ended."""
    role = filer_role(user, status)
    if role is None or not status.is_current:
        return []
    return [kind for kind in TYPES.values() if kind.available and role in kind.filers]


def _input_name(field: Field) -> str:
    return f"field_{field.name}"


def _form_field(field: Field) -> forms.Field:
    """The input a declared field asks for; every value stays text, which the service parses
    (so nothing typed is lost on an error)."""
    common: dict[str, Any] = {"label": field.label, "required": False, "help_text": field.help}
    if field.kind == "date":
        widget: forms.Widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    elif field.kind == "choice":
        widget = forms.Select(choices=[("", "—"), *field.choices])
    elif field.kind in ("major", "catalogue_major"):
        widget = forms.TextInput(attrs={"list": "majors", "autocomplete": "off"})
    elif field.kind == "school":
        widget = forms.TextInput(attrs={"autocomplete": "off", "placeholder": SCHOOL_HINT})
    elif field.kind == "score":
        widget = forms.NumberInput(attrs={"step": "0.1", "min": "0"})
    else:
        widget = forms.Textarea(attrs={"rows": 3})
    return forms.CharField(widget=widget, **common)


class StatusChangeForm(forms.Form):
    """A type's fields, as its declaration gives them, and the reason. Its checks are the
    records service's: the form only carries the text and places the errors."""

    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, kind: StatusChangeType, status: StudentStatus, **kw: Any):
        super().__init__(*args, **kw)
        self.kind = kind
        self.status = status
        declared = {_input_name(f): _form_field(f) for f in kind.fields}
        self.fields = {**declared, **self.fields}  # the page's order: fields, then the reason

    def values(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(_input_name(f), "") for f in self.kind.fields}

    def majors(self) -> list[tuple[str, str]]:
        """The catalogue's majors and the school's own, as (code, name), when a field asks
        for a major."""
        if not any(f.kind in ("major", "catalogue_major") for f in self.kind.fields):
            return []
        own = self.status.school.own_majors.values_list("code", "name")
        return [*Major.objects.order_by("code").values_list("code", "name"), *own]

    def first_error(self) -> str | None:
        return next((name for name in self.fields if name in self.errors), None)

    def error_summary(self) -> list[tuple[str, str]]:
        """Every error as (the id of its input, or "" for the form's own, text), in the order
        of the page."""
        summary = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            bound = self[name]
            for error in bound.errors:
                text = LABELLED_ERROR % {"label": bound.label, "error": error}
                summary.append((bound.id_for_label, str(text)))
        return summary

    def add_service_errors(self, exc: ValidationError) -> None:
        """Each error of the service next to its input: ``fields.<name>`` at the field,
        ``reason`` at the reason, ``type`` and ``status`` (and the rest) at the top."""
        for key, errors in getattr(exc, "error_dict", {"": [exc]}).items():
            name = _input_name_of(key)
            target = name if name in self.fields else None
            for error in errors:
                for message in error:
                    self.add_error(target, message)


def _input_name_of(key: str) -> str:
    return f"field_{key.removeprefix('fields.')}" if key.startswith("fields.") else key


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _status_of(request: HttpRequest, user: User) -> StudentStatus:
    """The status of ``?status=<id>``, if the user may see it."""
    raw = request.GET.get("status", "")
    if not ID_PATTERN.fullmatch(raw):
        raise Http404
    visible = scope(user, codenames.VIEW, StudentStatus.objects.select_related("school"))
    found: StudentStatus = get_object_or_404(visible, pk=int(raw))
    return found


def _form_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = page(request, template, context)
    if context.get("form") is not None and context["form"].is_bound:
        add_never_cache_headers(response)  # what was typed is shown again
    return response


def new(request: HttpRequest) -> HttpResponse:
    """``?status=<id>``: the types the user may file for the status; ``&type=<key>``: that
    type's form. Filing redirects to the request's page; an error shows the form again with
    what was typed, the errors at the top and at their inputs."""
    user = _user(request)
    status = _status_of(request, user)
    types = fileable_types(user, status)
    kind = next((k for k in types if k.key == request.GET.get("type")), None)
    form = None
    if kind is not None:
        form = StatusChangeForm(request.POST or None, kind=kind, status=status)
        if request.method == "POST" and form.is_valid():
            try:
                created = flow.status_change_start(
                    status=status,
                    type_key=kind.key,
                    fields=form.values(),
                    reason=form.cleaned_data["reason"],
                    requester=user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except ConflictError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your status change request was filed."))
                return redirect("status_changes:detail", pk=created.pk)
    context = {"status": status, "types": types, "kind": kind, "form": form}
    return _form_response(request, "workflows/status_changes/new.html", context)


def _shown_value(field: Field | None, value: Any, request: StatusChangeRequest) -> Any:
    return field.shown(value, request.status) if field is not None else value


def _values(request: StatusChangeRequest) -> list[tuple[Any, Any]]:
    kind = TYPES.get(request.type)
    fields = kind.fields if kind else ()
    return [(f.label, _shown_value(f, request.fields.get(f.name), request)) for f in fields]


def _status_value(name: str, value: Any) -> Any:
    """A status's value as people read it: a choice by its label (休学, not ``suspended``)."""
    try:
        model_field = StudentStatus._meta.get_field(name)
    except FieldDoesNotExist:  # a value the model no longer has: as stored
        return name, value
    label = model_field.verbose_name
    related = model_field.related_model if model_field.is_relation else None
    if isinstance(related, type) and issubclass(related, Model) and value is not None:
        # a transfer's school and province, by name
        return label, str(related._default_manager.filter(pk=value).first() or value)
    choices = dict(getattr(model_field, "flatchoices", None) or ())
    return label, choices.get(value, value)


def _before_after(request: StatusChangeRequest) -> list[tuple[Any, Any, Any]]:
    """(label, before, after) of each value of the status the approved request changed."""
    before, after = request.before or {}, request.after or {}
    rows = []
    for name in [*before, *(n for n in after if n not in before)]:
        label, old = _status_value(name, before.get(name))
        _label, new = _status_value(name, after.get(name))
        rows.append((label, old, new))
    return rows


def _history(request: StatusChangeRequest) -> list[tuple[Any, Any]]:
    return [
        (glossary.STATUS_CHANGE_ACTIONS.get(e.action, e.action), e)
        for e in request_history(request)
    ]


def _resubmit_form(change: StatusChangeRequest, request: HttpRequest) -> StatusChangeForm | None:
    kind = TYPES.get(change.type)
    if kind is None:
        return None
    initial: dict[str, Any] = {"reason": change.reason}
    initial.update({_input_name(f): change.fields.get(f.name) or "" for f in kind.fields})
    resubmitting = request.POST.get("action") == "resubmit"
    return StatusChangeForm(
        request.POST if resubmitting else None, initial=initial, kind=kind, status=change.status
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request: its type, state, fields, the values it replaced and set, its history; the
    requester's withdraw (confirmed on a second step) and, once returned, resubmit."""
    user = _user(request)
    change = get_object_or_404(visible_status_changes(user), pk=pk)
    is_requester = change.requester_id == user.pk
    # An issued adverse decision is no longer the requester's to withdraw.
    is_open = change.state in OPEN_STATUS_CHANGE_STATES and not change.issued_at
    adverse = _adverse(change, user)
    form = None
    if is_requester and change.state == StatusChangeState.RETURNED:
        form = _resubmit_form(change, request)
    confirm_withdraw = False
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw" and request.POST.get("confirm") != "yes":
                confirm_withdraw = is_requester and is_open
            elif action == "withdraw":
                flow.status_change_withdraw(request=change, user=user)
                messages.success(request, _("The request was withdrawn."))
                return redirect("status_changes:detail", pk=pk)
            if action in ("appeal", "delivery") and adverse:
                _adverse_action(request, change, user, action)
                return redirect("status_changes:detail", pk=pk)
            if action == "resubmit" and form is not None and form.is_valid():
                flow.status_change_resubmit(
                    request=change,
                    fields=form.values(),
                    reason=form.cleaned_data["reason"],
                    user=user,
                )
                messages.success(request, _("The request was submitted again."))
                return redirect("status_changes:detail", pk=pk)
        except ValidationError as exc:
            if action in ("appeal", "delivery"):
                adverse["errors"] = [
                    str(LABELLED_ERROR % {"label": key, "error": message})
                    for key, errors in exc.message_dict.items()
                    for message in errors
                ]
            elif form is None:
                raise
            else:
                form.add_service_errors(exc)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("status_changes:detail", pk=pk)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("status_changes:detail", pk=pk)
    kind = TYPES.get(change.type)
    context = {
        "change": change,
        "change_label": kind.label if kind else change.type,
        "values": _values(change),
        "reason": mask_id_numbers_in(change.reason),
        "before_after": _before_after(change),
        "history": _history(change),
        "is_requester": is_requester,
        "is_open": is_open,
        "form": form,
        "kind": kind,
        "confirm_withdraw": confirm_withdraw,
        "adverse": adverse,
    }
    return _form_response(request, "workflows/status_changes/detail.html", context)


def _adverse(change: StatusChangeRequest, user: User) -> dict[str, Any]:
    return adverse_page.shown(change, user, student_user_id=change.student.user_id)


def _adverse_action(
    request: HttpRequest, change: StatusChangeRequest, user: User, action: str
) -> None:
    adverse_page.act(
        request,
        action,
        appeal=lambda reason: flow.status_change_appeal(request=change, reason=reason, user=user),
        deliver=lambda **kw: appeals.status_change_deliver(request=change, acting_user=user, **kw),
    )


def index(request: HttpRequest) -> HttpResponse:
    """The requests the user may see, newest first, 50 a page, with the count of each state
    (the type and the search applied), filtered by state, type and a student's name or
    number. Tasks are in the work list."""
    params = request.GET
    shown = visible_status_changes(_user(request))
    type_key = params.get("type", "")
    if type_key in TYPES:
        shown = shown.filter(type=type_key)
    else:
        type_key = ""
    q = (params.get("q") or "").strip()
    if q:
        shown = shown.filter(status__in=StudentStatus.objects.filter(search(q, StudentStatus)))
    counts = dict(
        shown.order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    state = params.get("state", "")
    if state in StatusChangeState.values:
        shown = shown.filter(state=state)
    else:
        state = ""
    listing = Paginator(shown, PAGE_SIZE).get_page(params.get("page"))
    rows = [(c, TYPES[c.type].label if c.type in TYPES else c.type) for c in listing]
    kept = {k: v for k, v in (("type", type_key), ("q", q), ("state", state)) if v}
    context = {
        "listing": listing,
        "rows": rows,
        "type_key": type_key,
        "types": [(kind.key, kind.label) for kind in TYPES.values()],
        "q": q,
        "state": state,
        "counts": [
            (code, label, counts.get(code, 0))
            for code, label in StatusChangeState.choices
            if counts.get(code) or code == state
        ],
        "total": sum(counts.values()),
        "filters": urlencode({k: v for k, v in kept.items() if k != "state"}),
        "kept": urlencode(kept),
        "may_filter": sees_by_grant(_user(request)),
    }
    return page(request, "workflows/status_changes/index.html", context)


def past_max_period(request: HttpRequest) -> HttpResponse:
    """The current statuses in the officer's scope whose maximum study period has ended
    (第28条, 第30条): listed for a withdrawal review, each with the filing of 退学 by the
    school. 404 for anyone who sees statuses by no grant (a student)."""
    user = _user(request)
    if not sees_by_grant(user):
        raise Http404
    statuses = (
        past_max_study_period(
            scope(user, codenames.VIEW, StudentStatus.objects.all()), timezone.localdate()
        )
        .select_related("student", "school")
        .order_by("entry_date", "pk")
    )
    listing = Paginator(statuses, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(status, max_study_end(status)) for status in listing]
    review = TYPES.get("withdrawal_by_school")
    context = {
        "listing": listing,
        "rows": rows,
        "review": review if review and review.available else None,
    }
    return page(request, "workflows/status_changes/past_max_period.html", context)
