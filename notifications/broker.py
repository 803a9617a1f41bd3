"""Handing tasks to the broker without holding up a request when the broker is down.

Celery's ``apply_async(retry=False)`` turns off retrying the publish, not connecting: kombu's
``Connection.default_channel`` keeps reconnecting, sleeping 2 s and then 4 s, until
``broker_connection_timeout`` has passed, so with ``CELERY_BROKER_CONNECTION_TIMEOUT = 3``
every enqueue against a closed port took 6 s (attempts at 0, 2 and 6 s). The redis transport
has no connect time-out of its own either: an address that drops packets held the caller for
the system's TCP time-out (about 130 s).

``publish`` uses a producer pool of its own, whose connections make one attempt
(``max_retries=0``) with ``NOTIFICATIONS_ENQUEUE_TIMEOUT`` as the connect and socket
time-out, and a circuit breaker per broker in this process: after a failure nothing is
published for ``NOTIFICATIONS_BROKER_COOLDOWN`` seconds, then one caller tries again. Callers
lose nothing by a skipped publish: their outbox rows stay pending for ``notification_sweep``.
The breaker logs one warning when it opens and one info line when it closes, never a
traceback.

The breaker lives in the process's memory, not in the cache: it must answer when everything
else is down (a cache on the broker's Redis would fail with it), and it costs each process
at most one failed attempt per cool-down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from celery import Celery
from celery import Task
from django.conf import settings
from kombu import Connection
from kombu import pools
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

DEFAULT_ENQUEUE_TIMEOUT = 0.25
DEFAULT_COOLDOWN = 30.0
OPENED = (
    "broker %s unreachable (%s): emails stay pending for notification_sweep; not queueing for %ss"
)
CLOSED = "broker %s reachable again: emails are queued at once"


def enqueue_timeout() -> float:
    return float(getattr(settings, "NOTIFICATIONS_ENQUEUE_TIMEOUT", DEFAULT_ENQUEUE_TIMEOUT))


def cooldown() -> float:
    return float(getattr(settings, "NOTIFICATIONS_BROKER_COOLDOWN", DEFAULT_COOLDOWN))


class Breaker:
    """Closed (publish) or open until a time (skip); the first caller after that time probes.

    Thread-safe: while one caller probes, the others keep skipping.
    """

    def __init__(self, broker: str) -> None:
        self.broker = broker
        self.open_until: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def allow(self, now: float) -> bool:
        with self._lock:
            if self.open_until is None:
                return True
            if now < self.open_until:
                return False
            self.open_until = now + cooldown()  # this caller probes; the others skip meanwhile
            return True

    def failed(self, now: float, exc: BaseException) -> None:
        with self._lock:
            opened = self.open_until is None
            self.open_until = now + cooldown()
        if opened:
            logger.warning(OPENED, self.broker, _describe(exc), f"{cooldown():g}")

    def succeeded(self) -> None:
        with self._lock:
            closed = self.open_until is not None
            self.open_until = None
        if closed:
            logger.info(CLOSED, self.broker)


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()
_connections: dict[tuple[str, float], tuple[Connection, str]] = {}


def breaker(broker: str) -> Breaker:
    with _breakers_lock:
        found = _breakers.get(broker)
        if found is None:
            found = _breakers[broker] = Breaker(broker)
        return found


def reset() -> None:
    """Forget every breaker (tests, and ``tests.celery_worker.celery_configured``)."""
    with _breakers_lock:
        _breakers.clear()
        _connections.clear()


def _name(connection: Connection) -> str:
    """The broker's transport, host and port: what the breaker is kept for, and what the log
    names (never its credentials)."""
    host = connection.hostname or ""
    return f"{connection.transport_cls}://{host}{f':{connection.port}' if connection.port else ''}"


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}"


def _transport_timeouts(driver_type: str, timeout: float) -> dict[str, Any]:
    """The transport's own socket time-outs (kombu's ``connect_timeout`` covers only amqp's
    connect); other transports get none."""
    if driver_type == "redis":
        return {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    if driver_type == "amqp":
        return {"read_timeout": timeout, "write_timeout": timeout}
    return {}


def _connection(app: Celery, timeout: float) -> tuple[Connection, str]:
    """A connection with one connection attempt and short time-outs, and the broker's name.

    Never opened itself: it is the key of its pools (``kombu.pools``). Kept per broker URL and
    time-out, as building one costs about a millisecond (``reset`` forgets them).
    """
    conf = app.conf
    key = (str(conf.broker_write_url or conf.broker_url), timeout)
    found = _connections.get(key)
    if found is None:
        plain = app.connection_for_write()
        options = {
            **(conf.broker_transport_options or {}),
            "max_retries": 0,
            **_transport_timeouts(plain.transport.driver_type, timeout),
        }
        connection = app.connection_for_write(connect_timeout=timeout, transport_options=options)
        found = _connections[key] = (connection, _name(connection))
    return found


def _is_broker_error(exc: BaseException, connection: Connection) -> bool:
    transport: tuple[type[BaseException], ...] = (
        *connection.connection_errors,
        *connection.channel_errors,
    )
    return isinstance(exc, (KombuError, OSError, *transport))


def publish(task: Task[Any, Any], calls: Iterable[tuple[Any, ...]], *, probe: bool = False) -> int:
    """``task.apply_async(args)`` for each ``args`` of ``calls``, in order; returns how many
    were queued. Never raises, and waits at most for one connection attempt's time-outs.

    Stops at the first failure. While the broker's breaker is open nothing is published,
    unless ``probe`` (the sweep, which runs outside any request, always tries).
    """
    app = task.app
    calls = list(calls)
    if not calls:
        return 0
    if app.conf.task_always_eager:  # no broker: the task runs here
        for args in calls:
            task.apply_async(args)
        return len(calls)
    timeout = enqueue_timeout()
    connection, name = _connection(app, timeout)
    state = breaker(name)
    if not (state.allow(time.monotonic()) or probe):
        return 0
    queued = 0
    try:
        with pools.producers[connection].acquire(block=True) as producer:
            try:
                for args in calls:
                    task.apply_async(args, producer=producer, retry=False)
                    queued += 1
            except Exception:
                # Forget a connection that failed, so the pool reconnects next time.
                producer.connection.collect()
                raise
    except Exception as exc:
        if not _is_broker_error(exc, connection):
            logger.exception("could not queue %s; the rest stay pending", task.name)
            return queued
        state.failed(time.monotonic(), exc)
        return queued
    state.succeeded()
    return queued
