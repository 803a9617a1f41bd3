"""What a flow's ``View`` node renders: the shared task page. Flows name this view; it imports
no flow, so flows and pages never import each other. And ``SubjectHandle``, a ``Handle`` per
subject of a process."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from viewflow.workflow import flow
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.handle import HandleActivation
from viewflow.workflow.status import STATUS

from workflows import steps


def task_view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return redirect("work:task", task_pk=kwargs["task_pk"])


class _SubjectHandleActivation(HandleActivation):
    @classmethod
    def create(
        cls, flow_task: Any, prev_activation: Any, token: Any, data: Any = None, seed: Any = None
    ) -> Any:
        subject = prev_activation.process.__dict__.get(steps.SUBJECT_KEY)
        if subject is not None:
            data = {**(data or {}), "subject": subject.pk}
        return super().create(flow_task, prev_activation, token, data=data, seed=seed)


class SubjectHandle(flow.Handle):
    """A ``Handle`` that waits for one subject among several of its process (a cohort's
    cancellations): its task keeps the subject remembered when it opened
    (``steps.remember_subject``) in ``task.data["subject"]``, where ``waiting_task`` finds
    it."""

    activation_class = _SubjectHandleActivation


def waiting_task(process_pk: Any, node: Any, subject_pk: Any) -> Task | None:
    """The open task of ``node`` (a ``SubjectHandle``) waiting for ``subject_pk``."""
    found: Task | None = Task.objects.filter(
        process_id=process_pk, flow_task=node, status=STATUS.NEW, data__subject=subject_pk
    ).first()
    return found
