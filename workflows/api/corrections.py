"""``/api/v1/corrections/``: filing and following corrections. Every call goes through the
correction flow's services (or the records services for reads), which check permissions;
anything a caller may not see answers 404. Decisions go through ``/api/v1/tasks/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics
from rest_framework import serializers
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions.checks import scope
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import CorrectionState
from records.corrections.evidence import correction_add_evidence
from records.corrections.history import HistoryEntry
from records.corrections.history import correction_history
from records.corrections.shown import MASKED
from records.corrections.shown import Disclosure
from records.corrections.shown import shown_changes
from records.corrections.shown import shown_history
from records.corrections.shown import shown_text
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import Qualification
from workflows import work
from workflows.flows import correction as flow

BAD_STATE = _("Choose one of: %(choices)s.")


class ChangeSerializer(serializers.Serializer[dict[str, str]]):
    field = serializers.CharField()
    old = serializers.CharField(allow_blank=True)
    new = serializers.CharField(allow_blank=True)


class EvidenceSerializer(serializers.ModelSerializer[CorrectionEvidence]):
    class Meta:
        model = CorrectionEvidence
        fields = ["id", "original_name", "content_type", "size", "created"]
        read_only_fields = fields


class HistorySerializer(serializers.Serializer[HistoryEntry]):
    action = serializers.CharField()
    actor = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField(allow_blank=True)


def _disclosure(serializer: serializers.Serializer[Any]) -> Disclosure:
    """What the serializer's reader sees in full: nothing unless a detail view says so."""
    disclosure: Disclosure = serializer.context.get("disclosure", MASKED)
    return disclosure


class CorrectionSerializer(serializers.ModelSerializer[CorrectionRequest]):
    """A request as lists show it: ID numbers masked, in the changes and in the reason."""

    changes = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    requester = serializers.CharField(
        source="requester.username", read_only=True, help_text="The requester's user name."
    )
    requester_name = serializers.CharField(
        source="requester.display_name",
        read_only=True,
        help_text="The requester's full name (the user name when none is set).",
    )
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
            "requester_name",
            "changes",
            "reason",
            "created",
            "updated",
            "decided_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, obj: CorrectionRequest) -> list[dict[str, str]]:
        return shown_changes(obj.changes, _disclosure(self))

    def get_reason(self, obj: CorrectionRequest) -> str:
        return shown_text(obj.reason, _disclosure(self))


class CorrectionDetailSerializer(CorrectionSerializer):
    """A request with its evidence and history. ID numbers are in full only for the reader
    who may decide its open task (the values at filing and the requested ones) and for the
    requester (the requested ones); the response is then not cached."""

    evidence = EvidenceSerializer(many=True, read_only=True)
    history = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta(CorrectionSerializer.Meta):
        fields = [*CorrectionSerializer.Meta.fields, "evidence", "history", "open_task"]
        read_only_fields = fields

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj: CorrectionRequest) -> Any:
        entries: Any = shown_history(correction_history(obj), _disclosure(self))
        return HistorySerializer(entries, many=True).data

    def get_open_task(self, obj: CorrectionRequest) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        if item is None:
            return None
        return {"id": item.pk, "step": item.step}


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
    qualification = object_id_field()
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


def _detail(found: CorrectionRequest, user: Any, code: int = status.HTTP_200_OK) -> Response:
    """The request's detail as ``user`` may see it; not cached when it shows values in full."""
    disclosure = flow.disclosure_for(found, user)
    serializer = CorrectionDetailSerializer(found, context={"disclosure": disclosure})
    response = Response(serializer.data, status=code)
    if disclosure.in_full:
        add_never_cache_headers(response)
    return response


def _visible_correction(request: Request, pk: int) -> CorrectionRequest:
    found = visible_corrections(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@extend_schema(tags=["corrections"])
class CorrectionListCreate(generics.ListAPIView[CorrectionRequest]):
    """The correction requests the caller may see, newest first; ``POST`` files a new one."""

    serializer_class = CorrectionSerializer

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        requests = visible_corrections(self.request.user)
        state = self.request.query_params.get("state")
        if state is not None:
            if state not in CorrectionState.values:
                raise ValidationError(
                    {"state": [BAD_STATE % {"choices": ", ".join(CorrectionState.values)}]}
                )
            requests = requests.filter(state=state)
        return requests

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=CorrectionState.values, description="a state")
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

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
        created = flow.correction_start(
            qualification=qualification,
            changes=data.validated_data["changes"],
            reason=data.validated_data["reason"],
            requester=request.user,  # type: ignore[arg-type]
        )
        return _detail(created, request.user, status.HTTP_201_CREATED)


@extend_schema(tags=["corrections"])
class CorrectionDetail(generics.RetrieveAPIView[CorrectionRequest]):
    """A request with its state, changes, evidence and the history of every step."""

    serializer_class = CorrectionDetailSerializer

    def get_queryset(self) -> QuerySet[CorrectionRequest]:
        return visible_corrections(self.request.user).prefetch_related("evidence")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _detail(self.get_object(), request.user)


@extend_schema(
    tags=["corrections"],
    request=None,
    responses={200: CorrectionDetailSerializer, **error_responses(409)},
)
class CorrectionWithdraw(APIView):
    """The requester withdraws an open request."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_correction(request, pk)
        done = flow.correction_withdraw(request=found, user=request.user)  # type: ignore[arg-type]
        return _detail(done, request.user)


@extend_schema(
    tags=["corrections"],
    request=ResubmitSerializer,
    responses={200: CorrectionDetailSerializer, **error_responses(409)},
)
class CorrectionResubmit(APIView):
    """The requester revises a returned request (same body as filing, without the
    qualification); it goes to school review again."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_correction(request, pk)
        data = ResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.correction_resubmit(
            request=found,
            changes=data.validated_data["changes"],
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done, request.user)


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
        evidence = correction_add_evidence(
            request=found,
            upload=data.validated_data["file"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)
