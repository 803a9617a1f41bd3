"""Admission imports, admissions and student statuses:

- ``POST /api/v1/admission-imports/`` (multipart ``file``, ``mode``, ``school``): 202, the
  import queued; ``GET /admission-imports/``, ``/admission-imports/{id}/`` its progress,
  ``/admission-imports/{id}/errors/`` the error report (CSV, UTF-8 with BOM);
- ``GET /api/v1/admissions/`` and ``/api/v1/student-statuses/``: scoped lists, filtered,
  never a full ID number.
"""

from __future__ import annotations

from typing import Any
from typing import cast

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
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
from records.admissions.imports import error_report_response
from records.admissions.imports import importer_schools
from records.admissions.imports import queue_import
from records.admissions.imports import visible_imports
from records.admissions.search import search
from records.api.base import account
from records.api.schema import error_responses
from records.choices import AdmissionState
from records.choices import ImportMode
from records.choices import StatusState
from records.choices import YearRegistrationState
from records.models import AdmissionImport
from records.models import AdmissionRecord
from records.models import School
from records.models import StudentStatus
from records.models import YearRegistration
from records.status_changes.periods import past_max_study_period
from records.tasks import queue_admission_import
from records.validators import mask_id_number

DEFAULT_IMPORT_MAX_MB = 300
NOT_YOUR_SCHOOL = _("You do not act for school %(code)s.")
FILE_TOO_LARGE = _("An admission file may be at most %(mb)d MB.")
NOT_A_YEAR = _("Give a year, e.g. 2026.")
NOT_A_STATE = _("Choose one of: %(choices)s.")


# --- Imports ------------------------------------------------------------------------------------
class ImportSerializer(serializers.ModelSerializer[AdmissionImport]):
    school = serializers.CharField(source="school_id", read_only=True, allow_null=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionImport
        fields = [
            "id",
            "state",
            "original_name",
            "mode",
            "school",
            "total",
            "imported",
            "duplicates",
            "invalid",
            "failure",
            "created",
            "started",
            "finished",
            "errors_url",
        ]
        read_only_fields = fields

    def get_errors_url(self, obj: AdmissionImport) -> str:
        return f"/api/v1/admission-imports/{obj.pk}/errors/"


class ImportUploadSerializer(serializers.Serializer[dict[str, Any]]):
    file = serializers.FileField(
        help_text="CSV (UTF-8 or GBK) or XLSX; the first row names columns"
    )
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.SKIP_INVALID)
    school = serializers.CharField(
        required=False, allow_blank=True, help_text="import only the rows of this school (code)"
    )

    def validate_file(self, value: Any) -> Any:
        limit = int(getattr(settings, "ADMISSION_IMPORT_MAX_MB", DEFAULT_IMPORT_MAX_MB))
        if value.size > limit * 1024 * 1024:
            raise ValidationError(str(FILE_TOO_LARGE % {"mb": limit}), code="too_large")
        return value


@extend_schema(tags=["admissions"])
class ImportListCreate(generics.ListAPIView[AdmissionImport]):
    """The caller's admission imports, newest first; ``POST`` uploads a file."""

    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> QuerySet[AdmissionImport]:
        return visible_imports(self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        user = account(request)
        schools = importer_schools(user)
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        school = None
        if code := data.validated_data.get("school"):
            school = School.objects.filter(pk=code).first()
            if school is None or (schools is not None and code not in schools):
                raise ValidationError({"school": [str(NOT_YOUR_SCHOOL % {"code": code})]})
        upload = data.validated_data["file"]
        batch = queue_import(
            upload=upload,
            name=upload.name or "admissions",
            user=user,
            mode=data.validated_data["mode"],
            school=school,
        )
        queue_admission_import(batch.pk)
        batch.refresh_from_db()  # run already when tasks run in this process
        return Response(ImportSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["admissions"])
class ImportDetail(generics.RetrieveAPIView[AdmissionImport]):
    """An import's progress: its state and counts as it runs."""

    serializer_class = ImportSerializer

    def get_queryset(self) -> QuerySet[AdmissionImport]:
        return visible_imports(self.request.user)


@extend_schema(
    tags=["admissions"],
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.BINARY, description="row, column, code, message (UTF-8 with BOM)"
        ),
        **error_responses(404),
    },
)
class ImportErrors(APIView):
    """The error report of an import: one line per problem, ``row`` as a spreadsheet shows
    it (the header is row 1)."""

    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        batch = visible_imports(request.user).filter(pk=pk).first()
        if batch is None:
            raise Http404
        return error_report_response(batch)


# --- Lists --------------------------------------------------------------------------------------
LIST_PARAMETERS = [
    OpenApiParameter("school", str, description="a school code"),
    OpenApiParameter("year", int, description="the admission year"),
    OpenApiParameter("admission_type", str, description="a special admission type's code"),
    OpenApiParameter(
        "q",
        str,
        description="the start of a name, a candidate or student number, or an ID number "
        "(which matches only in full)",
    ),
]


def _filtered(
    records: QuerySet[Any], params: Any, *, states: list[str], year_field: str
) -> QuerySet[Any]:
    errors: dict[str, list[str]] = {}
    if school := params.get("school"):
        records = records.filter(school_id=school)
    if (year := params.get("year")) is not None:
        if not (year.isascii() and year.isdigit()) or len(year) != 4:  # noqa: PLR2004
            errors["year"] = [str(NOT_A_YEAR)]
        else:
            records = records.filter(**{year_field: int(year)})
    if (state := params.get("state")) is not None:
        if state not in states:
            errors["state"] = [str(NOT_A_STATE % {"choices": ", ".join(states)})]
        else:
            records = records.filter(state=state)
    if admission_type := params.get("admission_type"):
        records = records.filter(admission_type_id=admission_type)
    if errors:
        raise ValidationError(errors)
    if q := (params.get("q") or "").strip():
        records = records.filter(search(q, records.model))
    return records


class StatusRefSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    student_number = serializers.CharField()


class AdmissionSerializer(serializers.ModelSerializer[AdmissionRecord]):
    name = serializers.CharField(source="student.name")
    gender = serializers.CharField(source="student.gender")
    birth_date = serializers.DateField(source="student.birth_date")
    id_type = serializers.CharField(source="student.id_type")
    id_number_masked = serializers.SerializerMethodField()
    school = serializers.CharField(source="school_id")
    school_name = serializers.CharField(source="school.name")
    origin_province = serializers.CharField(source="origin_province_id")
    admission_type = serializers.CharField(source="admission_type_id", allow_null=True)
    state_label = serializers.CharField(source="get_state_display")
    status = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionRecord
        fields = [
            "id",
            "candidate_number",
            "name",
            "gender",
            "birth_date",
            "id_type",
            "id_number_masked",
            "school",
            "school_name",
            "admission_year",
            "major_code",
            "major_name",
            "level",
            "learning_form",
            "study_length",
            "admission_type",
            "origin_province",
            "state",
            "state_label",
            "reason",
            "retained_until",
            "status",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, obj: AdmissionRecord) -> str:
        return mask_id_number(obj.student.id_number)

    @extend_schema_field(StatusRefSerializer(allow_null=True))
    def get_status(self, obj: AdmissionRecord) -> dict[str, Any] | None:
        found = getattr(obj, "status", None)
        return {"id": found.pk, "student_number": found.student_number} if found else None


class YearRegistrationRefSerializer(serializers.Serializer[YearRegistration]):
    """A status's registration for one academic year (学年注册)."""

    academic_year = serializers.IntegerField(help_text="2027 is the academic year 2027–2028")
    year_label = serializers.CharField(source="label", help_text="`2027–2028`")
    state = serializers.ChoiceField(choices=YearRegistrationState.choices)
    reason = serializers.CharField(help_text="why it was deferred")
    registered_at = serializers.DateTimeField(allow_null=True)
    deferred_at = serializers.DateTimeField(allow_null=True)


class StudentStatusSerializer(serializers.ModelSerializer[StudentStatus]):
    name = serializers.CharField(source="student.name")
    id_number_masked = serializers.SerializerMethodField()
    school = serializers.CharField(source="school_id")
    school_name = serializers.CharField(source="school.name")
    admission_type = serializers.CharField(source="admission_type_id", allow_null=True)
    state_label = serializers.CharField(source="get_state_display")
    year_registrations = serializers.SerializerMethodField()

    class Meta:
        model = StudentStatus
        fields = [
            "id",
            "student_number",
            "candidate_number",
            "name",
            "id_number_masked",
            "school",
            "school_name",
            "level",
            "major_code",
            "major_name",
            "learning_form",
            "study_length",
            "admission_type",
            "entry_date",
            "expected_graduation",
            "state",
            "state_label",
            "year_registrations",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, obj: StudentStatus) -> str:
        return mask_id_number(obj.student.id_number)

    @extend_schema_field(YearRegistrationRefSerializer(many=True))
    def get_year_registrations(self, obj: StudentStatus) -> Any:
        """Its registration of each academic year, the newest first (prefetched)."""
        found = sorted(obj.year_registrations.all(), key=lambda r: -r.academic_year)
        return YearRegistrationRefSerializer(cast(Any, found), many=True).data


@extend_schema(
    tags=["admissions"],
    parameters=[
        *LIST_PARAMETERS,
        OpenApiParameter("state", str, enum=AdmissionState.values, description="a state"),
    ],
)
class AdmissionList(generics.ListAPIView[AdmissionRecord]):
    """The admissions the caller may see (a school's officers: their school's; a province's
    administrators: their province's; a student: their own), newest year first."""

    serializer_class = AdmissionSerializer

    def get_queryset(self) -> QuerySet[AdmissionRecord]:
        records = scope(
            self.request.user,
            codenames.VIEW,
            AdmissionRecord.objects.select_related("student", "school", "status"),
        )
        return _filtered(
            records,
            self.request.query_params,
            states=AdmissionState.values,
            year_field="admission_year",
        ).order_by("-admission_year", "school_id", "candidate_number", "pk")


@extend_schema(
    tags=["admissions"],
    parameters=[
        *LIST_PARAMETERS,
        OpenApiParameter("state", str, enum=StatusState.values, description="a state"),
        OpenApiParameter(
            "past_max_period",
            bool,
            description="only current statuses past their maximum study period (study length "
            "plus the school's extension): those for a withdrawal review",
        ),
    ],
)
class StudentStatusList(generics.ListAPIView[StudentStatus]):
    """The student statuses the caller may see, by school and student number, each with its
    academic-year registrations (学年注册)."""

    serializer_class = StudentStatusSerializer

    def get_queryset(self) -> QuerySet[StudentStatus]:
        statuses = scope(
            self.request.user,
            codenames.VIEW,
            StudentStatus.objects.select_related("student", "school").prefetch_related(
                "year_registrations"
            ),
        )
        if self.request.query_params.get("past_max_period") in ("true", "1"):
            statuses = past_max_study_period(statuses, timezone.localdate())
        return _filtered(
            statuses,
            self.request.query_params,
            states=StatusState.values,
            year_field="entry_date__year",
        ).order_by("school_id", "student_number", "pk")
