"""``/api/v1/qualifications/``: the qualifications the caller may see, with their revisions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework import serializers

from records import qualifications
from records.models import Qualification
from records.models import QualificationRevision
from records.validators import MASKED_FIELDS
from records.validators import mask_id_number
from records.validators import masked_value


class RevisionSerializer(serializers.ModelSerializer[QualificationRevision]):
    content = serializers.SerializerMethodField(
        help_text="Every value the revision registered, the ID number masked."
    )
    approved_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The approver's user name; null for the registration.",
    )
    approved_by_name = serializers.CharField(
        source="approved_by.display_name",
        read_only=True,
        allow_null=True,
        help_text="The approver's full name (the user name when none is set); null for the "
        "registration.",
    )

    class Meta:
        model = QualificationRevision
        fields = [
            "number",
            "content",
            "changed_fields",
            "reason",
            "correction_id",
            "approved_by",
            "approved_by_name",
            "created",
        ]

    def get_content(self, obj: QualificationRevision) -> dict[str, Any]:
        return {field: _shown(field, value) for field, value in obj.content.items()}


def _shown(field: str, value: Any) -> Any:
    return masked_value(field, value) if field in MASKED_FIELDS else value


class QualificationSerializer(serializers.ModelSerializer[Qualification]):
    school = serializers.CharField(source="school_id", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    lost = serializers.BooleanField(
        source="is_lost",
        read_only=True,
        help_text="Marked lost (遗失作废): a certificate proof replaces the certificate.",
    )
    proof_number = serializers.CharField(
        source="lost_proof.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The number of the certificate proof (学历证明书) that replaces it.",
    )

    class Meta:
        model = Qualification
        fields = [
            "id",
            "status",
            "student",
            "school",
            "school_name",
            "province",
            "name",
            "gender",
            "birth_date",
            "id_type",
            "id_number_masked",
            "education_type",
            "start_date",
            "graduation_date",
            "major_code",
            "major_name",
            "level",
            "study_length",
            "learning_form",
            "graduation_result",
            "principal_name",
            "certificate_number",
            "minor_note",
            "registered_at",
            "revoked_at",
            "lost",
            "lost_at",
            "proof_number",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, obj: Qualification) -> str:
        return mask_id_number(obj.id_number)


class QualificationDetailSerializer(QualificationSerializer):
    """The detail adds every revision. The ID number is masked here too: the reviewer of a
    correction reads its values in the correction's detail (docs/architecture.md,
    "Sensitive values")."""

    revisions = RevisionSerializer(many=True, read_only=True)

    class Meta(QualificationSerializer.Meta):
        fields = [*QualificationSerializer.Meta.fields, "revisions"]
        read_only_fields = fields


def visible_qualifications(user: Any) -> QuerySet[Qualification]:
    return (
        qualifications.visible_qualifications(user)
        .select_related("school", "lost_proof")
        .order_by("-created", "-pk")
    )


@extend_schema(tags=["qualifications"])
class QualificationList(generics.ListAPIView[Qualification]):
    """Qualifications the caller may see: a student's own, an officer's school's, a provincial
    administrator's province's. The ID number is never listed."""

    serializer_class = QualificationSerializer

    def get_queryset(self) -> QuerySet[Qualification]:
        return visible_qualifications(self.request.user)


@extend_schema(tags=["qualifications"])
class QualificationDetail(generics.RetrieveAPIView[Qualification]):
    """One qualification with every revision (each value ever registered, who approved it)."""

    serializer_class = QualificationDetailSerializer

    def get_queryset(self) -> QuerySet[Qualification]:
        return visible_qualifications(self.request.user).prefetch_related("revisions__approved_by")
