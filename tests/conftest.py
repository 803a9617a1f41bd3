from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.services import chromium_path
from tests.services import redis_available


def _database_vendor() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "postgresql" if "postgresql" in engine else engine.rsplit(".", 1)[-1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = _database_vendor()
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
            )
        if "redis" in item.keywords and not redis_available():
            item.add_marker(pytest.mark.skip(reason="needs a Redis broker on XUEJI_TEST_REDIS_URL"))
        if "browser" in item.keywords and chromium_path() is None:
            item.add_marker(
                pytest.mark.skip(reason="needs Debian's chromium (apt-get install chromium)")
            )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """In CI's service run, a test that would skip for a missing service fails instead."""
    if os.environ.get("XUEJI_REQUIRE_SERVICES") != "1":
        return
    for marker in item.iter_markers(name="skip"):
        reason = str(marker.kwargs.get("reason", ""))
        if reason.startswith("needs "):
            pytest.fail(f"XUEJI_REQUIRE_SERVICES=1 but the service is missing: {reason}")
