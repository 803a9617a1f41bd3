"""Object numbers from URLs and forms: what a bigint column can hold, in ASCII digits."""

from __future__ import annotations

from records.converters import MAX_ID
from records.converters import object_ids


def test_a_forms_object_numbers_are_ascii_digits_a_bigint_holds():
    values = ["1", "42", "²", "٣", "-3", "0", "", "x", str(MAX_ID), str(MAX_ID + 1), "9" * 30]
    assert object_ids(values) == [1, 42, MAX_ID]
