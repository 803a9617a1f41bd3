"""People's names: Chinese names family name first without a space, others "first last"."""

from __future__ import annotations

import pytest

from records.models import User
from records.names import full_name
from records.names import split_name


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("小明", "王", "王小明"),
        ("娜娜", "欧阳", "欧阳娜娜"),
        ("Ada", "Lovelace", "Ada Lovelace"),
        ("小明", "Wang", "Wang小明"),  # one CJK part is enough for the Chinese order
        ("阿依古丽·买买提", "", "阿依古丽·买买提"),
        ("𠀾", "王", "王𠀾"),  # a rare character outside the basic block
        ("", "", ""),
        (" Ada ", "", "Ada"),
    ],
)
def test_user_full_name_order(first, last, expected):
    assert User(username="u", first_name=first, last_name=last).get_full_name() == expected


def test_display_name_falls_back_to_the_username():
    assert User(username="officer_10001").display_name == "officer_10001"
    assert User(username="officer_10001", first_name="伟", last_name="张").display_name == "张伟"


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("王小明", ("王", "小明")),
        ("李娜", ("李", "娜")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("阿依古丽·买买提", ("", "阿依古丽·买买提")),
        ("Ada Lovelace", ("Lovelace", "Ada")),
        ("Plato", ("", "Plato")),
    ],
)
def test_split_name_is_the_inverse_of_full_name(name, parts):
    assert split_name(name) == parts
    assert full_name(family=parts[0], given=parts[1]) == name
