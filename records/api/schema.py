"""OpenAPI: the error answers each operation documents, and the schema class that adds them.

``AutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds to every operation the errors it can answer
whatever its view does, each with the error format as its body:

- 400: a query or body it cannot take (a bad filter, a control character, a parse error);
- 401 and 403: when it needs authentication;
- 404: when its path names an object, or its list pages with a cursor (a bad cursor);
- 413 and 415: when it takes a body (too large; a media type it does not parse);
- 429: when a throttle applies.

Views declare what only they answer (409 for a state conflict) with ``error_responses`` or
an ``OpenApiResponse`` with a description; a declared error without a body gets the format.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.pagination import CursorPagination

from records.api.serializers import ErrorSerializer

_FIRST_ERROR = 400
_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`), an unreadable body (`parse_error`) or "
    "request (`bad_request`), too many fields (`too_many_fields`).",
    401: "No or bad credentials (`not_authenticated`, `authentication_failed`).",
    403: "Authenticated but not allowed (`permission_denied`).",
    404: "No such object, or not one the caller may see (`not_found`).",
    409: "Contradicts the current state (`conflict`).",
    413: "The body is larger than the server takes (`too_large`).",
    415: "A body of a media type the operation does not take (`unsupported_media_type`).",
    429: "Too many requests (`throttled`), or too many failed logins (`locked_out`, saying "
    "until when); see the `Retry-After` header.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``{status: ErrorSerializer response}`` for ``extend_schema(responses=...)``."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in statuses
    }


class AutoSchema(openapi.AutoSchema):
    def _error_statuses(self) -> set[int]:
        statuses = {400}
        if any(self.get_auth() or ()):  # [{}] alone: authentication is optional
            statuses |= {401, 403}
        paginator = getattr(self.view, "pagination_class", None)
        if "{" in self.path or (paginator and issubclass(paginator, CursorPagination)):
            statuses.add(404)
        if self.method in {"POST", "PUT", "PATCH"} and self._get_request_body():  # type: ignore[no-untyped-call]
            statuses |= {413, 415}
        if getattr(self.view, "throttle_classes", None):
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        declared = {int(code) for code in responses if code.isdigit() and int(code) >= _FIRST_ERROR}
        for status in sorted(self._error_statuses() | declared):
            response = OpenApiResponse(ErrorSerializer, _DESCRIPTIONS.get(status, ""))
            documented = self._get_response_for_code(  # type: ignore[no-untyped-call]
                response, str(status), direction=direction
            )
            if str(status) not in responses:
                responses[str(status)] = documented
            elif "content" not in responses[str(status)]:  # declared with a description only
                responses[str(status)]["content"] = documented["content"]
        return dict(sorted(responses.items()))
