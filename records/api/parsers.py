"""The API's body parsers: DRF's, bounded.

- A JSON or form body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused before it is
  read whole (``RequestDataTooBig``: 413 in the error format). Multipart bodies are bounded
  by Django's own parser (files stream to disk; the other fields count against the limit).
- JSON nested deeper than ``API_MAX_JSON_DEPTH`` (20 unless set) is a parse error: no
  request of ours nests deeper than a few levels, and a body nested a thousand levels makes
  the parser or the serializers recurse until Python gives up (a 500).
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Mapping
from typing import IO
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

DEFAULT_MAX_JSON_DEPTH = 20


def _read_bounded(stream: IO[bytes], parser_context: Mapping[str, Any] | None) -> bytes:
    """The whole body, or ``RequestDataTooBig`` once it is longer than the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if limit is not None and declared > limit:
        raise RequestDataTooBig
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise RequestDataTooBig
    return body


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in parsed JSON (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = _read_bounded(stream, parser_context)
        # DRF's: only text encodings (a bz2 "charset" would decompress past the size limit).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        max_depth = getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH)
        parse_constant = strict_constant if self.strict else None
        try:
            data = json.loads(codecs.decode(body, encoding), parse_constant=parse_constant)
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        except RecursionError as exc:
            raise ParseError(
                _("JSON nested more than %(depth)d levels deep.") % {"depth": max_depth}
            ) from exc
        if _depth(data) > max_depth:
            raise ParseError(
                _("JSON nested more than %(depth)d levels deep.") % {"depth": max_depth}
            )
        return data


class FormParser(parsers.FormParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = _read_bounded(stream, parser_context)
        return super().parse(io.BytesIO(body), media_type, parser_context)
