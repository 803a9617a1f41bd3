"""``/api/v1/corrections/`` and ``/api/v1/tasks/``: filing and following corrections, and the
open tasks of every flow with their decisions. Every call goes through ``workflows.services``
(or the records services for reads), which check permissions; anything a caller may not see
answers 404, a decision that lost a race answers 409."""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics
from rest_framework import serializers
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from viewflow.workflow.models import Task

from permissions import codenames
from permissions.checks import scope
from records import corrections
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import Qualification
from workflows import services


class ChangeSerializer(serializers.Serializer[dict[str, str]]):
    field = serializers.CharField()
    old = serializers.CharField(allow_blank=True)
    new = serializers.CharField(allow_blank=True)


class EvidenceSerializer(serializers.ModelSerializer[CorrectionEvidence]):
    class Meta:
        model = CorrectionEvidence
        fields = ["id", "original_name", "content_type", "size", "created"]
        read_only_fields = fields


class HistorySerializer(serializers.Serializer[corrections.HistoryEntry]):
    action = serializers.CharField()
    actor = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField(allow_blank=True)


class CorrectionSerializer(serializers.ModelSerializer[CorrectionRequest]):
    changes = ChangeSerializer(many=True, read_only=True)
    requester = serializers.CharField(source="requester.username", read_only=True)
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)

    class Meta:
        model = CorrectionRequest
        fields = [
            "id",
            "state",
            "qualification",
            "school",
            "province",
            "requester",
            "changes",
            "reason",
            "created",
            "updated",
            "decided_at",
        ]
        read_only_fields = fields


class CorrectionDetailSerializer(CorrectionSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)
    history = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta(CorrectionSerializer.Meta):
        fields = [*CorrectionSerializer.Meta.fields, "evidence", "history", "open_task"]
        read_only_fields = fields

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj: CorrectionRequest) -> Any:
        entries: Any = corrections.correction_history(obj)
        return HistorySerializer(entries, many=True).data

    def get_open_task(self, obj: CorrectionRequest) -> dict[str, Any] | None:
        task = services.open_task_of(obj)
        if task is None:
            return None
        return {"id": task.pk, "step": task.flow_task.name}


CHANGES_HELP = (
    "Field name → new value. Dates as YYYY-MM-DD; a choice (gender, id_type, level, "
    "learning_form, study_length, graduation_result) as its code (`female`) or its label in "
    "Chinese or English (`女`, `Female`). Stored and returned as codes."
)


def _changes_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text=CHANGES_HELP
    )


class FileSerializer(serializers.Serializer[dict[str, Any]]):
    qualification = serializers.IntegerField()
    changes = _changes_field()
    reason = serializers.CharField(allow_blank=True)


class ResubmitSerializer(serializers.Serializer[dict[str, Any]]):
    changes = _changes_field()
    reason = serializers.CharField(allow_blank=True)


class EvidenceUploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField()


def visible_corrections(user: Any) -> QuerySet[CorrectionRequest]:
    return scope(
        user, codenames.VIEW, CorrectionRequest.objects.select_related("requester")
    ).order_by("-created", "-pk")


def _visible_correction(request: Request, pk: int) -> CorrectionRequest:
    found = visible_corrections(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@extend_schema(tags=["corrections"])
class CorrectionListCreate(generics.ListAPIView[CorrectionRequest]):
    """The correction requests the caller may see; ``POST`` files a new one."""

    serializer_class = CorrectionSerializer

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        return visible_corrections(self.request.user)

    @extend_schema(
        request=FileSerializer,
        responses={
            201: CorrectionDetailSerializer,
            404: OpenApiResponse(description="not visible"),
            409: OpenApiResponse(description="an open correction exists"),
        },
    )
    def post(self, request: Request) -> Response:
        data = FileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        qualification = (
            scope(request.user, codenames.VIEW, Qualification.objects)
            .filter(pk=data.validated_data["qualification"])
            .first()
        )
        if qualification is None:
            raise Http404
        created = services.correction_start(
            qualification=qualification,
            changes=data.validated_data["changes"],
            reason=data.validated_data["reason"],
            requester=request.user,  # type: ignore[arg-type]
        )
        return Response(CorrectionDetailSerializer(created).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["corrections"])
class CorrectionDetail(generics.RetrieveAPIView[CorrectionRequest]):
    """A request with its state, changes, evidence and the history of every step."""

    serializer_class = CorrectionDetailSerializer

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        return visible_corrections(self.request.user).prefetch_related("evidence")


@extend_schema(tags=["corrections"], request=None, responses=CorrectionDetailSerializer)
class CorrectionWithdraw(APIView):
    """The requester withdraws an open request."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_correction(request, pk)
        done = services.correction_withdraw(request=found, user=request.user)  # type: ignore[arg-type]
        return Response(CorrectionDetailSerializer(done).data)


@extend_schema(
    tags=["corrections"], request=ResubmitSerializer, responses=CorrectionDetailSerializer
)
class CorrectionResubmit(APIView):
    """The requester revises a returned request (same body as filing, without the
    qualification); it goes to school review again."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_correction(request, pk)
        data = ResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.correction_resubmit(
            request=found,
            changes=data.validated_data["changes"],
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return Response(CorrectionDetailSerializer(done).data)


@extend_schema(
    tags=["corrections"],
    request={"multipart/form-data": EvidenceUploadSerializer},
    responses={201: EvidenceSerializer},
)
class CorrectionEvidenceUpload(APIView):
    """Attach a PDF, JPEG or PNG (at most 5 MB; the type is checked by content)."""

    parser_classes = [MultiPartParser]

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_correction(request, pk)
        data = EvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence = corrections.correction_add_evidence(
            request=found,
            upload=data.validated_data["file"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class TaskSubjectSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.CharField()
    id = serializers.IntegerField()


class TaskSerializer(serializers.Serializer[Task]):
    """``{id, flow, step, state, subject: {type, id}, school, created}``; ``state`` is the
    task's status in lower case (``new``, ``assigned``, ``started``, ``done``, …)."""

    id = serializers.IntegerField()
    flow = serializers.CharField()
    step = serializers.CharField()
    state = serializers.CharField()
    subject = TaskSubjectSerializer()
    school = serializers.CharField()
    created = serializers.DateTimeField()

    def to_representation(self, instance: Task) -> dict[str, Any]:
        summaries = self.context.get("summaries") or services.task_summaries([instance])
        return task_row(instance, summaries[instance.pk])


def _datetime(value: datetime.datetime) -> str:
    """What ``serializers.DateTimeField`` renders (ISO 8601 in the current time zone, ``Z`` for
    UTC), without its per-value settings look-ups: a page has fifty (tested against it)."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@functools.cache
def _flow_and_step(node: Any) -> tuple[str, str]:
    """A node's flow label and step name (viewflow looks the app up on every ``flow_label``)."""
    return str(node.flow_class.instance.flow_label), str(node.name)


def task_row(task: services.TaskLike, summary: services.TaskSummary) -> dict[str, Any]:
    """One task as the API shows it: plain values, cheap for a page of fifty."""
    flow, step = _flow_and_step(task.flow_task)
    return {
        "id": task.pk,
        "flow": flow,
        "step": step,
        "state": str(task.status).lower(),
        "subject": {"type": summary.subject_type, "id": summary.subject_id},
        "school": summary.school,
        "created": _datetime(task.created),
    }


class DecideSerializer(serializers.Serializer[dict[str, Any]]):
    decision = serializers.ChoiceField(choices=corrections.Decision.choices)
    comment = serializers.CharField(allow_blank=True, required=False, default="")


class TaskPagination(CursorPagination):
    """A work queue: newest first, ``next``/``previous`` cursors, no total count (which would
    cost a scan of every open task in scope on every page)."""

    ordering = ("-created", "-id")
    page_size = 50


@extend_schema(tags=["tasks"])
class TaskList(generics.ListAPIView[Task]):
    """The open tasks the caller may act on, for every flow, newest first."""

    serializer_class = TaskSerializer
    pagination_class = TaskPagination

    def get_queryset(self) -> QuerySet[Task]:
        # Named rows, not model instances: a page of fifty is read without building fifty
        # Task objects (``services.TaskLike``).
        tasks: QuerySet[Task] = services.open_tasks(
            self.request.user  # type: ignore[arg-type]
        ).values_list(*services.TASK_ROW, named=True)
        return tasks

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        # What the page shows of each process, in one query for the page, not a join over
        # every open task.
        summaries = services.task_summaries(page)
        return self.get_paginated_response([task_row(task, summaries[task.pk]) for task in page])


@extend_schema(
    tags=["tasks"],
    request=DecideSerializer,
    responses={
        200: TaskSerializer,
        404: OpenApiResponse(description="not visible"),
        409: OpenApiResponse(description="already decided or held by someone else"),
    },
)
class TaskDecide(APIView):
    """Claim the task if unclaimed and complete it: approve, reject or return."""

    def post(self, request: Request, pk: int) -> Response:
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_decide(
            task_pk=pk,
            user=request.user,  # type: ignore[arg-type]
            decision=data.validated_data["decision"],
            comment=data.validated_data["comment"],
        )
        task.refresh_from_db()
        return Response(TaskSerializer(task).data)
