"""``/api/v1/admissions/outcomes/`` and ``/api/v1/admission-reviews/``: the school's outcomes
for its admissions, in bulk, and its cohorts' re-examination and registration. Every call goes
through the admission flow's services (``workflows.flows.admission``), which check
permissions; a cohort or an admission the caller may not see answers 404 (one by one in
``outcomes``)."""

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
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions.checks import scope
from records.admissions import appeals
from records.admissions import services
from records.admissions.services import OutcomeItem
from records.api.schema import error_responses
from records.api.serializers import object_id_field
from records.choices import AdmissionOutcome
from records.choices import AdmissionState
from records.choices import DeliveryMethod
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.validators import mask_id_numbers_in
from workflows import work
from workflows.api.status_changes import AppealSerializer
from workflows.api.status_changes import DeliverySerializer
from workflows.api.status_changes import OpenTaskSerializer
from workflows.flows import admission as flow

BAD_YEAR = _("Give a year as four digits.")


class OutcomeSerializer(serializers.Serializer[dict[str, Any]]):
    admission = object_id_field()
    outcome = serializers.ChoiceField(
        choices=AdmissionOutcome.values,
        help_text=(
            "`gave_up`; `retained` (with `reason` and `until`); `cancelled` (with `reason`, "
            "`legality_review` and the hearing: asks a second officer to confirm, an adverse "
            "decision with an appeal period); `registered`: a retained admission's return, "
            "registered with a later cohort (`year`)"
        ),
    )
    reason = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text="required to retain or cancel",
    )
    until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="to retain: a later day"
    )
    legality_review = serializers.BooleanField(
        required=False,
        default=False,
        help_text="to cancel: the school's legality review was done (第56条)",
    )
    hearing_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="to cancel: the day the student's statement and defence were heard (第55条)",
    )
    hearing_by = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=200,
        help_text="to cancel: who heard the student",
    )
    hearing_summary = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=2000,
        help_text="to cancel: what the student stated",
    )
    year = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1900,
        max_value=9999,
        help_text=(
            "to register a retained admission: the year of the cohort the student joins, "
            "after the admission's and at most next year (default: this year, or next year "
            "when this is the admission's own)"
        ),
    )


class OutcomesSerializer(serializers.Serializer[dict[str, Any]]):
    outcomes = serializers.ListField(
        child=OutcomeSerializer(), allow_empty=False, max_length=services.OUTCOMES_MAX
    )


class OutcomeResultSerializer(serializers.Serializer[dict[str, Any]]):
    admission = serializers.IntegerField()
    ok = serializers.BooleanField()
    state = serializers.CharField(required=False, help_text="the admission's state now")
    cancellation = serializers.IntegerField(
        required=False, help_text="a cancellation's request, waiting for a second officer"
    )
    student_number = serializers.CharField(
        required=False, help_text="a registered retained admission's new student number"
    )
    code = serializers.CharField(
        required=False,
        help_text=(
            "`not_found`, `permission_denied`, `invalid`, `not_allowed`, "
            "`cancellation_pending`, `no_other_reviewer`, `repeated`, `busy`; registering "
            "a retained admission also `status_elsewhere`, `numbers_exhausted`"
        ),
    )
    detail = serializers.CharField(required=False)


class OutcomeResultsSerializer(serializers.Serializer[dict[str, Any]]):
    results = OutcomeResultSerializer(many=True)


class AdmissionOutcomes(APIView):
    """Record outcomes for up to 500 admissions, each on its own: `gave_up`; `retained` with
    a `reason` and an `until` date; `cancelled` with a `reason`, which asks for a
    cancellation: the admission stays `admitted` until a second officer of the school
    confirms it (a task of step `confirm_cancellation`); `registered` for a `retained`
    admission whose student returns: registered with a later cohort (`year`), its student
    status created as a cohort's registration creates it (student number of that cohort's
    year, its entry date; the student's email), or refused as there (`status_elsewhere`,
    `numbers_exhausted`); an `admitted` one is registered with its cohort
    (`/admission-reviews/{id}/register/`). One refusal never undoes the others."""

    @extend_schema(
        tags=["admissions"],
        operation_id="v1_admissions_outcomes",
        request=OutcomesSerializer,
        responses={
            200: OutcomeResultsSerializer,
            400: OpenApiResponse(description="no outcomes, more than 500, or a malformed one"),
        },
    )
    def post(self, request: Request) -> Response:
        data = OutcomesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = [
            OutcomeItem(
                admission=row["admission"],
                outcome=row["outcome"],
                reason=row["reason"],
                until=row["until"],
                year=row["year"],
                legality_review=row["legality_review"],
                hearing_date=row["hearing_date"],
                hearing_by=row["hearing_by"],
                hearing_summary=row["hearing_summary"],
            )
            for row in data.validated_data["outcomes"]
        ]
        results = flow.outcomes_record(items=items, user=request.user)  # type: ignore[arg-type]
        return Response({"results": [result.as_dict() for result in results]})


COUNTS_HELP = "admissions per state: " + ", ".join(f"`{s}`" for s in AdmissionState.values)


class ReviewSerializer(serializers.Serializer[AdmissionCohort]):
    """A cohort's re-examination: its state (`reviewing`, then `registered`; `reviewing`
    again when admissions are imported after its registration), its deadline (three months
    after the entry date) and its admissions per state."""

    id = serializers.IntegerField()
    school = serializers.CharField(source="school_id")
    school_name = serializers.CharField(source="school.name")
    year = serializers.IntegerField()
    state = serializers.CharField()
    entry_date = serializers.DateField()
    deadline = serializers.DateTimeField()
    counts = serializers.SerializerMethodField()
    pending_cancellations = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.DictField(child=serializers.IntegerField(), help_text=COUNTS_HELP)
    )
    def get_counts(self, obj: AdmissionCohort) -> dict[str, int]:
        counts: dict[str, int] = self.context["counts"][obj.pk]
        return counts

    @extend_schema_field(
        serializers.IntegerField(help_text="cancellations waiting for a second officer")
    )
    def get_pending_cancellations(self, obj: AdmissionCohort) -> int:
        return int(self.context["pending"][obj.pk])


def _context(cohorts: Any) -> dict[str, Any]:
    """The counts of a page of cohorts: two queries for the page."""
    return {"counts": services.state_counts(cohorts), "pending": services.pending_counts(cohorts)}


@extend_schema(
    tags=["admissions"],
    parameters=[
        OpenApiParameter("school", str, description="a school code"),
        OpenApiParameter("year", int, description="an entry year"),
    ],
)
class ReviewList(generics.ListAPIView[AdmissionCohort]):
    """The cohorts in the caller's scope (a school's freshmen of one year), the newest year
    first, each with its re-examination's state, deadline and counts."""

    serializer_class = ReviewSerializer

    def get_queryset(self) -> Any:
        cohorts = flow.visible_reviews(self.request.user)  # type: ignore[arg-type]
        school = self.request.query_params.get("school")
        if school:
            cohorts = cohorts.filter(school_id=school)
        year = self.request.query_params.get("year")
        if year is not None:
            if not (year.isascii() and year.isdigit() and len(year) == 4):  # noqa: PLR2004
                raise ValidationError({"year": [str(BAD_YEAR)]})
            cohorts = cohorts.filter(year=int(year))
        return cohorts

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(
            ReviewSerializer(cast(Any, page), many=True, context=_context(page)).data
        )


class RegistrationErrorSerializer(serializers.Serializer[dict[str, Any]]):
    admission = serializers.IntegerField()
    code = serializers.CharField(help_text="`status_elsewhere`, `numbers_exhausted`")
    detail = serializers.CharField()


class RegistrationSerializer(ReviewSerializer):
    """The cohort as registering left it, with what this call did."""

    registered = serializers.IntegerField(help_text="admissions registered by this call")
    waiting = serializers.IntegerField(
        help_text="admissions left admitted for a cancellation awaiting confirmation"
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # Declared here: a field named ``errors`` would hide the serializer's own attribute.
        fields["errors"] = RegistrationErrorSerializer(many=True)
        return fields


@extend_schema(
    tags=["admissions"],
    request=None,
    responses={200: RegistrationSerializer, **error_responses(409)},
)
class ReviewRegister(APIView):
    """Register the cohort: every `admitted` admission with no pending cancellation becomes
    `registered` with its student status and number; a person who already holds a current
    full-time status elsewhere stays `admitted` with an error naming that school. Ends the
    re-examination (its task in the work list). Admissions imported after the registration
    put the cohort back to `reviewing` with a new task (its officers are emailed); registering
    again registers them and ends it again."""

    def post(self, request: Request, pk: int) -> Response:
        cohort = flow.visible_reviews(request.user).filter(pk=pk).first()  # type: ignore[arg-type]
        if cohort is None:
            raise Http404
        result = flow.cohort_register(cohort=cohort, user=request.user)  # type: ignore[arg-type]
        cohort = AdmissionCohort.objects.select_related("school").get(pk=pk)
        body = ReviewSerializer(cohort, context=_context([cohort])).data
        return Response(
            {
                **body,
                "registered": result.registered,
                "waiting": result.waiting,
                "errors": [error.as_dict() for error in result.errors],
            }
        )


# --- a cancellation (取消入学资格) as an adverse decision -------------------------------------


class CancellationSerializer(serializers.ModelSerializer[AdmissionCancellation]):
    """A cancellation: its request (reason, legality review, hearing), its state, and as an
    adverse decision its written decision, delivery and appeal period."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    student_name = serializers.CharField(source="admission.student.name", read_only=True)
    candidate_number = serializers.CharField(source="admission.candidate_number", read_only=True)
    school = serializers.CharField(source="school_id", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True)
    reason = serializers.SerializerMethodField()
    # Blank until the decision's delivery is recorded (a read-only model field would not say so).
    delivery_method = serializers.ChoiceField(
        choices=DeliveryMethod.choices, allow_blank=True, read_only=True
    )
    has_delivery_evidence = serializers.SerializerMethodField()
    open_task = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionCancellation
        fields = [
            "id",
            "admission",
            "student_name",
            "candidate_number",
            "school",
            "province",
            "state",
            "state_label",
            "reason",
            "legality_reviewed",
            "hearing_date",
            "hearing_by",
            "hearing_summary",
            "created",
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
            "open_task",
        ]
        read_only_fields = fields

    def get_reason(self, obj: AdmissionCancellation) -> str:
        return mask_id_numbers_in(obj.reason)

    def get_has_delivery_evidence(self, obj: AdmissionCancellation) -> bool:
        return bool(obj.delivery_evidence)

    @extend_schema_field(OpenTaskSerializer(allow_null=True))
    def get_open_task(self, obj: AdmissionCancellation) -> dict[str, Any] | None:
        item = work.open_item_of(flow.FLOW_KEY, obj.pk)
        found = item is not None and item.step != flow.REVIEW.key
        return {"id": item.pk, "step": item.step} if found and item is not None else None


def _visible_cancellation(request: Request, pk: int) -> AdmissionCancellation:
    found: AdmissionCancellation | None = (
        scope(
            request.user,
            codenames.VIEW,
            AdmissionCancellation.objects.select_related("admission__student"),
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _cancellation(found: AdmissionCancellation) -> Response:
    fresh = AdmissionCancellation.objects.select_related("admission__student").get(pk=found.pk)
    return Response(CancellationSerializer(fresh).data)


@extend_schema(tags=["admissions"], responses={200: CancellationSerializer})
class CancellationDetail(APIView):
    """A cancellation, to its school's officers, its province's administrators and its
    student (who appeals it)."""

    def get(self, request: Request, pk: int) -> Response:
        return _cancellation(_visible_cancellation(request, pk))


@extend_schema(
    tags=["admissions"],
    request={"multipart/form-data": DeliverySerializer, "application/json": DeliverySerializer},
    responses={200: CancellationSerializer, **error_responses(403, 409)},
)
class CancellationDelivery(APIView):
    """An officer of the school records the delivery (送达) of a confirmed cancellation's
    written decision: the student's appeal window (10 days) counts from it."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_cancellation(request, pk)
        data = DeliverySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeals.cancellation_deliver(
            cancellation=found,
            delivered_on=data.validated_data.get("delivered_on"),
            method=data.validated_data["method"],
            evidence=data.validated_data.get("evidence"),
            acting_user=request.user,  # type: ignore[arg-type]
        )
        return _cancellation(found)


@extend_schema(
    tags=["admissions"],
    request=AppealSerializer,
    responses={200: CancellationSerializer, **error_responses(403, 409)},
)
class CancellationAppeal(APIView):
    """The student appeals a confirmed cancellation in its window: to the school's appeal
    committee, then to the province. The admission is not cancelled meanwhile."""

    def post(self, request: Request, pk: int) -> Response:
        found = _visible_cancellation(request, pk)
        data = AppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flow.cancellation_appeal(
            cancellation=found,
            reason=data.validated_data["reason"],
            user=request.user,  # type: ignore[arg-type]
        )
        return _cancellation(found)
