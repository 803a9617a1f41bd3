"""The shared cache's Redis backend: Django's, keeping one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every call, and
redis-py's constructor registers its hundred-odd response callbacks each time: more than half
of the worker's time for one cached read (profiled under gunicorn, the failed look-ups' check
of ``GET /api/v1/verify/{code}/``). A client holds no connection of its own (it takes one from
the pool for each command) and is safe to share between threads, so one per pool does.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))  # the pools live as long as this object
        if client is None:
            new_client = self._client  # type: ignore[attr-defined]
            client = self._clients[id(pool)] = new_client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
