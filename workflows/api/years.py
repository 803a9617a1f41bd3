"""``/api/v1/year-registrations/``: a school's academic-year registration (学年注册) rounds, the
registration of everyone enrolled, deferrals (暂缓注册) and later registrations in bulk, and
each round's students with their registration state. Every call goes through the flow's
services (``workflows.flows.year_registration``), which check permissions; a round the caller
may not see answers 404, a student of another school is not found (one by one in
``outcomes``)."""

from __future__ import annotations

from typing import Any
from typing import cast

from django.http import Http404
from django.utils import timezone
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

from records.admissions.search import search
from records.api.base import account
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import UNREGISTERED
from records.choices import YearOutcome
from records.choices import YearRegistrationState
from records.choices import YearRoundState
from records.models import School
from records.models import StudentStatus
from records.models import YearRegistrationRound
from records.years import services
from records.years.services import OutcomeItem
from workflows.flows import year_registration as flow

BAD_YEAR = _("Give a year as four digits.")
NOT_YOUR_SCHOOL = _("You do not act for school %(code)s.")
BAD_STATE = _("Choose one of: %(choices)s.")
STUDENT_STATES = [UNREGISTERED, *YearRegistrationState.values]
EARLIEST_YEAR = 2000


def _year(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) == 4):  # noqa: PLR2004
        raise ValidationError({field: [str(BAD_YEAR)]})
    return int(value)


class YearCountsSerializer(serializers.Serializer[dict[str, int]]):
    registered = serializers.IntegerField()
    deferred = serializers.IntegerField(help_text="暂缓注册, each with a reason")
    unregistered = serializers.IntegerField(
        help_text="enrolled, entered before the academic year, neither registered nor deferred"
    )


class RoundSerializer(serializers.Serializer[YearRegistrationRound]):
    """A school's registration of one academic year: its window (the school's settings when
    it opened), its state (`open`, then `completed` once everyone enrolled is registered or
    deferred) and its counts."""

    id = serializers.IntegerField()
    school = serializers.CharField(source="school_id")
    school_name = serializers.CharField(source="school.name")
    academic_year = serializers.IntegerField(help_text="2027 is the academic year 2027–2028")
    year_label = serializers.CharField(source="label", help_text="`2027–2028`")
    state = serializers.ChoiceField(choices=YearRoundState.choices)
    starts = serializers.DateField(
        help_text="the academic year's first day: students who entered before it are registered"
    )
    opens = serializers.DateField()
    closes = serializers.DateField(help_text="the window's last day")
    deadline = serializers.DateTimeField(help_text="the start of the day after `closes`")
    overdue = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(
        serializers.BooleanField(help_text="past the deadline with students unregistered")
    )
    def get_overdue(self, obj: YearRegistrationRound) -> bool:
        return bool(self.context["unregistered"][obj.pk]) and obj.deadline <= timezone.now()

    @extend_schema_field(YearCountsSerializer)
    def get_counts(self, obj: YearRegistrationRound) -> dict[str, int]:
        return {
            "registered": obj.registered_count,
            "deferred": obj.deferred_count,
            "unregistered": int(self.context["unregistered"][obj.pk]),
        }


def _body(rounds: Any) -> Any:
    """A page of rounds with their counts: one more query for the page."""
    return RoundSerializer(
        rounds, many=True, context={"unregistered": services.unregistered_counts(list(rounds))}
    ).data


class RoundOpenSerializer(serializers.Serializer[dict[str, Any]]):
    school = serializers.CharField(max_length=5, help_text="a school code")
    academic_year = serializers.IntegerField(
        min_value=EARLIEST_YEAR, max_value=2999, help_text="2027 for 2027–2028"
    )


def _visible(request: Request, pk: int) -> YearRegistrationRound:
    found = flow.visible_rounds(account(request)).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@extend_schema(
    tags=["year registrations"],
    parameters=[
        OpenApiParameter("school", str, description="a school code"),
        OpenApiParameter("year", int, description="an academic year (2027 for 2027–2028)"),
    ],
)
class RoundList(generics.ListAPIView[YearRegistrationRound]):
    """The registration rounds in the caller's scope (a school's officers: their school's; a
    province's administrators: every school's of the province), the newest academic year
    first, each with its window and counts. `POST` opens a round of the caller's school
    (rounds open by themselves on the day the school's window opens)."""

    serializer_class = RoundSerializer

    def get_queryset(self) -> Any:
        rounds = flow.visible_rounds(account(self.request))
        if school := self.request.query_params.get("school"):
            rounds = rounds.filter(school_id=school)
        year = _year(self.request.query_params.get("year"), "year")
        if year is not None:
            rounds = rounds.filter(academic_year=year)
        return rounds

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(_body(page))

    @extend_schema(
        request=RoundOpenSerializer,
        responses={
            201: RoundSerializer,
            200: OpenApiResponse(RoundSerializer, description="the round was open already"),
        },
    )
    def post(self, request: Request) -> Response:
        data = RoundOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = account(request)
        code = data.validated_data["school"]
        school = School.objects.filter(pk=code).first()
        if school is None or not flow.may_open(user, school):
            raise ValidationError({"school": [str(NOT_YOUR_SCHOOL % {"code": code})]})
        year = data.validated_data["academic_year"]
        existed = YearRegistrationRound.objects.filter(school=school, academic_year=year).exists()
        opened = flow.round_open_for(school=school, academic_year=year, user=user)
        return Response(
            _body([opened])[0], status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


@extend_schema(tags=["year registrations"])
class RoundDetail(APIView):
    """One round, with its window and counts."""

    @extend_schema(responses={200: RoundSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(_body([_visible(request, pk)])[0])


class RoundRegisteredSerializer(RoundSerializer):
    """The round as registering left it, with what this call did."""

    registered = serializers.IntegerField(help_text="students registered by this call")


@extend_schema(
    tags=["year registrations"],
    request=None,
    responses={200: RoundRegisteredSerializer, **error_responses(409)},
)
class RoundRegister(APIView):
    """Register everyone of the round neither registered nor deferred: every status of the
    school that is `enrolled` and entered before the academic year (the first year is the
    freshman registration's). Completes the round (its task in the work list). Registering
    again registers students enrolled since (a resumption); registered and deferred students
    are left as they are."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        registered = flow.register_all(year_round=found, user=account(request))
        fresh = YearRegistrationRound.objects.select_related("school").get(pk=pk)
        return Response({**_body([fresh])[0], "registered": registered})


class YearOutcomeSerializer(serializers.Serializer[dict[str, Any]]):
    status = object_id_field(help_text="a student status of the round's school")
    outcome = serializers.ChoiceField(choices=YearOutcome.choices)
    reason = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text="required to defer; the student reads it",
    )


class YearOutcomesSerializer(serializers.Serializer[dict[str, Any]]):
    outcomes = serializers.ListField(
        child=YearOutcomeSerializer(), allow_empty=False, max_length=services.OUTCOMES_MAX
    )


class YearOutcomeResultSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.IntegerField()
    ok = serializers.BooleanField()
    state = serializers.CharField(required=False, help_text="the registration's state now")
    changed = serializers.BooleanField(
        required=False, help_text="false: the student was registered already"
    )
    code = serializers.CharField(
        required=False,
        help_text="`not_found`, `repeated`, `invalid`, `not_enrolled`, `not_eligible`, "
        "`already_registered`, `already_deferred`",
    )
    detail = serializers.CharField(required=False)


class YearOutcomeResultsSerializer(serializers.Serializer[dict[str, Any]]):
    results = YearOutcomeResultSerializer(many=True)


class RoundOutcomes(APIView):
    """Record outcomes for up to 500 students of the round, each on its own: `deferred`
    (暂缓注册) with a `reason`, for a student not registered yet; `registered`, for a
    deferred student who now meets the conditions (or any one student; registering a
    registered student changes nothing). One refusal never undoes the others."""

    @extend_schema(
        tags=["year registrations"],
        operation_id="v1_year_registrations_outcomes",
        request=YearOutcomesSerializer,
        responses={
            200: YearOutcomeResultsSerializer,
            400: OpenApiResponse(description="no outcomes, more than 500, or a malformed one"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        found = _visible(request, pk)
        data = YearOutcomesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = [
            OutcomeItem(status=row["status"], outcome=row["outcome"], reason=row["reason"])
            for row in data.validated_data["outcomes"]
        ]
        results = services.outcomes_record(
            round_pk=found.pk, items=items, acting_user=account(request)
        )
        return Response({"results": [result.as_dict() for result in results]})


class RoundStudentSerializer(serializers.Serializer[StudentStatus]):
    """A student of the round (never an ID number) and their registration for its year."""

    status = serializers.IntegerField(source="pk")
    student_number = serializers.CharField()
    name = serializers.CharField(source="student.name")
    major_name = serializers.CharField()
    level = serializers.CharField()
    entry_date = serializers.DateField()
    status_state = serializers.CharField(source="state")
    registration = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    registered_at = serializers.SerializerMethodField()
    deferred_at = serializers.SerializerMethodField()

    def _found(self, obj: StudentStatus) -> Any:
        return self.context["registrations"].get(obj.pk)

    @extend_schema_field(serializers.ChoiceField(choices=STUDENT_STATES))
    def get_registration(self, obj: StudentStatus) -> str:
        found = self._found(obj)
        return str(found.state) if found else UNREGISTERED

    @extend_schema_field(serializers.CharField(help_text="why it was deferred"))
    def get_reason(self, obj: StudentStatus) -> str:
        found = self._found(obj)
        return str(found.reason) if found else ""

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_registered_at(self, obj: StudentStatus) -> Any:
        found = self._found(obj)
        return found.registered_at if found else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_deferred_at(self, obj: StudentStatus) -> Any:
        found = self._found(obj)
        return found.deferred_at if found else None


@extend_schema(
    tags=["year registrations"],
    parameters=[
        OpenApiParameter(
            "state",
            str,
            enum=STUDENT_STATES,
            description="`unregistered`: enrolled and neither registered nor deferred (past "
            "the deadline, those the officers must still see to)",
        ),
        OpenApiParameter(
            "q", str, description="the start of a name or a student number, an ID number in full"
        ),
    ],
)
class RoundStudents(generics.ListAPIView[StudentStatus]):
    """The round's students (its school's statuses that entered before the academic year and
    are enrolled, or were registered or deferred for it) with their registration, by student
    number."""

    serializer_class = RoundStudentSerializer

    def get_queryset(self) -> Any:
        found = _visible(self.request, self.kwargs["pk"])
        state = self.request.query_params.get("state")
        if state is not None and state not in STUDENT_STATES:
            raise ValidationError(
                {"state": [str(BAD_STATE % {"choices": ", ".join(STUDENT_STATES)})]}
            )
        statuses = services.round_students(found, state or "").select_related("student")
        if q := (self.request.query_params.get("q") or "").strip():
            statuses = statuses.filter(search(q, StudentStatus))
        self.round = found
        return statuses.order_by("student_number", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        context = {"registrations": services.registrations_of(self.round, page)}
        return self.get_paginated_response(
            RoundStudentSerializer(cast(Any, page), many=True, context=context).data
        )
