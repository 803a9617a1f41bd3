"""``/api/v1/revocations/``: proposing and following revocations of qualifications. Every
call goes through the revocation flow's services, which check permissions; anything a
caller may not see answers 404. Decisions go through ``/api/v1/tasks/``."""

from __future__ import annotations

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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions.checks import scope
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.models import Qualification
from records.models import RevocationRequest
from records.models.revocations import RevocationState
from records.revocations import services
from records.validators import mask_id_numbers_in
from workflows import work
from workflows.api.status_changes import AppealSerializer
from workflows.api.status_changes import DeliverySerializer
from workflows.api.status_changes import OpenTaskSerializer
from workflows.flows import revocation as flow

BAD_CHOICE = _("Choose one of: %(choices)s.")


class RevocationSerializer(serializers.ModelSerializer[RevocationRequest]):
    """A revocation as lists show it (any full ID number in the texts masked)."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    student_name = serializers.CharField(source="student.name", read_only=True)
    certificate_number = serializers.CharField(
        source="qualification.certificate_number", read_only=True
    )
    requester_name = serializers.CharField(source="requester.display_name", read_only=True)
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)
    reason = serializers.SerializerMethodField()
    leadership_decision = serializers.SerializerMethodField()
    has_delivery_evidence = serializers.SerializerMethodField()

    class Meta:
        model = RevocationRequest
        fields = [
            "id",
            "qualification",
            "certificate_number",
            "student_name",
            "school",
            "province",
            "requester_name",
            "state",
            "state_label",
            "reason",
            "basis",
            "leadership_decision_date",
            "leadership_decision",
            "legality_reviewed",
            "hearing_date",
            "hearing_by",
            "hearing_summary",
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
            "decided_at",
            "created",
        ]
        read_only_fields = fields

    def get_reason(self, obj: RevocationRequest) -> str:
        return mask_id_numbers_in(obj.reason)

    def get_leadership_decision(self, obj: RevocationRequest) -> str:
        return mask_id_numbers_in(obj.leadership_decision)

    def get_has_delivery_evidence(self, obj: RevocationRequest) -> bool:
        return bool(obj.delivery_evidence)


class RevocationDetailSerializer(RevocationSerializer):
    open_task = serializers.SerializerMethodField()

    class Meta(RevocationSerializer.Meta):
        fields = [*RevocationSerializer.Meta.fields, "open_task"]
        read_only_fields = fields

    @extend_schema_field(OpenTaskSerializer(allow_null=True))
    def get_open_task(self, obj: RevocationRequest) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        return None if item is None else {"id": item.pk, "step": item.step}


class RevocationFileSerializer(serializers.Serializer[dict[str, Any]]):
    qualification = object_id_field(help_text="The qualification (`/api/v1/qualifications/`).")
    reason = serializers.CharField(allow_blank=True, help_text="The facts and the reason.")
    basis = serializers.CharField(allow_blank=True, help_text="The rules it rests on.")
    leadership_decision_date = serializers.DateField(
        required=False, allow_null=True, help_text="The day of the leadership's decision."
    )
    leadership_decision = serializers.CharField(
        allow_blank=True, help_text="The leadership decision's reference or summary."
    )
    legality_review = serializers.BooleanField(
        default=False, help_text="The school's legality review was done (第56条)."
    )
    hearing_date = serializers.DateField(required=False, allow_null=True)
    hearing_by = serializers.CharField(required=False, allow_blank=True, default="")
    hearing_summary = serializers.CharField(required=False, allow_blank=True, default="")


def visible_revocations(user: Any) -> QuerySet[RevocationRequest]:
    return scope(
        user,
        codenames.VIEW,
        RevocationRequest.objects.select_related("requester", "student", "qualification"),
    ).order_by("-created", "-pk")


def _visible(request: Request, pk: int) -> RevocationRequest:
    found = visible_revocations(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _detail(found: RevocationRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(RevocationDetailSerializer(found).data, status=code)


@extend_schema(tags=["revocations"])
class RevocationListCreate(generics.ListAPIView[RevocationRequest]):
    """The revocations the caller may see, newest first; ``POST`` proposes one (an officer of
    the qualification's school)."""

    serializer_class = RevocationSerializer

    def get_queryset(self) -> QuerySet[RevocationRequest]:
        found = visible_revocations(self.request.user)
        state = self.request.query_params.get("state")
        if state is not None:
            if state not in RevocationState.values:
                choices = ", ".join(RevocationState.values)
                raise ValidationError({"state": [str(BAD_CHOICE % {"choices": choices})]})
            found = found.filter(state=state)
        return found

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=RevocationState.values)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RevocationFileSerializer,
        responses={201: RevocationDetailSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = RevocationFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        qualification = (
            scope(request.user, codenames.VIEW, Qualification.objects)
            .filter(pk=values.pop("qualification"))
            .first()
        )
        if qualification is None:
            raise Http404
        created = flow.revocation_start(
            qualification=qualification,
            values=values,
            requester=request.user,  # type: ignore[arg-type]
        )
        return _detail(created, status.HTTP_201_CREATED)


@extend_schema(tags=["revocations"])
class RevocationDetail(generics.RetrieveAPIView[RevocationRequest]):
    """A revocation with its state, the written decision and its appeal period."""

    serializer_class = RevocationDetailSerializer

    def get_queryset(self) -> QuerySet[RevocationRequest]:
        return visible_revocations(self.request.user)


@extend_schema(
    tags=["revocations"],
    request={"multipart/form-data": DeliverySerializer, "application/json": DeliverySerializer},
    responses={200: RevocationDetailSerializer, **error_responses(403, 409)},
)
class RevocationDelivery(APIView):
    """An officer of the school records the delivery (送达) of the written decision."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = DeliverySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = services.revocation_deliver(
            request=found,
            delivered_on=data.validated_data.get("delivered_on"),
            method=data.validated_data["method"],
            evidence=data.validated_data.get("evidence"),
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


@extend_schema(
    tags=["revocations"],
    request=AppealSerializer,
    responses={200: RevocationDetailSerializer, **error_responses(403, 409)},
)
class RevocationAppeal(APIView):
    """The student appeals within the window: to the school's appeal committee (10 days
    from delivery), then to the province (15 days from the committee's decision)."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = AppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.revocation_appeal(
            request=found,
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)
