"""``GET /api/v1/student-statuses/{id}/``: a student status with its history (every change
it took, read from its audit chain: status changes and identity changes), its status change
and identity change requests and its maximum study period. The list is
``records.api.admissions.StudentStatusList``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics
from rest_framework import serializers

from permissions import codenames
from permissions.checks import scope
from records.api.admissions import StudentStatusSerializer
from records.models import IdentityChangeRequest
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.status_changes.history import status_history
from records.status_changes.periods import max_study_end


class StatusHistorySerializer(serializers.Serializer[Any]):
    action = serializers.CharField()
    actor = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="A change: its `type` (a status change's, or `identity_change`), `request`, "
        "and the values `before` and `after` (an ID number masked)."
    )


class ChangeRequestRefSerializer(serializers.ModelSerializer[StatusChangeRequest]):
    class Meta:
        model = StatusChangeRequest
        fields = ["id", "type", "state", "created", "decided_at"]
        read_only_fields = fields


class IdentityChangeRefSerializer(serializers.ModelSerializer[IdentityChangeRequest]):
    class Meta:
        model = IdentityChangeRequest
        fields = ["id", "state", "created", "decided_at"]
        read_only_fields = fields


class StudentStatusDetailSerializer(StudentStatusSerializer):
    max_study_end = serializers.SerializerMethodField(
        help_text="The last day of the maximum study period (study length plus the school's "
        "extension, suspension and reservation included)."
    )
    past_max_study_period = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    change_requests = serializers.SerializerMethodField()
    identity_changes = serializers.SerializerMethodField()

    class Meta(StudentStatusSerializer.Meta):
        fields = [
            *StudentStatusSerializer.Meta.fields,
            "max_study_end",
            "past_max_study_period",
            "history",
            "change_requests",
            "identity_changes",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField())
    def get_max_study_end(self, obj: StudentStatus) -> str:
        return max_study_end(obj).isoformat()

    def get_past_max_study_period(self, obj: StudentStatus) -> bool:
        return obj.is_current and max_study_end(obj) < timezone.localdate()

    @extend_schema_field(StatusHistorySerializer(many=True))
    def get_history(self, obj: StudentStatus) -> Any:
        return StatusHistorySerializer(status_history(obj), many=True).data

    @extend_schema_field(ChangeRequestRefSerializer(many=True))
    def get_change_requests(self, obj: StudentStatus) -> Any:
        requests = obj.change_requests.order_by("-created", "-pk")
        return ChangeRequestRefSerializer(requests, many=True).data

    @extend_schema_field(IdentityChangeRefSerializer(many=True))
    def get_identity_changes(self, obj: StudentStatus) -> Any:
        requests = obj.identity_changes.order_by("-created", "-pk")
        return IdentityChangeRefSerializer(requests, many=True).data


@extend_schema(tags=["admissions"])
class StudentStatusDetail(generics.RetrieveAPIView[StudentStatus]):
    """A student status the caller may see, with its history and its change requests."""

    serializer_class = StudentStatusDetailSerializer

    def get_queryset(self) -> QuerySet[StudentStatus]:
        return scope(
            self.request.user,
            codenames.VIEW,
            StudentStatus.objects.select_related("student", "school"),
        )
