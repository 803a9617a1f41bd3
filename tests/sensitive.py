"""Checks of where ID numbers show: masked, or in full and not cached."""

from __future__ import annotations

from typing import Any

from records.validators import mask_id_number


def no_store(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def assert_not_in_full(response: Any, *numbers: str) -> None:
    text = response.content.decode()
    for number in numbers:
        assert number not in text


def assert_masked(response: Any, *numbers: str) -> None:
    """No number appears in full; each appears masked."""
    assert_not_in_full(response, *numbers)
    text = response.content.decode()
    for number in numbers:
        assert mask_id_number(number) in text
