"""What one reader is shown of a correction request.

A correction's values may be an ID number, and its reason and the comments of its steps may
quote one. They are shown in full only to the readers who need them, as a ``Disclosure``
says (the workflow decides who: ``workflows.flows.correction.disclosure_for``); every other
reader, and every list, sees ID numbers masked by ``records.validators.mask_id_number``.
The rule is written down in docs/architecture.md, "Sensitive values".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from records.corrections.history import HistoryEntry
from records.validators import mask_id_numbers_in
from records.validators import masked_value


@dataclass(frozen=True)
class Disclosure:
    """Which of a request's values one reader sees in full."""

    old: bool = False  # the values at filing
    new: bool = False  # the requested values, the reason and the comments

    @property
    def in_full(self) -> bool:
        """Something may be shown unmasked: the response must not be cached."""
        return self.old or self.new


MASKED = Disclosure()


def _value(field: str, value: Any, in_full: bool) -> str:
    if in_full:
        return "" if value is None else str(value)
    return masked_value(field, value)


def shown_changes(
    changes: list[dict[str, Any]], disclosure: Disclosure = MASKED
) -> list[dict[str, str]]:
    """``[{"field", "old", "new"}]`` with what the reader may not see in full masked."""
    return [
        {
            "field": change["field"],
            "old": _value(change["field"], change["old"], disclosure.old),
            "new": _value(change["field"], change["new"], disclosure.new),
        }
        for change in changes
    ]


def shown_text(text: str, disclosure: Disclosure = MASKED) -> str:
    """A reason or a comment, any resident ID number in it masked unless the reader sees the
    request's new values in full."""
    return text if disclosure.new else mask_id_numbers_in(text)


def shown_history(
    entries: list[HistoryEntry], disclosure: Disclosure = MASKED
) -> list[HistoryEntry]:
    """The request's history with each comment as ``shown_text`` gives it."""
    return [
        dataclasses.replace(entry, comment=shown_text(entry.comment, disclosure))
        for entry in entries
    ]
