"""Small template filters of the site shell."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist

from records import glossary
from records.corrections.changes import value_label
from records.models import Qualification
from records.validators import mask_id_number
from records.validators import masked_value

register = template.Library()


@register.filter
def field_label(field: str) -> Any:
    """The label of a qualification field, in the page's language."""
    try:
        model_field = Qualification._meta.get_field(field)
    except FieldDoesNotExist:
        return field
    return getattr(model_field, "verbose_name", field)  # a reverse relation has none


@register.filter
def field_value(value: Any, field: str) -> Any:
    """A stored value of a qualification field as the pages show it: a choice's label
    (``female`` → 女), anything else as it is."""
    try:
        return value_label(field, value)
    except FieldDoesNotExist:
        return value


@register.filter
def masked_id(number: str) -> str:
    """An ID number as lists and the person's own pages show it: the first and last four."""
    return mask_id_number(number or "")


@register.filter
def masked(value: Any, field: str) -> str:
    """A stored value of ``field`` with an ID number masked (``records.validators``)."""
    return masked_value(field, value)


@register.filter
def step_label(action: str) -> Any:
    return glossary.ACTIONS.get(action, action)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")
