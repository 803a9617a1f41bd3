"""Web pages of the correction flow (filled in with the site shell)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import redirect


def task_page(request: HttpRequest, *, task_pk: int) -> HttpResponse:
    return redirect("corrections:task", task_pk=task_pk)


__all__: list[Any] = ["task_page"]
