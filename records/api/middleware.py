"""``ApiRequestGuard``: what no request may carry, refused before any view runs.

A NUL byte reaches PostgreSQL as a string literal it refuses (``ValueError``: a 500) from any
path or query parameter, whatever view reads it; other control characters are never part of
an identifier, a code or a search. So under /api/ a path holding one is 404 (no such
resource) and a query parameter holding one is 400 naming the parameter; elsewhere either is
the site's 400 page. Bodies are left to the serializers and forms (DRF's ``CharField`` and
Django's form ``CharField`` refuse NUL themselves).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions

from records.api.errors import bad_request
from records.api.errors import is_api
from records.api.errors import json_error

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, LF and CR may be data


class ApiRequestGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            if _CONTROL.search(request.path_info) or any(
                _CONTROL.search(name) or any(_CONTROL.search(v) for v in values)
                for name, values in request.GET.lists()
            ):
                return bad_request(request, SuspiciousOperation("control character"))
        else:
            if _CONTROL.search(request.path_info):
                return json_error(exceptions.NotFound())
            bad = {
                name: [_("Control characters (such as NUL) are not allowed.")]
                for name, values in request.GET.lists()
                if _CONTROL.search(name) is None and any(_CONTROL.search(v) for v in values)
            }
            if any(_CONTROL.search(name) for name in request.GET):
                bad["non_field_errors"] = [_("A query parameter name holds a control character.")]
            if bad:
                return json_error(exceptions.ValidationError(bad))
        return self.get_response(request)
