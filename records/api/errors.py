"""API errors as JSON ``{"code": ..., "detail": ..., "fields": {...}}``, everywhere under /api/.

``code`` is a stable snake_case string that clients switch on; ``detail`` is a human message in
the request's language; ``fields`` maps each invalid input field to its messages (``{}`` unless
the error is a validation error). Non-field messages go under ``non_field_errors`` and nested
fields are flattened to dotted paths (``items.0.name``).

The handler maps, besides DRF's own exceptions, Django's ``ValidationError`` (400 ``invalid``),
``PermissionDenied`` (403) and ``Http404`` (404), so services can raise Django's exceptions, and
what Django raises while reading a request: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413
``too_large``), too many fields or files (400 ``too_many_fields``), any other suspicious
request (400 ``bad_request``).

Whatever Django answers itself under /api/ is in the same format: the CSRF refusal
(``csrf_failure``) and the error handlers of ``config.urls`` (``bad_request``,
``permission_denied``, ``page_not_found``, ``server_error``), which answer the site's HTML
pages everywhere else.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import TooManyFieldsSent
from django.core.exceptions import TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.http import HttpRequest
from django.http import HttpResponse
from django.http import UnreadablePostError
from django.utils.translation import gettext_lazy as _
from django.views import csrf
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import set_rollback

from records.api.base import activate_user_language
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.logins import LOCKED_OUT_CODE
from records.logins import Lockout

INVALID = "invalid"
NON_FIELD_KEY = "non_field_errors"


class Conflict(exceptions.APIException):
    """The request contradicts the current state (e.g. a second open correction): 409."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    """A body larger than the server takes: 413."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


class TooManyFields(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request has too many fields or files.")
    default_code = "too_many_fields"


class BadRequest(exceptions.APIException):
    """A request Django refuses to read (a bad ``Host`` header, a broken multipart body)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request cannot be read.")
    default_code = "bad_request"


class ServerError(exceptions.APIException):
    """A bug of ours: the details are in the server's log, never in the answer."""

    default_detail = _("A server error occurred. It has been logged.")
    default_code = "server_error"


class LockedOut(exceptions.APIException):
    """Too many wrong passwords for this user name from this address (or from this address):
    429 ``locked_out``, saying until when, with ``Retry-After`` (``records.logins``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("Too many failed login attempts. Try again later.")
    default_code = LOCKED_OUT_CODE

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(lockout.message(), code=LOCKED_OUT_CODE)
        self.wait = lockout.retry_after


def _field_key(key: str) -> str:
    return NON_FIELD_KEY if key in (NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY) else key


def _flatten(detail: Any, prefix: str, into: dict[str, list[str]]) -> None:
    """Flatten DRF's nested error detail into ``{"a.b.0.c": [messages]}``."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = _field_key(str(key)) if not prefix else f"{prefix}.{key}"
            _flatten(value, name, into)
    elif isinstance(detail, list | tuple):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list | tuple):
                if value:  # DRF reports valid items of a list as {}
                    _flatten(value, f"{prefix}.{index}" if prefix else str(index), into)
            else:
                into.setdefault(prefix or NON_FIELD_KEY, []).append(str(value))
    else:
        into.setdefault(prefix or NON_FIELD_KEY, []).append(str(detail))


def error_body(
    code: str, detail: str, fields: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": dict(fields or {})}


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    _flatten(as_serializer_error(exc), "", fields)
    non_field = fields.get(NON_FIELD_KEY)
    detail = non_field[0] if non_field else str(exceptions.ValidationError.default_detail)
    return error_body(INVALID, detail, fields)


def _code(exc: exceptions.APIException) -> str:
    """The code the raiser gave (``Conflict(code="...")``), else the default one."""
    code = getattr(exc.detail, "code", None)
    return code if isinstance(code, str) and code else str(exc.default_code)


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404 | NotVisibleError):
        # Never echo Django's internal 404 message; what a user may not see does not exist.
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, ConflictError):
        return Conflict(exc.message, code=exc.code)
    return _as_request_error(exc)


def _as_request_error(exc: BaseException | None) -> exceptions.APIException | None:
    """What Django raises while reading a request (its body, its headers)."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    if isinstance(exc, UnreadablePostError):
        return exceptions.ParseError()
    return None


def exception_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(exc)
    if isinstance(exc.detail, list | dict):  # a list or dict passed to a non-validation error
        fields: dict[str, list[str]] = {}
        _flatten(exc.detail, "", fields)
        return error_body(_code(exc), str(exc.default_detail), fields)
    return error_body(_code(exc), str(exc.detail))


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every handled error in the one JSON format.

    Anything else (a bug) returns ``None``: DRF re-raises it and Django answers 500.
    """
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        return None
    set_rollback()
    return Response(exception_body(api_exc), status=api_exc.status_code, headers=_headers(api_exc))


def _headers(exc: exceptions.APIException) -> dict[str, str]:
    headers: dict[str, str] = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = f"{wait:d}"
    return headers


def _authenticate_quietly(request: HttpRequest) -> None:
    """Run the API's authenticators on a plain Django request, only for their language switch
    (``records.api.authentication``): a wrong token or a missing CSRF token changes nothing
    here, what does not exist is 404 for everyone."""
    authenticators = APIView().get_authenticators()  # DEFAULT_AUTHENTICATION_CLASSES
    with contextlib.suppress(exceptions.APIException):
        Request(request, authenticators=authenticators).user  # noqa: B018  (authenticates)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def json_error(exc: exceptions.APIException) -> HttpResponse:
    """An error in the format, outside DRF's views (a plain Django response)."""
    return HttpResponse(
        json.dumps(exception_body(exc), ensure_ascii=False),
        status=exc.status_code,
        content_type="application/json",
    )


def api_error(exc: exceptions.APIException) -> HttpResponse:
    """``json_error`` with the headers the handler adds (``Retry-After``,
    ``WWW-Authenticate``): a plain Django view's answer to an API exception."""
    response = json_error(exc)
    for name, value in _headers(exc).items():
        response[name] = value
    return response


@csrf_exempt  # a POST to an unknown URL is a 404, not a CSRF refusal
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """The JSON 404 for any unknown URL under /api/ (instead of Django's HTML page), in the
    language of the token's or the session's user, as every API view answers.

    API URLs end with a slash: ``/api/v1/me`` is answered here too, not redirected.
    """
    activate_user_language(getattr(request, "user", None))  # a session's user, if any
    _authenticate_quietly(request)  # a token's
    return json_error(exceptions.NotFound())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a 403 in the format under /api/, Django's page elsewhere."""
    if is_api(request):
        return json_error(
            exceptions.PermissionDenied(_("CSRF check failed: %(reason)s") % {"reason": reason})
        )
    return csrf.csrf_failure(request, reason)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``."""
    if is_api(request):
        return json_error(_as_request_error(exception) or BadRequest())
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``."""
    if is_api(request):
        return json_error(exceptions.PermissionDenied())
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``."""
    if is_api(request):
        return json_error(exceptions.NotFound())
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a bug. Under /api/ the answer says so in the format, nothing more."""
    if is_api(request):
        return json_error(ServerError())
    return defaults.server_error(request)
