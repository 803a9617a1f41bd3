"""The API's throttles count in a cache every process shares: the database's table by default
(created by ``migrate``), Redis when ``CACHE_URL`` names one."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection

from tests.services import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/v1/auth/token/"

# One process of the app: it asks the token endpoint's throttle N times for one user name and
# prints how many it allowed. Two of these share nothing but the cache.
PROCESS = """
import sys
import django
django.setup()
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from records.api.throttling import TokenObtainThrottle
times, username = int(sys.argv[1]), sys.argv[2]
allowed = 0
for _ in range(times):
    request = APIRequestFactory().post("/api/v1/auth/token/", {"username": username}, format="json")
    allowed += TokenObtainThrottle().allow_request(Request(request, parsers=[JSONParser()]), None)
print(allowed)
"""


def _allowed_in_a_process(times: int, username: str, cache_url: str) -> int:
    environ = {
        **os.environ,
        "CACHE_URL": cache_url,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROCESS, str(times), username],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.redis
def test_two_processes_share_the_count_through_redis():
    username = f"guesser-{uuid.uuid4().hex}"

    first = _allowed_in_a_process(6, username, REDIS_URL)
    second = _allowed_in_a_process(6, username, REDIS_URL)

    assert (first, second) == (6, 4)  # 10 a minute, whichever process answers


@pytest.fixture
def database_cache() -> str:
    """The cache table's name; the test is about the default cache (``CACHE_URL`` unset)."""
    if os.environ.get("CACHE_URL"):
        pytest.skip("CACHE_URL names another cache than the database's")
    cache = caches["default"]
    assert isinstance(cache, DatabaseCache), cache
    return str(cache._table)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_database_cache_holds_the_throttle_s_count(api, database_cache):
    api.post(TOKEN_URL, {"username": "alice", "password": "wrong"}, format="json")

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {connection.ops.quote_name(database_cache)}")  # noqa: S608
        keys = [row[0] for row in cursor.fetchall()]
    digest = hashlib.sha256(b"alice").hexdigest()[:32]  # the user name is the client's: hashed
    assert f":1:throttle_token_obtain_127.0.0.1:{digest}" in keys


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_the_cache_table(database_cache):
    table = database_cache
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
    assert table not in connection.introspection.table_names()

    call_command("migrate", verbosity=0)

    assert table in connection.introspection.table_names()


# The settings' Redis backend as a process reads them from CACHE_URL: its clients, twice.
CLIENTS = """
import django
django.setup()
from django.core.cache import caches
backend = caches["default"]._cache
print(type(backend).__module__, backend.get_client() is backend.get_client("any", write=True))
"""


@pytest.mark.redis
def test_the_redis_cache_keeps_one_client_not_one_a_call():
    """Django's Redis backend builds a redis-py client for every call (most of a cached read's
    time in the worker); ``config.cache`` keeps one per connection pool."""
    environ = {**os.environ, "CACHE_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CLIENTS],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert done.stdout.split() == ["config.cache", "True"]
