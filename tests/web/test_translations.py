"""The Chinese catalogues: complete, and compiled (the .mo files match the .po files)."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.utils import translation

from records.models import Qualification

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()]
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    source = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in po if not e.obsolete}
    assert compiled == source, "run `make messages` to recompile the .mo files"


def test_a_person_s_name_is_xingming_not_mingcheng():
    label = Qualification._meta.get_field("name").verbose_name
    with translation.override("zh-hans"):
        assert str(label) == "姓名"
    with translation.override("en"):
        assert str(label) == "name"
