"""Rendering one event for one language, and the guard against personal ID numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from django.template import Context
from django.template import Engine
from django.utils import translation
from django.utils.functional import Promise

from notifications.events import Event

PERSONAL_ID_IN_CONTEXT = (
    "no personal ID numbers in any email: context key {key!r} holds something that looks like "
    "a resident ID number"
)
PERSONAL_ID_IN_OUTPUT = (
    "no personal ID numbers in any email: template {template!r} rendered something that looks "
    "like a resident ID number"
)
MISSING_CONTEXT = "event {event!r} needs context key(s) {keys}"
RESERVED_CONTEXT = "context key(s) {keys} are reserved: notify() sets them per recipient"
RESERVED_KEYS = frozenset({"recipient", "language"})

# An 18-character resident ID number (GB 11643): 17 digits and a check digit or X, not part of
# a longer run of digits. Deliberately loose (no date or checksum test): a false alarm costs a
# developer a minute, a leaked number cannot be recalled.
RESIDENT_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str


def find_personal_id(value: Any, key: str) -> str | None:
    """The key path of the first value that looks like a resident ID number, if any.

    Strings, numbers and lazy strings are checked, and mappings and sequences recursively.
    Other objects are left to the check of the rendered output.
    """
    if isinstance(value, str | Promise | int):
        return key if RESIDENT_ID_LIKE.search(str(value)) else None
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            found = find_personal_id(sub_value, f"{key}.{sub_key}")
            if found:
                return found
        return None
    if isinstance(value, list | tuple | Set):
        for index, item in enumerate(value):
            found = find_personal_id(item, f"{key}[{index}]")
            if found:
                return found
    return None


def check_context(event: Event, context: Mapping[str, Any]) -> None:
    """Refuse a context that lacks a required key, uses a reserved one or holds an ID number."""
    missing = [key for key in event.required if key not in context]
    if missing:
        raise ValueError(MISSING_CONTEXT.format(event=event.slug, keys=", ".join(missing)))
    reserved = sorted(RESERVED_KEYS & set(context))
    if reserved:
        raise ValueError(RESERVED_CONTEXT.format(keys=", ".join(reserved)))
    for key, value in context.items():
        found = find_personal_id(value, str(key))
        if found:
            raise ValueError(PERSONAL_ID_IN_CONTEXT.format(key=found))


def render(event: Event, language: str, context: Mapping[str, Any]) -> Rendered:
    """Subject, text and HTML of ``event`` in ``language``: text parts are not HTML-escaped."""
    engine = Engine.get_default()
    parts: dict[str, str] = {}
    with translation.override(language):
        for part, autoescape in (("subject.txt", False), ("body.txt", False), ("body.html", True)):
            name = event.template(language, part)
            output = engine.get_template(name).render(Context(context, autoescape=autoescape))
            if RESIDENT_ID_LIKE.search(output):
                raise ValueError(PERSONAL_ID_IN_OUTPUT.format(template=name))
            parts[part] = output
    # A header cannot hold a line break; the subject template is one line by contract.
    subject = " ".join(parts["subject.txt"].split())
    return Rendered(
        subject=subject,
        body_text=parts["body.txt"].strip() + "\n",
        body_html=parts["body.html"].strip() + "\n",
    )
