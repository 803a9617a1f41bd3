"""OpenAPI helpers: the error answers each endpoint documents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from records.api.serializers import ErrorSerializer

_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`) or unreadable body (`parse_error`).",
    401: "No or bad credentials (`not_authenticated`, `authentication_failed`).",
    403: "Authenticated but not allowed (`permission_denied`).",
    404: "No such object, or not one the caller may see (`not_found`).",
    409: "Contradicts the current state (`conflict`).",
    429: "Too many requests (`throttled`), or too many failed logins (`locked_out`, saying "
    "until when); see the `Retry-After` header.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``{status: ErrorSerializer response}`` for ``extend_schema(responses=...)``."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in statuses
    }
