"""Domain errors the services raise; the API and the web pages map them to 404 and 409."""

from __future__ import annotations


class NotVisibleError(LookupError):
    """The object does not exist for this user (answered as 404, never 403)."""


class ConflictError(Exception):
    """The request contradicts the current state (answered as 409)."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
