"""What a flow's ``View`` node renders: the shared task page. Flows name this view; it imports
no flow, so flows and pages never import each other."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect


def task_view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return redirect("work:task", task_pk=kwargs["task_pk"])
