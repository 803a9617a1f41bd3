"""``POST /api/v1/auth/claim/``: a freshman creates their login from their admission
(``records.admissions.claim``). No authentication: like the token endpoint, it takes no
session (so no CSRF check for a browser that happens to be logged in) and no token."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import exceptions
from rest_framework import serializers
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.admissions.claim import EMAIL_MAX
from records.admissions.claim import NAME_MAX
from records.admissions.claim import PASSWORD_MAX
from records.admissions.claim import USERNAME_MAX
from records.admissions.claim import AlreadyClaimedError
from records.admissions.claim import ClaimMismatchError
from records.admissions.claim import ClaimThrottledError
from records.admissions.claim import claim_account
from records.api.schema import error_responses
from records.logins import client_ip

# Room for the spaces and full-width characters people type; the service checks the rest.
TYPED_MAX = 64


class ClaimSerializer(serializers.Serializer[Any]):
    candidate_number = serializers.CharField(
        max_length=TYPED_MAX, help_text="考生号, as the admission notice gives it (digits)."
    )
    id_number = serializers.CharField(
        max_length=TYPED_MAX, help_text="The ID number the admission was made with."
    )
    name = serializers.CharField(
        max_length=NAME_MAX * 2, help_text="The name the admission was made with."
    )
    username = serializers.CharField(
        max_length=USERNAME_MAX, help_text="The user name to log in with (letters, digits, @.+-_)."
    )
    email = serializers.CharField(max_length=EMAIL_MAX, help_text="Where the account's emails go.")
    password = serializers.CharField(
        max_length=PASSWORD_MAX,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


class ClaimedSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    name = serializers.CharField(help_text="The person's name, as the admission gives it.")


class ClaimRefused(exceptions.APIException):
    """The three facts match no admission (400 ``claim_mismatch``): one message that never
    says which of them was wrong."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "These details do not match any admission."
    default_code = ClaimMismatchError.code


class ClaimConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "An account was already created for this admission."
    default_code = AlreadyClaimedError.code


class ClaimsThrottled(exceptions.APIException):
    """429 ``throttled`` with ``Retry-After``, saying how long to wait (DRF's ``Throttled``
    would add a sentence of its own, in seconds)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed attempts."
    default_code = ClaimThrottledError.code

    def __init__(self, refused: ClaimThrottledError) -> None:
        super().__init__(refused.message)
        self.wait = refused.retry_after


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        summary="Claim a freshman's account",
        description="Creates the login of the person an admission names, when the candidate "
        "number, ID number and name together match one admission whose person has no login "
        "yet (in any state: admitted, registered, retained, gave up, cancelled). Then log in "
        "with the user name (the site, or `POST /api/v1/auth/token/`); an email to the given "
        "address confirms the account. A mismatch answers one message that never says "
        "which of the three was wrong (400 `claim_mismatch`); after "
        "`CLAIM_FAILURE_LIMIT` (5) mismatches within `CLAIM_FAILURE_WINDOW_MINUTES` (10) "
        "from one address, every claim from it answers 429 `throttled` with `Retry-After` "
        "until the oldest of them is that old. Field errors (formats, the password rules; "
        "a user name or email address taken, said only once the three facts match) are "
        "400 `invalid` and never count. 409 `already_claimed`: the three facts match, and "
        "the person already has a login.",
        request=ClaimSerializer,
        responses={
            201: ClaimedSerializer,
            409: OpenApiResponse(description="The person already has a login (`already_claimed`)."),
            **error_responses(400, 429),
        },
        auth=[],
        examples=[
            OpenApiExample(
                "A freshman",
                request_only=True,
                value={
                    "candidate_number": "26110101000001",
                    "id_number": "11010820070315002X",
                    "name": "林晓",
                    "username": "linxiao",
                    "email": "linxiao@example.org",
                    "password": "a long passphrase",
                },
            ),
            OpenApiExample(
                "No such admission",
                status_codes=["400"],
                response_only=True,
                value={
                    "code": "claim_mismatch",
                    "detail": "These details do not match any admission. Check your candidate "
                    "number, ID number and name against your admission notice and try again "
                    "(after 5 failed attempts you will have to wait 10 minutes).",
                    "fields": {},
                },
            ),
        ],
    ),
)
class ClaimView(APIView):
    """A freshman's account, created from their admission."""

    throttle_classes: list[Any] = []  # the service counts failures, not requests

    def get_authenticators(self) -> list[BaseAuthentication]:
        return []

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()]

    def post(self, request: Request) -> Response:
        serializer = ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            claimed = claim_account(
                **serializer.validated_data,
                address=client_ip(request),
                language=translation.get_language() or "",
            )
        except ClaimMismatchError as refused:
            raise ClaimRefused(refused.message) from None
        except AlreadyClaimedError as refused:
            raise ClaimConflict(refused.message) from None
        except ClaimThrottledError as refused:
            raise ClaimsThrottled(refused) from None
        body = ClaimedSerializer({"username": claimed.user.username, "name": claimed.person.name})
        return Response(body.data, status=status.HTTP_201_CREATED)
