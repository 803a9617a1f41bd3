"""Every registered event renders in every language: a new event is checked here for free."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Engine
from django.utils import timezone

from notifications.events import EVENTS
from notifications.events import get_event
from notifications.rendering import render
from notifications.services import Recipient

LANGUAGES = [code for code, _name in settings.LANGUAGES]
PARTS = ("subject.txt", "body.txt", "body.html")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)")
CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLES = {
    "name": "李明",
    "changed_at": timezone.now(),
    "due": timezone.now(),
    "site_url": "https://xueji.example.cn/",
}


def sample_context(slug: str, language: str) -> dict[str, object]:
    context: dict[str, object] = {
        key: SAMPLES.get(key, f"«{key}»") for key in EVENTS[slug].required
    }
    context["recipient"] = Recipient(email="a@example.cn", language=language, name="李明")
    context["language"] = language
    return context


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", sorted(EVENTS))
def test_every_event_renders_in_every_language(slug, language):
    rendered = render(get_event(slug), language, sample_context(slug, language))

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert rendered.body_text.strip()
    assert rendered.body_html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in rendered.body_html
    assert "{{" not in rendered.body_text + rendered.body_html  # no unrendered tags
    is_chinese = language.startswith("zh")
    assert bool(CJK.search(rendered.subject)) is is_chinese


@pytest.mark.parametrize("slug", sorted(EVENTS))
def test_templates_use_only_the_context_the_event_requires(slug):
    event = get_event(slug)
    allowed = {*event.required, "recipient", "language"}
    for language in LANGUAGES:
        for part in PARTS:
            template = Engine.get_default().get_template(event.template(language, part))
            source = Path(template.origin.name).read_text()
            used = set(VARIABLE.findall(source))
            assert used <= allowed, f"{event.template(language, part)} uses {used - allowed}"


def test_unknown_event_is_refused():
    with pytest.raises(ValueError, match=r"register it in notifications/events\.py"):
        get_event("correction_teleported")
