"""The work list and the task page: one of each for every flow, driven by the step
declarations through ``workflows.work``. Anything a user may not act on answers 404."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from permissions import codenames
from permissions.checks import scope
from records import glossary
from records.converters import object_ids
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import School
from records.models import User
from workflows import steps
from workflows import work
from workflows.models import WorkItem
from workflows.pages.shell import page

PAGE_SIZE = 50
RESULTS_KEY = "xueji_work_results"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = choices  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _decision_choices(user: User, step_key: str) -> list[tuple[str, Any]]:
    """The decisions a bulk decision offers: the step's own labels when the list shows one
    step, else each decision once in its plain words (a step refuses one it does not offer,
    per item)."""
    shown = [s for s in work.actionable_steps(user) if not step_key or s.key == step_key]
    if len(shown) == 1:
        return [(c.code, c.label) for c in shown[0].choices]
    codes = dict.fromkeys(c.code for s in shown for c in s.choices)
    return [(code, glossary.DECISIONS.get(code, code)) for code in codes]


def _cursor(item: WorkItem) -> str:
    return f"{item.created.isoformat()}|{item.pk}"


def _after(items: Any, cursor: str, ascending: bool) -> Any:
    try:
        created_text, pk_text = cursor.split("|", 1)
        created, pk = datetime.datetime.fromisoformat(created_text), int(pk_text)
    except ValueError:
        return items
    if ascending:
        return items.filter(Q(created__gt=created) | Q(created=created, task_id__gt=pk))
    return items.filter(Q(created__lt=created) | Q(created=created, task_id__lt=pk))


def _results(outcome: list[work.BulkResult]) -> list[dict[str, Any]]:
    """What the page says of each decided task. A task the user may not see is named by its
    number only."""
    shown = {
        item.pk: item
        for item in WorkItem.objects.filter(
            pk__in=[r.task for r in outcome if r.code != "not_found"]
        )
    }
    results = []
    for result in outcome:
        item = shown.get(result.task)
        results.append(
            {
                "ok": result.ok,
                "title": work.shown(item).title if item else f"#{result.task}",
                "student_name": item.student_name if item else "",
                "detail": result.detail,
            }
        )
    return results


def work_list(request: HttpRequest) -> HttpResponse:
    """The work list: counts per step, filters and search, the longest waiting first (or the
    newest), 50 a page, and one decision for the checked items."""
    user = _user(request)
    params = request.GET
    filters = work.Filters(
        flow=params.get("flow", ""),
        step=params.get("step", ""),
        school=params.get("school", ""),
        overdue=params.get("overdue") == "true",
        q=params.get("q", "").strip(),
    )
    ascending = params.get("ordering", "created") != "-created"
    bulk_error = ""
    if request.method == "POST":
        picked = object_ids(request.POST.getlist("tasks"))
        decision = request.POST.get("decision", "")
        if not picked:
            bulk_error = str(_("Check at least one task."))
        elif not decision:
            bulk_error = str(_("Choose a decision."))
        else:
            outcome = work.decide_many(
                task_pks=picked[: work.BULK_MAX],
                user=user,
                decision=decision,
                comment=request.POST.get("comment", ""),
            )
            # Shown once on the page the browser is sent back to (so a reload decides nothing).
            request.session[RESULTS_KEY] = _results(outcome)
            return redirect(request.get_full_path())
    results = request.session.pop(RESULTS_KEY, []) if request.method == "GET" else []
    items = work.filtered(work.open_items(user), filters).select_related("school")
    items = items.order_by(*(("created", "task_id") if ascending else ("-created", "-task_id")))
    cursor = params.get("after", "")
    if cursor:
        items = _after(items, cursor, ascending)
    rows = list(items[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    kept: dict[str, str] = {k: str(v) for k, v in params.items() if k != "after" and v}
    next_url = f"?{urlencode({**kept, 'after': _cursor(rows[-1])})}" if more and rows else ""
    count_rows = work.counts(user, school=filters.school)
    for row in count_rows:
        step = steps.step(f"{row['flow']}.{row['step']}")
        row["label"] = step.label if step else row["step"]
        row["flow_label"] = steps.declaration(row["flow"]).label
    context = {
        "rows": [_row(item) for item in rows],
        "counts": count_rows,
        "filters": filters,
        "ordering": "created" if ascending else "-created",
        "next_url": next_url,
        "first_url": f"?{urlencode(kept)}" if cursor else "",
        "choices": _decision_choices(user, filters.step),
        "steps": [(s.key, s.label) for s in work.actionable_steps(user)],
        "flows": [(d.key, d.label) for d in steps.declarations()],
        "schools": scope(user, codenames.VIEW, School.objects.order_by("code"))[:200],
        "results": results,
        "bulk_error": bulk_error,
        "comment": request.POST.get("comment", "") if request.method == "POST" else "",
    }
    return page(request, "workflows/work/list.html", context)


def _row(item: WorkItem) -> dict[str, Any]:
    said = work.shown(item)
    return {
        "id": item.pk,
        "title": said.title,
        "step_label": said.step_label,
        "student_name": item.student_name,
        "school_name": item.school.name,
        "summary": said.summary,
        "created": item.created,
        "due": item.due,
        "overdue": item.overdue_at is not None,
    }


def _next_task(user: User, after: WorkItem) -> WorkItem | None:
    """The open item that has waited longest, other than the one just decided."""
    found: WorkItem | None = (
        work.open_items(user).exclude(pk=after.pk).order_by("created", "task_id").first()
    )
    return found


def task(request: HttpRequest, task_pk: int) -> HttpResponse:
    """A task of any flow: the flow's panel (a correction: old and new values, evidence
    previewed inline, history) and the step's declared decisions."""
    user = _user(request)
    try:
        item, step = work.item_for(user, task_pk)
    except NotVisibleError as exc:
        raise Http404 from exc
    declaration = steps.declaration(item.flow)
    said = work.shown(item)
    subject = work.subject_of(item)
    choices = [(c.code, c.label) for c in step.choices]
    form = DecisionForm(request.POST or None, choices=choices)
    if request.method == "POST" and item.is_open and form.is_valid():
        try:
            work.decide(
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
            following = _next_task(user, item)
            if following is not None:
                return redirect("work:task", task_pk=following.pk)
            return redirect(reverse("work:index"))
    context = {
        "item": item,
        "step": step,
        "title": said.title,
        "is_open": item.is_open,
        "summary": said.summary,
        "panel_template": declaration.panel_template,
        **declaration.panel_context(subject, user),
        "form": form,
    }
    response = page(request, "workflows/work/task.html", context)
    if context.get("in_full"):  # the panel shows sensitive values unmasked
        add_never_cache_headers(response)
    return response
