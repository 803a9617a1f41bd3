"""People's names: the order of a full name, and a Chinese name split into family and given.

A Chinese (or Japanese, Korean) name is written family name first without a space: 王 + 小明
is 王小明. Any other name is "given family" with a space. A transliterated name with the
middle dot (阿依古丽·买买提, 约翰·史密斯) is written given name first and has no family name
in the Chinese sense: it is kept whole as the given name.
"""

from __future__ import annotations

import re

# Han ideographs (with extensions A to H and the compatibility block: rare characters of
# names), kana and hangul.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003347f]"
)
MIDDLE_DOTS = "·•・‧"

# Two-character family names (复姓) that a split must not cut in half.
COMPOUND_FAMILY_NAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "司空", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕",
        "呼延", "百里", "东郭", "闻人", "万俟", "澹台", "公羊", "赫连", "申屠", "钟离",
        "拓跋", "第五", "左丘", "濮阳", "太史", "单于", "闾丘", "鲜于", "梁丘", "乐正",
    }
)  # fmt: skip


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def full_name(*, family: str, given: str) -> str:
    """王 + 小明 → 王小明; Ada + Lovelace → "Ada Lovelace"; empty when both are."""
    family, given = (family or "").strip(), (given or "").strip()
    if has_cjk(family) or has_cjk(given):
        return family + given
    return f"{given} {family}".strip()


def split_name(name: str) -> tuple[str, str]:
    """A person's name as ``(family, given)``, the inverse of ``full_name``.

    王小明 → (王, 小明); 欧阳娜娜 → (欧阳, 娜娜); 阿依古丽·买买提 → ("", 阿依古丽·买买提);
    Ada Lovelace → (Lovelace, Ada).
    """
    name = (name or "").strip()
    if not has_cjk(name):
        given, _space, family = name.rpartition(" ")
        return (family, given.strip()) if given else ("", family)
    if any(dot in name for dot in MIDDLE_DOTS) or " " in name or not name[1:]:
        return "", name
    compound = name[:2]
    if compound in COMPOUND_FAMILY_NAMES and name[2:]:
        return compound, name[2:]
    return name[:1], name[1:]
