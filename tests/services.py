"""Which real services this machine offers the tests, each probed once."""

from __future__ import annotations

import functools
import os
import shutil
import socket
from urllib.parse import urlparse

REDIS_URL = os.environ.get("XUEJI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@functools.cache
def redis_available() -> bool:
    return _reachable(REDIS_URL, 6379)


@functools.cache
def chromium_path() -> str | None:
    explicit = os.environ.get("XUEJI_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None
