"""What the browser tests share: logging in as a demo user."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def log_in(page: Any, base: str, username: str) -> None:
    """Log in through the login page as ``username`` (a demo user) and land on the home page."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/home/")
