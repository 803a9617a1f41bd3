"""Verification reports: the student's own (``/api/v1/verification-reports/``) and the public
look-ups without login (``/api/v1/verify/…``). See docs/architecture.md, "Verification
reports"."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework import generics
from rest_framework import serializers
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.api.base import account
from records.api.errors import api_error
from records.api.schema import error_responses
from records.api.serializers import ErrorSerializer
from records.errors import NotVisibleError
from records.logins import client_ip
from records.models import ReportAccess
from records.models import VerificationReport
from records.verification import signing
from records.verification.content import qualification_content
from records.verification.content import report_content
from records.verification.reports import ReportGoneError
from records.verification.reports import certificate_check
from records.verification.reports import own_reports
from records.verification.reports import report_access
from records.verification.reports import report_create
from records.verification.reports import report_extend
from records.verification.reports import report_revoke
from records.verification.throttle import FailedLookups
from records.verification.throttle import LookupThrottledError

TAGS = ["verification"]


def public_url(request: Any, report: VerificationReport) -> str:
    return str(request.build_absolute_uri(reverse("verify-page", args=[report.code])))


def qr_url(request: Any, report: VerificationReport) -> str:
    return str(request.build_absolute_uri(reverse("verify-qr", args=[report.code])))


# --- The student's reports ----------------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer[VerificationReport]):
    kind = serializers.SerializerMethodField(help_text="`qualification` or `status`.")
    valid = serializers.SerializerMethodField(help_text="Neither expired nor revoked.")
    url = serializers.SerializerMethodField(help_text="The public page of the report.")
    qr = serializers.SerializerMethodField(
        help_text="A QR code (SVG) of the public page's URL, to print or show."
    )

    class Meta:
        model = VerificationReport
        fields = [
            "id",
            "code",
            "kind",
            "qualification",
            "status",
            "months",
            "expires",
            "revoked_at",
            "created",
            "valid",
            "url",
            "qr",
        ]
        read_only_fields = fields

    def get_kind(self, obj: VerificationReport) -> str:
        return "qualification" if obj.qualification_id else "status"

    def get_valid(self, obj: VerificationReport) -> bool:
        return obj.is_valid

    def get_url(self, obj: VerificationReport) -> str:
        return public_url(self.context["request"], obj)

    def get_qr(self, obj: VerificationReport) -> str:
        return qr_url(self.context["request"], obj)


class AccessSerializer(serializers.ModelSerializer[ReportAccess]):
    class Meta:
        model = ReportAccess
        fields = ["at", "address", "outcome"]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    accesses = AccessSerializer(
        many=True, read_only=True, help_text="Every access by the code, newest first."
    )

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "accesses"]
        read_only_fields = fields


class ReportCreateSerializer(serializers.Serializer[Any]):
    """Documents the body; the service checks it (each error names its field and rule)."""

    qualification = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of your registered qualifications' id."
    )
    status = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of your student statuses' id."
    )
    months = serializers.IntegerField(min_value=1, max_value=6, help_text="Validity, 1 to 6.")


class MonthsSerializer(serializers.Serializer[Any]):
    months = serializers.IntegerField(
        min_value=1, max_value=6, help_text="Valid this many months from now, 1 to 6."
    )


def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if not hasattr(data, "get"):
        raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    return dict(data.items())


@extend_schema(tags=TAGS)
class ReportListCreate(generics.ListAPIView[VerificationReport]):
    """Your verification reports, newest first; only a student has any."""

    serializer_class = ReportSerializer

    def get_queryset(self) -> QuerySet[VerificationReport]:
        return own_reports(self.request.user).order_by("-created", "-pk")

    @extend_schema(
        request=ReportCreateSerializer,
        responses={201: ReportSerializer, **error_responses(400)},
        description="A report of one of your registered, issued qualifications "
        "(`qualification`) or of one of your student statuses (`status`), exactly one, valid "
        "`months` (1 to 6) from now, with a new 16-character code. 400 names the field and "
        "the rule: months outside 1-6, a qualification that is not yours, a draft, an issue "
        "date still in the future.",
    )
    def post(self, request: Request) -> Response:
        body = _body(request)
        report = report_create(
            user=account(request),
            qualification=body.get("qualification"),
            status=body.get("status"),
            months=body.get("months"),
        )
        data = ReportSerializer(report, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class ReportDetail(generics.RetrieveAPIView[VerificationReport]):
    """One of your reports with every access by its code (when, from which address, what it
    answered). Another student's report is 404."""

    serializer_class = ReportDetailSerializer

    def get_queryset(self) -> QuerySet[VerificationReport]:
        return own_reports(self.request.user).prefetch_related("accesses")

    def get_object(self) -> VerificationReport:
        report = super().get_object()
        report.accesses_newest = sorted(  # type: ignore[attr-defined]
            report.accesses.all(), key=lambda access: (access.at, access.pk), reverse=True
        )
        return report

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        data = ReportDetailSerializer(report, context={"request": request}).data
        data["accesses"] = AccessSerializer(report.accesses_newest, many=True).data  # type: ignore[attr-defined]
        return Response(data)


@extend_schema(
    tags=TAGS,
    request=MonthsSerializer,
    responses={
        200: ReportSerializer,
        409: OpenApiResponse(
            description="The report expired (`report_expired`) or was revoked "
            "(`report_revoked`): create a new one."
        ),
        **error_responses(400),
    },
)
class ReportExtend(APIView):
    """Valid `months` (1 to 6) from now (not from the current expiry: never more than six
    months ahead); only while the report is still valid."""

    def post(self, request: Request, pk: int) -> Response:
        report = report_extend(user=account(request), pk=pk, months=_body(request).get("months"))
        return Response(ReportSerializer(report, context={"request": request}).data)


@extend_schema(
    tags=TAGS,
    request=None,
    responses={
        200: ReportSerializer,
        409: OpenApiResponse(description="Already revoked (`report_revoked`)."),
    },
)
class ReportRevoke(APIView):
    """Revoke the report for good: its code answers 410 from now on."""

    def post(self, request: Request, pk: int) -> Response:
        report = report_revoke(user=account(request), pk=pk)
        return Response(ReportSerializer(report, context={"request": request}).data)


# --- Public look-ups ----------------------------------------------------------------------------


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _("This verification report is no longer valid.")
    default_code = "report_expired"


class LookupsThrottled(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _(
        "Too many look-ups that found nothing came from your network. Try again in a minute."
    )
    default_code = "throttled"

    def __init__(self, refused: LookupThrottledError) -> None:
        super().__init__()
        self.wait = refused.retry_after


class PublicQualificationSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField()
    school_code = serializers.CharField()
    school_name = serializers.CharField()
    education_type = serializers.CharField()
    level = serializers.CharField()
    major_code = serializers.CharField()
    major_name = serializers.CharField()
    study_length = serializers.CharField()
    learning_form = serializers.CharField()
    start_date = serializers.DateField()
    graduation_date = serializers.DateField(help_text="Also the issue date.")
    graduation_result = serializers.CharField()
    principal_name = serializers.CharField()
    certificate_number = serializers.CharField()
    minor_note = serializers.CharField(allow_blank=True)
    status = serializers.CharField(help_text="`registered` or `revoked`.")
    revoked = serializers.BooleanField(help_text="注销/无效: the qualification was revoked.")
    revoked_on = serializers.DateField(allow_null=True)
    lost = serializers.BooleanField(help_text="遗失作废: the certificate was reported lost.")
    updated = serializers.DateField(help_text="The day the record last changed.")


class PublicStatusSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField()
    ethnicity = serializers.CharField(allow_blank=True)
    school_code = serializers.CharField()
    school_name = serializers.CharField()
    level = serializers.CharField()
    major_code = serializers.CharField()
    major_name = serializers.CharField()
    student_number = serializers.CharField()
    study_length = serializers.CharField()
    learning_form = serializers.CharField()
    entry_date = serializers.DateField()
    expected_graduation = serializers.DateField()
    state = serializers.CharField()
    updated = serializers.DateField()


class PublicReportSerializer(serializers.Serializer[Any]):
    format = serializers.CharField()
    code = serializers.CharField()
    kind = serializers.CharField(help_text="`qualification` or `status`.")
    expires = serializers.DateTimeField()
    checked_at = serializers.DateTimeField(help_text="When this answer was made (live data).")
    qualification = PublicQualificationSerializer(required=False)
    status = PublicStatusSerializer(required=False)


class SignedReportSerializer(serializers.Serializer[Any]):
    algorithm = serializers.CharField(help_text="`Ed25519`.")
    key_id = serializers.CharField(help_text="SHA-256 of the raw public key, first 16 hex.")
    report = PublicReportSerializer()
    signature = serializers.CharField(help_text="Base64 of the signature over `report`.")


_PUBLIC_ERRORS = {
    410: OpenApiResponse(
        ErrorSerializer,
        description="The report expired (`report_expired`) or its student revoked it "
        "(`report_revoked`).",
    ),
    **error_responses(404, 429),
}


class PublicView(APIView):
    """No login, no session: anyone with the code."""

    throttle_classes: list[Any] = []  # the look-ups count failures, not requests

    def get_authenticators(self) -> list[BaseAuthentication]:
        return []

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()]


def public_report(request: Any, code: str, *, signed: bool = False) -> VerificationReport:
    """The report of ``code`` for a public look-up: 429, 404 (counted) or 410."""
    address = client_ip(request)
    attempts = FailedLookups(address)
    try:
        attempts.check()
    except LookupThrottledError as refused:
        raise LookupsThrottled(refused) from None
    try:
        return report_access(code, address, signed=signed)
    except NotVisibleError:
        attempts.failed()
        raise exceptions.NotFound from None
    except ReportGoneError as gone:
        raise Gone(gone.message, code=gone.code) from None


@extend_schema(
    tags=TAGS,
    auth=[],
    responses={200: PublicReportSerializer, **_PUBLIC_ERRORS},
)
class PublicReport(PublicView):
    """The live record the report shows (after every approved correction, with its revoked
    or lost marks), never the ID number. Every access is logged for the student. After 20
    look-ups that find nothing within a minute from one address, 429."""

    # The schema's description of ``public_report_json``, which serves the URL: this class
    # answers the same if routed, through it.
    def get(self, request: Request, code: str) -> HttpResponse:
        return public_report_json(request._request, code)


_ALLOWED = ("GET", "HEAD", "OPTIONS")


@csrf_exempt  # as DRF's views: another method is 405, not a CSRF refusal
def public_report_json(request: HttpRequest, code: str) -> HttpResponse:
    """``GET /api/v1/verify/{code}/``, a plain Django view: the most-called public URL does
    without DRF's request wrapping, content negotiation, authenticators, permissions and
    renderers, which it had switched off or never varied (no login, no throttle but the
    failed look-ups', JSON only). The same answers and errors as the API's other views;
    documented by ``PublicReport`` (its ``cls``)."""
    if request.method not in _ALLOWED:
        response = api_error(exceptions.MethodNotAllowed(str(request.method)))
        response["Allow"] = ", ".join(_ALLOWED)
        return response
    if request.method == "OPTIONS":
        response = HttpResponse()
        response["Allow"] = ", ".join(_ALLOWED)
        return response
    try:
        report = public_report(request, code)
    except exceptions.APIException as refused:
        return api_error(refused)
    return HttpResponse(
        json.dumps(report_content(report), ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
    )


# drf-spectacular documents a URL by its view's ``cls`` (``PublicReport``'s schema).
public_report_json.cls = PublicReport  # type: ignore[attr-defined]
public_report_json.initkwargs = {}  # type: ignore[attr-defined]


@extend_schema(
    tags=TAGS,
    auth=[],
    responses={200: SignedReportSerializer, **_PUBLIC_ERRORS},
)
class SignedReport(PublicView):
    """The report as canonical JSON (sorted keys, no whitespace, UTF-8) signed with the
    platform's Ed25519 key: check it offline with the public key
    (`python manage.py verify_report FILE --public-key PEMFILE`)."""

    def get(self, request: Request, code: str) -> HttpResponse:
        report = public_report(request, code, signed=True)
        body = signing.sign(report_content(report))
        response = HttpResponse(body, content_type="application/json")
        code_text = report.code
        response["Content-Disposition"] = f'attachment; filename="report-{code_text}.json"'
        return response


@extend_schema(
    tags=TAGS,
    auth=[],
    responses={
        (200, "application/x-pem-file"): OpenApiResponse(
            OpenApiTypes.STR, description="The platform's Ed25519 public key (PEM)."
        )
    },
)
class PublicKey(PublicView):
    """The public key that checks signed reports."""

    def get(self, request: Request) -> HttpResponse:
        pem = signing.public_pem(signing.platform_key().public_key())
        return HttpResponse(pem, content_type="application/x-pem-file")


@extend_schema(
    tags=TAGS,
    auth=[],
    parameters=[
        OpenApiParameter("number", str, required=True, description="The certificate number."),
        OpenApiParameter("name", str, required=True, description="The holder's name."),
    ],
    responses={200: PublicQualificationSerializer, **error_responses(404, 429)},
)
class CertificateCheckView(PublicView):
    """零散查询: a public qualification by its certificate number and holder's name (both must
    match; a draft or one whose issue date is ahead is not found). Counts as a failed look-up
    when nothing matches."""

    def get(self, request: Request) -> Response:
        address = client_ip(request)
        attempts = FailedLookups(address)
        try:
            attempts.check()
        except LookupThrottledError as refused:
            raise LookupsThrottled(refused) from None
        number = str(request.query_params.get("number", ""))
        name = str(request.query_params.get("name", ""))
        try:
            found = certificate_check(number, name, address)
        except NotVisibleError:
            attempts.failed()
            raise exceptions.NotFound from None
        return Response(qualification_content(found))


@extend_schema(
    tags=["health"],
    auth=[],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description='`{"status": "ok"}`')},
)
class Health(PublicView):
    """The process answers (nothing else is checked: no database, no cache)."""

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
