from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pgtrigger
import pytest
from django.conf import settings
from django.test import TransactionTestCase
from django.utils import translation

from records.models import Province
from records.models import School
from tests import factories
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


# The audit tables refuse TRUNCATE on PostgreSQL (records.models.audit), as they must in
# production; Django's flush between transactional tests truncates every table.
AUDIT_TRUNCATE_TRIGGERS = ("records.AuditEvent:no_truncate", "records.AuditHead:no_truncate")


@pytest.fixture(autouse=True, scope="session")
def _flush_truncates_the_audit_tables() -> Iterator[None]:
    """Let the flush after each transactional test truncate the audit tables too."""
    flush = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]

    def teardown(self: TransactionTestCase) -> None:
        with pgtrigger.ignore(*AUDIT_TRUNCATE_TRIGGERS):
            flush(self)

    patch = pytest.MonkeyPatch()
    patch.setattr(TransactionTestCase, "_fixture_teardown", teardown)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request activates its user's language in
    the test's thread and leaves it (``records.api.base``, ``UserLanguageMiddleware``), which
    made a later test's messages depend on which tests ran before it on the same worker."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass(frozen=True)
class Places:
    """The map most tests stand on: 北京市 with 北京大学 and 清华大学, 上海市 with 复旦大学."""

    bj: Province
    sh: Province
    pku: School
    thu: School
    fdu: School


@pytest.fixture
def places(db: None) -> Places:
    return Places(
        bj=factories.province("11", "北京市"),
        sh=factories.province("31", "上海市"),
        pku=factories.school("10001", "北京大学", "11"),
        thu=factories.school("10003", "清华大学", "11"),
        fdu=factories.school("10246", "复旦大学", "31"),
    )
