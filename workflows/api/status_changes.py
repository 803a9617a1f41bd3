"""``/api/v1/status-changes/``: filing and following status changes (学籍异动), and the types
as their declarations say. Every call goes through the status change flow's services (or
the records services for reads), which check permissions; anything a caller may not see
answers 404. Decisions go through ``/api/v1/tasks/``."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions.checks import scope
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import DeliveryMethod
from records.choices import StatusChangeState
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.status_changes import appeals
from records.status_changes.history import request_history
from records.status_changes.types import FIELD_KINDS
from records.status_changes.types import TYPES
from records.status_changes.types import StatusChangeType
from records.validators import mask_id_numbers_in
from workflows import work
from workflows.api.corrections import HistorySerializer
from workflows.flows import status_change as flow

BAD_CHOICE = _("Choose one of: %(choices)s.")
ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")
FIELDS_HELP = (
    "Field name → value, as the type declares (`GET /api/v1/status-changes/types/`): dates "
    "as YYYY-MM-DD, a major as its code, a choice as its code."
)


class StatusChangeSerializer(serializers.ModelSerializer[StatusChangeRequest]):
    """A request as lists show it (any full ID number in the reason masked)."""

    type_label = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    reason = serializers.SerializerMethodField()
    student_name = serializers.CharField(source="student.name", read_only=True)
    student_number = serializers.CharField(source="status.student_number", read_only=True)
    requester = serializers.CharField(
        source="requester.username", read_only=True, help_text="The requester's user name."
    )
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)
    target_school = serializers.CharField(
        source="target_school_id",
        read_only=True,
        allow_null=True,
        help_text="A transfer's receiving school (its code); null for other types.",
    )
    target_province = serializers.CharField(
        source="target_province_id", read_only=True, allow_null=True
    )
    notice_ends = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a transfer's public notice (5 working days, state `in_notice`) ends.",
    )

    class Meta:
        model = StatusChangeRequest
        fields = [
            "id",
            "type",
            "type_label",
            "state",
            "state_label",
            "status",
            "student_name",
            "student_number",
            "school",
            "province",
            "target_school",
            "target_province",
            "notice_ends",
            "requester",
            "fields",
            "reason",
            "before",
            "after",
            "created",
            "updated",
            "decided_at",
            "decision_text",
            "issued_at",
            "delivered_on",
            "delivery_method",
            "has_delivery_evidence",
            "appeal",
            "appeal_deadline",
            "appeal_reason",
            "appealed_at",
            "province_appeal_reason",
            "province_appealed_at",
        ]
        read_only_fields = fields

    # Blank until the decision's delivery is recorded (a read-only model field would not say so).
    delivery_method = serializers.ChoiceField(
        choices=DeliveryMethod.choices, allow_blank=True, read_only=True
    )
    has_delivery_evidence = serializers.SerializerMethodField(
        help_text="Whether the officer attached evidence of the delivery."
    )

    def get_has_delivery_evidence(self, obj: StatusChangeRequest) -> bool:
        return bool(obj.delivery_evidence)

    def get_type_label(self, obj: StatusChangeRequest) -> str:
        kind = TYPES.get(obj.type)
        return str(kind.label) if kind else obj.type

    def get_reason(self, obj: StatusChangeRequest) -> str:
        return mask_id_numbers_in(obj.reason)


class OpenTaskSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    step = serializers.CharField()


class StatusChangeDetailSerializer(StatusChangeSerializer):
    """A request with the history of every step and its open task (for whoever decides)."""

    history = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta(StatusChangeSerializer.Meta):
        fields = [*StatusChangeSerializer.Meta.fields, "history", "open_task"]
        read_only_fields = fields

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj: StatusChangeRequest) -> Any:
        entries: Any = request_history(obj)
        return HistorySerializer(entries, many=True).data

    @extend_schema_field(OpenTaskSerializer(allow_null=True))
    def get_open_task(self, obj: StatusChangeRequest) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        request = self.context.get("request")
        if request is not None:  # of a cross-province transfer's two tasks, the reader's own
            item = work.open_item_for(request.user, flow.FLOW_KEY, obj.pk) or item
        return None if item is None else {"id": item.pk, "step": item.step}


def _fields_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(allow_blank=True, allow_null=True, max_length=1000),
        help_text=FIELDS_HELP,
        required=False,
        default=dict,
    )


class StatusChangeFileSerializer(serializers.Serializer[dict[str, Any]]):
    status = object_id_field(help_text="The student status (`/api/v1/student-statuses/`).")
    type = serializers.CharField(help_text="A type's key (`/api/v1/status-changes/types/`).")
    fields = _fields_field()  # type: ignore[assignment]
    reason = serializers.CharField(allow_blank=True)


class StatusChangeResubmitSerializer(serializers.Serializer[dict[str, Any]]):
    fields = _fields_field()  # type: ignore[assignment]
    reason = serializers.CharField(allow_blank=True)


def visible_status_changes(user: Any) -> QuerySet[StatusChangeRequest]:
    return scope(
        user,
        codenames.VIEW,
        StatusChangeRequest.objects.select_related("requester", "student", "status"),
    ).order_by("-created", "-pk")


def _visible(request: Request, pk: int) -> StatusChangeRequest:
    found = visible_status_changes(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _detail(found: StatusChangeRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(StatusChangeDetailSerializer(found).data, status=code)


LIST_PARAMETERS = [
    OpenApiParameter("state", str, enum=StatusChangeState.values, description="a state"),
    OpenApiParameter("type", str, enum=list(TYPES), description="a type's key"),
    OpenApiParameter("school", str, description="a school code"),
    OpenApiParameter("status", int, description="a student status's id"),
]


@extend_schema(tags=["status changes"])
class StatusChangeListCreate(generics.ListAPIView[StatusChangeRequest]):
    """The status change requests the caller may see, newest first; ``POST`` files one."""

    serializer_class = StatusChangeSerializer

    def get_queryset(self) -> QuerySet[StatusChangeRequest]:
        requests = visible_status_changes(self.request.user)
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        for name, allowed in (("state", StatusChangeState.values), ("type", list(TYPES))):
            value = params.get(name)
            if value is None:
                continue
            if value not in allowed:
                errors[name] = [str(BAD_CHOICE % {"choices": ", ".join(allowed)})]
            else:
                requests = requests.filter(**{name: value})
        if school := params.get("school"):  # a transfer's sending or receiving school
            requests = requests.filter(Q(school_id=school) | Q(target_school_id=school))
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
        request=StatusChangeFileSerializer,
        responses={201: StatusChangeDetailSerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = StatusChangeFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = (
            scope(request.user, codenames.VIEW, StudentStatus.objects)
            .filter(pk=data.validated_data["status"])
            .first()
        )
        if found is None:
            raise Http404
        created = flow.status_change_start(
            status=found,
            type_key=data.validated_data["type"],
            fields=data.validated_data["fields"],
            reason=data.validated_data["reason"],
            requester=request.user,  # type: ignore[arg-type]
        )
        return _detail(created, status.HTTP_201_CREATED)


@extend_schema(tags=["status changes"])
class StatusChangeDetail(generics.RetrieveAPIView[StatusChangeRequest]):
    """A request with its state, fields, the values it replaced and set, and the history of
    every step."""

    serializer_class = StatusChangeDetailSerializer

    def get_queryset(self) -> QuerySet[StatusChangeRequest]:
        return visible_status_changes(self.request.user)


@extend_schema(
    tags=["status changes"],
    request=None,
    responses={200: StatusChangeDetailSerializer, **error_responses(409)},
)
class StatusChangeWithdraw(APIView):
    """The requester withdraws an open request."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        done = flow.status_change_withdraw(request=found, user=request.user)  # type: ignore[arg-type]
        return _detail(done)


@extend_schema(
    tags=["status changes"],
    request=StatusChangeResubmitSerializer,
    responses={200: StatusChangeDetailSerializer, **error_responses(409)},
)
class StatusChangeResubmit(APIView):
    """The requester revises a returned request (its fields and reason); it goes to the
    school's first level again."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = StatusChangeResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.status_change_resubmit(
            request=found,
            fields=data.validated_data["fields"],
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


# --- adverse decisions: delivery and appeals ------------------------------------------------


class DeliverySerializer(serializers.Serializer[dict[str, Any]]):
    delivered_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day of delivery (YYYY-MM-DD)."
    )
    method = serializers.CharField(
        allow_blank=True, help_text="`" + "`, `".join(DeliveryMethod.values) + "`."
    )
    evidence = serializers.FileField(
        required=False, help_text="Optional proof of delivery: PDF, JPEG or PNG, at most 5 MB."
    )


class AppealSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(allow_blank=True, help_text="The grounds of the appeal.")


@extend_schema(
    tags=["status changes"],
    request={"multipart/form-data": DeliverySerializer, "application/json": DeliverySerializer},
    responses={200: StatusChangeDetailSerializer, **error_responses(403, 409)},
)
class StatusChangeDelivery(APIView):
    """An officer of the school records the delivery (送达) of an adverse decision: the day,
    the method, optional evidence. The student's appeal window (10 days) counts from it."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = DeliverySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = appeals.status_change_deliver(
            request=found,
            delivered_on=data.validated_data.get("delivered_on"),
            method=data.validated_data["method"],
            evidence=data.validated_data.get("evidence"),
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


@extend_schema(
    tags=["status changes"],
    request=AppealSerializer,
    responses={200: StatusChangeDetailSerializer, **error_responses(403, 409)},
)
class StatusChangeAppeal(APIView):
    """The student appeals an adverse decision within its window: to the school's appeal
    committee (10 days from delivery), then, against the committee's decision, to the
    province (15 days). The change waits for the decision on the appeal."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = AppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.status_change_appeal(
            request=found,
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


# --- the types, from their declarations ------------------------------------------------------


class TypeFieldSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=list(FIELD_KINDS))
    required = serializers.BooleanField()  # type: ignore[assignment]
    choices = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    help = serializers.CharField(allow_blank=True)


class TypeRuleSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    message = serializers.CharField()
    source = serializers.CharField(allow_blank=True, help_text="The article it comes from.")  # type: ignore[assignment]
    field = serializers.CharField(help_text="`type`, `status` or a field of the request.")


class TypeEffectSerializer(serializers.Serializer[dict[str, Any]]):
    transition = serializers.CharField(allow_blank=True)
    from_states = serializers.ListField(child=serializers.CharField())
    to_state = serializers.CharField(allow_blank=True)


class TypeSerializer(serializers.Serializer[dict[str, Any]]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    available = serializers.BooleanField()
    unavailable_reason = serializers.CharField(allow_blank=True)
    adverse = serializers.BooleanField()
    filed_by = serializers.ListField(child=serializers.ChoiceField(choices=["student", "officer"]))
    fields = TypeFieldSerializer(many=True)  # type: ignore[assignment]
    rules = TypeRuleSerializer(many=True)
    chain = serializers.ListField(
        child=serializers.CharField(),
        help_text="Its steps: `school_review`, `school_final` (at two-level schools only), "
        "`province_confirm` (where the province confirms); a transfer: then "
        "`target_accept` (the receiving school), `public_notice` (5 working days), "
        "`province_confirm`; an adverse decision then "
        "`appeal_window` (10 days from delivery, then 15 after the committee upholds it), "
        "`school_appeal` and `province_appeal` (only when the student appeals).",
    )
    cross_province = serializers.ListField(
        child=serializers.CharField(),
        help_text="The steps that take the place of `province_confirm`, in parallel, when the "
        "receiving school is in another province (a transfer: "
        "`source_province_confirm`, `target_province_confirm`); empty otherwise.",
    )
    effect = TypeEffectSerializer()


def describe_type(kind: StatusChangeType) -> dict[str, Any]:
    """A type as its declaration says, in the caller's language."""
    chain = [flow.SCHOOL_REVIEW.key, flow.SCHOOL_FINAL.key]
    if kind.province:
        chain.append(flow.PROVINCE_CONFIRM.key)
    cross_province: list[str] = []
    for stage in kind.chain:
        chain.extend(flow.STAGES[stage])
        cross_province.extend(flow.CROSS_PROVINCE.get(stage, ()))
    if kind.adverse:
        chain += [flow.APPEAL_WINDOW, flow.SCHOOL_APPEAL.key, flow.PROVINCE_APPEAL.key]
    return {
        "key": kind.key,
        "label": str(kind.label),
        "available": kind.available,
        "unavailable_reason": str(kind.unavailable),
        "adverse": kind.adverse,
        "filed_by": sorted(kind.filers),
        "fields": [
            {
                "name": f.name,
                "label": str(f.label),
                "kind": f.kind,
                "required": f.required,
                "choices": [{"code": code, "label": str(label)} for code, label in f.choices],
                "help": str(f.help),
            }
            for f in kind.fields
        ],
        "rules": [
            {"code": r.code, "message": str(r.message), "source": str(r.source), "field": r.field}
            for r in kind.rules
        ],
        "chain": chain,
        "cross_province": cross_province,
        "effect": {
            "transition": kind.effect.transition,
            "from_states": kind.effect.sources(),
            "to_state": kind.effect.target(),
        },
    }


@extend_schema(tags=["status changes"], responses={200: TypeSerializer(many=True)})
class StatusChangeTypes(APIView):
    """Every type of status change: who files it, its fields, its rules with the article
    each comes from, its chain of steps and its effect on the status, generated from the
    declarations (``records.status_changes.types``)."""

    def get(self, request: Request) -> Response:
        return Response([describe_type(kind) for kind in TYPES.values()])
