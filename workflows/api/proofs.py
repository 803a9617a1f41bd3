"""``/api/v1/certificate-proofs/``: applying for and following certificate proofs (学历证明书)
of lost or damaged certificates. Every call goes through the certificate proof flow's
services, which check permissions; anything a caller may not see answers 404. Decisions go
through ``/api/v1/tasks/``."""

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
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions.checks import scope
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import CertificateLoss
from records.choices import CertificateProofState
from records.models import CertificateProof
from records.models import CertificateProofEvidence
from records.models import Qualification
from records.proofs.history import proof_history
from records.proofs.services import proof_add_evidence
from records.validators import mask_id_numbers_in
from workflows import work
from workflows.api.corrections import HistorySerializer
from workflows.api.status_changes import OpenTaskSerializer
from workflows.flows import certificate_proof as flow

BAD_CHOICE = _("Choose one of: %(choices)s.")


class ProofEvidenceSerializer(serializers.ModelSerializer[CertificateProofEvidence]):
    class Meta:
        model = CertificateProofEvidence
        fields = ["id", "original_name", "content_type", "size", "created"]
        read_only_fields = fields


class CertificateProofSerializer(serializers.ModelSerializer[CertificateProof]):
    """An application as lists show it (any full ID number in the note masked). ``number``,
    ``original_certificate_number`` and ``issued_at`` are set once the proof is issued."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    note = serializers.SerializerMethodField()
    student_name = serializers.CharField(source="student.name", read_only=True)
    certificate_number = serializers.CharField(
        source="qualification.certificate_number", read_only=True
    )
    requester = serializers.CharField(
        source="requester.username", read_only=True, help_text="The requester's user name."
    )
    requester_name = serializers.CharField(source="requester.display_name", read_only=True)
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)

    class Meta:
        model = CertificateProof
        fields = [
            "id",
            "qualification",
            "certificate_number",
            "student_name",
            "school",
            "province",
            "requester",
            "requester_name",
            "reason",
            "reason_label",
            "note",
            "state",
            "state_label",
            "number",
            "original_certificate_number",
            "issued_at",
            "created",
            "updated",
            "decided_at",
        ]
        read_only_fields = fields

    def get_note(self, obj: CertificateProof) -> str:
        return mask_id_numbers_in(obj.note)


class CertificateProofDetailSerializer(CertificateProofSerializer):
    """An application with its evidence, the history of every step and its open task."""

    evidence = ProofEvidenceSerializer(many=True, read_only=True)
    history = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta(CertificateProofSerializer.Meta):
        fields = [*CertificateProofSerializer.Meta.fields, "evidence", "history", "open_task"]
        read_only_fields = fields

    @extend_schema_field(HistorySerializer(many=True))
    def get_history(self, obj: CertificateProof) -> Any:
        entries: Any = proof_history(obj)
        return HistorySerializer(entries, many=True).data

    @extend_schema_field(OpenTaskSerializer(allow_null=True))
    def get_open_task(self, obj: CertificateProof) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        return None if item is None else {"id": item.pk, "step": item.step}


class ProofFileSerializer(serializers.Serializer[dict[str, Any]]):
    qualification = object_id_field(help_text="The qualification (`/api/v1/qualifications/`).")
    reason = serializers.CharField(
        help_text=f"Why the certificate is replaced: {', '.join(CertificateLoss.values)}."
    )
    note = serializers.CharField(
        allow_blank=True, help_text="How it was lost or damaged: when, where, any loss notice."
    )


class ProofResubmitSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class ProofEvidenceUploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField()


def visible_proofs(user: Any) -> QuerySet[CertificateProof]:
    return scope(
        user,
        codenames.VIEW,
        CertificateProof.objects.select_related("requester", "student", "qualification"),
    ).order_by("-created", "-pk")


def _visible(request: Request, pk: int) -> CertificateProof:
    found = visible_proofs(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _detail(found: CertificateProof, code: int = status.HTTP_200_OK) -> Response:
    return Response(CertificateProofDetailSerializer(found).data, status=code)


@extend_schema(tags=["certificate proofs"])
class ProofListCreate(generics.ListAPIView[CertificateProof]):
    """The certificate proof applications the caller may see, newest first; ``POST`` applies
    for one (the student, or an officer of the school for them)."""

    serializer_class = CertificateProofSerializer

    def get_queryset(self) -> QuerySet[CertificateProof]:
        proofs = visible_proofs(self.request.user)
        state = self.request.query_params.get("state")
        if state is not None:
            if state not in CertificateProofState.values:
                choices = ", ".join(CertificateProofState.values)
                raise ValidationError({"state": [str(BAD_CHOICE % {"choices": choices})]})
            proofs = proofs.filter(state=state)
        return proofs

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=CertificateProofState.values, description="a state")
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ProofFileSerializer,
        responses={201: CertificateProofDetailSerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request) -> Response:
        data = ProofFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        qualification = (
            scope(request.user, codenames.VIEW, Qualification.objects)
            .filter(pk=data.validated_data["qualification"])
            .first()
        )
        if qualification is None:
            raise Http404
        created = flow.proof_start(
            qualification=qualification,
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            requester=request.user,  # type: ignore[arg-type]
        )
        return _detail(created, status.HTTP_201_CREATED)


@extend_schema(tags=["certificate proofs"])
class ProofDetail(generics.RetrieveAPIView[CertificateProof]):
    """An application with its state, the proof's number once issued, its evidence and the
    history of every step."""

    serializer_class = CertificateProofDetailSerializer

    def get_queryset(self) -> QuerySet[CertificateProof]:
        return visible_proofs(self.request.user).prefetch_related("evidence")


@extend_schema(
    tags=["certificate proofs"],
    request=None,
    responses={200: CertificateProofDetailSerializer, **error_responses(409)},
)
class ProofWithdraw(APIView):
    """The requester withdraws an open application."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        done = flow.proof_withdraw(proof=found, user=request.user)  # type: ignore[arg-type]
        return _detail(done)


@extend_schema(
    tags=["certificate proofs"],
    request=ProofResubmitSerializer,
    responses={200: CertificateProofDetailSerializer, **error_responses(409)},
)
class ProofResubmit(APIView):
    """The requester revises a returned application (its reason and note); it goes to the
    school again."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = ProofResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = flow.proof_resubmit(
            proof=found,
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _detail(done)


@extend_schema(
    tags=["certificate proofs"],
    request={"multipart/form-data": ProofEvidenceUploadSerializer},
    responses={201: ProofEvidenceSerializer},
)
class ProofEvidenceUpload(APIView):
    """Attach a PDF, JPEG or PNG to an open application (at most 5 MB; the type is checked
    by content): a published loss notice, a photo of the damaged certificate."""

    parser_classes = [MultiPartParser]

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = ProofEvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence = proof_add_evidence(
            proof=found,
            upload=data.validated_data["file"],
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return Response(ProofEvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)
