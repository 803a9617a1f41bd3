"""Authentication and the caller's own account: ``/api/v1/auth/token/`` and ``/api/v1/me/``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.utils import extend_schema_view
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.permissions import BasePermission
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from permissions import codenames
from permissions import roles
from permissions.checks import granted_ids
from records.accounts import EMAIL_CHANGE_MAX_AGE
from records.accounts import email_change_request
from records.api.base import account
from records.api.base import activate_user_language
from records.api.schema import error_responses
from records.api.serializers import EMAIL_CHANGE_REQUESTED
from records.api.serializers import EmailChangeRequestedSerializer
from records.api.serializers import EmailChangeSerializer
from records.api.serializers import MeSerializer
from records.api.serializers import MeUpdateSerializer
from records.api.serializers import TokenObtainSerializer
from records.api.serializers import TokenSerializer
from records.api.throttling import TokenObtainThrottle
from records.models import Student
from records.models import User
from records.people import person_history
from records.validators import mask_id_number


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        summary="Obtain an API token",
        description="Exchange a username and password for the user's token (created on first "
        "use, then the same one until revoked). Send it as `Authorization: Token <token>`. "
        "Inactive users are refused like wrong passwords.",
        request=TokenObtainSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
        examples=[
            OpenApiExample(
                "Wrong credentials",
                status_codes=["400"],
                response_only=True,
                value={
                    "code": "invalid",
                    "detail": "Unable to log in with provided credentials.",
                    "fields": {"non_field_errors": ["Unable to log in with provided credentials."]},
                },
            )
        ],
    ),
    delete=extend_schema(
        tags=["auth"],
        summary="Revoke the caller's API token",
        description="Deletes the caller's token; the next POST creates a new one.",
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(401)},
    ),
)
class TokenView(APIView):
    """Obtain (POST, with username and password) or revoke (DELETE) the caller's API token."""

    throttle_classes = [TokenObtainThrottle]

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Obtaining a token authenticates by the credentials in the body: no session (and so no
        # CSRF check for a browser that happens to be logged in), no token.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list[BasePermission]:
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def post(self, request: Request) -> Response:
        serializer = TokenObtainSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user: User = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        return Response(TokenSerializer({"token": token.key}).data)

    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=account(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def _sorted_codes(ids: frozenset[Any] | None) -> list[str]:
    return sorted(str(pk) for pk in ids or ())


def me_data(user: User) -> dict[str, Any]:
    """What ``/me/`` shows: who the user is, their roles and the scopes they act for.

    A superuser sees every scope (``granted_ids`` answers ``None`` for the view grants):
    rather than listing thousands of schools, ``superuser`` is true and
    ``schools``/``provinces`` are empty.
    """
    schools = granted_ids(user, codenames.VIEW_SCHOOL_RECORDS)
    provinces = granted_ids(user, codenames.VIEW_PROVINCE_RECORDS)
    groups = set(user.groups.values_list("name", flat=True))
    person = Student.objects.filter(user=user).first()
    return {
        "username": user.username,
        "name": user.display_name,
        "email": user.email,
        "language": user.language,
        "superuser": user.is_superuser,
        "roles": [role for role in roles.ALL if role in groups],
        "schools": _sorted_codes(schools),
        "provinces": _sorted_codes(provinces),
        "student": {"id": person.pk, "name": person.name} if person else None,
        "person": person_data(person) if person else None,
    }


def person_data(person: Student) -> dict[str, Any]:
    """The person as ``/me/`` shows them: never the full ID number."""
    return {
        "id": person.pk,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "id_type": person.id_type,
        "id_number_masked": mask_id_number(person.id_number),
        "ethnicity": person.ethnicity_id,
        "history": person_history(person),
    }


_ME_EXAMPLE = {
    "username": "officer1",
    "name": "王老师",
    "email": "officer1@example.org",
    "language": "zh-hans",
    "superuser": False,
    "roles": ["school_officer"],
    "schools": ["10001"],
    "provinces": [],
    "student": None,
    "person": None,
}


@extend_schema_view(
    get=extend_schema(
        tags=["account"],
        summary="The caller's account",
        responses={
            200: OpenApiResponse(
                MeSerializer,
                examples=[OpenApiExample("A school officer", value=_ME_EXAMPLE)],
            ),
            **error_responses(401),
        },
    ),
    patch=extend_schema(
        tags=["account"],
        summary="Change the caller's language",
        description="`language` also sets the language of the caller's API answers and emails. "
        "`email` may be sent only unchanged: a new address is confirmed from that address "
        "(`POST /api/v1/me/email/`).",
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **error_responses(400, 401)},
    ),
)
class MeView(APIView):
    """The caller's account: identity, roles and the schools and provinces they act for."""

    def get(self, request: Request) -> Response:
        return Response(MeSerializer(me_data(account(request))).data)

    def patch(self, request: Request) -> Response:
        user = account(request)
        serializer = MeUpdateSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        activate_user_language(user)
        return Response(MeSerializer(me_data(user)).data)


@extend_schema_view(
    post=extend_schema(
        tags=["account"],
        summary="Ask to change the caller's email address",
        description="Nothing changes yet: the new address gets a link (valid three days) that "
        "the caller opens while logged in to the site to confirm the change, and the current "
        "address a notice that the change was asked for. Refused when the address is the "
        "current one or another account uses it.",
        request=EmailChangeSerializer,
        responses={202: EmailChangeRequestedSerializer, **error_responses(400, 401)},
    ),
)
class MeEmailView(APIView):
    """The change of the caller's email address, confirmed from the new address."""

    def post(self, request: Request) -> Response:
        serializer = EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = email_change_request(
            user=account(request), new_email=serializer.validated_data["email"]
        )
        detail = EMAIL_CHANGE_REQUESTED % {
            "email": change.new,
            "days": EMAIL_CHANGE_MAX_AGE.days,
        }
        return Response(
            EmailChangeRequestedSerializer({"email": change.new, "detail": detail}).data,
            status=status.HTTP_202_ACCEPTED,
        )
