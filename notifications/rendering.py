"""Rendering one event for one language, and the guard against personal ID numbers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from django.template import Context
from django.template import Engine
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData

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


PARTS = (("subject.txt", False), ("body.txt", False), ("body.html", True))


def render(event: Event, language: str, context: Mapping[str, Any]) -> Rendered:
    """Subject, text and HTML of ``event`` in ``language``: text parts are not HTML-escaped."""
    return finish(event, language, render_parts(event, language, context))


def render_parts(event: Event, language: str, context: Mapping[str, Any]) -> dict[str, str]:
    """What each template of ``event`` (``PARTS``) renders, as it renders it: ``finish``
    checks and trims them."""
    engine = Engine.get_default()
    parts: dict[str, str] = {}
    with translation.override(language):
        for part, autoescape in PARTS:
            template = engine.get_template(event.template(language, part))
            parts[part] = template.render(Context(context, autoescape=autoescape))
    return parts


def finish(event: Event, language: str, parts: Mapping[str, str]) -> Rendered:
    """The email of the templates' outputs ``parts``: refused when one holds something like a
    resident ID number; the subject on one line, the bodies trimmed."""
    for part, _autoescape in PARTS:
        if RESIDENT_ID_LIKE.search(parts[part]):
            raise ValueError(PERSONAL_ID_IN_OUTPUT.format(template=event.template(language, part)))
    # A header cannot hold a line break; the subject template is one line by contract.
    subject = " ".join(parts["subject.txt"].split())
    return Rendered(
        subject=subject,
        body_text=parts["body.txt"].strip() + "\n",
        body_html=parts["body.html"].strip() + "\n",
    )


# --- many emails of one event: its templates rendered once per group -------------------------

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: a marker's ends
_MARKER = re.compile(f"{_OPEN}([0-9]+)a{_CLOSE}")


def _marks(count: int, side: str) -> list[str]:
    """The markers of the first rendering (``a``), and of the second (``b``): of another
    length and other characters, so that a filter or a test of a value tells them apart."""
    if side == "a":
        return [f"{_OPEN}{n}a{_CLOSE}" for n in range(count)]
    return [f"{_OPEN}B{n}bB{_CLOSE}" for n in range(count)]


class Skeletons:
    """The templates of one event rendered once for the contexts that differ only in their
    ``plain`` values (each a context key, or ``"recipient.<field>"``: a field of the
    recipient), with markers in their place; each email then is the markers replaced by its
    own values (HTML-escaped in the HTML part, as the template would).

    The caller's promise: the templates print a ``plain`` value as it is (``{{ key }}``)
    and read it nowhere else but for its truth, and never print one that is not a string.
    What can be checked is: a string value must be non-empty and not marked safe, any other
    true; each group is rendered with two sets of markers (of other lengths and characters),
    which must give the same text but for the markers (a filter that changes, cuts or
    measures a value tells them apart), and only a string's marker may be printed; else
    the email is rendered whole (``render``)."""

    def __init__(self, event: Event, plain: Sequence[str]) -> None:
        self.event = event
        self.plain = tuple(plain)
        self._groups: dict[Hashable, dict[str, str] | None] = {}

    def render(self, language: str, context: Mapping[str, Any]) -> Rendered:
        values = self._values(context)
        key = self._key(language, context) if values is not None else None
        if values is None or key is None:
            return render(self.event, language, context)
        if key not in self._groups:
            self._groups[key] = self._skeleton(language, context)
        skeleton = self._groups[key]
        if skeleton is None:
            return render(self.event, language, context)
        raw = [value if isinstance(value, str) else "" for value in values]
        escaped = [escape(value) for value in raw]
        parts = {
            part: _substituted(skeleton[part], escaped if html else raw) for part, html in PARTS
        }
        return finish(self.event, language, parts)

    def _get(self, context: Mapping[str, Any], path: str) -> Any:
        name, _dot, attribute = path.partition(".")
        value = context.get(name)
        return getattr(value, attribute, None) if attribute else value

    def _values(self, context: Mapping[str, Any]) -> list[Any] | None:
        values = [self._get(context, path) for path in self.plain]
        for value in values:
            if isinstance(value, str):
                if not value or isinstance(value, SafeData) or _OPEN in value:
                    return None
            elif not value:
                return None
        return values

    def _with(self, context: Mapping[str, Any], marks: Sequence[Any]) -> dict[str, Any]:
        """``context`` with ``marks`` in place of its plain values."""
        out = dict(context)
        fields: dict[str, dict[str, Any]] = {}
        for path, mark in zip(self.plain, marks, strict=True):
            name, _dot, attribute = path.partition(".")
            if attribute:
                fields.setdefault(name, {})[attribute] = mark
            else:
                out[name] = mark
        for name, changes in fields.items():
            out[name] = dataclasses.replace(out[name], **changes)
        return out

    def _key(self, language: str, context: Mapping[str, Any]) -> Hashable | None:
        """What the group's contexts share: every other value (a lazy string by its text in
        ``language``), or ``None`` when one cannot be compared."""
        items: list[tuple[str, object, object]] = []
        with translation.override(language):
            for name, value in sorted(self._with(context, [None] * len(self.plain)).items()):
                if isinstance(value, Promise):
                    items.append((name, "lazy", str(value)))
                    continue
                try:
                    hash(value)
                except TypeError:
                    return None
                items.append((name, type(value), value))
        return (language, tuple(items))

    def _skeleton(self, language: str, context: Mapping[str, Any]) -> dict[str, str] | None:
        count = len(self.plain)
        rendered = {
            side: render_parts(self.event, language, self._with(context, _marks(count, side)))
            for side in "ab"
        }
        values = self._values(context) or []
        second = _marks(count, "b")
        for part, _html in PARTS:
            text = rendered["a"][part]
            printed = {int(match[1]) for match in _MARKER.finditer(text)}
            if any(not isinstance(values[n], str) for n in printed):
                return None  # printed: only a string is put back in place
            if _OPEN in _MARKER.sub("", text) or _CLOSE in _MARKER.sub("", text):
                return None  # a piece of a marker: a filter cut it
            if _substituted(text, second) != rendered["b"][part]:
                return None
        return rendered["a"]


def _substituted(text: str, values: Sequence[str]) -> str:
    return _MARKER.sub(lambda match: values[int(match[1])], text)
