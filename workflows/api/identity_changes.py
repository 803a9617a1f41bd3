"""``/api/v1/identity-changes/``: filing and following identity changes of enrolled students
(DOMAIN.md §2.6), their evidence, and the fields a change may name. Every call goes through
the identity change flow's services (or ``scope`` for reads), which check permissions;
anything a caller may not see answers 404. Decisions go through ``/api/v1/tasks/``. ID
numbers are shown masked."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
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
from records.identity_changes.fields import FIELDS
from records.identity_changes.fields import masked_changes
from records.identity_changes.history import request_history
from records.identity_changes.services import identity_change_add_evidence
from records.models import IdentityChangeEvidence
from records.models import IdentityChangeRequest
from records.models import StudentStatus
from records.models.identity_changes import IdentityChangeState
from records.validators import mask_id_numbers_in
from records.validators import masked_value
from workflows import work
from workflows.api.corrections import HistorySerializer
from workflows.api.status_changes import OpenTaskSerializer
from workflows.flows import identity_change as flow

BAD_CHOICE = _("Choose one of: %(choices)s.")
ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
FIELDS_HELP = (
    "Field name → new value (`GET /api/v1/identity-changes/fields/`): a date as YYYY-MM-DD, a "
    "choice, an ethnic group or a major by its code."
)


class IdentityChangeValueSerializer(serializers.Serializer[dict[str, str]]):
    field = serializers.CharField()
    old = serializers.CharField(allow_blank=True, help_text="The value it replaces (masked).")
    new = serializers.CharField(allow_blank=True, help_text="The new value (masked).")


class IdentityEvidenceSerializer(serializers.ModelSerializer[IdentityChangeEvidence]):
    class Meta:
        model = IdentityChangeEvidence
        fields = ["id", "original_name", "content_type", "size", "created"]
        read_only_fields = fields


def _masked(values: dict[str, Any] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return {name: masked_value(name, value) for name, value in values.items()}


class IdentityChangeSerializer(serializers.ModelSerializer[IdentityChangeRequest]):
    """A request as lists show it (ID numbers masked, in the changes and the reason)."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    changes = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    student_name = serializers.CharField(source="student.name", read_only=True)
    student_number = serializers.CharField(source="status.student_number", read_only=True)
    requester = serializers.CharField(
        source="requester.username", read_only=True, help_text="The requester's user name."
    )
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)

    class Meta:
        model = IdentityChangeRequest
        fields = [
            "id",
            "state",
            "state_label",
            "status",
            "student_name",
            "student_number",
            "school",
            "province",
            "requester",
            "changes",
            "reason",
            "before",
            "after",
            "created",
            "updated",
            "decided_at",
        ]
        read_only_fields = fields

    @extend_schema_field(IdentityChangeValueSerializer(many=True))
    def get_changes(self, obj: IdentityChangeRequest) -> list[dict[str, str]]:
        return masked_changes(obj.changes)

    def get_reason(self, obj: IdentityChangeRequest) -> str:
        return mask_id_numbers_in(obj.reason)

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), allow_null=True))
    def get_before(self, obj: IdentityChangeRequest) -> dict[str, str] | None:
        return _masked(obj.before)

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), allow_null=True))
    def get_after(self, obj: IdentityChangeRequest) -> dict[str, str] | None:
        return _masked(obj.after)


class IdentityChangeDetailSerializer(IdentityChangeSerializer):
    """A request with its evidence, the history of every step and its open task."""

    evidence = IdentityEvidenceSerializer(many=True, read_only=True)
    history = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta(IdentityChangeSerializer.Meta):
        fields = [*IdentityChangeSerializer.Meta.fields, "evidence", "history", "open_task"]
        read_only_fields = fields

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj: IdentityChangeRequest) -> Any:
        entries: Any = request_history(obj)
        return HistorySerializer(entries, many=True).data

    @extend_schema_field(OpenTaskSerializer(allow_null=True))
    def get_open_task(self, obj: IdentityChangeRequest) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        return None if item is None else {"id": item.pk, "step": item.step}


def _fields_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=1000),
        help_text=FIELDS_HELP,
    )


class IdentityChangeFileSerializer(serializers.Serializer[dict[str, Any]]):
    status = object_id_field(help_text="The student status (`/api/v1/student-statuses/`).")
    fields = _fields_field()  # type: ignore[assignment]
    reason = serializers.CharField(allow_blank=True)


class IdentityChangeResubmitSerializer(serializers.Serializer[dict[str, Any]]):
    fields = _fields_field()  # type: ignore[assignment]
    reason = serializers.CharField(allow_blank=True)


class IdentityEvidenceUploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField()


def visible_identity_changes(user: Any) -> QuerySet[IdentityChangeRequest]:
    return scope(
        user,
        codenames.VIEW,
        IdentityChangeRequest.objects.select_related("requester", "student", "status"),
    ).order_by("-created", "-pk")


def _visible(request: Request, pk: int) -> IdentityChangeRequest:
    found = visible_identity_changes(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _detail(found: IdentityChangeRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(IdentityChangeDetailSerializer(found).data, status=code)


LIST_PARAMETERS = [
    OpenApiParameter("state", str, enum=IdentityChangeState.values, description="a state"),
    OpenApiParameter("school", str, description="a school code"),
    OpenApiParameter("status", int, description="a student status's id"),
]


@extend_schema(tags=["identity changes"])
class IdentityChangeListCreate(generics.ListAPIView[IdentityChangeRequest]):
    """The identity change requests the caller may see, newest first; ``POST`` files one
    (then attach the proof: ``POST …/{id}/evidence/``; the school approves none without)."""

    serializer_class = IdentityChangeSerializer

    def get_queryset(self) -> QuerySet[IdentityChangeRequest]:
        requests = visible_identity_changes(self.request.user)
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        if (state := params.get("state")) is not None:
            if state not in IdentityChangeState.values:
                choices = ", ".join(IdentityChangeState.values)
                errors["state"] = [str(BAD_CHOICE % {"choices": choices})]
            else:
                requests = requests.filter(state=state)
        if school := params.get("school"):
            requests = requests.filter(school_id=school)
        if (status_id := params.get("status")) is not None:
            if not ID_PATTERN.fullmatch(status_id):
                errors["status"] = [str(_("Give a student status's id."))]
            else:
                requests = requests.filter(status_id=int(status_id))
        if errors:
            raise ValidationError(errors)
        return requests

    @extend_schema(parameters=LIST_PARAMETERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=IdentityChangeFileSerializer,
        responses={201: IdentityChangeDetailSerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = IdentityChangeFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = (
            scope(request.user, codenames.VIEW, StudentStatus.objects)
            .filter(pk=data.validated_data["status"])
            .first()
        )
        if found is None:
            raise Http404
        created = flow.identity_change_start(
            status=found,
            fields=data.validated_data["fields"],
            reason=data.validated_data["reason"],
            requester=request.user,  # type: ignore[arg-type]
        )
        return _detail(created, status.HTTP_201_CREATED)


@extend_schema(tags=["identity changes"])
class IdentityChangeDetail(generics.RetrieveAPIView[IdentityChangeRequest]):
    """A request with its state, its changes (each with the value it replaces), its evidence
    and the history of every step."""

    serializer_class = IdentityChangeDetailSerializer

    def get_queryset(self) -> QuerySet[IdentityChangeRequest]:
        return visible_identity_changes(self.request.user).prefetch_related("evidence")


@extend_schema(
    tags=["identity changes"],
    request=None,
    responses={200: IdentityChangeDetailSerializer, **error_responses(409)},
)
class IdentityChangeWithdraw(APIView):
    """The requester withdraws an open request."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        done = flow.identity_change_withdraw(request=found, user=request.user)  # type: ignore[arg-type]
        return _detail(done)


@extend_schema(
    tags=["identity changes"],
    request=IdentityChangeResubmitSerializer,
    responses={200: IdentityChangeDetailSerializer, **error_responses(409)},
)
class IdentityChangeResubmit(APIView):
    """The requester revises a returned request (its fields and reason); it goes to the
    school's review again."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = IdentityChangeResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.identity_change_resubmit(
            request=found,
            fields=data.validated_data["fields"],
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


@extend_schema(
    tags=["identity changes"],
    request={"multipart/form-data": IdentityEvidenceUploadSerializer},
    responses={201: IdentityEvidenceSerializer},
)
class IdentityChangeEvidenceUpload(APIView):
    """Attach proof: a PDF, JPEG or PNG (at most 5 MB; the type is checked by content), by
    the requester or the student while the request is open."""

    parser_classes = [MultiPartParser]

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = IdentityEvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence = identity_change_add_evidence(
            request=found,
            upload=data.validated_data["file"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(IdentityEvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class IdentityFieldSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    record = serializers.ChoiceField(choices=["person", "status"])
    kind = serializers.ChoiceField(choices=["text", "date", "choice", "ethnicity", "major"])
    choices = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


@extend_schema(tags=["identity changes"], responses={200: IdentityFieldSerializer(many=True)})
class IdentityChangeFields(APIView):
    """The fields an identity change may name, from their declarations
    (``records.identity_changes.fields``): the record each lives on, its kind and choices."""

    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "name": f.name,
                    "label": str(f.label),
                    "record": f.target,
                    "kind": f.kind,
                    "choices": [{"code": c, "label": str(label)} for c, label in f.choices],
                }
                for f in FIELDS
            ]
        )
