"""How record services share their caller's transaction.

A service runs in its caller's transaction when there is one, else in one of its own
(``service``). Its checks come first; its writes run in ``writes()``, an atomic block without a
savepoint of its own (a savepoint costs two statements, and a step of a flow runs several
services): an error there marks the caller's transaction for rollback, so a half-done
service is never committed, while a refusal by a check leaves the caller's transaction
usable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")


def service(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` in the caller's transaction, or in a new one when there is none."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            return func(*args, **kwargs)
        with transaction.atomic():
            return func(*args, **kwargs)

    return wrapper


def writes() -> Any:
    """The writes of a service: no savepoint; an error marks the transaction for rollback."""
    return transaction.atomic(savepoint=False)
