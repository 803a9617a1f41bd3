"""``/api/v1/graduations/``: qualification registration (学历注册) of a school's graduating
cohort: the cohorts in scope, preparing the drafts from the enrolled statuses (all at once,
or per student: 毕业, 结业 or not graduating, a certificate number, the photo comparison),
the graduates with their checks, the registration, and the identity re-check of a graduate
held by the photo gate. Every call goes through the flow's services
(``workflows.flows.graduation``), which check permissions; a cohort the caller may not see
answers 404. The province approves a re-check from the work list
(``/api/v1/tasks/{id}/decide/``)."""

from __future__ import annotations

from typing import Any
from typing import cast

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics
from rest_framework import serializers
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.api.base import account
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import EducationType
from records.choices import GraduateResult
from records.choices import GraduationCohortState
from records.choices import IdentityCheck
from records.choices import RecheckState
from records.graduation import services
from records.graduation.services import Graduate
from records.graduation.services import PrepareItem
from records.models import GraduationCohort
from records.models import School
from workflows.flows import graduation as flow

NOT_YOUR_SCHOOL = _("You do not act for school %(code)s.")
ONE_OF = _("Give either “all” or “graduates”.")
GRADUATE_FILTERS = ("held", "problems", "ready")


class GraduationCountsSerializer(serializers.Serializer[dict[str, int]]):
    registered = serializers.IntegerField()
    drafts = serializers.IntegerField(help_text="prepared, not yet registered")
    held = serializers.IntegerField(help_text="drafts held by the photo comparison")
    unprepared = serializers.IntegerField(
        help_text="enrolled statuses of the school due to graduate by the cohort's year with "
        "no qualification of their level"
    )


class CohortSerializer(serializers.Serializer[GraduationCohort]):
    """A school's graduates of one graduation date (the issue date of every certificate and
    the day the records become searchable), with the principal's name the certificates print
    and the counts."""

    id = serializers.IntegerField()
    school = serializers.CharField(source="school_id")
    school_name = serializers.CharField(source="school.name")
    graduation_date = serializers.DateField()
    principal_name = serializers.CharField()
    education_type = serializers.ChoiceField(choices=EducationType.choices)
    state = serializers.ChoiceField(choices=GraduationCohortState.choices)
    deadline = serializers.DateTimeField(help_text="the start of the day after the graduation date")
    registered_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.SerializerMethodField()

    @extend_schema_field(GraduationCountsSerializer)
    def get_counts(self, obj: GraduationCohort) -> dict[str, int]:
        return services.counts(obj)


class CohortOpenSerializer(serializers.Serializer[dict[str, Any]]):
    school = serializers.CharField(max_length=5, help_text="a school code")
    graduation_date = serializers.DateField(help_text="the issue date of every certificate")
    principal_name = serializers.CharField(max_length=40)
    education_type = serializers.ChoiceField(
        choices=EducationType.choices, required=False, default=EducationType.REGULAR
    )


def _visible(request: Request, pk: int) -> GraduationCohort:
    found = flow.visible_cohorts(account(request)).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@extend_schema(
    tags=["graduations"],
    parameters=[OpenApiParameter("school", str, description="a school code")],
)
class CohortList(generics.ListAPIView[GraduationCohort]):
    """The graduating cohorts in the caller's scope (a school's officers: their school's; a
    province's administrators: every school's of the province), the latest graduation date
    first. `POST` opens a cohort of the caller's school."""

    serializer_class = CohortSerializer

    def get_queryset(self) -> Any:
        cohorts = flow.visible_cohorts(account(self.request))
        if school := self.request.query_params.get("school"):
            cohorts = cohorts.filter(school_id=school)
        return cohorts

    @extend_schema(
        request=CohortOpenSerializer,
        responses={
            201: CohortSerializer,
            200: OpenApiResponse(CohortSerializer, description="the cohort was open already"),
        },
    )
    def post(self, request: Request) -> Response:
        data = CohortOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["school"]
        school = School.objects.filter(pk=code).first()
        user = account(request)
        if school is None or not flow.may_act(user, school):
            raise ValidationError({"school": [str(NOT_YOUR_SCHOOL % {"code": code})]})
        cohort, created = flow.cohort_open(
            school=school,
            graduation_date=data.validated_data["graduation_date"],
            principal_name=data.validated_data["principal_name"],
            education_type=data.validated_data["education_type"],
            user=user,
        )
        return Response(
            CohortSerializer(cohort).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["graduations"])
class CohortDetail(APIView):
    """One cohort, with its counts."""

    @extend_schema(responses={200: CohortSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CohortSerializer(_visible(request, pk)).data)


class PrepareGraduateSerializer(serializers.Serializer[dict[str, Any]]):
    status = object_id_field(help_text="a student status of the cohort's school")
    result = serializers.ChoiceField(choices=GraduateResult.choices)
    certificate_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=18,
        help_text="the school's own; blank: kept, or the next one of the year and level",
    )
    identity_check = serializers.ChoiceField(
        choices=[("", "not compared"), *IdentityCheck.choices],
        required=False,
        allow_null=True,
        default=None,
        help_text="the photo comparison's result; absent: unchanged",
    )
    minor_note = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=200, allow_blank=True
    )


class PrepareSerializer(serializers.Serializer[dict[str, Any]]):
    all = serializers.BooleanField(
        required=False,
        default=False,
        help_text="prepare a 毕业 draft for every enrolled status due to graduate by the "
        "cohort's year that has none",
    )
    graduates = serializers.ListField(
        child=PrepareGraduateSerializer(),
        required=False,
        allow_empty=False,
        max_length=services.PREPARE_MAX,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("all")) == bool(attrs.get("graduates")):
            raise ValidationError({"graduates": [str(ONE_OF)]})
        return attrs


class PrepareResultSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.IntegerField()
    ok = serializers.BooleanField()
    qualification = serializers.IntegerField(
        required=False, allow_null=True, help_text="the draft; null when discarded"
    )
    code = serializers.CharField(
        required=False,
        help_text="`not_found`, `repeated`, `not_enrolled`, `second_qualification`, "
        "`prepared_elsewhere`, `recheck_pending`, or a certificate number's rule "
        "(`format`, `school`, `year`, `level`, `unique`, `numbers_exhausted`)",
    )
    field = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class PreparedSerializer(serializers.Serializer[dict[str, Any]]):
    prepared = serializers.IntegerField(
        required=False, help_text="with `all`: drafts prepared by this call"
    )
    results = PrepareResultSerializer(many=True, required=False)


@extend_schema(
    tags=["graduations"],
    request=PrepareSerializer,
    responses={200: PreparedSerializer, **error_responses(400)},
)
class CohortPrepare(APIView):
    """Prepare the cohort's drafts: `{"all": true}` copies every enrolled status due to
    graduate (its person's name, gender, birth date, ID, photo; its major, level, study
    length, learning form, entry date) into a 毕业 draft with the next certificate number;
    `{"graduates": [...]}` records up to 1,000 students' decisions, each on its own:
    `graduated` (毕业) or `completed` (结业) with an optional certificate number, photo
    comparison and minor's note, or `none` (the draft is discarded)."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = PrepareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = account(request)
        if data.validated_data["all"]:
            return Response(
                {"prepared": services.prepare_all(cohort_pk=found.pk, acting_user=user)}
            )
        items = [
            PrepareItem(
                status=row["status"],
                result=row["result"],
                certificate_number=row["certificate_number"],
                identity_check=row["identity_check"],
                minor_note=row["minor_note"],
            )
            for row in data.validated_data["graduates"]
        ]
        results = services.prepare(cohort_pk=found.pk, items=items, acting_user=user)
        return Response({"results": [result.as_dict() for result in results]})


class ProblemSerializer(serializers.Serializer[dict[str, str]]):
    field = serializers.CharField()
    code = serializers.CharField(
        help_text="`no_status`, `status_school`, `status_person`, `status_level`, "
        "`status_state`, `identity_differs`, `programme_differs`, `issue_date`, "
        "`photo_missing`, or a certificate number's rule"
    )
    message = serializers.CharField()


class RecheckSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RecheckState.choices)
    finding = serializers.CharField()
    comment = serializers.CharField(help_text="the province's")
    created = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class GraduateSerializer(serializers.Serializer[Graduate]):
    """A draft of the cohort (never the ID number) with its checks: `held` by the photo
    gate, `problems` that refuse its registration."""

    qualification = serializers.IntegerField(source="values.pk")
    status = serializers.IntegerField(source="values.student_status_id", allow_null=True)
    student_number = serializers.CharField()
    name = serializers.CharField(source="values.name")
    major_name = serializers.CharField(source="values.major_name")
    level = serializers.CharField(source="values.level")
    graduation_result = serializers.CharField(source="values.graduation_result")
    certificate_number = serializers.CharField(source="values.certificate_number")
    minor_note = serializers.CharField(source="values.minor_note")
    identity_check = serializers.CharField(source="values.identity_check")
    held = serializers.BooleanField()
    problems = ProblemSerializer(many=True)
    recheck = RecheckSerializer(allow_null=True)


@extend_schema(
    tags=["graduations"],
    parameters=[
        OpenApiParameter(
            "filter",
            str,
            enum=list(GRADUATE_FILTERS),
            description="`held`: held by the photo gate; `problems`: refused by a check; "
            "`ready`: neither",
        )
    ],
)
class CohortGraduates(generics.GenericAPIView[Any]):
    """The cohort's drafts, by student number's order of preparation, with their checks."""

    serializer_class = GraduateSerializer

    def get(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        wanted = request.query_params.get("filter")
        if wanted is not None and wanted not in GRADUATE_FILTERS:
            raise ValidationError({"filter": [", ".join(GRADUATE_FILTERS)]})
        rows = services.draft_values(services.drafts(found).order_by("pk"))
        found_graduates = services.graduates(found, rows)
        if wanted == "held":
            found_graduates = [g for g in found_graduates if g.held]
        elif wanted == "problems":
            found_graduates = [g for g in found_graduates if g.problems]
        elif wanted == "ready":
            found_graduates = [g for g in found_graduates if not g.held and not g.problems]
        page = self.paginate_queryset(cast(Any, found_graduates)) or []
        return self.get_paginated_response(GraduateSerializer(cast(Any, page), many=True).data)


class GraduateErrorSerializer(serializers.Serializer[dict[str, Any]]):
    qualification = serializers.IntegerField()
    status = serializers.IntegerField(allow_null=True)
    student_number = serializers.CharField()
    name = serializers.CharField()
    problems = ProblemSerializer(many=True)


class RegisteredSerializer(CohortSerializer):
    """The cohort as registering left it, with what this call did."""

    registered = serializers.IntegerField(help_text="qualifications registered by this call")
    held = serializers.IntegerField(help_text="drafts the photo gate holds")
    refused = GraduateErrorSerializer(many=True, help_text="drafts refused by a check")


@extend_schema(
    tags=["graduations"],
    request=None,
    responses={200: RegisteredSerializer, **error_responses(409)},
)
class CohortRegister(APIView):
    """Register every draft of the cohort that passes its checks and is not held by the
    photo gate: the qualifications become `registered` (public from the graduation date),
    the statuses `graduated` (毕业) or `completed` (结业), and each graduate with an account
    is emailed. Completes the cohort's task in the work list. Registering again registers
    graduates released or corrected since."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        result = flow.cohort_register(cohort=found, user=account(request))
        fresh = GraduationCohort.objects.select_related("school").get(pk=pk)
        return Response(
            {
                **CohortSerializer(fresh).data,
                "registered": result.registered,
                "held": result.held,
                "refused": [error.as_dict() for error in result.errors],
            }
        )


class RecheckFileSerializer(serializers.Serializer[dict[str, Any]]):
    qualification = object_id_field(help_text="a held draft of the cohort")
    finding = serializers.CharField(
        max_length=4000, help_text="what the school checked (documents, an interview) and found"
    )


@extend_schema(
    tags=["graduations"],
    request=RecheckFileSerializer,
    responses={201: RecheckSerializer, **error_responses(409)},
)
class CohortRecheck(APIView):
    """File the school's identity re-check (毕业生身份复核) of a graduate held by the photo
    comparison with the province: a task of the province's administrators, whose approval
    releases the graduate. 409 `not_held`, `recheck_pending`, `not_draft`."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = RecheckFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        qualification = data.validated_data["qualification"]
        if not services.drafts(found).filter(pk=qualification).exists():
            raise Http404
        recheck = flow.recheck_file(
            qualification_pk=qualification,
            finding=data.validated_data["finding"],
            user=account(request),
        )
        return Response(RecheckSerializer(recheck).data, status=status.HTTP_201_CREATED)
