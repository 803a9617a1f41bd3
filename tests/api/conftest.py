from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttles(request: pytest.FixtureRequest) -> Iterator[None]:
    """Throttle counters live in the cache: every test that may reach it starts with none.

    The cache is a table of the database by default (config/settings.py): a test without the
    database cannot throttle, nor empty it.
    """
    if "django_db" not in request.keywords:
        yield
        return
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()
