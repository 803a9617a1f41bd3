from __future__ import annotations

import time
from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from records.models import User


def token_client(user: User) -> APIClient:
    """A client that authenticates with ``Authorization: Token ...``."""
    api = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def assert_error(
    response: Any, status: int, code: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The response is an error in the API's format (with these fields, if given)."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if fields is not None:
        assert body["fields"] == fields
    return body


def timed_filing(api: APIClient, qualification_pk: int) -> tuple[Any, float]:
    """File a name correction through the API: the answer and the seconds it took."""
    started = time.perf_counter()
    response = api.post(
        "/api/v1/corrections/",
        {"qualification": qualification_pk, "changes": {"name": "王晓明"}, "reason": "录入错误"},
        format="json",
    )
    return response, time.perf_counter() - started
