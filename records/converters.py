"""URL converters: ``<id:pk>``, an object's number as a database column can hold it.

Django's ``<int:...>`` matches any run of digits, and a number past 2**63 - 1 reaches the
database, which cannot compare it with a bigint column (an ``OverflowError`` on SQLite, an
out-of-range error on PostgreSQL: a 500). Such a URL names no object: it does not match.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_ID = 2**63 - 1


class ObjectIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)  # Django: no match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def object_ids(values: Iterable[str]) -> list[int]:
    """The object numbers among a form's ``values`` (check boxes), as ``<id:pk>`` reads them:
    ASCII digits (``"²".isdigit()`` is true, ``int("²")`` fails) from 1 to ``MAX_ID``;
    anything else is no object and is left out."""
    numbers = []
    for value in values:
        if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
            numbers.append(int(value))
    return numbers
