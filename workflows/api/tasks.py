"""``/api/v1/tasks/``: the work list of every flow, its counts, and single and bulk decisions.

Everything here reads the step declarations through ``workflows.work``; no flow is named.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.api.serializers import object_id_field
from workflows import work
from workflows.models import WorkItem

ORDERINGS = ("created", "-created")


class TaskSubjectSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.CharField(help_text="the flow's key")
    id = serializers.IntegerField()
    title = serializers.CharField(help_text='e.g. "学历信息更正 #12"')


class TaskSerializer(serializers.Serializer[WorkItem]):
    """A work item. ``state`` is ``new`` while open, then ``done`` or ``canceled``; ``summary``
    says what the task is about (a correction: the labels of the changed fields)."""

    id = serializers.IntegerField()
    flow = serializers.CharField()
    step = serializers.CharField()
    step_label = serializers.CharField()
    state = serializers.CharField()
    subject = TaskSubjectSerializer()
    student_name = serializers.CharField()
    school = serializers.CharField()
    school_name = serializers.CharField()
    summary = serializers.CharField()
    created = serializers.DateTimeField()
    due = serializers.DateTimeField()
    overdue = serializers.BooleanField()


def _datetime(value: datetime.datetime) -> str:
    """What ``serializers.DateTimeField`` renders (ISO 8601 in the current time zone, ``Z`` for
    UTC), without its per-value settings look-ups: a page has fifty (tested against it)."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_row(item: WorkItem) -> dict[str, Any]:
    """One work item as the API shows it: plain values, cheap for a page of fifty."""
    said = work.shown(item)
    state = "new" if item.closed is None else "done" if item.decision else "canceled"
    return {
        "id": item.pk,
        "flow": item.flow,
        "step": item.step,
        "step_label": said.step_label,
        "state": state,
        "subject": {"type": item.flow, "id": item.subject_id, "title": said.title},
        "student_name": item.student_name,
        "school": item.school_id,
        "school_name": item.school.name,
        "summary": said.summary,
        "created": _datetime(item.created),
        "due": _datetime(item.due),
        "overdue": item.overdue_at is not None,
    }


class TaskPagination(CursorPagination):
    """A work queue: ``next``/``previous`` cursors, 50 a page, no total count (the counts
    endpoint has the totals per step). ``ordering=created`` is the longest waiting first."""

    ordering = ("-created", "-task_id")
    page_size = 50

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        if request.query_params.get("ordering") == "created":
            return ("created", "task_id")
        return tuple(self.ordering)


BAD_ORDERING = _("Choose one of: %(choices)s.")
BAD_BOOLEAN = _("Give true or false.")


def _bool(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


def filters_of(params: Any) -> work.Filters:
    """The filters of a task list's query; a value no filter takes answers 400 naming it."""
    errors = {}
    ordering = params.get("ordering")
    if ordering is not None and ordering not in ORDERINGS:
        errors["ordering"] = [BAD_ORDERING % {"choices": ", ".join(ORDERINGS)}]
    overdue = params.get("overdue")
    if overdue is not None and overdue.lower() not in {"1", "0", "true", "false", "yes", "no"}:
        errors["overdue"] = [str(BAD_BOOLEAN)]
    if errors:
        raise ValidationError(errors)
    return work.Filters(
        flow=params.get("flow", ""),
        step=params.get("step", ""),
        school=params.get("school", ""),
        overdue=_bool(params.get("overdue")),
        q=params.get("q", ""),
    )


FILTER_PARAMETERS = [
    OpenApiParameter("flow", str, description="a flow's key, e.g. `correction`"),
    OpenApiParameter("step", str, description="a step's key, e.g. `school_review`"),
    OpenApiParameter("school", str, description="a school code"),
    OpenApiParameter("overdue", bool, description="only tasks past their due time"),
    OpenApiParameter(
        "q",
        str,
        description="the start of a student's name, a certificate number, or a request "
        "number (`12` or `#12`)",
    ),
    OpenApiParameter("ordering", str, enum=ORDERINGS, description="`-created` (default)"),
]


@extend_schema(tags=["tasks"], parameters=FILTER_PARAMETERS)
class TaskList(generics.ListAPIView[WorkItem]):
    """The open tasks the caller may act on, for every flow, never the caller's own
    requests; filtered, searched and ordered by waiting time."""

    serializer_class = TaskSerializer
    pagination_class = TaskPagination

    def get_queryset(self) -> QuerySet[WorkItem]:
        items = work.open_items(self.request.user)  # type: ignore[arg-type]
        return work.filtered(items, filters_of(self.request.query_params)).select_related("school")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page: Sequence[WorkItem] = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response([task_row(item) for item in page])


class CountSerializer(serializers.Serializer[dict[str, Any]]):
    flow = serializers.CharField()
    step = serializers.CharField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()


class CountsSerializer(serializers.Serializer[dict[str, Any]]):
    results = CountSerializer(many=True)


@extend_schema(
    tags=["tasks"],
    parameters=[OpenApiParameter("school", str, description="a school code")],
    responses=CountsSerializer,
)
class TaskCounts(APIView):
    """Open and overdue tasks per step, for every step the caller may take."""

    def get(self, request: Request) -> Response:
        rows = work.counts(
            request.user,  # type: ignore[arg-type]
            school=request.query_params.get("school", ""),
        )
        return Response({"results": rows})


class DecideSerializer(serializers.Serializer[dict[str, Any]]):
    decision = serializers.CharField(
        help_text="one of the step's decisions: `approve`, `reject`, `return`"
    )
    comment = serializers.CharField(allow_blank=True, required=False, default="")


@extend_schema(
    tags=["tasks"],
    request=DecideSerializer,
    responses={
        200: TaskSerializer,
        400: OpenApiResponse(description="a decision the step does not offer, or no comment"),
        404: OpenApiResponse(description="not visible"),
        409: OpenApiResponse(description="already decided or held by someone else"),
    },
)
class TaskDecide(APIView):
    """Claim the task and complete it with one of its step's decisions; answers the task,
    now ``done``."""

    def post(self, request: Request, pk: int) -> Response:
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = work.decide(
            task_pk=pk,
            user=request.user,  # type: ignore[arg-type]
            decision=data.validated_data["decision"],
            comment=data.validated_data["comment"],
        )
        item = WorkItem.objects.select_related("school").get(pk=done.task)
        return Response(task_row(item))


class BulkDecideSerializer(DecideSerializer):
    tasks = serializers.ListField(
        child=object_id_field(), allow_empty=False, max_length=work.BULK_MAX
    )


class BulkItemSerializer(serializers.Serializer[dict[str, Any]]):
    task = serializers.IntegerField()
    ok = serializers.BooleanField()
    state = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class BulkResultSerializer(serializers.Serializer[dict[str, Any]]):
    results = BulkItemSerializer(many=True)


class TaskBulkDecide(APIView):
    """One decision for up to 500 tasks, each in its own transaction: one refusal (already
    decided, not permitted, stale) never undoes the others."""

    @extend_schema(
        tags=["tasks"],
        operation_id="v1_tasks_bulk_decide",
        request=BulkDecideSerializer,
        responses={
            200: BulkResultSerializer,
            400: OpenApiResponse(description="no tasks, or more than 500"),
        },
    )
    def post(self, request: Request) -> Response:
        data = BulkDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = work.decide_many(
            task_pks=data.validated_data["tasks"],
            user=request.user,  # type: ignore[arg-type]
            decision=data.validated_data["decision"],
            comment=data.validated_data["comment"],
        )
        return Response({"results": [r.as_dict() for r in results]})
